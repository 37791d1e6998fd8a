"""The ``privet`` command: builds the settings once, runs a command, maps errors to exit codes.

Exit codes: 0 success, 1 the check or request failed, 2 bad usage or bad input.
"""

from __future__ import annotations

import importlib
import json
import sys

import typer

from privet.cli.common import CliState, err_console
from privet.errors import PrivetError

app = typer.Typer(
    name="privet",
    help="Privet: a GDPR engine beside your databases. Map, requests, consent, retention, proof.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

# Each module registers its commands with ``register(app)``.
COMMAND_MODULES: tuple[str, ...] = (
    "privet.cli.audit_cmds",
    "privet.cli.map_cmds",
    "privet.cli.demo_cmds",
    "privet.cli.request_cmds",
    "privet.cli.retention_cmds",
    "privet.cli.scan_cmds",
    "privet.cli.consent_cmds",
    "privet.cli.service_cmds",
)


@app.callback()
def _root(ctx: typer.Context) -> None:
    """Privet: a GDPR engine beside your databases."""
    if not isinstance(ctx.obj, CliState):
        ctx.obj = CliState()


def _register() -> None:
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(app)


_register()


def main(argv: list[str] | None = None) -> None:
    """Entry point: usage errors exit 2 (Typer), PrivetError exits with its own code."""
    args = sys.argv[1:] if argv is None else argv
    as_json = "--json" in args
    try:
        app(args=args, prog_name="privet")
    except PrivetError as exc:
        err_console.print(f"[bold red]error:[/] {exc}", highlight=False, soft_wrap=True)
        if as_json:
            sys.stdout.write(json.dumps(exc.to_dict(), default=str) + "\n")
        sys.exit(exc.exit_code)


if __name__ == "__main__":
    main()
