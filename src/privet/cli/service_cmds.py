"""``privet serve``, ``privet tenants add`` and ``privet keys create``."""

from __future__ import annotations

from typing import Annotated

import typer

from privet.cli.common import JsonOption, emit, state
from privet.service import add_tenant, create_key
from privet.service.webhooks import add_webhook
from privet.state import open_state


def register(app: typer.Typer) -> None:
    @app.command("serve")
    def serve_cmd(
        ctx: typer.Context,
        host: Annotated[str, typer.Option("--host", help="Address to listen on.")] = "127.0.0.1",
        port: Annotated[int, typer.Option("--port", help="Port to listen on.")] = 8000,
    ) -> None:
        """Serve the REST API (OpenAPI at /openapi.json) with the in-process worker.

        Example: privet serve --port 8000
        """
        from privet.api.app import serve

        serve(state(ctx).settings, host=host, port=port)

    @app.command("worker")
    def worker_cmd(
        ctx: typer.Context,
        concurrency: Annotated[int, typer.Option("--concurrency", min=1, help="Jobs run at once.")] = 1,
        beat: Annotated[
            bool, typer.Option("--beat", help="Also keep the schedule: housekeeping hourly, retention daily.")
        ] = False,
        name: Annotated[
            str | None,
            typer.Option(
                "--name",
                help="The worker's node name, as name@host (%h stands for this host's name). "
                "Default: privet-<process id>@<host>, so several workers on one host each have their own.",
            ),
        ] = None,
    ) -> None:
        """Run a Celery worker for requests, housekeeping and retention (needs PRIVET_BROKER_URL).

        Example: PRIVET_BROKER_URL=redis://127.0.0.1:6379/0 privet worker --concurrency 4 --beat
        """
        from privet.service.celery_app import make_celery, run_worker

        settings = state(ctx).settings
        make_celery(settings)  # a missing or malformed broker URL is a clear error before Celery starts
        settings.ensure_home()
        run_worker(settings, concurrency=concurrency, beat=beat, name=name)

    @app.command("housekeeping")
    def housekeeping_cmd(ctx: typer.Context, as_json: JsonOption = False) -> None:
        """Delete expired exports and mail deadline reminders now (the hourly job).

        Example: privet housekeeping --json
        """
        from privet.datamap import load_map
        from privet.service import InlineRunner, RequestService

        settings = state(ctx).settings
        settings.ensure_home()
        db = open_state(settings.resolved_state_url)
        try:
            result = RequestService(settings, load_map(settings.map), db, InlineRunner()).housekeeping()
        finally:
            db.dispose()
        emit(
            result,
            as_json,
            f"{result['exports_deleted']} expired exports deleted, {result['reminders']} reminders mailed",
        )

    tenants = typer.Typer(help="Controllers (tenants).", no_args_is_help=True)
    app.add_typer(tenants, name="tenants")

    @tenants.command("add")
    def add_cmd(
        ctx: typer.Context,
        tenant_id: Annotated[str, typer.Argument(help="The value its rows carry in tenant columns.")],
        name: Annotated[str | None, typer.Option("--name", help="A display name.")] = None,
        sla_days: Annotated[int | None, typer.Option("--sla-days", help="Its own deadline, e.g. 7.")] = None,
        auto_approve: Annotated[
            str,
            typer.Option(
                "--auto-approve", help="Request types approved once verified, e.g. access,portability."
            ),
        ] = "",
        contact: Annotated[
            str | None,
            typer.Option("--contact", help="Address for deadline reminders, e.g. dpo@acme.example."),
        ] = None,
        as_json: JsonOption = False,
    ) -> None:
        """Register a controller.

        Example: privet tenants add 3 --name "Acme Calls" --sla-days 7
        """
        settings = state(ctx).settings
        settings.ensure_home()
        db = open_state(settings.resolved_state_url)
        try:
            t = add_tenant(
                db, tenant_id, name=name, sla_days=sla_days, auto_approve=auto_approve, contact_email=contact
            )
        finally:
            db.dispose()
        emit({"id": t.id, "name": t.name, "sla_days": t.sla_days}, as_json, f"tenant {t.id} ({t.name}) saved")

    hooks = typer.Typer(
        help="Recipients told of completed erasures, rectifications, restrictions.", no_args_is_help=True
    )
    app.add_typer(hooks, name="webhooks")

    @hooks.command("add")
    def hook_cmd(
        ctx: typer.Context,
        tenant: Annotated[str, typer.Option("--tenant", help="The controller whose requests it follows.")],
        url: Annotated[str, typer.Option("--url", help="Where events are POSTed (HMAC-signed).")],
        as_json: JsonOption = False,
    ) -> None:
        """Register a recipient webhook; prints its signing secret once.

        Example: privet webhooks add --tenant 3 --url https://crm.example.com/privet --json
        """
        settings = state(ctx).settings
        settings.ensure_home()
        db = open_state(settings.resolved_state_url)
        result = add_webhook(db, tenant, url)
        db.dispose()
        emit(result, as_json, f"webhook {result['id']} for tenant {tenant}; secret {result['secret']}")

    keys = typer.Typer(help="API keys.", no_args_is_help=True)
    app.add_typer(keys, name="keys")

    @keys.command("create")
    def create_cmd(
        ctx: typer.Context,
        tenant: Annotated[str | None, typer.Option("--tenant", help="A key for this tenant only.")] = None,
        operator: Annotated[
            bool, typer.Option("--operator", help="A key that acts for every tenant.")
        ] = False,
        as_json: JsonOption = False,
    ) -> None:
        """Create an API key; it is printed once (only its hash is stored).

        Example: privet keys create --tenant 3 --json
        """
        settings = state(ctx).settings
        settings.ensure_home()
        db = open_state(settings.resolved_state_url)
        key = create_key(db, tenant=tenant, operator=operator)
        db.dispose()
        emit({"key": key}, as_json, key)
