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
where one is missing."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import mysql

from privet.requests.matching import _after_prefix, digits_only, equals_bound, phone_tail
from privet.stores import TableInfo

PREFIX = "privet_phones_"
# The index's own name on its table of numbers (how the catalog finds these tables).
INDEX = "privet_phones"
# Reversed digits kept per row: a tail asked for is at most 8 digits, so any longer prefix of
# them finds the same rows.
KEPT = 64
EVENTS = {"ai": "AFTER INSERT", "ad": "AFTER DELETE", "au": "AFTER UPDATE"}
_DIALECT = mysql.dialect()


def _quote(name: str) -> str:
    return str(_DIALECT.identifier_preparer.quote(name))


def reversed_sql(value: str) -> str:
    """SQL: a value's digits reversed, as the index holds them (``value`` an SQL expression)."""
    digits = digits_only(sa.literal_column(value)).compile(
        dialect=_DIALECT, compile_kwargs={"literal_binds": True}
    )
    return f"LEFT(REVERSE({digits}), {KEPT})"


# A digest of how this version spells the index's values: a trigger of another version is not
# taken for current.
SPELLING = hashlib.sha256(reversed_sql("v").encode()).hexdigest()[:8]


def _name(*parts: str, suffix: str = "") -> str:
    """An object's name, within the server's 64 characters (a digest of the parts beyond)."""
    name = PREFIX + "_".join(parts)
    if len(name) + len(suffix) > 64:
        name = PREFIX + hashlib.sha256("\0".join(parts).encode()).hexdigest()[:16]
    return name + suffix


@dataclass(frozen=True)
class PhoneIndex:
    """The number index of one phone column of a MariaDB table whose primary key is one column
    (``key``, of the server's type ``key_type``)."""

    table: str
    column: str
    key: str
    key_type: str

    @property
    def name(self) -> str:
        """The table of numbers."""
        return _name(self.table, self.column)

    def trigger(self, event: str) -> str:
        """A trigger's name, which carries the digest of the values' spelling (``SPELLING``)."""
        return _name(self.table, self.column, suffix=f"_{event}_{SPELLING}")

    def _value(self, row: str) -> str:
        return reversed_sql(f"{row}.{_quote(self.column)}")

    def triggers(self) -> dict[str, str]:
        """Each trigger's name and body, in the order of ``EVENTS``."""
        key, column, name = _quote(self.key), _quote(self.column), _quote(self.name)
        insert = f"INSERT INTO {name} (k, r) VALUES (NEW.{key}, {self._value('NEW')})"
        delete = f"DELETE FROM {name} WHERE k = OLD.{key}"
        # Compared as bytes: a case- or accent-blind collation takes '1' for '１'.
        same_key, same_value = (
            f"BINARY OLD.{key} <=> BINARY NEW.{key}",
            f"BINARY OLD.{column} <=> BINARY NEW.{column}",
        )
        rewrite = f"UPDATE {name} SET r = {self._value('NEW')} WHERE k = NEW.{key}"
        return {
            self.trigger("ai"): insert,
            self.trigger("ad"): delete,
            self.trigger("au"): (
                f"BEGIN IF NOT ({same_key}) THEN {delete}; {insert}; "
                f"ELSEIF NOT ({same_value}) THEN {rewrite}; END IF; END"
            ),
        }

    def statements(self) -> list[str]:
        """What creates the index and fills it from the table's rows. The server commits each
        statement: the triggers come first, so that a row written meanwhile is indexed by them
        (the fill skips it), and the index on the numbers last, built at once."""
        table, name = _quote(self.table), _quote(self.name)
        return [
            f"CREATE TABLE {name} (k {self.key_type} NOT NULL PRIMARY KEY, r VARCHAR({KEPT}) "
            "CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NULL) ENGINE=InnoDB",
            *(
                f"CREATE TRIGGER {_quote(trigger)} {EVENTS[event]} ON {table} FOR EACH ROW {body}"
                for event, (trigger, body) in zip(EVENTS, self.triggers().items(), strict=True)
            ),
            f"INSERT IGNORE INTO {name} (k, r) SELECT {table}.{_quote(self.key)}, "
            f"{self._value(table)} FROM {table}",
            f"ALTER TABLE {name} ADD INDEX {INDEX} (r)",
        ]

    def drop_statements(self) -> list[str]:
        """What removes the index and its triggers (any of them missing is skipped)."""
        out = [f"DROP TRIGGER IF EXISTS {_quote(self.trigger(e))}" for e in EVENTS]
        return [*out, f"DROP TABLE IF EXISTS {_quote(self.name)}"]

    def stale_prefix(self) -> str:
        """The start of the names of this column's triggers, of any version."""
        return _name(self.table, self.column, suffix="_")


def indexable(table: sa.Table, column: str) -> PhoneIndex | None:
    """The column's number index, when its table has a one-column primary key."""
    pks = list(table.primary_key.columns)
    if len(pks) != 1 or column not in table.c:
        return None
    return PhoneIndex(table.name, column, pks[0].name, str(pks[0].type.compile(dialect=_DIALECT)))


def indexable_info(info: TableInfo, column: str) -> PhoneIndex | None:
    """``indexable`` for an introspected table."""
    key = info.column(info.primary_key[0]) if len(info.primary_key) == 1 else None
    if key is None or info.column(column) is None:
        return None
    return PhoneIndex(info.name, column, key.name, key.type.upper())


def _bp(name: str) -> sa.BindParameter[str]:
    return sa.bindparam(name, type_=sa.String(), required=True)


def equals(table: sa.Table, index: PhoneIndex, n: int, prefix: str = "") -> sa.ColumnElement[bool]:
    """The rows whose number may be one of ``n`` identities' (parameters ``phone_lo_<i>`` and
    ``phone_hi_<i>``): the keys the index gives for their reversed tails, one range each."""
    numbers = sa.table(index.name, sa.column("k"), sa.column("r"))
    ranges = [
        sa.and_(numbers.c.r >= _bp(f"{prefix}phone_lo_{i}"), numbers.c.r < _bp(f"{prefix}phone_hi_{i}"))
        for i in range(n)
    ]
    found: Any = sa.select(numbers.c.k).where(sa.or_(*ranges))
    return table.c[index.key].in_(found)


def equals_through(
    col: sa.Column[Any], kind: str, n: int, dialect: str, index: PhoneIndex | None
) -> sa.ColumnElement[bool]:
    """``equals_bound``, through the column's number index when it has one (a phone column on
    MariaDB, ``StoreIndexes.phones_of``)."""
    if kind == "phone" and index is not None:
        return equals(col.table, index, n)
    return equals_bound(col, kind, n, dialect)


def equals_many(table: sa.Table, index: PhoneIndex, values: set[str]) -> sa.ColumnElement[bool]:
    """The rows whose number may be one of many (E.164), the values bound: one range of the
    index per tail (a batch's value-linked read, ``privet.requests.batch``)."""
    numbers = sa.table(index.name, sa.column("k"), sa.column("r"))
    lows = sorted({t[::-1] for v in values if (t := phone_tail(v))})
    if not lows:
        return sa.false()
    ranges = [sa.and_(numbers.c.r >= low, numbers.c.r < _after_prefix(low)) for low in lows]
    found: Any = sa.select(numbers.c.k).where(sa.or_(*ranges))
    return table.c[index.key].in_(found)
