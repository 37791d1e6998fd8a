"""An append-only, hash-chained audit log in Privet's state.

Each entry's hash covers its content and the previous entry's hash, so any
change, deletion or reordering breaks the chain from that entry on.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from privet.audit.models import AuditEntry
from privet.state.db import utcnow

GENESIS = "0" * 64


def _digest(
    prev: str, at: dt.datetime, actor: str, action: str, tenant: str | None, target: str | None, details: str
) -> str:
    at_utc = at if at.tzinfo else at.replace(tzinfo=dt.UTC)
    body = json.dumps(
        [
            prev,
            at_utc.astimezone(dt.UTC).isoformat(timespec="microseconds"),
            actor,
            action,
            tenant,
            target,
            details,
        ],
        separators=(",", ":"),
        ensure_ascii=False,
    )
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


# Built once: the statements every entry runs.
_LAST = sa.select(AuditEntry.hash).order_by(AuditEntry.seq.desc()).limit(1)
_LAST_LOCKED = _LAST.with_for_update()
_INSERT = sa.insert(AuditEntry)


def record(
    session: Session,
    action: str,
    *,
    actor: str = "system",
    tenant: str | None = None,
    target: str | None = None,
    details: dict[str, Any] | None = None,
) -> None:
    """Append one entry in the caller's transaction (it commits with the change it records)."""
    # Plain statements on the session's connection: the entry is written, never loaded back.
    conn = session.connection()
    dialect = conn.dialect.name
    if dialect == "postgresql":
        conn.execute(sa.text("SELECT pg_advisory_xact_lock(727274)"))
    last_stmt = _LAST_LOCKED if dialect in ("mysql", "mariadb") else _LAST
    prev = conn.execute(last_stmt).scalar() or GENESIS
    at = utcnow().replace(microsecond=0)  # every backend keeps whole seconds
    text = json.dumps(details or {}, sort_keys=True, separators=(",", ":"), default=str)
    conn.execute(
        _INSERT,
        {
            "at": at,
            "actor": actor,
            "action": action,
            "tenant": tenant,
            "target": target,
            "details": text,
            "prev_hash": prev,
            "hash": _digest(prev, at, actor, action, tenant, target, text),
        },
    )


@dataclass(frozen=True, slots=True)
class ChainReport:
    ok: bool
    entries: int
    first_bad: int | None = None
    reason: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "entries": self.entries, "first_bad": self.first_bad, "reason": self.reason}


def verify(session: Session, batch: int = 5000) -> ChainReport:
    """Walk the chain in order; report the first entry whose link or content was altered."""
    prev = GENESIS
    count = 0
    last_seq = 0
    while True:
        # Keyset pages rather than one open cursor: an early return leaves nothing open.
        page = (
            session.execute(
                sa.select(AuditEntry).where(AuditEntry.seq > last_seq).order_by(AuditEntry.seq).limit(batch)
            )
            .scalars()
            .all()
        )
        if not page:
            break
        for entry in page:
            count += 1
            if entry.prev_hash != prev:
                return ChainReport(
                    False,
                    count,
                    entry.seq,
                    "its link to the previous entry is broken (an entry was removed, inserted or reordered)",
                )
            expect = _digest(
                prev, entry.at, entry.actor, entry.action, entry.tenant, entry.target, entry.details
            )
            if entry.hash != expect:
                return ChainReport(False, count, entry.seq, "its content does not match its hash (altered)")
            prev = entry.hash
            last_seq = entry.seq
    return ChainReport(True, count)


def entries_for(session: Session, target: str) -> list[AuditEntry]:
    return list(
        session.execute(
            sa.select(AuditEntry).where(AuditEntry.target == target).order_by(AuditEntry.seq)
        ).scalars()
    )
