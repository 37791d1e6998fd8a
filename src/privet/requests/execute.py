"""Carry out an erasure in one store, in one transaction, children before parents.

Every personal value of the person ends deleted (its row is gone), erased
(nulled, pseudonymized or redacted in place) or retained (under a legal hold).
Rows that other rows still need (held invoices pointing at the root, a NOT NULL
key from another person's row) stay as tombstones with their values erased.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Connection

from privet.datamap import ColumnSpec, DataMap, split_ref
from privet.datamap.model import Hop
from privet.detection.operators import Pseudonymize, redact_identifiers
from privet.identity import Identity
from privet.legal import hold_until
from privet.requests.matching import (
    Shape,
    checked,
    email_key,
    identity_shape,
    phone_tail_query,
    phone_tokens,
    search_options,
    searched_text,
    text_pattern,
)
from privet.requests.select import Selection, chunks
from privet.requests.textindex import TextIndex, mention_filter, store_indexes
from privet.requests.tokenindex import TokenIndex, search_params
from privet.stores import SqlStore, TableInfo

T = TypeVar("T")


@dataclass
class StoreOutcome:
    tables: dict[str, dict[str, int]] = field(default_factory=lambda: defaultdict(lambda: defaultdict(int)))
    held: list[dict[str, Any]] = field(default_factory=list)  # one entry per held row
    files: list[tuple[str, str, str]] = field(default_factory=list)  # (file store, source, ref)

    def count(self, ref: str, action: str, n: int) -> None:
        if n:
            self.tables[ref][action] += n


@dataclass
class EraseContext:
    dm: DataMap
    store: SqlStore
    schema: dict[str, TableInfo]
    identities: set[Identity]
    pseudo_key: bytes
    outcome: StoreOutcome = field(default_factory=StoreOutcome)
    # Link columns whose rows were all deleted earlier in this transaction, as (table, column,
    # the table the column points at, the rest of the path from there): every row whose column
    # points at a row of that table selected by the same rest of the path is gone.
    emptied: set[tuple[str, str, str, tuple[Hop, ...]]] = field(default_factory=set)
    mention_ms: float = 0.0  # time spent redacting mentions in other people's free text
    # Writes not yet sent, with what to do with the rows each changed: they go with the next read
    # (one round trip on PostgreSQL), in order, or when the store's part ends (``_flush``).
    later: list[tuple[Any, Any, Callable[[int], None] | None]] = field(default_factory=list)
    # The verification search (statement and parameters, see ``privet.requests.verify``), run after
    # the transaction's last write, in the same round trip on PostgreSQL; the rows it found, and
    # the time that last round trip took.
    verification: tuple[Any, dict[str, Any]] | None = None
    verification_rows: list[tuple[Any, ...]] = field(default_factory=list)
    verification_ms: float = 0.0


def _write(ctx: EraseContext, stmt: Any, params: Any, counted: Callable[[int], None] | None = None) -> None:
    """A write of the transaction (``params`` a list: run for each), sent with the next read."""
    ctx.later.append((stmt, params, counted))


def _reads(
    conn: Connection, ctx: EraseContext, items: list[tuple[Any, Any]], *, search: bool = False
) -> list[list[tuple[Any, ...]]]:
    """The rows of reads of the transaction, after the writes not yet sent (in the same round trip
    on PostgreSQL, in order: a read sees every write before it). ``search``: text searches for the
    person (``search_options``)."""
    return [rows for _names, rows in _named_reads(conn, ctx, items, search=search)]


def _named_reads(
    conn: Connection, ctx: EraseContext, items: list[tuple[Any, Any]], *, search: bool = False
) -> list[tuple[list[str], list[tuple[Any, ...]]]]:
    """``_reads`` with each read's column names."""
    tuning = search_options([ctx.identities]) if search else {}
    writes, ctx.later = ctx.later, []
    counts, found = ctx.store.run_many(conn, [(w, p) for w, p, _c in writes], items, **tuning)
    for (_w, _p, counted), n in zip(writes, counts, strict=True):
        if counted is not None:
            counted(max(n or 0, 0))
    return found


