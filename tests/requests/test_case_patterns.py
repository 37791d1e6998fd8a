"""A name or address written in other letters of the same case-blind match (MÜLLER for Müller,
STRAUẞ, ΣΟΦΊΑ, ſ) is found by the search of free text on every database: the LIKE patterns
(``text_pattern``) leave as any one character what the database may lower otherwise than
Python's match compares it."""

from __future__ import annotations

import functools
import sys
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from privet.discovery.check import search_index
from privet.identity import Identity, parse_subject
from privet.requests import access, access_batch
from privet.requests.access import _mention_candidates
from privet.requests.erase import person_identities
from privet.requests.indexing import search_indexes
from privet.requests.matching import (
    ODD_IOTA,
    email_key,
    equals_identity,
    fold,
    identity_params,
    searched_text,
    text_pattern,
)
from privet.requests.resolve import resolve
from privet.requests.textindex import TextIndex, create
from privet.settings import Settings
from privet.stores import Stores
from privet.stores.sql import CASELESS, SqlStore, make_engine
from tests.requests.shop import shop_map
from tests.requests.test_access import _build, message_fragments

# Row keys spelled in letters without i, k or s: every row's text has its own trigrams.
_KEY_LETTERS = "abcdefghjlmnopqrtuvwxyz"


def _key(n: int) -> str:
    out = ""
    for _ in range(4):
        n, r = divmod(n, len(_KEY_LETTERS))
        out += _KEY_LETTERS[r]
    return out


def _classes() -> list[list[str]]:
    """The sets of characters Python's ``re`` takes for one another ignoring case (two or more)."""
    by_fold: dict[str, list[str]] = {}
    for cp in range(sys.maxunicode + 1):
        if 0xD800 <= cp <= 0xDFFF:
            continue
        c = chr(cp)
        f = "\u03b9" if c == ODD_IOTA else fold(c)
        if f != c or c.upper() != c or c == "\u03b9":
            by_fold.setdefault(f, []).append(c)
    return [sorted(set(members) | {f}) for f, members in by_fold.items() if len(set(members) | {f}) > 1]


@functools.cache
def _pairs() -> tuple[tuple[str, str], ...]:
    """Every text character with every identity character the match takes it for (read once per
    test process: the classes take a pass over every code point)."""
    return tuple((x, c) for members in _classes() for x in members for c in members)


def test_the_patterns_leave_open_what_the_database_may_lower_otherwise() -> None:
    assert text_pattern("Müller", "ascii") == "%m_ller%"
    assert text_pattern("Müller", "unicode") == "%müller%"
    assert text_pattern("Σοφία", "unicode") == "%_ο_ία%"  # σ ς, φ ϕ: lowered apart
    assert text_pattern("Anna Schmidt", "ascii", indexed=False) == "%anna _chm_dt%"
    # Indexed: i, k and s stay where leaving them open would leave no trigram to look up.
    assert text_pattern("Kristin", "ascii") == "%kristin%"
    assert text_pattern("Kristin", "unicode") == "%kristin%"
    assert text_pattern("Anna Schmidt", "unicode") == "%anna schmidt%"
    assert text_pattern("Kristin", "ascii", indexed=False) == "%_r__t_n%"
    assert text_pattern("Anna Schmidt", "ascii") == "%anna _chm_dt%"
    assert text_pattern("a\\b", "unicode") == "%a_b%"
    assert text_pattern("İpek", "unicode") == "%_pek%"  # İ lowers to two characters in Python
    params = identity_params({Identity("name", "Jürgen")})
    assert (params["name_in_0"], params["name_like_0"], params["name_scan_0"]) == (
        "%jürgen%",
        "%j_rgen%",
        "%j_rgen%",
    )


def _missed(conn: sa.Connection, table: sa.Table, column: str, dialect: str, key: str) -> list[Any]:
    """The pairs whose text the column's search (as ``contains_bound`` compares) does not find
    with the identity's pattern."""
    text = searched_text(table.c[column], dialect)
    searched = text if dialect == "sqlite" else sa.func.lower(text)
    query = sa.select(table.c.x, table.c.c).where(sa.not_(searched.like(table.c[key])))
    return [tuple(r) for r in conn.execute(query)]


