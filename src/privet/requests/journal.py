"""The file journal: files are deleted only after the database change that orphaned them commits.

``pending`` entries are written before the store transaction; once it commits
they become ``committed`` and the files are deleted (``done``). A crash in
between leaves ``pending`` entries: the next run deletes a file when no row
names it any more (the transaction committed) and drops the entry otherwise.
"""

from __future__ import annotations

from collections.abc import Iterable

import sqlalchemy as sa

from privet.requests.models import FileJournal
from privet.state.db import StateDB, utcnow
from privet.stores import Stores


def add_pending(db: StateDB, certificate: str, refs: Iterable[tuple[str, str, str]]) -> list[int]:
    """Journal (file store, source column, ref) triples; returns the entry ids."""
    ids: list[int] = []
    refs = list(refs)
    if not refs:
        return ids
    with db.session() as s:
        for store, source, ref in refs:
            entry = FileJournal(
                certificate=certificate, store=store, source=source, ref=ref, state="pending", at=utcnow()
            )
            s.add(entry)
            s.flush()
            ids.append(entry.id)
    return ids


def mark_committed(db: StateDB, ids: list[int]) -> None:
    if ids:
        with db.session() as s:
            s.execute(sa.update(FileJournal).where(FileJournal.id.in_(ids)).values(state="committed"))


# Entries a run may have left unfinished (built once: every erasure asks first).
_OPEN = sa.select(
    FileJournal.id, FileJournal.store, FileJournal.source, FileJournal.ref, FileJournal.state
).where(FileJournal.state.in_(("pending", "committed")))


def finish(db: StateDB, stores: Stores) -> int:
    """Delete the files of committed entries, settle pending ones; returns files deleted."""
    deleted = 0
    with db.engine.connect() as conn:  # a plain read: most runs find nothing to finish
        entries = conn.execute(_OPEN).all()
    settled: dict[str, list[int]] = {"done": [], "dropped": []}
    for e in entries:
        files = stores.files.get(e.store)
        if e.state == "pending" and _still_named(stores, e.source, e.ref):
            settled["dropped"].append(e.id)  # the transaction did not commit: the row and its file stay
        else:
            if files is not None and files.delete(e.ref):
                deleted += 1
            settled["done"].append(e.id)
    # A crash before this update only means the next run deletes already-deleted files: harmless.
    if entries:
        with db.session() as s:
            for state, ids in settled.items():
                if ids:
                    s.execute(sa.update(FileJournal).where(FileJournal.id.in_(ids)).values(state=state))
    return deleted


def _still_named(stores: Stores, source: str, ref: str) -> bool:
    store_name, table_name, column = source.split(".", 2)
    store = stores.sql.get(store_name)
    if store is None:
        return False
    table = store.table(table_name)
    with store.read() as conn:
        n = conn.execute(
            sa.select(sa.func.count()).select_from(table).where(table.c[column] == ref)
        ).scalar_one()
    return bool(n)
