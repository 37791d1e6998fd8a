"""The named jobs a runner executes, wired to one process's services."""

from __future__ import annotations

from typing import Any

from privet.datamap import load_map
from privet.service.runner import Runner
from privet.service.workflow import RequestService
from privet.settings import Settings
from privet.state import StateDB, open_state


def register_jobs(runner: Runner, service: RequestService) -> None:
    """``request.run`` (execute an approved request), ``housekeeping`` (expired exports,
    deadline reminders) and ``retention.run`` (the map's retention rules)."""

    def retention() -> dict[str, Any]:
        from privet.retention import run_retention

        return run_retention(service.dm, service.settings, state=service.state).to_dict()

    runner.register("request.run", service.run)
    runner.register("housekeeping", service.housekeeping)
    runner.register("retention.run", retention)


def build_handlers(settings: Settings, runner: Runner, state: StateDB | None = None) -> RequestService:
    """A worker's services: the map, Privet's state and the request service, jobs registered."""
    settings.ensure_home()
    service = RequestService(
        settings, load_map(settings.map), state or open_state(settings.resolved_state_url), runner
    )
    register_jobs(runner, service)
    return service
