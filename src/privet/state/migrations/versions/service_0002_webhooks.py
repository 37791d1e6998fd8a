"""service: webhooks for recipients (Art. 19) and their delivery log

Revision ID: service_0002
Revises: service_0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "service_0002"
down_revision = "service_0001"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "privet_svc_webhooks",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("tenant", sa.String(200), nullable=False),
        sa.Column("url", sa.String(500), nullable=False),
        sa.Column("secret", sa.String(100), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
    )
    op.create_index("ix_privet_svc_webhooks_tenant", "privet_svc_webhooks", ["tenant"])
    op.create_table(
        "privet_svc_deliveries",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("webhook_id", sa.Integer, nullable=False),
        sa.Column("request_id", sa.String(36), nullable=False),
        sa.Column("event", sa.String(50), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("last_error", sa.String(500), nullable=True),
        sa.Column("at", TZ, nullable=False),
    )
    op.create_index("ix_privet_svc_deliveries_webhook_id", "privet_svc_deliveries", ["webhook_id"])


def downgrade() -> None:
    op.drop_table("privet_svc_deliveries")
    op.drop_table("privet_svc_webhooks")
