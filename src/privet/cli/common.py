"""What every command shares: settings, the map option, output and progress."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from privet.datamap import DataMap, load_map
from privet.settings import Settings, load_settings

err_console = Console(stderr=True)
out_console = Console()

MapOption = Annotated[
    Path | None,
    typer.Option("--map", "-m", help="The data map (default $PRIVET_MAP, else ./privet.yaml)."),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print exactly one JSON document on stdout.")]
SubjectOption = Annotated[
    str, typer.Option("--subject", "-s", help="The person: KEY=VALUE, e.g. email=anna@example.com.")
]


@dataclass
class CliState:
    """Built once at the entry point and handed to every command."""

    settings: Settings = field(default_factory=load_settings)
    json_mode: bool = False

    def map_path(self, override: Path | None) -> Path:
        return override or self.settings.map

    def load_map(self, override: Path | None) -> DataMap:
        return load_map(self.map_path(override))


def state(ctx: typer.Context) -> CliState:
    obj = ctx.find_root().obj
    if not isinstance(obj, CliState):
        obj = CliState()
        ctx.find_root().obj = obj
    return obj


def emit(data: Any, as_json: bool, human: str | None = None) -> None:
    """One JSON document on stdout in --json mode; otherwise the human text."""
    if as_json:
        sys.stdout.write(json.dumps(data, indent=2, default=str, ensure_ascii=False) + "\n")
        sys.stdout.flush()
    elif human is not None:
        out_console.print(human, highlight=False, soft_wrap=True)


@contextmanager
def progress(description: str, total: int | None = None, enabled: bool = True) -> Iterator[Any]:
    """A progress bar on stderr for long work (silent when stderr is not a terminal)."""
    bar = Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err_console,
        transient=True,
        disable=not enabled or not err_console.is_terminal,
    )
    with bar:
        yield _Advance(bar, bar.add_task(description, total=total))


class _Advance:
    """``advance(n)`` moves the bar on; ``advance.add_total(n)`` tells it of more work to come."""

    def __init__(self, bar: Progress, task: Any) -> None:
        self.bar, self.task = bar, task

    def __call__(self, n: int = 1) -> None:
        self.bar.advance(self.task, n)

    def add_total(self, n: int) -> None:
        current = self.bar.tasks[0].total or 0
        self.bar.update(self.task, total=current + n)
