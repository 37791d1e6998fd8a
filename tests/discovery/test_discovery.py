"""Discovery on SQLite, PostgreSQL and MariaDB: the demo schema and two schemas of other conventions."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from privet.datamap import dump_map, parse_map
from privet.demo import EXPECTED_COLUMNS, build_demo
from privet.discovery import check_map, discover
from privet.requests.textindex import TextIndex
from privet.settings import Settings
from tests.discovery.schemas import SCHEMAS, scores


def test_when_demo_is_discovered_then_map_matches_ground_truth(db_url: str, tmp_path: Path) -> None:
    build_demo(db_url, users=60, files_dir=tmp_path / "files")
    found = discover([db_url], files_root=str(tmp_path / "files"))
    s = scores(found.columns, EXPECTED_COLUMNS)
    assert s["precision"] >= 0.95 and s["recall"] >= 0.95, s
    dm = found.datamap
    assert set(dm.subjects) == {"user", "agent"}
    assert dm.subjects["user"].identities == {"email": "email", "phone": "phone", "id": "id"}
    t = dm.tables
    assert t["app.invoices"].path == "freelancer_id -> app.users"
    hold = t["app.invoices"].legal_hold
    assert hold is not None and hold.years == 8 and hold.from_ == "issued_on"
    assert set(hold.retain) == {"freelancer_name", "billing_address", "vat_id"}
    assert t["app.invoice_lines"].path == "invoice_id -> app.invoices.freelancer_id -> app.users"
    assert t["app.invoice_lines"].legal_hold is not None
    assert t["app.calls"].match == {"caller_number": "phone"}
    assert t["app.form_submissions"].match == {"email": "email"}
    if not db_url.startswith("postgresql"):
        # The demo comes with the indexes `privet map index` creates there: map check wants none.
        assert check_map(dm).unindexed == []
    assert sorted(t["app.projects"].path or []) == ["client_id -> app.users", "freelancer_id -> app.users"]
    assert t["app.support_tickets"].path == "customer_id -> app.users"  # the customer, not the agent
    assert t["app.users"].tenant_column == "tenant_id"
    assert t["app.calls"].columns["recording_path"].file_store == "files"
    assert dm.default_region == "DE"
    # What discovery writes, the loader reads back unchanged.
    assert parse_map(dump_map(dm)) == dm


@pytest.mark.parametrize("schema", sorted(SCHEMAS))
def test_when_schema_uses_other_conventions_then_columns_are_still_found(db_url: str, schema: str) -> None:
    expected = SCHEMAS[schema](db_url)
    found = discover([db_url])
    s = scores(found.columns, expected)
    assert s["precision"] >= 0.9 and s["recall"] >= 0.9, s
    assert found.seconds < 10


def test_when_german_crm_is_discovered_then_value_link_and_hold_are_found(sqlite_url: str) -> None:
    SCHEMAS["german_crm"](sqlite_url)
    dm = discover([sqlite_url]).datamap
    assert dm.tables["app.anrufe"].match == {"rufnummer": "phone"}
    assert dm.tables["app.bestellungen"].legal_hold is not None
    assert [s.root for s in dm.subjects.values()] == ["app.kunden"]


def test_when_a_migration_adds_a_personal_column_then_map_check_fails(db_url: str, tmp_path: Path) -> None:
    build_demo(db_url, users=20, files_dir=tmp_path / "f")
    dm = discover([db_url], files_root=str(tmp_path / "f")).datamap
    assert check_map(dm).ok
    engine = sa.create_engine(db_url)
    with engine.begin() as conn:
        conn.execute(sa.text("ALTER TABLE users ADD COLUMN mobile_phone VARCHAR(40)"))
        conn.execute(sa.text("UPDATE users SET mobile_phone = '+49 170 1234567'"))
        if engine.dialect.name == "sqlite":
            # The triggers of the column's search indexes read it: a migration dropping it drops them first.
            for sql in TextIndex("sms_messages", "body", "id").drop_statements():
                conn.exec_driver_sql(sql)
        conn.execute(sa.text("ALTER TABLE sms_messages DROP COLUMN body"))
    engine.dispose()
    report = check_map(dm)
    assert not report.ok
    assert [(u["table"], u["column"]) for u in report.undeclared] == [("users", "mobile_phone")]
    assert [(v["table"], v["column"]) for v in report.vanished] == [("sms_messages", "body")]


def test_when_lookup_columns_have_no_index_then_map_check_warns_with_the_fix(
    db_url: str, tmp_path: Path
) -> None:
    from privet.requests.indexing import search_indexes
    from tests.requests.shop import build_shop, shop_map

    build_shop(db_url, tmp_path / "rec")
    report = check_map(shop_map(db_url, tmp_path / "rec"))
    found = {(u["table"], u["column"]): u["used_as"] for u in report.unindexed}
    if not db_url.startswith("mysql"):  # InnoDB indexes every foreign key by itself
        assert found[("orders", "user_id")] == "foreign-key path"
    else:
        assert ("orders", "user_id") not in found
    assert found[("calls", "caller_number")] == "value link"
    assert found[("users", "email")] == "identity"
    assert ("users", "id") not in found  # the primary key is an index
    # Free text on SQLite takes the search indexes of privet.requests.textindex (FTS5 tables and
    # the triggers keeping them current), replacing any earlier version's.
    # On MariaDB, the token indexes of privet.requests.tokenindex and the number indexes of its
    # phone columns (privet.requests.phoneindex), which `privet map index` creates.
    text = {("messages", "body"), ("projects", "client_note")}
    sqlite_text = text if db_url.startswith("sqlite") else set()
    phones = {("users", "phone"), ("calls", "caller_number")}
    maria_text = text | phones if db_url.startswith("mysql") else set()
    # On SQLite, an index on the reversed tail of a phone column's digits, which `privet map index` creates.
    by_map_index = maria_text | (phones if db_url.startswith("sqlite") else set())
    assert all(
        u["fix"].startswith("DROP TRIGGER IF EXISTS privet_text_")
        if (u["table"], u["column"]) in sqlite_text
        else u["fix"] == "privet map index"
        if (u["table"], u["column"]) in by_map_index
        else u["fix"].startswith("CREATE INDEX ix_")
        for u in report.unindexed
    )
    # Columns the verification pass searches: an index on lower() serves the address lookup.
    if db_url.startswith("mysql"):
        assert ("invoices", "party_email") not in found  # MariaDB has no index on an expression
        assert maria_text <= set(found)
        search_indexes(shop_map(db_url, tmp_path / "rec"))
        again = {(u["table"], u["column"]) for u in check_map(shop_map(db_url, tmp_path / "rec")).unindexed}
        assert not maria_text & again
        return
    assert found[("invoices", "party_email")] == "searched for email by verification"
    fixes = {(u["table"], u["column"]): u["fix"] for u in report.unindexed}
    assert fixes[("invoices", "party_email")] == (
        "CREATE INDEX ix_invoices_party_email_lower ON invoices (lower(party_email))"
    )
    # Lookups compare lower(email) and a phone's digits: the advice indexes those expressions.
    assert fixes[("users", "email")] == "CREATE INDEX ix_users_email_lower ON users (lower(email))"
    if db_url.startswith("postgresql"):
        assert "gin_trgm_ops" in fixes[("messages", "body")]
        assert fixes[("calls", "caller_number")].startswith("CREATE INDEX ix_calls_caller_number_rdigits")
    engine = sa.create_engine(db_url)
    with engine.begin() as conn:
        conn.execute(sa.text(fixes[("invoices", "party_email")]))  # the fix runs as printed
    engine.dispose()
    again = {(u["table"], u["column"]) for u in check_map(shop_map(db_url, tmp_path / "rec")).unindexed}
    assert ("invoices", "party_email") not in again
    if sqlite_text:
        assert (
            "USING fts5(body, content=messages, content_rowid=id, tokenize='trigram'"
            in fixes[("messages", "body")]
        )
        raw = engine.raw_connection()
        try:
            raw.driver_connection.executescript(fixes[("messages", "body")])  # as pasted into sqlite3
        finally:
            raw.close()
        engine.dispose()
        again = {(u["table"], u["column"]) for u in check_map(shop_map(db_url, tmp_path / "rec")).unindexed}
        assert ("messages", "body") not in again
        assert ("projects", "client_note") in again


def test_when_searched_text_is_lowered_as_ascii_then_map_check_warns_and_its_fix_finds_capitals(
    pg_url: str, tmp_path: Path, settings: Settings
) -> None:
    """A message column under collation "C" (lower() changes ASCII letters only): MÜLLER is not
    found for Jürgen Müller, map check says so, and after its fix his access finds the message."""
    from privet.requests import access
    from tests.requests.shop import build_shop, shop_map
    from tests.requests.test_access import _build, message_fragments

    rec = tmp_path / "rec"
    build_shop(pg_url, rec)
    _build(
        pg_url,
        'ALTER TABLE messages ALTER COLUMN body TYPE text COLLATE "C"',
        "INSERT INTO users (id, tenant_id, email, name) VALUES (4, 1, 'jm@example.com', 'Jürgen Müller')",
        "INSERT INTO messages (id, author_id, body) VALUES (90, 3, 'JÜRGEN MÜLLER rief an')",
    )
    dm = shop_map(pg_url, rec)
    report = check_map(dm)
    cases = [(u["table"], u["column"], u["collation"]) for u in report.ascii_case]
    assert cases == [("messages", "body", "C")]

    def found() -> list[str]:
        return message_fragments(access(dm, settings, "email=jm@example.com", out=tmp_path / "jm.zip"))

    assert found() == []
    _build(pg_url, report.ascii_case[0]["fix"])  # as printed
    assert check_map(dm).ascii_case == []
    assert found() == ["JÜRGEN MÜLLER rief an"]


def test_when_the_advised_phone_index_exists_then_lookups_by_phone_use_it(
    pg_url: str, tmp_path: Path
) -> None:
    from privet.requests.matching import equals_identity
    from tests.requests.shop import CALLS, build_shop, shop_map

    build_shop(pg_url, tmp_path / "rec")
    dm = shop_map(pg_url, tmp_path / "rec")
    fixes = {(u["table"], u["column"]): u["fix"] for u in check_map(dm).unindexed}
    engine = sa.create_engine(pg_url)
    with engine.begin() as conn:
        conn.execute(sa.text(fixes[("calls", "caller_number")]))
    assert ("calls", "caller_number") not in {(u["table"], u["column"]) for u in check_map(dm).unindexed}
    stmt = sa.select(CALLS.c.id).where(
        equals_identity(CALLS.c.caller_number, "phone", ["+491761234567"], "postgresql")
    )
    sql = str(stmt.compile(dialect=engine.dialect, compile_kwargs={"literal_binds": True}))
    with engine.connect() as conn:
        conn.execute(sa.text("SET enable_seqscan = off"))  # the table is tiny: show the index can serve
        plan = "\n".join(r[0] for r in conn.execute(sa.text("EXPLAIN " + sql)))
        found = sorted(r[0] for r in conn.execute(stmt))
    engine.dispose()
    assert "ix_calls_caller_number_rdigits" in plan
    assert found == [30, 31]  # Anna's two calls, written "+491761234567" and "0176-1234567"
