"""Scanning: run the recognizers over text, resolve overlaps, stream files and batches."""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from privet.detection.finding import ENTITY_TYPES, Finding, resolve_overlaps
from privet.detection.recognizers import ALL, Recognizer
from privet.detection.recognizers.dates import parse_date
from privet.errors import UnknownName


def _recognizers(types: Collection[str] | None) -> tuple[Recognizer, ...]:
    if types is None:
        return ALL
    unknown = set(types) - set(ENTITY_TYPES)
    if unknown:
        raise UnknownName(
            f"unknown entity type(s): {', '.join(sorted(unknown))}",
            value=sorted(unknown),
            hint=f"use {', '.join(ENTITY_TYPES)}",
        )
    return tuple(r for r in ALL if r.type in types)


def scan(text: str, *, region: str = "DE", types: Collection[str] | None = None) -> list[Finding]:
    """Every entity found in ``text``: sorted by position, overlaps resolved to the strongest."""
    if not text:
        return []
    found: list[Finding] = []
    has_digit = _DIGIT.search(text) is not None
    for rec in _recognizers(types):
        if rec.needs_digit and not has_digit:
            continue
        found.extend(rec.find(text, region))
    return resolve_overlaps(found) if len(found) > 1 else found


def scan_many(
    texts: Iterable[str], *, region: str = "DE", types: Collection[str] | None = None
) -> Iterator[list[Finding]]:
    """Findings per text, in order, for a batch of texts."""
    for text in texts:
        yield scan(text, region=region, types=types)


def _scan_chunk(args: tuple[list[str], str, list[str] | None]) -> list[list[Finding]]:
    lines, region, types = args
    return [scan(line, region=region, types=types) for line in lines]


def scan_lines(
    lines: Iterable[str],
    *,
    region: str = "DE",
    types: Collection[str] | None = None,
    workers: int = 1,
    chunk: int = 2000,
) -> Iterator[tuple[int, list[Finding]]]:
    """(line number from 1, findings) for each line; ``workers > 1`` uses a process pool."""
    tlist = sorted(types) if types is not None else None
    if workers <= 1:
        for no, line in enumerate(lines, start=1):
            yield no, scan(line, region=region, types=tlist)
        return
    no = 0
    with ProcessPoolExecutor(workers) as pool:
        batch: list[list[str]] = []
        buf: list[str] = []
        for line in lines:
            buf.append(line)
            if len(buf) == chunk:
                batch.append(buf)
                buf = []
            if len(batch) == workers * 2:
                for res in pool.map(_scan_chunk, [(b, region, tlist) for b in batch]):
                    for f in res:
                        no += 1
                        yield no, f
                batch = []
        if buf:
            batch.append(buf)
        for res in pool.map(_scan_chunk, [(b, region, tlist) for b in batch]):
            for f in res:
                no += 1
                yield no, f


def scan_file(
    path: str | Path, *, region: str = "DE", types: Collection[str] | None = None, workers: int = 1
) -> Iterator[tuple[int, list[Finding]]]:
    """Stream a text file line by line (flat memory): (line number, findings)."""
    with Path(path).open(encoding="utf-8", errors="replace") as fh:
        yield from scan_lines((line.rstrip("\n") for line in fh), region=region, types=types, workers=workers)


_DIGIT = re.compile(r"\d")
_HANDLE = re.compile(r"^@[A-Za-z_][A-Za-z0-9_.]{1,29}$")


def classify_value(value: str, *, region: str = "DE") -> Finding | None:
    """The entity a whole short value (a table cell) is, or None.

    Unlike ``scan``, no context words are needed: a column of dates may be
    birth dates, and the column name decides.
    """
    v = value.strip()
    if not v or len(v) > 200:
        return None
    findings = scan(v, region=region)
    for f in findings:
        if f.end - f.start >= len(v) - 2:
            return f
    if _HANDLE.match(v):
        return Finding("social_handle", 0, len(v), 0.7, v)
    d = parse_date(v[:10]) if len(v) >= 8 else None
    if d is not None:
        return Finding("date_of_birth", 0, len(v), 0.3, v)
    return None
