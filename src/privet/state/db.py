"""The state database: engine, sessions and migrations."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, ClassVar

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

from privet.stores.sql import make_engine

MIGRATIONS = Path(__file__).with_name("migrations")


class Base(DeclarativeBase):
    """Declarative base of every table in Privet's state."""

    type_annotation_map: ClassVar[dict[Any, Any]] = {dt.datetime: sa.DateTime(timezone=True)}


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _alembic_config(url: str) -> object:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def migrate(url: str) -> None:
    """Bring the state database at ``url`` to the newest schema (every branch)."""
    from alembic import command

    if url.startswith("sqlite:///"):
        path = url.removeprefix("sqlite:///")
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
    command.upgrade(_alembic_config(url), "heads")  # type: ignore[arg-type]


def downgrade(url: str, target: str = "base") -> None:
    """Undo migrations down to ``target`` (default: an empty database)."""
    from alembic import command

    command.downgrade(_alembic_config(url), target)  # type: ignore[arg-type]


class StateDB:
    """An engine and a session factory for Privet's state."""

    def __init__(self, url: str, engine: Engine | None = None) -> None:
        self.url = url
        self.engine = engine or make_engine(url)
        if self.engine.dialect.name == "sqlite" and engine is None:
            sa.event.listen(self.engine, "connect", _state_pragmas)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session in a transaction: committed on success, rolled back on error."""
        with self._sessions.begin() as s:
            yield s

    def dispose(self) -> None:
        self.engine.dispose()


def _state_pragmas(dbapi_conn: Any, _record: Any) -> None:
    """Privet's own SQLite state in WAL mode: readers never wait for the writer, and a commit is
    one append to the log (synchronous=NORMAL: durable across a crash of Privet, not across a
    power cut in the same instant; use PostgreSQL state where that matters)."""
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.close()


def open_state(url: str, *, upgrade: bool = True) -> StateDB:
    """Open (and by default migrate) the state database."""
    if upgrade:
        migrate(url)
    return StateDB(url)
