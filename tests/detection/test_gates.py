"""The cheap necessary conditions that spare texts the patterns never drop a finding."""

from __future__ import annotations

import pytest
from bench.detection_corpus import CHAT, chat_log, corpus
from hypothesis import given
from hypothesis import strategies as st

from privet.detection import engine, gates, scan, scan_lines
from privet.detection.context import NEGATIVE_NUMBER_CONTEXT, has_any
from privet.detection.recognizers import ALL
from privet.detection.recognizers.base import count_digits

EDGE_CASES = [
    "GEBOREN AM 01.02.1980 in Köln",
    "Né le 3/4/1975",
    "server at ::1 and fe80::1ff:fe23:4567:890a",
    "ping 10.0.0.1 from 192.168.1.254",
    "Anschrift: Kaiser-Wilhelm-Ring 12, 50672 Köln",
    "Via Roma 5, 00184 Roma",
    "C/ Mayor 3, 28013 Madrid",
    "221 Baker Street, London NW1 6XE",
    "12 bis rue de la Paix, 75002 Paris",
    "Meine Nummer: +49 (0)30 901820 und 0151-23456789",
    "Karte 4111-1111-1111-1111 abgelehnt",
    "IBAN: DE89 3704 0044 0532 0130 00",
    "DNI 12345678Z, NIE X1234567L, NINO AB 12 34 56 C, PESEL 44051401359 id",
    "folge @anna_schmidt und twitter.com/anna",
    "Kontakt: Anna Schmidt, hier ist Sanne",
]


def _texts() -> list[str]:
    lines = next(chat_log(300_000)).decode().splitlines()[:3000]
    return [m.text for m in corpus(1500, seed=31)] + lines + list(CHAT) + EDGE_CASES


def test_when_a_recognizer_rules_a_text_out_then_its_pattern_finds_nothing_there() -> None:
    checked = {rec.type: 0 for rec in ALL}
    for text in _texts():
        digits = count_digits(text)
        for rec in ALL:
            if not rec.possible(text, digits):
                assert list(rec.candidates(text, "DE")) == [], (rec.type, text)
                checked[rec.type] += 1
    assert all(n > 0 for n in checked.values()), checked


needs_hyperscan = pytest.mark.skipif(not gates.available(), reason="Hyperscan is not installed here")


@needs_hyperscan
def test_when_hyperscan_rules_a_text_out_then_the_pattern_finds_nothing_there() -> None:
    hs = gates.HyperscanGates()
    gated = [rec for rec in ALL if rec.hs_gate is not None]
    checked = {rec.type: 0 for rec in gated}
    for text in [*_texts(), "Straße\x1c5 und 1٢3٤5٦7 und ۱۲۳.۴.۵.۶"]:
        hits = hs.hits(text)
        assert hits is not None
        for rec in gated:
            if rec.type not in hits:
                assert list(rec.candidates(text, "DE")) == [], (rec.type, text)
                checked[rec.type] += 1
    assert all(n > 0 for n in checked.values()), checked


@needs_hyperscan
@pytest.mark.parametrize("enabled", [True, False])
def test_when_hyperscan_is_on_or_off_then_the_findings_are_the_same(enabled: bool) -> None:
    texts = _texts()
    gates.use_hyperscan(False)
    expected = [scan(t) for t in texts]
    gates.use_hyperscan(enabled)
    try:
        assert [scan(t) for t in texts] == expected
        assert (gates.hyperscan_gates() is not None) is enabled
    finally:
        gates.use_hyperscan(True)


def test_when_a_text_is_no_valid_utf8_then_it_is_still_scanned() -> None:
    text = "Karte 4111 1111 1111 1111 \ud800"
    if gates.available():
        assert gates.HyperscanGates().hits(text) is None
    assert [f.type for f in scan(text)] == ["payment_card"]


def test_when_edge_cases_are_scanned_then_each_type_is_still_found() -> None:
    found = {f.type for text in EDGE_CASES for f in scan(text)}
    assert found == {
        "date_of_birth",
        "ip_address",
        "postal_address",
        "phone",
        "payment_card",
        "iban",
        "national_id",
        "social_handle",
        "person_name",
    }


