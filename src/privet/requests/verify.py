"""After an erasure: search every store for the person's identifiers, outside retained values."""

from __future__ import annotations

import contextlib
from collections import Counter, defaultdict
from collections.abc import Callable
from typing import Any, NamedTuple

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from privet.datamap import DataMap, split_ref
from privet.detection.operators import mentions
from privet.identity import Identity
from privet.requests.execute import _as_text
from privet.requests.matching import (
    Shape,
    identity_shape,
    search_options,
    value_matches,
)
from privet.requests.textindex import StoreIndexes, mention_filter, store_indexes
from privet.requests.tokenindex import search_params
from privet.stores import SqlStore, Stores

# (table ref, column, identity kind or None for free text)
Piece = tuple[str, str, str | None]


# Candidate rows a verification part checks in its one statement (it reads one more: there are
# more than the cap, ``settle``).
LIMIT = 50


class Search(NamedTuple):
    """A store's verification search: its statement, its parameters, what each of its parts
    searched (``tally``), each part's search without the cap (``settle``) and the cap."""

    statement: Any
    params: dict[str, Any]
    pieces: list[Piece]
    whole: list[Any]
    limit: int


# A store's built search: the capped UNION ALL, what each part searched, each part uncapped.
_Built = tuple[sa.Select[Any] | sa.CompoundSelect[Any], list[Piece], list[sa.Select[Any]]]


def _search(
    dm: DataMap, store_name: str, store: SqlStore, shape: Shape, limit: int, indexes: StoreIndexes
) -> _Built | None:
    """One UNION ALL over every searched column of the store (each part capped at ``limit`` + 1 rows
    by a window in a subquery, portable to SQLite, PostgreSQL and MariaDB), built once per store (a
    store serves one map) and shape."""
    # Built again when the search indexes (SQLite, MariaDB) may have come or gone.
    key = ("verify", shape, limit, indexes.version)
    return store.cached(key, lambda: _build_search(dm, store_name, store, shape, limit, indexes))


def _build_search(
    dm: DataMap, store_name: str, store: SqlStore, shape: Shape, limit: int, indexes: StoreIndexes
) -> _Built | None:
    counts = dict(shape)
    pieces: list[Piece] = []
    parts: list[sa.Select[Any]] = []
    whole: list[sa.Select[Any]] = []
    for ref, spec in dm.tables_of(store_name).items():
        table = store.table(split_ref(ref)[1])
        retained = set(spec.legal_hold.retain) if spec.legal_hold else set()
        for col, cspec in spec.columns.items():
            if col in retained or col not in table.c:
                continue
            kind = cspec.cat.identity
            cond: sa.ColumnElement[bool] | None
            if kind in ("email", "phone"):
                cond = (
                    indexes.equals(table, col, kind, counts[kind], store.dialect)
                    if counts.get(kind)
                    else None
                )
            elif cspec.cat.free_text:
                index = indexes.of(table, col)
                kind, cond = None, mention_filter(table, col, shape, dialect=store.dialect, index=index)
            else:
                continue
            if cond is None:
                continue
            # One part per column, at most ``limit`` + 1 rows (one past the cap tells that there
            # are more), counted by a window rather than a LIMIT: a LIMIT makes the planner
            # favour a scan that finds a first row early, and with the default estimate of a text
            # search (rows in the thousands) that is a sequential scan of the whole table
            # (seconds on millions of rows, where the index takes microseconds). PostgreSQL 15
            # and later stop the window at the limit all the same. Where candidates pass the cap
            # without a real hit (texts every phone search lets through to the recognizer,
            # ``contains_bound``), ``settle`` reads the part whole.
            base = sa.select(_as_text(table.c[col]).label("v")).where(cond)
            piece = base.add_columns(
                sa.literal(len(pieces)).label("q"), sa.func.row_number().over().label("n")
            ).subquery(f"s{len(pieces)}")
            parts.append(sa.select(piece.c.q, piece.c.v).where(piece.c.n <= limit + 1))
            whole.append(base)
            pieces.append((ref, col, kind))
    return None if not parts else (parts[0] if len(parts) == 1 else sa.union_all(*parts), pieces, whole)


