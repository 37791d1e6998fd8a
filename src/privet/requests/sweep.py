"""A group's mention search where no index serves it (SQLite, MariaDB): each searched table read
once for the whole group, every text looked at once for all of its people, instead of one scan of
the column per person (the issue's limit: a scan per subject costs 130-180 ms over 2M messages).

A text is looked at in Python with a dictionary of the group's identities: the email addresses
the recognizer reads in it, the tails of the numbers its digits hold, the longest word of a
name. Who it may mention is a superset of whom :func:`~privet.detection.operators.mentions`
finds there; the rows found this way then go through the same SQL search as one person's
(restricted to their keys), so that a batch's export holds exactly what one person's does."""

from __future__ import annotations

import itertools
import operator
import re
from collections.abc import Iterable, Iterator
from typing import Any

import sqlalchemy as sa

from privet.datamap import split_ref
from privet.detection.engine import scan
from privet.detection.operators.mentions import name_pattern
from privet.identity import Identity
from privet.requests.execute import _as_text, mention_params, mention_select
from privet.requests.matching import MENTION_TAIL, ODD_IOTA, fold, identity_shape, phone_tail
from privet.stores.sql import OTHER_DIGIT, SqlStore

# People from which a group's search sweeps each table once (SQLite, MariaDB). Fewer are
# searched one scan each, which runs in the database's C code: on the demo database with 20,000
# users a sweep took 1.4-1.7 s on SQLite whatever the people, the scans 105 ms a person (even at
# 14); on MariaDB 2.0-2.1 s against 300 ms a person (even at 7).
SWEEP_FROM = 12
# Rows a sweep fetches at a time (flat memory whatever the table's size).
SWEEP_ROWS = 5000
# Keys of rows, and people, confirmed by one statement (the SQL search restricted to the rows a
# sweep found).
CONFIRM_KEYS = 500
CONFIRM_PEOPLE = 50

_ANY_DIGIT = re.compile(r"\d")
_NOT_ASCII_DIGIT = re.compile(r"[^0-9]+")
_WORDS = re.compile(r"\w+")


class Lookout:
    """Who of a group of people a text may mention: a superset of the people
    :func:`~privet.detection.operators.mentions` finds in it (emails as the recognizer reads
    them, every number whose tail its ASCII digits hold or any number where it has digits of
    another script, as the SQL searches do, names and handles as whole words)."""

    def __init__(self, people: list[set[Identity]], region: str) -> None:
        self.region = region
        self.emails: dict[str, list[int]] = {}
        self.tails: dict[str, list[int]] = {}
        self.words: dict[str, list[tuple[int, re.Pattern[str]]]] = {}
        self.odd: list[tuple[int, re.Pattern[str]]] = []  # names without a word character
        self.names: list[tuple[int, re.Pattern[str]]] = []
        for j, ids in enumerate(people):
            for i in ids:
                if i.kind == "email":
                    self.emails.setdefault(i.value.lower(), []).append(j)
                elif i.kind == "phone":
                    tail = phone_tail(i.value, MENTION_TAIL)
                    if tail:
                        self.tails.setdefault(tail, []).append(j)
                elif i.kind in ("name", "handle") and (name := i.value.strip()):
                    pattern = name_pattern(name)
                    self.names.append((j, pattern))
                    # Where a name is found whole, each of its words is a whole word of the
                    # text (what surrounds the word in the name is no word character, nor what
                    # the text holds there): the longest, which fewest names share, is looked up.
                    words = _WORDS.findall(fold(name))
                    if not words or ODD_IOTA in name:
                        self.odd.append((j, pattern))
                    else:
                        longest = max(reversed(words), key=len)
                        self.words.setdefault(longest, []).append((j, pattern))
        # The people with a phone number: all of them may be mentioned in digits of another script.
        self.callers = [j for j, ids in enumerate(people) if any(i.kind == "phone" for i in ids)]
        self.lengths = sorted({len(t) for t in self.tails})
        self.keys = frozenset(self.words)

    def who(self, text: str) -> set[int]:
        """The people of the group this text may mention (their index in the group)."""
        found: set[int] = set()
        if self.emails and "@" in text:
            for f in scan(text, region=self.region, types=("email",)):
                found.update(self.emails.get(f.text.lower(), ()))
        if self.callers and _ANY_DIGIT.search(text):
            self._numbers(text, found)
        if self.names:
            self._names(text, found)
        return found

    def _numbers(self, text: str, found: set[int]) -> None:
        if OTHER_DIGIT.search(text):
            found.update(self.callers)
            return
        digits = _NOT_ASCII_DIGIT.sub("", text)
        for n in self.lengths:
            for at in range(len(digits) - n + 1):
                hit = self.tails.get(digits[at : at + n])
                if hit:
                    found.update(hit)

    def _names(self, text: str, found: set[int]) -> None:
        if text.isascii():  # most texts: lower case is all their folding
            hits = self.keys.intersection(_WORDS.findall(text.lower()))
        elif ODD_IOTA in text:
            self._check(self.names, text, found)
            return
        else:
            hits = self.keys.intersection(_WORDS.findall(fold(text)))
        if hits or self.odd:
            self._check([c for word in hits for c in self.words[word]] + self.odd, text, found)

    @staticmethod
    def _check(checks: Iterable[tuple[int, re.Pattern[str]]], text: str, found: set[int]) -> None:
        for j, pattern in checks:
            if j not in found and pattern.search(text):
                found.add(j)


