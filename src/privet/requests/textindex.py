"""SQLite: the full-text indexes that let the mention and verification searches of a free-text
column look people up instead of reading the whole column.

Two FTS5 tables with the trigram tokenizer per column, kept current by three triggers on the
table (insert, delete, update of the key or the text), so that every writer of the database
keeps them right, Privet or not:

- ``privet_text_<table>_<column>`` indexes the text itself, its content read from the table
  (``content=``): a ``LIKE '%anna@example.com%'`` on it is a trigram lookup, then the same LIKE
  on the candidates, so it finds exactly the rows the same LIKE on the table finds (the search
  of the column leaves i, k and s open where the index's pattern keeps them for its trigrams,
  ``matching.text_pattern``).
- ``privet_numbers_<table>_<column>`` (contentless) indexes the text with phone punctuation and
  the white space met in numbers stripped (``text_digits``), where a number's tail is one phrase
  lookup, and marks ``unsure`` the texts that may hold a decimal digit of another script, which
  the phone recognizer reads and the stripped text does not: every phone search lets those
  through to the precise check (``privet_other_digits``).

The searches use the indexes only when every object is there as this version would create it
(``present``); otherwise they read the column as before. ``privet map check`` advises the
statements (``TextIndex.statements``)."""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import sqlite
from sqlalchemy.engine import Connection

from privet.identity import Identity
from privet.requests import phoneindex, tokenindex
from privet.requests.matching import (
    PY_OTHER_DIGITS,
    Shape,
    checked,
    equals_bound,
    mention_filter_bound,
    other_script_digits,
    searched_text,
    text_digits,
)
from privet.stores import SqlStore, TableInfo

# The mark of a text that may hold another script's digit (the range from the first to the last
# of them, one comparison per character where a class of sixty ranges costs sixty), or a NUL,
# after which SQLite's text functions read nothing.
UNSURE_MARK = "unsure"
_FIRST_OTHER_DIGIT = chr(min(a for a, _b in PY_OTHER_DIGITS))
_LAST_OTHER_DIGIT = chr(max(b for _a, b in PY_OTHER_DIGITS))
_DIALECT = sqlite.dialect()


def _quote(name: str) -> str:
    return str(_DIALECT.identifier_preparer.quote(name))


def _sql(expr: sa.ColumnElement[Any]) -> str:
    return str(expr.compile(dialect=_DIALECT, compile_kwargs={"literal_binds": True}))


@dataclass(frozen=True)
class TextIndex:
    """The search indexes of one free-text column of a SQLite table whose primary key is one
    integer column (``key``): the indexes' row ids are its values."""

    table: str
    column: str
    key: str

    @property
    def text_name(self) -> str:
        return f"privet_text_{self.table}_{self.column}"

    @property
    def numbers_name(self) -> str:
        return f"privet_numbers_{self.table}_{self.column}"

    def _trigger(self, event: str) -> str:
        return f"privet_text_{self.table}_{self.column}_{event}"

    def _values(self, row: str) -> tuple[str, str, str, str]:
        """The key, the text, the numbers' two columns of ``new`` or ``old`` in a trigger (or of
        the table's rows), and whether the numbers' index takes the row: a text with an ASCII
        digit or marked unsure (one with neither holds no number a search looks for)."""
        text = _sql(sa.literal_column(f"{row}.{_quote(self.column)}"))
        digits = _sql(text_digits(sa.literal_column(text)))
        unsure = (
            f"{text} GLOB '*[{_FIRST_OTHER_DIGIT}-{_LAST_OTHER_DIGIT}]*' "
            f"OR instr(CAST({text} AS BLOB), x'00') > 0"
        )
        numbers = f"{digits}, CASE WHEN {unsure} THEN '{UNSURE_MARK}' END"
        return f"{row}.{_quote(self.key)}", text, numbers, f"{text} GLOB '*[0-9]*' OR {unsure}"

    def _add(self, row: str) -> str:
        key, text, numbers, wanted = self._values(row)
        return (
            f"INSERT INTO {_quote(self.text_name)}(rowid, {_quote(self.column)}) VALUES ({key}, {text}); "
            f"INSERT INTO {_quote(self.numbers_name)}(rowid, d, u) SELECT {key}, {numbers} WHERE {wanted};"
        )

    def _remove(self, row: str) -> str:
        key, text, numbers, wanted = self._values(row)
        t, n = _quote(self.text_name), _quote(self.numbers_name)
        return (
            f"INSERT INTO {t}({t}, rowid, {_quote(self.column)}) VALUES ('delete', {key}, {text}); "
            f"INSERT INTO {n}({n}, rowid, d, u) SELECT 'delete', {key}, {numbers} WHERE {wanted};"
        )

    def objects(self) -> dict[str, str]:
        """Each object's name and the statement that creates it, as SQLite keeps it in its catalog."""
        table, column = _quote(self.table), _quote(self.column)
        on = f"ON {table} FOR EACH ROW BEGIN"
        return {
            self.text_name: (
                f"CREATE VIRTUAL TABLE {_quote(self.text_name)} USING fts5({column}, content={table}, "
                f"content_rowid={_quote(self.key)}, tokenize='trigram', detail='none')"
            ),
            self.numbers_name: (
                f"CREATE VIRTUAL TABLE {_quote(self.numbers_name)} USING fts5(d, u, content='', "
                "tokenize='trigram')"
            ),
            self._trigger("ai"): f"CREATE TRIGGER {_quote(self._trigger('ai'))} AFTER INSERT {on} "
            f"{self._add('new')} END",
            self._trigger("ad"): f"CREATE TRIGGER {_quote(self._trigger('ad'))} AFTER DELETE {on} "
            f"{self._remove('old')} END",
            self._trigger("au"): f"CREATE TRIGGER {_quote(self._trigger('au'))} AFTER UPDATE OF "
            f"{_quote(self.key)}, {column} {on} {self._remove('old')} {self._add('new')} END",
        }

    def statements(self) -> list[str]:
        """What creates the indexes and fills them from the table's rows (one transaction)."""
        key, _text, numbers, wanted = self._values(_quote(self.table))
        t = _quote(self.text_name)
        return [
            *self.objects().values(),
            f"INSERT INTO {t}({t}) VALUES ('rebuild')",
            f"INSERT INTO {_quote(self.numbers_name)}(rowid, d, u) SELECT {key}, {numbers} FROM "
            f"{_quote(self.table)} WHERE {wanted}",
        ]

    def drop_statements(self) -> list[str]:
        """What removes the indexes and their triggers (any of them missing is skipped)."""
        out = [f"DROP TRIGGER IF EXISTS {_quote(self._trigger(e))}" for e in ("ai", "ad", "au")]
        return out + [f"DROP TABLE IF EXISTS {_quote(n)}" for n in (self.text_name, self.numbers_name)]