def _read(conn: Connection, ctx: EraseContext, stmt: Any, params: Any) -> list[tuple[Any, ...]]:
    return _reads(conn, ctx, [(stmt, params)])[0]


def _flush(conn: Connection, ctx: EraseContext) -> None:
    """Send the writes not yet sent."""
    if ctx.later:
        _reads(conn, ctx, [])


def order_children_first(selections: list[Selection], schema: dict[str, TableInfo]) -> list[Selection]:
    """Tables that reference others come before the tables they reference."""
    names = {split_ref(s.ref)[1] for s in selections}
    depth: dict[str, int] = {}

    def d(name: str, path: frozenset[str]) -> int:
        if name not in depth:
            refs = [
                fk.ref_table
                for fk in schema[name].foreign_keys
                if fk.ref_table in names and fk.ref_table not in path | {name}
            ]
            depth[name] = 1 + max((d(r, path | {name}) for r in refs), default=-1)
        return depth[name]

    return sorted(selections, key=lambda s: -d(split_ref(s.ref)[1], frozenset()))


def erase_in_store(conn: Connection, ctx: EraseContext, selections: list[Selection]) -> None:
    """Everything for one store; the caller owns the transaction."""
    for stmt in ctx.store.planned_once(conn):
        _write(ctx, stmt, {})
    ordered = order_children_first(selections, ctx.schema)
    done = _read_keys_and_delete_set_based(conn, ctx, ordered)
    for sel in ordered:
        if id(sel) in done:
            continue
        if sel.bulk:
            if _delete_set_based(conn, ctx, sel):
                continue
            # Another table still points at some of these rows: decide row by row.
            assert sel.cond is not None
            read = ctx.store.cached(("keys", *sel.cond_key), functools.partial(_keys_of, sel))
            sel.keys = [r[0] for r in _read(conn, ctx, read, sel.params)]
            sel.cond = None
        if not sel.keys:
            continue
        if sel.spec.legal_hold is not None:
            _hold(conn, ctx, sel)
            continue
        shared = [k for k in sel.keys if k in sel.shared]
        own = [k for k in sel.keys if k not in sel.shared]
        if shared:
            _cut_shared(conn, ctx, sel, shared)
        if own:
            kept = _delete_or_tombstone(conn, ctx, sel, own)
            if not kept and not shared and not sel.links:
                _mark_emptied(ctx, sel)
    started = time.perf_counter()
    _redact_mentions(conn, ctx)
    if ctx.verification is None:
        _flush(conn, ctx)  # the redactions
    ctx.mention_ms += (time.perf_counter() - started) * 1000
    if ctx.verification is not None:
        started = time.perf_counter()
        # The verification reads what the commit will keep: inside the transaction, after its
        # last write (the redactions travel with it).
        ctx.verification_rows = _reads(conn, ctx, [ctx.verification], search=True)[0]
        ctx.verification_ms += (time.perf_counter() - started) * 1000


def _keys_of(sel: Selection) -> sa.Select[Any]:
    """The primary keys of the rows the selection's condition selects."""
    assert sel.cond is not None
    return sa.select(sel.pk).where(sel.cond)


def _mark_emptied(ctx: EraseContext, sel: Selection) -> None:
    if sel.via == "path" and len(sel.spec.paths) == 1:
        first, *rest = sel.spec.paths[0]
        ctx.emptied.add((split_ref(sel.ref)[1], first.column, first.table, tuple(rest)))


def _own_tail(sel: Selection) -> tuple[Hop, ...] | None:
    """The path that selected this table's rows (empty for the root), None when not one path."""
    if sel.via == "root":
        return ()
    if sel.via == "path" and len(sel.spec.paths) == 1:
        return tuple(sel.spec.paths[0])
    return None


