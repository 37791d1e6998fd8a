"""Scanning: run the recognizers over text, resolve overlaps, stream files and batches."""

from __future__ import annotations

import itertools
import re
from bisect import bisect_right
from collections import deque
from collections.abc import Callable, Collection, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from pathlib import Path
from typing import BinaryIO

from privet.detection.finding import ENTITY_TYPES, Finding, resolve_overlaps
from privet.detection.gates import hyperscan_gates
from privet.detection.recognizers import ALL, Recognizer
from privet.detection.recognizers.base import count_digits
from privet.detection.recognizers.dates import parse_date
from privet.detection.recognizers.people import CAPITALISED as _CAPITALISED
from privet.detection.recognizers.people import known_name
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
    digits = count_digits(text)
    lower = None  # the lower-cased text, made once if a recognizer's gate needs it
    hits = None  # the gates Hyperscan found, in one pass (every gated recognizer needs a digit)
    if digits and (gates := hyperscan_gates()) is not None:
        hits = gates.hits(text)
    for rec in ALL if types is None else _recognizers(types):
        if digits < rec.min_digits:
            continue
        if rec.gate_lower and lower is None:
            lower = text.lower()
        if rec.possible(text, digits, lower, hits):
            found.extend(rec.candidates(text, region))
    return resolve_overlaps(found) if len(found) > 1 else found


def scan_many(
    texts: Iterable[str], *, region: str = "DE", types: Collection[str] | None = None
) -> Iterator[list[Finding]]:
    """Findings per text, in order, for a batch of texts."""
    for text in texts:
        yield scan(text, region=region, types=types)


def _scan_chunk(args: tuple[list[str], str, list[str] | None]) -> list[list[Finding]]:
    """Findings for each line of a chunk; only the lines marked by the whole-chunk passes are scanned."""
    lines, region, types = args
    text = "\n".join(lines)
    if text.count("\n") != len(lines) - 1:  # a line holds a newline itself: scan each on its own
        return [scan(line, region=region, types=types) for line in lines]
    todo = _lines_to_scan(text, lines)
    return [scan(line, region=region, types=types) if i in todo else [] for i, line in enumerate(lines)]


def _chunks(lines: Iterable[str], size: int) -> Iterator[list[str]]:
    buf: list[str] = []
    for line in lines:
        buf.append(line)
        if len(buf) == size:
            yield buf
            buf = []
    if buf:
        yield buf


def scan_lines(
    lines: Iterable[str],
    *,
    region: str = "DE",
    types: Collection[str] | None = None,
    workers: int = 1,
    chunk: int = 2000,
) -> Iterator[tuple[int, list[Finding]]]:
    """(line number from 1, findings) for each line, in order; ``workers > 1`` uses a process pool.

    Lines are scanned ``chunk`` at a time (whole-chunk passes find the lines worth scanning), so
    results come a chunk at a time. Memory stays flat: the pool holds at most ``2 * workers``
    chunks in flight, and results are yielded in input order as soon as the oldest chunk is done.
    """
    tlist = sorted(types) if types is not None else None
    if tlist is not None:
        _recognizers(tlist)  # unknown types fail here, not in a worker
    if workers <= 1:
        no = 0
        for buf in _chunks(lines, chunk):
            for found in _scan_chunk((buf, region, tlist)):
                no += 1
                yield no, found
        return
    no = 0
    pending: deque[Future[list[list[Finding]]]] = deque()
    with ProcessPoolExecutor(workers) as pool:
        for buf in _chunks(lines, chunk):
            pending.append(pool.submit(_scan_chunk, (buf, region, tlist)))
            while len(pending) > 2 * workers:
                for found in pending.popleft().result():
                    no += 1
                    yield no, found
        while pending:
            for found in pending.popleft().result():
                no += 1
                yield no, found


_BLOCK = 1 << 20  # files are read, decoded and handed to workers a megabyte of whole lines at a time


def _blocks(fh: BinaryIO, size: int) -> Iterator[bytes]:
    """Whole lines, about ``size`` bytes at a time (a cut at a newline never splits a UTF-8 character)."""
    rest = b""
    while data := fh.read(size):
        data = rest + data
        cut = data.rfind(b"\n") + 1
        if cut:
            yield data[:cut]
        rest = data[cut:]
    if rest:
        yield rest


def _block_lines(block: bytes) -> list[str]:
    return _split_lines(block.decode("utf-8", errors="replace"))


def _split_lines(text: str) -> list[str]:
    lines = text.split("\n")
    if text.endswith("\n"):
        lines.pop()
    if "\r" in text:
        lines = [line.rstrip("\r") for line in lines]
    return lines


# What a line needs for each recognizer without a Hyperscan gate to find something in it: "@" (email,
# handle), ".com/" or ".me/" (profile address), six digits (phone 7, card 12, birth date 6) or a
# capitalised word that is a known name (person).
_MARKS = ("@", ".com/", ".me/")
MIN_DIGITS_WITHOUT_HS_GATE = 6
# Deleted from a block's bytes to count the digits of each line: all but ASCII digits, newlines and the
# bytes of non-ASCII characters (which may be digits: such lines are counted again, exactly).
_NOT_DIGIT_BYTES = bytes(b for b in range(256) if not (0x30 <= b <= 0x39 or b == 0x0A or b >= 0x80))


