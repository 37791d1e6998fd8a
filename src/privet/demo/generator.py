"""Fill the demo schema with realistic, deterministic data of any size."""

from __future__ import annotations

import datetime as dt
import json
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from privet.datamap import categories
from privet.demo.schema import EXPECTED_COLUMNS, demo_metadata
from privet.requests import phoneindex, tokenindex
from privet.requests.phoneindex import TailIndex
from privet.requests.textindex import TextIndex, indexable
from privet.requests.textindex import create as create_text_index
from privet.stores.sql import make_engine

FIRST = [
    "Anna",
    "Lukas",
    "Marie",
    "Jonas",
    "Sophie",
    "Paul",
    "Emma",
    "Leon",
    "Julia",
    "Felix",
    "Camille",
    "Hugo",
    "Chloé",
    "Louis",
    "Léa",
    "Jules",
    "Olivia",
    "Noah",
    "Amelia",
    "Oliver",
    "Lucía",
    "Mateo",
    "Giulia",
    "Lorenzo",
    "Sanne",
    "Daan",
    "Zofia",
    "Jakub",
]
LAST = [
    "Schmidt",
    "Müller",
    "Schneider",
    "Fischer",
    "Weber",
    "Meyer",
    "Wagner",
    "Becker",
    "Dubois",
    "Martin",
    "Bernard",
    "Moreau",
    "Laurent",
    "Smith",
    "Jones",
    "Taylor",
    "Brown",
    "García",
    "Fernández",
    "Rossi",
    "Russo",
    "Bakker",
    "Visser",
    "Nowak",
    "Kowalski",
    "Jansen",
    "Hoffmann",
]
STREETS = ("Hauptstraße", "Bahnhofstraße", "Gartenweg", "Lindenallee", "Schillerstraße", "Marktplatz")
CITIES = (
    ("10115", "Berlin"),
    ("80331", "München"),
    ("20095", "Hamburg"),
    ("50667", "Köln"),
    ("60311", "Frankfurt"),
)
DEVICES = ("mobile", "desktop", "tablet")
AGENTS = (
    "Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5) Safari/604.1",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/126.0",
)
PAGES = ("/pricing", "/projects", "/invoices", "/profile", "/search?q=designer", "/settings")


@dataclass
class DemoInfo:
    url: str
    users: int
    rows: dict[str, int] = field(default_factory=dict)
    files_dir: Path | None = None
    sample_email: str = ""
    sample_phone: str = ""

    @property
    def total_rows(self) -> int:
        return sum(self.rows.values())


def _phone(rng: random.Random) -> tuple[str, str]:
    """(E.164, as a person would type it) for a valid German mobile number."""
    prefix = rng.choice(("151", "160", "170", "176", "177"))
    rest = f"{rng.randrange(10**7):07d}" if prefix != "151" else f"{rng.randrange(10**8):08d}"
    e164 = f"+49{prefix}{rest}"
    typed = rng.choice(
        (f"0{prefix} {rest[:3]} {rest[3:]}", f"+49 {prefix} {rest}", e164, f"0{prefix}-{rest}")
    )
    return e164, typed


def _national(e164: str) -> str:
    return "0" + e164[3:6] + " " + e164[6:]


def demo_text_indexes(md: sa.MetaData) -> list[TextIndex]:
    """The SQLite search indexes of the demo's free-text columns (``privet.requests.textindex``)."""
    out = []
    for table_name, column in sorted(EXPECTED_COLUMNS):
        index = indexable(md.tables[table_name], column)
        if index is not None and categories.get(EXPECTED_COLUMNS[table_name, column]).free_text:
            out.append(index)
    return out


def demo_phone_columns() -> list[tuple[str, str]]:
    """The demo's phone columns (table, column), which ``privet map index`` gives a number index."""
    return [
        key for key in sorted(EXPECTED_COLUMNS) if categories.get(EXPECTED_COLUMNS[key]).identity == "phone"
    ]


