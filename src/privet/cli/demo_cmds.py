"""``privet demo``: build the demo SaaS database, discover it, show the map, serve."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from privet.cli.common import JsonOption, emit, out_console, state
from privet.datamap import write_map
from privet.demo import build_demo
from privet.discovery import discover
from privet.service import add_tenant, create_key
from privet.state import open_state


def register(app: typer.Typer) -> None:
    @app.command("demo")
    def demo_cmd(
        ctx: typer.Context,
        db: Annotated[
            str | None, typer.Option("--db", help="Database URL (default: sqlite:///demo.db).")
        ] = None,
        users: Annotated[int, typer.Option("--users", help="How many users to generate.")] = 200,
        directory: Annotated[
            Path, typer.Option("--dir", help="Where demo.db, files and privet.yaml go.")
        ] = Path("."),
        serve: Annotated[
            bool, typer.Option("--serve/--no-serve", help="Serve the API and pages afterwards.")
        ] = True,
        host: Annotated[str, typer.Option("--host")] = "127.0.0.1",
        port: Annotated[int, typer.Option("--port")] = 8000,
        as_json: JsonOption = False,
    ) -> None:
        """Build the demo SaaS database, discover it, write privet.yaml and serve the API.

        Example: privet demo --users 500 --no-serve
        """
        directory.mkdir(parents=True, exist_ok=True)
        url = db or f"sqlite:///{(directory / 'demo.db').resolve()}"
        files = (directory / "demo-files").resolve()
        info = build_demo(url, users=users, files_dir=files)
        result = discover([url], files_root=str(files))
        map_path = directory / "privet.yaml"
        write_map(result.datamap, map_path)
        settings = state(ctx).settings
        settings.ensure_home()
        state_db = open_state(settings.resolved_state_url)
        for tenant in range(1, 4):
            add_tenant(
                state_db, str(tenant), name=f"Demo tenant {tenant}", sla_days=7 if tenant == 1 else None
            )
        operator_key = create_key(state_db, operator=True)
        state_db.dispose()
        summary = {
            "database": url,
            "rows": info.rows,
            "map": str(map_path),
            "personal_columns": len(result.columns),
            "subjects": sorted(result.datamap.subjects),
            "try": f"privet access --subject email={info.sample_email}",
            "console": f"http://{host}:{port}/console",
            "operator_key": operator_key,
            "privacy_center": f"http://{host}:{port}/privacy?tenant=1",
        }
        if as_json:
            emit(summary, True)
        else:
            table = Table(title=f"demo data map: {map_path}")
            for head in ("table", "subject / path", "personal columns", "legal hold"):
                table.add_column(head)
            for t in result.tables:
                cols = [c["column"] for c in result.columns if c["table"] == t["table"]]
                hold = t["legal_hold"]
                table.add_row(
                    t["table"],
                    str(t["subject_path"] or "-"),
                    ", ".join(cols),
                    f"{hold['basis']} {hold.get('years')}y" if hold else "",
                )
            out_console.print(table)
            out_console.print(
                f"{info.total_rows} rows in {url}; try: [bold]privet access --subject "
                f"email={info.sample_email} --map {map_path}[/]"
            )
            out_console.print(
                f"console: {summary['console']} (operator key {operator_key}); "
                f"privacy center: {summary['privacy_center']}"
            )
        if serve:
            from privet.api.app import serve as run_server

            settings.map = map_path
            run_server(settings, host=host, port=port)
