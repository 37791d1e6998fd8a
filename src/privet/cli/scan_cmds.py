"""``privet scan``: find personal data in files or table values."""

from __future__ import annotations

import os
from collections import Counter
from pathlib import Path
from typing import Annotated, Any

import typer

from privet.cli.common import JsonOption, emit, progress
from privet.detection import scan, scan_file
from privet.errors import BadInput
from privet.stores import SqlStore


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
        as_json: JsonOption = False,
    ) -> None:
        """Find personal data in a file or in table values: counts per type, with locations.

        Example: privet scan messages.txt --json
        """
        findings: list[dict[str, Any]] = []
        counts: Counter[str] = Counter()
        if (path is None) == (db is None):
            raise BadInput("give a file to scan or --db URL (not both)", hint="e.g. privet scan notes.txt")
        if path is not None:
            if not path.is_file():
                raise BadInput(f"{path} is not a readable file", value=str(path))
            workers = 2 if path.stat().st_size > 20_000_000 and (os.cpu_count() or 1) > 1 else 1
            with progress(f"scanning {path}", total=None) as advance:
                for line_no, found in scan_file(path, region=region, workers=workers):
                    advance()
                    for f in found:
                        counts[f.type] += 1
                        findings.append(
                            {
                                "type": f.type,
                                "start": f.start,
                                "end": f.end,
                                "score": f.score,
                                "path": str(path),
                                "line": line_no,
                            }
                        )
        else:
            assert db is not None
            store = SqlStore("db", db)
            schema = store.introspect(only=[table] if table else None)
            if table and table not in schema.tables:
                raise BadInput(f"table '{table}' is not in {db}", value=table)
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
                            counts[f.type] += 1
                            findings.append(
                                {
                                    "type": f.type,
                                    "start": f.start,
                                    "end": f.end,
                                    "score": f.score,
                                    "store": "db",
                                    "table": tname,
                                    "column": c,
                                    "key": row.get(pk) if pk else None,
                                }
                            )
            store.dispose()
        human = "\n".join(f"{k}: {v}" for k, v in counts.most_common()) or "no personal data found"
        emit({"findings": findings, "counts": dict(counts)}, as_json, human)
