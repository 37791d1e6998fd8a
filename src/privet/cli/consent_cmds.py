"""``privet consent record|withdraw|check|history|import|export``."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Annotated

import typer

from privet.cli.common import JsonOption, MapOption, SubjectOption, emit, state
from privet.consent import ConsentService
from privet.errors import BadInput
from privet.state import open_state

PurposeOption = Annotated[
    str, typer.Option("--purpose", "-p", help="A purpose of the map, e.g. marketing_email.")
]
TenantOption = Annotated[str | None, typer.Option("--tenant", help="The controller the decision is for.")]
VersionOption = Annotated[str | None, typer.Option("--notice-version", help="Default: the current notice.")]
SourceOption = Annotated[str, typer.Option("--source", help="signup, banner, settings, api, import, cli…")]
LanguageOption = Annotated[
    str | None,
    typer.Option(
        "--language",
        help="The person's language (de, de-CH, or several: 'fr, en;q=0.5'): without --notice-version "
        "the decision is on the current notice in it, else in the purpose's default language.",
    ),
]
PROOF_COLUMNS = ["id", "tenant", "purpose", "granted", "notice_version", "source", "at", "ip", "user_agent"]


def _service(ctx: typer.Context, map_path: Path | None) -> ConsentService:
    st = state(ctx)
    dm = st.load_map(map_path)
    st.settings.ensure_home()
    return ConsentService(open_state(st.settings.resolved_state_url), dm, st.settings.master_key())


def register(app: typer.Typer) -> None:
    consent = typer.Typer(help="The consent ledger.", no_args_is_help=True)
    app.add_typer(consent, name="consent")

    @consent.command("record")
    def record_cmd(
        ctx: typer.Context,
        subject: SubjectOption,
        purpose: PurposeOption,
        notice_version: VersionOption = None,
        source: SourceOption = "cli",
        tenant: TenantOption = None,
        language: LanguageOption = None,
        map_path: MapOption = None,
        as_json: JsonOption = False,
    ) -> None:
        """Record that the subject consents to a purpose.

        Example: privet consent record -s email=anna@example.com -p marketing_email --source signup
        """
        event = _service(ctx, map_path).record(
            subject,
            purpose,
            True,
            notice_version=notice_version,
            source=source,
            tenant=tenant,
            language=language,
        )
        emit(
            {"id": event.id, "purpose": purpose, "granted": True, "notice_version": event.notice_version},
            as_json,
            f"recorded consent to {purpose} (notice {event.notice_version})",
        )

    @consent.command("withdraw")
    def withdraw_cmd(
        ctx: typer.Context,
        subject: SubjectOption,
        purpose: PurposeOption,
        source: SourceOption = "cli",
        tenant: TenantOption = None,
        map_path: MapOption = None,
        as_json: JsonOption = False,
    ) -> None:
        """Record that the subject withdraws consent to a purpose.

        Example: privet consent withdraw --subject email=anna@example.com --purpose marketing_email
        """
        event = _service(ctx, map_path).withdraw(subject, purpose, source=source, tenant=tenant)
        emit({"id": event.id, "purpose": purpose, "granted": False}, as_json, f"withdrawn: {purpose}")

    @consent.command("check")
    def check_cmd(
        ctx: typer.Context,
        subject: SubjectOption,
        purpose: PurposeOption,
        tenant: TenantOption = None,
        map_path: MapOption = None,
        as_json: JsonOption = False,
    ) -> None:
        """May the subject be contacted for this purpose? Exit 0 either way.

        Example: privet consent check --subject email=anna@example.com --purpose marketing_email --json
        """
        d = _service(ctx, map_path).check(subject, purpose, tenant=tenant)
        emit(
            d.to_dict(),
            as_json,
            ("allowed" if d.allowed else "not allowed")
            + (
                f" since {d.since:%Y-%m-%d %H:%M} (notice {d.notice_version})"
                if d.since
                else " (no decision)"
            ),
        )

    @consent.command("history")
    def history_cmd(
        ctx: typer.Context, subject: SubjectOption, map_path: MapOption = None, as_json: JsonOption = False
    ) -> None:
        """Every decision of the subject: which notice, when, from where, how.

        Example: privet consent history --subject email=anna@example.com --json
        """
        events = _service(ctx, map_path).history(subject)
        emit(
            {"events": events},
            as_json,
            "\n".join(
                f"{e['at']} {e['purpose']}: {'granted' if e['granted'] else 'withdrawn'} "
                f"(notice {e['notice_version']}, {e['source']})"
                for e in events
            )
            or "no decisions",
        )

    @consent.command("import")
    def import_cmd(
        ctx: typer.Context,
        path: Annotated[Path, typer.Argument(help="CSV with subject,purpose,granted,notice_version,at")],
        source: SourceOption = "import",
        tenant: TenantOption = None,
        map_path: MapOption = None,
        as_json: JsonOption = False,
    ) -> None:
        """Import an existing consent list; one bad row imports nothing.

        Example: privet consent import newsletter.csv --source import
        """
        n = _service(ctx, map_path).import_csv(str(path), source=source, tenant=tenant)
        emit({"imported": n}, as_json, f"imported {n} decisions")

    @consent.command("export")
    def export_cmd(
        ctx: typer.Context,
        subject: Annotated[
            str | None, typer.Option("--subject", "-s", help="KEY=VALUE of one person.")
        ] = None,
        purpose: Annotated[
            str | None, typer.Option("--purpose", "-p", help="Every decision on a purpose.")
        ] = None,
        fmt: Annotated[str, typer.Option("--format", help="json or csv")] = "json",
        map_path: MapOption = None,
    ) -> None:
        """Proof of consent for a person or a purpose, as JSON or CSV on stdout.

        Example: privet consent export --purpose marketing_email --format csv > proof.csv
        """
        if fmt not in ("json", "csv"):
            raise BadInput(f"unknown format '{fmt}'", value=fmt, hint="use --format json or --format csv")
        if (subject is None) == (purpose is None):
            raise BadInput(
                "name exactly one of --subject or --purpose", hint="e.g. --purpose marketing_email"
            )
        events = _service(ctx, map_path).export_proof(subject=subject, purpose=purpose)
        if fmt == "json":
            typer.echo(json.dumps({"events": events}, indent=2))
            return
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=PROOF_COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(events)
        typer.echo(out.getvalue(), nl=False)
