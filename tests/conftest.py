"""Fixtures shared by every test: real databases, real SMTP, isolated settings."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from privet.settings import Settings
from tests.support.databases import KINDS, fresh_database
from tests.support.smtp import Mailbox, smtp_server


@pytest.fixture(params=KINDS)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh empty database on SQLite, PostgreSQL and MariaDB in turn."""
    with fresh_database(request.param, tmp_path) as url:
        yield url


@pytest.fixture(params=("sqlite", "postgresql"))
def state_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh database for Privet's own state on SQLite and PostgreSQL in turn."""
    with fresh_database(request.param, tmp_path) as url:
        yield url


@pytest.fixture
def sqlite_url(tmp_path: Path) -> Iterator[str]:
    with fresh_database("sqlite", tmp_path) as url:
        yield url


@pytest.fixture
def pg_url(tmp_path: Path) -> Iterator[str]:
    with fresh_database("postgresql", tmp_path) as url:
        yield url


@pytest.fixture
def mariadb_url(tmp_path: Path) -> Iterator[str]:
    with fresh_database("mariadb", tmp_path) as url:
        yield url


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Settings confined to a temporary folder (state on SQLite there, mail to the outbox)."""
    home = tmp_path / ".privet"
    return Settings(home=home, map=tmp_path / "privet.yaml")


@pytest.fixture
def mailbox() -> Iterator[Mailbox]:
    with smtp_server() as box:
        yield box
