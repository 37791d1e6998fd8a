"""Emails, phone numbers and social handles."""

from __future__ import annotations

import re
from functools import lru_cache

import phonenumbers

from privet.detection.context import NEGATIVE_NUMBER_CONTEXT, before, has_any
from privet.detection.recognizers.base import Recognizer


class EmailRecognizer(Recognizer):
    type = "email"
    needs = "@"
    pattern = re.compile(
        r"(?<![\w.+-])[A-Za-z0-9][A-Za-z0-9._%+-]{0,63}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}[A-Za-z0-9])?"
        r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}[A-Za-z0-9])?)*\.[A-Za-z]{2,24}(?![\w-])"
    )
    base_score = 0.99

    def validate(self, candidate: str, text: str, start: int, region: str) -> float | None:
        local = candidate.split("@", 1)[0]
        if ".." in candidate or local.endswith("."):
            return None
        return self.base_score


# Dates, times, amounts and versions look like digit runs with separators.
_DATE_LIKE = re.compile(r"\d{1,4}[./-]\d{1,2}[./-]\d{1,4}(?:\s|$)")
_AMOUNT_END = re.compile(r"\d\.\d{2}$")


# libphonenumber's verdict is a pure function of the candidate and region: it is kept for recurring values.
@lru_cache(maxsize=8192)
def _valid_number(candidate: str, region: str) -> bool:
    try:
        num = phonenumbers.parse(candidate, region)
    except phonenumbers.NumberParseException:
        return False
    return bool(phonenumbers.is_valid_number(num))


class PhoneRecognizer(Recognizer):
    """Phone numbers validated by libphonenumber, national formats in the default region."""

    type = "phone"
    min_digits = 7  # a valid candidate holds 7 to 15 of them
    pattern = re.compile(r"(?<![\w+])(?:\+|00)?\(?\d[\d\s().\-/]{5,22}\d(?!\w)")
    base_score = 0.85
    context = (
        "tel",
        "phone",
        "mobil",
        "handy",
        "ruf",
        "call",
        "fon",
        "portable",
        "téléphone",
        "telefono",
        "móvil",
        "cell",
        "whatsapp",
        "sms",
        "nummer",
        "number",
        "numéro",
        "número",
    )

    def validate(self, candidate: str, text: str, start: int, region: str) -> float | None:
        digits = sum(map(str.isdigit, candidate))
        if digits < 7 or digits > 15:
            return None
        window = before(text, start, 25)
        if has_any(window, NEGATIVE_NUMBER_CONTEXT):
            return None
        # Dates, times, amounts and versions look like digit runs with separators.
        if _DATE_LIKE.match(candidate.strip()):
            return None
        if _AMOUNT_END.search(candidate) and "," not in candidate and candidate.count(".") == 1:
            return None
        if not _valid_number(candidate, region):
            return None
        return self.base_score if candidate.startswith(("+", "00", "0", "(")) else 0.6


class SocialHandleRecognizer(Recognizer):
    type = "social_handle"
    pattern = re.compile(
        r"(?<![\w@/.])@[A-Za-z_][A-Za-z0-9_.]{0,28}[A-Za-z0-9_](?![\w@])"
        r"|(?:https?://)?(?:www\.)?(?:twitter|x|instagram|facebook|linkedin|tiktok|github|t)\.(?:com|me)"
        r"/(?:in/)?[A-Za-z0-9_.\-]{2,40}"
    )
    base_score = 0.7

    def possible(
        self, text: str, digits: int, lower: str | None = None, hits: frozenset[str] | None = None
    ) -> bool:
        # Neither a handle nor a profile address can be in a text without these.
        return "@" in text or ".com/" in text or ".me/" in text

    context = (
        "twitter",
        "instagram",
        "insta",
        "tiktok",
        "telegram",
        "handle",
        "follow",
        "folg",
        "suis",
        "sígueme",
        "seguimi",
        "account",
        "profil",
        "profile",
        "x.com",
        "linkedin",
    )

    def validate(self, candidate: str, text: str, start: int, region: str) -> float | None:
        if candidate.startswith("@"):
            if candidate.endswith("."):
                return None
            return 0.75
        return 0.9
