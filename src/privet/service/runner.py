"""Where jobs run: the in-process worker by default (one background thread)."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, Protocol


class Runner(Protocol):
    def submit(self, fn: Callable[..., Any], *args: Any) -> None: ...


class InProcessRunner:
    """Runs jobs on a background thread of this process; ``drain`` waits for them."""

    def __init__(self, workers: int = 1) -> None:
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="privet-job")
        self._futures: list[Future[Any]] = []

    def submit(self, fn: Callable[..., Any], *args: Any) -> None:
        self._futures.append(self._pool.submit(fn, *args))

    def drain(self, timeout: float = 60) -> None:
        for f in list(self._futures):
            f.result(timeout=timeout)
        self._futures.clear()

    def close(self) -> None:
        self._pool.shutdown(wait=True)


class InlineRunner:
    """Runs each job at once in the caller's thread (the CLI and tests that want it synchronous)."""

    def submit(self, fn: Callable[..., Any], *args: Any) -> None:
        fn(*args)