def build_demo(
    url: str,
    *,
    users: int = 200,
    seed: int = 7,
    files_dir: Path | None = None,
    now: dt.datetime | None = None,
    tenants: int = 3,
) -> DemoInfo:
    """Create the demo schema at ``url`` (dropping an older demo there) and fill it."""
    rng = random.Random(seed)
    now = (now or dt.datetime.now()).replace(microsecond=0)
    md = demo_metadata()
    engine = make_engine(url)
    md.drop_all(engine)
    md.create_all(engine)
    info = DemoInfo(url=url, users=users, files_dir=files_dir)
    t = md.tables
    tenant_rows = [{"id": i, "name": f"Tenant {i}", "country": "DE"} for i in range(1, tenants + 1)]
    people: list[dict[str, Any]] = []
    for uid in range(1, users + 1):
        first, last = rng.choice(FIRST), rng.choice(LAST)
        e164, typed = _phone(rng)
        people.append(
            {
                "id": uid,
                "tenant_id": 1 + uid % tenants,
                "role": "freelancer" if uid % 2 else "client",
                "email": f"{first.lower()}.{last.lower()}{uid}@example.com".replace("é", "e")
                .replace("ü", "u")
                .replace("í", "i")
                .replace("á", "a"),
                "phone": typed,
                "first_name": first,
                "last_name": last,
                "last_login_ip": ".".join(str(rng.randrange(1, 223)) for _ in range(4)),
                "avatar_path": None,
                "marketing_opt_in": rng.random() < 0.3,
                "created_at": now - dt.timedelta(days=rng.randrange(30, 1100)),
                "_e164": e164,
            }
        )
    info.sample_email, info.sample_phone = people[0]["email"], people[0]["_e164"]
    agents = [
        {
            "id": i,
            "tenant_id": 1 + i % tenants,
            "full_name": f"{rng.choice(FIRST)} {rng.choice(LAST)}",
            "work_email": f"agent{i}@support.example.net",
            "created_at": now - dt.timedelta(days=900),
        }
        for i in range(1, max(2, users // 50) + 1)
    ]
    with engine.begin() as conn:
        conn.execute(t["tenants"].insert(), tenant_rows)
        _insert(conn, t["users"], ({k: v for k, v in p.items() if not k.startswith("_")} for p in people))
        conn.execute(t["agents"].insert(), agents)
        info.rows.update(tenants=len(tenant_rows), users=len(people), agents=len(agents))
        info.rows.update(_activity(conn, t, people, agents, rng, now, files_dir))
        if engine.dialect.name == "sqlite":
            # The search indexes `privet map index` creates there, so that mention searches,
            # lookups by number and erasure's verification look people up instead of reading
            # every text and every number.
            indexes: list[TextIndex | TailIndex] = [
                *demo_text_indexes(md),
                *(TailIndex(*key) for key in demo_phone_columns()),
            ]
            for index in indexes:
                create_text_index(conn, index)
    if engine.dialect.name in ("mysql", "mariadb"):
        # MariaDB's token indexes and number indexes (``privet map index``), each statement
        # committed by the server.
        with engine.connect() as conn:
            for text in demo_text_indexes(md):
                tokens = tokenindex.indexable(md.tables[text.table], text.column)
                if tokens is not None:
                    tokenindex.create(conn, tokens)
            for table_name, column in demo_phone_columns():
                numbers = phoneindex.indexable(md.tables[table_name], column)
                if numbers is not None:
                    tokenindex.create(conn, numbers)
    engine.dispose()
    return info


def _insert(
    conn: sa.Connection,
    table: sa.Table,
    rows: Iterator[dict[str, Any]] | list[dict[str, Any]],
    batch: int = 2000,
) -> int:
    buf: list[dict[str, Any]] = []
    n = 0
    for row in rows:
        buf.append(row)
        if len(buf) == batch:
            conn.execute(table.insert(), buf)
            n += len(buf)
            buf = []
    if buf:
        conn.execute(table.insert(), buf)
        n += len(buf)
    return n


def _activity(
    conn: sa.Connection,
    t: Any,
    people: list[dict[str, Any]],
    agents: list[dict[str, Any]],
    rng: random.Random,
    now: dt.datetime,
    files_dir: Path | None,
) -> dict[str, int]:
    clients = [p for p in people if p["role"] == "client"] or people
    freelancers = [p for p in people if p["role"] == "freelancer"] or people

    def ago(days: int) -> dt.datetime:
        return now - dt.timedelta(days=rng.randrange(days), seconds=rng.randrange(86400))

    projects: list[dict[str, Any]] = []
    invoices: list[dict[str, Any]] = []
    lines: list[dict[str, Any]] = []
    messages: list[dict[str, Any]] = []
    calls: list[dict[str, Any]] = []
    sms: list[dict[str, Any]] = []
    forms: list[dict[str, Any]] = []
    views: list[dict[str, Any]] = []
    prefs: list[dict[str, Any]] = []
    tickets: list[dict[str, Any]] = []
    for p in people:
        for kind in ("project_updates", "invoice_reminders", "newsletter"):
            prefs.append(
                {
                    "id": len(prefs) + 1,
                    "user_id": p["id"],
                    "notification_type": kind,
                    "enabled": kind != "newsletter" or p["marketing_opt_in"],
                }
            )
        for _ in range(8):
            views.append(
                {
                    "id": len(views) + 1,
                    "tenant_id": p["tenant_id"],
                    "user_id": p["id"],
                    "ip": p["last_login_ip"],
                    "user_agent": rng.choice(AGENTS),
                    "url": rng.choice(PAGES) + (f"?email={p['email']}" if rng.random() < 0.1 else ""),
                    "country": "Germany",
                    "city": rng.choice(CITIES)[1],
                    "viewed_at": ago(1000),
                }
            )
    for c in clients:
        for _ in range(2):
            f = rng.choice(freelancers)
            pid = len(projects) + 1
            projects.append(
                {
                    "id": pid,
                    "tenant_id": c["tenant_id"],
                    "client_id": c["id"],
                    "freelancer_id": f["id"],
                    "title": rng.choice(("Logo design", "Web shop", "Mobile app", "Translation")),
                    "budget": rng.randrange(500, 20000),
                    "created_at": ago(1000),
                }
            )
            for _ in range(3):
                other = rng.choice(people)
                mention = (
                    f" You can also reach {other['first_name']} at {other['email']}."
                    if rng.random() < 0.2
                    else ""
                )
                messages.append(
                    {
                        "id": len(messages) + 1,
                        "tenant_id": c["tenant_id"],
                        "sender_id": c["id"],
                        "recipient_id": f["id"],
                        "sent_at": ago(1000),
                        "body": f"Hi {f['first_name']}, any news? Call me on {c['phone']}.{mention}",
                    }
                )
            postcode, city = rng.choice(CITIES)
            for _ in range(2):
                iid = len(invoices) + 1
                issued = (now - dt.timedelta(days=rng.randrange(10, 3600))).date()
                invoices.append(
                    {
                        "id": iid,
                        "tenant_id": f["tenant_id"],
                        "freelancer_id": f["id"],
                        "project_id": pid,
                        "number": f"INV-{issued.year}-{iid:06d}",
                        "issued_on": issued,
                        "amount": rng.randrange(100, 9000),
                        "currency": "EUR",
                        "freelancer_name": f"{f['first_name']} {f['last_name']}",
                        "billing_address": f"{rng.choice(STREETS)} {rng.randrange(1, 120)}, {postcode} {city}",  # noqa: E501
                        "vat_id": f"DE{rng.randrange(10**8, 10**9)}",
                        "contact_email": f["email"],
                    }
                )
                for k in range(2):
                    lines.append(
                        {
                            "id": len(lines) + 1,
                            "invoice_id": iid,
                            "description": f"Work item {k + 1}",
                            "quantity": rng.randrange(1, 10),
                            "unit_price": rng.randrange(20, 200),
                        }
                    )
    for p in people:
        for _ in range(3):
            cid = len(calls) + 1
            number = rng.choice((p["_e164"], _national(p["_e164"]), p["phone"]))
            path = f"t{p['tenant_id']}/call-{cid}.wav"
            if files_dir is not None:
                target = files_dir / path
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(b"RIFF" + cid.to_bytes(4, "little") + b"WAVEfmt demo recording")
            calls.append(
                {
                    "id": cid,
                    "tenant_id": p["tenant_id"],
                    "caller_number": number,
                    "caller_ip": f"203.0.113.{rng.randrange(1, 255)}",
                    "device_type": rng.choice(DEVICES),
                    "duration_s": rng.randrange(5, 900),
                    "recording_path": path,
                    "started_at": ago(400),
                }
            )
        sms.append(
            {
                "id": len(sms) + 1,
                "tenant_id": p["tenant_id"],
                "from_number": p["_e164"],
                "body": f"Please call back, {p['first_name']} here",
                "received_at": ago(120),
            }
        )
        forms.append(
            {
                "id": len(forms) + 1,
                "tenant_id": p["tenant_id"],
                "email": p["email"].upper(),
                "payload": json.loads(
                    json.dumps(
                        {"name": f"{p['first_name']} {p['last_name']}", "message": "Please send me a quote"}
                    )
                ),
                "submitted_at": ago(700),
            }
        )
        if p["role"] == "client" and rng.random() < 0.3:
            a = rng.choice(agents)
            tickets.append(
                {
                    "id": len(tickets) + 1,
                    "tenant_id": p["tenant_id"],
                    "customer_id": p["id"],
                    "agent_id": a["id"],
                    "subject": f"Invoice question from {p['first_name']}",
                    "body": f"My number is {p['phone']}, please call.",
                    "created_at": ago(500),
                }
            )
    counts = {}
    for name, rows in (
        ("projects", projects),
        ("invoices", invoices),
        ("invoice_lines", lines),
        ("messages", messages),
        ("calls", calls),
        ("sms_messages", sms),
        ("form_submissions", forms),
        ("page_views", views),
        ("notification_preferences", prefs),
        ("support_tickets", tickets),
    ):
        counts[name] = _insert(conn, t[name], rows)
    return counts
