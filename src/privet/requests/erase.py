"""Art. 17 erasure across every store of the map: plan, execute per store, verify, certify."""

from __future__ import annotations

import functools
import json
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import SQLAlchemyError

from privet import audit
from privet.datamap import DataMap, split_ref
from privet.errors import StoreError, UnknownName
from privet.identity import Identity, parse_subject
from privet.protection import derive_key, suppression
from privet.requests import journal
from privet.requests.execute import EraseContext, StoreOutcome, erase_in_store
from privet.requests.models import Certificate, HeldRow
from privet.requests.resolve import Resolution, resolve
from privet.requests.select import Selection, select_all
from privet.requests.verify import settle, verification
from privet.settings import Settings
from privet.state import StateDB, open_state
from privet.state.db import utcnow
from privet.stores import SqlStore, Stores

# The action a table is reported under when several applied (the strongest first).
_ACTION_ORDER = ("retain", "pseudonymize", "tombstone", "delete_row", "cut_link", "erase", "redact")


_INSERT_CERTIFICATE = sa.insert(Certificate)
_INSERT_HELD = sa.insert(HeldRow)


@dataclass
class ErasureResult:
    subject: str
    found: bool
    dry_run: bool
    tables: dict[str, dict[str, Any]] = field(default_factory=dict)
    retained: list[dict[str, Any]] = field(default_factory=list)
    files_deleted: int = 0
    verified: bool = True
    leftovers: list[dict[str, Any]] = field(default_factory=list)
    certificate: str | None = None
    message: str = ""
    # Milliseconds per phase: plan (resolution and plan), transaction (the store transactions,
    # mentions and the verification's search included), mentions (the redaction pass over other
    # people's free text), verification (the search for what is left, run in each store's
    # transaction after its last write, on PostgreSQL in the round trip that carries the
    # redactions, and the exact check of what it found), record (certificate, suppression and
    # audit in Privet's state).
    timings: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "subject": self.subject,
            "found": self.found,
            "dry_run": self.dry_run,
            "tables": self.tables,
            "retained": self.retained,
            "files_deleted": self.files_deleted,
            "verified": self.verified,
            "leftovers": self.leftovers,
            "certificate": self.certificate,
            "message": self.message,
            "timings_ms": self.timings,
        }


def as_identity(dm: DataMap, subject: str | Identity) -> Identity:
    return subject if isinstance(subject, Identity) else parse_subject(subject, dm.default_region)


# The identity kinds the consent ledger keeps decisions under.
CONSENT_KINDS = ("email", "phone", "id")


def person_identities(res: Resolution) -> set[Identity]:
    """Every identifier to erase and to look for: identities of all matched roots, plus full names."""
    ids = res.identities()
    for person in res.people:
        ids |= {Identity("name", n) for n in person.names}
    return ids


def preflight(dm: DataMap, stores: Stores) -> None:
    """Refuse before touching anything when the map names tables or columns the stores lack. Each
    store's tables are checked once against its reflected schema (which a store keeps), then the
    answer is kept with the store's built statements."""
    for name, store in stores.sql.items():
        store.cached(("preflight",), functools.partial(_preflight, dm, name, store))


def _preflight(dm: DataMap, store_name: str, store: SqlStore) -> bool:
    for ref, spec in dm.tables_of(store_name).items():
        table = store.table(split_ref(ref)[1])
        named = set(spec.columns) | set(spec.match or {}) | {h[0].column for h in spec.paths}
        if spec.tenant_column:
            named.add(spec.tenant_column)
        missing = sorted(named - set(table.c.keys()))
        if missing:
            raise UnknownName(
                f"the map names column(s) {', '.join(missing)} of {ref} that the database does not have",
                value=missing,
                hint="run `privet map check` and update the map",
            )
    return True


