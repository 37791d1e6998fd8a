"""Purge values retained under a legal hold once the hold has expired."""

from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict
from typing import Any

import sqlalchemy as sa

from privet import audit
from privet.datamap import DataMap
from privet.detection.operators import Pseudonymize
from privet.protection import derive_key
from privet.requests.models import HeldRow
from privet.settings import Settings
from privet.state import StateDB, open_state
from privet.state.db import utcnow
from privet.stores import Stores


def purge_expired_holds(
    dm: DataMap,
    settings: Settings,
    *,
    now: dt.datetime,
    state: StateDB | None = None,
    stores: Stores | None = None,
) -> int:
    """Pseudonymize the retained values of held rows whose ``until`` has passed; close the records.

    Returns the number of rows purged. The rows themselves stay (the books still add up);
    only the personal values the document needed are replaced by stable pseudonyms.
    """
    db = state or open_state(settings.resolved_state_url)
    own = stores is None
    stores = stores or Stores(dm)
    key = derive_key(settings.master_key(), "pseudonymize")
    purged = 0
    try:
        with db.session() as s:
            due = list(
                s.execute(
                    sa.select(HeldRow).where(HeldRow.purged_at.is_(None), HeldRow.until < now.date())
                ).scalars()
            )
        groups: dict[tuple[str, str, str], list[HeldRow]] = defaultdict(list)
        for h in due:
            groups[(h.store, h.table_name, h.columns)].append(h)
        for (store_name, table_name, columns_json), rows in groups.items():
            store = stores.sql.get(store_name)
            columns = [c for c in json.loads(columns_json) if store is not None]
            if store is not None and columns:
                table = store.table(table_name)
                pk = next(iter(table.primary_key.columns))
                keys = [_key(pk, h.row_key) for h in rows]
                with store.begin() as conn:
                    current = conn.execute(
                        sa.select(pk, *(table.c[c] for c in columns)).where(pk.in_(keys))
                    ).all()
                    updates: list[dict[str, Any]] = []
                    for r in current:
                        vals = {
                            f"v_{c}": None if v is None else Pseudonymize(key, c).apply(str(v))
                            for c, v in zip(columns, r[1:], strict=True)
                        }
                        updates.append({"k": r[0], **vals})
                    if updates:
                        conn.execute(
                            sa.update(table)
                            .where(pk == sa.bindparam("k"))
                            .values({c: sa.bindparam(f"v_{c}") for c in columns}),
                            updates,
                        )
            with db.session() as s:
                s.execute(
                    sa.update(HeldRow).where(HeldRow.id.in_([h.id for h in rows])).values(purged_at=utcnow())
                )
                audit.record(
                    s, "hold.purged", target=f"{store_name}.{table_name}", details={"rows": len(rows)}
                )
            purged += len(rows)
    finally:
        if own:
            stores.close()
        if state is None:
            db.dispose()
    return purged


def _key(pk: sa.Column[Any], raw: str) -> Any:
    return int(raw) if isinstance(pk.type, sa.Integer) else raw
