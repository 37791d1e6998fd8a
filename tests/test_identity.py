"""Subject identities as users type them."""

from __future__ import annotations

import pytest

from privet.errors import BadSubject
from privet.identity import Identity, parse_subject


@pytest.mark.parametrize(
    ("text", "region", "expected"),
    [
        ("email=Anna@Example.COM", "DE", Identity("email", "anna@example.com")),
        ("anna@example.com", "DE", Identity("email", "anna@example.com")),
        ("phone=+44 20 7946 0958", "DE", Identity("phone", "+442079460958")),
        ("phone=020 7946 0958", "GB", Identity("phone", "+442079460958")),
        ("phone=0176 123 4567", "DE", Identity("phone", "+491761234567")),
        ("phone:+49 (176) 123-4567", "DE", Identity("phone", "+491761234567")),
        ("id=42", "DE", Identity("id", "42")),
    ],
)
def test_when_subject_is_typed_as_people_type_it_then_it_normalizes(
    text: str, region: str, expected: Identity
) -> None:
    assert parse_subject(text, region) == expected


@pytest.mark.parametrize("text", ["anna", "email=anna", "phone=abc", "=x", "id=  "])
def test_when_subject_is_malformed_then_bad_subject_says_how_to_write_it(text: str) -> None:
    with pytest.raises(BadSubject):
        parse_subject(text)
