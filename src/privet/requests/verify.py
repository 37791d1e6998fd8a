"""After an erasure: search every store for the person's identifiers, outside retained values."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from privet.datamap import DataMap, split_ref
from privet.detection.operators import mentions
from privet.identity import Identity
from privet.requests.execute import _as_text, mention_filter
from privet.requests.matching import equals_identity, value_matches
from privet.stores import Stores


def leftovers(
    dm: DataMap, stores: Stores, identities: set[Identity], limit: int = 50
) -> list[dict[str, Any]]:
    """Locations (table, column, rows) where an identifier of the person is still found."""
    found: list[dict[str, Any]] = []
    for ref, spec in dm.tables.items():
        store_name, table_name = split_ref(ref)
        store = stores.sql.get(store_name)
        if store is None:
            continue
        table = store.table(table_name)
        retained = set(spec.legal_hold.retain) if spec.legal_hold else set()
        with store.read() as conn:
            for col, cspec in spec.columns.items():
                if col in retained or col not in table.c:
                    continue
                kind = cspec.cat.identity
                if kind in ("email", "phone"):
                    values = {i.value for i in identities if i.kind == kind}
                    if not values:
                        continue
                    rows = conn.execute(
                        sa.select(table.c[col])
                        .where(equals_identity(table.c[col], kind, values))
                        .limit(limit)
                    ).all()
                    n = sum(1 for (v,) in rows if value_matches(kind, v, values, dm.default_region))
                elif cspec.cat.free_text:
                    cond = mention_filter(table, col, identities)
                    if cond is None:
                        continue
                    rows = conn.execute(sa.select(_as_text(table.c[col])).where(cond).limit(limit)).all()
                    n = sum(
                        1 for (v,) in rows if v and mentions(str(v), identities, region=dm.default_region)
                    )
                else:
                    continue
                if n:
                    found.append({"table": ref, "column": col, "rows": n})
    return found
