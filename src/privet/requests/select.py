"""Which rows of every table belong to a person: set-based selects along paths and value links."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from privet.datamap import DataMap, TableSpec, split_ref
from privet.requests.matching import identity_params, identity_shape, value_matches
from privet.requests.resolve import Person, _single_pk
from privet.requests.textindex import NO_INDEXES, store_indexes
from privet.stores import Stores


@dataclass
class Selection:
    """The rows of one table that belong to the person, with how each row links to them."""

    ref: str
    spec: TableSpec
    table: sa.Table
    pk: sa.Column[Any]
    keys: list[Any] = field(default_factory=list)
    # For rows reached by more than one link column: key -> the link columns that point at the person.
    links: dict[Any, set[str]] = field(default_factory=dict)
    shared: set[Any] = field(default_factory=set)  # rows that also belong to someone else
    via: str = "path"
    # The values of the condition's parameters (the person's root key), for every execution.
    params: dict[str, Any] = field(default_factory=dict)
    # What names the selecting condition in the store's statement cache: statements built on it
    # are cached under it too.
    cond_key: tuple[Any, ...] = ()
    # Set for a table whose rows are erased in one set-based statement inside the store's
    # transaction: the condition selecting them, and no keys read beforehand.
    cond: sa.ColumnElement[bool] | None = None
    # Hold tables: key -> the date the hold runs from (read with the keys).
    hold_from: dict[Any, Any] = field(default_factory=dict)
    # The read of the keys when it is left to the store's transaction (``select_all(defer=True)``).
    pending: KeyRead | None = None

    @property
    def bulk(self) -> bool:
        return self.cond is not None

    @property
    def store(self) -> str:
        return split_ref(self.ref)[0]


# The parameter every path and root condition takes: the root key of the person. Conditions are
# built once per table and reused for every person (``Selection.params`` holds the value).
SUBJECT = "privet_subject"


def subject_param(pk: sa.Column[Any]) -> sa.BindParameter[Any]:
    return sa.bindparam(SUBJECT, type_=pk.type, required=True)


def root_key_select(stores: Stores, person: Person, target: str | None) -> sa.Select[Any]:
    store, table = split_ref(person.root)
    root = stores.sql[store].table(table)
    pk = _single_pk(root)
    col = root.c[target] if target else pk
    return sa.select(col).where(pk == subject_param(pk))


def path_condition(
    stores: Stores, table: sa.Table, hops: list[Any], person: Person
) -> sa.ColumnElement[bool]:
    """``table.first_hop_column IN (SELECT … IN (SELECT root key))`` along a multi-hop path; the
    hop onto the root's key compares with the person's key itself (``= :privet_subject``), which
    every database looks up in the column's index also where several paths are OR-ed (MariaDB
    scanned the whole table for ``a IN (SELECT …) OR b IN (SELECT …)``: 24 ms per person over
    60,000 messages, where the two index lookups take a fraction of a millisecond), and which
    still finds the rows after the root row is gone."""
    store_name, root_name = split_ref(person.root)
    root_pk = _single_pk(stores.sql[store_name].table(root_name))
    on_key = hops[-1].target in (None, root_pk.name)
    expr: Any = subject_param(root_pk) if on_key else root_key_select(stores, person, hops[-1].target)

    def linked(col: sa.Column[Any]) -> sa.ColumnElement[bool]:
        return col == expr if on_key else col.in_(expr)

    for i in range(len(hops) - 1, 0, -1):
        hop_table = stores.sql[store_name].table(split_ref(hops[i - 1].table)[1])
        target = hop_table.c[hops[i - 1].target] if hops[i - 1].target else _single_pk(hop_table)
        expr, on_key = sa.select(target).where(linked(hop_table.c[hops[i].column])), False
    return linked(table.c[hops[0].column])


@dataclass
class Query:
    """How to find the person's rows of one table: a condition and what the rows tell afterwards."""

    sel: Selection
    cond: sa.ColumnElement[bool] | None  # None: nothing can match
    link_cols: list[str] = field(default_factory=list)  # path tables reached by several columns
    single_hop: set[str] = field(default_factory=set)
    match_cols: list[str] = field(default_factory=list)  # value-linked tables: checked in Python


def table_query(dm: DataMap, stores: Stores, person: Person, ref: str, spec: TableSpec) -> Query | None:
    """The condition selecting the person's rows of one table (None when the table is not about
    this subject kind); one statement per table, whatever it then selects."""
    if spec.subject != person.kind:
        return None
    store_name, table_name = split_ref(ref)
    store = stores.sql.get(store_name)
    if store is None:
        return None
    table = store.table(table_name)
    pk = _single_pk(table)
    sel = Selection(ref, spec, table, pk)
    if ref == person.root:
        sel.via = "root"
        sel.params, sel.cond_key = {SUBJECT: person.key}, ("root", ref)
        return Query(sel, store.cached(sel.cond_key, lambda: pk == subject_param(pk)))
    paths = [p for p in spec.paths if split_ref(p[-1].table)[0] == store_name and p[-1].table == person.root]
    if paths:
        sel.params, sel.cond_key = {SUBJECT: person.key}, ("path", ref, person.root)
        q = Query(
            sel,
            store.cached(
                sel.cond_key, lambda: sa.or_(*(path_condition(stores, table, p, person) for p in paths))
            ),
        )
        if len(paths) > 1:
            q.link_cols = sorted({p[0].column for p in paths})
            q.single_hop = {p[0].column for p in paths if len(p) == 1}
        return q
    if spec.match:
        sel.via = "match"
        match = spec.match
        idents = {i for i in person.identities if i.kind in set(match.values())}
        shape = identity_shape(idents)
        counts = dict(shape)
        # MariaDB: a phone column is looked up through its number index where it has one.
        phones = counts.get("phone") and "phone" in match.values()
        indexes = store_indexes(store) if phones else NO_INDEXES

        def build() -> sa.ColumnElement[bool] | None:
            conds = [
                indexes.equals(table, col, kind, counts[kind], store.dialect)
                for col, kind in match.items()
                if counts.get(kind)
            ]
            return sa.or_(*conds) if conds else None

        sel.params, sel.cond_key = identity_params(idents), ("match", ref, shape, indexes.version)
        return Query(sel, store.cached(sel.cond_key, build), match_cols=list(match))
    return Query(sel, None)


