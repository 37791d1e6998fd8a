"""Which rows of every table belong to a person: set-based selects along paths and value links."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from privet.datamap import DataMap, TableSpec, split_ref
from privet.requests.matching import equals_identity, value_matches
from privet.requests.resolve import Person, _single_pk
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

    @property
    def store(self) -> str:
        return split_ref(self.ref)[0]


def root_key_select(stores: Stores, person: Person, target: str | None) -> sa.Select[Any]:
    store, table = split_ref(person.root)
    root = stores.sql[store].table(table)
    pk = _single_pk(root)
    col = root.c[target] if target else pk
    return sa.select(col).where(pk == person.key)


def path_condition(
    stores: Stores, table: sa.Table, hops: list[Any], person: Person
) -> sa.ColumnElement[bool]:
    """``table.first_hop_column IN (SELECT … IN (SELECT root key))`` along a multi-hop path."""
    store = split_ref(person.root)[0]
    expr: Any = root_key_select(stores, person, hops[-1].target)
    for i in range(len(hops) - 1, 0, -1):
        hop_table = stores.sql[store].table(split_ref(hops[i - 1].table)[1])
        target = hop_table.c[hops[i - 1].target] if hops[i - 1].target else _single_pk(hop_table)
        expr = sa.select(target).where(hop_table.c[hops[i].column].in_(expr))
    cond: sa.ColumnElement[bool] = table.c[hops[0].column].in_(expr)
    return cond


def select_rows(dm: DataMap, stores: Stores, person: Person, ref: str, spec: TableSpec) -> Selection | None:
    """The person's rows of one table (None when the table is not about this subject kind)."""
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
        sel.keys, sel.via = [person.key], "root"
        return sel
    paths = [p for p in spec.paths if split_ref(p[-1].table)[0] == store_name and p[-1].table == person.root]
    with store.connect() as conn:
        if paths:
            conds = [path_condition(stores, table, p, person) for p in paths]
            link_cols = sorted({p[0].column for p in paths})
            stmt = sa.select(pk, *(table.c[c] for c in link_cols)).where(sa.or_(*conds))
            rows = conn.execute(stmt).all()
            sel.keys = [r[0] for r in rows]
            if len(paths) > 1:
                single_hop = [p for p in paths if len(p) == 1]
                for r in rows:
                    mine = {
                        c
                        for c, v in zip(link_cols, r[1:], strict=True)
                        if v is not None and v == person.key and any(p[0].column == c for p in single_hop)
                    }
                    others = {
                        c for c, v in zip(link_cols, r[1:], strict=True) if v is not None and v != person.key
                    }
                    sel.links[r[0]] = mine
                    if others:
                        sel.shared.add(r[0])
        elif spec.match:
            sel.via = "match"
            conds = []
            for col, kind in spec.match.items():
                values = person.values(kind)
                if values:
                    conds.append(equals_identity(table.c[col], kind, values))
            if not conds:
                return sel
            cols = list(spec.match)
            stmt = sa.select(pk, *(table.c[c] for c in cols)).where(sa.or_(*conds))
            for r in conn.execute(stmt):
                if any(
                    value_matches(spec.match[c], v, person.values(spec.match[c]), dm.default_region)
                    for c, v in zip(cols, r[1:], strict=True)
                ):
                    sel.keys.append(r[0])
    return sel


def chunks(keys: list[Any], size: int = 5000) -> list[list[Any]]:
    """Key lists small enough for every dialect's limit on bound parameters."""
    return [keys[i : i + size] for i in range(0, len(keys), size)]