def indexable(table: sa.Table, column: str) -> TextIndex | None:
    """The search indexes a column can have: a table keyed by one integer column only."""
    pks = list(table.primary_key.columns)
    if len(pks) != 1 or not isinstance(pks[0].type, sa.Integer) or column not in table.c:
        return None
    return TextIndex(table.name, column, pks[0].name)


def indexable_info(info: TableInfo, column: str) -> TextIndex | None:
    """``indexable`` for an introspected table."""
    key = info.column(info.primary_key[0]) if len(info.primary_key) == 1 else None
    if key is None or "int" not in key.type or info.column(column) is None:
        return None
    return TextIndex(info.name, column, key.name)


def _normal(sql: str) -> str:
    return " ".join(sql.split())


def catalog(conn: Connection) -> dict[str, str]:
    """The statements that created the database's search indexes and their triggers, by name."""
    rows = conn.execute(
        sa.text("SELECT name, sql FROM sqlite_master WHERE name LIKE 'privet\\_%' ESCAPE '\\'")
    )
    return {name: _normal(sql or "") for name, sql in rows}


def current(found: dict[str, str], index: TextIndex | phoneindex.TailIndex) -> bool:
    """Whether every object of the indexes is in the ``catalog`` as this version creates it."""
    return all(found.get(name) == _normal(sql) for name, sql in index.objects().items())


def present(conn: Connection, index: TextIndex | phoneindex.TailIndex) -> bool:
    """Whether the database has the indexes as this version creates them."""
    return current(catalog(conn), index)


def create(conn: Connection, index: TextIndex | phoneindex.TailIndex) -> None:
    """The indexes created (any earlier ones replaced) and filled, in the caller's transaction."""
    for sql in [*index.drop_statements(), *index.statements()]:
        conn.exec_driver_sql(sql)


@dataclass(frozen=True)
class StoreIndexes:
    """What a store holds of the search indexes at one version of its schema (``version``, None
    where the store has none to hold): on SQLite the ``catalog`` of its FTS5 indexes, on MariaDB
    that of its token indexes (``privet.requests.tokenindex``), and which columns' indexes are
    current."""

    version: int | None
    found: dict[str, str] = field(default_factory=dict)
    tokens: tokenindex.Catalog | None = None
    _of: dict[tuple[str, str], TextIndex | tokenindex.TokenIndex | None] = field(default_factory=dict)

    def of(self, table: sa.Table, column: str) -> TextIndex | tokenindex.TokenIndex | None:
        """The column's search indexes when they are current, else None (worked out once)."""
        key = (table.name, column)
        if key not in self._of:
            found: TextIndex | tokenindex.TokenIndex | None = None
            if self.tokens is not None:
                tokens = tokenindex.indexable(table, column)
                found = tokens if tokens is not None and self.tokens.current(tokens) else None
            elif self.version is not None:
                text = indexable(table, column)
                found = text if text is not None and current(self.found, text) else None
            self._of[key] = found
        return self._of[key]

    def phones_of(self, table: sa.Table, column: str) -> phoneindex.PhoneIndex | phoneindex.TailIndex | None:
        """The phone column's number index when it is current, else None: on MariaDB a table
        beside it, on SQLite an index on its digits' tail."""
        if self.tokens is not None:
            index = phoneindex.indexable(table, column)
            return index if index is not None and self.tokens.has(index) else None
        if self.version is not None:
            tail = phoneindex.TailIndex(table.name, column)
            return tail if current(self.found, tail) else None
        return None

    def equals(self, table: sa.Table, column: str, kind: str, n: int, dialect: str) -> sa.ColumnElement[bool]:
        """``equals_bound`` for the column, through its number index where it has one (a phone
        column on MariaDB or SQLite)."""
        numbers = self.phones_of(table, column) if kind == "phone" else None
        if numbers is not None:
            return numbers.equals(table, n)
        return equals_bound(table.c[column], kind, n, dialect)

    def shape(self, shape: Shape, identities: Iterable[Identity]) -> Shape:
        """A person's search shape here: marked where a token index cannot find them
        (``tokenindex.searched_shape``)."""
        return tokenindex.searched_shape(shape, identities) if self.tokens is not None else shape


