"""The hash-chained audit log: intact chains verify, any tampering is named."""

from __future__ import annotations

import sqlalchemy as sa

from privet.audit import AuditEntry, record, verify
from privet.state import open_state


def _filled(url: str, n: int = 5) -> None:
    db = open_state(url)
    for i in range(n):
        with db.session() as s:
            record(
                s, "request.created", actor="tenant:acme", tenant="acme", target=f"req-{i}", details={"n": i}
            )
    db.dispose()


def test_when_nothing_was_changed_then_chain_verifies(state_url: str) -> None:
    _filled(state_url)
    db = open_state(state_url)
    with db.session() as s:
        report = verify(s)
    db.dispose()
    assert report.ok and report.entries == 5


def test_when_an_entry_is_altered_then_verify_names_it(state_url: str) -> None:
    _filled(state_url)
    db = open_state(state_url)
    with db.session() as s:
        s.execute(sa.update(AuditEntry).where(AuditEntry.seq == 3).values(details='{"n":99}'))
    with db.session() as s:
        report = verify(s)
    db.dispose()
    assert not report.ok and report.first_bad == 3 and "altered" in (report.reason or "")


def test_when_an_entry_is_deleted_then_verify_names_the_next_one(state_url: str) -> None:
    _filled(state_url)
    db = open_state(state_url)
    with db.session() as s:
        s.execute(sa.delete(AuditEntry).where(AuditEntry.seq == 2))
    with db.session() as s:
        report = verify(s)
    db.dispose()
    assert not report.ok and report.first_bad == 3 and "link" in (report.reason or "")