def _referencing(ctx: EraseContext, sel: Selection) -> list[tuple[str, str]]:
    """(table, column) of the store's single-column foreign keys onto this table's primary key."""
    table_name = split_ref(sel.ref)[1]
    out = []
    for other, info in ctx.schema.items():
        for fk in info.foreign_keys:
            if fk.ref_table != table_name or len(fk.columns) != 1 or other == table_name:
                continue
            if (fk.ref_columns[0] if fk.ref_columns else sel.pk.name) == sel.pk.name:
                out.append((other, fk.columns[0]))
    return out


def _already_emptied(ctx: EraseContext, sel: Selection, other: str, column: str) -> bool:
    """Whether the rows of ``other`` pointing through ``column`` at the person's rows of this
    table were all deleted earlier in this transaction."""
    tail = _own_tail(sel)
    return tail is not None and (other, column, sel.ref, tail) in ctx.emptied


def _set_based_now(ctx: EraseContext, sel: Selection) -> bool:
    """Whether the table's rows can go on their selecting condition: nothing left in the store
    points at them."""
    return sel.bulk and all(_already_emptied(ctx, sel, o, c) for o, c in _referencing(ctx, sel))


def _delete_set_based(conn: Connection, ctx: EraseContext, sel: Selection) -> bool:
    """Delete the person's rows of a table in one statement on its selecting condition, when
    nothing left in the store points at them; False (nothing done) otherwise."""
    cond = sel.cond
    if cond is None or not _set_based_now(ctx, sel):
        return False
    stmt = ctx.store.cached(("delete", *sel.cond_key), lambda: sa.delete(sel.table).where(cond))
    _write(ctx, stmt, sel.params, functools.partial(ctx.outcome.count, sel.ref, "delete_row"))
    _mark_emptied(ctx, sel)
    return True


def _read_keys_and_delete_set_based(
    conn: Connection, ctx: EraseContext, ordered: list[Selection]
) -> set[int]:
    """The first statements of the transaction, sent together (one round trip on PostgreSQL, with
    its BEGIN): the keys of the tables decided row by row (``Selection.pending``), then, on
    PostgreSQL, every table that can go set-based, in one statement (one data-modifying CTE per
    table; foreign keys are checked when the statement ends, so children and parents go
    together). Returns the ids of the selections deleted set-based."""
    pending = [sel for sel in ordered if sel.pending is not None]
    batch: list[Selection] = []
    if ctx.store.dialect == "postgresql":
        for sel in ordered:
            if (not batch or sel.params == batch[0].params) and _set_based_now(ctx, sel):
                batch.append(sel)
                _mark_emptied(ctx, sel)  # the next tables may rely on it: the statement runs them together
    items: list[tuple[Any, dict[str, Any]]] = [
        (sel.pending.stmt, sel.params) for sel in pending if sel.pending
    ]
    if batch:

        def build() -> sa.Select[Any]:
            ctes = [
                sa.delete(sel.table).where(sa.and_(sel.cond)).returning(sel.pk).cte(f"privet_d{i}")
                for i, sel in enumerate(batch)
                if sel.cond is not None
            ]
            return sa.select(*(sa.select(sa.func.count()).select_from(c).scalar_subquery() for c in ctes))

        stmt = ctx.store.cached(("delete_at_once", *(sel.cond_key for sel in batch)), build)
        items.append((stmt, batch[0].params))
    if not items:
        return set()
    found = _named_reads(conn, ctx, items)
    for sel, (names, rows) in zip(pending, found[: len(pending)], strict=True):
        assert sel.pending is not None
        sel.pending.take(ctx.dm, names, rows)
        sel.pending = None
    if batch:
        counts = found[-1][1][0]
        for sel, n in zip(batch, counts, strict=True):
            ctx.outcome.count(sel.ref, "delete_row", int(n))
    return {id(sel) for sel in batch}


def _personal_columns(sel: Selection) -> dict[str, ColumnSpec]:
    return {c: s for c, s in sel.spec.columns.items() if c in sel.table.c}


