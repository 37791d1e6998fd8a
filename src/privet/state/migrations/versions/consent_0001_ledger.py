"""consent: the append-only ledger, its projection, preferences

Revision ID: consent_0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "consent_0001"
down_revision = None
branch_labels = ("consent",)
depends_on = None

TZ = sa.DateTime(timezone=True)
MESSAGE = "privet_consent_events is append-only: record a new decision instead"


def upgrade() -> None:
    op.create_table(
        "privet_consent_events",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("subject", sa.String(64), nullable=False),
        sa.Column("tenant", sa.String(200), nullable=False),
        sa.Column("purpose", sa.String(100), nullable=False),
        sa.Column("granted", sa.Boolean, nullable=False),
        sa.Column("notice_version", sa.String(50), nullable=True),
        sa.Column("source", sa.String(50), nullable=False),
        sa.Column("at", TZ, nullable=False),
        sa.Column("ip", sa.String(45), nullable=True),
        sa.Column("user_agent", sa.String(300), nullable=True),
    )
    op.create_index("ix_privet_consent_events_subject", "privet_consent_events", ["subject"])
    op.create_index("ix_privet_consent_events_purpose", "privet_consent_events", ["purpose"])
    op.create_table(
        "privet_consent_state",
        sa.Column("subject", sa.String(64), primary_key=True),
        sa.Column("tenant", sa.String(200), primary_key=True),
        sa.Column("purpose", sa.String(100), primary_key=True),
        sa.Column("granted", sa.Boolean, nullable=False),
        sa.Column("notice_version", sa.String(50), nullable=True),
        sa.Column("since", TZ, nullable=False),
        sa.Column("event_id", sa.Integer, nullable=False),
    )
    op.create_table(
        "privet_consent_prefs",
        sa.Column("subject", sa.String(64), primary_key=True),
        sa.Column("tenant", sa.String(200), primary_key=True),
        sa.Column("notification", sa.String(100), primary_key=True),
        sa.Column("enabled", sa.Boolean, nullable=False),
        sa.Column("at", TZ, nullable=False),
    )
    # The database itself refuses to rewrite history.
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.execute(
            "CREATE FUNCTION privet_consent_immutable() RETURNS trigger AS $$ BEGIN "
            f"RAISE EXCEPTION '{MESSAGE}'; END; $$ LANGUAGE plpgsql"
        )
        op.execute(
            "CREATE TRIGGER privet_consent_no_update BEFORE UPDATE ON privet_consent_events "
            "FOR EACH ROW EXECUTE FUNCTION privet_consent_immutable()"
        )
    elif dialect == "sqlite":
        op.execute(
            "CREATE TRIGGER privet_consent_no_update BEFORE UPDATE ON privet_consent_events "
            f"BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END"
        )
    elif dialect in ("mysql", "mariadb"):
        op.execute(
            "CREATE TRIGGER privet_consent_no_update BEFORE UPDATE ON privet_consent_events "
            f"FOR EACH ROW SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = '{MESSAGE}'"
        )


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS privet_consent_no_update ON privet_consent_events")
        op.execute("DROP FUNCTION IF EXISTS privet_consent_immutable()")
    else:
        op.execute("DROP TRIGGER IF EXISTS privet_consent_no_update")
    for name in ("privet_consent_prefs", "privet_consent_state", "privet_consent_events"):
        op.drop_table(name)