def verification(
    dm: DataMap, store_name: str, store: SqlStore, identities: set[Identity], limit: int = LIMIT
) -> Search | None:
    """The store's verification search for these identities (one statement: a UNION ALL of every
    searched column, at most ``limit`` + 1 rows each; run with ``search_options``), its parameters
    and what each of its parts searched (for ``tally`` and ``settle``); None when the map searches
    nothing there."""
    indexes = store_indexes(store)
    shape = indexes.shape(identity_shape(identities), identities)
    search = _search(dm, store_name, store, shape, limit, indexes)
    if search is None:
        return None
    union, pieces, whole = search
    return Search(union, search_params(identities), pieces, whole, limit)


def _holds(dm: DataMap, kind: str | None, value: Any, identities: set[Identity]) -> bool:
    """Whether a candidate value really holds an identifier of the person (checked in Python)."""
    if value is None:
        return False
    if kind is not None:
        return value_matches(kind, value, {i.value for i in identities if i.kind == kind}, dm.default_region)
    return bool(mentions(str(value), identities, region=dm.default_region))


def tally(
    dm: DataMap, pieces: list[Piece], rows: list[tuple[Any, ...]], identities: set[Identity]
) -> list[dict[str, Any]]:
    """Locations (table, column, rows) among a verification search's candidates where an
    identifier of the person really is: each candidate checked exactly in Python."""
    counts: dict[int, int] = defaultdict(int)
    for q, value in rows:
        counts[q] += _holds(dm, pieces[q][2], value, identities)
    return [
        {"table": ref, "column": col, "rows": counts[q]}
        for q, (ref, col, _k) in enumerate(pieces)
        if counts[q]
    ]


def settle(
    dm: DataMap,
    conn: Connection | Callable[[], contextlib.AbstractContextManager[Connection]],
    search: Search,
    rows: list[tuple[Any, ...]],
    identities: set[Identity],
) -> list[dict[str, Any]]:
    """``tally`` of a store's verification, made conclusive: a part that came back with more
    candidates than its cap, none of them holding an identifier, may have left one unread (a
    column where many texts pass the search, such as texts in another script's digits, which
    every phone search lets through). Such a part is read again whole on ``conn`` (an erasure's
    own transaction, before its commit; or a function that opens a connection, called only when
    a part is read whole), streamed, and every row checked. A place found among
    the capped candidates reports the hits among them (at least that many), a part read whole
    the exact count."""
    found = tally(dm, search.pieces, rows, identities)
    per_part = Counter(q for q, _v in rows)
    known = {(f["table"], f["column"]) for f in found}
    full = [q for q, n in per_part.items() if n > search.limit and search.pieces[q][:2] not in known]
    if not full:
        return found
    with contextlib.nullcontext(conn) if isinstance(conn, Connection) else conn() as reader:
        if reader.dialect.name == "postgresql":
            # A cursor is planned for its first rows (a tenth of them, by default), which favours a
            # sequential scan over the index lookup that finds them all.
            reader.exec_driver_sql("SET LOCAL cursor_tuple_fraction = 1")
        for q in full:
            ref, col, kind = search.pieces[q]
            streamed = reader.execution_options(stream_results=True, yield_per=1000).execute(
                search.whole[q], search.params
            )
            hits = sum(_holds(dm, kind, value, identities) for (value,) in streamed)
            if hits:
                found.append({"table": ref, "column": col, "rows": hits})
    return found


def leftovers(
    dm: DataMap, stores: Stores, identities: set[Identity], limit: int = LIMIT
) -> list[dict[str, Any]]:
    """Locations (table, column, rows) where an identifier of the person is still found, in what
    the stores hold now: one statement per store (``verification``), then ``settle``. An erasure
    runs the same search inside each store's transaction, after its last write."""
    found: list[dict[str, Any]] = []
    for store_name in dict.fromkeys(split_ref(ref)[0] for ref in dm.tables):
        store = stores.sql.get(store_name)
        if store is None:
            continue
        search = verification(dm, store_name, store, identities, limit)
        if search is None:
            continue
        with store.read() as conn:
            # Indexed text searches (see search_options).
            items = [(search.statement, search.params)]
            _names, rows = store.fetch_many(conn, items, **search_options([identities]))[0]
        # A connection in a transaction (a cursor needs one), opened only if a part is read whole.
        found += settle(dm, store.connect, search, rows, identities)
    return found