def _hold(conn: Connection, ctx: EraseContext, sel: Selection) -> None:
    hold = sel.spec.legal_hold
    assert hold is not None
    retain = set(hold.retain)
    cols = _personal_columns(sel)
    if hold.on_erase == "pseudonymize":
        _erase_values(conn, ctx, sel, sel.keys, {c: s for c, s in cols.items()}, force_pseudonym=set(retain))
        ctx.outcome.count(sel.ref, "pseudonymize", len(sel.keys))
        return
    _erase_values(conn, ctx, sel, sel.keys, {c: s for c, s in cols.items() if c not in retain})
    country = hold.country or ctx.dm.default_region
    for key in sel.keys:
        # The date the hold runs from was read with the keys (today when the map names none).
        issued_date = _as_date(sel.hold_from.get(key)) or dt.date.today()
        ctx.outcome.held.append(
            {
                "table": sel.ref,
                "key": str(key),
                "columns": sorted(retain),
                "basis": hold.basis,
                "until": hold_until(issued_date, country, hold.years),
            }
        )
    ctx.outcome.count(sel.ref, "retain", len(sel.keys))


def _as_date(v: Any) -> dt.date | None:
    if isinstance(v, dt.datetime):
        return v.date()
    if isinstance(v, dt.date):
        return v
    if isinstance(v, str):
        try:
            return dt.date.fromisoformat(v[:10])
        except ValueError:
            return None
    return None


def _cut_shared(conn: Connection, ctx: EraseContext, sel: Selection, keys: list[Any]) -> None:
    """Keep a row two people share: cut the erased person's links, erase only their values."""
    by_links: dict[frozenset[str], list[Any]] = defaultdict(list)
    for k in keys:
        by_links[frozenset(sel.links.get(k, set()))].append(k)
    for links, group in by_links.items():
        nullable = {c for c in links if sel.table.c[c].nullable}
        mine = {c: s for c, s in _personal_columns(sel).items() if s.belongs_to in links}
        _erase_values(conn, ctx, sel, group, mine)
        if nullable:
            cut = tuple(sorted(nullable))

            def unlinked(among: Any, cut: tuple[str, ...] = cut) -> Any:
                return sa.update(sel.table).where(among(sel.pk)).values(dict.fromkeys(cut))

            unlink = _keyed(ctx, ("unlink", sel.ref, cut), unlinked)
            for chunk in chunks(group):
                _write(ctx, unlink, {_KEYS: chunk})
        free = [c for c, s in _personal_columns(sel).items() if s.cat.free_text and s.belongs_to is None]
        _redact_rows(conn, ctx, sel, group, free)
    ctx.outcome.count(sel.ref, "cut_link", len(keys))


# The parameter of statements on a list of primary keys (an array or an expanding IN), built once
# per store.
_KEYS = "privet_keys"


def _keyed(
    ctx: EraseContext,
    key: tuple[Any, ...],
    build: Callable[[Callable[[sa.ColumnElement[Any]], sa.ColumnElement[bool]]], T],
) -> T:
    """A statement on a list of keys, built once per store (``{_KEYS: chunk}`` when executed):
    ``build`` gets the condition of a column being one of the keys. On PostgreSQL the list is one
    array parameter: the statement's text is the same for any number of keys, and it can travel
    in a pipeline (a list expanded into the text cannot)."""

    def among(col: sa.ColumnElement[Any]) -> sa.ColumnElement[bool]:
        if ctx.store.dialect == "postgresql" and not isinstance(col.type, sa.types.NullType):
            return col == sa.any_(sa.bindparam(_KEYS, type_=postgresql.ARRAY(col.type)))
        # Elsewhere, and for a type reflection did not know, the list as SQLAlchemy sends it.
        return col.in_(sa.bindparam(_KEYS, expanding=True))

    return ctx.store.cached(("keyed", *key), lambda: build(among))


