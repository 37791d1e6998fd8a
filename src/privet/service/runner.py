"""Where jobs run: the in-process worker by default, Celery workers when a broker is set.

Jobs are named (``request.run``, ``housekeeping``, ``retention.run``) and take string
arguments only, so the same job runs on a thread of ``privet serve`` or on a Celery
worker in another machine. Every job is idempotent: a job delivered twice, or again after
its worker was killed, finishes the work once.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TYPE_CHECKING, Any, Protocol

from privet.errors import ConfigError

if TYPE_CHECKING:
    from celery import Celery

    from privet.settings import Settings

Job = Callable[..., Any]
JOB_TASK = "privet.job"  # the one Celery task: (job name, *args)


class Runner(Protocol):
    def register(self, name: str, fn: Job) -> None: ...

    def submit(self, name: str, *args: str) -> None: ...


class _Handlers:
    def __init__(self) -> None:
        self.handlers: dict[str, Job] = {}

    def register(self, name: str, fn: Job) -> None:
        self.handlers[name] = fn

    def _handler(self, name: str) -> Job:
        try:
            return self.handlers[name]
        except KeyError:
            raise ConfigError(f"no job named '{name}' is registered", value=name) from None


class InProcessRunner(_Handlers):
    """Runs jobs on a background thread of this process; ``drain`` waits for them."""

    def __init__(self, workers: int = 1) -> None:
        super().__init__()
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="privet-job")
        self._futures: list[Future[Any]] = []
        self._lock = threading.Lock()

    def submit(self, name: str, *args: str) -> None:
        fn = self._handler(name)
        with self._lock:
            self._futures = [f for f in self._futures if not f.done()]
            self._futures.append(self._pool.submit(fn, *args))

    def drain(self, timeout: float = 60) -> None:
        with self._lock:
            pending = list(self._futures)
        for f in pending:
            f.result(timeout=timeout)

    def close(self) -> None:
        self._pool.shutdown(wait=True)


class InlineRunner(_Handlers):
    """Runs each job at once in the caller's thread (the CLI, a Celery worker, some tests)."""

    def submit(self, name: str, *args: str) -> None:
        self._handler(name)(*args)


class CeleryRunner:
    """Sends jobs to Celery workers (``privet worker``) through the broker of the settings."""

    def __init__(self, settings: Settings) -> None:
        from privet.service.celery_app import make_celery

        self.app: Celery = make_celery(settings)

    def register(self, name: str, fn: Job) -> None:
        """Workers run their own handlers; nothing to keep on the sending side."""

    def submit(self, name: str, *args: str) -> None:
        self.app.send_task(JOB_TASK, args=[name, *args])

    def close(self) -> None:
        self.app.close()


def make_runner(settings: Settings) -> InProcessRunner | CeleryRunner:
    """Celery when ``PRIVET_BROKER_URL`` is set, else the in-process worker."""
    return CeleryRunner(settings) if settings.broker_url else InProcessRunner()
