"""Recognizers, one row per input: what must be found, and hard negatives that must not fire."""

from __future__ import annotations

import itertools

import pytest

from privet.detection import classify_value, scan
from privet.errors import UnknownName

FOUND = [
    ("email", "Write to anna.schmidt+shop@example.co.uk today", "anna.schmidt+shop@example.co.uk"),
    ("phone", "Ruf mich an: 0176 123 4567", "0176 123 4567"),
    ("phone", "call +44 20 7946 0958 tomorrow", "+44 20 7946 0958"),
    ("phone", "Tel. (030) 1234-5678", "(030) 1234-5678"),
    ("iban", "IBAN: DE89 3704 0044 0532 0130 00", "DE89 3704 0044 0532 0130 00"),
    ("iban", "virement FR1420041010050500013M02606 merci", "FR1420041010050500013M02606"),
    ("payment_card", "Karte 4111 1111 1111 1111", "4111 1111 1111 1111"),
    ("payment_card", "MC 2221 0000 0000 0009", "2221 0000 0000 0009"),
    ("ip_address", "login from 203.0.113.7 at noon", "203.0.113.7"),
    ("ip_address", "v6 2001:db8::1 seen", "2001:db8::1"),
    ("national_id", "DNI 12345678Z", "12345678Z"),
    ("national_id", "NINO AB123456C please", "AB123456C"),
    ("national_id", "NIE X2482300W adjunto", "X2482300W"),
    ("national_id", "codice fiscale RCCMNL83S18D969H grazie", "RCCMNL83S18D969H"),
    ("national_id", "my PPS is 6433435F", "6433435F"),
    ("national_id", "henkilötunnus 131052-308T", "131052-308T"),
    ("national_id", "BSN 111222333 graag", "111222333"),
    ("national_id", "CPR 211062-5629 vedlagt", "211062-5629"),
    ("national_id", "personnummer 880320-0016", "880320-0016"),
    ("person_name", "Hallo, ich bin Anna Schmidt.", "Anna Schmidt"),
    ("person_name", "Bonjour, Chloé Dubois ici", "Chloé Dubois"),
    ("postal_address", "Lieferung an Hauptstraße 5, 10115 Berlin bitte", "Hauptstraße 5, 10115 Berlin"),
    ("postal_address", "j'habite 12 rue de la Paix, 75002 Paris", "12 rue de la Paix, 75002 Paris"),
    ("postal_address", "ship to 221 Baker Street please", "221 Baker Street"),
    ("date_of_birth", "geboren am 12.03.1985 in Köln", "12.03.1985"),
    ("social_handle", "follow me on twitter @anna_s", "@anna_s"),
]


@pytest.mark.parametrize(("kind", "text", "span"), FOUND, ids=[f"{k}:{t[:30]}" for k, t, _ in FOUND])
def test_when_text_holds_an_entity_then_it_is_found_with_its_span(
    kind: str, text: str, span: str | None
) -> None:
    hits = [f for f in scan(text) if f.type == kind]
    if span is None:
        assert hits == []
        return
    assert [h.text for h in hits] == [span]
    h = hits[0]
    assert text[h.start : h.end] == span and 0.5 <= h.score <= 1.0


NOT_FOUND = [
    ("iban_bad_check_digits", "IBAN DE88 3704 0044 0532 0130 00"),
    ("card_failing_luhn", "Karte 4111 1111 1111 1112"),
    ("order_number", "Bestellnummer 4111111111111111"),
    ("invoice_number", "Invoice INV-2024-000123 for 120.50 EUR"),
    ("version", "upgraded to version 1.2.3.4 yesterday"),
    ("timestamp", "at 2024-05-01 12:30:45 the job ran"),
    ("tracking_number", "Sendungsnummer 00340434161094042557"),
    ("amount", "total 1.234.567,89 EUR"),
    ("bare_date", "the meeting is on 12.03.2025"),
    ("ordinary_prose", "The weather in Berlin is nice and the project is on time."),
    ("lower_case_words", "anna schmidt is not capitalised here"),
    ("short_number_after_id", "your customer ID 123456 is ready"),
]


@pytest.mark.parametrize(("name", "text"), NOT_FOUND, ids=[n for n, _ in NOT_FOUND])
def test_when_text_is_a_hard_negative_then_no_structured_finding(name: str, text: str) -> None:
    assert [f for f in scan(text) if f.type != "postal_address"] == [], scan(text)


@pytest.mark.parametrize(
    ("value", "kind"),
    [
        ("anna@example.com", "email"),
        ("+49 30 1234567", "phone"),
        ("0176-1234567", "phone"),
        ("DE89370400440532013000", "iban"),
        ("10.0.0.1", "ip_address"),
        ("Anna Schmidt", "person_name"),
        ("@anna_s", "social_handle"),
        ("1985-03-12", "date_of_birth"),
        ("Hauptstraße 12", "postal_address"),
        ("hello", None),
        ("42", None),
        ("active", None),
    ],
)
def test_when_a_cell_is_classified_then_the_whole_value_decides(value: str, kind: str | None) -> None:
    f = classify_value(value)
    assert (f.type if f else None) == kind


def test_when_region_is_france_then_national_mobile_numbers_are_found() -> None:
    assert [f.text for f in scan("appelle le 06 12 34 56 78", region="FR")] == ["06 12 34 56 78"]


def test_when_types_are_restricted_then_only_those_are_scanned() -> None:
    text = "anna@example.com 0176 123 4567"
    assert [f.type for f in scan(text, types=["phone"])] == ["phone"]
    with pytest.raises(UnknownName, match="unknown entity type"):
        scan(text, types=["fax"])


def test_when_findings_overlap_then_the_strongest_wins_and_spans_do_not_overlap() -> None:
    found = scan(
        "Kontakt: Anna Schmidt, anna.schmidt@example.com, +49 176 1234567, Hauptstraße 5, 10115 Berlin"
    )
    assert [f.type for f in found] == ["person_name", "email", "phone", "postal_address"]
    assert all(a.end <= b.start for a, b in itertools.pairwise(found))


def test_when_an_identifier_is_valid_then_its_shape_passes_the_prefilter() -> None:
    # The shape prefilter skips the validators: it must let through every value one of them accepts.
    from privet.detection.recognizers.national_id import _DISTINCTIVE, DISTINCTIVE_SHAPE

    examples = ["12345678Z", "X2482300W", "RCCMNL83S18D969H", "00743110157", "AB123456C", "6433435F"]
    examples += ["6433435OA", "131052-308T", "131052A308T"]
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-+ "
    valid = 0
    for example in examples:
        for i in range(len(example)):
            for c in alphabet:
                value = example[:i] + c + example[i + 1 :]
                if any(mod.is_valid(value) for mod in _DISTINCTIVE):
                    valid += 1
                    assert DISTINCTIVE_SHAPE.fullmatch(value.replace(" ", "").replace("-", "").upper()), value
    assert valid >= len(examples)
