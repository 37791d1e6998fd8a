"""Retention sweeps: set-based SQL in short batches keyed by primary key, resumable, idempotent.

Each batch is one short transaction over a primary-key range; its size adapts
so a batch (and so any lock) stays well under half a second. The last finished
key is checkpointed in Privet's state, so a sweep that crashed resumes there.
Files are deleted through the request file journal: database first, then files.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy import exc as sa_exc

from privet import audit
from privet.datamap import DataMap, RetentionRule, split_ref
from privet.errors import BadInput
from privet.requests import journal
from privet.retention.actions import Action, build_action
from privet.retention.models import RetentionCheckpoint, RetentionOverride, RetentionRun
from privet.settings import Settings
from privet.state import StateDB, open_state
from privet.state.db import utcnow
from privet.stores import SqlStore, Stores

TARGET_BATCH_SECONDS = 0.25  # well under the 0.5 s a lock may last
BatchHook = Callable[[str, int, int], None]
ScopeHook = Callable[[str, str, int], None]


@dataclass
class RuleReport:
    table: str
    actions: list[str]
    scope: str
    cutoff: str
    rows: int = 0
    files: int = 0
    batches: int = 0
    longest_batch_s: float = 0.0
    indexes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "table": self.table,
            "indexes_rewritten": self.indexes,
            "actions": self.actions,
            "scope": self.scope,
            "cutoff": self.cutoff,
            "rows": self.rows,
            "files": self.files,
            "batches": self.batches,
            "longest_batch_s": round(self.longest_batch_s, 4),
        }


@dataclass
class RetentionReport:
    now: str
    dry_run: bool
    rules: list[RuleReport] = field(default_factory=list)
    holds_purged: int = 0
    advice: list[str] = field(default_factory=list)
    vacuum: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "now": self.now,
            "dry_run": self.dry_run,
            "rules": [r.to_dict() for r in self.rules],
            "rows": sum(r.rows for r in self.rules),
            "files": sum(r.files for r in self.rules),
            "holds_purged": self.holds_purged,
            "advice": self.advice,
            "vacuum": self.vacuum,
        }


def _actions(dm: DataMap, rule: RetentionRule, table: sa.Table) -> list[Action]:
    spec = dm.tables.get(rule.table)
    if rule.actions == "delete_row":
        return [build_action(None, "delete_row", None)]
    out = []
    for col, name in rule.actions.items():
        kind = None
        if name == "generalize":
            cat = spec.columns[col].cat if spec and col in spec.columns else None
            if cat is not None and cat.generalize:
                kind = cat.generalize
            elif col in table.c and isinstance(table.c[col].type, sa.Date | sa.DateTime):
                kind = "date"
            else:
                kind = "ip" if "ip" in col.lower() else "location"
        action = build_action(col, name, kind)
        action.validate(table)
        out.append(action)
    return out


def rewritten_indexes(table: sa.Table, actions: list[Action]) -> list[str]:
    """The indexes a rule writes to (every one when it deletes rows): each changed row costs a
    new entry in each, which is most of a sweep's price and grows them until VACUUM."""
    if any(a.deletes_row for a in actions):
        cols = {c.name for c in table.columns}
    else:
        cols = {a.column for a in actions if a.column}
    out = []
    for ix in sorted(table.indexes, key=lambda i: str(i.name)):
        names = [c.name for c in ix.columns]
        if cols & set(names):
            out.append(f"{ix.name} ({', '.join(names)})")
    if any(a.deletes_row for a in actions) and table.primary_key.columns:
        out.insert(0, f"primary key ({', '.join(c.name for c in table.primary_key.columns)})")
    return out


def _scopes(
    db: StateDB, dm: DataMap, rule: RetentionRule, table: sa.Table, now: dt.datetime
) -> list[tuple[str, sa.ColumnElement[bool] | None, dt.datetime]]:
    """(label, tenant condition, cutoff): the map's period, and each tenant's own where one is set."""
    spec = dm.tables.get(rule.table)
    tcol = spec.tenant_column if spec else None
    with db.session() as s:
        overrides = {
            o.tenant: o.after_days
            for o in s.execute(
                sa.select(RetentionOverride).where(RetentionOverride.table_ref == rule.table)
            ).scalars()
        }
    default_cut = now - dt.timedelta(days=rule.after_days)
    if not overrides or tcol is None or tcol not in table.c:
        return [("all", None, default_cut)]
    col = sa.cast(table.c[tcol], sa.String(200))
    scopes: list[tuple[str, sa.ColumnElement[bool] | None, dt.datetime]] = [
        ("default", col.not_in(sorted(overrides)), default_cut)
    ]
    for tenant, days in sorted(overrides.items()):
        scopes.append((f"tenant {tenant}", col == tenant, now - dt.timedelta(days=days)))
    return scopes