def _sweep(
    conn: sa.Connection, table: sa.Table, columns: list[str], lookout: Lookout
) -> dict[str, list[tuple[int, Any, str]]]:
    """One read of the table's free-text ``columns``: per column, the rows ``(person, key,
    text)`` whose text may mention a person of the lookout's group (the table has a
    single-column key)."""
    pk = next(iter(table.primary_key.columns))
    stmt = sa.select(pk, *(_as_text(table.c[c]) for c in columns)).where(
        sa.or_(*(table.c[c].is_not(None) for c in columns))
    )
    out: dict[str, list[tuple[int, Any, str]]] = {c: [] for c in columns}
    result = conn.execution_options(stream_results=True, yield_per=SWEEP_ROWS).execute(stmt)
    who = lookout.who
    for row in result:
        key = row[0]
        for c, text in zip(columns, row[1:], strict=True):
            if text is None:
                continue
            value = text if type(text) is str else str(text)
            for j in who(value):
                out[c].append((j, key, value))
    return out


def swept(
    conn: sa.Connection,
    store: SqlStore,
    columns: list[tuple[str, str]],
    people: list[set[Identity]],
    region: str,
) -> list[tuple[str, str, list[int], list[tuple[Any, ...]]]]:
    """The rows of these ``(table ref, column)`` that mention one of the people, as the mention
    pass's statements give them (``(table, column, people of the statement, rows of (index in
    those people, key, text))``): each table swept once for all of them, then the rows found
    searched by each person's own statement, restricted to their keys (``mention_select``
    with ``keyed``)."""
    lookout = Lookout(people, region)
    shapes = [identity_shape(ids) for ids in people]
    out: list[tuple[str, str, list[int], list[tuple[Any, ...]]]] = []
    for ref, cols in itertools.groupby(columns, key=operator.itemgetter(0)):
        names = [c for _ref, c in cols]
        table = store.table(split_ref(ref)[1])
        if len(table.primary_key.columns) != 1:
            continue
        found = _sweep(conn, table, names, lookout)
        for col in names:
            for group, keys in _confirming(found[col]):
                stmt = mention_select(table, col, tuple(shapes[n] for n in group), store.dialect, keyed=True)
                if stmt is None:
                    continue
                params = mention_params([people[n] for n in group])
                params |= {f"p{j}_keys": k for j, k in enumerate(keys)}
                rows = [tuple(r) for r in conn.execute(stmt, params)]
                out.append((ref, col, group, rows))
    return out


def _confirming(rows: list[tuple[int, Any, str]]) -> Iterator[tuple[list[int], list[list[Any]]]]:
    """The people a sweep found in a column and their rows' keys, in statements of at most
    ``CONFIRM_PEOPLE`` people and about ``CONFIRM_KEYS`` keys (a person found in more rows
    comes in several statements, never twice in one)."""
    by_person: dict[int, list[Any]] = {}
    for n, key, _text in rows:
        by_person.setdefault(n, []).append(key)
    group: list[int] = []
    keys: list[list[Any]] = []
    size = 0
    for n in sorted(by_person):
        mine = sorted(set(by_person[n]))
        for at in range(0, len(mine), CONFIRM_KEYS):
            part = mine[at : at + CONFIRM_KEYS]
            if group and (len(group) == CONFIRM_PEOPLE or size + len(part) > CONFIRM_KEYS or n in group):
                yield group, keys
                group, keys, size = [], [], 0
            group.append(n)
            keys.append(part)
            size += len(part)
    if group:
        yield group, keys
