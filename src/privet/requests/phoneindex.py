"""MariaDB: the number indexes that let a person's phone number be looked up in a phone column
(``calls.caller_number``, ``users.phone``) instead of every row's digits being stripped and
compared (MariaDB has no index on an expression).

A number is compared by the tail of its digits, which every written form shares (``0176 123
4567`` and ``+49 176 1234567``): reversed, the tail is a prefix, which a B-tree finds. Per column
a table ``privet_phones_<table>_<column>`` holds, for every row of the table, its key and the
column's digits reversed (phone punctuation stripped as ``digits_only`` strips it, at most
``KEPT`` characters), under an index, kept current by three triggers on the table (insert,
delete, update of the key or the number), so that every writer of the database keeps it right,
Privet or not. A lookup asks for the rows whose reversed digits start with the person's reversed
tail (``phone_lo_<n>`` ≤ r < ``phone_hi_<n>``, ``identity_params``); the rows it gives are
checked in Python as the rows of a search of the column are. The searches use an index only
when its table and every trigger are there as this version creates them
(``tokenindex.Catalog.has``); ``privet map index`` creates them and ``privet map check`` says
where one is missing.

SQLite has indexes on expressions, which SQLite keeps current itself: there a phone column's index
(``TailIndex``) is one on its digits' tail reversed (``matching.reversed_tail``), spelled in
SQLite's own functions so that any connection writing the table can maintain it."""

from __future__ import annotations

import functools
import hashlib
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import mysql, sqlite

from privet.requests.matching import (
    _after_prefix,
    digits_only,
    equals_many_tail,
    equals_tail,
    phone_tail,
    reversed_tail,
)
from privet.requests.sideindex import SideIndex, quote
from privet.stores import TableInfo

PREFIX = "privet_phones_"
# The index's own name on its table of numbers (how the catalog finds these tables).
INDEX = "privet_phones"
# Reversed digits kept per row: a tail asked for is at most 8 digits, so any longer prefix of
# them finds the same rows.
KEPT = 64
_DIALECT = mysql.dialect()


def reversed_sql(value: str) -> str:
    """SQL: a value's digits reversed, as the index holds them (``value`` an SQL expression)."""
    digits = digits_only(sa.literal_column(value)).compile(
        dialect=_DIALECT, compile_kwargs={"literal_binds": True}
    )
    return f"LEFT(REVERSE({digits}), {KEPT})"


@dataclass(frozen=True)
class PhoneIndex(SideIndex):
    """The number index of one phone column: each row's digits reversed (column ``r``)."""

    prefix = PREFIX
    # A digest of how this version spells the values.
    spelling = hashlib.sha256(reversed_sql("v").encode()).hexdigest()[:8]
    value_column = "r"
    value_type = f"VARCHAR({KEPT}) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NULL"
    value_index = f"INDEX {INDEX} (r)"

    def value(self, row: str) -> str:
        return reversed_sql(f"{row}.{quote(self.column)}")

    def equals(self, table: sa.Table, n: int) -> sa.ColumnElement[bool]:
        """The rows whose number may be one of ``n`` identities' (``equals``)."""
        return equals(table, self, n)

    def equals_many(self, table: sa.Table, values: set[str]) -> sa.ColumnElement[bool]:
        """The rows whose number may be one of many, the values bound (``equals_many``)."""
        return equals_many(table, self, values)


def indexable(table: sa.Table, column: str) -> PhoneIndex | None:
    """The column's number index, when its table has a one-column primary key."""
    return PhoneIndex.of_table(table, column)


def indexable_info(info: TableInfo, column: str) -> PhoneIndex | None:
    """``indexable`` for an introspected table."""
    return PhoneIndex.of_info(info, column)


def _bp(name: str) -> sa.BindParameter[str]:
    return sa.bindparam(name, type_=sa.String(), required=True)


def _keys_in(table: sa.Table, index: PhoneIndex, bounds: list[tuple[Any, Any]]) -> sa.ColumnElement[bool]:
    """The rows whose reversed digits fall in one of the ranges ``[low, high)``."""
    numbers = sa.table(index.name, sa.column("k"), sa.column("r"))
    ranges = [sa.and_(numbers.c.r >= low, numbers.c.r < high) for low, high in bounds]
    found: Any = sa.select(numbers.c.k).where(sa.or_(*ranges))
    return table.c[index.key].in_(found)


def equals(table: sa.Table, index: PhoneIndex, n: int, prefix: str = "") -> sa.ColumnElement[bool]:
    """The rows whose number may be one of ``n`` identities' (parameters ``phone_lo_<i>`` and
    ``phone_hi_<i>``): the keys the index gives for their reversed tails, one range each."""
    return _keys_in(
        table, index, [(_bp(f"{prefix}phone_lo_{i}"), _bp(f"{prefix}phone_hi_{i}")) for i in range(n)]
    )


def equals_many(table: sa.Table, index: PhoneIndex, values: set[str]) -> sa.ColumnElement[bool]:
    """The rows whose number may be one of many (E.164), the values bound: one range of the
    index per tail (a batch's value-linked read, ``privet.requests.batch``)."""
    lows = sorted({t[::-1] for v in values if (t := phone_tail(v))})
    return _keys_in(table, index, [(low, _after_prefix(low)) for low in lows]) if lows else sa.false()


_SQLITE = sqlite.dialect()


@dataclass(frozen=True)
class TailIndex:
    """SQLite: the index of one phone column on its digits' tail reversed (``reversed_tail``),
    which ``matching.equals_tail`` looks numbers up in, one range each."""

    table: str
    column: str

    @property
    def name(self) -> str:
        return f"{PREFIX}{self.table}_{self.column}"

    def objects(self) -> dict[str, str]:
        """The index's name and the statement that creates it, as SQLite keeps it in its catalog."""
        return {self.name: _create_tail_index(self.name, self.table, self.column)}

    def statements(self) -> list[str]:
        """What creates the index (SQLite fills it from the table's rows)."""
        return list(self.objects().values())

    def drop_statements(self) -> list[str]:
        return [f"DROP INDEX IF EXISTS {_SQLITE.identifier_preparer.quote(self.name)}"]

    def equals(self, table: sa.Table, n: int) -> sa.ColumnElement[bool]:
        """The rows whose number may be one of ``n`` identities', one range each (``equals_tail``)."""
        return equals_tail(table.c[self.column], n)

    def equals_many(self, table: sa.Table, values: set[str]) -> sa.ColumnElement[bool]:
        """The rows whose number may be one of many, the values bound (``equals_many_tail``)."""
        return equals_many_tail(table.c[self.column], values)


@functools.lru_cache(maxsize=1024)
def _create_tail_index(name: str, table: str, column: str) -> str:
    """The statement creating a ``TailIndex``, compiled once (2 ms): the searches compare it with
    the catalog whenever they ask whether the index is there (``StoreIndexes.phones_of``)."""
    quote = _SQLITE.identifier_preparer.quote
    key = reversed_tail(sa.column(column)).compile(dialect=_SQLITE, compile_kwargs={"literal_binds": True})
    return f"CREATE INDEX {quote(name)} ON {quote(table)} ({key})"
