"""The audit log table."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from privet.state.db import Base


class AuditEntry(Base):
    __tablename__ = "privet_audit"

    seq: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=True)
    at: Mapped[dt.datetime] = mapped_column(sa.DateTime(timezone=True))
    actor: Mapped[str] = mapped_column(sa.String(200))
    action: Mapped[str] = mapped_column(sa.String(100))
    tenant: Mapped[str | None] = mapped_column(sa.String(200), nullable=True)
    target: Mapped[str | None] = mapped_column(sa.String(300), nullable=True, index=True)
    details: Mapped[str] = mapped_column(sa.Text)
    prev_hash: Mapped[str] = mapped_column(sa.String(64))
    hash: Mapped[str] = mapped_column(sa.String(64))
