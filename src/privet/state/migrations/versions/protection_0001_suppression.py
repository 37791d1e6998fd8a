"""protection: the suppression list

Revision ID: protection_0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "protection_0001"
down_revision = None
branch_labels = ("protection",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "privet_suppression",
        sa.Column("digest", sa.String(64), primary_key=True),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("reason", sa.String(50), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("privet_suppression")
