"""Operators: table-driven behaviour and properties (Hypothesis)."""

from __future__ import annotations

import string

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from privet.detection.operators import (
    Anonymize,
    Decrypt,
    Encrypt,
    Generalize,
    Mask,
    Pseudonymize,
    Redact,
    redact_identifiers,
    truncate_ip,
)
from privet.identity import Identity

KEY_A = b"a" * 32
KEY_B = b"b" * 32


@pytest.mark.parametrize(
    ("op", "value", "expected"),
    [
        (Redact(), "anna@example.com", "[redacted]"),
        (Mask(keep_last=4), "DE89370400440532013000", "******************3000"),
        (Generalize("ip"), "203.0.113.77", "203.0.113.0"),
        (Generalize("ip"), "2001:db8:1234:5678::1", "2001:db8:1234::"),
        (Generalize("date"), "1985-07-23", "1985-07-01"),
        (Generalize("date"), "23.07.1985", "1985-07-01"),
        (Generalize("location"), "Hauptstraße 5, Berlin, Germany", "Germany"),
    ],
)
def test_when_operator_is_applied_then_value_is_transformed_as_documented(
    op: object, value: str, expected: str
) -> None:
    assert op.apply(value) == expected  # type: ignore[attr-defined]


def test_when_email_is_pseudonymized_then_it_stays_an_email() -> None:
    token = Pseudonymize(KEY_A, "email").apply("Anna@Example.com")
    assert token.endswith("@example.invalid") and "anna" not in token
    assert Pseudonymize(KEY_A, "email").apply("anna@example.com") == token


@given(st.text(min_size=1, max_size=60))
def test_when_pseudonymized_then_stable_per_key_and_different_across_keys(value: str) -> None:
    a1, a2 = Pseudonymize(KEY_A).apply(value), Pseudonymize(KEY_A).apply(value)
    b = Pseudonymize(KEY_B).apply(value)
    assert a1 == a2
    if not value.startswith("pseudo-"):
        assert a1 != b
        if set(value) - set(string.hexdigits + "pseudo-valu"):
            assert value not in a1
    assert Pseudonymize(KEY_A).apply(a1) == a1  # applying twice changes nothing


@given(st.text(min_size=3, max_size=60))
def test_when_anonymized_then_output_never_contains_the_input(value: str) -> None:
    out = Anonymize().apply(value)
    assert value in out if value.startswith("anon-") else value not in out


@settings(max_examples=50)
@given(st.text(max_size=200))
def test_when_encrypted_then_decrypt_returns_the_value_and_other_keys_fail(value: str) -> None:
    token = Encrypt(KEY_A).apply(value)
    assert Decrypt(KEY_A).apply(token) == value
    with pytest.raises(ValueError, match="wrong key"):
        Decrypt(KEY_B).apply(token)


@given(st.ip_addresses())
def test_when_ip_is_truncated_then_truncating_again_changes_nothing(ip: object) -> None:
    once = truncate_ip(str(ip))
    assert truncate_ip(once) == once


def test_when_text_mentions_the_subject_then_only_their_identifiers_are_redacted() -> None:
    text = "Anna (anna@example.com, 0176 123 4567) met bob@example.com, Anna Schmidt said +49 30 1234567."
    ids = {
        Identity("email", "anna@example.com"),
        Identity("phone", "+491761234567"),
        Identity("name", "Anna Schmidt"),
    }
    out, n = redact_identifiers(text, ids)
    assert n == 3
    assert out == "Anna ([redacted], [redacted]) met bob@example.com, [redacted] said +49 30 1234567."
