"""service: tenants, API keys, requests and their history

Revision ID: service_0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "service_0001"
down_revision = None
branch_labels = ("service",)
depends_on = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "privet_svc_tenants",
        sa.Column("id", sa.String(200), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("sla_days", sa.Integer, nullable=True),
        sa.Column("auto_approve", sa.String(200), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
    )
    op.create_table(
        "privet_svc_keys",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("key_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("tenant", sa.String(200), nullable=True),
        sa.Column("operator", sa.Boolean, nullable=False),
        sa.Column("created_at", TZ, nullable=False),
    )
    op.create_table(
        "privet_svc_requests",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("tenant", sa.String(200), nullable=True),
        sa.Column("type", sa.String(20), nullable=False),
        sa.Column("subject_sealed", sa.Text, nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("received_at", TZ, nullable=False),
        sa.Column("due_at", TZ, nullable=False),
        sa.Column("sla_due_at", TZ, nullable=True),
        sa.Column("code_hash", sa.String(64), nullable=True),
        sa.Column("code_expires", TZ, nullable=True),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("export_path", sa.String(500), nullable=True),
        sa.Column("export_expires", TZ, nullable=True),
        sa.Column("result", sa.Text, nullable=True),
    )
    op.create_index("ix_privet_svc_requests_tenant", "privet_svc_requests", ["tenant"])
    op.create_index("ix_privet_svc_requests_status", "privet_svc_requests", ["status"])
    op.create_table(
        "privet_svc_request_events",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("request_id", sa.String(36), nullable=False),
        sa.Column("at", TZ, nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("reason", sa.String(500), nullable=True),
    )
    op.create_index("ix_privet_svc_request_events_request_id", "privet_svc_request_events", ["request_id"])


def downgrade() -> None:
    for name in ("privet_svc_request_events", "privet_svc_requests", "privet_svc_keys", "privet_svc_tenants"):
        op.drop_table(name)
