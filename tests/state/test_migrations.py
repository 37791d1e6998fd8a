"""Migrations go up and down on SQLite and PostgreSQL, and match the models exactly."""

from __future__ import annotations

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from privet.state import Base, downgrade, migrate
from privet.state.registry import load_all
from privet.stores import make_engine


def _tables(url: str) -> set[str]:
    engine = make_engine(url)
    try:
        return {t for t in sa.inspect(engine).get_table_names() if t.startswith("privet_")}
    finally:
        engine.dispose()


def test_when_migrated_up_then_down_then_up_then_schema_is_whole_each_time(state_url: str) -> None:
    load_all()
    expected = {t.name for t in Base.metadata.sorted_tables}
    migrate(state_url)
    assert _tables(state_url) == expected
    downgrade(state_url)
    assert _tables(state_url) == set()
    migrate(state_url)
    assert _tables(state_url) == expected


def test_when_migrated_then_models_and_migrations_agree(state_url: str) -> None:
    load_all()
    migrate(state_url)
    engine = make_engine(state_url)
    with engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": False})
        diff = compare_metadata(ctx, Base.metadata)
    engine.dispose()
    assert diff == []


def test_when_migrated_twice_then_nothing_changes(state_url: str) -> None:
    migrate(state_url)
    migrate(state_url)
    load_all()
    assert _tables(state_url) == {t.name for t in Base.metadata.sorted_tables}
