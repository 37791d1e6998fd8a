"""MariaDB: the indexes Privet keeps beside a table, for a search MariaDB cannot index itself (it
has no index on an expression): per column a table of the same keys holding what is searched
(``value``) under an index, kept current by three triggers on the table (insert, delete, update
of the key or the column), so that every writer of the database keeps it right, Privet or not.
The token indexes of free text (``privet.requests.tokenindex``) and the number indexes of phone
columns (``privet.requests.phoneindex``) are two kinds of it."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import ClassVar, Self

import sqlalchemy as sa
from sqlalchemy.dialects import mysql

from privet.stores import TableInfo

EVENTS = {"ai": "AFTER INSERT", "ad": "AFTER DELETE", "au": "AFTER UPDATE"}
DIALECT = mysql.dialect()


def quote(name: str) -> str:
    return str(DIALECT.identifier_preparer.quote(name))


def object_name(prefix: str, *parts: str, suffix: str = "") -> str:
    """An object's name, within the server's 64 characters (a digest of the parts beyond)."""
    name = prefix + "_".join(parts)
    if len(name) + len(suffix) > 64:
        name = prefix + hashlib.sha256("\0".join(parts).encode()).hexdigest()[:16]
    return name + suffix


@dataclass(frozen=True)
class SideIndex:
    """The index of one column of a MariaDB table whose primary key is one column (``key``, of
    the server's type ``key_type``). A kind names its objects (``prefix``), the digest of how it
    spells its values (``spelling``: a trigger of another version is not taken for current), the
    column of values, its type and its index, and how a row's value is computed (``value``)."""

    table: str
    column: str
    key: str
    key_type: str

    prefix: ClassVar[str]
    spelling: ClassVar[str]
    value_column: ClassVar[str]
    value_type: ClassVar[str]
    value_index: ClassVar[str]

    def value(self, row: str) -> str:
        """SQL: the value held for ``NEW`` or ``OLD`` in a trigger (or a row of the table)."""
        raise NotImplementedError

    @property
    def name(self) -> str:
        """The table of values."""
        return object_name(self.prefix, self.table, self.column)

    def trigger(self, event: str) -> str:
        """A trigger's name, which carries the digest of the values' spelling."""
        return object_name(self.prefix, self.table, self.column, suffix=f"_{event}_{self.spelling}")

    def stale_prefix(self) -> str:
        """The start of the names of this column's triggers, of any version."""
        return object_name(self.prefix, self.table, self.column, suffix="_")

    def triggers(self) -> dict[str, str]:
        """Each trigger's name and body, in the order of ``EVENTS``. An update of the column
        rewrites the row's value in place; one of the key moves it."""
        key, column, name, held = quote(self.key), quote(self.column), quote(self.name), self.value_column
        insert = f"INSERT INTO {name} (k, {held}) VALUES (NEW.{key}, {self.value('NEW')})"
        delete = f"DELETE FROM {name} WHERE k = OLD.{key}"
        # Compared as bytes: a case- or accent-blind collation takes 'Rene' for 'René'.
        same_key, same_value = (
            f"BINARY OLD.{key} <=> BINARY NEW.{key}",
            f"BINARY OLD.{column} <=> BINARY NEW.{column}",
        )
        rewrite = f"UPDATE {name} SET {held} = {self.value('NEW')} WHERE k = NEW.{key}"
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
        (the fill skips it), and the index on the values last, built at once over the filled table."""
        table, name = quote(self.table), quote(self.name)
        return [
            f"CREATE TABLE {name} (k {self.key_type} NOT NULL PRIMARY KEY, {self.value_column} "
            f"{self.value_type}) ENGINE=InnoDB",
            *(
                f"CREATE TRIGGER {quote(trigger)} {EVENTS[event]} ON {table} FOR EACH ROW {body}"
                for event, (trigger, body) in zip(EVENTS, self.triggers().items(), strict=True)
            ),
            f"INSERT IGNORE INTO {name} (k, {self.value_column}) SELECT {table}.{quote(self.key)}, "
            f"{self.value(table)} FROM {table}",
            f"ALTER TABLE {name} ADD {self.value_index}",
        ]

    def drop_statements(self) -> list[str]:
        """What removes the index and its triggers (any of them missing is skipped)."""
        out = [f"DROP TRIGGER IF EXISTS {quote(self.trigger(e))}" for e in EVENTS]
        return [*out, f"DROP TABLE IF EXISTS {quote(self.name)}"]

    @classmethod
    def of_table(cls, table: sa.Table, column: str) -> Self | None:
        """The column's index, when its table has a one-column primary key."""
        pks = list(table.primary_key.columns)
        if len(pks) != 1 or column not in table.c:
            return None
        return cls(table.name, column, pks[0].name, str(pks[0].type.compile(dialect=DIALECT)))

    @classmethod
    def of_info(cls, info: TableInfo, column: str) -> Self | None:
        """``of_table`` for an introspected table."""
        key = info.column(info.primary_key[0]) if len(info.primary_key) == 1 else None
        if key is None or info.column(column) is None:
            return None
        return cls(info.name, column, key.name, key.type.upper())
