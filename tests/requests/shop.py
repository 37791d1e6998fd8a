"""A small shop schema written for the request tests, with its map written by hand.

Multi-hop paths (order_items -> orders -> users), a NOT NULL foreign key from a
legal-hold table (invoices) into the root, a table linked by value only (calls,
by phone, with recordings in a file store), free text mentioning other people
(messages) and a row shared by two people (projects).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from privet.datamap import DataMap, parse_map

METADATA = sa.MetaData()
USERS = sa.Table(
    "users",
    METADATA,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("tenant_id", sa.Integer, nullable=False),
    sa.Column("email", sa.String(200), nullable=False),
    sa.Column("phone", sa.String(40)),
    sa.Column("name", sa.String(100)),
    sa.Column("ip", sa.String(45)),
)
ORDERS = sa.Table(
    "orders",
    METADATA,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id"), nullable=False),
    sa.Column("ship_to", sa.String(200)),
)
ITEMS = sa.Table(
    "order_items",
    METADATA,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("order_id", sa.Integer, sa.ForeignKey("orders.id"), nullable=False),
    sa.Column("sku", sa.String(20)),
)
INVOICES = sa.Table(
    "invoices",
    METADATA,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id"), nullable=False),
    sa.Column("issued_on", sa.Date, nullable=False),
    sa.Column("amount", sa.Numeric(10, 2), nullable=False),
    sa.Column("party_name", sa.String(100)),
    sa.Column("party_email", sa.String(200)),
)
CALLS = sa.Table(
    "calls",
    METADATA,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("caller_number", sa.String(40)),
    sa.Column("recording", sa.String(200)),
)
MESSAGES = sa.Table(
    "messages",
    METADATA,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("author_id", sa.Integer, sa.ForeignKey("users.id"), nullable=True),
    sa.Column("body", sa.String(500)),
)
# The same table with a rule the database enforces against redaction: a way to make a store fail
# half-way through an erasure, after its deletions ran.
GUARD = sa.CheckConstraint("body NOT LIKE '%[redacted]%'", name="no_redaction")
PROJECTS = sa.Table(
    "projects",
    METADATA,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("client_id", sa.Integer, sa.ForeignKey("users.id"), nullable=True),
    sa.Column("freelancer_id", sa.Integer, sa.ForeignKey("users.id"), nullable=True),
    sa.Column("client_note", sa.String(200)),
    sa.Column("title", sa.String(100)),
)

MAP = """\
version: 1
default_region: DE
stores:
  shop: {url: "${SHOP_URL}"}
  rec: {files: "${REC_DIR}"}
subjects:
  customer:
    root: shop.users
    identities: {email: email, phone: phone, id: id}
tables:
  shop.users:
    subject: customer
    tenant_column: tenant_id
    columns:
      email: {category: contact.email}
      phone: {category: contact.phone_number}
      name: {category: name}
      ip: {category: device.ip_address}
  shop.orders:
    subject: customer
    path: user_id -> shop.users
    columns:
      ship_to: {category: contact.address}
  shop.order_items:
    subject: customer
    path: order_id -> shop.orders.user_id -> shop.users
  shop.invoices:
    subject: customer
    path: user_id -> shop.users
    legal_hold: {basis: accounting, years: 8, from: issued_on, retain: [party_name]}
    columns:
      party_name: {category: name}
      party_email: {category: contact.email}
  shop.calls:
    subject: customer
    match: {caller_number: phone}
    columns:
      caller_number: {category: contact.phone_number}
      recording: {category: media.voice, file_store: rec, on_erase: delete_file}
  shop.messages:
    subject: customer
    path: author_id -> shop.users
    columns:
      body: {category: content.private}
  shop.projects:
    subject: customer
    path: [client_id -> shop.users, freelancer_id -> shop.users]
    columns:
      client_note: {category: content.private, belongs_to: client_id}
