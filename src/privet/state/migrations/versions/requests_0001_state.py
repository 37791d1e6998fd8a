"""requests: held rows, file journal, certificates, restrictions

Revision ID: requests_0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "requests_0001"
down_revision = None
branch_labels = ("requests",)
depends_on = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "privet_req_held",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("certificate", sa.String(36), nullable=False),
        sa.Column("subject_digest", sa.String(64), nullable=False),
        sa.Column("store", sa.String(100), nullable=False),
        sa.Column("table_name", sa.String(200), nullable=False),
        sa.Column("row_key", sa.String(200), nullable=False),
        sa.Column("columns", sa.Text, nullable=False),
        sa.Column("basis", sa.String(100), nullable=False),
        sa.Column("until", sa.Date, nullable=False),
        sa.Column("purged_at", TZ, nullable=True),
    )
    op.create_index("ix_privet_req_held_certificate", "privet_req_held", ["certificate"])
    op.create_index("ix_privet_req_held_subject_digest", "privet_req_held", ["subject_digest"])
    op.create_index("ix_privet_req_held_until", "privet_req_held", ["until"])
    op.create_table(
        "privet_req_files",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("certificate", sa.String(36), nullable=False),
        sa.Column("store", sa.String(100), nullable=False),
        sa.Column("source", sa.String(300), nullable=False),
        sa.Column("ref", sa.String(1000), nullable=False),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("at", TZ, nullable=False),
    )
    op.create_index("ix_privet_req_files_certificate", "privet_req_files", ["certificate"])
    op.create_index("ix_privet_req_files_state", "privet_req_files", ["state"])
    op.create_table(
        "privet_req_certificates",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("subject_digest", sa.String(64), nullable=False),
        sa.Column("at", TZ, nullable=False),
        sa.Column("summary", sa.Text, nullable=False),
        sa.Column("verified", sa.Boolean, nullable=False),
    )
    op.create_index(
        "ix_privet_req_certificates_subject_digest", "privet_req_certificates", ["subject_digest"]
    )
    op.create_table(
        "privet_req_restrictions",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("subject_digest", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("reason", sa.String(500), nullable=False),
        sa.Column("at", TZ, nullable=False),
        sa.Column("lifted_at", TZ, nullable=True),
    )
    op.create_index(
        "ix_privet_req_restrictions_subject_digest", "privet_req_restrictions", ["subject_digest"]
    )


def downgrade() -> None:
    for name in ("privet_req_restrictions", "privet_req_certificates", "privet_req_files", "privet_req_held"):
        op.drop_table(name)
