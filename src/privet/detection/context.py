"""Context words in several languages that raise or lower a candidate's score."""

from __future__ import annotations

WINDOW = 40


def before(text: str, start: int, window: int = WINDOW) -> str:
    return text[max(0, start - window) : start].lower()


def context_score(
    score: float, text: str, start: int, positive: tuple[str, ...], negative: tuple[str, ...]
) -> float:
    """Raise the score when a positive word precedes the span, lower it for a negative one."""
    if not positive and not negative:
        return score
    window = before(text, start)
    if any(w in window for w in negative):
        return score - 0.4
    if any(w in window for w in positive):
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
