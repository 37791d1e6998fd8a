"""Service state: tenants (controllers), API keys, requests and their history."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from privet.state.db import Base


class Tenant(Base):
    __tablename__ = "privet_svc_tenants"

    id: Mapped[str] = mapped_column(sa.String(200), primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    sla_days: Mapped[int | None] = mapped_column(sa.Integer, nullable=True)
    auto_approve: Mapped[str] = mapped_column(sa.String(200), default="")  # comma-separated request types
    contact_email: Mapped[str | None] = mapped_column(sa.String(320), nullable=True)  # deadline reminders
    created_at: Mapped[dt.datetime] = mapped_column(sa.DateTime(timezone=True))


class ApiKey(Base):
    """Only the hash of a key is stored; the key itself is shown once."""

    __tablename__ = "privet_svc_keys"

    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=True)
    key_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    tenant: Mapped[str | None] = mapped_column(sa.String(200), nullable=True)
    operator: Mapped[bool] = mapped_column(sa.Boolean)
    created_at: Mapped[dt.datetime] = mapped_column(sa.DateTime(timezone=True))


class SubjectRequest(Base):
    __tablename__ = "privet_svc_requests"

    id: Mapped[str] = mapped_column(sa.String(36), primary_key=True)
    tenant: Mapped[str | None] = mapped_column(sa.String(200), nullable=True, index=True)
    type: Mapped[str] = mapped_column(sa.String(20))
    subject_sealed: Mapped[str] = mapped_column(sa.Text)  # the identity, encrypted at rest
    status: Mapped[str] = mapped_column(sa.String(20), index=True)
    received_at: Mapped[dt.datetime] = mapped_column(sa.DateTime(timezone=True))
    due_at: Mapped[dt.datetime] = mapped_column(sa.DateTime(timezone=True))
    sla_due_at: Mapped[dt.datetime | None] = mapped_column(sa.DateTime(timezone=True), nullable=True)
    code_hash: Mapped[str | None] = mapped_column(sa.String(64), nullable=True)
    code_expires: Mapped[dt.datetime | None] = mapped_column(sa.DateTime(timezone=True), nullable=True)
    attempts: Mapped[int] = mapped_column(sa.Integer, default=0)
    resends: Mapped[int] = mapped_column(sa.Integer, default=0, server_default="0")
    export_path: Mapped[str | None] = mapped_column(sa.String(500), nullable=True)
    export_expires: Mapped[dt.datetime | None] = mapped_column(sa.DateTime(timezone=True), nullable=True)
    result: Mapped[str | None] = mapped_column(sa.Text, nullable=True)


class RequestEvent(Base):
    __tablename__ = "privet_svc_request_events"

    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=True)
    request_id: Mapped[str] = mapped_column(sa.String(36), index=True)
    at: Mapped[dt.datetime] = mapped_column(sa.DateTime(timezone=True))
    actor: Mapped[str] = mapped_column(sa.String(200))
    status: Mapped[str] = mapped_column(sa.String(20))
    reason: Mapped[str | None] = mapped_column(sa.String(500), nullable=True)


class Webhook(Base):
    """A recipient (Art. 19) told when an erasure, rectification or restriction completes."""

    __tablename__ = "privet_svc_webhooks"

    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=True)
    tenant: Mapped[str] = mapped_column(sa.String(200), index=True)
    url: Mapped[str] = mapped_column(sa.String(500))
    secret: Mapped[str] = mapped_column(sa.String(100))
    created_at: Mapped[dt.datetime] = mapped_column(sa.DateTime(timezone=True))


class WebhookDelivery(Base):
    __tablename__ = "privet_svc_deliveries"

    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=True)
    webhook_id: Mapped[int] = mapped_column(sa.Integer, index=True)
    request_id: Mapped[str] = mapped_column(sa.String(36))
    event: Mapped[str] = mapped_column(sa.String(50))
    status: Mapped[str] = mapped_column(sa.String(20))  # delivered, failed
    attempts: Mapped[int] = mapped_column(sa.Integer)
    last_error: Mapped[str | None] = mapped_column(sa.String(500), nullable=True)
    at: Mapped[dt.datetime] = mapped_column(sa.DateTime(timezone=True))
