"""The consent check in process against a dict lookup, and rebuilding the projection from the ledger.

PRIVET_BENCH_EVENTS ledger events (default 1,000,000; set 10,000,000 to scale) over 50,000 people and two
purposes are written to a SQLite state database; the in-process check runs over
a warm cache (the steady state of an app asking before every send) and is timed
against a plain dict lookup of the same keys in the same run.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa

from privet.consent import ConsentService
from privet.consent.models import ConsentEvent
from privet.datamap import parse_map
from privet.identity import Identity
from privet.state import open_state

MAP = """
version: 1
stores: {}
purposes:
  marketing_email: {notices: [{version: "1"}]}
  product_news: {notices: [{version: "1"}]}
"""


def _rest(home: Path, sample: list[tuple[Identity, str]], clients: int = 4) -> dict[str, Any]:
    """``privet serve`` in its own process over the same state; bounded load from a few threads."""
    (home / "privet.yaml").write_text(MAP)
    (home / "secret.key").write_text(bytes(range(32)).hex() + "\n")
    env = {
        **os.environ,
        "PRIVET_HOME": str(home),
        "PRIVET_MAP": str(home / "privet.yaml"),
        "PRIVET_STATE_URL": f"sqlite:///{home / 'state.db'}",
        "PRIVET_SECRET_FILE": str(home / "secret.key"),
    }
    key = subprocess.run(
        [sys.executable, "-m", "privet.cli.main", "keys", "create", "--operator", "--json"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    token = json.loads(key.stdout)["key"]
    port = 18765
    server = subprocess.Popen(
        [sys.executable, "-m", "privet.cli.main", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                if httpx.get(f"{base}/healthz", timeout=0.5).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        latencies: list[float] = []

        def worker(part: list[tuple[Identity, str]]) -> None:
            with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}) as client:
                for who, purpose in part:
                    t = time.perf_counter()
                    r = client.get(
                        "/v1/consents/check", params={"subject": f"email:{who.value}", "purpose": purpose}
                    )
                    latencies.append(time.perf_counter() - t)
                    assert r.status_code == 200

        worker(sample)  # warm the server's cache once: the steady state of an app asking before each send
        # Latency: one client, one request at a time (what a sender waiting on the answer sees).
        latencies.clear()
        worker(sample)
        single = sorted(latencies)
        # The floor: the same client against /healthz (no auth, no consent), so the ratio shows our share.
        floor: list[float] = []
        with httpx.Client(base_url=base) as client:
            for _ in sample:
                t = time.perf_counter()
                client.get("/healthz")
                floor.append(time.perf_counter() - t)
        floor.sort()
        # Throughput: a few concurrent clients (on 2 shared cores they mostly queue behind each other).
        latencies.clear()
        parts = [sample[i::clients] for i in range(clients)]
        started = time.perf_counter()
        threads = [threading.Thread(target=worker, args=(p,)) for p in parts]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        wall = time.perf_counter() - started
    finally:
        server.terminate()
        server.wait(timeout=10)
    latencies.sort()
    return {
        "requests": len(single),
        "p50_ms": round(statistics.median(single) * 1000, 2),
        "p99_ms": round(single[int(len(single) * 0.99) - 1] * 1000, 2),
        "healthz_p50_ms": round(statistics.median(floor) * 1000, 2),
        "healthz_p99_ms": round(floor[int(len(floor) * 0.99) - 1] * 1000, 2),
        "concurrency": clients,
        "concurrent_p50_ms": round(statistics.median(latencies) * 1000, 2),
        "concurrent_p99_ms": round(latencies[int(len(latencies) * 0.99) - 1] * 1000, 2),
        "per_s": round(len(latencies) / wall),
    }


def run() -> dict[str, Any]:
    n_events = int(os.environ.get("PRIVET_BENCH_EVENTS", "1000000"))
    people = 50_000
    home = Path(tempfile.mkdtemp())
    db = open_state(f"sqlite:///{home / 'state.db'}")
    svc = ConsentService(db, parse_map(MAP), bytes(range(32)), cache_seconds=3600)
    rng = random.Random(3)
    ids = [Identity("email", f"p{i}@example.com") for i in range(people)]
    purposes = ["marketing_email", "product_news"]
    t = time.perf_counter()
    rows = []
    start = dt.datetime(2024, 1, 1)
    for i in range(n_events):
        who = ids[rng.randrange(people)]
        rows.append(
            {
                "subject": svc.digest(who),
                "tenant": "",
                "purpose": purposes[i % 2],
                "granted": rng.random() < 0.6,
                "notice_version": "1",
                "source": "import",
                "at": start + dt.timedelta(seconds=i),
            }
        )
        if len(rows) == 20_000:
            with db.session() as s:
                s.execute(sa.insert(ConsentEvent), rows)
            rows = []
    if rows:
        with db.session() as s:
            s.execute(sa.insert(ConsentEvent), rows)
    load_s = time.perf_counter() - t
    t = time.perf_counter()
    svc.rebuild_projection()
    rebuild_s = time.perf_counter() - t
    sample = [(ids[rng.randrange(people)], purposes[rng.randrange(2)]) for _ in range(20_000)]
    for who, purpose in sample:  # warm the cache, as a running app would
        svc.check(who, purpose)
    loops = 10
    t = time.perf_counter()
    for _ in range(loops):
        for who, purpose in sample:
            svc.check(who, purpose)
    check_rate = loops * len(sample) / (time.perf_counter() - t)
    plain = {(who, purpose): True for who, purpose in sample}
    t = time.perf_counter()
    for _ in range(loops):
        for who, purpose in sample:
            plain.get((who, purpose))
    dict_rate = loops * len(sample) / (time.perf_counter() - t)
    svc.cache_seconds = 0
    t = time.perf_counter()
    for who, purpose in sample[:2000]:
        svc.check(who, purpose)
    cold_rate = 2000 / (time.perf_counter() - t)
    db.dispose()
    try:
        rest = _rest(home, sample[:2000])
    finally:
        shutil.rmtree(home, ignore_errors=True)
    out = {
        "name": "consent",
        "events": n_events,
        "people": people,
        "check_per_s": round(check_rate),
        "dict_per_s": round(dict_rate),
        "ratio_to_dict": round(check_rate / dict_rate, 3),
        "uncached_check_per_s": round(cold_rate),
        "rebuild_s": round(rebuild_s, 2),
        "load_s": round(load_s, 2),
        "rest": rest,
    }
    out["summary"] = (
        f"in-process check (warm cache): {check_rate:,.0f}/s vs dict lookup {dict_rate:,.0f}/s "
        f"(ratio {out['ratio_to_dict']}; goal >= 200,000/s)\n"
        f"uncached check (reads the projection in SQLite): {cold_rate:,.0f}/s\n"
        f"projection rebuilt from {n_events:,} ledger events in {rebuild_s:.2f} s "
        f"({n_events / rebuild_s:,.0f} events/s; 10M events extrapolate to {1e7 / (n_events / rebuild_s) / 60:.1f} min)\n"
        f"REST GET /v1/consents/check on loopback (uvicorn, own process), {rest['requests']} requests "
        f"one at a time: p50 {rest['p50_ms']} ms, p99 {rest['p99_ms']} ms (goal p99 < 5 ms)\n"
        f"  reference GET /healthz, same client: p50 {rest['healthz_p50_ms']} ms, p99 {rest['healthz_p99_ms']} ms "
        f"(check/healthz p50 ratio {rest['p50_ms'] / rest['healthz_p50_ms']:.1f})\n"
        f"  {rest['concurrency']} concurrent clients: p50 {rest['concurrent_p50_ms']} ms, "
        f"p99 {rest['concurrent_p99_ms']} ms, {rest['per_s']:,.0f} requests/s"
    )
    return out
