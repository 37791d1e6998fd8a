"""Context words in several languages that raise or lower a candidate's score."""

from __future__ import annotations

import re
from functools import lru_cache

WINDOW = 40


@lru_cache(maxsize=128)
def words_pattern(words: tuple[str, ...]) -> re.Pattern[str]:
    """A pattern found in a text exactly when one of ``words`` is in it (one search, not one per word)."""
    return re.compile("|".join(re.escape(w) for w in sorted(words, key=len, reverse=True)) or "(?!)")


def has_any(window: str, words: tuple[str, ...]) -> bool:
    """Whether one of ``words`` occurs in ``window``."""
    return words_pattern(words).search(window) is not None


def before(text: str, start: int, window: int = WINDOW) -> str:
    return text[max(0, start - window) : start].lower()


def context_score(
    score: float, text: str, start: int, positive: tuple[str, ...], negative: tuple[str, ...]
) -> float:
    """Raise the score when a positive word precedes the span, lower it for a negative one."""
    if not positive and not negative:
        return score
    window = before(text, start)
    if negative and has_any(window, negative):
        return score - 0.4
    if positive and has_any(window, positive):
        return min(1.0, score + 0.15)
    return score


NEGATIVE_NUMBER_CONTEXT: tuple[str, ...] = (
    "order",
    "invoice",
    "rechnung",
    "bestell",
    "commande",
    "facture",
    "tracking",
    "sendung",
    "version",
    "ticket",
    "ref",
    "auftrag",
    "pedido",
    "factura",
    "ordine",
    "fattura",
    "bestelling",
    "factuur",
    "colis",
    "paket",
    "parcel",
    "shipment",
    "build",
    "release",
    "serial",
    "serien",
    "artikel",
    "article",
    "sku",
    "#",
)
