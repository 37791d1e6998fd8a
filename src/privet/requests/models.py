"""Request state: held (restricted) values, the file journal, certificates, restrictions."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from privet.state.db import Base


class HeldRow(Base):
    """A row kept under a legal hold after an erasure: restricted until ``until``, then purged."""

    __tablename__ = "privet_req_held"

    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=True)
    certificate: Mapped[str] = mapped_column(sa.String(36), index=True)
    subject_digest: Mapped[str] = mapped_column(sa.String(64), index=True)
    store: Mapped[str] = mapped_column(sa.String(100))
    table_name: Mapped[str] = mapped_column(sa.String(200))
    row_key: Mapped[str] = mapped_column(sa.String(200))
    columns: Mapped[str] = mapped_column(sa.Text)
    basis: Mapped[str] = mapped_column(sa.String(100))
    until: Mapped[dt.date] = mapped_column(sa.Date, index=True)
    purged_at: Mapped[dt.datetime | None] = mapped_column(sa.DateTime(timezone=True), nullable=True)


class FileJournal(Base):
    """Files to delete once the database change that orphaned them has committed."""

    __tablename__ = "privet_req_files"

    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=True)
    certificate: Mapped[str] = mapped_column(sa.String(36), index=True)
    store: Mapped[str] = mapped_column(sa.String(100))
    source: Mapped[str] = mapped_column(sa.String(300))  # store.table.column that named the file
    ref: Mapped[str] = mapped_column(sa.String(1000))
    state: Mapped[str] = mapped_column(sa.String(20), index=True)  # pending, committed, done
    at: Mapped[dt.datetime] = mapped_column(sa.DateTime(timezone=True))


class Certificate(Base):
    """Proof of a completed erasure: counts, no personal data."""

    __tablename__ = "privet_req_certificates"

    id: Mapped[str] = mapped_column(sa.String(36), primary_key=True)
    subject_digest: Mapped[str] = mapped_column(sa.String(64), index=True)
    at: Mapped[dt.datetime] = mapped_column(sa.DateTime(timezone=True))
    summary: Mapped[str] = mapped_column(sa.Text)
    verified: Mapped[bool] = mapped_column(sa.Boolean)


class Restriction(Base):
    """Art. 18: processing of this subject is restricted (or an objection is recorded)."""

    __tablename__ = "privet_req_restrictions"

    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=True)
    subject_digest: Mapped[str] = mapped_column(sa.String(64), index=True)
    kind: Mapped[str] = mapped_column(sa.String(20))  # restriction, objection
    reason: Mapped[str] = mapped_column(sa.String(500))
    at: Mapped[dt.datetime] = mapped_column(sa.DateTime(timezone=True))
    lifted_at: Mapped[dt.datetime | None] = mapped_column(sa.DateTime(timezone=True), nullable=True)
