"""``privet discover`` and ``privet map check``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from privet.cli.common import JsonOption, MapOption, emit, err_console, out_console, progress, state
from privet.datamap import write_map
from privet.discovery import check_map, discover
from privet.errors import BadInput
from privet.requests.indexing import IndexAction, search_indexes


def register(app: typer.Typer) -> None:
    @app.command("discover")
    def discover_cmd(
        ctx: typer.Context,
        urls: Annotated[list[str], typer.Argument(help="SQLAlchemy URLs of the databases to inspect.")],
        out: Annotated[Path | None, typer.Option("--out", "-o", help="Write the draft map here.")] = None,
        files: Annotated[
            str, typer.Option("--files", help="Folder of the files that path columns name.")
        ] = "./files",
        sample: Annotated[int, typer.Option("--sample", help="Values sampled per column.")] = 200,
        region: Annotated[
            str | None, typer.Option("--region", help="Region of national phone numbers.")
        ] = None,
        as_json: JsonOption = False,
    ) -> None:
        """Inspect live databases and write a draft data map.

        Example: privet discover sqlite:///app.db --out privet.yaml
        """
        with progress("discovering tables") as advance:
            result = discover(
                urls, sample=sample, files_root=files, region=region, on_table=lambda _t: advance()
            )
        if out is not None:
            write_map(result.datamap, out)
        for w in result.warnings:
            err_console.print(f"[yellow]warning:[/] {w}")
        if as_json:
            emit(result.to_dict(), True)
            return
        table = Table(title=f"personal columns ({len(result.columns)}, {result.seconds:.2f} s)")
        for head in ("table", "column", "category", "confidence"):
            table.add_column(head)
        for c in result.columns:
            table.add_row(f"{c['store']}.{c['table']}", c["column"], c["category"], f"{c['confidence']:.2f}")
        out_console.print(table)
        if out is not None:
            out_console.print(f"draft map written to {out}: review it, then run `privet map check`")

    map_app = typer.Typer(help="The data map.", no_args_is_help=True)
    app.add_typer(map_app, name="map")

    @map_app.command("index")
    def index_cmd(
        ctx: typer.Context,
        map_path: MapOption = None,
        drop: Annotated[bool, typer.Option("--drop", help="Drop the indexes and their triggers.")] = False,
        rebuild: Annotated[
            bool, typer.Option("--rebuild", help="Create every index again, current or not.")
        ] = False,
        as_json: JsonOption = False,
    ) -> None:
        """Create the search indexes of the map's free-text columns and phone columns on SQLite
        and MariaDB, so that finding a person's mentions and numbers looks them up instead of
        reading every text and every number.

        A free-text index is a table kept current through triggers on the column's table, as is
        a phone column's on MariaDB; on SQLite a phone column's is an index on the reversed tail
        of its digits. Columns whose index is already current are left as they are.

        Example: privet map index --map privet.yaml
        """
        if drop and rebuild:
            raise BadInput(
                "--drop and --rebuild ask for opposite things",
                hint="use --drop to remove the indexes, or --rebuild to create them all again",
            )
        dm = state(ctx).load_map(map_path)

        def said(done: IndexAction) -> None:
            if not as_json:
                where = f"{done.store}.{done.table}.{done.column}"
                out_console.print(f"{where}: {done.action} ({done.kind}, {done.seconds:.2f} s)")

        actions = search_indexes(dm, drop=drop, rebuild=rebuild, on_column=said)
        if as_json:
            emit([a.to_dict() for a in actions], True)
        elif not actions:
            out_console.print("no free-text or phone column of the map is on SQLite or MariaDB")

    @map_app.command("check")
    def check_cmd(ctx: typer.Context, map_path: MapOption = None, as_json: JsonOption = False) -> None:
        """Exit 1 when a store holds personal data the map does not declare, or the map names what is gone.

        Example: privet map check --map privet.yaml --json
        """
        dm = state(ctx).load_map(map_path)
        report = check_map(dm)
        lines = [
            f"undeclared: {u['store']}.{u['table']}.{u['column']} ({u['category']})"
            for u in report.undeclared
        ]
        lines += [
            f"vanished: {v['store']}.{v['table']}"
            + (f".{v['column']}" if v["column"] else "")
            + f" ({v['problem']})"
            for v in report.vanished
        ]
        for u in report.unindexed:
            err_console.print(
                f"[yellow]warning:[/] {u['store']}.{u['table']}.{u['column']} ({u['used_as']}) has "
                f"no index; subject requests will scan it: {u['fix']}"
            )
        for u in report.superseded:
            err_console.print(
                f"[yellow]warning:[/] index {u['index']} on {u['store']}.{u['table']}.{u['column']} serves "
                f"no search of this version and costs every write: {u['fix']}"
            )
        for u in report.untuned:
            err_console.print(
                f"[yellow]warning:[/] index {u['index']} on {u['store']}.{u['table']}.{u['column']} may "
                "keep megabytes of new entries that every search of it reads: "
                f"{u['fix']}"
            )
        for u in report.ascii_case:
            err_console.print(
                f"[yellow]warning:[/] {u['store']}.{u['table']}.{u['column']} is compared with collation "
                f"{u['collation']}, whose lower() changes ASCII letters only: a name written in capitals "
                f"beyond ASCII (MÜLLER) is not found in it: {u['fix']} (or another collation of a Unicode "
                "locale, such as C.utf8 where the system has it)"
            )
        emit(report.to_dict(), as_json, "\n".join(lines) if lines else "the map covers every personal column")
        if not report.ok:
            raise typer.Exit(1)
