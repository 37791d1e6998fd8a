"""The SQL prefilters of the mention searches against the Python check they feed: whatever the
recognizer finds as the person's phone, the prefilter must have let through (else erasure would
leave the mention and verification would never see it). Real databases, real index plans."""

from __future__ import annotations

import json
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from privet.datamap import parse_map
from privet.detection.operators import mentions
from privet.discovery.check import search_index
from privet.identity import Identity
from privet.requests.matching import identity_params, identity_shape, mention_filter_bound
from privet.requests.verify import _build_search
from privet.stores import SqlStore
from tests.requests.test_access import _build

PHONE = Identity("phone", "+491761000777")
OTHER = Identity("phone", "+4930123456")


# Digits of other scripts (phonenumbers reads them): Arabic-Indic, Devanagari, fullwidth.
_SCRIPTS = ("0123456789", "٠١٢٣٤٥٦٧٨٩", "०१२३४५६७८९", "０１２３４５６７８９")


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
        ]
    )
    before = " ".join(draw(st.lists(words, max_size=5)))
    after = " ".join(draw(st.lists(words, max_size=5)))
    glue = draw(st.sampled_from([" ", ": ", "\n", " (", ", ", "", "ä", "時"]))
    end = draw(st.sampled_from(["", ".", ",", ")", " ", "ä", "時", " 12", " 12ä", "\u00a012"]))
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
    engine = sa.create_engine(notes_url)
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
        # SQLite and MariaDB read only ASCII digits (a known limit; PostgreSQL reads every script).
        other_script = any(c.isdecimal() and not c.isascii() for c in text)
        if engine.dialect.name != "postgresql" and other_script:
            continue
        if mentions(text, {PHONE}, region="DE"):
            assert i in passed, f"{engine.dialect.name}: the prefilter missed the number in {text!r}"


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


def _scans(plan: dict[str, Any]) -> list[tuple[str, str]]:
    """(node type, table) of every node of the plan that reads a table or an index."""
    here = [(plan["Node Type"], plan.get("Relation Name") or plan.get("Index Name") or "")]
    return here + [s for p in plan.get("Plans", []) for s in _scans(p)]


def test_verification_search_uses_the_advised_indexes(pg_url: str) -> None:
    """With map check's indexes, the verification search of free text is planned as index scans
    on a table of many rows full of numbers (a plan regression here costs seconds per erasure)."""
    _build(
        pg_url,
        "CREATE EXTENSION IF NOT EXISTS pg_trgm",
        "CREATE TABLE users (id INTEGER PRIMARY KEY)",
        "CREATE TABLE notes (id INTEGER PRIMARY KEY, user_id INTEGER REFERENCES users (id), body TEXT)",
        "INSERT INTO notes (id, body) SELECT g, 'note ' || g || ' about order ' || (g * 7)"
        " FROM generate_series(1, 60000) g",
    )
    advice = search_index("postgresql", "notes", "body", None)
    assert advice is not None and "array_to_tsvector(" in advice and "gin_trgm_ops" in advice
    engine = sa.create_engine(pg_url)
    with engine.begin() as conn:
        for statement in advice.split("; "):
            conn.exec_driver_sql(statement)  # the advice runs as printed
        conn.exec_driver_sql("ANALYZE notes")
    dm = parse_map(
        f"version: 1\nstores: {{app: {{url: '{pg_url}'}}}}\n"
        "subjects: {user: {root: app.users, identities: {id: id}}}\n"
        "tables:\n  app.users: {subject: user}\n"
        "  app.notes: {subject: user, path: user_id -> app.users,"
        " columns: {body: {category: content.private}}}\n"
    )
    store = SqlStore("app", pg_url)
    ids = {PHONE, Identity("email", "anna@example.com")}
    try:
        built = _build_search(dm, "app", store, identity_shape(ids), 50)
        assert built is not None
        with engine.connect() as conn:
            plan = _plan(conn, built[0], identity_params(ids))
    finally:
        store.dispose()
        engine.dispose()
    # map check sees the indexes it advised as there.
    from privet.discovery.check import check_map

    assert not [u for u in check_map(dm).unindexed if (u["table"], u["column"]) == ("notes", "body")]
    scans = _scans(plan)
    assert ("Seq Scan", "notes") not in scans, scans
    assert ("Bitmap Index Scan", "ix_notes_body_numbers") in scans, scans
    assert ("Bitmap Index Scan", "ix_notes_body_trgm") in scans, scans


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
