"""Subject identities as users type them."""

from __future__ import annotations

import pytest

from privet.errors import BadSubject
from privet.identity import Identity, normalize_phone, parse_subject, try_normalize_phone


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


@pytest.mark.parametrize("twice", [False, True])
def test_when_a_number_is_looked_up_again_then_the_answer_and_the_error_are_the_same(twice: bool) -> None:
    # Answers for short values are kept (a batch parses the same numbers again); errors are not
    # kept as answers, and a long text, never kept, gets the same answers.
    for _ in range(2 if twice else 1):
        assert normalize_phone("0176 123 4567", "DE") == "+491761234567"
        assert normalize_phone("020 7946 0958", "GB") == "+442079460958"
        assert try_normalize_phone("call 0176 123 4567 " + "x" * 80, "DE") is None
        assert try_normalize_phone("0176 123 4567" + " " * 70, "DE") == "+491761234567"
        with pytest.raises(BadSubject, match="is not a phone number"):
            normalize_phone("abc", "DE")
        with pytest.raises(BadSubject, match="not a possible phone number in region DE"):
            normalize_phone("12", "DE")
        with pytest.raises(BadSubject, match="is not a phone number"):
            normalize_phone("x" * 100, "DE")
