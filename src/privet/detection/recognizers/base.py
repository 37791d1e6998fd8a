"""The recognizer interface: a cheap necessary condition, a pattern for candidates, ``validate`` decides."""

from __future__ import annotations

import re
from collections.abc import Iterator

from privet.detection.context import context_score
from privet.detection.finding import Finding

DIGIT = re.compile(r"\d")


def count_digits(text: str) -> int:
    """How many characters of ``text`` match ``\\d`` (the digits every recognizer's pattern counts)."""
    return len(DIGIT.findall(text)) if DIGIT.search(text) else 0


class Recognizer:
    """One entity type: ``pattern`` proposes spans, ``validate`` scores them (None rejects).

    ``possible`` is a necessary condition, much cheaper than the pattern: a text it refuses
    cannot hold a finding of this type, so the pattern and the validators are not run on it.
    """

    type: str = ""
    pattern: re.Pattern[str]
    base_score: float = 0.9
    # Words that make a candidate more (or less) likely when they stand just before it.
    context: tuple[str, ...] = ()
    negative_context: tuple[str, ...] = ()
    needs: str | None = None  # a character the text must contain for this recognizer to run
    min_digits = 0  # fewer ``\d`` characters in the text than this, and no finding is possible
    # A pattern that matches every text holding a finding (on the lower-cased text if ``gate_lower``).
    gate: re.Pattern[str] | None = None
    gate_lower = False

    @property
    def needs_digit(self) -> bool:
        return self.min_digits > 0

    def possible(self, text: str, digits: int, lower: str | None = None) -> bool:
        """False only when ``text`` (with ``digits`` digits) cannot hold a finding of this type."""
        if digits < self.min_digits or (self.needs is not None and self.needs not in text):
            return False
        if self.gate is not None:
            subject = (text.lower() if lower is None else lower) if self.gate_lower else text
            return self.gate.search(subject) is not None
        return True

    def validate(self, candidate: str, text: str, start: int, region: str) -> float | None:
        return self.base_score

    def span(self, m: re.Match[str]) -> tuple[int, int]:
        return m.span()

    def find(self, text: str, region: str) -> Iterator[Finding]:
        if not self.possible(text, count_digits(text) if self.min_digits else 0):
            return
        yield from self.candidates(text, region)

    def candidates(self, text: str, region: str) -> Iterator[Finding]:
        """The findings in ``text``, without the ``possible`` check."""
        for m in self.pattern.finditer(text):
            start, end = self.span(m)
            candidate = text[start:end]
            score = self.validate(candidate, text, start, region)
            if score is None:
                continue
            score = context_score(score, text, start, self.context, self.negative_context)
            if score >= 0.5:
                yield Finding(self.type, start, end, round(score, 3), candidate)
