"""The process pool finds exactly what one process finds, in the same order, in the API and the CLI."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from privet.detection import Finding, scan, scan_file, scan_lines
from tests.detection.test_recognizers import FOUND

FILLER = ("ok see you later", "Bestellung 4711 ist raus", "", "The project team agreed on the plan.")


def write_mixed(path: Path, lines: int = 30_000) -> bytes:
    """Personal data every 7th line among filler; CRLF endings, a bad byte, no final newline."""
    rows = []
    for n in range(lines):
        text = FOUND[n // 7 % len(FOUND)][1] if n % 7 == 0 else FILLER[n % len(FILLER)]
        rows.append(text.encode() + (b"\r\n" if n % 11 == 0 else b"\n"))
    rows[5] = b"caf\xe9 Anna Schmidt\n"
    data = b"".join(rows).rstrip(b"\n")
    path.write_bytes(data)
    return data


def expected(data: bytes) -> list[tuple[int, list[Finding]]]:
    lines = [line.rstrip("\r") for line in data.decode("utf-8", errors="replace").split("\n")]
    return [(no, scan(line)) for no, line in enumerate(lines, start=1)]


def test_when_a_file_is_scanned_by_two_workers_then_findings_equal_one_process(tmp_path: Path) -> None:
    path = tmp_path / "mixed.txt"
    data = write_mixed(path)
    want = expected(data)
    assert sum(len(f) for _, f in want) > 4000
    block = 32_768  # about 20 blocks, so several are in flight at once

    one = list(scan_file(path, workers=1, block=block))
    two = list(scan_file(path, workers=2, block=block))
    assert one == want
    assert two == want
    assert list(scan_file(path, workers=2)) == want  # one megabyte block
    sparse = list(scan_file(path, workers=2, only_found=True, block=block))
    assert sparse == [(no, f) for no, f in want if f]


def test_when_lines_are_scanned_by_two_workers_then_findings_equal_one_process(tmp_path: Path) -> None:
    lines = [line for _, line in zip(range(5000), (t for _, t, _ in FOUND * 1000), strict=False)]
    one = list(scan_lines(lines, workers=1))
    two = list(scan_lines(iter(lines), workers=2, chunk=300))
    assert len(one) == 5000 and one == two
    assert [f for _, f in one] == [scan(line) for line in lines]


def privet_scan(path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "privet.cli.main", "scan", str(path), *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=path.parent,
        env={**os.environ, "PRIVET_HOME": str(path.parent / ".privet")},
    )


def test_when_the_cli_is_given_workers_then_its_output_does_not_depend_on_them(tmp_path: Path) -> None:
    path = tmp_path / "mixed.txt"
    data = write_mixed(path)
    one = privet_scan(path, "--json", "--workers", "1")
    two = privet_scan(path, "--json", "--workers", "2")
    assert one.returncode == 0 and two.returncode == 0, one.stderr + two.stderr
    assert one.stdout == two.stdout
    doc = json.loads(two.stdout)
    want = [(no, f) for no, found in expected(data) for f in found]
    assert [(f["line"], f["type"], f["start"], f["end"]) for f in doc["findings"]] == [
        (no, f.type, f.start, f.end) for no, f in want
    ]
    bad = privet_scan(path, "--workers", "-1")
    assert bad.returncode == 2 and "--workers" in bad.stderr
