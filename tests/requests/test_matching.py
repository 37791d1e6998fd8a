"""The SQL prefilters of the mention searches against the Python check they feed: whatever the
recognizer finds as the person's phone, the prefilter must have let through (else erasure would
leave the mention and verification would never see it). Real databases, real index plans."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from psycopg import sql as psql

from privet.datamap import parse_map
from privet.detection.operators import mentions
from privet.identity import Identity
from privet.requests.matching import (
    equals_identity,
    identity_params,
    identity_shape,
    mention_filter_bound,
    plannable_once,
    value_matches,
)
from privet.requests.textindex import store_indexes
from privet.requests.verify import _build_search
from privet.stores import SqlStore, make_engine
from tests.requests.test_access import _build

PHONE = Identity("phone", "+491761000777")
OTHER = Identity("phone", "+4930123456")


# Digits of other scripts (phonenumbers reads them): Arabic-Indic, Devanagari, fullwidth, and
# mathematical bold (four bytes in UTF-8).
_SCRIPTS = (
    "0123456789",
    "٠١٢٣٤٥٦٧٨٩",
    "०१२३४५६७८९",
    "０１２３４５６７８９",
    "".join(chr(0x1D7CE + d) for d in range(10)),
)


def _written(draw: st.DrawFn) -> str:
    """The number as people write it: an international or national prefix, groups of digits
    split by spaces (also no-break and ideographic ones), dashes, dots, slashes or brackets,
    sometimes in the digits of another script."""
    prefix = draw(st.sampled_from(["+49 ", "+49", "0049 ", "+49 (0)", "0", "(0", "+49-"]))
    digits = "1761000777"
    cuts = sorted(draw(st.sets(st.integers(1, len(digits) - 1), max_size=4)))
    seps = [
        draw(st.sampled_from([" ", "-", ".", "/", " / ", "  ", ") ", "\u00a0", "\u202f", "\u3000", "\t"]))
        for _ in cuts
    ]
    parts, last = [], 0
    for cut, sep in zip(cuts, seps, strict=True):
        parts += [digits[last:cut], sep]
        last = cut
    body = "".join([*parts, digits[last:]])
    if prefix == "(0" and not body.startswith(")"):
        body = ")" + body
    script = draw(st.sampled_from(_SCRIPTS[:1] * 6 + _SCRIPTS[1:]))
    return (prefix + body).translate(str.maketrans("0123456789", script))


@st.composite
def texts(draw: st.DrawFn) -> str:
    words = st.sampled_from(
        [
            "call",
            "me",
            "at",
            "order",
            "1000777",
            "2026-05-01",
            "12.50",
            "x",
            "tel:",
            "Nr.",
            ",",
            "\n",
            "or",
            "5€",
            "Größe",
            "2ä",
            "電話",
            "9時",
            "12",
            "注文番号12345を",
            "12 34時",
        ]
    )
    before = " ".join(draw(st.lists(words, max_size=5)))
    after = " ".join(draw(st.lists(words, max_size=5)))
    glue = draw(st.sampled_from([" ", ": ", "\n", " (", ", ", "", "ä", "時", "番号は", "電話12 "]))
    end = draw(
        st.sampled_from(["", ".", ",", ")", " ", "ä", "時", " 12", " 12ä", "\u00a012", "です", "-3時"])
    )
    return f"{before}{glue}{_written(draw)}{end}{after}"


@pytest.fixture
def notes_url(db_url: str) -> str:
    _build(db_url, "CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)")
    return db_url


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(st.lists(texts(), min_size=1, max_size=12))
def test_prefilter_lets_through_every_number_the_recognizer_finds(notes_url: str, batch: list[str]) -> None:
    engine = make_engine(notes_url)  # Privet's connections: on SQLite with its function for other digits
    table = sa.Table("notes", sa.MetaData(), autoload_with=engine)
    ids = {PHONE, OTHER}
    cond = mention_filter_bound(table, "body", identity_shape(ids), dialect=engine.dialect.name)
    assert cond is not None
    try:
        with engine.begin() as conn:
            conn.execute(table.delete())
            conn.execute(table.insert(), [{"id": i, "body": t} for i, t in enumerate(batch)])
            passed = {r[0] for r in conn.execute(sa.select(table.c.id).where(cond), identity_params(ids))}
    finally:
        engine.dispose()
    for i, text in enumerate(batch):
        if mentions(text, {PHONE}, region="DE"):
            assert i in passed, f"{engine.dialect.name}: the prefilter missed the number in {text!r}"


SHORT_NUMBERS = {
    # region: (the number, how it is stored, how it is written; keys 1-3 are the number)
    "DE": (
        "+49301212",
        {1: "030 1212", 2: "+49 30 1212", 3: "0049 30 1212", 4: "030 1213", 5: "+49 30 12120"},
        {1: "ruf 030 1212 an", 2: "call +49 30 1212", 3: "tel. (030) 12 12", 4: "nothing: 030 1213"},
    ),
    # Iceland: seven-digit numbers and no trunk prefix, so the national form is the number's tail.
    "IS": (
        "+3545512345",
        {1: "551 2345", 2: "+354 551 2345", 3: "00354-551-2345", 4: "551 2346", 5: "+354 551 23450"},
        {1: "hringdu í 551 2345", 2: "call +354 551 2345.", 3: "s. 551-2345", 4: "nothing: 551 2346"},
    ),
}


@pytest.mark.parametrize("region", sorted(SHORT_NUMBERS))
def test_a_short_number_is_found_in_every_format_it_is_written_in(db_url: str, region: str) -> None:
    """A number whose national significant number is shorter than the tails the searches compare
    (+49 30 1212: six digits; Iceland's seven) is found stored and mentioned in its national form
    too: the tail is taken from the national number, not from the E.164 digits, whose last ones
    hold the country code."""
    _build(
        db_url,
        "CREATE TABLE contacts (id INTEGER PRIMARY KEY, phone TEXT)",
        "CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)",
    )
    number, stored, written = SHORT_NUMBERS[region]
    short = Identity("phone", number)
    engine = make_engine(db_url)
    try:
        contacts = sa.Table("contacts", sa.MetaData(), autoload_with=engine)
        notes = sa.Table("notes", sa.MetaData(), autoload_with=engine)
        dialect = engine.dialect.name
        found = equals_identity(contacts.c.phone, "phone", [short.value], dialect)
        cond = mention_filter_bound(notes, "body", identity_shape({short}), dialect=dialect)
        assert cond is not None
        with engine.begin() as conn:
            conn.execute(contacts.insert(), [{"id": k, "phone": v} for k, v in stored.items()])
            conn.execute(notes.insert(), [{"id": k, "body": v} for k, v in written.items()])
            matched = {r.id for r in conn.execute(sa.select(contacts.c.id).where(found))}
            passed = {r.id for r in conn.execute(sa.select(notes.c.id).where(cond), identity_params({short}))}
    finally:
        engine.dispose()
    assert {k for k, v in stored.items() if value_matches("phone", v, {short.value}, region)} == {1, 2, 3}
    assert {1, 2, 3} <= matched, dialect
    assert {k for k, v in written.items() if mentions(v, {short}, region=region)} == {1, 2, 3}
    assert {1, 2, 3} <= passed, dialect


def test_prefilter_reads_a_mariadb_column_in_any_character_set(mariadb_url: str) -> None:
    """MariaDB: the searches' constants (digits of other scripts, some of four bytes) compare with
    a utf8mb3 or latin1 column instead of failing with "Illegal mix of collations"."""
    _build(
        mariadb_url,
        "CREATE TABLE notes3 (id INTEGER PRIMARY KEY, body TEXT) CHARACTER SET utf8mb3",
        "CREATE TABLE notes1 (id INTEGER PRIMARY KEY, body TEXT) CHARACTER SET latin1",
    )
    engine = sa.create_engine(mariadb_url)
    ids = {PHONE, Identity("email", "anna@example.com")}
    try:
        for name, rows in (
            ("notes3", {1: "tel ٠١٧٦ ١٠٠٠٧٧٧", 2: "call 0176 1000777", 3: "nothing here"}),
            ("notes1", {1: "Größe 0176 1000777", 2: "nothing here"}),
        ):
            table = sa.Table(name, sa.MetaData(), autoload_with=engine)
            cond = mention_filter_bound(table, "body", identity_shape(ids), dialect=engine.dialect.name)
            assert cond is not None
            with engine.begin() as conn:
                conn.execute(table.insert(), [{"id": k, "body": v} for k, v in rows.items()])
                passed = {r[0] for r in conn.execute(sa.select(table.c.id).where(cond), identity_params(ids))}
            assert passed == {k for k, v in rows.items() if mentions(v, {PHONE}, region="DE")}, name
    finally:
        engine.dispose()


def test_map_check_bounds_the_pending_list_of_only_the_indexes_its_searches_read(pg_url: str) -> None:
    """A GIN index the mention and verification searches read keeps PostgreSQL's 4 MB pending list
    unless told otherwise: map check prints the ALTER INDEX for it, and leaves alone the
    application's own GIN indexes and one with fastupdate off."""
    _build(
        pg_url,
        "CREATE EXTENSION IF NOT EXISTS pg_trgm",
        "CREATE TABLE users (id INTEGER PRIMARY KEY)",
        "CREATE TABLE notes (id INTEGER PRIMARY KEY, user_id INTEGER REFERENCES users (id), body TEXT,"
        " memo TEXT)",
        "CREATE INDEX ix_notes_user_id ON notes (user_id)",
        "CREATE INDEX ix_notes_body_trgm ON notes USING gin (lower(body) gin_trgm_ops)",
        "CREATE INDEX ix_notes_body_fts ON notes USING gin (to_tsvector('simple', body))",
        "CREATE INDEX ix_notes_memo_trgm ON notes USING gin (lower(memo) gin_trgm_ops)"
        " WITH (fastupdate = of)",
    )
    dm = parse_map(
        f"version: 1\nstores: {{app: {{url: '{pg_url}'}}}}\n"
        "subjects: {user: {root: app.users, identities: {id: id}}}\n"
        "tables:\n  app.users: {subject: user}\n"
        "  app.notes: {subject: user, path: user_id -> app.users,"
        " columns: {body: {category: content.private}, memo: {category: content.private}}}\n"
    )
    from privet.discovery.check import check_map

    report = check_map(dm)
    assert [(u["column"], u["index"], u["fix"]) for u in report.untuned] == [
        ("body", "ix_notes_body_trgm", "ALTER INDEX ix_notes_body_trgm SET (gin_pending_list_limit = 256)")
    ]
    engine = sa.create_engine(pg_url)
    with engine.begin() as conn:
        for fix in [u["fix"] for u in report.untuned + report.unindexed]:
            for statement in fix.split("; "):
                conn.exec_driver_sql(statement)
    engine.dispose()
    again = check_map(dm)
    assert not again.untuned and not again.unindexed


def test_prefilter_of_a_phone_is_an_exact_lookup_of_its_tail(pg_url: str) -> None:
    """PostgreSQL: the numbers of a text are indexed by their tails, so unrelated digits (order
    numbers, dates, the tail inside a longer number) do not pass."""
    _build(pg_url, "CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)")
    rows = {
        1: "call +49 (0)176 100-07 77 today",
        2: "0176/1000777",
        3: "order 91761000777 shipped",  # a longer number that ends with the tail: let through
        4: "order 1000777123 shipped",  # the tail inside a longer number: not a mention
        5: "dates 2026-05-01, 12.50 EUR, 100 07",
        6: "",
        7: "Anrufe: 0176 1000777, 030 123456",
    }
    engine = sa.create_engine(pg_url)
    table = sa.Table("notes", sa.MetaData(), autoload_with=engine)
    cond = mention_filter_bound(table, "body", identity_shape({PHONE}), dialect="postgresql")
    assert cond is not None
    with engine.begin() as conn:
        conn.execute(table.insert(), [{"id": k, "body": v} for k, v in rows.items()])
        passed = {r[0] for r in conn.execute(sa.select(table.c.id).where(cond), identity_params({PHONE}))}
    engine.dispose()
    assert passed == {1, 2, 3, 7}
    assert {k for k, v in rows.items() if mentions(v, {PHONE}, region="DE")} == {1, 2, 7}


def _plan(conn: sa.Connection, stmt: Any, params: dict[str, Any]) -> dict[str, Any]:
    compiled = stmt.compile(dialect=conn.dialect)
    raw = conn.exec_driver_sql(f"EXPLAIN (FORMAT JSON) {compiled}", compiled.construct_params(params))
    out = raw.scalar_one()
    plan: dict[str, Any] = (json.loads(out) if isinstance(out, str) else out)[0]["Plan"]
    return plan


def _generic_plan(conn: sa.Connection, stmt: Any, params: dict[str, Any]) -> dict[str, Any]:
    """The plan PostgreSQL makes for the statement prepared without its values (a generic plan,
    which a search run with ``plan_once`` gets from its second run on a connection)."""
    compiled = stmt.compile(dialect=conn.dialect)
    values = compiled.construct_params(params)
    names: list[str] = []

    def numbered(m: re.Match[str]) -> str:
        if m.group(1) not in names:
            names.append(m.group(1))
        return f"${names.index(m.group(1)) + 1}"

    text = re.sub(r"%\((\w+)\)s", numbered, str(compiled)).replace("%%", "%")
    driver = conn.connection.driver_connection
    assert driver is not None
    args = ", ".join(psql.Literal(values[n]).as_string(driver) for n in names)
    conn.exec_driver_sql("SET plan_cache_mode = force_generic_plan")
    conn.exec_driver_sql(f"PREPARE privet_generic AS {text}".replace("%", "%%"))
    out = conn.exec_driver_sql(f"EXPLAIN (FORMAT JSON) EXECUTE privet_generic({args})".replace("%", "%%"))
    raw = out.scalar_one()
    conn.exec_driver_sql("DEALLOCATE privet_generic")
    conn.exec_driver_sql("RESET plan_cache_mode")
    plan: dict[str, Any] = (json.loads(raw) if isinstance(raw, str) else raw)[0]["Plan"]
    return plan


def _scans(plan: dict[str, Any]) -> list[tuple[str, str]]:
    """(node type, index or else table) of every node of the plan."""
    here = [(plan["Node Type"], plan.get("Index Name") or plan.get("Relation Name") or "")]
    return here + [s for p in plan.get("Plans", []) for s in _scans(p)]


def test_verification_search_uses_the_advised_indexes(pg_url: str) -> None:
    """With map check's indexes, the verification search of phone columns and free text is planned
    as index scans on tables of many rows full of numbers (a plan regression here costs seconds
    per erasure), for its values and without them (a prepared search is planned once)."""
    _build(
        pg_url,
        "CREATE EXTENSION IF NOT EXISTS pg_trgm",
        "CREATE TABLE users (id INTEGER PRIMARY KEY, phone TEXT)",
        "CREATE TABLE notes (id INTEGER PRIMARY KEY, user_id INTEGER REFERENCES users (id), body TEXT)",
        "INSERT INTO users SELECT g, '0176 ' || (1000000 + g) FROM generate_series(1, 60000) g",
        "INSERT INTO notes (id, body) SELECT g, 'note ' || g || ' about order ' || (g * 7)"
        " FROM generate_series(1, 60000) g",
    )
    dm = parse_map(
        f"version: 1\nstores: {{app: {{url: '{pg_url}'}}}}\n"
        "subjects: {user: {root: app.users, identities: {id: id, phone: phone}}}\n"
        "tables:\n  app.users: {subject: user, columns: {phone: {category: contact.phone_number}}}\n"
        "  app.notes: {subject: user, path: user_id -> app.users,"
        " columns: {body: {category: content.private}}}\n"
    )
    from privet.discovery.check import check_map

    advice = {(u["table"], u["column"]): str(u["fix"]) for u in check_map(dm).unindexed}
    assert "array_to_tsvector(" in advice["notes", "body"] and "gin_trgm_ops" in advice["notes", "body"]
    engine = sa.create_engine(pg_url)
    with engine.begin() as conn:
        for fix in advice.values():
            for statement in fix.split("; "):
                conn.exec_driver_sql(statement)  # the advice runs as printed
        conn.exec_driver_sql("ANALYZE")
    store = SqlStore("app", pg_url)
    ids = {PHONE, Identity("email", "anna@example.com")}
    try:
        built = _build_search(dm, "app", store, identity_shape(ids), 50, store_indexes(store))
        assert built is not None
        with engine.begin() as conn:
            plans = [
                _plan(conn, built[0], identity_params(ids)),
                _generic_plan(conn, built[0], identity_params(ids)),
            ]
    finally:
        store.dispose()
        engine.dispose()
    # map check sees the indexes it advised as there.
    assert not check_map(dm).unindexed
    for plan in plans:
        scans = _scans(plan)
        assert ("Seq Scan", "notes") not in scans and ("Seq Scan", "users") not in scans, scans
        assert ("Bitmap Index Scan", "ix_notes_body_numbers") in scans, scans
        assert ("Bitmap Index Scan", "ix_notes_body_trgm") in scans, scans
        assert any(name == "ix_users_phone_rdigits" for _node, name in scans), scans


def test_the_character_classes_spelled_out_for_postgresql_are_pythons() -> None:
    """The phone prefilter copies Python's white space, digits and word characters beyond ASCII
    into PostgreSQL's patterns: they must be those of the Python that runs the recognizer."""
    import re

    from privet.detection.recognizers.contact import PhoneRecognizer
    from privet.requests import matching

    def members(ranges: tuple[tuple[int, int], ...]) -> set[int]:
        return {c for a, b in ranges for c in range(a, b + 1)}

    spaces, digits, words = (
        members(matching.PY_SPACES),
        members(matching.PY_OTHER_DIGITS),
        members(matching.PY_WORD_BEYOND_ASCII),
    )
    for c in range(0x110000):
        ch = chr(c)
        assert (re.match(r"\s", ch) is not None) == (c in spaces), hex(c)
        if c > 0x7F:
            assert ch.isdecimal() == (c in digits), hex(c)
            if re.match(r"\w", ch):
                assert c in words, hex(c)
    # The pattern the PostgreSQL one copies; a change to it must be made to both.
    assert PhoneRecognizer.pattern.pattern == r"(?<![\w+])(?:\+|00)?\(?\d[\d\s().\-/]{5,22}\d(?!\w)"


def test_map_check_replaces_the_search_indexes_earlier_versions_advised(pg_url: str) -> None:
    """An index of a free-text column's digits (advised before the numbers index) and a numbers
    index built for an earlier pattern serve no search: map check says to drop the first and
    advises the numbers index under the same name, dropping the old one first; its statements,
    run as printed, leave nothing to warn about."""
    _build(
        pg_url,
        "CREATE EXTENSION IF NOT EXISTS pg_trgm",
        "CREATE TABLE users (id INTEGER PRIMARY KEY)",
        "CREATE TABLE notes (id INTEGER PRIMARY KEY, user_id INTEGER REFERENCES users (id), body TEXT)",
        "CREATE INDEX ix_notes_user_id ON notes (user_id)",
        "CREATE INDEX ix_notes_body_trgm ON notes USING gin (lower(body) gin_trgm_ops)",
        "CREATE INDEX ix_notes_body_digits ON notes USING gin"
        " (regexp_replace(body, '[^0-9]', '', 'g') gin_trgm_ops)",
        "CREATE INDEX ix_notes_body_numbers ON notes USING gin (to_tsvector('simple', body))",
    )
    dm = parse_map(
        f"version: 1\nstores: {{app: {{url: '{pg_url}'}}}}\n"
        "subjects: {user: {root: app.users, identities: {id: id}}}\n"
        "tables:\n  app.users: {subject: user}\n"
        "  app.notes: {subject: user, path: user_id -> app.users,"
        " columns: {body: {category: content.private}}}\n"
    )
    from privet.discovery.check import check_map

    report = check_map(dm)
    assert [(u["index"], u["fix"]) for u in report.superseded] == [
        ("ix_notes_body_digits", "DROP INDEX ix_notes_body_digits")
    ]
    [advice] = [u["fix"] for u in report.unindexed]
    assert advice.startswith("DROP INDEX ix_notes_body_numbers; CREATE INDEX ix_notes_body_numbers ON notes")
    engine = sa.create_engine(pg_url)
    with engine.begin() as conn:
        for fix in [u["fix"] for u in report.superseded] + [advice]:
            for statement in fix.split("; "):
                conn.exec_driver_sql(statement)
    engine.dispose()
    again = check_map(dm)
    assert not again.superseded and not again.unindexed
    # The trigram index built before the advice bounded pending lists: an ALTER INDEX bounds it.
    assert [(u["index"], u["fix"]) for u in again.untuned] == [
        ("ix_notes_body_trgm", "ALTER INDEX ix_notes_body_trgm SET (gin_pending_list_limit = 256)")
    ]
    engine = sa.create_engine(pg_url)
    with engine.begin() as conn:
        conn.exec_driver_sql(again.untuned[0]["fix"])
    engine.dispose()
    assert check_map(dm).to_dict() == {**again.to_dict(), "untuned": []}


def test_a_name_shorter_than_a_trigram_is_searched_with_a_plan_for_its_value() -> None:
    """A two-letter name gives the trigram index nothing to look up: its searches are planned
    for their values (a scan) rather than once (a read of the whole index)."""
    email = Identity("email", "li@example.com")
    assert plannable_once({email, PHONE, Identity("name", "Anna Li")})
    assert not plannable_once({email, Identity("name", "Li")})
    assert not plannable_once({Identity("email", "a@")})
