"""MariaDB's token indexes of free text (``privet.requests.tokenindex``): the words they hold are
the words Python cuts, whatever the letters and their case; a search through them keeps every row
that mentions the person (and none the search of the column would not keep), the triggers keep
them right whoever writes; a missing piece sends the searches back to the column."""

from __future__ import annotations

import functools
import re
import sys
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from privet.detection.operators.mentions import mentions
from privet.identity import Identity
from privet.requests.matching import (
    _PHONE_NOISE,
    _TEXT_SPACES,
    PY_OTHER_DIGITS,
    identity_shape,
    mention_filter_bound,
)
from privet.requests.textindex import mention_filter, store_indexes
from privet.requests.tokenindex import (
    CANONICAL_CHARS,
    FOLDS,
    SCAN,
    WORD_CHARS,
    _byte_class,
    canonical,
    catalog,
    create,
    folded_sql,
    indexable,
    search_params,
    searched_shape,
    token_query,
    tokens_sql,
    words,
)
from privet.stores import SqlStore, make_engine
from tests.requests.test_matching import OTHER, PHONE, texts

ANNA = Identity("email", "anna@example.com")
NAMES = [
    "Anna Berg",
    "Zoë O'Neil",
    "Jürgen Strauß",
    "Kai Sun",
    "Σωκράτης Ιωάννου",  # Greek iota: not a word character of the index (U+0345 shares its case)
    "Дмитрий Вавилов",
    "Li Na",
    "王伟",  # no word character of the index: searched in the column
    "J",
]
EMAILS = ["anna.berg@example.com", "a_b@mail.example.de", "x@y.io", "li.na+tag@Example.org"]
_EMAIL_IDS = [Identity("email", e.lower()) for e in EMAILS]
_ALL = "".join(chr(c) for c in range(sys.maxunicode + 1) if not 0xD800 <= c < 0xE000)


def _new_engine(url: str) -> sa.Engine:
    return make_engine(url)


def test_the_words_are_python_word_characters_closed_under_its_case_blind_match() -> None:
    assert all(re.fullmatch(r"\w", c) for c in WORD_CHARS)
    # Every character Python's case-blind match takes for a word character is one.
    alike = set(re.findall("[" + re.escape(WORD_CHARS) + "]", _ALL, re.IGNORECASE))
    assert alike == set(WORD_CHARS)
    # One lowercase letter for each class of them, which stands for every member.
    for c in WORD_CHARS:
        (low,) = canonical(c)
        assert re.fullmatch(re.escape(low), c, re.IGNORECASE), (c, low)
    assert set(FOLDS) <= set(WORD_CHARS)
    assert words("«Anna» O'Neil,ſtraße ΣΟΦΊΑ ς 王伟 Kelvin") == [
        "anna",
        "o",
        "neil",
        "straße",
        "σοφία",
        "σ",
        "kelvin",
    ]


@pytest.fixture
def engine(mariadb_url: str) -> Any:
    engine = _new_engine(mariadb_url)
    yield engine
    engine.dispose()


def test_the_server_lowers_and_folds_the_word_characters_as_python_and_no_other_into_them(
    engine: Any,
) -> None:
    with engine.connect() as conn:
        lowered = conn.execute(
            sa.text(f"SELECT {folded_sql('CONVERT(:w USING utf8mb4)')}"), {"w": WORD_CHARS}
        )
        assert lowered.scalar() == canonical(WORD_CHARS)
        # The basic plane: a character beyond it lowers to one beyond it, and no word character is.
        others = "".join(c for c in _ALL[: 0x10000 - 0x800] if c not in set(WORD_CHARS))
        lowered_into_words = conn.execute(
            sa.text(f"SELECT CAST({folded_sql('CONVERT(:s USING utf8mb4)')} AS BINARY) REGEXP :word"),
            {"s": others, "word": _byte_class(CANONICAL_CHARS).replace("\\\\", "\\")},
        ).scalar()
        assert lowered_into_words == 0


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(max_size=40))
def test_the_server_cuts_the_same_words_as_python(engine: Any, text: str) -> None:
    with engine.connect() as conn:
        got = conn.execute(sa.text(f"SELECT {tokens_sql('CONVERT(:t USING utf8mb4)')}"), {"t": text}).scalar()
    assert [t[1:] for t in got.split() if t.startswith("x") and len(t) > 1] == words(text)


@functools.cache
def _alike(c: str) -> list[str]:
    """Every character Python's case-blind match takes for ``c``."""
    return sorted(set(re.findall(re.escape(c), _ALL, re.IGNORECASE)))


@st.composite
def _written(draw: st.DrawFn, value: str) -> str:
    """An identity as someone may write it: each letter in any case Python's match takes for it."""
    return "".join(draw(st.sampled_from(_alike(c))) for c in value)


@st.composite
def _mentioning(draw: st.DrawFn) -> str:
    value = draw(st.sampled_from(NAMES + EMAILS))
    around = st.sampled_from(["", " ", "«", "»", "\u00a0", "'", "·", ",", "-", "x", "ι", "王", "1", "_", "Ж"])
    return draw(texts()) + draw(around) + draw(_written(value)) + draw(around) + draw(texts())


def _passed(conn: sa.Connection, table: sa.Table, cond: Any, params: dict[str, Any]) -> set[int]:
    return {r[0] for r in conn.execute(sa.select(table.c.id).where(cond), params)}