# Up to this many rows of a table, the stored values a tombstone's pseudonyms are made from are
# read with the check of which rows must stay (one round trip less), before knowing which do.
PREFETCH_KEYS = 100


def _delete_or_tombstone(conn: Connection, ctx: EraseContext, sel: Selection, keys: list[Any]) -> int:
    checks: list[Any] = []
    for other, column in _referencing(ctx, sel):
        if _already_emptied(ctx, sel, other, column):
            continue  # the rows of that table pointing at these keys are already gone
        y = ctx.store.table(other)
        col = y.c[column]
        held = ctx.dm.tables.get(f"{split_ref(sel.ref)[0]}.{other}")
        is_held = held is not None and held.legal_hold is not None
        cut = bool(col.nullable) and not is_held

        def on_keys(among: Any, y: sa.Table = y, col: sa.Column[Any] = col, cut: bool = cut) -> Any:
            if cut:
                return sa.update(y).where(among(col)).values({col.name: None})
            return sa.select(col).where(among(col)).distinct()

        stmt = _keyed(ctx, ("cut" if cut else "referenced", other, column), on_keys)
        cut_ref = f"{split_ref(sel.ref)[0]}.{other}"
        if cut:
            for chunk in chunks(keys):
                # Another row (of another person or kind) points here: cut that link.
                _write(ctx, stmt, {_KEYS: chunk}, functools.partial(ctx.outcome.count, cut_ref, "cut_link"))
        else:
            checks.append(stmt)
    # Which rows other rows still point at, every table's check in one round trip.
    items = [(stmt, {_KEYS: chunk}) for stmt in checks for chunk in chunks(keys)]
    pseudo = _split_erase(sel, _personal_columns(sel), tombstone=True)[1]
    prefetch = bool(items and pseudo and len(keys) <= PREFETCH_KEYS)
    if prefetch:
        items.append((_pseudonym_read(ctx, sel, pseudo), {_KEYS: keys}))
    found = _reads(conn, ctx, items) if items else []
    protected = {r[0] for rows in found[: len(found) - prefetch] for r in rows}
    doomed = [k for k in keys if k not in protected]
    stones = [k for k in keys if k in protected]
    if stones:
        values = found[-1] if prefetch else None
        _erase_values(conn, ctx, sel, stones, _personal_columns(sel), tombstone=True, values=values)
        ctx.outcome.count(sel.ref, "tombstone", len(stones))
    if doomed:
        files = [(c, s) for c, s in _personal_columns(sel).items() if s.file_store]
        _journal_files(conn, ctx, sel, doomed, files)
        delete = _keyed(ctx, ("delete", sel.ref), lambda among: sa.delete(sel.table).where(among(sel.pk)))
        for chunk in chunks(doomed):
            _write(ctx, delete, {_KEYS: chunk}, functools.partial(ctx.outcome.count, sel.ref, "delete_row"))
    return len(stones)


def _journal_files(
    conn: Connection, ctx: EraseContext, sel: Selection, keys: list[Any], files: list[tuple[str, ColumnSpec]]
) -> None:
    for col, spec in files:
        column = sel.table.c[col]

        def named(among: Any, column: sa.Column[Any] = column) -> Any:
            return sa.select(column).where(among(sel.pk), column.is_not(None))

        stmt = _keyed(ctx, ("files", sel.ref, col), named)
        for chunk in chunks(keys):
            for (ref,) in _read(conn, ctx, stmt, {_KEYS: chunk}):
                ctx.outcome.files.append((spec.file_store or "", f"{sel.ref}.{col}", str(ref)))


