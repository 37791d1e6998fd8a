"""Privet's own state: SQLAlchemy 2 models on SQLite (default) or PostgreSQL, Alembic migrations.

Each domain package declares its tables on :data:`Base.metadata` in a
``models.py`` of its own and ships an Alembic migration on a branch named after
it; :func:`migrate` brings every branch to its head.
"""

from privet.state.db import Base, StateDB, downgrade, migrate, open_state

__all__ = ["Base", "StateDB", "downgrade", "migrate", "open_state"]
