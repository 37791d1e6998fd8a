"""The number indexes of phone columns (``privet.requests.phoneindex``). MariaDB: a table beside
the column, whose triggers keep each row's reversed digits whoever writes. SQLite: an index on
the reversed tail of the column's digits. A lookup through either finds exactly the rows the
search of the column finds; ``privet map index`` creates them for the map's phone columns, map
check asks for them, and requests then look numbers up in them with the same results."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from privet.datamap import DataMap
from privet.discovery.check import check_map
from privet.identity import Identity, normalize_phone
from privet.requests import AccessResult, access, access_batch, erase
from privet.requests.indexing import search_indexes
from privet.requests.matching import (
    _PHONE_NOISE,
    equals_bound,
    equals_many,
    equals_many_tail,
    equals_tail,
    identity_params,
)
from privet.requests.phoneindex import KEPT, TailIndex, equals, indexable
from privet.requests.textindex import store_indexes
from privet.settings import Settings
from privet.stores import Stores, make_engine
from tests.requests.shop import build_shop, shop_map
from tests.requests.test_access import _as_alone, _contents

NUMBERS = ["+49 176 1000777", "0176 1000777", "+4930123456", "030 / 12 34 56", "+352 621 123"]


def _reversed(value: str | None) -> str | None:
    """The index's value of a number, as Python spells it."""
    if value is None:
        return None
    for ch in _PHONE_NOISE:
        value = value.replace(ch, "")
    return value[::-1][:KEPT]


@st.composite
def _written(draw: st.DrawFn) -> str | None:
    """A number as people write it (separators, prefixes), or something else a phone column holds."""
    digits = draw(st.sampled_from(["1761000777", "30123456", "621123", "1761000778", "17610007770"]))
    prefix = draw(st.sampled_from(["+49 ", "0049", "0", "+49 (0)", "+352 ", ""]))
    cuts = sorted(draw(st.sets(st.integers(1, len(digits) - 1), max_size=3)))
    parts, last = [], 0
    for cut in cuts:
        parts += [digits[last:cut], draw(st.sampled_from([" ", "-", ".", "/", ") "]))]
        last = cut
    value = prefix + "".join(parts) + digits[last:]
    return draw(st.sampled_from([value, value, value, None, "", "ext. 12", "١٧٦١٠٠٠٧٧٧", "9" * 80]))


@pytest.fixture
def calls(mariadb_url: str) -> Any:
    engine = make_engine(mariadb_url)
    with engine.begin() as conn:
        conn.exec_driver_sql(
            "CREATE TABLE calls (id INTEGER PRIMARY KEY, caller_number VARCHAR(120)) CHARACTER SET utf8mb4"
        )
    table = sa.Table("calls", sa.MetaData(), autoload_with=engine)
    index = indexable(table, "caller_number")
    assert index is not None
    with engine.connect() as conn:
        for sql in index.statements():
            conn.exec_driver_sql(sql)
    yield engine, table, index
    engine.dispose()


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(st.lists(_written(), min_size=1, max_size=12), st.sampled_from(NUMBERS), st.data())
def test_a_lookup_through_the_index_finds_the_rows_the_search_of_the_column_finds(
    calls: Any, written: list[str | None], number: str, data: st.DataObject
) -> None:
    engine, table, index = calls
    with engine.begin() as conn:
        conn.execute(table.delete())
        conn.execute(table.insert(), [{"id": i + 1, "caller_number": v} for i, v in enumerate(written)])
    # Rows changed (the number, or the key) and removed after they were written: the triggers follow.
    rows = {i + 1: v for i, v in enumerate(written)}
    with engine.begin() as conn:
        for k in data.draw(st.sets(st.sampled_from(sorted(rows)))):
            rows[k] = data.draw(_written())
            conn.execute(table.update().where(table.c.id == k), {"caller_number": rows[k]})
        moved = data.draw(st.sets(st.sampled_from(sorted(rows)), max_size=2))
        for k in moved:
            conn.execute(table.update().where(table.c.id == k).values(id=k + 100))
            rows[k + 100] = rows.pop(k)
        gone = data.draw(st.sets(st.sampled_from(sorted(rows))))
        conn.execute(table.delete().where(table.c.id.in_(gone)))
        for k in gone:
            del rows[k]
    ids = {Identity("phone", normalize_phone(number, "DE"))}
    params = identity_params(ids)
    with engine.connect() as conn:
        held = dict(conn.execute(sa.text(f"SELECT k, r FROM {index.name}")).fetchall())
        through = {r[0] for r in conn.execute(sa.select(table.c.id).where(equals(table, index, 1)), params)}
        column = {
            r[0]
            for r in conn.execute(
                sa.select(table.c.id).where(equals_bound(table.c.caller_number, "phone", 1, "mariadb")),
                params,
            )
        }
    assert held == {k: _reversed(v) for k, v in rows.items()}
    assert through == column
    # Every row holding the number is among them (the exact check follows in Python).
    tail = _reversed(number.replace(" ", ""))
    assert tail is not None
    assert {k for k, v in rows.items() if v and _reversed(v).startswith(tail[:6])} <= through  # type: ignore[union-attr]


