"""SQLite's search indexes of free text (``privet.requests.textindex``): the searches through them
find exactly the rows the searches of the column find, the triggers keep them right whoever
writes, and a missing or altered piece sends the searches back to reading the column."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from privet.identity import Identity
from privet.requests import access, erase
from privet.requests.execute import mention_select
from privet.requests.matching import identity_params, identity_shape, mention_filter_bound
from privet.requests.textindex import (
    TextIndex,
    create,
    indexable,
    mention_filter,
    present,
    store_indexes,
)
from privet.settings import Settings
from privet.stores import SqlStore, Stores, make_engine
from tests.requests.shop import build_shop, shop_map, snapshot
from tests.requests.test_access import _build
from tests.requests.test_matching import OTHER, PHONE, texts

NOTES = TextIndex("notes", "body", "id")
ANNA = Identity("email", "anna@example.com")


@pytest.fixture
def notes_url(sqlite_url: str) -> str:
    _build(sqlite_url, "CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)")
    engine = make_engine(sqlite_url)
    with engine.begin() as conn:
        create(conn, NOTES)
    engine.dispose()
    return sqlite_url


# FTS5's check of an index against its table (an error when they disagree).
_INTEGRITY = "INSERT INTO {name}({name}, rank) VALUES ('integrity-check', 1)"


def _plan(conn: sa.Connection, stmt: Any, params: dict[str, Any]) -> str:
    compiled = stmt.params(params).compile(dialect=conn.dialect, compile_kwargs={"literal_binds": True})
    return str(conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {compiled}").fetchall())


def _passed(conn: sa.Connection, table: sa.Table, cond: Any, params: dict[str, Any]) -> set[int]:
    return {r[0] for r in conn.execute(sa.select(table.c.id).where(cond), params)}


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    st.lists(
        st.one_of(
            texts(),
            st.sampled_from(["mail ANNA@Example.com!", "anna@example.co", "x anna@example.com\n", "a_na"]),
        ),
        min_size=1,
        max_size=12,
    ),
    st.data(),
)
def test_a_search_through_the_indexes_finds_exactly_the_rows_the_search_of_the_column_finds(
    notes_url: str, batch: list[str], data: st.DataObject
) -> None:
    engine = make_engine(notes_url)  # Privet's connections: with the function for other digits
    table = sa.Table("notes", sa.MetaData(), autoload_with=engine)
    ids = {PHONE, OTHER, ANNA}
    shape = identity_shape(ids)
    plain = mention_filter_bound(table, "body", shape, dialect="sqlite")
    indexed = mention_filter(table, "body", shape, dialect="sqlite", index=NOTES)
    assert plain is not None and indexed is not None and str(plain) != str(indexed)
    params = identity_params(ids)
    try:
        with engine.begin() as conn:
            conn.execute(table.delete())
            conn.execute(table.insert(), [{"id": i, "body": t} for i, t in enumerate(batch)])
            # Rows changed and removed after they were written: the triggers follow.
            for i in data.draw(st.sets(st.sampled_from(range(len(batch))))):
                conn.execute(table.update().where(table.c.id == i), {"body": data.draw(texts())})
            gone = data.draw(st.sets(st.sampled_from(range(len(batch)))))
            conn.execute(table.delete().where(table.c.id.in_(gone)))
            assert _passed(conn, table, indexed, params) == _passed(conn, table, plain, params)
            conn.exec_driver_sql(_INTEGRITY.format(name="privet_text_notes_body"))
    finally:
        engine.dispose()


def test_when_a_piece_of_the_indexes_is_missing_or_altered_then_searches_read_the_column(
    notes_url: str,
) -> None:
    engine = make_engine(notes_url)
    table = sa.Table("notes", sa.MetaData(), autoload_with=engine)
    assert indexable(table, "body") == NOTES
    try:
        with engine.begin() as conn:
            assert present(conn, NOTES)
            conn.exec_driver_sql("DROP TRIGGER privet_text_notes_body_au")
            assert not present(conn, NOTES)
            conn.exec_driver_sql(
                "CREATE TRIGGER privet_text_notes_body_au AFTER UPDATE OF body ON notes BEGIN SELECT 1; END"
            )
            assert not present(conn, NOTES)  # the same name, another trigger
            create(conn, NOTES)  # replaces every piece
            assert present(conn, NOTES)
    finally:
        engine.dispose()
    # A process that keeps its connections follows: the indexes dropped beside it, then back.
    store = SqlStore("notes", notes_url)
    try:
        notes = store.table("notes")
        assert store_indexes(store).of(notes, "body") == NOTES
        with engine.begin() as conn:
            for sql in NOTES.drop_statements():
                conn.exec_driver_sql(sql)
        assert store_indexes(store).of(notes, "body") is None
        with engine.begin() as conn:
            create(conn, NOTES)
        assert store_indexes(store).of(notes, "body") == NOTES
    finally:
        store.dispose()
        engine.dispose()
    # A table keyed by text, or by two columns, has none.
    md = sa.MetaData()
    composite = sa.Table(
        "c",
        md,
        sa.Column("a", sa.Integer, primary_key=True),
        sa.Column("b", sa.Integer, primary_key=True),
        sa.Column("body", sa.Text),
    )
    keyed_by_text = sa.Table(
        "k", md, sa.Column("code", sa.String(9), primary_key=True), sa.Column("body", sa.Text)
    )
    assert indexable(composite, "body") is None and indexable(keyed_by_text, "body") is None


def _index_shop(url: str) -> None:
    engine = make_engine(url)
    with engine.begin() as conn:
        create(conn, TextIndex("messages", "body", "id"))
        create(conn, TextIndex("projects", "client_note", "id"))
    engine.dispose()


def test_when_the_texts_are_indexed_then_an_erasure_changes_the_same_rows_as_without(
    tmp_path: Path, settings: Settings
) -> None:
    extra = [
        (91, "Anna: ０１７６ １２３ ４５６７"),  # her number in fullwidth digits
        (92, "Anna: ٠١٧٦ ١٢٣ ٤٥٦٧, ok"),  # and in Arabic-Indic ones
        (93, "Bestellung ٤٢٧ ist da"),  # another script's digits, not her number
        (94, "ruf ANNA@EXAMPLE.COM an oder 0176/123-45-67"),
        (95, "nothing about her, 0176 999 4567"),
    ]
    results, snapshots = [], []
    for indexed in (False, True):
        url = f"sqlite:///{tmp_path / f'shop-{indexed}.db'}"
        rec = tmp_path / f"rec-{indexed}"
        build_shop(url, rec)
        engine = make_engine(url)
        with engine.begin() as conn:
            conn.execute(
                sa.text("INSERT INTO messages (id, author_id, body) VALUES (:i, 2, :b)"),
                [{"i": i, "b": b} for i, b in extra],
            )
        engine.dispose()
        if indexed:
            _index_shop(url)  # after the rows: filled from them; the erasure's changes through the triggers
        dm = shop_map(url, rec)
        stores = Stores(dm)
        try:
            store = stores.sql["shop"]
            messages = store.table("messages")
            assert (store_indexes(store).of(messages, "body") is not None) == indexed
            if indexed:  # the mention search reads the index, not the table
                index = store_indexes(store).of(messages, "body")
                stmt = mention_select(messages, "body", (identity_shape({ANNA}),), "sqlite", index=index)
                assert stmt is not None
                with store.connect() as conn:
                    plan = _plan(conn, stmt, identity_params({ANNA}, prefix="p0_"))
                assert "VIRTUAL TABLE" in plan and "SCAN messages" not in plan, plan
            out = tmp_path / f"anna-{indexed}.zip"
            export = access(dm, settings, "email=anna@example.com", out=out, stores=stores)
            result = erase(dm, settings, "email=anna@example.com", stores=stores)
        finally:
            stores.close()
        assert result.verified, result.leftovers
        results.append((export.rows, export.mentions, result.tables))
        snapshots.append(snapshot(url))
        if indexed:
            engine = make_engine(url)
            with engine.begin() as conn:
                conn.exec_driver_sql(_INTEGRITY.format(name="privet_text_messages_body"))
            engine.dispose()
    assert results[0] == results[1]
    assert snapshots[0] == snapshots[1]
    assert results[0][1] >= 3  # mentions of her in Bob's messages: the export found them either way
    bodies = {r[0]: r[2] for r in snapshots[1]["messages"]}
    assert bodies[91] == "Anna: [redacted]" and bodies[92] == "Anna: [redacted], ok"
    assert bodies[93] == "Bestellung ٤٢٧ ist da" and bodies[95] == "nothing about her, 0176 999 4567"
    assert bodies[94] == "ruf [redacted] an oder [redacted]"
