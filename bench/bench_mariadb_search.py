"""MariaDB's token indexes of free text (``privet.requests.tokenindex``): access and erasure of one
person on the demo schema in MariaDB with the indexes against the same data without them (the
searches then read every text, once per person), what building them takes, and what their
triggers cost the application's writes.

Two databases are filled alike (``PRIVET_BENCH_MARIADB_USERS`` users, default 20,000, about
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

from bench.bench_sqlite_search import ACCESSES, ERASURES, _requests, compared, inserts_us
from privet.demo import build_demo
from privet.demo.generator import demo_text_indexes
from privet.demo.schema import demo_metadata
from privet.requests import tokenindex
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


def _indexes(url: str, create: bool) -> float:
    """Create (or drop) the token indexes of the demo's free-text columns; seconds taken."""
    md = demo_metadata()
    engine = make_engine(url)
    started = time.perf_counter()
    with engine.connect() as conn:
        for text in demo_text_indexes(md):
            index = tokenindex.indexable(md.tables[text.table], text.column)
            assert index is not None
            for sql in index.drop_statements():
                conn.exec_driver_sql(sql)
            if create:
                tokenindex.create(conn, index)
    engine.dispose()
    return time.perf_counter() - started


def run() -> dict[str, Any]:
    work = Path(tempfile.mkdtemp(prefix="privet-bench-mariadb-"))
    names = {"with": "privet_bench_tokens", "without": "privet_bench_plain"}
    try:
        urls = {variant: _database(name) for variant, name in names.items()}
        started = time.perf_counter()
        for variant, url in urls.items():
            build_demo(url, users=USERS, files_dir=work / f"files-{variant}")
        built = time.perf_counter() - started
        _indexes(urls["without"], create=False)
        creation = _indexes(urls["with"], create=True)
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
        inserts = inserts_us(urls)
    finally:
        for name in names.values():
            _drop(name)
        shutil.rmtree(work, ignore_errors=True)
    fields, told = compared(results["with"], results["without"], inserts)
    return {
        "name": "mariadb_search",
        "users": USERS,
        "messages": messages,
        "erasures": len(emails),
        "build_s": round(built, 1),
        "index_creation_s": round(creation, 2),
        **fields,
        "summary": (
            f"MariaDB demo, {USERS:,} users ({messages:,} messages), medians of {ACCESSES} exports and "
            f"{len(emails)} erasures: with the token indexes {told}; building the indexes took {creation:.1f} s"
        ),
    }