def plan(dm: DataMap, stores: Stores, res: Resolution, *, defer: bool = False) -> dict[str, list[Selection]]:
    """The person's rows in every table, grouped by store; with ``defer`` nothing is read yet: tables
    erased by one set-based statement keep their condition, the others the read of their keys,
    and the store's transaction runs them (so what it changes is what it read)."""
    by_store: dict[str, list[Selection]] = {}
    for person in res.people:
        for sel in select_all(dm, stores, person, list(dm.tables.items()), defer=defer):
            if sel is not None:
                by_store.setdefault(sel.store, []).append(sel)
    return by_store


def erase(
    dm: DataMap,
    settings: Settings,
    subject: str | Identity,
    *,
    dry_run: bool = False,
    tenant: str | None = None,
    actor: str = "cli",
    state: StateDB | None = None,
    stores: Stores | None = None,
) -> ErasureResult:
    """Erase the person everywhere; with ``dry_run`` only the plan, nothing changed."""
    identity = as_identity(dm, subject)
    result = ErasureResult(subject=str(identity), found=False, dry_run=dry_run)
    db = state or open_state(settings.resolved_state_url)
    own_stores = stores is None
    stores = stores or Stores(dm)
    try:
        with stores.reading():
            _erase(dm, settings, db, stores, identity, result, dry_run, tenant, actor)
    finally:
        if state is None:
            db.dispose()
        if own_stores:
            stores.close()
    return result


def _erase(
    dm: DataMap,
    settings: Settings,
    db: StateDB,
    stores: Stores,
    identity: Identity,
    result: ErasureResult,
    dry_run: bool,
    tenant: str | None,
    actor: str,
) -> None:
    started = time.perf_counter()
    if not dry_run:
        result.files_deleted += journal.finish(db, stores)
    preflight(dm, stores)
    res = resolve(dm, stores, identity, tenant=tenant)
    if not res.found:
        result.message = f"nobody in the map's stores has {identity}; nothing to erase"
        return
    result.found = True
    ids = person_identities(res)
    selections = plan(dm, stores, res, defer=not dry_run)
    _lap(result, "plan", started)
    if dry_run:
        _describe_plan(result, selections)
        return
    _execute(dm, settings, db, stores, selections, ids, result, actor, tenant, identity)


def _describe_plan(result: ErasureResult, selections: dict[str, list[Selection]]) -> None:
    for sels in selections.values():
        for sel in sels:
            if not sel.keys:
                continue
            if sel.spec.legal_hold is not None:
                action = "retain"
                result.retained.append(
                    {
                        "table": sel.ref,
                        "rows": len(sel.keys),
                        "columns": sel.spec.legal_hold.retain,
                        "basis": sel.spec.legal_hold.basis,
                        "until": None,
                    }
                )
            elif sel.shared:
                action = "cut_link"
            else:
                action = "delete_row"
            result.tables[sel.ref] = {"action": action, "rows": len(sel.keys)}


