"""Peak memory of a command and its child processes, read from /proc while it runs (Linux).

``ru_maxrss`` from ``wait4`` is no use here: Linux carries the high-water mark of the
forking process's memory across ``exec``, so a command started from a large test or
benchmark process would report that process's size. ``VmHWM`` belongs to the command's own
address space."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Sequence
from pathlib import Path
from typing import IO, Any


def _tree(pid: int) -> list[int]:
    """The process and all its descendants."""
    out, i = [pid], 0
    while i < len(out):
        p = out[i]
        i += 1
        try:
            out += [int(c) for c in Path(f"/proc/{p}/task/{p}/children").read_text().split()]
        except (OSError, ValueError):
            continue
    return out


def _hwm_kb(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


def run_measuring_peak(
    cmd: Sequence[str],
    *,
    stdout: IO[Any] | None = None,
    stderr: IO[Any] | None = None,
    cwd: Path | str | None = None,
    env: dict[str, str] | None = None,
    interval: float = 0.02,
) -> tuple[int, int]:
    """Run ``cmd`` to its end; (exit code, the largest peak RSS in MB among it and its children)."""
    proc = subprocess.Popen(list(cmd), stdout=stdout, stderr=stderr, cwd=cwd, env=env)
    peak = 0
    while proc.poll() is None:
        peak = max([peak, *(_hwm_kb(p) for p in _tree(proc.pid))])
        time.sleep(interval)
    return proc.returncode, peak // 1024