def keep_row(dm: DataMap, person: Person, q: Query, row: Any) -> bool:
    """Record a selected row in the selection (links, shared); False for a value-linked row whose
    stored value only looked like the person's identity in SQL."""
    sel = q.sel
    key = row[sel.pk.name]
    match = sel.spec.match or {}
    if q.match_cols and not any(
        value_matches(match[c], row[c], person.values(match[c]), dm.default_region) for c in q.match_cols
    ):
        return False
    if q.link_cols:
        values = [(c, row[c]) for c in q.link_cols]
        sel.links[key] = {c for c, v in values if v is not None and v == person.key and c in q.single_hop}
        if any(v is not None and v != person.key for _c, v in values):
            sel.shared.add(key)
    sel.keys.append(key)
    return True


def set_based(q: Query) -> bool:
    """Whether the table's rows can go in one statement on the selecting condition: reached by
    one foreign-key path (so never shared), no legal hold, no files to journal."""
    spec = q.sel.spec
    return (
        q.sel.via == "path"
        and q.cond is not None
        and not q.link_cols
        and spec.legal_hold is None
        and not any(c.file_store for c in spec.columns.values())
    )


@dataclass
class KeyRead:
    """The statement reading one table's keys for a selection, and how to take its rows in."""

    q: Query
    person: Person
    stmt: sa.Select[Any]
    date_col: str | None

    def take(self, dm: DataMap, names: list[str], rows: list[tuple[Any, ...]]) -> None:
        sel = self.q.sel
        person = self.person
        for r in rows:
            m = dict(zip(names, r, strict=True))
            if keep_row(dm, person, self.q, m) and self.date_col:
                sel.hold_from[m[sel.pk.name]] = m[self.date_col]


def _prepare_rows(
    dm: DataMap, stores: Stores, person: Person, ref: str, spec: TableSpec, defer: bool
) -> tuple[Selection | None, KeyRead | None]:
    """The selection of one table and, when its keys are to be read, the read to run."""
    q = table_query(dm, stores, person, ref, spec)
    if q is None:
        return None, None
    sel = q.sel
    if sel.via == "root":
        sel.keys = [person.key]
        return sel, None
    if q.cond is None:
        return sel, None
    if defer and set_based(q):
        sel.cond = q.cond
        return sel, None
    hold = spec.legal_hold
    date_col = hold.from_ if hold is not None and hold.from_ and hold.from_ in sel.table.c else None
    cols = [
        sel.pk,
        *(sel.table.c[c] for c in q.link_cols),
        *(sel.table.c[c] for c in q.match_cols),
        *([sel.table.c[date_col]] if date_col else []),
    ]
    cond = q.cond

    def build() -> sa.Select[Any]:
        return sa.select(*dict.fromkeys(cols)).where(cond)

    stmt = stores.sql[sel.store].cached(("select_rows", *sel.cond_key), build)
    return sel, KeyRead(q, person, stmt, date_col)


def select_all(
    dm: DataMap,
    stores: Stores,
    person: Person,
    tables: list[tuple[str, TableSpec]],
    *,
    defer: bool = False,
) -> list[Selection | None]:
    """The person's rows of each table, keys only (None for a table not about this subject), the
    keys of each store's tables read in one go (one round trip on PostgreSQL). With ``defer``
    nothing is read: a table that can be erased set-based keeps its condition, the others their
    read (``pending``), for the store's transaction to run."""
    prepared = [_prepare_rows(dm, stores, person, ref, spec, defer) for ref, spec in tables]
    by_store: dict[str, list[KeyRead]] = {}
    for sel, key_read in prepared:
        if sel is not None and key_read is not None:
            if defer:
                sel.pending = key_read
                continue
            by_store.setdefault(sel.store, []).append(key_read)
    for store_name, reads in by_store.items():
        store = stores.sql[store_name]
        with store.read() as conn:
            found = store.fetch_many(conn, [(r.stmt, r.q.sel.params) for r in reads])
        for key_read, (names, rows) in zip(reads, found, strict=True):
            key_read.take(dm, names, rows)
    return [sel for sel, _read in prepared]


def chunks(keys: list[Any], size: int = 5000) -> list[list[Any]]:
    """Key lists small enough for every dialect's limit on bound parameters."""
    return [keys[i : i + size] for i in range(0, len(keys), size)]