@pytest.fixture
def notes(mariadb_url: str) -> Any:
    engine = _new_engine(mariadb_url)
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT) CHARACTER SET utf8mb4")
    table = sa.Table("notes", sa.MetaData(), autoload_with=engine)
    index = indexable(table, "body")
    assert index is not None
    with engine.connect() as conn:
        create(conn, index)
    yield engine, table, index
    engine.dispose()


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    st.lists(st.one_of(texts(), _mentioning()), min_size=1, max_size=12),
    st.lists(
        st.sampled_from(
            [PHONE, OTHER, ANNA, *(Identity("name", n) for n in NAMES), *map(Identity, ["email"] * 4, EMAILS)]
        ),
        min_size=1,
        max_size=3,
        unique=True,
    ),
    st.data(),
)
def test_a_search_through_the_index_keeps_every_row_that_mentions_the_person(
    notes: Any, batch: list[str], people: list[Identity], data: st.DataObject
) -> None:
    engine, table, index = notes
    ids = {Identity(i.kind, i.value.lower()) if i.kind == "email" else i for i in people}
    shape = identity_shape(ids)
    searched = searched_shape(shape, ids)
    plain = mention_filter_bound(table, "body", shape, dialect="mariadb")
    indexed = mention_filter(table, "body", searched, dialect="mariadb", index=index)
    assert plain is not None and indexed is not None
    params = search_params(ids)
    with engine.begin() as conn:
        conn.execute(table.delete())
        conn.execute(table.insert(), [{"id": i, "body": t} for i, t in enumerate(batch)])
    # Rows changed and removed after they were written: the triggers follow.
    with engine.begin() as conn:
        for i in data.draw(st.sets(st.sampled_from(range(len(batch))))):
            batch[i] = data.draw(st.one_of(texts(), _mentioning()))
            conn.execute(table.update().where(table.c.id == i), {"body": batch[i]})
        gone = data.draw(st.sets(st.sampled_from(range(len(batch)))))
        conn.execute(table.delete().where(table.c.id.in_(gone)))
    with engine.connect() as conn:
        found, column = _passed(conn, table, indexed, params), _passed(conn, table, plain, params)
        tokens = dict(conn.execute(sa.text(f"SELECT k, tokens FROM {index.name}")).fetchall())
    meant = {i for i, t in enumerate(batch) if i not in gone and mentions(t, ids)}
    assert meant <= found, ([batch[i] for i in meant - found], ids)
    # The search of the column misses what the server does not lowercase as Python's match folds.
    folded = {i for i in meant if set(batch[i]) & set(FOLDS)}
    assert meant - column <= folded, [batch[i] for i in meant - column]
    # What the index holds: the tokens of every row as it is now, of no row gone.
    assert {k: sorted(v.split()) for k, v in tokens.items()} == {
        i: _tokens(t) for i, t in enumerate(batch) if i not in gone
    }


def _tokens(text: str) -> list[str]:
    """The tokens the index holds for a text, as Python spells them: its words; at every digit of
    its stripped text the up to 7 digits that end there, reversed; a mark for another script's
    digits."""
    stripped = text
    for ch in (*_PHONE_NOISE, *_TEXT_SPACES):
        stripped = stripped.replace(ch, "")
    out = ["x" + w for w in words(text)]
    for run in re.findall(r"[0-9]+", stripped):
        out += ["p" + run[max(0, i - 7) : i][::-1] for i in range(1, len(run) + 1)]
    if any(a <= ord(c) <= b for c in text for a, b in PY_OTHER_DIGITS):
        out.append("qunsure")
    return sorted(out)


def test_when_a_piece_of_the_index_is_missing_then_searches_read_the_column(notes: Any) -> None:
    engine, _table, index = notes
    url = engine.url.render_as_string(hide_password=False)
    store = SqlStore("notes", url)
    try:
        notes_table = store.table("notes")
        assert store_indexes(store).of(notes_table, "body") == index
        with engine.connect() as conn:
            conn.exec_driver_sql(f"DROP TRIGGER {index.trigger('au')}")
        # Without the trigger that follows updates, the index would miss changed texts.
        assert store_indexes(store).of(notes_table, "body") is None
        with engine.connect() as conn:
            conn.exec_driver_sql(
                f"CREATE TRIGGER {index.trigger('au')} AFTER UPDATE ON notes FOR EACH ROW SET @x = 1"
            )
            assert catalog(conn).current(index)  # the name is all that is compared
            create(conn, index)  # replaces every piece
            for sql in index.drop_statements()[-1:]:
                conn.exec_driver_sql(sql)  # the table of tokens gone, the triggers left
        assert store_indexes(store).of(notes_table, "body") is None
        with engine.connect() as conn:
            create(conn, index)
        assert store_indexes(store).of(notes_table, "body") == index
    finally:
        store.dispose()


def test_a_person_whose_identities_leave_no_token_is_searched_in_the_column(notes: Any) -> None:
    engine, table, index = notes
    with engine.begin() as conn:
        conn.execute(table.insert(), [{"id": 1, "body": "Grüße an 王伟!"}, {"id": 2, "body": "J. was here"}])
    for who in ({Identity("name", "王伟")}, {Identity("name", "J"), ANNA}):
        assert token_query(who) is None
        shape = searched_shape(identity_shape(who), who)
        assert dict(shape).get(SCAN) == 1
        cond = mention_filter(table, "body", shape, dialect="mariadb", index=index)
        with engine.connect() as conn:
            assert _passed(conn, table, cond, search_params(who)) == ({1} if "王伟" in str(who) else {2})
