"""Subject identities: ``KEY=VALUE`` parsing and normalization for matching.

Emails match case-insensitively; phone numbers are normalized to E.164 with
the map's default region (``020 7946 0958`` with GB is ``+442079460958``).
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

import phonenumbers

from privet.errors import BadSubject

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


@dataclass(frozen=True, slots=True)
class Identity:
    """One identity of a person: kind (email, phone, id, or a map-defined kind) and value."""

    kind: str
    value: str

    def __str__(self) -> str:
        return f"{self.kind}={self.value}"


def normalize_email(value: str) -> str:
    v = value.strip().lower()
    if not _EMAIL.match(v):
        raise BadSubject(
            f"'{value}' is not an email address", value=value, hint="write it as name@example.com"
        )
    return v


# What a number parses to: its E.164 form, or why it is none. A batch and its value links look
# up the same numbers again (a person's number when resolving, then every row that holds it), so
# short values' answers are kept; a long text (no number is longer) is not kept alive for it.
_NOT_A_NUMBER, _NOT_POSSIBLE = 1, 2
_CACHED_UP_TO = 64


def _e164(value: str, region: str) -> str | int:
    return (_e164_cached if len(value) <= _CACHED_UP_TO else _parse_e164)(value, region)


def _parse_e164(value: str, region: str) -> str | int:
    try:
        num = phonenumbers.parse(value, region)
    except phonenumbers.NumberParseException:
        return _NOT_A_NUMBER
    if phonenumbers.is_possible_number_with_reason(num) != phonenumbers.ValidationResult.IS_POSSIBLE:
        return _NOT_POSSIBLE
    return phonenumbers.format_number(num, phonenumbers.PhoneNumberFormat.E164)


_e164_cached = functools.lru_cache(maxsize=1 << 16)(_parse_e164)


def normalize_phone(value: str, region: str = "DE") -> str:
    """E.164 form of a phone number as people type it; BadSubject when it is not one."""
    e164 = _e164(value, region)
    if e164 == _NOT_A_NUMBER:
        raise BadSubject(
            f"'{value}' is not a phone number",
            value=value,
            hint="write it with a country code (+49 176 1234567) or in the map's default region",
        )
    if e164 == _NOT_POSSIBLE:
        raise BadSubject(
            f"'{value}' is not a possible phone number in region {region}",
            value=value,
            hint="add the country code, e.g. +44 20 7946 0958",
        )
    assert isinstance(e164, str)
    return e164


def try_normalize_phone(value: object, region: str = "DE") -> str | None:
    """E.164 form, or None for anything that is not a phone number (for matching stored values)."""
    if value is None:
        return None
    e164 = _e164(str(value), region)
    return e164 if isinstance(e164, str) else None


def normalize(kind: str, value: str, region: str = "DE") -> str:
    """The form used for matching values of this identity kind."""
    if kind == "email":
        return normalize_email(value)
    if kind == "phone":
        return normalize_phone(value, region)
    v = value.strip()
    if not v:
        raise BadSubject(f"empty value for identity '{kind}'", value=value)
    return v


def parse_subject(text: str, region: str = "DE") -> Identity:
    """Parse ``KEY=VALUE`` (or ``KEY:VALUE``; a bare value with an ``@`` is an email)."""
    raw = text.strip()
    key, sep, value = raw.partition("=")
    if not sep:
        key, sep, value = raw.partition(":")
        if sep and key in ("mailto",):
            key = "email"
    if not sep or not key.strip() or "@" in key:
        if "@" in raw and "=" not in raw:
            return Identity("email", normalize_email(raw))
        raise BadSubject(
            f"'{text}' does not name a subject",
            value=text,
            hint="write KEY=VALUE, e.g. email=anna@example.com, phone=+491761234567 or id=42",
        )
    kind = key.strip().lower()
    return Identity(kind, normalize(kind, value, region))
