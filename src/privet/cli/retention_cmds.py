"""``privet retention run`` and ``privet retention set``."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import typer

from privet.cli.common import JsonOption, MapOption, emit, progress, state
from privet.errors import BadInput
from privet.retention import run_retention, set_override


def _parse_now(text: str | None) -> dt.datetime | None:
    if text is None:
        return None
    try:
        return dt.datetime.fromisoformat(text)
    except ValueError as exc:
        raise BadInput(
            f"--now '{text}' is not an ISO 8601 date or time",
            value=text,
            hint="e.g. --now 2026-01-31 or --now 2026-01-31T12:00:00",
        ) from exc


def register(app: typer.Typer) -> None:
    ret = typer.Typer(help="Retention: keep nothing longer than allowed.", no_args_is_help=True)
    app.add_typer(ret, name="retention")

    @ret.command("run")
    def run_cmd(
        ctx: typer.Context,
        map_path: MapOption = None,
        dry_run: Annotated[bool, typer.Option("--dry-run", help="Count what each rule would touch.")] = False,
        now: Annotated[str | None, typer.Option("--now", help="Pretend it is this time (ISO 8601).")] = None,
        as_json: JsonOption = False,
    ) -> None:
        """Apply the map's retention rules (and purge expired legal holds).

        Example: privet retention run --dry-run --json
        """
        st = state(ctx)
        dm = st.load_map(map_path)
        with progress("retention: rows swept") as advance:
            report = run_retention(
                dm,
                st.settings,
                now=_parse_now(now),
                dry_run=dry_run,
                on_batch=lambda _rule, _batch, rows: advance(rows),
                on_scope=lambda _rule, _scope, rows: advance.add_total(rows),
            )
        verb = "would change" if dry_run else "changed"
        lines = [
            f"{r.table} [{r.scope}] {'+'.join(r.actions)}: {verb} {r.rows} rows, {r.files} files"
            for r in report.rules
        ]
        lines += [f"vacuumed {v['table']} after {v['rows']} rows in {v['seconds']} s" for v in report.vacuum]
        lines += [f"advice: {a}" for a in report.advice]
        emit(report.to_dict(), as_json, "\n".join(lines) or "the map has no retention rules")

    @ret.command("set")
    def set_cmd(
        ctx: typer.Context,
        tenant: Annotated[str, typer.Option("--tenant", help="The controller's tenant id.")],
        table: Annotated[str, typer.Option("--table", help="store.table (or table in the first store).")],
        after: Annotated[str, typer.Option("--after", help="Period, e.g. 30d, 6m, 2y.")],
        map_path: MapOption = None,
        as_json: JsonOption = False,
    ) -> None:
        """Set a controller's own retention period for one table.

        Example: privet retention set --tenant 3 --table app.calls --after 30d
        """
        st = state(ctx)
        dm = st.load_map(map_path)
        ref = table if "." in table else f"{next(iter(dm.sql_stores()), 'app')}.{table}"
        result = set_override(st.settings, tenant, ref, after, dm)
        emit(result, as_json, f"tenant {tenant}: {ref} kept {result['after_days']} days")