def _indexed_shop(url: str, settings: Settings, tmp_path: Path) -> tuple[DataMap, AccessResult]:
    """The shop, whose phone columns map check asks indexes for, exported by phone (before), then
    given them by ``privet map index`` (created once, then current), after which map check wants
    none."""
    rec = tmp_path / "rec"
    build_shop(url, rec)
    dm = shop_map(url, rec)
    fixes = {(u["table"], u["column"]): u["fix"] for u in check_map(dm).unindexed}
    assert fixes[("users", "phone")] == fixes[("calls", "caller_number")] == "privet map index"
    before = access(dm, settings, "phone=0176 123 4567", out=tmp_path / "before.zip")
    assert before.tables.get("shop.calls")
    done = search_indexes(dm)
    assert sorted((a.table, a.column) for a in done if a.kind == "phones" and a.action == "created") == [
        ("calls", "caller_number"),
        ("users", "phone"),
    ]
    assert {a.action for a in search_indexes(dm) if a.kind == "phones"} == {"current"}
    assert not {(u["table"], u["column"]) for u in check_map(dm).unindexed} & {
        ("users", "phone"),
        ("calls", "caller_number"),
    }
    return dm, before


def _batch_and_erasure(dm: DataMap, settings: Settings, stores: Stores, tmp_path: Path) -> None:
    """A batch with the person found by phone exports what each export alone holds, their calls
    included; then they are erased by phone, verified."""
    subjects = ["phone=0176 123 4567", "email=bob@example.com", "id=3"]
    batch = access_batch(dm, settings, list(subjects), out_dir=tmp_path / "batch", stores=stores)
    _as_alone(dm, settings, subjects, batch, tmp_path)
    assert batch[0].tables.get("shop.calls") and batch[1].tables.get("shop.calls")
    result = erase(dm, settings, "phone=0176 123 4567", stores=stores)
    assert result.found and result.verified, result


def _dropped_and_advised(dm: DataMap) -> None:
    """``privet map index --drop`` removes the number indexes, and map check asks for them again."""
    dropped = search_indexes(dm, drop=True)
    assert {a.action for a in dropped if a.kind == "phones"} == {"dropped"}
    fixes = {(u["table"], u["column"]): u["fix"] for u in check_map(dm).unindexed}
    assert fixes[("calls", "caller_number")] == "privet map index"


def test_when_the_map_index_creates_number_indexes_then_requests_use_them_and_find_the_same(
    mariadb_url: str, settings: Settings, tmp_path: Path
) -> None:
    dm, before = _indexed_shop(mariadb_url, settings, tmp_path)
    # The same export, the person and their calls now found through the indexes (the statements
    # the request sent name them).
    sent: list[str] = []
    with Stores(dm) as stores:
        sa.event.listen(
            stores.sql["shop"].engine, "before_cursor_execute", lambda *args: sent.append(args[2])
        )
        after = access(dm, settings, "phone=0176 123 4567", out=tmp_path / "after.zip", stores=stores)
        assert _contents(str(after.out)) == _contents(str(before.out))
        assert any("privet_phones_users_phone" in s for s in sent)
        assert any("privet_phones_calls_caller_number" in s for s in sent)
        # MariaDB plans the lookup as a range of the index.
        indexes = store_indexes(stores.sql["shop"])
        calls_table = stores.sql["shop"].table("calls")
        numbers = indexes.phones_of(calls_table, "caller_number")
        assert numbers is not None
        ids = {Identity("phone", normalize_phone("0176 123 4567", "DE"))}
        stmt = sa.select(calls_table.c.id).where(equals(calls_table, numbers, 1)).params(identity_params(ids))
        with stores.sql["shop"].connect() as conn:
            sql = str(stmt.compile(dialect=conn.dialect, compile_kwargs={"literal_binds": True}))
            plan = conn.exec_driver_sql("EXPLAIN " + sql.replace("%", "%%")).mappings().all()
        assert any(p["key"] == "privet_phones" and p["type"] == "range" for p in plan), plan

        # A batch reads the calls of a whole group through the index, one range per number.
        sent.clear()
        _batch_and_erasure(dm, settings, stores, tmp_path)
        assert any("privet_phones_calls_caller_number" in s and "users" not in s for s in sent)
    engine = make_engine(mariadb_url)
    with engine.connect() as conn:
        held = dict(conn.exec_driver_sql("SELECT k, r FROM privet_phones_calls_caller_number").fetchall())
        rows = dict(conn.exec_driver_sql("SELECT id, caller_number FROM calls").fetchall())
    engine.dispose()
    assert held == {k: _reversed(v) for k, v in rows.items()}
    assert not any(v and _reversed(v).startswith("7654321671") for v in rows.values())  # type: ignore[union-attr]

    _dropped_and_advised(dm)


