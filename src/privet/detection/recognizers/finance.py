"""IBANs and payment cards, validated by their checksums."""

from __future__ import annotations

import re
from functools import lru_cache

from stdnum import iban, luhn

from privet.detection.context import NEGATIVE_NUMBER_CONTEXT, before, has_any
from privet.detection.recognizers.base import Recognizer, for_hyperscan


class IbanRecognizer(Recognizer):
    type = "iban"
    min_digits = 2
    gate = re.compile(r"[A-Z]{2}\d\d")  # how every candidate begins
    hs_gate = for_hyperscan(gate.pattern)
    pattern = re.compile(r"(?<![A-Za-z0-9])[A-Z]{2}\d{2}(?:[ ]?[A-Z0-9]){11,30}(?![A-Za-z0-9])")
    base_score = 0.99

    def validate(self, candidate: str, text: str, start: int, region: str) -> float | None:
        return self.base_score if _valid_iban(candidate.replace(" ", "")) else None


# Validators are pure functions of the candidate: their verdicts are kept for values that recur.
@lru_cache(maxsize=8192)
def _valid_iban(compact: str) -> bool:
    return bool(iban.is_valid(compact))


@lru_cache(maxsize=8192)
def _valid_card(digits: str) -> bool:
    if not (12 <= len(digits) <= 19) or len(set(digits)) < 2:
        return False
    return bool(luhn.is_valid(digits)) and _card_brand_ok(digits)


_NON_DIGIT = re.compile(r"\D")


def _card_brand_ok(digits: str) -> bool:
    n = len(digits)
    if digits[0] == "4":
        return n in (13, 16, 19)
    two, four = int(digits[:2]), int(digits[:4])
    if 51 <= two <= 55 or 2221 <= four <= 2720:
        return n == 16
    if two in (34, 37):
        return n == 15
    if two in (50, 56, 57, 58, 63, 67) or digits[0] == "6":
        return 12 <= n <= 19
    if two == 35:
        return 16 <= n <= 19
    if two in (30, 36, 38, 39):
        return 14 <= n <= 19
    return False


class CardRecognizer(Recognizer):
    type = "payment_card"
    min_digits = 12
    pattern = re.compile(r"(?<![\d-])\d(?:[ -]?\d){11,18}(?![\d-])")
    base_score = 0.95
    context = (
        "card",
        "karte",
        "carte",
        "tarjeta",
        "carta",
        "visa",
        "mastercard",
        "amex",
        "kreditkarte",
        "cc",
        "maestro",
    )

    def validate(self, candidate: str, text: str, start: int, region: str) -> float | None:
        if not _valid_card(_NON_DIGIT.sub("", candidate)):
            return None
        window = before(text, start, 20)
        if has_any(window, NEGATIVE_NUMBER_CONTEXT):
            return None
        return self.base_score