def test_when_a_text_writes_a_letter_as_another_of_its_case_then_each_database_finds_it(
    db_url: str,
) -> None:
    """Every character pair Python's case-blind match takes for one another, in a text and in a
    name: the database's search of the column with the name's pattern finds the text (on MariaDB
    in a column compared exactly and in one compared ignoring case)."""
    dialect = sa.make_url(db_url).get_backend_name()
    pairs = _pairs()
    assert len(pairs) > 5000
    md = sa.MetaData()
    columns = [sa.Column("body", sa.Text)]
    if dialect in ("mysql", "mariadb"):
        columns.append(sa.Column("body_bin", sa.Text(collation="utf8mb4_bin")))
    table = sa.Table(
        "case_pairs",
        md,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("x", sa.Text),
        sa.Column("c", sa.Text),
        sa.Column("pattern", sa.Text),
        sa.Column("scan", sa.Text),
        *columns,
        mysql_charset="utf8mb4",
    )
    engine = make_engine(db_url)
    try:
        md.drop_all(engine)
        md.create_all(engine)
        rows = []
        for n, (x, c) in enumerate(pairs):
            k = _key(n)
            value, written = f"{k}{c}{k}", f"{k}{x}{k}"
            lowering = "unicode" if dialect == "postgresql" else "ascii"
            rows.append(
                {
                    "id": n + 1,
                    "x": x,
                    "c": c,
                    "pattern": text_pattern(value, lowering),
                    "scan": text_pattern(value, "ascii", indexed=False),
                    "body": f"seen {written}.",
                    **({"body_bin": f"seen {written}."} if len(columns) > 1 else {}),
                }
            )
        with engine.begin() as conn:
            conn.execute(table.insert(), rows)
            used = "pattern" if dialect == "postgresql" else "scan"
            for column in [col.name for col in columns]:
                missed = _missed(conn, table, column, dialect, used)
                if dialect == "postgresql":
                    # Its indexed pattern keeps i and s, which a text may write ı and ſ; its
                    # lower() makes İ and K (Kelvin) i and k itself.
                    assert {(x, c.lower()) for x, c in missed} == {("ı", "i"), ("ſ", "s")}
                else:
                    assert missed == [], column
            if dialect == "sqlite":
                # The search index's LIKE (FTS5 trigrams) with its own pattern.
                index = TextIndex("case_pairs", "body", "id")
                create(conn, index)
                fts = sa.table(index.text_name, sa.column("rowid"), sa.column("body"))
                found = sa.select(fts.c.rowid).where(
                    fts.c.body.like(table.c.pattern), fts.c.rowid == table.c.id
                )
                missed = conn.execute(sa.select(table.c.x, table.c.c).where(~sa.exists(found))).all()
                assert [tuple(r) for r in missed] == []
    finally:
        md.drop_all(engine)
        engine.dispose()


# People whose names messages write in other letters of the same case-blind match, and what
# each one's export must find: Jürgen Straße in capitals (Ü, ẞ), Sofía in Greek capitals,
# Nikos with a final sigma that PostgreSQL's lower() makes a medial one, Kelvin's K.
_CAPITALS = {
    "juergen": ["Bitte JÜRGEN STRAẞE zurückrufen"],
    "sofia": ["ΚΆΛΕΣΕ ΤΗ ΣΟΦΊΑ ΠΑΠΑΔΟΠΟΎΛΟΥ", "ΣΟΦΊΑ ΠΑΠΑΔΟΠΟΎΛΟΥ ς"],
    "nikos": ["ΡΏΤΑ ΤΟΝ ΝΊΚΟΣ ΠΑΠΠΆΣ"],
    "anka": ["AN\u212aA LUDWIG again"],
}


