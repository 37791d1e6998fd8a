"""The recognizer interface: a cheap pattern finds candidates, ``validate`` decides."""

from __future__ import annotations

import re
from collections.abc import Iterator

from privet.detection.context import context_score
from privet.detection.finding import Finding


class Recognizer:
    """One entity type: ``pattern`` proposes spans, ``validate`` scores them (None rejects)."""

    type: str = ""
    pattern: re.Pattern[str]
    base_score: float = 0.9
    # Words that make a candidate more (or less) likely when they stand just before it.
    context: tuple[str, ...] = ()
    negative_context: tuple[str, ...] = ()
    needs: str | None = None  # a character the text must contain for this recognizer to run
    needs_digit = False  # the cheap prefilter: skip texts without a digit

    def validate(self, candidate: str, text: str, start: int, region: str) -> float | None:
        return self.base_score

    def span(self, m: re.Match[str]) -> tuple[int, int]:
        return m.span()

    def find(self, text: str, region: str) -> Iterator[Finding]:
        if self.needs is not None and self.needs not in text:
            return
        for m in self.pattern.finditer(text):
            start, end = self.span(m)
            candidate = text[start:end]
            score = self.validate(candidate, text, start, region)
            if score is None:
                continue
            score = context_score(score, text, start, self.context, self.negative_context)
            if score >= 0.5:
                yield Finding(self.type, start, end, round(score, 3), candidate)