def _erase_values(
    conn: Connection,
    ctx: EraseContext,
    sel: Selection,
    keys: list[Any],
    cols: dict[str, ColumnSpec],
    *,
    tombstone: bool = False,
    force_pseudonym: set[str] | None = None,
    values: list[tuple[Any, ...]] | None = None,
) -> None:
    """Null, pseudonymize or redact the given columns of kept rows (the person's own values);
    ``values``: the rows of ``_pseudonym_read`` for at least these keys, when already read."""
    if not cols or not keys:
        return
    files = [(c, s) for c, s in cols.items() if s.file_store]
    _journal_files(conn, ctx, sel, keys, files)
    nulls, pseudo = _split_erase(sel, cols, tombstone=tombstone, force_pseudonym=force_pseudonym)
    if not pseudo:
        # Only nulls: one update per chunk of keys.
        if nulls:
            null_stmt = _keyed(
                ctx,
                ("nulls", sel.ref, tuple(nulls)),
                lambda among: sa.update(sel.table).where(among(sel.pk)).values({c: None for c in nulls}),
            )
            for chunk in chunks(keys):
                _write(ctx, null_stmt, {_KEYS: chunk})
        ctx.outcome.count(sel.ref, "erase", len(keys) if nulls else 0)
        return
    # Pseudonyms are computed from the stored values; the nulls go in the same update.
    wanted = set(keys)
    for chunk in [keys] if values is not None else chunks(keys):
        if values is not None:
            rows = [r for r in values if r[0] in wanted]
        else:
            rows = _read(conn, ctx, _pseudonym_read(ctx, sel, pseudo), {_KEYS: chunk})
        updates = []
        for r in rows:
            vals = {}
            for c, v in zip(pseudo, r[1:], strict=True):
                kind = "email" if cols[c].cat.identity == "email" else cols[c].cat.name.rsplit(".", 1)[-1]
                vals[f"v_{c}"] = None if v is None else Pseudonymize(ctx.pseudo_key, kind).apply(str(v))
            updates.append({"k": r[0], **vals})
        if updates:
            stmt = ctx.store.cached(
                ("pseudonymize", sel.ref, tuple(nulls), tuple(pseudo)),
                lambda: (
                    sa.update(sel.table)
                    .where(sel.pk == sa.bindparam("k"))
                    .values({**{c: None for c in nulls}, **{c: sa.bindparam(f"v_{c}") for c in pseudo}})
                ),
            )
            _write(ctx, stmt, updates)
    ctx.outcome.count(sel.ref, "erase", len(keys))


def _split_erase(
    sel: Selection,
    cols: dict[str, ColumnSpec],
    *,
    tombstone: bool = False,
    force_pseudonym: set[str] | None = None,
) -> tuple[list[str], list[str]]:
    """The columns ``_erase_values`` nulls and those it pseudonymizes (a retained value stays,
    except in a tombstone; a column that takes no NULL gets a pseudonym)."""
    nulls: list[str] = []
    pseudo: list[str] = []
    for c, s in cols.items():
        action = s.erase_action
        if force_pseudonym and c in force_pseudonym:
            pseudo.append(c)
        elif action == "retain" and not tombstone:
            continue
        elif action == "pseudonymize" or not sel.table.c[c].nullable:
            pseudo.append(c)
        else:
            nulls.append(c)
    return nulls, pseudo


def _pseudonym_read(ctx: EraseContext, sel: Selection, pseudo: list[str]) -> Any:
    """The key and the stored values of the columns to pseudonymize, of a list of keys."""
    return _keyed(
        ctx,
        ("read", sel.ref, tuple(pseudo)),
        lambda among: sa.select(sel.pk, *(sel.table.c[c] for c in pseudo)).where(among(sel.pk)),
    )


def _redact_rows(
    conn: Connection, ctx: EraseContext, sel: Selection, keys: list[Any], cols: list[str]
) -> int:
    changed = 0
    for col in cols:

        def texts(among: Any, col: str = col) -> Any:
            return sa.select(sel.pk, _as_text(sel.table.c[col])).where(among(sel.pk))

        read = _keyed(ctx, ("text", sel.ref, col), texts)
        for chunk in chunks(keys):
            rows = _read(conn, ctx, read, {_KEYS: chunk})
            changed += _write_redactions(conn, ctx, sel.table, sel.pk, col, rows)
    return changed


