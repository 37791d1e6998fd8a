"""Alembic environment for Privet's state."""

from __future__ import annotations

from alembic import context

from privet.state.db import Base
from privet.state.registry import load_all
from privet.stores.sql import make_engine

load_all()
config = context.config
target_metadata = Base.metadata


def run() -> None:
    url = config.get_main_option("sqlalchemy.url")
    assert url
    engine = make_engine(url)
    with engine.connect() as conn:
        context.configure(connection=conn, target_metadata=target_metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


run()