def _capitals(url: str, rec: Path, indexed: bool) -> Any:
    """The shop with the people and messages of ``_CAPITALS`` (and a message naming someone else),
    searched through the column or (``indexed``) through its search index (PostgreSQL's trigram
    index, SQLite's and MariaDB's of ``privet map index``); its map."""
    _build(
        url,
        "INSERT INTO users (id, tenant_id, email, name) VALUES "
        "(4, 1, 'juergen@example.com', 'Jürgen Straße'), "
        "(5, 1, 'sofia@example.com', 'Σοφία Παπαδοπούλου'), "
        "(6, 1, 'anka@example.com', 'Anka Ludwig'), "
        "(7, 1, 'nikos@example.com', 'Νίκος Παππάς')",
        "INSERT INTO messages (id, author_id, body) VALUES "
        "(80, 3, 'Bitte JÜRGEN STRAẞE zurückrufen'), "
        "(81, 3, 'ΚΆΛΕΣΕ ΤΗ ΣΟΦΊΑ ΠΑΠΑΔΟΠΟΎΛΟΥ'), "
        "(82, 3, 'ΣΟΦΊΑ ΠΑΠΑΔΟΠΟΎΛΟΥ ς'), "
        "(83, 3, 'AN\u212aA LUDWIG again'), "
        "(84, 3, 'Jürgen Strasse is someone else'), "
        "(85, 3, 'ΡΏΤΑ ΤΟΝ ΝΊΚΟΣ ΠΑΠΠΆΣ')",
    )
    dm = shop_map(url, rec)
    if indexed:
        _index_messages(url, dm)
    return dm


def _index_messages(url: str, dm: Any) -> None:
    """The search indexes of the shop's messages: on PostgreSQL the trigram index map check advises
    (on a table this small the planner may still read the table instead; the pattern is the same
    either way), elsewhere those privet map index creates."""
    if sa.make_url(url).get_backend_name() == "postgresql":
        advised = search_index("postgresql", "messages", "body", None)
        assert advised is not None
        _build(url, "CREATE EXTENSION IF NOT EXISTS pg_trgm", *advised.split("; "), "ANALYZE messages")
    else:
        assert search_indexes(dm)


@pytest.mark.parametrize("indexed", [False, True], ids=["column", "index"])
def test_when_a_message_writes_a_name_in_capitals_beyond_ascii_then_access_finds_it(
    shop: tuple[str, Path], settings: Settings, tmp_path: Path, indexed: bool
) -> None:
    """Each person's access finds the messages that name them in other letters (``_CAPITALS``),
    through the column's search and through its search index."""
    dm = _capitals(*shop, indexed)
    found = {
        who: message_fragments(access(dm, settings, f"email={who}@example.com", out=tmp_path / f"{who}.zip"))
        for who in _CAPITALS
    }
    assert {who: sorted(fragments) for who, fragments in found.items()} == _CAPITALS


@pytest.mark.parametrize("indexed", [False, True], ids=["column", "index"])
def test_when_they_are_exported_together_then_each_export_finds_the_same_names(
    shop: tuple[str, Path], settings: Settings, tmp_path: Path, indexed: bool
) -> None:
    """A batch searches its people's names together (on PostgreSQL one statement driven by all
    their patterns): each export finds the messages that name its person in other letters, as
    that person's own access does (a pattern of the name as Python lowers it would miss
    ΝΊΚΟΣ ΠΑΠΠΆΣ, which PostgreSQL lowers with a medial sigma)."""
    dm = _capitals(*shop, indexed)
    got = access_batch(
        dm, settings, [f"email={who}@example.com" for who in _CAPITALS], out_dir=tmp_path / "all"
    )
    found = {who: sorted(message_fragments(r)) for who, r in zip(_CAPITALS, got, strict=True)}
    assert found == _CAPITALS


