"""The consent ledger (append-only), its projection of current decisions, and preferences."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from privet.state.db import Base


class ConsentEvent(Base):
    """One decision, never changed afterwards; only an erasure of the person removes it."""

    __tablename__ = "privet_consent_events"

    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=True)
    subject: Mapped[str] = mapped_column(sa.String(64), index=True)  # keyed hash of the identity
    tenant: Mapped[str] = mapped_column(sa.String(200))
    purpose: Mapped[str] = mapped_column(sa.String(100), index=True)
    granted: Mapped[bool] = mapped_column(sa.Boolean)
    notice_version: Mapped[str | None] = mapped_column(sa.String(50), nullable=True)
    source: Mapped[str] = mapped_column(sa.String(50))
    at: Mapped[dt.datetime] = mapped_column(sa.DateTime(timezone=True))
    ip: Mapped[str | None] = mapped_column(sa.String(45), nullable=True)
    user_agent: Mapped[str | None] = mapped_column(sa.String(300), nullable=True)


class ConsentState(Base):
    """The current decision per person, tenant and purpose: a projection of the ledger."""

    __tablename__ = "privet_consent_state"

    subject: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    tenant: Mapped[str] = mapped_column(sa.String(200), primary_key=True)
    purpose: Mapped[str] = mapped_column(sa.String(100), primary_key=True)
    granted: Mapped[bool] = mapped_column(sa.Boolean)
    notice_version: Mapped[str | None] = mapped_column(sa.String(50), nullable=True)
    since: Mapped[dt.datetime] = mapped_column(sa.DateTime(timezone=True))
    event_id: Mapped[int] = mapped_column(sa.Integer)


class Preference(Base):
    """A person's choice for one notification type."""

    __tablename__ = "privet_consent_prefs"

    subject: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    tenant: Mapped[str] = mapped_column(sa.String(200), primary_key=True)
    notification: Mapped[str] = mapped_column(sa.String(100), primary_key=True)
    enabled: Mapped[bool] = mapped_column(sa.Boolean)
    at: Mapped[dt.datetime] = mapped_column(sa.DateTime(timezone=True))
