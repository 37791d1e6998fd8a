"""Discovery of a 50-table PostgreSQL schema with sampling: time, precision and recall per column.

The database holds the demo schema, the two test schemas of other conventions
(German CRM, French/Spanish helpdesk) and generated tables (contact tables with
personal columns, event tables without), each with its ground truth.
"""

from __future__ import annotations

import os
import time
from typing import Any

import sqlalchemy as sa
from tests.discovery.schemas import german_crm, romance_helpdesk, scores

from privet.demo import EXPECTED_COLUMNS, build_demo
from privet.discovery import discover

ADMIN = os.environ.get("PRIVET_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
DB = "privet_bench_discovery"


def _extra_tables(url: str, n: int) -> dict[tuple[str, str], str]:
    engine = sa.create_engine(url)
    truth: dict[tuple[str, str], str] = {}
    with engine.begin() as conn:
        for i in range(n):
            if i % 2 == 0:
                name = f"partner_contacts_{i}"
                conn.execute(
                    sa.text(
                        f"CREATE TABLE {name} (id int PRIMARY KEY, user_id int REFERENCES users(id), "
                        "contact_email text, mobile_no text, remarks text, created_at timestamp)"
                    )
                )
                conn.execute(
                    sa.text(
                        f"INSERT INTO {name} SELECT g, 1 + g % 50, 'p' || g || '@partner.example', "
                        f"'+49 170 ' || (1000000 + g), 'Call ' || (ARRAY['Anna Schmidt','Lukas Weber'])[1 + g % 2] || "
                        "' about the offer', now() FROM generate_series(1, 300) g"
                    )
                )
                truth.update(
                    {
                        (name, "contact_email"): "user.contact.email",
                        (name, "mobile_no"): "user.contact.phone_number",
                        (name, "remarks"): "user.content.private",
                    }
                )
            else:
                name = f"job_runs_{i}"
                conn.execute(
                    sa.text(
                        f"CREATE TABLE {name} (id int PRIMARY KEY, job text, status text, duration_ms int, "
                        "version text, started_at timestamp)"
                    )
                )
                conn.execute(
                    sa.text(
                        f"INSERT INTO {name} SELECT g, 'sync', 'ok', g * 7, '2.' || (g % 9) || '.1', now() "
                        "FROM generate_series(1, 300) g"
                    )
                )
    engine.dispose()
    return truth


def run() -> dict[str, Any]:
    admin = sa.create_engine(ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f"DROP DATABASE IF EXISTS {DB} WITH (FORCE)"))
        conn.execute(sa.text(f"CREATE DATABASE {DB}"))
    admin.dispose()
    url = sa.engine.make_url(ADMIN).set(database=DB).render_as_string(hide_password=False)
    truth: dict[tuple[str, str], str] = {}
    build_demo(url, users=500)
    truth.update(EXPECTED_COLUMNS)
    truth.update(german_crm(url))
    truth.update(romance_helpdesk(url))
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        have = len(sa.inspect(conn).get_table_names())
    engine.dispose()
    truth.update(_extra_tables(url, 50 - have))
    t = time.perf_counter()
    found = discover([url], sample=200)
    seconds = time.perf_counter() - t
    total = scores(found.columns, truth)
    per_schema = {}
    for label, tables in {
        "demo": {t for t, _ in EXPECTED_COLUMNS},
        "german_crm": {"kunden", "bestellungen", "zusatzfelder", "anrufe"},
        "romance_helpdesk": {"clients", "agentes", "tickets", "pagos"},
    }.items():
        cols = [c for c in found.columns if c["table"] in tables]
        per_schema[label] = scores(cols, {k: v for k, v in truth.items() if k[0] in tables})
    out = {
        "name": "discovery",
        "tables": 50,
        "seconds": round(seconds, 2),
        "total": total,
        "per_schema": per_schema,
    }
    lines = [
        f"50 tables on PostgreSQL, 200 values sampled per column: discovered in {seconds:.2f} s (goal < 10 s)",
        f"all columns: precision {total['precision']}, recall {total['recall']}, "
        f"category accuracy {total['category_accuracy']} (goal >= 0.95 each)",
    ]
    for label, s in per_schema.items():
        lines.append(
            f"  {label}: precision {s['precision']}, recall {s['recall']}, missed {s['missed']}, "
            f"false positives {s['false_positives']}"
        )
    out["summary"] = "\n".join(lines)
    return out
