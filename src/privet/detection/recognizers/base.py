"""The recognizer interface: a cheap necessary condition, a pattern for candidates, ``validate`` decides."""

from __future__ import annotations

import re
from collections.abc import Iterator

from privet.detection.context import context_score
from privet.detection.finding import Finding

DIGIT = re.compile(r"\d")
_ASCII_DIGITS = b"0123456789"


def count_digits(text: str) -> int:
    """How many characters of ``text`` match ``\\d`` (the digits every recognizer's pattern counts)."""
    if DIGIT.search(text) is None:
        return 0
    if text.isascii():
        raw = text.encode("ascii")
        return len(raw) - len(raw.translate(None, _ASCII_DIGITS))
    return len(DIGIT.findall(text))


# Hyperscan has no Unicode ``\d`` and ``\s`` quite like Python's: its gates use these wider classes,
# every character Python's would match and any other non-ASCII character.
HS_DIGIT = r"(?:[0-9]|[^\x00-\x7f])"
HS_SPACE = r"(?:[\t-\r\x1c-\x20]|[^\x00-\x7f])"


def for_hyperscan(pattern: str) -> str:
    """A gate pattern (no look-around) for Hyperscan: ``\\d`` and ``\\s`` widened as above."""
    return pattern.replace(r"\d", HS_DIGIT).replace(r"\s", HS_SPACE)


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
    # The same necessary condition for Hyperscan (which runs every recognizer's at once), or None.
    hs_gate: str | None = None

    @property
    def needs_digit(self) -> bool:
        return self.min_digits > 0

    def possible(
        self, text: str, digits: int, lower: str | None = None, hits: frozenset[str] | None = None
    ) -> bool:
        """False only when ``text`` (with ``digits`` digits) cannot hold a finding of this type.

        ``hits``: the types whose ``hs_gate`` Hyperscan found in ``text``, when it was run.
        """
        if digits < self.min_digits or (self.needs is not None and self.needs not in text):
            return False
        if hits is not None and self.hs_gate is not None:
            return self.type in hits
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
