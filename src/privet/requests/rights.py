"""Rectification (Art. 16), restriction (Art. 18) and objection (Art. 21)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa

from privet import audit
from privet.datamap import DataMap, split_ref
from privet.errors import BadInput, NotFound, UnknownName
from privet.identity import Identity, normalize
from privet.protection import derive_key, suppression
from privet.requests.erase import CONSENT_KINDS, as_identity, plan
from privet.requests.matching import value_matches
from privet.requests.models import HeldRow, Restriction
from privet.requests.resolve import resolve
from privet.requests.select import chunks
from privet.settings import Settings
from privet.state import StateDB, open_state
from privet.state.db import utcnow
from privet.stores import Stores


def _digests(settings: Settings, identities: set[Identity]) -> list[str]:
    key = derive_key(settings.master_key(), "suppression")
    return [suppression.digest(i, key) for i in identities]


def rectify(
    dm: DataMap,
    settings: Settings,
    subject: str | Identity,
    changes: dict[str, str],
    *,
    tenant: str | None = None,
    state: StateDB | None = None,
) -> dict[str, Any]:
    """Set root columns to new values, and every copy of the old value in the person's rows.

    Rows under a legal hold keep their historical value and are listed.
    """
    identity = as_identity(dm, subject)
    report: dict[str, Any] = {"subject": str(identity), "updated": {}, "kept_under_hold": {}}
    with Stores(dm) as stores:
        res = resolve(dm, stores, identity, tenant=tenant)
        if not res.found:
            raise NotFound(f"nobody in the map's stores has {identity}", value=str(identity))
        selections = plan(dm, stores, res)
        for person in res.people:
            root_spec = dm.table(person.root)
            store_name, table_name = split_ref(person.root)
            store = stores.sql[store_name]
            root = store.table(table_name)
            pk = next(iter(root.primary_key.columns))
            for col in changes:
                if col not in root.c:
                    raise BadInput(
                        f"column '{col}' is not in {person.root}",
                        value=col,
                        hint=f"columns: {', '.join(c.name for c in root.columns)}",
                    )
            with store.begin() as conn:
                old_row = conn.execute(sa.select(*(root.c[c] for c in changes)).where(pk == person.key)).one()
                for (col, new), old in zip(changes.items(), old_row, strict=True):
                    category = root_spec.columns[col].category if col in root_spec.columns else None
                    kind = root_spec.columns[col].cat.identity if col in root_spec.columns else None
                    if kind in ("email", "phone"):
                        # Emails are stored normalized; a phone keeps the form it was given, once valid.
                        checked = normalize(kind, new, dm.default_region)
                        new = checked if kind == "email" else new
                    conn.execute(sa.update(root).where(pk == person.key).values({col: new}))
                    report["updated"][f"{person.root}.{col}"] = 1
                    if category is None or old is None:
                        continue
                    old_norm = (
                        {str(old).strip().lower()}
                        if kind != "phone"
                        else {normalize("phone", str(old), dm.default_region)}
                    )
                    for sel in selections.get(store_name, []):
                        if sel.ref == person.root or not sel.keys:
                            continue
                        for ccol, cspec in sel.spec.columns.items():
                            if cspec.category != category:
                                continue
                            target = sel.table.c[ccol]
                            hits = []
                            for chunk in chunks(sel.keys):
                                for k, v in conn.execute(sa.select(sel.pk, target).where(sel.pk.in_(chunk))):
                                    same = value_matches(kind or "text", v, old_norm, dm.default_region) or (
                                        kind is None and v is not None and str(v).strip().lower() in old_norm
                                    )
                                    if same:
                                        hits.append(k)
                            if not hits:
                                continue
                            if sel.spec.legal_hold is not None:
                                report["kept_under_hold"][f"{sel.ref}.{ccol}"] = len(hits)
                                continue
                            for chunk in chunks(hits):
                                conn.execute(
                                    sa.update(sel.table).where(sel.pk.in_(chunk)).values({ccol: new})
                                )
                            report["updated"][f"{sel.ref}.{ccol}"] = len(hits)
    db = state or open_state(settings.resolved_state_url)
    with db.session() as s:
        audit.record(
            s,
            "subject.rectified",
            tenant=tenant,
            target=f"subject:{_digests(settings, {identity})[0]}",
            details={"columns": sorted(changes), "copies": sum(report["updated"].values())},
        )
    if state is None:
        db.dispose()
    return report


def _record(
    dm: DataMap,
    settings: Settings,
    subject: str | Identity,
    kind: str,
    reason: str,
    tenant: str | None,
    state: StateDB | None,
    purposes: list[str] | None = None,
) -> dict[str, Any]:
    identity = as_identity(dm, subject)
    withdrawn: list[str] = []
    if kind == "objection":
        withdrawn = _objected_purposes(dm, purposes)
    with Stores(dm) as stores:
        res = resolve(dm, stores, identity, tenant=tenant)
    ids = res.identities() if res.found else {identity}
    db = state or open_state(settings.resolved_state_url)
    key = derive_key(settings.master_key(), "suppression")
    with db.session() as s:
        for digest in _digests(settings, ids):
            s.add(Restriction(subject_digest=digest, kind=kind, reason=reason, at=utcnow()))
        if kind == "objection":
            suppression.add_many(s, list(ids), key, reason="objection")
    if kind == "objection":
        from privet.consent import ConsentService

        consent = ConsentService(db, dm, settings.master_key())
        # The ledger keeps decisions per identity: each of the person's identities objects.
        for i in sorted(ids, key=str):
            if i.kind in CONSENT_KINDS:
                for name in withdrawn:
                    consent.withdraw(i, name, source="objection", tenant=tenant)
    with db.session() as s:
        audit.record(
            s,
            f"subject.{kind}",
            tenant=tenant,
            target=f"subject:{_digests(settings, {identity})[0]}",
            details={
                "identities": len(ids),
                "found": res.found,
                **({"purposes": withdrawn} if withdrawn else {}),
            },
        )
    if state is None:
        db.dispose()
    report: dict[str, Any] = {
        "subject": str(identity),
        "found": res.found,
        kind: True,
        "identities": len(ids),
    }
    if kind == "objection":
        report["withdrawn"] = withdrawn
    return report


def _objected_purposes(dm: DataMap, named: list[str] | None) -> list[str]:
    """The purposes an objection ends: those named (each must be in the map), else every marketing
    purpose of the map (Art. 21(2): direct marketing stops on objection)."""
    if not named:
        return sorted(name for name, p in dm.purposes.items() if p.is_marketing)
    unknown = sorted(set(named) - set(dm.purposes))
    if unknown:
        raise UnknownName(
            f"purpose(s) {', '.join(unknown)} not in the map",
            value=unknown,
            hint=f"the map's purposes: {', '.join(sorted(dm.purposes)) or 'none'}",
        )
    return sorted(set(named))


def restrict(
    dm: DataMap,
    settings: Settings,
    subject: str | Identity,
    *,
    reason: str = "requested by the subject",
    tenant: str | None = None,
    state: StateDB | None = None,
) -> dict[str, Any]:
    """Mark processing of the person restricted (Art. 18); ``is_restricted`` answers True from now on."""
    return _record(dm, settings, subject, "restriction", reason, tenant, state)


def object_to(
    dm: DataMap,
    settings: Settings,
    subject: str | Identity,
    *,
    reason: str = "objection to marketing",
    purposes: list[str] | None = None,
    tenant: str | None = None,
    state: StateDB | None = None,
) -> dict[str, Any]:
    """Record an objection (Art. 21): consent to the map's marketing purposes (or to ``purposes``,
    when named) is withdrawn in the consent ledger and the identities join the suppression list;
    the report lists the purposes withdrawn. Purposes of other kinds (call recording, say) stay
    as they are."""
    return _record(dm, settings, subject, "objection", reason, tenant, state, purposes)


def is_restricted(
    dm: DataMap,
    settings: Settings,
    subject: str | Identity,
    *,
    state: StateDB | None = None,
    on: dt.date | None = None,
) -> bool:
    """True while the person's processing is restricted, or values are held under a legal hold."""
    identity = as_identity(dm, subject)
    digest = _digests(settings, {identity})[0]
    today = on or dt.date.today()
    db = state or open_state(settings.resolved_state_url)
    with db.session() as s:
        restricted = s.execute(
            sa.select(sa.func.count())
            .select_from(Restriction)
            .where(
                Restriction.subject_digest == digest,
                Restriction.kind == "restriction",
                Restriction.lifted_at.is_(None),
            )
        ).scalar_one()
        held = s.execute(
            sa.select(sa.func.count())
            .select_from(HeldRow)
            .where(HeldRow.subject_digest == digest, HeldRow.purged_at.is_(None), HeldRow.until >= today)
        ).scalar_one()
    if state is None:
        db.dispose()
    return bool(restricted or held)