@pytest.fixture
def sqlite_calls(sqlite_url: str) -> Any:
    engine = make_engine(sqlite_url)
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE calls (id INTEGER PRIMARY KEY, caller_number VARCHAR(120))")
    table = sa.Table("calls", sa.MetaData(), autoload_with=engine)
    with engine.begin() as conn:
        for sql in TailIndex("calls", "caller_number").statements():
            conn.exec_driver_sql(sql)
    yield engine, table
    engine.dispose()


def _plan(conn: sa.Connection, stmt: sa.Select[Any]) -> str:
    sql = str(stmt.compile(dialect=conn.dialect, compile_kwargs={"literal_binds": True}))
    return " / ".join(str(r[3]) for r in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + sql))


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    st.lists(_written(), min_size=1, max_size=12),
    st.lists(st.sampled_from(NUMBERS), min_size=1, max_size=3, unique=True),
    st.data(),
)
def test_on_sqlite_a_lookup_through_the_tail_index_finds_the_rows_the_search_of_the_column_finds(
    sqlite_calls: Any, written: list[str | None], numbers: list[str], data: st.DataObject
) -> None:
    engine, table = sqlite_calls
    rows = {i + 1: v for i, v in enumerate(written)}
    with engine.begin() as conn:
        conn.execute(table.delete())
        conn.execute(table.insert(), [{"id": k, "caller_number": v} for k, v in rows.items()])
        # SQLite keeps the index current through the application's own updates and deletes.
        for k in data.draw(st.sets(st.sampled_from(sorted(rows)))):
            rows[k] = data.draw(_written())
            conn.execute(table.update().where(table.c.id == k), {"caller_number": rows[k]})
        gone = data.draw(st.sets(st.sampled_from(sorted(rows))))
        conn.execute(table.delete().where(table.c.id.in_(gone)))
    e164 = {normalize_phone(n, "DE") for n in numbers}
    ids = {Identity("phone", v) for v in e164}
    params = identity_params(ids)
    col = table.c.caller_number
    with engine.connect() as conn:
        one_by_one = sa.select(table.c.id).where(equals_tail(col, len(ids)))
        through = {r[0] for r in conn.execute(one_by_one, params)}
        scanned = sa.select(table.c.id).where(equals_bound(col, "phone", len(ids), "sqlite"))
        column = {r[0] for r in conn.execute(scanned, params)}
        many = sa.select(table.c.id).where(equals_many_tail(col, e164))
        together = {r[0] for r in conn.execute(many)}
        swept = {
            r[0] for r in conn.execute(sa.select(table.c.id).where(equals_many(col, "phone", e164, "sqlite")))
        }
        assert "USING INDEX privet_phones_calls_caller_number" in _plan(conn, one_by_one.params(params))
        assert "USING INDEX privet_phones_calls_caller_number" in _plan(conn, many)
    assert through == column == together == swept
    # Every row holding one of the numbers is among them (the exact check follows in Python).
    tails = [t for n in numbers if (t := _reversed(n.replace(" ", "")))]
    held = {k: _reversed(v) for k, v in rows.items() if k not in gone and v}
    assert {k for k, r in held.items() if any(r and r.startswith(t[:6]) for t in tails)} <= through


def test_on_sqlite_the_map_index_creates_tail_indexes_and_requests_use_them_and_find_the_same(
    sqlite_url: str, settings: Settings, tmp_path: Path
) -> None:
    dm, before = _indexed_shop(sqlite_url, settings, tmp_path)
    with Stores(dm) as stores:
        store = stores.sql["shop"]
        calls_table = store.table("calls")
        indexes = store_indexes(store)
        assert isinstance(indexes.phones_of(calls_table, "caller_number"), TailIndex)
        assert isinstance(indexes.phones_of(store.table("users"), "phone"), TailIndex)
        ids = {Identity("phone", normalize_phone("0176 123 4567", "DE"))}
        stmt = sa.select(calls_table.c.id).where(
            indexes.equals(calls_table, "caller_number", "phone", 1, "sqlite")
        )
        with store.connect() as conn:
            assert "USING INDEX privet_phones_calls_caller_number" in _plan(
                conn, stmt.params(identity_params(ids))
            )
        # The same export and the same batch, the person and their calls now found through the index.
        after = access(dm, settings, "phone=0176 123 4567", out=tmp_path / "after.zip", stores=stores)
        assert _contents(str(after.out)) == _contents(str(before.out))
        _batch_and_erasure(dm, settings, stores, tmp_path)
    engine = make_engine(sqlite_url)
    with engine.connect() as conn:
        left = [r[0] for r in conn.exec_driver_sql("SELECT caller_number FROM calls")]
        assert conn.exec_driver_sql("PRAGMA integrity_check").scalar() == "ok"
    engine.dispose()
    assert not any(v and _reversed(v).startswith("7654321671") for v in left)  # type: ignore[union-attr]

    _dropped_and_advised(dm)
