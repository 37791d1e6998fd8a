"""SQLite's search indexes (``privet map index``: the full-text indexes of free text,
``privet.requests.textindex``, and the indexes of phone columns on the reversed tail of their
digits, ``privet.requests.phoneindex.TailIndex``): access and erasure of one person on the SQLite
demo with the indexes against the same database without them (the searches then read every text
and every number) and against the full-text indexes alone, what building the phone columns'
indexes takes, and what the indexes cost the application's writes.

The demo has ``PRIVET_BENCH_SQLITE_USERS`` users (default 20,000, about 540,000 rows); the same
people are exported and erased on the three copies, and every erasure must verify clean."""

from __future__ import annotations

import os
import shutil
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from privet.demo import build_demo
from privet.demo.generator import demo_phone_columns, demo_text_indexes
from privet.demo.schema import demo_metadata
from privet.discovery import discover
from privet.requests import access, erase
from privet.requests.indexing import search_indexes
from privet.requests.phoneindex import TailIndex
from privet.requests.textindex import TextIndex
from privet.settings import Settings
from privet.stores import Stores, make_engine

USERS = int(os.environ.get("PRIVET_BENCH_SQLITE_USERS", "20000"))
ERASURES = 40
ACCESSES = 20
INSERTS = 2000


def _drop_indexes(url: str, *, text: bool = True) -> None:
    """The database without the indexes of its phone columns, and (``text``) without the search
    indexes of free text: their triggers and tables dropped."""
    engine = make_engine(url)
    dropped: list[TextIndex | TailIndex] = [TailIndex(*key) for key in demo_phone_columns()]
    if text:
        dropped += demo_text_indexes(demo_metadata())
    with engine.begin() as conn:
        for index in dropped:
            for sql in index.drop_statements():
                conn.exec_driver_sql(sql)
        left = conn.exec_driver_sql(
            "SELECT count(*) FROM sqlite_master WHERE name LIKE 'privet%'"
            + ("" if text else " AND name NOT LIKE 'privet_text_%' AND name NOT LIKE 'privet_numbers_%'")
        ).scalar()
        assert left == 0, f"{left} objects of the indexes left"
    engine.dispose()


def _phone_indexes_s(url: str, files: Path) -> float:
    """Seconds ``privet map index`` takes to create the phone columns' indexes (the others current)."""
    _drop_indexes(url, text=False)
    done = search_indexes(discover([url], files_root=str(files)).datamap)
    assert {a.action for a in done if a.kind == "fts5"} == {"current"}, done
    phones = [a for a in done if a.kind == "phones"]
    assert {a.action for a in phones} == {"created"} and len(phones) == len(demo_phone_columns()), done
    return sum(a.seconds for a in phones)


def _requests(url: str, files: Path, home: Path, emails: list[str]) -> dict[str, Any]:
    dm = discover([url], files_root=str(files)).datamap
    home.mkdir(parents=True, exist_ok=True)
    settings = Settings(home=home, map=home / "privet.yaml")
    stores = Stores(dm)
    accesses: list[float] = []
    phases: dict[str, list[float]] = {}
    try:
        for email in emails[:ACCESSES]:
            started = time.perf_counter()
            access(dm, settings, f"email={email}", out=home / "export.zip", stores=stores)
            accesses.append((time.perf_counter() - started) * 1000)
        for email in emails:
            result = erase(dm, settings, f"email={email}", stores=stores)
            if not result.verified:
                raise AssertionError(f"{email}: erasure left {result.leftovers}")
            for phase, ms in result.timings.items():
                phases.setdefault(phase, []).append(ms)
    finally:
        stores.close()
    out = {"access_ms": round(statistics.median(accesses), 2)}
    out |= {f"erase_{k}_ms": round(statistics.median(v), 2) for k, v in phases.items()}
    return out


# Messages the application writes: one with a number and an address, one without digits (which
# the numbers' index does not take).
WITH_NUMBER = "Hi, call me at +49 176 5550 1234 or write to someone@example.org about the invoice."
WITHOUT_DIGITS = "Hi, thanks for the draft. I will look at it tonight and write back about the invoice."


def _insert_us(url: str, body: str) -> float:
    """Microseconds per message written by the application (one transaction of ``INSERTS``)."""
    engine = make_engine(url)
    with engine.begin() as conn:
        first = conn.exec_driver_sql("SELECT max(id) FROM messages").scalar_one() + 1
        row = conn.exec_driver_sql("SELECT tenant_id, sender_id, recipient_id, sent_at FROM messages").first()
        assert row is not None
        rows = [
            {
                "id": first + n,
                "t": row[0],
                "s": row[1],
                "r": row[2],
                "at": row[3],
                "b": body,
            }
            for n in range(INSERTS)
        ]
        started = time.perf_counter()
        conn.execute(
            sa.text(
                "INSERT INTO messages (id, tenant_id, sender_id, recipient_id, sent_at, body) "
                "VALUES (:id, :t, :s, :r, :at, :b)"
            ),
            rows,
        )
        took = time.perf_counter() - started
    engine.dispose()
    return round(took / INSERTS * 1e6, 1)


