"""A retention sweep over a PostgreSQL calls table against one hand-written set-based UPDATE.

PRIVET_BENCH_ROWS calls (default 5,000,000), 40% older than the period. The
reference anonymizes the caller number, truncates the IP and clears the
recording path of every old row in one statement; Privet does the same work
through ``run_retention`` (batched, checkpointed). Both start from the same
freshly generated table; rows per second, the longest batch and WAL written are
reported, and a row-by-row ORM loop on a slice for contrast.
"""

from __future__ import annotations

import datetime as dt
import os
import tempfile
import time
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from privet.datamap import parse_map
from privet.retention import run_retention
from privet.settings import Settings
from privet.state import open_state

ADMIN = os.environ.get("PRIVET_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
DB = "privet_bench_retention"
NOW = dt.datetime(2026, 6, 1)
MAP = """
version: 1
stores: {app: {url: "%(url)s"}}
tables:
  app.calls: {tenant_column: tenant_id, columns: {caller_number: {category: contact.phone_number},
    caller_ip: {category: device.ip_address}}}
retention:
  - {table: app.calls, age_column: started_at, after: 90d,
     actions: {caller_number: anonymize, caller_ip: generalize, recording_path: "null"}}
"""
REFERENCE = """
UPDATE calls SET caller_number = 'anon-' || substr(md5(random()::text), 1, 10),
  caller_ip = host(set_masklen(caller_ip::inet, 24)::cidr), recording_path = NULL
WHERE started_at < :cutoff AND caller_number NOT LIKE 'anon-%%'
"""


def _fresh(url: str, rows: int) -> None:
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text("DROP TABLE IF EXISTS calls"))
        conn.execute(
            sa.text(
                "CREATE TABLE calls (id bigint PRIMARY KEY, tenant_id int NOT NULL, caller_number text, caller_ip text, "
                "recording_path text, duration_s int, started_at timestamp NOT NULL)"
            )
        )
        conn.execute(
            sa.text(
                "INSERT INTO calls SELECT g, g % 7, '+49176' || (1000000 + g % 8000000), "
                "'198.51.' || (g % 250) || '.' || (1 + g % 250), 'rec/' || g || '.wav', g % 900, "
                f"timestamp '{NOW.isoformat()}' - (g % 250) * interval '1 day' FROM generate_series(1, {rows}) g"
            )
        )
        conn.execute(sa.text("CREATE INDEX ON calls (started_at)"))
        conn.execute(sa.text("CREATE INDEX ON calls (caller_number)"))
    with engine.connect() as conn:
        conn = conn.execution_options(isolation_level="AUTOCOMMIT")
        conn.execute(sa.text("VACUUM ANALYZE calls"))
        # Both runs start with the table's build flushed, so neither pays for the other's writes.
        conn.execute(sa.text("CHECKPOINT"))
    engine.dispose()


def _wal(engine: sa.Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(sa.text("SELECT pg_current_wal_lsn() - '0/0'::pg_lsn")).scalar_one())


def run() -> dict[str, Any]:
    rows = int(os.environ.get("PRIVET_BENCH_ROWS", "5000000"))
    admin = sa.create_engine(ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f"DROP DATABASE IF EXISTS {DB} WITH (FORCE)"))
        conn.execute(sa.text(f"CREATE DATABASE {DB}"))
    admin.dispose()
    url = sa.engine.make_url(ADMIN).set(database=DB).render_as_string(hide_password=False)
    engine = sa.create_engine(url)
    cutoff = NOW - dt.timedelta(days=90)

    _fresh(url, rows)
    wal0 = _wal(engine)
    t = time.perf_counter()
    with engine.begin() as conn:
        ref_rows = conn.execute(sa.text(REFERENCE), {"cutoff": cutoff}).rowcount
    ref_s = time.perf_counter() - t
    ref_wal = _wal(engine) - wal0

    _fresh(url, rows)
    settings = Settings(home=Path(tempfile.mkdtemp()) / ".privet")
    state = open_state(settings.resolved_state_url)
    dm = parse_map(MAP % {"url": url})
    wal0 = _wal(engine)
    t = time.perf_counter()
    # Privet's own VACUUM (ANALYZE) after the sweep is timed apart (the reference has none).
    settings = settings.model_copy(update={"retention_vacuum_rows": 10**12})
    report = run_retention(dm, settings, now=NOW, state=state)
    lib_s = time.perf_counter() - t
    lib_wal = _wal(engine) - wal0
    rule = report.rules[0]
    t = time.perf_counter()
    with engine.connect() as conn:
        conn.execution_options(isolation_level="AUTOCOMMIT").execute(sa.text("VACUUM (ANALYZE) calls"))
    vacuum_s = time.perf_counter() - t

    # Contrast: the ORM, one row at a time, on a slice of 2,000 old rows.
    md = sa.MetaData()
    calls = sa.Table("calls", md, autoload_with=engine)
    with engine.connect() as conn:
        ids = [
            r[0]
            for r in conn.execute(
                sa.text("SELECT id FROM calls WHERE started_at < :c ORDER BY id LIMIT 2000"), {"c": cutoff}
            )
        ]
    t = time.perf_counter()
    with Session(engine) as s:
        for i in ids:
            row = s.execute(sa.select(calls).where(calls.c.id == i)).one()
            s.execute(sa.update(calls).where(calls.c.id == row.id).values(caller_ip="0.0.0.0"))
            s.commit()
    orm_rate = len(ids) / (time.perf_counter() - t)
    engine.dispose()
    state.dispose()

    ref_rate, lib_rate = ref_rows / ref_s, rule.rows / lib_s
    out = {
        "name": "retention",
        "rows": rows,
        "old_rows": ref_rows,
        "reference": {
            "seconds": round(ref_s, 2),
            "rows_per_s": round(ref_rate),
            "wal_mb": round(ref_wal / 1e6, 1),
            "longest_lock_s": round(ref_s, 2),
        },
        "privet": {
            "seconds": round(lib_s, 2),
            "rows_per_s": round(lib_rate),
            "wal_mb": round(lib_wal / 1e6, 1),
            "batches": rule.batches,
            "longest_batch_s": rule.longest_batch_s,
            "rows": rule.rows,
            "indexes_rewritten": rule.indexes,
            "vacuum_after_s": round(vacuum_s, 2),
        },
        "ratio": round(lib_rate / ref_rate, 2),
        "orm_row_by_row_rows_per_s": round(orm_rate),
        "advice": report.advice,
    }
    out["summary"] = (
        f"PostgreSQL calls table, {rows:,} rows, {ref_rows:,} older than 90 days "
        "(anonymize number, truncate IP, clear recording):\n"
        f"reference one UPDATE: {ref_rate:,.0f} rows/s, one lock for {ref_s:.2f} s, WAL {ref_wal / 1e6:.0f} MB\n"
        f"Privet: {lib_rate:,.0f} rows/s in {rule.batches} batches, longest {rule.longest_batch_s:.3f} s "
        f"(goal < 0.5 s), WAL {lib_wal / 1e6:.0f} MB -> ratio {out['ratio']} (goal >= 0.8)\n"
        f"indexes rewritten: {'; '.join(rule.indexes) or 'none'}; VACUUM (ANALYZE) afterwards {vacuum_s:.1f} s\n"
        f"row-by-row ORM: {orm_rate:,.0f} rows/s"
    )
    return out