"""


def shop_map(url: str, rec_dir: Path) -> DataMap:
    return parse_map(MAP, env={"SHOP_URL": url, "REC_DIR": str(rec_dir)})


def build_shop(url: str, rec_dir: Path, *, guard_messages: bool = False) -> None:
    """Anna (1), Bob (2) and Carl (3), with everything the erasure semantics talk about."""
    engine = sa.create_engine(url)
    METADATA.drop_all(engine)
    if guard_messages:
        MESSAGES.append_constraint(GUARD)
    try:
        METADATA.create_all(engine)
    finally:
        if guard_messages:
            MESSAGES.constraints.discard(GUARD)
    rec_dir.mkdir(parents=True, exist_ok=True)
    for name in ("a1.wav", "a2.wav", "b1.wav"):
        (rec_dir / name).write_bytes(b"RIFF" + name.encode())
    rows: list[tuple[sa.Table, list[dict[str, Any]]]] = [
        (
            USERS,
            [
                {
                    "id": 1,
                    "tenant_id": 1,
                    "email": "Anna@Example.com",
                    "phone": "0176 123 4567",
                    "name": "Anna Schmidt",
                    "ip": "203.0.113.7",
                },
                {
                    "id": 2,
                    "tenant_id": 1,
                    "email": "bob@example.com",
                    "phone": "+49 30 1234567",
                    "name": "Bob Meyer",
                    "ip": "203.0.113.8",
                },
                {
                    "id": 3,
                    "tenant_id": 2,
                    "email": "carl@example.org",
                    "phone": None,
                    "name": "Carl Weber",
                    "ip": None,
                },
            ],
        ),
        (
            ORDERS,
            [
                {"id": 10, "user_id": 1, "ship_to": "Hauptstraße 5, 10115 Berlin"},
                {"id": 11, "user_id": 1, "ship_to": "Hauptstraße 5, 10115 Berlin"},
                {"id": 12, "user_id": 2, "ship_to": "Gartenweg 2, 80331 München"},
            ],
        ),
        (
            ITEMS,
            [
                {"id": 100, "order_id": 10, "sku": "A"},
                {"id": 101, "order_id": 11, "sku": "B"},
                {"id": 102, "order_id": 12, "sku": "C"},
            ],
        ),
        (
            INVOICES,
            [
                {
                    "id": 20,
                    "user_id": 1,
                    "issued_on": dt.date(2024, 3, 1),
                    "amount": 99,
                    "party_name": "Anna Schmidt",
                    "party_email": "anna@example.com",
                },
                {
                    "id": 21,
                    "user_id": 2,
                    "issued_on": dt.date(2024, 4, 1),
                    "amount": 10,
                    "party_name": "Bob Meyer",
                    "party_email": "bob@example.com",
                },
            ],
        ),
        (
            CALLS,
            [
                {"id": 30, "caller_number": "+491761234567", "recording": "a1.wav"},
                {"id": 31, "caller_number": "0176-1234567", "recording": "a2.wav"},
                {"id": 32, "caller_number": "030 1234567", "recording": "b1.wav"},
            ],
        ),
        (
            MESSAGES,
            [
                {"id": 40, "author_id": 1, "body": "Hi, I am Anna. Call me on 0176 1234567."},
                {
                    "id": 41,
                    "author_id": 2,
                    "body": "Anna's mail is anna@example.com, her phone +49 176 1234567. Bye!",
                },
                {"id": 42, "author_id": 3, "body": "Nothing personal here, just the weather."},
            ],
        ),
        (
            PROJECTS,
            [
                {
                    "id": 50,
                    "client_id": 1,
                    "freelancer_id": 2,
                    "client_note": "Anna wants blue",
                    "title": "Logo",
                },
                {
                    "id": 51,
                    "client_id": 2,
                    "freelancer_id": 3,
                    "client_note": "Bob pays late",
                    "title": "Shop",
                },
                {"id": 52, "client_id": 1, "freelancer_id": None, "client_note": "draft", "title": "Draft"},
            ],
        ),
    ]
    with engine.begin() as conn:
        for table, data in rows:
            conn.execute(table.insert(), data)
    engine.dispose()


def snapshot(url: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, sorted: for byte-identical comparisons."""
    engine = sa.create_engine(url)
    out: dict[str, list[tuple[Any, ...]]] = {}
    with engine.connect() as conn:
        for table in METADATA.sorted_tables:
            out[table.name] = sorted(tuple(r) for r in conn.execute(sa.select(table)))
    engine.dispose()
    return out