def test_when_a_mariadb_column_ignores_case_then_an_address_is_looked_up_in_its_index(
    mariadb_url: str,
) -> None:
    """An address column under a ``_ci`` collation is searched through its index (the plan
    reads one key) and finds the address in any case; under ``utf8mb4_bin`` it is lowered row by
    row as before, and finds the same rows."""
    md = sa.MetaData()
    sa.Table(
        "case_people",
        md,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("email", sa.String(200), index=True),
        sa.Column("email_bin", sa.String(200, collation="utf8mb4_bin"), index=True),
        mysql_charset="utf8mb4",
    )
    engine = make_engine(mariadb_url)
    md.create_all(engine)
    written = ["Anna@Example.com", "ANNA@EXAMPLE.COM", "anna@example.com", "anna@example.co", "b@example.com"]
    with engine.begin() as conn:
        conn.execute(
            md.tables["case_people"].insert(),
            [{"id": n + 1, "email": e, "email_bin": e} for n, e in enumerate(written)]
            + [{"id": n + 100, "email": f"user{n}@example.com", "email_bin": "x"} for n in range(300)],
        )
    engine.dispose()
    store = SqlStore("people", mariadb_url)
    try:
        table = store.table("case_people")
        assert table.info[CASELESS] == {"email"}
        with store.connect() as conn:
            for column in ("email", "email_bin"):
                cond = equals_identity(table.c[column], "email", ["anna@example.com"], store.dialect)
                assert {r[0] for r in conn.execute(sa.select(table.c.id).where(cond))} == {1, 2, 3}
            cond = equals_identity(table.c.email, "email", ["anna@example.com"], store.dialect)
            compiled = sa.select(table.c.id).where(cond).compile(conn, compile_kwargs={"literal_binds": True})
            plan = conn.exec_driver_sql(f"EXPLAIN {compiled}").mappings().one()
            assert plan["type"] in ("ref", "range") and plan["key"] == "ix_case_people_email"
    finally:
        store.dispose()
        engine = make_engine(mariadb_url)
        md.drop_all(engine)
        engine.dispose()


def test_an_address_is_looked_up_by_the_part_a_person_owns() -> None:
    """``email_key``: a person's own address is looked up up to its @, a role address up to the
    end of its domain's first label; an address beyond ASCII, or a part without three characters
    in a row for the index, keeps the whole pattern. The part is always the pattern's start."""
    cases = {
        ("lea.bernard301@example.com", "unicode"): "%lea.bernard301@%",
        ("Jo.K@Gmail.com", "unicode"): "%jo.k@gmail%",  # too short to be looked up alone
        ("info@acme-gmbh.de", "unicode"): "%info@acme-gmbh%",
        ("info@acme-gmbh.de", "ascii"): "%_nfo@acme-gmbh%",
        ("support@localhost", "unicode"): "%support@localhost%",
        ("jürgen.m@example.de", "unicode"): "%jürgen.m@example.de%",
        ("kiss.kiss@sk.de", "ascii"): "%____.____@__.de%",
    }
    for (value, lowering), key in cases.items():
        pattern = text_pattern(value, lowering)
        assert email_key(value, pattern) == key, value
        assert pattern.startswith(key[:-1]), value


def test_an_address_is_looked_up_by_its_part_and_the_rows_found_are_checked_whole(
    shop: tuple[str, Path], settings: Settings, tmp_path: Path
) -> None:
    """Through each database's search index, the address's part finds a text holding the same part
    at another domain too: the whole pattern, checked on the rows the index gives, leaves it out,
    for one person and for several searched together (PostgreSQL's statement driven by all
    their patterns)."""
    url, rec = shop
    _build(
        url,
        "INSERT INTO users (id, tenant_id, email, name) VALUES "
        "(8, 1, 'anna.schmidt@example.com', 'Zora Quill')",
        "INSERT INTO messages (id, author_id, body) VALUES "
        "(90, 3, 'write to anna.schmidt@example.com today'), "
        "(91, 3, 'anna.schmidt@other.org is someone else'), "
        "(92, 3, 'ANNA.SCHMIDT@EXAMPLE.COM in capitals')",
    )
    dm = shop_map(url, rec)
    _index_messages(url, dm)
    stores = Stores(dm)
    try:
        anna, bob = (
            person_identities(resolve(dm, stores, parse_subject(s)))
            for s in ("email=anna.schmidt@example.com", "email=bob@example.com")
        )
        for people in ([anna], [anna, bob]):
            rows = [
                r
                for ref, _col, group, found in _mention_candidates(dm, stores, people)
                if ref == "shop.messages"
                for r in found
                if group[r[0]] == 0
            ]
            assert sorted({r[1] for r in rows}) == [90, 92]
    finally:
        stores.close()
    got = access(dm, settings, "email=anna.schmidt@example.com", out=tmp_path / "anna.zip")
    assert sorted(message_fragments(got)) == [
        "ANNA.SCHMIDT@EXAMPLE.COM in capitals",
        "write to anna.schmidt@example.com today",
    ]
