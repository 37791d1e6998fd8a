"""Mentions of one person's identifiers in free text: find them, redact only them."""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable

from privet.detection.engine import scan
from privet.detection.finding import Finding, resolve_overlaps
from privet.identity import Identity, try_normalize_phone


def mentions(text: str, identifiers: Iterable[Identity], *, region: str = "DE") -> list[Finding]:
    """Spans of ``text`` that are one of the subject's identifiers (emails, phones in any format, names)."""
    if not text:
        return []
    ids = list(identifiers)
    emails = {i.value.lower() for i in ids if i.kind == "email"}
    phones = {i.value for i in ids if i.kind == "phone"}
    found: list[Finding] = []
    if emails and "@" in text:
        found += [f for f in scan(text, region=region, types=("email",)) if f.text.lower() in emails]
    if phones:
        for f in scan(text, region=region, types=("phone",)):
            if try_normalize_phone(f.text, region) in phones:
                found.append(f)
    for ident in ids:
        if ident.kind in ("name", "handle") and ident.value.strip():
            found += [
                Finding("person_name", m.start(), m.end(), 0.9, m.group())
                for m in name_pattern(ident.value.strip()).finditer(text)
            ]
    return resolve_overlaps(found)


@functools.lru_cache(maxsize=4096)
def name_pattern(name: str) -> re.Pattern[str]:
    """The name as a whole word in any case (compiled once: a batch searches each person's texts
    with it; the ``re`` module's own cache keeps only 512 patterns)."""
    return re.compile(rf"(?<!\w){re.escape(name)}(?!\w)", re.IGNORECASE)


def redact_identifiers(
    text: str, identifiers: Iterable[Identity], *, region: str = "DE", replacement: str = "[redacted]"
) -> tuple[str, int]:
    """The text with only the subject's mentions replaced, and how many were replaced."""
    spans = mentions(text, identifiers, region=region)
    if not spans:
        return text, 0
    out, last = [], 0
    for f in spans:
        out.append(text[last : f.start])
        out.append(replacement)
        last = f.end
    out.append(text[last:])
    return "".join(out), len(spans)
