"""service: a contact address per tenant for deadline reminders; verification code resends

Revision ID: service_0003
Revises: service_0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "service_0003"
down_revision = "service_0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("privet_svc_tenants") as batch:
        batch.add_column(sa.Column("contact_email", sa.String(320), nullable=True))
    with op.batch_alter_table("privet_svc_requests") as batch:
        batch.add_column(sa.Column("resends", sa.Integer, nullable=False, server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("privet_svc_requests") as batch:
        batch.drop_column("resends")
    with op.batch_alter_table("privet_svc_tenants") as batch:
        batch.drop_column("contact_email")