def _redact_value(value: Any, ctx: EraseContext) -> tuple[Any, int]:
    """Redact strings, also inside JSON documents (objects and lists keep their shape)."""
    if isinstance(value, str):
        return redact_identifiers(value, ctx.identities, region=ctx.dm.default_region)
    if isinstance(value, dict):
        total, out = 0, {}
        for k, v in value.items():
            out[k], n = _redact_value(v, ctx)
            total += n
        return out, total
    if isinstance(value, list):
        total, items = 0, []
        for v in value:
            nv, n = _redact_value(v, ctx)
            items.append(nv)
            total += n
        return items, total
    return value, 0


def _write_redactions(
    conn: Connection, ctx: EraseContext, table: sa.Table, pk: sa.Column[Any], col: str, rows: Sequence[Any]
) -> int:
    updates = []
    is_json = isinstance(table.c[col].type, sa.JSON)
    for key, text in rows:
        if text is None or text == "":
            continue
        value = json.loads(text) if is_json and isinstance(text, str) else text
        new, n = _redact_value(value, ctx)
        if n:
            updates.append({"k": key, "v": new})
    if updates:
        stmt = ctx.store.cached(
            ("redact", table.name, col),
            lambda: sa.update(table).where(pk == sa.bindparam("k")).values({col: sa.bindparam("v")}),
        )
        _write(ctx, stmt, updates)
    return len(updates)


def _as_text(col: sa.Column[Any]) -> sa.ColumnElement[Any]:
    return sa.cast(col, sa.Text) if isinstance(col.type, sa.JSON) else col


@functools.lru_cache(maxsize=1024)
def mention_select(
    table: sa.Table,
    col: str,
    shapes: tuple[Shape, ...],
    dialect: str = "default",
    *,
    keyed: bool = False,
    index: TextIndex | TokenIndex | None = None,
) -> sa.Select[Any] | sa.CompoundSelect[Any] | None:
    """``(person, key, text)`` of rows whose free text may mention one of several people: one
    indexed search per person (an OR of everyone's patterns would defeat the index), parameters
    from ``mention_params``. ``keyed``: each person's search only among the rows whose keys are
    in the list parameter ``p<n>_keys`` (the rows a sweep found, ``privet.requests.sweep``).
    ``index``: the column's search indexes on SQLite (``privet.requests.textindex``) or MariaDB
    (``privet.requests.tokenindex``). None when
    the table has no single-column key or nothing can be searched. Built once per table, column
    and shapes."""
    pks = list(table.primary_key.columns)
    if len(pks) != 1:
        return None
    branches = []
    for j, shape in enumerate(shapes):
        cond = mention_filter(table, col, shape, f"p{j}_", dialect, index)
        if cond is not None and keyed:
            cond = sa.and_(pks[0].in_(sa.bindparam(f"p{j}_keys", expanding=True)), cond)
        if cond is not None:
            branches.append(sa.select(sa.literal(j).label("who"), pks[0], _as_text(table.c[col])).where(cond))
    if not branches:
        return None
    return branches[0] if len(branches) == 1 else sa.union_all(*branches)


# The identity kinds a mention search finds by a pattern in the text's trigram index (a phone
# number: by its tail among the text's tokens, ``phone_tokens``).
_LIKE_KINDS = ("email", "name")