# A store without search indexes, or one whose catalog a caller need not read.
NO_INDEXES = StoreIndexes(None)


def store_indexes(store: SqlStore, conn: Connection | None = None) -> StoreIndexes:
    """The store's search indexes, read again whenever its schema may have changed, so that a
    long-running process follows indexes created or dropped beside it: on SQLite when ``PRAGMA
    schema_version`` moves (one read per call), on MariaDB once per request (three small reads
    of the catalog, a few milliseconds: information_schema opens every table's triggers; a
    version from what they found), the request's resolution, plan, mention pass and
    verification then sharing what was read (``SqlStore.scoped``). ``conn``: the caller's
    connection, when it holds a transaction (another would wait for its write lock)."""
    if store.dialect not in ("sqlite", "mysql", "mariadb"):
        return NO_INDEXES
    if store.dialect != "sqlite":
        return store.scoped(("store_indexes",), lambda: _mariadb_indexes(store, conn))
    with contextlib.nullcontext(conn) if conn is not None else store.connect() as reader:
        version = int(reader.exec_driver_sql("PRAGMA schema_version").scalar_one())
        return store.cached(("text_indexes", version), lambda: StoreIndexes(version, catalog(reader)))


def _mariadb_indexes(store: SqlStore, conn: Connection | None) -> StoreIndexes:
    with contextlib.nullcontext(conn) if conn is not None else store.connect() as reader:
        tokens = tokenindex.catalog(reader)
    if tokens.empty:
        return NO_INDEXES
    version = hash((tuple(sorted(tokens.triggers.items())), tokens.tables, tokens.phones, tokens.why))
    return store.cached(("token_indexes", version), lambda: StoreIndexes(version, tokens=tokens))


def _bp(name: str) -> sa.BindParameter[str]:
    return sa.bindparam(name, type_=sa.String(), required=True)


@functools.lru_cache(maxsize=4096)
def mention_filter(
    table: sa.Table,
    col: str,
    shape: Shape,
    prefix: str = "",
    dialect: str = "default",
    index: TextIndex | tokenindex.TokenIndex | None = None,
) -> sa.ColumnElement[bool] | None:
    """``mention_filter_bound``, through the column's search indexes where it has them (on MariaDB
    ``tokenindex.mention_filter``); on SQLite the rows
    whose key one of them gives, the same rows the search of the column finds (addresses and
    names by the same LIKE, a number's tail as a phrase of the stripped text, the texts marked
    unsure checked by the same function)."""
    if index is None:
        return mention_filter_bound(table, col, shape, prefix, dialect)
    if isinstance(index, tokenindex.TokenIndex):
        return tokenindex.mention_filter(table, col, shape, prefix, dialect, index)
    counts = dict(shape)
    text = sa.table(index.text_name, sa.column("rowid"), sa.column(col))
    numbers = sa.table(index.numbers_name, sa.column("rowid"))
    # MATCH takes the FTS5 table's own name on its left.
    numbers_match = sa.literal_column(_quote(index.numbers_name)).op("MATCH")
    parts: list[sa.Select[Any]] = [
        sa.select(text.c.rowid).where(text.c[col].like(_bp(f"{prefix}name_like_{i}")))
        for i in range(counts.get("name", 0))
    ]
    # An address: its key looked up (``email_key``), its whole pattern checked on the rows found.
    parts[:0] = [
        sa.select(text.c.rowid).where(
            text.c[col].like(_bp(f"{prefix}email_key_like_{i}")),
            checked(text.c[col]).like(_bp(f"{prefix}email_like_{i}")),
        )
        for i in range(counts.get("email", 0))
    ]
    if counts.get("phone"):
        parts += [
            sa.select(numbers.c.rowid).where(numbers_match(_bp(f"{prefix}phone_q_{i}")))
            for i in range(counts["phone"])
        ]
        other = table.alias("privet_unsure")
        parts.append(
            sa.select(other.c[index.key])
            .select_from(numbers.join(other, other.c[index.key] == numbers.c.rowid))
            .where(
                numbers_match(sa.literal_column(f"'u : {UNSURE_MARK}'")),
                other_script_digits(searched_text(other.c[col], "sqlite"), "sqlite"),
            )
        )
    if not parts:
        return None
    return table.c[index.key].in_(parts[0] if len(parts) == 1 else sa.union_all(*parts))