def call_insert_us(url: str) -> float:
    """Microseconds per call with a number written by the application (one transaction of
    ``INSERTS``): what the indexes of its phone column cost its writes."""
    engine = make_engine(url)
    with engine.begin() as conn:
        first = conn.exec_driver_sql("SELECT max(id) FROM calls").scalar_one() + 1
        tenant, at = conn.exec_driver_sql("SELECT min(tenant_id), max(started_at) FROM calls").one()
        rows = [
            {"id": first + n, "t": tenant, "c": f"+49 176 {5550000 + n}", "at": at} for n in range(INSERTS)
        ]
        started = time.perf_counter()
        conn.execute(
            sa.text("INSERT INTO calls (id, tenant_id, caller_number, started_at) VALUES (:id, :t, :c, :at)"),
            rows,
        )
        took = time.perf_counter() - started
    engine.dispose()
    return round(took / INSERTS * 1e6, 1)


def inserts_us(urls: dict[str, str]) -> dict[tuple[str, str], float]:
    """``_insert_us`` of both messages in each database (``with`` and ``without`` the indexes)."""
    return {
        (variant, kind): _insert_us(url, body)
        for variant, url in urls.items()
        for kind, body in (("number", WITH_NUMBER), ("no_digits", WITHOUT_DIGITS))
    }


def compared(
    with_ix: dict[str, Any], without: dict[str, Any], inserts: dict[tuple[str, str], float]
) -> tuple[dict[str, Any], str]:
    """The result fields both search benchmarks report, and the middle of their summary."""
    access_ratio = round(with_ix["access_ms"] / without["access_ms"], 3)
    erase_ratio = round(with_ix["erase_transaction_ms"] / without["erase_transaction_ms"], 3)
    fields = {
        "with_indexes": with_ix,
        "without_indexes": without,
        "access_ratio": access_ratio,
        "erase_transaction_ratio": erase_ratio,
        "insert_us": {f"{kind}_{variant}_indexes": us for (variant, kind), us in inserts.items()},
    }
    told = (
        f"an export took {with_ix['access_ms']} ms against {without['access_ms']} ms reading every text "
        f"(ratio {access_ratio}); an erasure's transaction {with_ix['erase_transaction_ms']} ms against "
        f"{without['erase_transaction_ms']} ms (ratio {erase_ratio}; mention pass "
        f"{with_ix.get('erase_mentions_ms')} vs {without.get('erase_mentions_ms')}, verification "
        f"{with_ix.get('erase_verification_ms')} vs {without.get('erase_verification_ms')}); a message "
        f"written by the application costs {inserts['with', 'number']} us with the indexes' triggers "
        f"against {inserts['without', 'number']} us without ({inserts['with', 'no_digits']} against "
        f"{inserts['without', 'no_digits']} without digits)"
    )
    return fields, told


def run() -> dict[str, Any]:
    work = Path(tempfile.mkdtemp(prefix="privet-bench-sqlite-"))
    try:
        source, files = work / "demo.db", work / "files"
        build_demo(f"sqlite:///{source}", users=USERS, files_dir=files)
        urls = {variant: f"sqlite:///{work / variant}.db" for variant in ("with", "text", "without")}
        for url in urls.values():
            shutil.copy(source, sa.engine.make_url(url).database or "")
        # As the demo comes: every index. The phone columns' indexes dropped and created again
        # (timed), then dropped on the copy with the full-text indexes alone, and all on the last.
        creation = _phone_indexes_s(urls["with"], files)
        _drop_indexes(urls["text"], text=False)
        _drop_indexes(urls["without"])
        engine = make_engine(f"sqlite:///{source}")
        with engine.connect() as conn:
            emails = [
                r[0] for r in conn.execute(sa.text("SELECT email FROM users WHERE id % 97 = 5 ORDER BY id"))
            ]
            rows = sum(
                conn.exec_driver_sql(f'SELECT count(*) FROM "{t}"').scalar_one()
                for (t,) in conn.exec_driver_sql(
                    "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'privet_%' "
                    "AND name NOT LIKE 'sqlite_%'"
                )
            )
        engine.dispose()
        emails = emails[:ERASURES]
        results = {
            variant: _requests(url, files, work / f"home-{variant}", emails) for variant, url in urls.items()
        }
        inserts = inserts_us({k: urls[k] for k in ("with", "without")})
        calls_us = {variant: call_insert_us(urls[variant]) for variant in ("with", "text")}
    finally:
        shutil.rmtree(work, ignore_errors=True)
    fields, told = compared(results["with"], results["without"], inserts)
    text = results["text"]
    phones_ratio = round(results["with"]["erase_transaction_ms"] / text["erase_transaction_ms"], 3)
    return {
        "name": "sqlite_search",
        "users": USERS,
        "rows": rows,
        "erasures": len(emails),
        "phone_index_creation_s": round(creation, 2),
        **fields,
        "text_indexes_only": text,
        "erase_transaction_ratio_to_text_indexes_only": phones_ratio,
        "call_insert_us": calls_us,
        "summary": (
            f"SQLite demo, {USERS:,} users ({rows:,} rows), medians of {ACCESSES} exports and {len(emails)} "
            f"erasures: with the indexes of `privet map index` (free text and phone columns) {told}. "
            f"The phone columns' indexes alone (against a copy with the full-text indexes only): an export "
            f"{results['with']['access_ms']} ms against {text['access_ms']} ms, an erasure's transaction "
            f"{results['with']['erase_transaction_ms']} ms against {text['erase_transaction_ms']} ms (ratio "
            f"{phones_ratio}), its verification {results['with'].get('erase_verification_ms')} against "
            f"{text.get('erase_verification_ms')} ms; building them took {creation:.2f} s, and a call with a "
            f"number written by the application costs {calls_us['with']} us with the index against "
            f"{calls_us['text']} us without"
        ),
    }
