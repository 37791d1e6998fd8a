"""PostgreSQL: a batch's mention pass first merges the pending lists of the GIN indexes it
searches, where the connected role owns them, and finds the same mentions either way."""

from __future__ import annotations

import uuid
from pathlib import Path

import sqlalchemy as sa

from privet.datamap import parse_map
from privet.discovery.check import check_map
from privet.requests import access_batch
from privet.settings import Settings
from tests.requests.test_access import _as_alone, _build

PEOPLE = 14  # past MERGE_FROM: the batch's mention pass merges first


def _map(url: str) -> str:
    return (
        f"version: 1\ndefault_region: DE\nstores: {{app: {{url: '{url}'}}}}\n"
        "subjects: {user: {root: app.users, identities: {email: email, phone: phone, id: id}}}\n"
        "tables:\n"
        "  app.users: {subject: user, columns: {email: {category: contact.email},"
        " phone: {category: contact.phone_number}, name: {category: name}}}\n"
        "  app.notes: {subject: user, path: user_id -> app.users,"
        " columns: {body: {category: content.private}}}\n"
    )


def _pending_pages(conn: sa.Connection) -> int:
    return int(
        conn.execute(
            sa.text(
                "SELECT sum((pgstatginindex(c.oid)).pending_pages) FROM pg_index i "
                "JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_am a ON a.oid = c.relam "
                "WHERE i.indrelid = 'notes'::regclass AND a.amname = 'gin'"
            )
        ).scalar_one()
    )


def test_when_a_batch_searches_mentions_then_pending_lists_are_merged_where_the_role_owns_the_index(
    pg_url: str, settings: Settings, tmp_path: Path
) -> None:
    people = [
        {"id": n, "email": f"user{n}@example.com", "phone": f"+49176{1000000 + n}", "name": f"Kim Tester{n}"}
        for n in range(1, PEOPLE + 1)
    ]
    _build(
        pg_url,
        "CREATE EXTENSION IF NOT EXISTS pg_trgm",
        "CREATE EXTENSION IF NOT EXISTS pgstattuple",
        "CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT, phone TEXT, name TEXT)",
        "CREATE TABLE notes (id INTEGER PRIMARY KEY, user_id INTEGER REFERENCES users (id), body TEXT)",
        "CREATE INDEX ix_notes_user_id ON notes (user_id)",
        ("INSERT INTO users VALUES (:id, :email, :phone, :name)", people),  # type: ignore[arg-type]
    )
    dm = parse_map(_map(pg_url))
    engine = sa.create_engine(pg_url)
    with engine.begin() as conn:
        for fix in [u["fix"] for u in check_map(dm).unindexed]:
            for statement in fix.split("; "):
                conn.exec_driver_sql(statement)
    # Written after the indexes: the notes' entries wait in the pending lists. Each person is
    # mentioned by someone else, by address, name or number.
    notes = []
    for n, p in enumerate(people):
        other = people[(n + 1) % PEOPLE]
        said = (other["email"], other["name"], "0176 " + other["phone"][6:])[n % 3]
        notes.append({"id": n + 1, "user_id": p["id"], "body": f"about {said}, see you"})
    _build(pg_url, ("INSERT INTO notes VALUES (:id, :user_id, :body)", notes))  # type: ignore[arg-type]
    subjects: list[str] = [f"email={p['email']}" for p in people]
    role = f"privet_reader_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(pg_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.exec_driver_sql(f"CREATE ROLE {role} LOGIN")
            conn.exec_driver_sql(f"GRANT SELECT ON ALL TABLES IN SCHEMA public TO {role}")
            before = _pending_pages(conn)
        assert before > 0
        # A role that does not own the indexes: the lists stay as they are, the mentions are found.
        reader = sa.engine.make_url(pg_url).set(username=role).render_as_string(hide_password=False)
        read_dm = parse_map(_map(reader))
        batch = access_batch(read_dm, settings, list(subjects), out_dir=tmp_path / "reader")
        with admin.connect() as conn:
            assert _pending_pages(conn) == before
        assert all(r.mentions == 1 for r in batch), [r.mentions for r in batch]
        _as_alone(dm, settings, subjects, batch, tmp_path)
        # The owner: merged before the searches, the same exports.
        batch = access_batch(dm, settings, list(subjects), out_dir=tmp_path / "owner")
        with admin.connect() as conn:
            assert _pending_pages(conn) == 0
        assert all(r.mentions == 1 for r in batch), [r.mentions for r in batch]
        _as_alone(dm, settings, subjects, batch, tmp_path)
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f"DROP OWNED BY {role}")
            conn.exec_driver_sql(f"DROP ROLE {role}")
        admin.dispose()
        engine.dispose()
