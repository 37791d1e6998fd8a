"""PostgreSQL renders a batch's table entries (``privet.requests.render``): byte for byte what
Python writes from the same rows, for every value of the types it takes; the rest goes the
Python way. The batch reads a group ahead and finishes one behind: a failure stops it with the
groups before finished and nothing left of the others."""

from __future__ import annotations

import datetime as dt
import decimal
import zipfile
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from privet.datamap import parse_map
from privet.requests import access, access_batch, render
from privet.requests.access import _csv_text, _json_rows
from privet.requests.batch import _owned_read
from privet.settings import Settings
from privet.stores import Stores
from tests.requests.test_access import _build

SCHEMA = (
    "CREATE TABLE users (id bigint PRIMARY KEY, email text NOT NULL)",
    "CREATE TABLE items (id bigint PRIMARY KEY, user_id bigint REFERENCES users(id), t text, v varchar(40),"
    " n numeric, b boolean, d date, i int, s smallint, ts timestamp, tz timestamptz)",
)
COLUMNS = ["id", "user_id", "t", "v", "n", "b", "d", "i", "s", "ts", "tz"]

MAP = """
version: 1
stores: {app: {url: "%s"}}
subjects:
  user: {root: app.users, identities: {email: email}}
tables:
  app.users: {subject: user, columns: {email: {category: contact.email}}}
  app.items: {subject: user, path: user_id -> app.users, columns: {t: {category: content.private}}}
"""

# Characters JSON escapes or the CSV quotes, and some beyond ASCII.
_SPECIAL = ['"', ",", "\r", "\n", "\\", "\t", "\x01", "\x1f", "\x7f", "\u2028", "é", "😀", " ", "/"]
_TEXT = st.text(
    alphabet=st.one_of(
        st.sampled_from(_SPECIAL), st.characters(exclude_categories=("Cs",), exclude_characters="\x00")
    ),
    max_size=20,
)
_DECIMAL = st.one_of(
    st.integers(0, 12).flatmap(
        lambda places: st.decimals(
            min_value=-(10**8), max_value=10**8, places=places, allow_nan=False, allow_infinity=False
        )
    ),
    st.sampled_from(
        [decimal.Decimal(v) for v in ("NaN", "Infinity", "-Infinity", "0E-7", "0.000000", "1E-7")]
    ),
)
# Whole seconds and microseconds; before 1893 Berlin's offset has seconds (its local mean time).
_MOMENT = st.one_of(
    st.datetimes(dt.datetime(2, 1, 1), dt.datetime(9998, 12, 31)),
    st.datetimes(dt.datetime(1800, 1, 1), dt.datetime(2100, 1, 1)).map(lambda m: m.replace(microsecond=0)),
)
_ROW = st.fixed_dictionaries(
    {
        "user_id": st.integers(1, 3),
        "t": st.none() | _TEXT,
        "v": st.none() | _TEXT.map(lambda s: s[:40]),
        "n": st.none() | _DECIMAL,
        "b": st.none() | st.booleans(),
        "d": st.none() | st.dates(dt.date(1, 1, 1), dt.date(9999, 12, 31)),
        "i": st.none() | st.integers(-(2**31), 2**31 - 1),
        "s": st.none() | st.integers(-(2**15), 2**15 - 1),
        "ts": st.none() | _MOMENT,
        "tz": st.none() | _MOMENT.map(lambda m: m.replace(tzinfo=dt.UTC)),
    }
)


@pytest.fixture
def items_url(pg_url: str) -> str:
    """The items database, whose connections' time zone has summer time and, before 1893, an
    offset with seconds."""
    database = sa.engine.make_url(pg_url).database
    _build(pg_url, f"ALTER DATABASE {database} SET timezone = 'Europe/Berlin'")
    _build(
        pg_url, *SCHEMA, "INSERT INTO users VALUES (1, 'a@example.com'), (2, 'b@example.com'), (3, 'c@x.org')"
    )
    return pg_url


