"""Fresh, throw-away databases on the real servers of this machine, one per test.

Without PRIVET_REQUIRE_SERVICES=1 a server that is not running skips its tests
with the reason; with it, that is a failure.
"""

from __future__ import annotations

import functools
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import sqlalchemy as sa

PG_ADMIN = os.environ.get("PRIVET_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
MARIADB_ADMIN = os.environ.get("PRIVET_TEST_MARIADB", "mysql+pymysql://root@127.0.0.1:3306/test")
REQUIRE = os.environ.get("PRIVET_REQUIRE_SERVICES") == "1"
KINDS = ("sqlite", "postgresql", "mariadb")


@functools.cache
def server_problem(kind: str) -> str | None:
    """Why the server for ``kind`` cannot be used, or None when it answers."""
    if kind == "sqlite":
        return None
    url = PG_ADMIN if kind == "postgresql" else MARIADB_ADMIN
    engine = sa.create_engine(url, connect_args={"connect_timeout": 3})
    try:
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
    except Exception as exc:
        return f"{kind} server at {url} is not reachable: {str(exc).splitlines()[0]}"
    finally:
        engine.dispose()
    return None


def need(kind: str) -> None:
    problem = server_problem(kind)
    if problem:
        if REQUIRE:
            pytest.fail(f"PRIVET_REQUIRE_SERVICES=1 but {problem}")
        pytest.skip(problem)


@contextmanager
def fresh_database(kind: str, tmp_path: os.PathLike[str] | str) -> Iterator[str]:
    """A new empty database of ``kind``; yields its SQLAlchemy URL and drops it afterwards."""
    need(kind)
    name = f"privet_t_{uuid.uuid4().hex[:12]}"
    if kind == "sqlite":
        yield f"sqlite:///{os.path.join(str(tmp_path), name + '.db')}"
        return
    admin_url = PG_ADMIN if kind == "postgresql" else MARIADB_ADMIN
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f"CREATE DATABASE {name}"))
    url = sa.engine.make_url(admin_url).set(database=name)
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            if kind == "postgresql":
                conn.execute(sa.text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            else:
                conn.execute(sa.text(f"DROP DATABASE IF EXISTS {name}"))
        admin.dispose()


BROKERS = {
    "redis": os.environ.get("PRIVET_TEST_REDIS", "redis://127.0.0.1:6379/0"),
    "amqp": os.environ.get("PRIVET_TEST_AMQP", "amqp://guest:guest@127.0.0.1:5672//"),
}


def broker_url(kind: str) -> str:
    """The URL of the real Redis or RabbitMQ broker; skips (or fails when required) if it is down."""
    import socket
    from urllib.parse import urlparse

    url = BROKERS[kind]
    parsed = urlparse(url)
    try:
        with socket.create_connection((parsed.hostname or "127.0.0.1", parsed.port or 0), timeout=3):
            pass
    except OSError as exc:
        problem = f"{kind} broker at {url} is not reachable: {exc}"
        if REQUIRE:
            pytest.fail(f"PRIVET_REQUIRE_SERVICES=1 but {problem}")
        pytest.skip(problem)
    return url
