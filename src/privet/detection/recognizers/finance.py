"""IBANs and payment cards, validated by their checksums."""

from __future__ import annotations

import re

from stdnum import iban, luhn

from privet.detection.context import NEGATIVE_NUMBER_CONTEXT, before
from privet.detection.recognizers.base import Recognizer, for_hyperscan


class IbanRecognizer(Recognizer):
    type = "iban"
    min_digits = 2
    gate = re.compile(r"[A-Z]{2}\d\d")  # how every candidate begins
    hs_gate = for_hyperscan(gate.pattern)
    pattern = re.compile(r"(?<![A-Za-z0-9])[A-Z]{2}\d{2}(?:[ ]?[A-Z0-9]){11,30}(?![A-Za-z0-9])")
    base_score = 0.99

    def validate(self, candidate: str, text: str, start: int, region: str) -> float | None:
        compact = candidate.replace(" ", "")
        return self.base_score if iban.is_valid(compact) else None


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
        digits = re.sub(r"\D", "", candidate)
        if not (12 <= len(digits) <= 19) or len(set(digits)) < 2:
            return None
        if not luhn.is_valid(digits) or not _card_brand_ok(digits):
            return None
        if any(w in before(text, start, 20) for w in NEGATIVE_NUMBER_CONTEXT):
            return None
        return self.base_score