def _file_stores(dm: DataMap, rule: RetentionRule) -> dict[str, str]:
    spec = dm.tables.get(rule.table)
    out = {}
    if spec:
        for col, cs in spec.columns.items():
            if cs.file_store:
                out[col] = cs.file_store
    return out


def run_retention(
    dm: DataMap,
    settings: Settings,
    *,
    now: dt.datetime | None = None,
    dry_run: bool = False,
    on_batch: BatchHook | None = None,
    on_scope: ScopeHook | None = None,
    state: StateDB | None = None,
    stores: Stores | None = None,
    batch_size: int | None = None,
) -> RetentionReport:
    """Apply every retention rule of the map (``dry_run``: count only). ``on_batch`` is called after
    each committed batch with (rule, batch number, rows): a hook for progress bars and fault tests;
    ``on_scope`` before each sweep with (rule, scope, rows it will touch) and costs one count."""
    now = now or dt.datetime.now(dt.UTC)
    if now.tzinfo is not None:
        now = now.astimezone(dt.UTC).replace(tzinfo=None)  # the stores' timestamps are naive UTC
    report = RetentionReport(now=now.isoformat(timespec="seconds"), dry_run=dry_run)
    db = state or open_state(settings.resolved_state_url)
    own = stores is None
    stores = stores or Stores(dm)
    try:
        if not dry_run:
            journal.finish(db, stores)
        for rule in dm.retention:
            store_name, table_name = split_ref(rule.table)
            store = stores.sql.get(store_name)
            if store is None:
                raise BadInput(f"retention rule for {rule.table}: '{store_name}' is not a database store")
            table = store.table(table_name)
            if rule.age_column not in table.c:
                raise BadInput(
                    f"retention rule for {rule.table}: no column '{rule.age_column}'",
                    value=rule.age_column,
                    hint="fix age_column in the map",
                )
            actions = _actions(dm, rule, table)
            for scope, cond, cutoff in _scopes(db, dm, rule, table, now):
                r = RuleReport(
                    rule.table,
                    [a.name for a in actions],
                    scope,
                    cutoff.isoformat(timespec="seconds"),
                    indexes=rewritten_indexes(table, actions),
                )
                _sweep(
                    db,
                    dm,
                    store,
                    stores,
                    table,
                    rule,
                    actions,
                    cond,
                    cutoff,
                    r,
                    dry_run,
                    on_batch,
                    on_scope,
                    batch_size,
                )
                report.rules.append(r)
                if r.rows and r.indexes:
                    report.advice.append(
                        f"{rule.table} [{scope}]: {r.rows} rows {'would rewrite' if dry_run else 'rewrote'} "
                        f"indexes {'; '.join(r.indexes)}; an index on a column a rule anonymizes or "
                        "clears only grows with each sweep, drop it if the app does not search by it"
                    )
            swept = sum(r.rows for r in report.rules if r.table == rule.table and not dry_run)
            if swept >= settings.retention_vacuum_rows and store.dialect == "postgresql":
                # A large sweep leaves dead row versions and stale statistics: VACUUM (ANALYZE)
                # now (it takes no lock that blocks the app's reads or writes).
                started = time.perf_counter()
                quoted = store.engine.dialect.identifier_preparer.quote(table_name)
                with store.engine.connect() as conn:
                    conn.execution_options(isolation_level="AUTOCOMMIT").execute(
                        sa.text(f"VACUUM (ANALYZE) {quoted}")
                    )
                report.vacuum.append(
                    {"table": rule.table, "rows": swept, "seconds": round(time.perf_counter() - started, 2)}
                )
        if not dry_run:
            from privet.requests.holds import purge_expired_holds

            report.holds_purged = purge_expired_holds(dm, settings, now=now, state=db, stores=stores)
            with db.session() as s:
                s.add(RetentionRun(at=utcnow(), now=now, dry_run=False, report=json.dumps(report.to_dict())))
                audit.record(
                    s,
                    "retention.run",
                    details={
                        "rows": sum(r.rows for r in report.rules),
                        "files": sum(r.files for r in report.rules),
                        "holds_purged": report.holds_purged,
                    },
                )
    finally:
        if own:
            stores.close()
        if state is None:
            db.dispose()
    return report


