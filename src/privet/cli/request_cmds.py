"""``privet access``, ``erase``, ``rectify``, ``restrict`` and ``object``."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer

from privet.cli.common import JsonOption, MapOption, SubjectOption, emit, state
from privet.datamap import DataMap
from privet.errors import BadInput
from privet.identity import Identity
from privet.requests import access, access_batch, erase, object_to, rectify, restrict
from privet.requests.batch import default_workers
from privet.requests.erase import as_identity

TenantOption = Annotated[str | None, typer.Option("--tenant", help="Only this tenant's (controller's) rows.")]


def register(app: typer.Typer) -> None:
    @app.command("access")
    def access_cmd(
        ctx: typer.Context,
        subject: Annotated[
            str | None,
            typer.Option("--subject", "-s", help="The person: KEY=VALUE, e.g. email=anna@example.com."),
        ] = None,
        map_path: MapOption = None,
        out: Annotated[
            Path | None, typer.Option("--out", "-o", help="Where to write the export zip.")
        ] = None,
        subjects_file: Annotated[
            Path | None,
            typer.Option(
                "--subjects-file", help="Export many people at once: one KEY=VALUE per line, one zip each."
            ),
        ] = None,
        out_dir: Annotated[
            Path | None, typer.Option("--out-dir", help="Folder for the zips of --subjects-file (./exports).")
        ] = None,
        workers: Annotated[
            int | None,
            typer.Option(
                "--workers",
                help="Processes for --subjects-file: groups of people exported side by side. Default: one "
                "per core (at most 8) when the file holds more than one group of 200 people, else 1.",
            ),
        ] = None,
        mentions: Annotated[
            bool,
            typer.Option(
                "--mentions/--no-mentions",
                help="Search other people's free text for mentions of the subject (mentions.json). "
                "--no-mentions leaves them out, e.g. for an Art. 20 portability export of what the "
                "person provided.",
            ),
        ] = True,
        tenant: TenantOption = None,
        as_json: JsonOption = False,
    ) -> None:
        """Export everything held about the subject (Art. 15 and 20) into a zip.

        Example: privet access --subject email=anna@example.com --out anna.zip
        """
        st = state(ctx)
        if (subject is None) == (subjects_file is None):
            raise BadInput(
                "give either --subject or --subjects-file",
                hint="e.g. --subject email=anna@example.com, or --subjects-file people.txt --out-dir exports",
            )
        dm = st.load_map(map_path)
        if subjects_file is not None:
            subjects = _subjects_from(dm, subjects_file)
            folder = out_dir or Path("exports")
            n_workers = default_workers(len(subjects)) if workers is None else workers
            results = access_batch(
                dm,
                st.settings,
                list(subjects),
                out_dir=folder,
                tenant=tenant,
                workers=n_workers,
                mentions=mentions,
            )
            found = sum(r.found for r in results)
            doc = {
                "subjects": len(results),
                "found": found,
                "rows": sum(r.rows for r in results),
                "out_dir": str(folder),
                "workers": n_workers,
                "results": [r.to_dict() for r in results],
            }
            human = f"{len(results)} exports ({found} people found, {doc['rows']} rows) -> {folder}"
            emit(doc, as_json, human)
            return
        assert subject is not None
        result = access(dm, st.settings, subject, out=out, tenant=tenant, mentions=mentions)
        human = (
            f"{result.rows} rows from {len(result.tables)} tables and {result.files} files -> {result.out}"
            if result.found
            else f"{result.message} ({result.out})"
        )
        emit(result.to_dict(), as_json, human)

    @app.command("erase")
    def erase_cmd(
        ctx: typer.Context,
        subject: SubjectOption,
        map_path: MapOption = None,
        dry_run: Annotated[bool, typer.Option("--dry-run", help="Print the plan; change nothing.")] = False,
        tenant: TenantOption = None,
        as_json: JsonOption = False,
    ) -> None:
        """Erase the subject everywhere (Art. 17); exit 1 when verification finds leftovers.

        Example: privet erase --subject email=anna@example.com --dry-run --json
        """
        st = state(ctx)
        dm = st.load_map(map_path)
        result = erase(dm, st.settings, subject, dry_run=dry_run, tenant=tenant)
        lines = [f"{t}: {v['action']} {v['rows']}" for t, v in sorted(result.tables.items())]
        lines += [
            f"retained under {r['basis']} hold until {r['until']}: {r['table']} ({r['rows']} rows)"
            for r in result.retained
        ]
        if not result.found:
            lines = [result.message]
        elif not dry_run:
            lines.append(f"files deleted: {result.files_deleted}; verified: {result.verified}")
        emit(result.to_dict(), as_json, "\n".join(lines))
        if not result.verified:
            raise typer.Exit(1)

    @app.command("rectify")
    def rectify_cmd(
        ctx: typer.Context,
        subject: SubjectOption,
        sets: Annotated[list[str], typer.Option("--set", help="COLUMN=VALUE of the subject's own row.")],
        map_path: MapOption = None,
        tenant: TenantOption = None,
        as_json: JsonOption = False,
    ) -> None:
        """Correct the subject's data everywhere it is copied (Art. 16).

        Example: privet rectify --subject email=anna@example.com --set last_name=Meyer
        """
        changes: dict[str, str] = {}
        for item in sets:
            col, sep, value = item.partition("=")
            if not sep or not col:
                raise BadInput(
                    f"--set '{item}' is not COLUMN=VALUE", value=item, hint="e.g. --set phone=+4930123456"
                )
            changes[col.strip()] = value
        st = state(ctx)
        report = rectify(st.load_map(map_path), st.settings, subject, changes, tenant=tenant)
        emit(report, as_json, "\n".join(f"updated {k}: {v}" for k, v in report["updated"].items()))

    def _mark(name: str, action: Callable[..., dict[str, Any]], doc: str, done: str) -> None:
        def command(
            ctx: typer.Context,
            subject: SubjectOption,
            map_path: MapOption = None,
            tenant: TenantOption = None,
            as_json: JsonOption = False,
        ) -> None:
            st = state(ctx)
            report = action(st.load_map(map_path), st.settings, subject, tenant=tenant)
            emit(report, as_json, done.format(subject=report["subject"]))

        command.__doc__ = doc
        app.command(name)(command)

    _mark(
        "restrict",
        restrict,
        "Mark processing of the subject restricted (Art. 18).\n\n"
        "Example: privet restrict --subject email=anna@example.com",
        "processing of {subject} is restricted",
    )

    @app.command("object")
    def object_cmd(
        ctx: typer.Context,
        subject: SubjectOption,
        purposes: Annotated[
            list[str] | None,
            typer.Option(
                "--purpose",
                "-p",
                help="A purpose of the map objected to (repeat for several); default: every marketing "
                "purpose of the map.",
            ),
        ] = None,
        map_path: MapOption = None,
        tenant: TenantOption = None,
        as_json: JsonOption = False,
    ) -> None:
        """Record an objection (Art. 21): consent to marketing is withdrawn, the subject joins the
        suppression list.

        Example: privet object --subject email=anna@example.com
        """
        st = state(ctx)
        report = object_to(
            st.load_map(map_path), st.settings, subject, purposes=purposes or None, tenant=tenant
        )
        withdrawn = ", ".join(report["withdrawn"]) or "none (the map has no marketing purpose)"
        emit(
            report, as_json, f"objection of {report['subject']} recorded; withdrawn: {withdrawn}; suppressed"
        )


def _subjects_from(dm: DataMap, path: Path) -> list[Identity]:
    """KEY=VALUE per line (blank lines and # comments skipped); a bad line stops everything."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise BadInput(f"cannot read {path}: {exc.strerror}", value=str(path)) from exc
    out = []
    for number, line in enumerate(lines, start=1):
        text = line.strip()
        if not text or text.startswith("#"):
            continue
        try:
            out.append(as_identity(dm, text))
        except BadInput as exc:
            raise BadInput(
                f"{path}:{number}: {exc.message}", value=text, hint=exc.hint or "one KEY=VALUE per line"
            ) from exc
    return out
