"""`privet scan` on large files: flat memory, streamed JSON on stdout, progress on stderr."""

from __future__ import annotations

import json
import os
import random
import sys
from pathlib import Path
from typing import Any

from tests.support.memory import run_measuring_peak

NICKS = ["lena", "tom_k", "marc", "sophie", "jo", "admin", "ben"]
CHAT = (
    "ok see you at the station later",
    "did anyone check the slides for tomorrow",
    "the coffee machine is broken again",
    "je pense que la réunion est annulée",
    "kannst du mir die unterlagen schicken",
    "sounds good, thanks a lot",
    "lunch at the usual place?",
    "i will be a bit late today",
)


def write_chat(path: Path, size_bytes: int, every: int = 10) -> int:
    """Chat lines, one in ``every`` with an email address; returns how many emails were written."""
    rng = random.Random(7)
    lines = []
    for n in range(1, 10_001):
        if n % every == 0:
            lines.append(f"{rng.choice(NICKS)}: write to me at user{n}@example.org please\n")
        else:
            lines.append(f"{rng.choice(NICKS)}: {rng.choice(CHAT)}\n")
    block = "".join(lines).encode()
    repeats = -(-size_bytes // len(block))
    with path.open("wb") as fh:
        for _ in range(repeats):
            fh.write(block)
    return repeats * (len(lines) // every)


def scan_cli(path: Path, tmp: Path, *extra: str) -> tuple[int, int, Any, str]:
    """Run ``privet scan PATH --json`` as a child: exit code, peak RSS in MB (workers too), JSON, stderr."""
    out, err = tmp / f"{path.stem}.out.json", tmp / f"{path.stem}.err.txt"
    with out.open("w") as o, err.open("w") as e:
        code, peak = run_measuring_peak(
            [sys.executable, "-m", "privet.cli.main", "scan", str(path), "--json", *extra],
            stdout=o,
            stderr=e,
            cwd=tmp,
            env={**os.environ, "PRIVET_HOME": str(tmp / ".privet")},
        )
    text = out.read_text(encoding="utf-8")
    return code, peak, json.loads(text), err.read_text(encoding="utf-8")


def test_when_a_large_file_is_scanned_then_memory_stays_flat_and_progress_goes_to_stderr(
    tmp_path: Path,
) -> None:
    small, large = tmp_path / "small.txt", tmp_path / "large.txt"
    small_emails = write_chat(small, 5_000_000)
    large_emails = write_chat(large, 35_000_000)

    code_s, peak_s, doc_s, err_s = scan_cli(small, tmp_path)
    code_l, peak_l, doc_l, err_l = scan_cli(large, tmp_path)

    assert code_s == 0 and code_l == 0, err_s + err_l
    # stdout is one valid JSON document with every finding, streamed rather than built in memory.
    assert doc_s["counts"]["email"] == small_emails == sum(f["type"] == "email" for f in doc_s["findings"])
    assert doc_l["counts"]["email"] == large_emails == sum(f["type"] == "email" for f in doc_l["findings"])
    first = next(f for f in doc_l["findings"] if f["type"] == "email")
    assert first["line"] == 10 and first["path"] == str(large)
    # Progress is on stderr and reaches the end.
    assert "scanning" in err_l and "100%" in err_l and f"{large.stat().st_size / 1e6:.1f} of" in err_l
    # Memory: far below the input size, and a 7x larger input costs (almost) nothing more.
    assert peak_l <= peak_s + 20, f"peak RSS grew from {peak_s} MB (5 MB file) to {peak_l} MB (35 MB file)"
    assert peak_l < 150, f"peak RSS {peak_l} MB on a 35 MB file ({peak_s} MB on 5 MB)"