def _sweep(
    db: StateDB,
    dm: DataMap,
    store: SqlStore,
    stores: Stores,
    table: sa.Table,
    rule: RetentionRule,
    actions: list[Action],
    cond: sa.ColumnElement[bool] | None,
    cutoff: dt.datetime,
    r: RuleReport,
    dry_run: bool,
    on_batch: BatchHook | None,
    on_scope: ScopeHook | None,
    batch_size: int | None,
) -> None:
    pk_cols = list(table.primary_key.columns)
    if len(pk_cols) != 1:
        raise BadInput(f"retention needs a single-column primary key on {rule.table}", value=rule.table)
    pk = pk_cols[0]
    where = [table.c[rule.age_column] < cutoff]
    if cond is not None:
        where.append(cond)
    pend = [p for p in (a.pending(table) for a in actions) if p is not None]
    if pend and not any(a.deletes_row for a in actions):
        where.append(sa.or_(*pend))
    files = _file_stores(dm, rule)
    file_cols = [a.column for a in actions if a.deletes_file and a.column] or (
        list(files) if any(a.deletes_row for a in actions) else []
    )
    with store.connect() as conn:
        if dry_run:
            r.rows = conn.execute(sa.select(sa.func.count()).select_from(table).where(*where)).scalar_one()
            for c in file_cols:
                r.files += conn.execute(
                    sa.select(sa.func.count()).select_from(table).where(*where, table.c[c].is_not(None))
                ).scalar_one()
            return
    if on_scope is not None:
        with store.connect() as conn:
            todo = conn.execute(sa.select(sa.func.count()).select_from(table).where(*where)).scalar_one()
        on_scope(rule.table, r.scope, int(todo))
    key = f"{rule.table}|{r.scope}|{','.join(r.actions)}"
    last = _checkpoint(db, key, r.cutoff)
    size = batch_size or (50_000 if store.dialect == "sqlite" else 5_000)
    while True:
        # The batch's upper key, found in the database (no keys travel to Python).
        after = [pk > last] if last is not None else []
        with store.connect() as conn:
            hi = conn.execute(
                sa.select(pk).where(*where, *after).order_by(pk).offset(size - 1).limit(1)
            ).scalar()
            if hi is None:
                hi = conn.execute(sa.select(sa.func.max(pk)).where(*where, *after)).scalar()
        if hi is None:
            break
        lo = last
        rng = [pk <= hi, *where] + ([pk > lo] if lo is not None else [])
        started = time.perf_counter()
        with store.begin() as conn:
            refs = []
            for c in file_cols:
                for (ref,) in conn.execute(sa.select(table.c[c]).where(*rng, table.c[c].is_not(None))):
                    refs.append((files.get(c, ""), f"{rule.table}.{c}", str(ref)))
            entry_ids = journal.add_pending(db, f"retention:{rule.table}", refs) if refs else []
            changed = _apply(conn, table, pk, actions, rng, store.dialect)
        if entry_ids:
            journal.mark_committed(db, entry_ids)
        elapsed = time.perf_counter() - started
        r.rows += changed
        r.batches += 1
        r.longest_batch_s = max(r.longest_batch_s, elapsed)
        last = hi
        _save_checkpoint(db, key, r.cutoff, hi)
        if entry_ids:
            r.files += journal.finish(db, stores)
        if on_batch is not None:
            on_batch(rule.table, r.batches, changed)
        if batch_size is None:
            # Keep each batch short: grow while fast, shrink when slow.
            if elapsed < TARGET_BATCH_SECONDS / 2:
                size = min(size * 2, 200_000)
            elif elapsed > TARGET_BATCH_SECONDS * 1.5:
                size = max(size // 2, 500)
    _clear_checkpoint(db, key)


def _apply(
    conn: sa.Connection,
    table: sa.Table,
    pk: sa.Column[Any],
    actions: list[Action],
    rng: list[sa.ColumnElement[bool]],
    dialect: str,
) -> int:
    if any(a.deletes_row for a in actions):
        return int(conn.execute(sa.delete(table).where(*rng)).rowcount or 0)
    changed = 0
    python = [a for a in actions if a.column and a.in_python]
    for a in python:
        assert a.column is not None
        extra = a.python_filter(table, dialect)
        rows = conn.execute(
            sa.select(pk, table.c[a.column]).where(*rng, *([extra] if extra is not None else []))
        ).all()
        updates = [{"k": k, "v": a.transform(v)} for k, v in rows]
        updates = [u for u, (_k, v) in zip(updates, rows, strict=True) if u["v"] != v]
        if updates:
            conn.execute(
                sa.update(table).where(pk == sa.bindparam("k")).values({a.column: sa.bindparam("v")}), updates
            )
        changed = max(changed, len(updates))
    # One UPDATE for every set-based action: each column changes only where its action is
    # still pending, so a second run changes nothing and each row is written once per batch.
    fast = _set_based(table, actions, rng, dialect, strict=False)
    if fast is None:
        return changed
    strict = _set_based(table, actions, rng, dialect, strict=True)
    assert strict is not None
    if str(fast) == str(strict):
        return max(changed, int(conn.execute(strict).rowcount or 0))
    try:
        with conn.begin_nested():
            n = int(conn.execute(fast).rowcount or 0)
    except sa_exc.DataError:
        # A malformed value made the fast form fail: this batch again, validating every value.
        n = int(conn.execute(strict).rowcount or 0)
    return max(changed, n)


def _set_based(
    table: sa.Table, actions: list[Action], rng: list[sa.ColumnElement[bool]], dialect: str, *, strict: bool
) -> sa.Update | None:
    values: dict[str, Any] = {}
    pendings = []
    for a in actions:
        value = a.sql(table, dialect, strict=strict) if a.column else None
        if value is None or a.column is None:
            continue
        pending = a.sql_pending(table, dialect)
        if pending is None or a.unconditional:
            values[a.column] = value
        else:
            values[a.column] = sa.case((pending, value), else_=table.c[a.column])
        pendings.append(pending if pending is not None else sa.true())
    if not values:
        return None
    return sa.update(table).where(*rng, sa.or_(*pendings)).values(values)


def _checkpoint(db: StateDB, key: str, cutoff: str) -> Any:
    with db.session() as s:
        cp = s.get(RetentionCheckpoint, key)
        if cp is None or cp.cutoff != cutoff:
            return None
        return int(cp.last_key) if cp.last_key.lstrip("-").isdigit() else cp.last_key


def _save_checkpoint(db: StateDB, key: str, cutoff: str, last: Any) -> None:
    with db.session() as s:
        cp = s.get(RetentionCheckpoint, key)
        if cp is None:
            s.add(RetentionCheckpoint(rule=key, cutoff=cutoff, last_key=str(last)))
        else:
            cp.cutoff, cp.last_key = cutoff, str(last)


def _clear_checkpoint(db: StateDB, key: str) -> None:
    with db.session() as s:
        s.execute(sa.delete(RetentionCheckpoint).where(RetentionCheckpoint.rule == key))


def retention_due(db: StateDB, now: dt.datetime | None = None) -> bool:
    """True when no retention run finished in the last 23 hours (the daily schedule's test)."""
    with db.session() as s:
        last = s.execute(
            sa.select(sa.func.max(RetentionRun.at)).where(RetentionRun.dry_run.is_(False))
        ).scalar()
    if last is None:
        return True
    when = now or utcnow()
    if last.tzinfo is None:
        last = last.replace(tzinfo=dt.UTC)
    return when - last >= dt.timedelta(hours=23)


def set_override(settings: Settings, tenant: str, table_ref: str, after: str, dm: DataMap) -> dict[str, Any]:
    """A controller's own period for a table (must be one the map has a rule for)."""
    from privet.datamap.model import parse_duration_days

    if not any(r.table == table_ref for r in dm.retention):
        raise BadInput(
            f"the map has no retention rule for {table_ref}",
            value=table_ref,
            hint=f"rules exist for: {', '.join(r.table for r in dm.retention) or 'none'}",
        )
    try:
        days = parse_duration_days(after)
    except ValueError as exc:
        raise BadInput(str(exc), value=after) from exc
    db = open_state(settings.resolved_state_url)
    with db.session() as s:
        row = s.get(RetentionOverride, (tenant, table_ref))
        if row is None:
            s.add(RetentionOverride(tenant=tenant, table_ref=table_ref, after_days=days, at=utcnow()))
        else:
            row.after_days, row.at = days, utcnow()
        audit.record(s, "retention.override", tenant=tenant, target=table_ref, details={"after_days": days})
    db.dispose()
    return {"tenant": tenant, "table": table_ref, "after_days": days}
