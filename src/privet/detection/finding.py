"""A finding: one span of personal data in a text."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

ENTITY_TYPES: tuple[str, ...] = (
    "email",
    "phone",
    "iban",
    "payment_card",
    "ip_address",
    "national_id",
    "person_name",
    "postal_address",
    "date_of_birth",
    "social_handle",
)


@dataclass(frozen=True, slots=True)
class Finding:
    """``text[start:end]`` holds an entity of ``type`` with confidence ``score`` (0..1)."""

    type: str
    start: int
    end: int
    score: float
    text: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def resolve_overlaps(findings: list[Finding]) -> list[Finding]:
    """Keep the strongest of overlapping findings (score, then length), sorted by position."""
    ranked = sorted(findings, key=lambda f: (-f.score, -(f.end - f.start), f.start))
    kept: list[Finding] = []
    for f in ranked:
        if all(f.end <= k.start or f.start >= k.end for k in kept):
            kept.append(f)
    return sorted(kept, key=lambda f: f.start)