def _execute(
    dm: DataMap,
    settings: Settings,
    db: StateDB,
    stores: Stores,
    selections: dict[str, list[Selection]],
    ids: set[Identity],
    result: ErasureResult,
    actor: str,
    tenant: str | None,
    identity: Identity,
) -> None:
    master = settings.master_key()
    pseudo_key = derive_key(master, "pseudonymize")
    sup_key = derive_key(master, "suppression")
    cert = str(uuid.uuid4())
    outcomes: dict[str, StoreOutcome] = {}
    started = time.perf_counter()
    mention_ms = verification_ms = 0.0
    left: list[dict[str, Any]] = []  # what each store's verification found
    journalled = False
    for store_name, store in stores.sql.items():
        schema = store.schema().tables
        search = verification(dm, store_name, store, ids)
        to_verify = None if search is None else (search.statement, search.params)
        ctx = EraseContext(dm, store, schema, ids, pseudo_key, verification=to_verify)
        store_left: list[dict[str, Any]] = []
        # Files are journalled first; they go only after the store transaction commits.
        try:
            with store.begin() as conn:
                if store.dialect == "sqlite":
                    # pysqlite would begin only at the first write: the erasure's reads of keys
                    # belong in the transaction too, and the write lock is taken at once.
                    conn.exec_driver_sql("BEGIN IMMEDIATE")
                erase_in_store(conn, ctx, selections.get(store_name, []))
                if search is not None:
                    # Checked before the commit, on the erasure's connection: a part whose
                    # candidates fill the cap is read whole there (``settle``), and a failure
                    # leaves the store as it was.
                    checked = time.perf_counter()
                    store_left = settle(dm, conn, search, ctx.verification_rows, ids)
                    ctx.verification_ms += (time.perf_counter() - checked) * 1000
                probe = ctx.outcome
                entry_ids = journal.add_pending(db, cert, probe.files)
        except SQLAlchemyError as exc:
            reason = str(getattr(exc, "orig", exc)).strip().splitlines()[0]
            raise StoreError(
                f"erasure failed in store '{store_name}' and nothing was changed in store '{store_name}': "
                f"{reason}",
                value=store_name,
                hint="fix the cause and run the same erasure again; stores already finished stay finished",
            ) from exc
        journal.mark_committed(db, entry_ids)
        outcomes[store_name] = probe
        mention_ms += ctx.mention_ms
        verification_ms += ctx.verification_ms
        left += store_left
        journalled = journalled or bool(entry_ids)
    if journalled:
        result.files_deleted += journal.finish(db, stores)
    _lap(result, "transaction", started)
    result.timings["mentions"] = round(mention_ms, 2)
    for outcome in outcomes.values():
        for ref, actions in outcome.tables.items():
            counts = dict(actions)
            main = next(a for a in _ACTION_ORDER if a in counts)
            result.tables[ref] = {
                "action": main,
                "rows": counts[main],
                **({"detail": counts} if len(counts) > 1 else {}),
            }
    retained: dict[str, dict[str, Any]] = {}
    digest = suppression.digest(identity, sup_key)
    held_rows = []
    for outcome in outcomes.values():
        for h in outcome.held:
            store_name, table = split_ref(h["table"])
            held_rows.append(
                {
                    "certificate": cert,
                    "subject_digest": digest,
                    "store": store_name,
                    "table_name": table,
                    "row_key": h["key"],
                    "columns": json.dumps(h["columns"]),
                    "basis": h["basis"],
                    "until": h["until"],
                }
            )
            r = retained.setdefault(
                h["table"],
                {
                    "table": h["table"],
                    "rows": 0,
                    "columns": h["columns"],
                    "basis": h["basis"],
                    "until": h["until"],
                },
            )
            r["rows"] += 1
            r["until"] = max(r["until"], h["until"])
    result.retained = [{**r, "until": r["until"].isoformat()} for r in retained.values()]
    result.leftovers = left
    result.verified = not left
    result.timings["verification"] = round(verification_ms, 2)
    started = time.perf_counter()
    result.certificate = cert
    summary = {
        "tables": result.tables,
        "retained": result.retained,
        "files_deleted": result.files_deleted,
        "verified": result.verified,
    }
    from privet.consent import ConsentService

    # What Privet keeps of the erasure, in one transaction of its state: the held rows, the
    # certificate, the suppression hashes and the audit entry; the consent ledger forgets the
    # person in the same commit.
    with db.session() as s:
        if held_rows:
            s.connection().execute(_INSERT_HELD, held_rows)
        s.connection().execute(
            _INSERT_CERTIFICATE,
            {
                "id": cert,
                "subject_digest": digest,
                "at": utcnow(),
                "summary": json.dumps(summary, default=str),
                "verified": result.verified,
            },
        )
        suppression.add_many(s, list(ids), sup_key, reason="erasure")
        audit.record(
            s,
            "subject.erased",
            actor=actor,
            tenant=tenant,
            target=f"certificate:{cert}",
            details={
                "subject_digest": digest,
                "tables": len(result.tables),
                "rows": sum(int(t["rows"]) for t in result.tables.values()),
                "verified": result.verified,
            },
        )
        ConsentService(db, dm, master).forget_in(s, *(i for i in ids if i.kind in CONSENT_KINDS))
    _lap(result, "record", started)


def _lap(result: ErasureResult, phase: str, started: float) -> None:
    result.timings[phase] = round((time.perf_counter() - started) * 1000, 2)
