"""Dates of birth: a plausible date with a birth context word before it."""

from __future__ import annotations

import datetime as dt
import re

from privet.detection.context import before, has_any
from privet.detection.recognizers.base import Recognizer

BIRTH_CONTEXT: tuple[str, ...] = (
    "born",
    "birth",
    "dob",
    "d.o.b",
    "geboren",
    "geb.",
    "geburt",
    "né le",
    "née le",
    "né",
    "née",
    "naissance",
    "nacimiento",
    "nacido",
    "nacida",
    "nato",
    "nata",
    "nascita",
    "geboortedatum",
    "geboren op",
    "birthday",
    "geburtstag",
    "anniversaire",
    "cumpleaños",
    "compleanno",
)

_DATE = re.compile(r"(?<!\d)(?:(\d{1,2})[./-](\d{1,2})[./-](\d{4})|(\d{4})-(\d{2})-(\d{2}))(?!\d)")


def parse_date(text: str) -> dt.date | None:
    m = _DATE.fullmatch(text.strip())
    if not m:
        return None
    try:
        if m.group(4):
            return dt.date(int(m.group(4)), int(m.group(5)), int(m.group(6)))
        return dt.date(int(m.group(3)), int(m.group(2)), int(m.group(1)))
    except ValueError:
        return None


class DateOfBirthRecognizer(Recognizer):
    type = "date_of_birth"
    min_digits = 6  # d.m.yyyy at least
    # A date is a birth date only after a birth word, so a text without one holds none.
    gate = re.compile("|".join(re.escape(w) for w in BIRTH_CONTEXT))
    gate_lower = True
    pattern = _DATE
    base_score = 0.4  # a date alone is not a birth date; the context lifts it

    def validate(self, candidate: str, text: str, start: int, region: str) -> float | None:
        d = parse_date(candidate)
        if d is None or not (1900 <= d.year <= dt.date.today().year - 5):
            return None
        window = before(text, start, 30)
        if has_any(window, BIRTH_CONTEXT):
            return 0.9
        return None
