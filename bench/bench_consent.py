"""The consent check in process against a dict lookup, and rebuilding the projection from the ledger.

PRIVET_BENCH_EVENTS ledger events (default 200,000) over 50,000 people and two
purposes are written to a SQLite state database; the in-process check runs over
a warm cache (the steady state of an app asking before every send) and is timed
against a plain dict lookup of the same keys in the same run.
"""

from __future__ import annotations

import datetime as dt
import os
import random
import tempfile
import time
from pathlib import Path
from typing import Any

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


def run() -> dict[str, Any]:
    n_events = int(os.environ.get("PRIVET_BENCH_EVENTS", "200000"))
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
    }
    out["summary"] = (
        f"in-process check (warm cache): {check_rate:,.0f}/s vs dict lookup {dict_rate:,.0f}/s "
        f"(ratio {out['ratio_to_dict']}; goal >= 200,000/s)\n"
        f"uncached check (reads the projection in SQLite): {cold_rate:,.0f}/s\n"
        f"projection rebuilt from {n_events:,} ledger events in {rebuild_s:.2f} s "
        f"({n_events / rebuild_s:,.0f} events/s; 10M events extrapolate to {1e7 / (n_events / rebuild_s) / 60:.1f} min)\n"
        "REST p99 not measured: the REST API (issue 5) is not built yet"
    )
    return out
