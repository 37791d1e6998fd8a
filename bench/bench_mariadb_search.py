"""MariaDB's search indexes (``privet map index``: the token indexes of free text,
``privet.requests.tokenindex``, and the number indexes of phone columns,
``privet.requests.phoneindex``): access and erasure of one person on the demo schema in MariaDB
with the indexes against the same data without them (the searches then read every text and every
number, once per person) and against the token indexes alone, what building them takes, and what
their triggers cost the application's writes.

Three databases are filled alike (``PRIVET_BENCH_MARIADB_USERS`` users, default 20,000, about
540,000 rows, the same seed); the same people are exported and erased in both, and every erasure
must verify clean."""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from bench.bench_sqlite_search import ACCESSES, ERASURES, _requests, call_insert_us, compared, inserts_us
from privet.demo import build_demo
from privet.demo.generator import demo_phone_columns
from privet.demo.schema import demo_metadata
from privet.discovery import discover
from privet.requests import phoneindex, tokenindex
from privet.requests.indexing import search_indexes
from privet.stores import make_engine

USERS = int(os.environ.get("PRIVET_BENCH_MARIADB_USERS", "20000"))
ADMIN = os.environ.get("PRIVET_BENCH_MARIADB", "mysql+pymysql://root@127.0.0.1:3306/test")


def _database(name: str) -> str:
    admin = sa.create_engine(ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {name}")
        conn.exec_driver_sql(f"CREATE DATABASE {name} CHARACTER SET utf8mb4")
    admin.dispose()
    return sa.engine.make_url(ADMIN).set(database=name).render_as_string(hide_password=False)


def _drop(name: str) -> None:
    admin = sa.create_engine(ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {name}")
    admin.dispose()


def _drop_phones(url: str) -> None:
    """The number indexes of the demo's phone columns dropped (tables and triggers)."""
    engine = make_engine(url)
    md = demo_metadata()
    with engine.connect() as conn:
        for table_name, column in demo_phone_columns():
            numbers = phoneindex.indexable(md.tables[table_name], column)
            assert numbers is not None
            for sql in numbers.drop_statements():
                conn.exec_driver_sql(sql)
        found = tokenindex.catalog(conn)
    engine.dispose()
    assert found.tables and not found.phones and found.why is None, found


def _indexes(url: str, files: Path, variant: str) -> float:
    """The demo database as ``variant`` has it: ``with`` every index ``privet map index`` creates
    for the demo's map (as the demo comes; its phone columns' number indexes dropped and created
    again by ``privet map index``, timed), ``tokens`` the token indexes alone, ``without`` none.
    Seconds taken to create the number indexes."""
    _drop_phones(url)
    if variant == "tokens":
        return 0.0
    dm = discover([url], files_root=str(files)).datamap
    started = time.perf_counter()
    done = search_indexes(dm, drop=variant == "without")
    took = time.perf_counter() - started
    assert {a.action for a in done if a.kind == "phones"} == {"created" if variant == "with" else "dropped"}
    assert {a.action for a in done if a.kind == "tokens"} == {"current" if variant == "with" else "dropped"}
    return took


def run() -> dict[str, Any]:
    work = Path(tempfile.mkdtemp(prefix="privet-bench-mariadb-"))
    names = {"with": "privet_bench_indexed", "tokens": "privet_bench_tokens", "without": "privet_bench_plain"}
    try:
        urls = {variant: _database(name) for variant, name in names.items()}
        started = time.perf_counter()
        for variant, url in urls.items():
            build_demo(url, users=USERS, files_dir=work / f"files-{variant}")
        built = time.perf_counter() - started
        creation = _indexes(urls["with"], work / "files-with", "with")
        for variant in ("tokens", "without"):
            _indexes(urls[variant], work / f"files-{variant}", variant)
        engine = make_engine(urls["with"])
        with engine.connect() as conn:
            emails = [
                r[0] for r in conn.execute(sa.text("SELECT email FROM users WHERE id % 97 = 5 ORDER BY id"))
            ]
            messages = conn.exec_driver_sql("SELECT count(*) FROM messages").scalar_one()
        engine.dispose()
        emails = emails[:ERASURES]
        results = {}
        for variant, url in urls.items():
            results[variant] = _requests(url, work / f"files-{variant}", work / f"home-{variant}", emails)
        inserts = inserts_us({k: urls[k] for k in ("with", "without")})
        calls_us = {variant: call_insert_us(url) for variant, url in urls.items()}
    finally:
        for name in names.values():
            _drop(name)
        shutil.rmtree(work, ignore_errors=True)
    fields, told = compared(results["with"], results["without"], inserts)
    tokens = results["tokens"]
    phones_ratio = round(results["with"]["erase_transaction_ms"] / tokens["erase_transaction_ms"], 3)
    return {
        "name": "mariadb_search",
        "users": USERS,
        "messages": messages,
        "erasures": len(emails),
        "build_s": round(built, 1),
        "index_creation_s": round(creation, 2),
        **fields,
        "token_indexes_only": tokens,
        "erase_transaction_ratio_to_token_indexes_only": phones_ratio,
        "call_insert_us": calls_us,
        "summary": (
            f"MariaDB demo, {USERS:,} users ({messages:,} messages), medians of {ACCESSES} exports and "
            f"{len(emails)} erasures: with the indexes of `privet map index` (free text and phone columns) "
            f"{told}; building the number indexes took {creation:.1f} s. The number indexes alone (against a "
            f"database with the token indexes only): an export {results['with']['access_ms']} ms against "
            f"{tokens['access_ms']} ms, an erasure's transaction {results['with']['erase_transaction_ms']} ms "
            f"against {tokens['erase_transaction_ms']} ms (ratio {phones_ratio}), its verification "
            f"{results['with'].get('erase_verification_ms')} against {tokens.get('erase_verification_ms')} ms; "
            f"a call with a number written by the application costs {calls_us['with']} us with their "
            f"triggers against {calls_us['tokens']} us without"
        ),
    }
