"""``privet scan``: find personal data in files or table values."""

from __future__ import annotations

import json
import os
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Annotated, Any, TextIO

import typer

from privet.cli.common import JsonOption, err_console, out_console
from privet.detection import Finding, scan, scan_file
from privet.errors import BadInput
from privet.stores import SqlStore

# Files larger than this are scanned by a process pool unless --workers says otherwise.
POOL_FROM_BYTES = 20_000_000
MAX_AUTO_WORKERS = 8


def auto_workers(size: int) -> int:
    """One process for small files; for large ones one per core (at most 8)."""
    cores = os.cpu_count() or 1
    return min(cores, MAX_AUTO_WORKERS) if size > POOL_FROM_BYTES and cores > 1 else 1


class _Findings:
    """Counts findings and, with --json, writes each one as soon as it is found.

    The JSON document (``{"findings": [...], "counts": {...}}``) is streamed item by
    item, so memory does not grow with the number of findings.
    """

    def __init__(self, as_json: bool, out: TextIO) -> None:
        self.as_json, self.out = as_json, out
        self.counts: Counter[str] = Counter()
        self.started = False

    def add(self, f: Finding, where: dict[str, Any]) -> None:
        self.counts[f.type] += 1
        if not self.as_json:
            return
        item = {"type": f.type, "start": f.start, "end": f.end, "score": f.score, **where}
        self.out.write('{\n  "findings": [\n    ' if not self.started else ",\n    ")
        self.out.write(json.dumps(item, default=str, ensure_ascii=False))
        self.started = True

    def close(self) -> None:
        if self.as_json:
            head = "\n  ]," if self.started else '{\n  "findings": [],'
            counts = json.dumps(dict(self.counts), ensure_ascii=False)
            self.out.write(f'{head}\n  "counts": {counts}\n}}\n')
            self.out.flush()
        else:
            human = "\n".join(f"{k}: {v}" for k, v in self.counts.most_common()) or "no personal data found"
            out_console.print(human, highlight=False, soft_wrap=True)


class _FileProgress:
    """Progress on stderr, never on stdout: a live line on a terminal, else a line per 10%."""

    def __init__(self, path: Path, size: int) -> None:
        self.path, self.size = path, max(size, 1)
        self.started = time.perf_counter()
        self.tty = err_console.is_terminal
        self.next_step = 10

    def __call__(self, done: int) -> None:
        pct = 100 * done / self.size
        mb = done / 1e6
        rate = mb / max(time.perf_counter() - self.started, 1e-9)
        text = f"scanning {self.path}: {pct:3.0f}% ({mb:.1f} of {self.size / 1e6:.1f} MB, {rate:.1f} MB/s)"
        if self.tty:
            sys.stderr.write("\r" + text)
            sys.stderr.flush()
        elif pct >= self.next_step or done >= self.size:
            sys.stderr.write(text + "\n")
            sys.stderr.flush()
            while self.next_step <= pct:
                self.next_step += 10

    def close(self) -> None:
        if self.tty:
            sys.stderr.write("\n")
            sys.stderr.flush()


def register(app: typer.Typer) -> None:
    @app.command("scan")
    def scan_cmd(
        path: Annotated[Path | None, typer.Argument(help="A text file to scan.")] = None,
        db: Annotated[
            str | None, typer.Option("--db", help="Database URL to scan instead of a file.")
        ] = None,
        table: Annotated[str | None, typer.Option("--table", help="Only this table.")] = None,
        column: Annotated[str | None, typer.Option("--column", help="Only this column.")] = None,
        region: Annotated[str, typer.Option("--region", help="Region of national phone numbers.")] = "DE",
        limit: Annotated[int, typer.Option("--limit", help="Rows scanned per column (0: all).")] = 0,
        workers: Annotated[
            int,
            typer.Option(
                "--workers",
                min=0,
                help="Processes scanning a file (0: one per core, at most 8, for files over 20 MB; else 1).",
            ),
        ] = 0,
        as_json: JsonOption = False,
    ) -> None:
        """Find personal data in a file or in table values: counts per type, with locations.

        Findings are written as they are found (memory stays flat on files of any size);
        progress goes to stderr.

        Example: privet scan messages.txt --json
        """
        if (path is None) == (db is None):
            raise BadInput("give a file to scan or --db URL (not both)", hint="e.g. privet scan notes.txt")
        if path is not None:
            if not path.is_file():
                raise BadInput(f"{path} is not a readable file", value=str(path))
            size = path.stat().st_size
            n_workers = workers or auto_workers(size)
            out = _Findings(as_json, sys.stdout)
            shown = _FileProgress(path, size)
            for line_no, found in scan_file(
                path, region=region, workers=n_workers, on_progress=shown, only_found=True
            ):
                for f in found:
                    out.add(f, {"path": str(path), "line": line_no})
            shown.close()
            out.close()
            return
        assert db is not None
        store = SqlStore("db", db)
        schema = store.introspect(only=[table] if table else None)
        if table and table not in schema.tables:
            raise BadInput(f"table '{table}' is not in {db}", value=table)
        out = _Findings(as_json, sys.stdout)
        for tname, info in schema.tables.items():
            pk = info.primary_key[0] if info.primary_key else None
            cols = [c.name for c in info.columns if c.is_text and (column is None or c.name == column)]
            if not cols:
                continue
            rows = store.stream(tname, [*([pk] if pk else []), *cols])
            for n, row in enumerate(rows):
                if limit and n >= limit:
                    break
                for c in cols:
                    value = row.get(c)
                    if value is None:
                        continue
                    for f in scan(str(value), region=region):
                        key = row.get(pk) if pk else None
                        out.add(f, {"store": "db", "table": tname, "column": c, "key": key})
        store.dispose()
        out.close()
