"""Run every benchmark (``bench/bench_*.py``) and write ``bench/results/*.json`` plus a summary.

Each benchmark module has ``run() -> dict`` returning at least ``name``, a
``summary`` line and its figures; ratios are against a reference measured in
the same run on the same data. ``python -m bench.run NAME…`` runs a subset.
"""

from __future__ import annotations

import importlib
import json
import platform
import sys
import time
import traceback
from pathlib import Path

HERE = Path(__file__).parent
RESULTS = HERE / "results"


def main(argv: list[str]) -> int:
    RESULTS.mkdir(exist_ok=True)
    names = sorted(p.stem for p in HERE.glob("bench_*.py"))
    if argv:
        names = [n for n in names if any(a in n for a in argv)]
    failed = 0
    for name in names:
        print(f"== {name}", file=sys.stderr, flush=True)
        started = time.perf_counter()
        try:
            result = importlib.import_module(f"bench.{name}").run()
        except Exception:
            failed += 1
            result = {"name": name, "error": traceback.format_exc(), "summary": "FAILED"}
        result["seconds"] = round(time.perf_counter() - started, 2)
        result["measured_at"] = time.strftime("%Y-%m-%d %H:%M:%S")
        (RESULTS / f"{name.removeprefix('bench_')}.json").write_text(
            json.dumps(result, indent=2, default=str) + "\n"
        )
        print(result.get("summary", ""), file=sys.stderr, flush=True)
    # The summary covers every result on disk, so running one benchmark keeps the others' figures.
    lines = [f"# Privet benchmarks ({platform.node()})", ""]
    for path in sorted(RESULTS.glob("*.json")):
        result = json.loads(path.read_text())
        lines += [
            f"## {path.stem} (measured {result.get('measured_at', '?')})",
            "",
            str(result.get("summary", "")),
            "",
        ]
    (RESULTS / "SUMMARY.md").write_text("\n".join(lines) + "\n")
    print((RESULTS / "SUMMARY.md").read_text())
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
