"""Erasure semantics (PRODUCT.md) on SQLite, PostgreSQL and MariaDB."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import sqlalchemy as sa

from privet.datamap import ColumnSpec, parse_map
from privet.errors import AmbiguousSubject, StoreError, UnknownName
from privet.requests import access, erase, is_restricted
from privet.settings import Settings
from privet.state import open_state
from privet.stores import Stores
from tests.requests.shop import build_shop, shop_map, snapshot


def _rows(url: str, sql: str) -> list[tuple[object, ...]]:
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        rows = [tuple(r) for r in conn.execute(sa.text(sql))]
    engine.dispose()
    return rows


def test_when_anna_is_erased_then_every_value_is_deleted_erased_or_retained(
    shop: tuple[str, Path], settings: Settings
) -> None:
    url, rec = shop
    dm = shop_map(url, rec)
    result = erase(dm, settings, "email=anna@example.com")
    assert result.found and result.verified, result.leftovers
    # Her orders and their items (multi-hop) are gone, Bob's stay.
    assert _rows(url, "SELECT id FROM orders ORDER BY id") == [(12,)]
    assert _rows(url, "SELECT id FROM order_items ORDER BY id") == [(102,)]
    # The invoice is kept with amount, date and the name it needs; the email it does not need is erased.
    inv = _rows(url, "SELECT user_id, amount, party_name, party_email FROM invoices WHERE id = 20")
    assert (
        inv[0][0] == 1 and float(str(inv[0][1])) == 99 and inv[0][2] == "Anna Schmidt" and inv[0][3] is None
    )
    # A NOT NULL key from the held invoice points at her row: it stays as a tombstone without her values.
    root = _rows(url, "SELECT email, phone, name, ip FROM users WHERE id = 1")
    assert len(root) == 1 and "anna" not in str(root[0]).lower() and root[0][1:] == (None, None, None)
    # Calls linked by value (any phone format) are deleted with their recordings.
    assert _rows(url, "SELECT id FROM calls ORDER BY id") == [(32,)]
    assert not (rec / "a1.wav").exists() and not (rec / "a2.wav").exists() and (rec / "b1.wav").exists()
    assert result.files_deleted == 2
    # Her message is gone; Bob's message mentioning her is redacted in place, nothing else of it changed.
    bodies = dict(_rows(url, "SELECT id, body FROM messages"))
    assert 40 not in bodies
    assert bodies[41] == "Anna's mail is [redacted], her phone [redacted]. Bye!"
    # The project shared with Bob stays, her link cut and her note erased; her own draft is gone.
    projects = {
        r[0]: r[1:] for r in _rows(url, "SELECT id, client_id, freelancer_id, client_note FROM projects")
    }
    assert projects[50] == (None, 2, None) and 52 not in projects
    assert result.retained == [
        {
            "table": "shop.invoices",
            "rows": 1,
            "columns": ["party_name"],
            "basis": "accounting",
            "until": "2032-12-31",
        }
    ]
    assert is_restricted(dm, settings, "email=anna@example.com")


def test_when_anna_is_erased_then_carl_and_most_of_bob_are_byte_identical(
    shop: tuple[str, Path], settings: Settings
) -> None:
    url, rec = shop
    before = snapshot(url)
    erase(shop_map(url, rec), settings, "phone=0176 123 4567")
    after = snapshot(url)
    for table, rows in before.items():
        others = [r for r in rows if not _is_annas(table, r)]
        kept = [r for r in after[table] if not _is_annas(table, r)]
        assert kept == others, table


def _is_annas(table: str, row: tuple[object, ...]) -> bool:
    """Rows of Anna, or rows she shares or is mentioned in (the ones erasure may touch)."""
    return (
        (table == "users" and row[0] == 1)
        or (table == "orders" and row[1] == 1)
        or (table == "order_items" and row[1] in (10, 11))
        or (table == "invoices" and row[0] == 20)
        or (table == "calls" and row[0] in (30, 31))
        or (table == "messages" and row[0] in (40, 41))
        or (table == "projects" and row[0] in (50, 52))
    )


def test_when_erasure_runs_twice_then_the_second_run_is_harmless(
    shop: tuple[str, Path], settings: Settings
) -> None:
    url, rec = shop
    dm = shop_map(url, rec)
    erase(dm, settings, "email=anna@example.com")
    once = snapshot(url)
    again = erase(dm, settings, "email=anna@example.com")
    assert not again.found and "nothing to erase" in again.message
    assert snapshot(url) == once


def test_when_dry_run_then_plan_is_printed_and_nothing_changes(
    shop: tuple[str, Path], settings: Settings
) -> None:
    url, rec = shop
    before = snapshot(url)
    plan = erase(shop_map(url, rec), settings, "email=ANNA@example.com", dry_run=True)
    assert snapshot(url) == before and (rec / "a1.wav").exists()
    assert plan.tables["shop.orders"] == {"action": "delete_row", "rows": 2}
    assert plan.tables["shop.order_items"] == {"action": "delete_row", "rows": 2}
    assert plan.tables["shop.calls"] == {"action": "delete_row", "rows": 2}
    assert plan.tables["shop.invoices"]["action"] == "retain"
    assert plan.tables["shop.projects"]["rows"] == 2


def test_when_store_fails_mid_transaction_then_store_is_untouched_and_rerun_completes(
    shop: tuple[str, Path], settings: Settings
) -> None:
    url, rec = shop
    build_shop(url, rec, guard_messages=True)
    dm = shop_map(url, rec)
    before = snapshot(url)
    with pytest.raises(StoreError, match="nothing was changed in store 'shop'"):
        erase(dm, settings, "email=anna@example.com")
    assert snapshot(url) == before
    assert (rec / "a1.wav").exists(), "files go only after the store committed"
    engine = sa.create_engine(url)
    with engine.begin() as conn:  # the operator removes the rule; the re-run finishes the job
        conn.execute(sa.text("DELETE FROM messages WHERE id = 41"))
    engine.dispose()
    result = erase(dm, settings, "email=anna@example.com")
    assert result.verified and not (rec / "a1.wav").exists()
    assert _rows(url, "SELECT id FROM orders ORDER BY id") == [(12,)]


def test_when_map_names_a_missing_column_then_erasure_refuses_before_changing_anything(
    shop: tuple[str, Path], settings: Settings
) -> None:
    url, rec = shop
    dm = shop_map(url, rec)
    dm.tables["shop.messages"].columns["body_v2"] = ColumnSpec(category="content.private")
    before = snapshot(url)
    with pytest.raises(UnknownName, match="privet map check"):
        erase(dm, settings, "email=anna@example.com")
    assert snapshot(url) == before


def test_when_identity_matches_two_people_then_erasure_refuses_and_lists_them(
    shop: tuple[str, Path], settings: Settings
) -> None:
    url, rec = shop
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE users SET email = 'bob@example.com' WHERE id = 3"))
    engine.dispose()
    before = snapshot(url)
    with pytest.raises(AmbiguousSubject) as info:
        erase(shop_map(url, rec), settings, "email=bob@example.com")
    assert sorted(c["id"] for c in info.value.candidates) == [2, 3]
    assert snapshot(url) == before


def test_when_subject_is_sql_looking_then_it_is_only_a_value(
    shop: tuple[str, Path], settings: Settings
) -> None:
    url, rec = shop
    before = snapshot(url)
    result = erase(shop_map(url, rec), settings, "email=x'or'1'='1@example.com")
    assert not result.found and snapshot(url) == before


def test_when_erased_then_certificate_and_audit_hold_no_personal_data(
    shop: tuple[str, Path], settings: Settings
) -> None:
    url, rec = shop
    result = erase(shop_map(url, rec), settings, "email=anna@example.com")
    db = open_state(settings.resolved_state_url)
    with db.engine.connect() as conn:
        cert = conn.execute(sa.text("SELECT summary FROM privet_req_certificates")).scalar_one()
        audit = [r[0] for r in conn.execute(sa.text("SELECT details FROM privet_audit"))]
        sup = conn.execute(sa.text("SELECT count(*) FROM privet_suppression")).scalar_one()
    db.dispose()
    text = cert + " ".join(audit)
    assert "anna" not in text.lower() and "1234567" not in text
    assert result.certificate and sup == 2  # her email and her phone, as keyed hashes


def test_when_hold_period_is_counted_then_it_runs_to_end_of_year_plus_years() -> None:
    from privet.legal import hold_until

    assert hold_until(dt.date(2024, 3, 1), "DE", 8) == dt.date(2032, 12, 31)
    assert hold_until(dt.date(2025, 3, 1), "DE") == dt.date(2033, 12, 31)
    assert hold_until(dt.date(2025, 3, 1), "FR") == dt.date(2035, 12, 31)


def test_when_values_of_the_person_remain_then_verification_names_each_place(
    shop: tuple[str, Path], settings: Settings
) -> None:
    from privet.identity import Identity
    from privet.requests.verify import leftovers
    from privet.stores import Stores

    url, rec = shop
    dm = shop_map(url, rec)
    ids = {Identity("email", "anna@example.com"), Identity("phone", "+491761234567")}
    stores = Stores(dm)
    try:
        before = {(f["table"], f["column"]): f["rows"] for f in leftovers(dm, stores, ids)}
        # Her address and phone in her user row, the invoice's email, her call, her message and
        # Bob's message about her; the retained party_name is not searched.
        assert before[("shop.users", "email")] == 1 and before[("shop.users", "phone")] == 1
        assert before[("shop.invoices", "party_email")] == 1
        assert before[("shop.calls", "caller_number")] == 2
        assert before[("shop.messages", "body")] == 2
        assert ("shop.invoices", "party_name") not in before
        assert erase(dm, settings, "email=anna@example.com", stores=stores).verified
        assert leftovers(dm, stores, ids) == []
        engine = sa.create_engine(url)
        with engine.begin() as conn:  # written again after the erasure, in another spelling
            conn.execute(
                sa.text("INSERT INTO messages (id, author_id, body) VALUES (90, 2, 'ring 0176-123 4567')")
            )
            conn.execute(sa.text("UPDATE invoices SET party_email = 'ANNA@example.com' WHERE id = 21"))
        engine.dispose()
        after = leftovers(dm, stores, ids)
        assert sorted((f["table"], f["column"], f["rows"]) for f in after) == [
            ("shop.invoices", "party_email", 1),
            ("shop.messages", "body", 1),
        ]
    finally:
        stores.close()


def test_when_the_map_keeps_a_value_outside_any_hold_then_the_erasure_reports_it_as_left(
    shop: tuple[str, Path], settings: Settings
) -> None:
    from tests.requests.shop import MAP

    url, rec = shop
    kept = MAP.replace(
        "party_email: {category: contact.email}", "party_email: {category: contact.email, on_erase: retain}"
    )
    assert kept != MAP
    dm = parse_map(kept, env={"SHOP_URL": url, "REC_DIR": str(rec)})
    result = erase(dm, settings, "email=anna@example.com")
    # The search ran in the store's transaction after its last write: it found what the commit kept.
    assert not result.verified
    assert result.leftovers == [{"table": "shop.invoices", "column": "party_email", "rows": 1}]
    assert result.timings["verification"] > 0
    # The rest was committed all the same.
    assert _rows(url, "SELECT id FROM orders ORDER BY id") == [(12,)]
    assert _rows(url, "SELECT party_email FROM invoices WHERE id = 20") == [("anna@example.com",)]


def test_when_her_number_is_written_in_another_script_then_the_mention_is_redacted(
    shop: tuple[str, Path], settings: Settings
) -> None:
    url, rec = shop
    engine = sa.create_engine(url)
    with engine.begin() as conn:  # Bob writes her number in fullwidth and in Arabic-Indic digits
        conn.execute(
            sa.text("INSERT INTO messages (id, author_id, body) VALUES (91, 2, :a), (92, 2, :b)"),
            {"a": "Anna: ０１７６ １２３ ４５６７", "b": "Anna: ٠١٧٦ ١٢٣ ٤٥٦٧, ok"},
        )
    engine.dispose()
    result = erase(shop_map(url, rec), settings, "email=anna@example.com")
    assert result.verified, result.leftovers
    bodies = dict(_rows(url, "SELECT id, body FROM messages WHERE id IN (91, 92)"))
    assert bodies == {91: "Anna: [redacted]", 92: "Anna: [redacted], ok"}


def test_when_an_erasure_verifies_then_it_reads_its_own_transaction_before_the_commit(
    shop: tuple[str, Path], settings: Settings
) -> None:
    """The verification runs in the store's transaction after its last write: it sees what the
    erasure wrote while other connections still see her, and the commit then keeps what it saw."""
    from privet.identity import parse_subject
    from privet.requests.erase import person_identities, plan
    from privet.requests.execute import EraseContext, erase_in_store
    from privet.requests.resolve import resolve
    from privet.requests.verify import leftovers, tally, verification
    from tests.requests.shop import MAP

    url, rec = shop
    kept = MAP.replace(
        "party_email: {category: contact.email}", "party_email: {category: contact.email, on_erase: retain}"
    )
    dm = parse_map(kept, env={"SHOP_URL": url, "REC_DIR": str(rec)})
    stores, outside = Stores(dm), Stores(dm)
    try:
        res = resolve(dm, stores, parse_subject("email=anna@example.com", dm.default_region))
        ids = person_identities(res)
        selections = plan(dm, stores, res, defer=True)
        store = stores.sql["shop"]
        search = verification(dm, "shop", store, ids)
        assert search is not None
        with store.begin() as conn:
            if store.dialect == "sqlite":
                conn.exec_driver_sql("BEGIN IMMEDIATE")
            ctx = EraseContext(
                dm,
                store,
                store.schema().tables,
                ids,
                b"k" * 32,
                verification=(search.statement, search.params),
            )
            erase_in_store(conn, ctx, selections["shop"])
            seen = tally(dm, search.pieces, ctx.verification_rows, ids)
            # Not committed yet: another connection still finds her everywhere.
            before = {f["column"] for f in leftovers(dm, outside, ids)}
            assert {"email", "phone", "caller_number", "body", "party_email"} <= before
        # In the transaction only what the map keeps was left, and that is what the commit kept.
        assert seen == [{"table": "shop.invoices", "column": "party_email", "rows": 1}]
        assert leftovers(dm, outside, ids) == seen
    finally:
        stores.close()
        outside.close()


@pytest.mark.parametrize(
    "hers",
    [
        # Her number, in a text every search lets through as well (a letter touches a digit).
        "2ème étage, her number was 0176 123 4567",
        # Her number, 0176 123 4567, in Arabic-Indic digits: found by no phone search's tail.
        "رقمها ٠١٧٦ ١٢٣ ٤٥٦٧",
    ],
)
def test_when_texts_every_phone_search_lets_through_abound_then_verification_still_finds_her_number(
    shop: tuple[str, Path], settings: Settings, hers: str
) -> None:
    """Texts with digits of another script pass every phone search (the recognizer decides):
    however many there are, they cannot crowd out a text that holds her number. When more of
    them than the cap come back, none holding an identifier, the column is read whole."""
    from privet.identity import Identity
    from privet.requests.verify import leftovers

    url, rec = shop
    dm = shop_map(url, rec)
    assert erase(dm, settings, "email=anna@example.com").verified
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(
            sa.text("INSERT INTO messages (id, author_id, body) VALUES (:i, 2, :b)"),
            [{"i": 90 + n, "b": f"Bestellung ٤٢{n} ist da"} for n in range(6)] + [{"i": 99, "b": hers}],
        )
    engine.dispose()
    ids = {Identity("email", "anna@example.com"), Identity("phone", "+491761234567")}
    stores = Stores(dm)
    try:
        found = [{"table": "shop.messages", "column": "body", "rows": 1}]
        assert leftovers(dm, stores, ids, limit=3) == found
        # The same without a cap to pass: every candidate in the one statement.
        assert leftovers(dm, stores, ids, limit=100) == found
    finally:
        stores.close()


def test_when_an_erasure_meets_more_texts_than_the_cap_that_pass_every_phone_search_then_it_reads_them_all(
    shop: tuple[str, Path], settings: Settings
) -> None:
    """More candidates than the verification's cap, none of them hers: the erasure reads the
    column whole in its transaction (a statement on messages without the cap's window) and
    reports the person verified gone."""
    from privet.requests.verify import LIMIT

    url, rec = shop
    dm = shop_map(url, rec)
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(
            sa.text("INSERT INTO messages (id, author_id, body) VALUES (:i, 2, :b)"),
            [{"i": 1000 + n, "b": f"Bestellung ٤٢{n} ist da"} for n in range(LIMIT + 1)],
        )
    engine.dispose()
    stores = Stores(dm)
    seen: list[str] = []

    def watch(_conn: object, _cursor: object, statement: str, *_rest: object) -> None:
        seen.append(statement)

    sa.event.listen(stores.sql["shop"].engine, "before_cursor_execute", watch)
    try:
        result = erase(dm, settings, "email=anna@example.com", stores=stores)
    finally:
        stores.close()
    assert result.found and result.verified and result.leftovers == []
    whole = [
        s
        for s in seen
        if " AS v \nFROM messages" in s and "row_number" not in s  # the verification's own read
    ]
    assert whole, "the column was not read whole"
    assert len(_rows(url, "SELECT id FROM messages WHERE id >= 1000")) == LIMIT + 1


_OUTSIDE_MAP = """\
version: 1
default_region: DE
stores: {app: {url: "${URL}"}}
subjects:
  customer: {root: app.users, identities: {email: email}}
tables:
  app.users: {subject: customer, columns: {email: {category: contact.email}}}
  app.orders: {subject: customer, path: user_id -> app.users, columns: {ship_to: {category: contact.address}}}
"""


def test_when_tables_outside_the_map_point_at_her_rows_then_links_are_cut_or_rows_stay_as_tombstones(
    db_url: str, settings: Settings
) -> None:
    """Orders are erased set-based only when nothing else points at them; a shipment (NOT NULL
    key, not in the map) keeps its order as a tombstone, a review (nullable key) loses its link."""
    md = sa.MetaData()
    sa.Table("users", md, sa.Column("id", sa.Integer, primary_key=True), sa.Column("email", sa.String(100)))
    sa.Table(
        "orders",
        md,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id"), nullable=False),
        sa.Column("ship_to", sa.String(100)),
    )
    sa.Table(
        "shipments",
        md,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("order_id", sa.Integer, sa.ForeignKey("orders.id"), nullable=False),
    )
    sa.Table(
        "reviews",
        md,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("order_id", sa.Integer, sa.ForeignKey("orders.id"), nullable=True),
    )
    engine = sa.create_engine(db_url)
    md.create_all(engine)
    with engine.begin() as conn:
        conn.execute(
            md.tables["users"].insert(),
            [{"id": 1, "email": "anna@example.com"}, {"id": 2, "email": "b@x.io"}],
        )
        conn.execute(
            md.tables["orders"].insert(),
            [
                {"id": 10, "user_id": 1, "ship_to": "Anna Street 1"},
                {"id": 11, "user_id": 1, "ship_to": "Anna Street 1"},
                {"id": 12, "user_id": 1, "ship_to": "Anna Street 1"},
                {"id": 20, "user_id": 2, "ship_to": "Bob Road 2"},
            ],
        )
        conn.execute(md.tables["shipments"].insert(), [{"id": 1, "order_id": 10}, {"id": 2, "order_id": 20}])
        conn.execute(md.tables["reviews"].insert(), [{"id": 1, "order_id": 11}, {"id": 2, "order_id": 20}])
    engine.dispose()
    dm = parse_map(_OUTSIDE_MAP, env={"URL": db_url})
    result = erase(dm, settings, "email=anna@example.com")
    assert result.verified, result.leftovers
    assert _rows(db_url, "SELECT id, user_id, ship_to FROM orders ORDER BY id") == [
        (10, 1, None),
        (20, 2, "Bob Road 2"),
    ]
    assert _rows(db_url, "SELECT id, order_id FROM reviews ORDER BY id") == [(1, None), (2, 20)]
    assert _rows(db_url, "SELECT id, order_id FROM shipments ORDER BY id") == [(1, 10), (2, 20)]
    # Her root row stays as a tombstone (the kept order still needs it), without her email.
    assert [r[0] for r in _rows(db_url, "SELECT email FROM users ORDER BY id")][1] == "b@x.io"
    assert "anna" not in str(_rows(db_url, "SELECT email FROM users WHERE id = 1"))
    assert result.tables["app.orders"]["detail"] == {"tombstone": 1, "erase": 1, "delete_row": 2}
    assert result.tables["app.reviews"] == {"action": "cut_link", "rows": 1}


def test_when_one_set_of_connections_serves_many_requests_then_each_touches_only_its_person(
    shop: tuple[str, Path], settings: Settings, tmp_path: Path
) -> None:
    """Statements are built once per store and reused with each person's values: a long-lived
    service's requests must still find exactly their own person."""
    url, rec = shop
    dm = shop_map(url, rec)
    before = snapshot(url)
    with Stores(dm) as stores:
        bob = access(dm, settings, "email=bob@example.com", out=tmp_path / "bob1.zip", stores=stores)
        result = erase(dm, settings, "phone=0176 123 4567", stores=stores)
        assert result.verified and result.tables["shop.orders"]["rows"] == 2
        after = snapshot(url)
        for table, rows in before.items():
            assert [r for r in after[table] if not _is_annas(table, r)] == [
                r for r in rows if not _is_annas(table, r)
            ], table
        again = access(dm, settings, "email=bob@example.com", out=tmp_path / "bob2.zip", stores=stores)
        assert again.tables == bob.tables and again.rows == bob.rows
        carl = erase(dm, settings, "email=carl@example.org", stores=stores)
        assert carl.verified
    assert _rows(url, "SELECT id FROM orders ORDER BY id") == [(12,)], "Bob's order stays"
    assert _rows(url, "SELECT email FROM users WHERE id = 2") == [("bob@example.com",)]
    assert access(dm, settings, "email=bob@example.com", out=tmp_path / "bob3.zip").tables == bob.tables


def test_when_an_erasure_transaction_starts_on_postgresql_then_its_statements_are_planned_once(
    pg_url: str, tmp_path: Path
) -> None:
    """The erasure's transaction asks for plans made once per connection (``planned_once``), sent
    with its first statements, and the setting ends with the transaction."""
    from privet.requests.execute import EraseContext, erase_in_store

    build_shop(pg_url, tmp_path / "rec")
    dm = shop_map(pg_url, tmp_path / "rec")
    stores = Stores(dm)
    store = stores.sql["shop"]
    mode = sa.text("SHOW plan_cache_mode")
    try:
        with store.engine.connect() as conn:
            with conn.begin():
                ctx = EraseContext(dm, store, store.schema().tables, set(), b"k" * 32)
                erase_in_store(conn, ctx, [])
                assert conn.execute(mode).scalar_one() == "force_generic_plan"
            assert conn.execute(mode).scalar_one() == "auto"  # the same connection, after the commit
    finally:
        stores.close()
