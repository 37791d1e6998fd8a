"""Add to and look up the suppression list.

Only a keyed hash of the normalized identity is stored: enough to recognise the
person if they turn up again in an import, useless to anyone without the key.
"""

from __future__ import annotations

import hashlib
import hmac

import sqlalchemy as sa
from sqlalchemy.orm import Session

from privet.identity import Identity
from privet.protection.models import SuppressionEntry
from privet.state.db import utcnow


def digest(identity: Identity, key: bytes) -> str:
    """The keyed hash of a normalized identity (``kind:value``)."""
    msg = f"{identity.kind}:{identity.value}".encode()
    return hmac.new(key, msg, hashlib.sha256).hexdigest()


def add(session: Session, identity: Identity, key: bytes, reason: str = "erasure") -> bool:
    """Suppress an email address or phone number; False when it was already on the list (adding
    twice is harmless) or is of another kind."""
    return add_many(session, [identity], key, reason) == 1


_KNOWN = sa.select(SuppressionEntry.digest).where(
    SuppressionEntry.digest.in_(sa.bindparam("digests", expanding=True))
)
_INSERT = sa.insert(SuppressionEntry)


# The identities a suppression entry is kept for: the ones marketing reaches people by.
KINDS = ("email", "phone")


def add_many(session: Session, identities: list[Identity], key: bytes, reason: str = "erasure") -> int:
    """Suppress the email addresses and phone numbers among several identities (others are
    skipped) with one lookup and one insert; returns how many were new."""
    entries = {digest(i, key): i.kind for i in identities if i.kind in KINDS}
    if not entries:
        return 0
    conn = session.connection()  # plain statements: no ORM bookkeeping
    known = set(conn.execute(_KNOWN, {"digests": list(entries)}).scalars())
    now = utcnow()
    new = [
        {"digest": d, "kind": k, "reason": reason, "at": now} for d, k in entries.items() if d not in known
    ]
    if new:
        conn.execute(_INSERT, new)
    return len(new)


def contains(session: Session, identity: Identity, key: bytes) -> bool:
    return session.get(SuppressionEntry, digest(identity, key)) is not None


def all_digests(session: Session) -> set[str]:
    """Every digest on the list (for a process-local cache of fast checks)."""
    return set(session.execute(sa.select(SuppressionEntry.digest)).scalars())
