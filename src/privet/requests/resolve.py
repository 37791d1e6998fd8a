"""From one identity to the person: root rows of every subject kind, and all their identities."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from privet.datamap import DataMap, split_ref
from privet.errors import AmbiguousSubject, BadSubject
from privet.identity import Identity, normalize_email, try_normalize_phone
from privet.requests.matching import equals_identity, value_matches
from privet.stores import Stores


@dataclass
class Person:
    """One person as one subject kind: the root row's key and every identity it carries."""

    kind: str
    root: str  # store.table
    key: Any  # primary key value of the root row
    identities: set[Identity] = field(default_factory=set)

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
    kinds = [k for k, s in dm.subjects.items() if identity.kind in s.identities]
    if not kinds:
        known = sorted({i for s in dm.subjects.values() for i in s.identities})
        raise BadSubject(
            f"no subject kind of the map has the identity '{identity.kind}'",
            value=identity.kind,
            hint=f"use one of: {', '.join(known) or 'none (declare identities under subjects)'}",
        )
    result = Resolution(identity)
    for kind in kinds:
        spec = dm.subjects[kind]
        store_name, table_name = split_ref(spec.root)
        store = stores.sql[store_name]
        table = store.table(table_name)
        pk = _single_pk(table)
        col = table.c[spec.identities[identity.kind]]
        where = equals_identity(col, identity.kind, [identity.value], store.dialect)
        tcol = dm.tables.get(spec.root)
        if tenant is not None and tcol is not None and tcol.tenant_column:
            where = sa.and_(where, sa.cast(table.c[tcol.tenant_column], sa.String(100)) == str(tenant))
        id_cols = {k: table.c[c] for k, c in spec.identities.items()}
        stmt = sa.select(pk, *id_cols.values()).where(where)
        with store.read() as conn:
            rows = [
                r
                for r in conn.execute(stmt)
                if value_matches(
                    identity.kind,
                    r[1 + list(id_cols).index(identity.kind)],
                    {identity.value},
                    dm.default_region,
                )
            ]
        if len(rows) > 1:
            raise AmbiguousSubject(
                f"{identity} matches {len(rows)} people in {spec.root}",
                candidates=[{"subject": kind, "table": spec.root, "id": r[0]} for r in rows],
                value=str(identity),
            )
        for r in rows:
            person = Person(kind, spec.root, r[0])
            for i, (k, _c) in enumerate(id_cols.items(), start=1):
                norm = _normalized(k, r[i], dm.default_region)
                if norm:
                    person.identities.add(Identity(k, norm))
            result.people.append(person)
    return result


def _single_pk(table: sa.Table) -> sa.Column[Any]:
    cols = list(table.primary_key.columns)
    if len(cols) != 1:
        raise BadSubject(
            f"table {table.name} needs a single-column primary key for subject requests",
            value=table.name,
            hint="add a surrogate key, or declare primary_key for it in the map",
        )
    return cols[0]


def _normalized(kind: str, value: Any, region: str) -> str | None:
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
