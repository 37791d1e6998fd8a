"""retention: overrides, checkpoints, runs

Revision ID: retention_0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "retention_0001"
down_revision = None
branch_labels = ("retention",)
depends_on = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "privet_ret_overrides",
        sa.Column("tenant", sa.String(200), primary_key=True),
        sa.Column("table_ref", sa.String(300), primary_key=True),
        sa.Column("after_days", sa.Integer, nullable=False),
        sa.Column("at", TZ, nullable=False),
    )
    op.create_table(
        "privet_ret_checkpoints",
        sa.Column("rule", sa.String(300), primary_key=True),
        sa.Column("cutoff", sa.String(40), nullable=False),
        sa.Column("last_key", sa.String(100), nullable=False),
    )
    op.create_table(
        "privet_ret_runs",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("at", TZ, nullable=False),
        sa.Column("now", TZ, nullable=False),
        sa.Column("dry_run", sa.Boolean, nullable=False),
        sa.Column("report", sa.Text, nullable=False),
    )


def downgrade() -> None:
    for name in ("privet_ret_runs", "privet_ret_checkpoints", "privet_ret_overrides"):
        op.drop_table(name)