def _lines_to_scan(text: str, lines: list[str]) -> set[int]:
    """The indexes of the ``lines`` of ``text`` (split at its newlines) that can hold a finding, found
    in whole-block passes: the recognizers' Hyperscan gates, the marks above and the known names.
    Without Hyperscan every line with a digit is marked (each gated recognizer needs one)."""
    gates = hyperscan_gates()
    least = MIN_DIGITS_WITHOUT_HS_GATE if gates is not None else 1
    marked: set[int] = set()
    line_starts: list[int] = []

    def starts() -> list[int]:  # where each line begins in ``text``, found when first needed
        if not line_starts:
            line_starts.append(0)
            line_starts.extend(m.end() for m in _NEWLINE.finditer(text))
        return line_starts

    for mark in _MARKS:
        at = text.find(mark)
        while at >= 0:
            marked.add(bisect_right(starts(), at) - 1)
            at = text.find(mark, at + 1)
    known = {w for w in set(_CAPITALISED.findall(text)) if known_name(w)}
    if known:
        names = (m.start() for m in _CAPITALISED.finditer(text) if m[0] in known)
        marked.update(bisect_right(starts(), at) - 1 for at in names)
    data = text.encode("utf-8")
    digit_runs = data.translate(None, _NOT_DIGIT_BYTES)
    if len(digit_runs) > data.count(b"\n"):  # some line holds a digit (or a non-ASCII character)
        for i, digits in enumerate(digit_runs.split(b"\n")):
            if len(digits) < least or i >= len(lines):
                continue
            if digits.isascii() or count_digits(lines[i]) >= least:
                marked.add(i)
    if gates is None:
        return marked
    ends = gates.block_ends(data)
    if not ends:
        return marked
    if len(data) == len(text):
        byte_starts = starts()
    else:
        byte_starts = [0]
        byte_starts.extend(m.end() for m in _NEWLINE_BYTES.finditer(data))
    # A gate match ends on the line that holds it (a match across a newline only adds a line).
    marked.update(bisect_right(byte_starts, end - 1) - 1 for end in ends)
    return marked


_NEWLINE = re.compile("\\n")
_NEWLINE_BYTES = re.compile(b"\\n")


def _scan_block(args: tuple[bytes, str, list[str] | None]) -> tuple[int, list[tuple[int, list[Finding]]]]:
    """(lines in the block, [(index in the block, findings)] for the lines with findings)."""
    block, region, types = args
    text = block.decode("utf-8", errors="replace")
    lines = _split_lines(text)
    todo = sorted(i for i in _lines_to_scan(text, lines) if i < len(lines))
    found = [(i, f) for i in todo if (f := scan(lines[i], region=region, types=types))]
    return len(lines), found


def scan_file(
    path: str | Path,
    *,
    region: str = "DE",
    types: Collection[str] | None = None,
    workers: int = 1,
    on_progress: Callable[[int], None] | None = None,
    only_found: bool = False,
    block: int = _BLOCK,
) -> Iterator[tuple[int, list[Finding]]]:
    """Stream a text file (flat memory): (line number from 1, findings), in order.

    Every line is reported unless ``only_found``, which skips lines without findings.
    The file is read in blocks of about ``block`` bytes of whole lines; ``workers > 1``
    scans them in a process pool (at most ``2 * workers`` blocks in flight).
    ``on_progress(bytes_read)`` is called after each block.
    """
    tlist = sorted(types) if types is not None else None
    if tlist is not None:
        _recognizers(tlist)  # unknown types fail here, not in a worker
    read = 0
    base = 0  # lines before the current block

    def emit(n_lines: int, found: list[tuple[int, list[Finding]]]) -> Iterator[tuple[int, list[Finding]]]:
        if only_found:
            for i, f in found:
                yield base + i + 1, f
            return
        hits = dict(found)
        for i in range(n_lines):
            yield base + i + 1, hits.get(i, [])

    with Path(path).open("rb") as fh:
        if workers <= 1:
            for data in _blocks(fh, block):
                read += len(data)
                n_lines, found = _scan_block((data, region, tlist))
                yield from emit(n_lines, found)
                base += n_lines
                if on_progress is not None:
                    on_progress(read)
            return
        pending: deque[tuple[int, Future[tuple[int, list[tuple[int, list[Finding]]]]]]] = deque()
        with ProcessPoolExecutor(workers) as pool:
            blocks = _blocks(fh, block)
            for next_block in itertools.chain(blocks, [None]):  # None: the file is read, drain the rest
                if next_block is not None:
                    pending.append((len(next_block), pool.submit(_scan_block, (next_block, region, tlist))))
                while pending and (next_block is None or len(pending) > 2 * workers or pending[0][1].done()):
                    size, fut = pending.popleft()
                    n_lines, found = fut.result()
                    yield from emit(n_lines, found)
                    base += n_lines
                    read += size
                    if on_progress is not None:
                        on_progress(read)


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