@given(
    st.text(alphabet="abcdeé. #-rf", max_size=40),
    st.lists(st.text(alphabet="abcé. #", min_size=1, max_size=4)),
)
def test_when_context_words_are_searched_at_once_then_the_answer_is_that_of_each_word(
    window: str, words: list[str]
) -> None:
    assert has_any(window, tuple(words)) == any(w in window for w in words)


def test_when_a_window_holds_a_context_word_then_it_is_found() -> None:
    assert has_any("bitte die nummer d.o.b", ("d.o.b",))
    assert not has_any("bitte die nummer dxoxb", ("d.o.b",))
    assert has_any("order #12", NEGATIVE_NUMBER_CONTEXT)


def test_when_a_block_is_cut_down_to_lines_then_each_recognizer_is_covered() -> None:
    for rec in ALL:
        if rec.hs_gate is not None:
            assert rec.min_digits >= 1, rec.type  # without Hyperscan, lines with a digit are scanned
            continue
        if rec.type == "email":
            assert rec.needs == "@"
        elif rec.type not in ("social_handle", "person_name"):
            assert rec.min_digits >= engine.MIN_DIGITS_WITHOUT_HS_GATE, rec.type


BLOCK_EDGE_LINES = [
    "ruf an: +٤٩ ١٧٦ ١٢٣٤٥٦٧",  # Arabic-Indic digits: libphonenumber reads them
    "réunion à 9h, appelle le 06 12 34 56 78\r",
    "Müller sagt: 0151 23456789",
    "Kontakt: Chloé Dubois",
    "Straße\x1c5",
    "no digits, no names here",
    "[12:30] tom_k: ok",
    "Tel 0-3-0-9-0-1-8-2-0",  # only its digit count marks this line
    "Tel ٠-٣-٠-٩-٠-١-٨-٢-٠",  # the same in Arabic-Indic digits, counted again exactly
]


@needs_hyperscan
@pytest.mark.parametrize("tail", ["\n", ""])
def test_when_a_block_is_scanned_line_by_line_or_by_its_marked_lines_then_findings_are_equal(
    tail: str,
) -> None:
    lines = [*next(chat_log(400_000)).decode().splitlines()[:4000], *BLOCK_EDGE_LINES] * 2
    block = ("\n".join(lines) + tail).encode()
    expected = [(i, f) for i, line in enumerate(engine._block_lines(block)) if (f := scan(line))]
    assert len(expected) > 300
    assert {i for i, _ in expected} >= {4000, 4001, 4002, 4003, 4007, 4008}
    gates.use_hyperscan(True)
    assert engine._scan_block((block, "DE", None)) == (len(lines), expected)
    marked = engine._lines_to_scan(block.decode(), engine._block_lines(block))
    assert len(marked) < len(lines) / 3  # most chat lines are skipped
    gates.use_hyperscan(False)
    try:
        marked = engine._lines_to_scan(block.decode(), engine._block_lines(block))
        assert len(marked) > len(lines) / 2  # without Hyperscan every line with a digit is scanned
        assert engine._scan_block((block, "DE", None)) == (len(lines), expected)
    finally:
        gates.use_hyperscan(True)


@pytest.mark.parametrize("hs", [True, False])
def test_when_lines_are_scanned_in_chunks_then_each_line_gets_its_own_findings(hs: bool) -> None:
    lines = [
        *next(chat_log(200_000)).decode().splitlines()[:1500],
        *BLOCK_EDGE_LINES,
        "a\nTel 0-3-0-9-0-1-8-2-0",
    ]
    expected = [(no, scan(line)) for no, line in enumerate(lines, start=1)]
    gates.use_hyperscan(hs)
    try:
        assert list(scan_lines(lines, chunk=700)) == expected
        assert list(scan_lines(lines[:-1], chunk=700)) == expected[:-1]
    finally:
        gates.use_hyperscan(True)
