"""Retention state: per-tenant periods, checkpoints of interrupted sweeps, reports of runs."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from privet.state.db import Base


class RetentionOverride(Base):
    """A controller's own period for one table (``privet retention set``)."""

    __tablename__ = "privet_ret_overrides"

    tenant: Mapped[str] = mapped_column(sa.String(200), primary_key=True)
    table_ref: Mapped[str] = mapped_column(sa.String(300), primary_key=True)
    after_days: Mapped[int] = mapped_column(sa.Integer)
    at: Mapped[dt.datetime] = mapped_column(sa.DateTime(timezone=True))


class RetentionCheckpoint(Base):
    """The last primary key a sweep finished, so a crashed sweep resumes where it stopped."""

    __tablename__ = "privet_ret_checkpoints"

    rule: Mapped[str] = mapped_column(sa.String(300), primary_key=True)
    cutoff: Mapped[str] = mapped_column(sa.String(40))
    last_key: Mapped[str] = mapped_column(sa.String(100))


class RetentionRun(Base):
    __tablename__ = "privet_ret_runs"

    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=True)
    at: Mapped[dt.datetime] = mapped_column(sa.DateTime(timezone=True))
    now: Mapped[dt.datetime] = mapped_column(sa.DateTime(timezone=True))
    dry_run: Mapped[bool] = mapped_column(sa.Boolean)
    report: Mapped[str] = mapped_column(sa.Text)
