"""Celery for scale-out: one task that runs a named Privet job on a worker (``privet worker``).

Messages are acknowledged only after the job finished (``acks_late``) and given back when
a worker dies (``reject_on_worker_lost``), so a job whose worker was killed runs again on
another one; the jobs are idempotent, so it has its effect once. With Redis a message
held by a dead worker comes back after ``PRIVET_JOB_VISIBILITY_SECONDS``; RabbitMQ gives
it back as soon as the connection drops.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from celery import Celery

from privet.errors import ConfigError
from privet.service.runner import JOB_TASK, InlineRunner

if TYPE_CHECKING:
    from privet.settings import Settings

# The settings ``privet worker`` was started with; its pool processes inherit them.
WORKER_SETTINGS: Settings | None = None
_context: InlineRunner | None = None


def make_celery(settings: Settings) -> Celery:
    if not settings.broker_url:
        raise ConfigError(
            "PRIVET_BROKER_URL is not set, so there are no Celery workers to talk to",
            hint="set PRIVET_BROKER_URL=redis://127.0.0.1:6379/0 or amqp://guest@127.0.0.1:5672//",
        )
    if not settings.broker_url.startswith(("redis://", "rediss://", "amqp://", "amqps://", "pyamqp://")):
        raise ConfigError(
            f"PRIVET_BROKER_URL '{settings.broker_url}' is neither redis:// nor amqp://",
            value=settings.broker_url,
        )
    app = Celery("privet", broker=settings.broker_url, set_as_current=False)
    schedule: dict[str, Any] = {
        "privet-housekeeping": {"task": JOB_TASK, "schedule": 3600.0, "args": ["housekeeping"]},
    }
    if settings.retention_daily:
        schedule["privet-retention"] = {"task": JOB_TASK, "schedule": 86400.0, "args": ["retention.run"]}
    app.conf.update(
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        task_serializer="json",
        accept_content=["json"],
        task_ignore_result=True,
        broker_connection_retry_on_startup=True,
        task_default_queue=settings.job_queue,
        broker_transport_options={
            "visibility_timeout": settings.job_visibility_seconds,
            # Look for messages of dead workers often enough to honour a short visibility timeout.
            "unacked_restore_interval": max(1, min(10, settings.job_visibility_seconds // 2)),
            "unacked_restore_throttle": 1,
        },
        worker_hijack_root_logger=False,
        beat_schedule=schedule,
    )

    @app.task(name=JOB_TASK)  # type: ignore[untyped-decorator]
    def job(name: str, *args: str) -> None:
        _worker_runner().submit(name, *args)

    return app


def _worker_runner() -> InlineRunner:
    """The jobs of this worker process, built on first use (after the pool forked)."""
    global _context
    if _context is None:
        from privet.service.jobs import build_handlers
        from privet.settings import Settings

        runner = InlineRunner()
        build_handlers(WORKER_SETTINGS or Settings(), runner)
        _context = runner
    return _context


def run_worker(
    settings: Settings,
    *,
    concurrency: int = 1,
    beat: bool = False,
    pool: str = "prefork",
    name: str | None = None,
) -> None:
    """Run a Celery worker in this process until it is stopped.

    Celery names a worker ``celery@<host>`` unless told otherwise; two such workers on one host
    share a name, and on RabbitMQ the second cannot open its control queue and stops. The default
    name therefore holds the process id.
    """
    global WORKER_SETTINGS
    WORKER_SETTINGS = settings
    app = make_celery(settings)
    argv = ["worker", f"--concurrency={concurrency}", f"--pool={pool}", "--loglevel=INFO", "--without-gossip"]
    argv.append(f"--hostname={name or f'privet-{os.getpid()}@%h'}")
    if beat:
        argv += ["--beat", f"--schedule={settings.home / 'celerybeat-schedule'}"]
    app.worker_main(argv)
