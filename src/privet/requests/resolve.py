"""From one identity to the person: root rows of every subject kind, and all their identities."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from privet.datamap import DataMap, TableSpec, split_ref
from privet.errors import AmbiguousSubject, BadSubject
from privet.identity import Identity, normalize_email, try_normalize_phone
from privet.requests.matching import identity_params
from privet.requests.textindex import NO_INDEXES, store_indexes
from privet.stores import Stores

_TENANT = "privet_tenant"


@dataclass
class Person:
    """One person as one subject kind: the root row's key and every identity it carries."""

    kind: str
    root: str  # store.table
    key: Any  # primary key value of the root row
    identities: set[Identity] = field(default_factory=set)
    names: set[str] = field(default_factory=set)  # full names, searched for in free text

    def values(self, kind: str) -> set[str]:
        return {i.value for i in self.identities if i.kind == kind}


@dataclass
class Resolution:
    identity: Identity
    people: list[Person] = field(default_factory=list)

    @property
    def found(self) -> bool:
        return bool(self.people)

    def identities(self) -> set[Identity]:
        out = {self.identity}
        for p in self.people:
            out |= p.identities
        return out


def resolve(dm: DataMap, stores: Stores, identity: Identity, *, tenant: str | None = None) -> Resolution:
    """Find the person; refuse when the identity names two people of one kind."""
    found = resolve_many(dm, stores, [identity], tenant=tenant)[0]
    if isinstance(found, AmbiguousSubject):
        raise found
    return found


def resolve_many(
    dm: DataMap, stores: Stores, identities: list[Identity], *, tenant: str | None = None, chunk: int = 500
) -> list[Resolution | AmbiguousSubject]:
    """``resolve`` for many identities with one statement per subject kind, identity kind and
    ``chunk`` identities; an identity that names two people of one kind gets the refusal."""
    out: list[Resolution | AmbiguousSubject] = [Resolution(i) for i in identities]
    for ident_kind in dict.fromkeys(i.kind for i in identities):
        kinds = [k for k, s in dm.subjects.items() if ident_kind in s.identities]
        if not kinds:
            known = sorted({i for s in dm.subjects.values() for i in s.identities})
            raise BadSubject(
                f"no subject kind of the map has the identity '{ident_kind}'",
                value=ident_kind,
                hint=f"use one of: {', '.join(known) or 'none (declare identities under subjects)'}",
            )
        positions = [n for n, i in enumerate(identities) if i.kind == ident_kind]
        for kind in kinds:
            for part in (positions[i : i + chunk] for i in range(0, len(positions), chunk)):
                _resolve_part(dm, stores, kind, ident_kind, [(n, identities[n]) for n in part], tenant, out)
    return out


def _resolve_part(
    dm: DataMap,
    stores: Stores,
    kind: str,
    ident_kind: str,
    wanted: list[tuple[int, Identity]],
    tenant: str | None,
    out: list[Resolution | AmbiguousSubject],
) -> None:
    spec = dm.subjects[kind]
    store_name, table_name = split_ref(spec.root)
    store = stores.sql[store_name]
    table = store.table(table_name)
    pk = _single_pk(table)
    col = table.c[spec.identities[ident_kind]]
    tspec = dm.tables.get(spec.root)
    scoped = tenant is not None and tspec is not None and tspec.tenant_column is not None
    id_cols = {k: table.c[c] for k, c in spec.identities.items()}
    names = _name_columns(tspec)
    idents = {Identity(ident_kind, i.value) for _n, i in wanted}

    # MariaDB: a phone column is looked up through its number index where it has one.
    indexes = store_indexes(store) if ident_kind == "phone" else NO_INDEXES

    def build() -> sa.Select[Any]:
        where = indexes.equals(table, col.name, ident_kind, len(idents), store.dialect)
        if scoped:
            assert tspec is not None and tspec.tenant_column is not None
            tenant_col = sa.cast(table.c[tspec.tenant_column], sa.String(100))
            where = sa.and_(where, tenant_col == sa.bindparam(_TENANT, type_=sa.String(), required=True))
        return sa.select(pk, *id_cols.values(), *(table.c[c] for c in names if c in table.c)).where(where)

    # One statement per subject kind, identity kind and number of identities, reused.
    shape = (
        spec.root,
        col.name,
        tuple(id_cols),
        tuple(names),
        ident_kind,
        len(idents),
        scoped,
        indexes.version,
    )
    stmt = store.cached(("resolve", *shape, tspec.tenant_column if tspec else None), build)
    params: dict[str, Any] = identity_params(idents)
    if scoped:
        params[_TENANT] = str(tenant)
    at = 1 + list(id_cols).index(ident_kind)
    by_value: dict[str, list[int]] = {}
    for n, i in wanted:
        by_value.setdefault(i.value, []).append(n)
    with store.read() as conn:
        rows = store.fetch_many(conn, [(stmt, params)], large=len(idents) > 1)[0][1]
    matched: dict[int, list[Any]] = {}
    for r in rows:
        # The exact check after the SQL prefilter: the stored value, normalized, is the identity.
        norm = normalized_identity(ident_kind, r[at], dm.default_region)
        for n in by_value.get(norm or "", []):
            matched.setdefault(n, []).append(r)
    for n, found in matched.items():
        res = out[n]
        if not isinstance(res, Resolution):
            continue
        if len(found) > 1:
            out[n] = AmbiguousSubject(
                f"{res.identity} matches {len(found)} people in {spec.root}",
                candidates=[{"subject": kind, "table": spec.root, "id": r[0]} for r in found],
                value=str(res.identity),
            )
            continue
        r = found[0]
        person = Person(kind, spec.root, r[0])
        for pos, k in enumerate(id_cols, start=1):
            norm = normalized_identity(k, r[pos], dm.default_region)
            if norm:
                person.identities.add(Identity(k, norm))
        person.names = _full_names(names, list(r[1 + len(id_cols) :]))
        res.people.append(person)


def _name_columns(spec: TableSpec | None) -> list[str]:
    """The root's first, last and full name columns (at most one of each), in that order."""
    if spec is None:
        return []
    cols = spec.columns.items()
    first = [c for c, s in cols if s.category == "user.name.first"][:1]
    last = [c for c, s in cols if s.category == "user.name.last"][:1]
    full = [c for c, s in cols if s.category == "user.name"][:1]
    return [*first, *last, *full] if (first and last) else full


def _full_names(columns: list[str], values: list[Any]) -> set[str]:
    """The names the person is written as in free text (first and last, or the full name)."""
    out: set[str] = set()
    vals = [str(v) for v in values]
    if len(columns) >= 2 and all(values[:2]):
        out.add(f"{vals[0]} {vals[1]}")
    if len(columns) in (1, 3) and values[-1]:
        out.add(vals[-1])
    return {n for n in out if len(n) >= 5}


def _single_pk(table: sa.Table) -> sa.Column[Any]:
    cols = list(table.primary_key.columns)
    if len(cols) != 1:
        raise BadSubject(
            f"table {table.name} needs a single-column primary key for subject requests",
            value=table.name,
            hint="add a surrogate key, or declare primary_key for it in the map",
        )
    return cols[0]


def normalized_identity(kind: str, value: Any, region: str) -> str | None:
    """The matching form of a stored value (None when it is not one of the kind)."""
    if value is None or str(value).strip() == "":
        return None
    if kind == "email":
        try:
            return normalize_email(str(value))
        except BadSubject:
            return None
    if kind == "phone":
        return try_normalize_phone(value, region)
    return str(value)
