"""``privet audit verify``: prove the audit log untampered."""

from __future__ import annotations

import typer

from privet.audit import verify
from privet.cli.common import JsonOption, emit, state
from privet.state import open_state


def register(app: typer.Typer) -> None:
    audit = typer.Typer(help="The tamper-evident audit log.", no_args_is_help=True)
    app.add_typer(audit, name="audit")

    @audit.command("verify")
    def verify_cmd(ctx: typer.Context, as_json: JsonOption = False) -> None:
        """Check the audit chain; exit 1 naming the first altered entry.

        Example: privet audit verify --json
        """
        settings = state(ctx).settings
        settings.ensure_home()
        db = open_state(settings.resolved_state_url)
        with db.session() as s:
            report = verify(s)
        db.dispose()
        if report.ok:
            emit(report.to_dict(), as_json, f"audit chain intact: {report.entries} entries")
            return
        emit(
            report.to_dict(),
            as_json,
            f"[red]audit chain broken at entry {report.first_bad}[/]: {report.reason}",
        )
        raise typer.Exit(1)
