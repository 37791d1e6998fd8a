"""``privet map index``: the search indexes of the map's free-text columns created, kept or dropped
(SQLite's FTS5 indexes, ``privet.requests.textindex``; MariaDB's token indexes,
``privet.requests.tokenindex``), and those of its phone columns (``privet.requests.phoneindex``).
PostgreSQL's are indexes on expressions, which ``privet map check`` advises."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from privet.datamap import DataMap, split_ref
from privet.requests import phoneindex, textindex, tokenindex
from privet.requests.sideindex import SideIndex
from privet.stores import SqlStore


@dataclass
class IndexAction:
    """What was done for one column: ``created``, ``current`` (left as it was), ``dropped``, or
    ``none`` (the table has no one-column key the index can name rows by)."""

    store: str
    table: str
    column: str
    kind: str  # fts5, tokens or phones
    action: str
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "store": self.store,
            "table": self.table,
            "column": self.column,
            "kind": self.kind,
            "action": self.action,
            "seconds": round(self.seconds, 3),
        }


def search_indexes(
    dm: DataMap,
    *,
    drop: bool = False,
    rebuild: bool = False,
    on_column: Callable[[IndexAction], None] | None = None,
) -> list[IndexAction]:
    """Create the search index of every free-text column of the map's SQLite and MariaDB stores
    that lacks a current one (``rebuild``: every one), or drop them all (``drop``). One column at
    a time; on SQLite in one transaction each; on MariaDB the server commits each statement."""
    out: list[IndexAction] = []
    for name, spec in dm.sql_stores().items():
        if not spec.url:
            continue
        store = SqlStore(name, spec.url)
        try:
            if store.dialect not in ("sqlite", "mysql", "mariadb"):
                continue
            for ref, table_spec in dm.tables_of(name).items():
                table_name = split_ref(ref)[1]
                if table_name not in store.table_names():
                    continue
                table = store.table(table_name)
                for col in (c for c, s in table_spec.columns.items() if s.cat.free_text):
                    done = _one(store, table, col, drop=drop, rebuild=rebuild)
                    out.append(done)
                    if on_column is not None:
                        on_column(done)
                for col in phone_columns(dm, ref):
                    done = _phones(store, table, col, drop=drop, rebuild=rebuild)
                    out.append(done)
                    if on_column is not None:
                        on_column(done)
        finally:
            store.dispose()
    return out


def phone_columns(dm: DataMap, ref: str) -> list[str]:
    """The table's columns a request compares with a person's number: a subject's phone
    identity, a value link by phone, a phone column verification searches."""
    spec = dm.tables[ref]
    found = {c for c, s in spec.columns.items() if s.cat.identity == "phone"}
    found |= {c for c, kind in (spec.match or {}).items() if kind == "phone"}
    for subject in dm.subjects.values():
        if subject.root == ref and "phone" in subject.identities:
            found.add(subject.identities["phone"])
    return sorted(found)


def _phones(store: SqlStore, table: Any, col: str, *, drop: bool, rebuild: bool) -> IndexAction:
    """The number index of a phone column (``privet.requests.phoneindex``): on MariaDB a table
    beside it, on SQLite an index on an expression of the column."""
    if store.dialect == "sqlite":
        tail = phoneindex.TailIndex(table.name, col)

        def apply() -> str:
            return _sqlite(store, tail, drop=drop, rebuild=rebuild)

        return _timed(store, table.name, col, "phones", apply)
    return _side(
        store, table.name, col, "phones", phoneindex.indexable(table, col), drop=drop, rebuild=rebuild
    )


def _one(store: SqlStore, table: Any, col: str, *, drop: bool, rebuild: bool) -> IndexAction:
    if store.dialect != "sqlite":
        tokens = tokenindex.indexable(table, col)
        return _side(store, table.name, col, "tokens", tokens, drop=drop, rebuild=rebuild)
    text = textindex.indexable(table, col)
    apply = None if text is None else lambda: _sqlite(store, text, drop=drop, rebuild=rebuild)
    return _timed(store, table.name, col, "fts5", apply)


def _sqlite(
    store: SqlStore, index: textindex.TextIndex | phoneindex.TailIndex, *, drop: bool, rebuild: bool
) -> str:
    """SQLite: an index dropped, or created where it is missing or ``rebuild``, in one
    transaction, checked with the index's own test of presence."""
    with store.begin() as conn:
        missing = rebuild or not textindex.present(conn, index)
        if drop:
            for sql in index.drop_statements():
                conn.exec_driver_sql(sql)
        elif missing:
            textindex.create(conn, index)
    return _action(drop, missing)


def _side(
    store: SqlStore, table: str, col: str, kind: str, index: SideIndex | None, *, drop: bool, rebuild: bool
) -> IndexAction:
    """MariaDB: one index kept beside a table (``privet.requests.sideindex``) dropped, or created
    where it is missing or ``rebuild`` (any earlier one, of this or another version, replaced)."""

    def apply(index: SideIndex) -> str:
        # Statement by statement (the server commits each), checked against the catalog.
        with store.connect() as conn:
            found = tokenindex.catalog(conn)
            missing = rebuild or not found.serves(index)
            if drop:
                stale = [tokenindex.drop_trigger(n) for n in found.stale(index)]
                for sql in [*stale, *index.drop_statements()]:
                    conn.exec_driver_sql(sql)
            elif missing:
                tokenindex.create(conn, index)
        return _action(drop, missing)

    return _timed(store, table, col, kind, None if index is None else lambda: apply(index))


def _timed(store: SqlStore, table: str, col: str, kind: str, apply: Callable[[], str] | None) -> IndexAction:
    """What ``apply`` did for the column (``none`` when there is nothing to apply) and how long it took."""
    start = time.perf_counter()
    action = apply() if apply is not None else "none"
    return IndexAction(store.name, table, col, kind, action, time.perf_counter() - start)


def _action(drop: bool, created: bool) -> str:
    return "dropped" if drop else "created" if created else "current"
