"""One Hyperscan pass over a text runs every recognizer's gate at once (when Hyperscan is installed).

The gates are necessary conditions (see ``Recognizer.possible``): a recognizer whose gate is
not found is not run. Without Hyperscan (or for a text that is no valid UTF-8, such as one
holding lone surrogates) each recognizer searches its own gate with Python's ``re``; findings
are the same either way.
"""

from __future__ import annotations

import importlib
import threading
from types import ModuleType
from typing import Any

from privet.detection.recognizers import ALL


def _import_hyperscan() -> ModuleType | None:
    try:
        return importlib.import_module("hyperscan")
    except ImportError:  # a platform without a Hyperscan wheel: Python's gates are used
        return None


hyperscan = _import_hyperscan()


class HyperscanGates:
    """The ``hs_gate`` of every recognizer that has one, compiled into one Hyperscan database."""

    def __init__(self) -> None:
        assert hyperscan is not None
        self._hs = hyperscan
        gated = [r for r in ALL if r.hs_gate is not None]
        self._types = [r.type for r in gated]
        self._db = hyperscan.Database()
        flags = hyperscan.HS_FLAG_SINGLEMATCH | hyperscan.HS_FLAG_UTF8
        expressions = [(r.hs_gate or "").encode() for r in gated]
        self._db.compile(
            expressions=expressions,
            ids=list(range(len(gated))),
            elements=len(gated),
            flags=[flags] * len(gated),
        )
        self._expressions = expressions
        self._block_db: Any = None  # compiled on first use (only files are scanned in blocks)
        self._block_lock = threading.Lock()
        self._local = threading.local()  # a Hyperscan scratch space serves one thread at a time

    def hits(self, text: str) -> frozenset[str] | None:
        """The types whose gate is in ``text``; None when the text cannot be given to Hyperscan."""
        try:
            data = text.encode("utf-8")
        except UnicodeEncodeError:
            return None
        scratch = getattr(self._local, "scratch", None)
        if scratch is None:
            scratch = self._local.scratch = self._hs.Scratch(self._db)
        found: list[int] = []

        def on_match(gate: int, start: int, end: int, flags: int, context: Any) -> None:
            found.append(gate)

        self._db.scan(data, match_event_handler=on_match, scratch=scratch)
        return frozenset(self._types[i] for i in found)

    def block_ends(self, data: bytes) -> list[int]:
        """The end offsets (in ``data``, valid UTF-8) of every gate match in a block of lines."""
        if self._block_db is None:
            with self._block_lock:
                if self._block_db is None:
                    # Every match is reported: one line's must not hide another's.
                    db = self._hs.Database()
                    db.compile(
                        expressions=self._expressions,
                        ids=list(range(len(self._expressions))),
                        elements=len(self._expressions),
                        flags=[self._hs.HS_FLAG_UTF8] * len(self._expressions),
                    )
                    self._block_db = db
        scratch = getattr(self._local, "block_scratch", None)
        if scratch is None:
            scratch = self._local.block_scratch = self._hs.Scratch(self._block_db)
        ends: list[int] = []

        def on_match(gate: int, start: int, end: int, flags: int, context: Any) -> None:
            ends.append(end)

        self._block_db.scan(data, match_event_handler=on_match, scratch=scratch)
        return ends


_gates: HyperscanGates | None = None
_enabled = hyperscan is not None
_lock = threading.Lock()


def available() -> bool:
    """Whether Hyperscan can be imported here."""
    return hyperscan is not None


def use_hyperscan(enabled: bool) -> None:
    """Run the gates through Hyperscan (the default when it is installed) or through Python's ``re``."""
    global _enabled
    _enabled = enabled and hyperscan is not None


def hyperscan_gates() -> HyperscanGates | None:
    """The process's compiled gates, or None when Hyperscan is not installed or turned off."""
    global _gates
    if not _enabled:
        return None
    if _gates is None:
        with _lock:
            if _gates is None:
                _gates = HyperscanGates()
    return _gates
