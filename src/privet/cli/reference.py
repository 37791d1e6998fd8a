"""Generate the CLI reference (docs/cli.md) from the commands' own --help text.

``python -m privet.cli.reference > docs/cli.md``; a test fails when the file drifts.
"""

from __future__ import annotations

from typing import Any

import typer

from privet.cli.main import app


def _walk(cmd: Any, path: list[str]) -> list[tuple[list[str], Any]]:
    out = [(path, cmd)]
    if hasattr(cmd, "commands"):
        for name in sorted(cmd.commands):
            out.extend(_walk(cmd.commands[name], [*path, name]))
    return out


def render() -> str:
    root = typer.main.get_command(app)
    lines = [
        "# `privet` command reference",
        "",
        "Generated from `--help` by `python -m privet.cli.reference`; do not edit by hand.",
        "",
    ]
    for path, cmd in _walk(root, ["privet"]):
        ctx = typer.Context(cmd, info_name=" ".join(path))
        usage = " ".join(cmd.collect_usage_pieces(ctx))
        lines += [f"## `{' '.join(path)}`", "", f"```\n{' '.join(path)} {usage}\n```", ""]
        if cmd.help:
            lines += [cmd.help.strip(), ""]
        rows = []
        for p in cmd.params:
            if p.param_type_name == "option":
                if p.hidden or p.name == "help":
                    continue
                rows.append(f"| `{', '.join(p.opts)}` | {(p.help or '').strip()} |")
            else:
                rows.append(f"| `{(p.name or '').upper()}` | argument |")
        if rows:
            lines += ["| option | meaning |", "| --- | --- |", *rows, ""]
    return "\n".join(lines).rstrip() + "\n"


if __name__ == "__main__":
    print(render(), end="")
