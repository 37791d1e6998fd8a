"""The demo SaaS schema: a freelancer marketplace with call tracking and chat, multi-tenant."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa


def _expression_indexes(
    ddl: Any,
    target: Any,
    bind: Any,
    tables: Any = None,
    state: Any = None,
    *,
    dialect: Any,
    compiler: Any = None,
    checkfirst: bool = False,
) -> bool:
    return bool(dialect.name in ("postgresql", "sqlite"))


def _lower_index(name: str, column: str) -> sa.Index:
    """Addresses are looked up case-insensitively (lower()); MariaDB has no index on an expression."""
    return sa.Index(name, sa.func.lower(sa.column(column))).ddl_if(callable_=_expression_indexes)


def demo_metadata() -> sa.MetaData:
    md = sa.MetaData()
    s = sa.String
    sa.Table(
        "tenants",
        md,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", s(100)),
        sa.Column("country", s(2)),
    )
    sa.Table(
        "users",
        md,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("tenant_id", sa.Integer, sa.ForeignKey("tenants.id"), nullable=False, index=True),
        sa.Column("role", s(20), nullable=False),
        sa.Column("email", s(200), nullable=False, index=True),
        sa.Column("phone", s(40), index=True),
        sa.Column("first_name", s(80)),
        sa.Column("last_name", s(80)),
        sa.Column("last_login_ip", s(45)),
        sa.Column("avatar_path", s(200)),
        sa.Column("marketing_opt_in", sa.Boolean, nullable=False, default=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
        _lower_index("ix_users_email_lower", "email"),
    )
    sa.Table(
        "agents",
        md,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("tenant_id", sa.Integer, sa.ForeignKey("tenants.id"), nullable=False, index=True),
        sa.Column("full_name", s(120)),
        sa.Column("work_email", s(200), index=True),
        sa.Column("created_at", sa.DateTime, nullable=False),
        _lower_index("ix_agents_work_email_lower", "work_email"),
    )
    sa.Table(
        "projects",
        md,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("tenant_id", sa.Integer, sa.ForeignKey("tenants.id"), nullable=False, index=True),
        sa.Column("client_id", sa.Integer, sa.ForeignKey("users.id"), nullable=True, index=True),
        sa.Column("freelancer_id", sa.Integer, sa.ForeignKey("users.id"), nullable=True, index=True),
        sa.Column("title", s(200)),
        sa.Column("budget", sa.Numeric(12, 2)),
        sa.Column("created_at", sa.DateTime, nullable=False),
    )
    sa.Table(
        "invoices",
        md,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("tenant_id", sa.Integer, sa.ForeignKey("tenants.id"), nullable=False, index=True),
        sa.Column("freelancer_id", sa.Integer, sa.ForeignKey("users.id"), nullable=False, index=True),
        sa.Column("project_id", sa.Integer, sa.ForeignKey("projects.id"), nullable=True, index=True),
        sa.Column("number", s(30), nullable=False),
        sa.Column("issued_on", sa.Date, nullable=False),
        sa.Column("amount", sa.Numeric(12, 2), nullable=False),
        sa.Column("currency", s(3), nullable=False),
        sa.Column("freelancer_name", s(160)),
        sa.Column("billing_address", s(300)),
        sa.Column("vat_id", s(30)),
        sa.Column("contact_email", s(200)),
        # Erasure's verification pass looks the person's address up here, case-insensitively.
        _lower_index("ix_invoices_contact_email_lower", "contact_email"),
    )
    sa.Table(
        "invoice_lines",
        md,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("invoice_id", sa.Integer, sa.ForeignKey("invoices.id"), nullable=False, index=True),
        sa.Column("description", s(200)),
        sa.Column("quantity", sa.Integer),
        sa.Column("unit_price", sa.Numeric(12, 2)),
    )
    sa.Table(
        "messages",
        md,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("tenant_id", sa.Integer, sa.ForeignKey("tenants.id"), nullable=False, index=True),
        sa.Column("sender_id", sa.Integer, sa.ForeignKey("users.id"), nullable=True, index=True),
        sa.Column("recipient_id", sa.Integer, sa.ForeignKey("users.id"), nullable=True, index=True),
        sa.Column("body", sa.Text),
        sa.Column("sent_at", sa.DateTime, nullable=False),
    )
    sa.Table(
        "calls",
        md,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("tenant_id", sa.Integer, sa.ForeignKey("tenants.id"), nullable=False, index=True),
        sa.Column("caller_number", s(40), index=True),
        sa.Column("caller_ip", s(45)),
        sa.Column("device_type", s(20)),
        sa.Column("duration_s", sa.Integer),
        sa.Column("recording_path", s(200)),
        sa.Column("started_at", sa.DateTime, nullable=False, index=True),
    )
    sa.Table(
        "sms_messages",
        md,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("tenant_id", sa.Integer, sa.ForeignKey("tenants.id"), nullable=False, index=True),
        sa.Column("from_number", s(40), index=True),
        sa.Column("body", sa.Text),
        sa.Column("received_at", sa.DateTime, nullable=False, index=True),
    )
    sa.Table(
        "form_submissions",
        md,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("tenant_id", sa.Integer, sa.ForeignKey("tenants.id"), nullable=False, index=True),
        sa.Column("email", s(200), index=True),
        sa.Column("payload", sa.JSON),
        sa.Column("submitted_at", sa.DateTime, nullable=False),
        _lower_index("ix_form_submissions_email_lower", "email"),
    )
    sa.Table(
        "page_views",
        md,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("tenant_id", sa.Integer, sa.ForeignKey("tenants.id"), nullable=False, index=True),
        sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id"), nullable=True, index=True),
        sa.Column("ip", s(45)),
        sa.Column("user_agent", s(300)),
        sa.Column("url", s(500)),
        sa.Column("country", s(60)),
        sa.Column("city", s(80)),
        sa.Column("viewed_at", sa.DateTime, nullable=False, index=True),
    )
    sa.Table(
        "notification_preferences",
        md,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id"), nullable=False, index=True),
        sa.Column("notification_type", s(50), nullable=False),
        sa.Column("enabled", sa.Boolean, nullable=False),
    )
    sa.Table(
        "support_tickets",
        md,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("tenant_id", sa.Integer, sa.ForeignKey("tenants.id"), nullable=False, index=True),
        sa.Column("customer_id", sa.Integer, sa.ForeignKey("users.id"), nullable=True, index=True),
        sa.Column("agent_id", sa.Integer, sa.ForeignKey("agents.id"), nullable=True, index=True),
        sa.Column("subject", s(200)),
        sa.Column("body", sa.Text),
        sa.Column("created_at", sa.DateTime, nullable=False),
    )
    return md


# The personal columns of the demo schema and their categories: the ground truth for discovery.
EXPECTED_COLUMNS: dict[tuple[str, str], str] = {
    ("users", "email"): "user.contact.email",
    ("users", "phone"): "user.contact.phone_number",
    ("users", "first_name"): "user.name.first",
    ("users", "last_name"): "user.name.last",
    ("users", "last_login_ip"): "user.device.ip_address",
    ("users", "avatar_path"): "user.media.image",
    ("agents", "full_name"): "user.name",
    ("agents", "work_email"): "user.contact.email",
    ("invoices", "freelancer_name"): "user.name",
    ("invoices", "billing_address"): "user.contact.address",
    ("invoices", "vat_id"): "user.government_id.tax_id",
    ("invoices", "contact_email"): "user.contact.email",
    ("messages", "body"): "user.content.private",
    ("calls", "caller_number"): "user.contact.phone_number",
    ("calls", "caller_ip"): "user.device.ip_address",
    ("calls", "recording_path"): "user.media.voice",
    ("sms_messages", "from_number"): "user.contact.phone_number",
    ("sms_messages", "body"): "user.content.private",
    ("form_submissions", "email"): "user.contact.email",
    ("form_submissions", "payload"): "user.content.private",
    ("page_views", "ip"): "user.device.ip_address",
    ("page_views", "user_agent"): "user.device.user_agent",
    ("page_views", "url"): "user.behavior.browsing_history",
    ("page_views", "city"): "user.contact.address.city",
    ("support_tickets", "body"): "user.content.private",
    ("support_tickets", "subject"): "user.content.private",
}