def _rendered(url: str) -> tuple[sa.Engine, sa.Select[Any]]:
    engine = sa.create_engine(url)
    items = sa.Table("items", sa.MetaData(), autoload_with=engine)
    kinds = render.kinds(items)
    assert kinds is not None and list(kinds) == COLUMNS
    rows = sa.select(items, items.c.user_id.label("__owner")).where(items.c.user_id.is_not(None))
    return engine, render.rendered_select(rows, kinds, items.c.id, "__owner")


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(st.lists(_ROW, min_size=1, max_size=12), st.randoms(use_true_random=False))
def test_the_database_renders_each_owners_rows_as_python_writes_them(
    items_url: str, rows: list[dict[str, Any]], rnd: Any
) -> None:
    keys = rnd.sample(range(1, 1000), len(rows))  # inserted out of key order
    engine, stmt = _rendered(items_url)
    with engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM items"))
        conn.execute(
            sa.text("INSERT INTO items VALUES (:id, :user_id, :t, :v, :n, :b, :d, :i, :s, :ts, :tz)"),
            [{"id": k, **r} for k, r in zip(keys, rows, strict=True)],
        )
    with engine.connect() as conn:
        stored = [dict(r._mapping) for r in conn.execute(sa.text("SELECT * FROM items ORDER BY id"))]
        got = {r[0]: r[1:] for r in conn.execute(stmt)}
    engine.dispose()
    assert set(got) == {r["user_id"] for r in stored}
    for owner, (n, owner_keys, json_lines, csv_lines, exact) in got.items():
        mine = [r for r in stored if r["user_id"] == owner]
        assert n == len(mine) and render.in_order(owner_keys)
        assert owner_keys == [r["id"] for r in mine]
        # Inexact exactly when Python writes a decimal in exponent notation or an offset with seconds.
        assert exact == all(
            (r["n"] is None or "E" not in str(r["n"]))
            and (r["tz"] is None or r["tz"].utcoffset().seconds % 60 == 0)
            for r in mine
        )
        if exact:
            assert (b"[\n" + json_lines.encode() + b"]\n") == b"[\n" + _json_rows(mine) + b"]\n"
            assert _csv_text([], COLUMNS) + csv_lines.encode() == _csv_text(mine, COLUMNS)


_T = dt.datetime(2024, 3, 31, 2, 30, 0, 120)
_Z = dt.datetime(2024, 10, 27, 0, 59, 59, tzinfo=dt.UTC)
_OLD = dt.datetime(1890, 1, 1, 12, 0, tzinfo=dt.UTC)  # +00:53:28 in Berlin: the Python way


def _entries(path: str) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as z:
        return {n: z.read(n) for n in z.namelist() if n.startswith("tables/")}


def test_when_the_database_renders_a_groups_tables_then_each_export_holds_the_bytes_access_gives(
    items_url: str, settings: Settings, tmp_path: Path
) -> None:
    rows = [
        (
            5,
            1,
            'say "hi",\r\nbye',
            "é😀",
            decimal.Decimal("12.50"),
            True,
            dt.date(2024, 2, 29),
            7,
            -3,
            _T,
            _Z,
        ),
        (2, 1, None, "", decimal.Decimal("NaN"), False, None, None, None, None, None),
        (
            9,
            2,
            "\\\x01\x7f",
            "a,b",
            decimal.Decimal("0.0000001"),
            None,
            dt.date(1, 1, 1),
            -(2**31),
            2**15 - 1,
            _T,
            _Z,
        ),
        (4, 2, "plain", "x", decimal.Decimal("-Infinity"), True, dt.date(9999, 12, 31), 0, 0, None, _OLD),
        (7, 3, "\u2028", "\t", decimal.Decimal("0E-7"), None, None, 1, 1, _T.replace(microsecond=0), None),
        (8, 3, "last", None, decimal.Decimal("1000.000001"), False, dt.date(1970, 1, 1), 2, 2, None, _Z),
    ]
    _build(
        items_url,
        *(
            (
                "INSERT INTO items VALUES (:a, :b, :c, :d, :e, :f, :g, :h, :i, :j, :k)",
                dict(zip("abcdefghijk", r, strict=True)),
            )
            for r in rows
        ),
    )
    dm = parse_map(MAP % items_url)
    with Stores(dm) as stores:
        how = _owned_read(dm, stores, "app.items", dm.tables["app.items"])
        assert how is not None and how.rendered is not None
    subjects = ["email=a@example.com", "email=c@x.org", "email=b@example.com", "email=nobody@example.com"]
    batch = access_batch(dm, settings, subjects, out_dir=tmp_path / "batch", group=2)
    assert [r.tables.get("app.items", 0) for r in batch] == [2, 2, 2, 0]
    for subject, got in zip(subjects, batch, strict=True):
        alone = access(dm, settings, subject, out=tmp_path / "alone.zip")
        assert got.out is not None and alone.out is not None
        assert _entries(got.out) == _entries(alone.out)


def test_when_a_group_cannot_be_finished_then_the_groups_before_are_and_nothing_of_the_rest_is_left(
    items_url: str, settings: Settings, tmp_path: Path
) -> None:
    _build(
        items_url, "INSERT INTO items (id, user_id, t) VALUES (1, 1, 'one'), (2, 2, 'two'), (3, 3, 'three')"
    )
    dm = parse_map(MAP % items_url)
    out = tmp_path / "batch"
    (out / "access-000003.zip").mkdir(parents=True)  # where the second group's first export goes
    subjects = ["email=a@example.com", "email=b@example.com", "email=c@x.org", "email=a@example.com"] * 2
    with pytest.raises(OSError):
        access_batch(dm, settings, subjects, out_dir=out, group=2)
    assert sorted(p.name for p in out.iterdir()) == [
        "access-000001.zip",
        "access-000002.zip",
        "access-000003.zip",
    ]
    for name in ("access-000001.zip", "access-000002.zip"):
        with zipfile.ZipFile(out / name) as z:
            assert z.testzip() is None and "tables/app.items.json" in z.namelist()