@functools.lru_cache(maxsize=1024)
def mention_join_pg(table: sa.Table, col: str) -> sa.CompoundSelect[Any] | None:
    """PostgreSQL: ``(person, key, text)`` of rows whose free text may mention one of many people,
    their identities in array parameters (``mention_join_params``): each identity drives one
    lookup of the column's index, the same index scan run again for the next, where
    ``mention_select``'s union runs a scan of its own for every person (measured, 1,000 people
    over three columns of 2M, 3M and 300k rows: 142 ms instead of 211). The statement's text is
    the same for any number of people. A row comes once for every identity of a person that
    finds it. None when the table has no single-column key."""
    pks = list(table.primary_key.columns)
    if len(pks) != 1:
        return None
    text = searched_text(table.c[col], "postgresql")
    shown = _as_text(table.c[col])

    def driven(name: str, *more: str) -> sa.TableValuedAlias:
        return (
            sa.func.unnest(
                sa.bindparam(f"privet_{name}_who", type_=postgresql.ARRAY(sa.Integer())),
                sa.bindparam(f"privet_{name}", type_=postgresql.ARRAY(sa.Text())),
                *(sa.bindparam(f"privet_{name}_{m}", type_=postgresql.ARRAY(sa.Text())) for m in more),
            )
            .table_valued("who", "q", *more)
            .render_derived(name=f"privet_{name}")
        )

    # A name's pattern, or an address's key (``email_key``), looked up; the whole pattern checked.
    likes, tails = driven("likes", "whole"), driven("tails")
    lowered = sa.func.lower(text)
    by_pattern = sa.select(likes.c.who, pks[0], shown).select_from(
        likes.join(table, sa.and_(lowered.like(likes.c.q), checked(lowered).like(likes.c.whole)))
    )
    by_tail = sa.select(tails.c.who, pks[0], shown).select_from(
        tails.join(table, phone_tokens(text).bool_op("@@")(sa.cast(tails.c.q, postgresql.TSQUERY)))
    )
    return sa.union_all(by_pattern, by_tail)


def mention_join_params(people: list[set[Identity]]) -> dict[str, list[Any]]:
    """The parameters of ``mention_join_pg`` for these people (``who``: their index in the list)."""
    params: dict[str, list[Any]] = {
        "privet_likes_who": [],
        "privet_likes": [],
        "privet_likes_whole": [],
        "privet_tails_who": [],
        "privet_tails": [],
    }
    for who, ids in enumerate(people):
        for i in ids:
            if i.kind in _LIKE_KINDS:
                # The patterns of a search of one person (``identity_params``).
                whole = text_pattern(i.value, "unicode")
                params["privet_likes_who"].append(who)
                params["privet_likes"].append(email_key(i.value, whole) if i.kind == "email" else whole)
                params["privet_likes_whole"].append(whole)
            elif i.kind == "phone":
                params["privet_tails_who"].append(who)
                params["privet_tails"].append(phone_tail_query(i.value))
    return params


def mention_params(people: list[set[Identity]]) -> dict[str, Any]:
    """The parameters of ``mention_select`` for these people, in the same order as its shapes."""
    params: dict[str, Any] = {}
    for j, ids in enumerate(people):
        params |= search_params(ids, prefix=f"p{j}_")
    return params


def _redact_mentions(conn: Connection, ctx: EraseContext) -> None:
    """Free text in other people's rows that mentions the person: redact only the mentions."""
    store_name = ctx.store.name
    indexes = store_indexes(ctx.store, conn)
    shapes = (indexes.shape(identity_shape(ctx.identities), ctx.identities),)
    params = mention_params([ctx.identities])
    searches: list[tuple[str, sa.Table, str, Any]] = []
    for ref, spec in ctx.dm.tables_of(store_name).items():
        table_name = split_ref(ref)[1]
        if table_name not in ctx.schema:
            continue
        table = ctx.store.table(table_name)
        for col in (c for c, s in spec.columns.items() if s.cat.free_text):
            stmt = mention_select(table, col, shapes, ctx.store.dialect, index=indexes.of(table, col))
            if stmt is not None:
                searches.append((ref, table, col, stmt))
    # Every search in one go (one round trip on PostgreSQL), then the redactions.
    # Indexed text searches (see search_options).
    found = _reads(conn, ctx, [(stmt, params) for *_rest, stmt in searches], search=True)
    for (ref, table, col, _stmt), rows in zip(searches, found, strict=True):
        n = _write_redactions(
            conn, ctx, table, table.primary_key.columns[0], col, [(k, t) for _w, k, t in rows]
        )
        ctx.outcome.count(ref, "redact", n)
