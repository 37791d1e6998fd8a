"""After an erasure: search every store for the person's identifiers, outside retained values."""

from __future__ import annotations

from collections import defaultdict
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
    """Locations (table, column, rows) where an identifier of the person is still found: one
    statement per store (a UNION ALL of every searched column, at most ``limit`` rows each),
    the candidates then checked exactly in Python."""
    searches: dict[str, list[tuple[str, str, str | None, sa.Select[Any]]]] = defaultdict(list)
    for ref, spec in dm.tables.items():
        store_name, table_name = split_ref(ref)
        store = stores.sql.get(store_name)
        if store is None:
            continue
        table = store.table(table_name)
        retained = set(spec.legal_hold.retain) if spec.legal_hold else set()
        for col, cspec in spec.columns.items():
            if col in retained or col not in table.c:
                continue
            kind = cspec.cat.identity
            cond: sa.ColumnElement[bool] | None
            if kind in ("email", "phone"):
                values = {i.value for i in identities if i.kind == kind}
                cond = equals_identity(table.c[col], kind, values, store.dialect) if values else None
            elif cspec.cat.free_text:
                kind, cond = None, mention_filter(table, col, identities)
            else:
                continue
            if cond is not None:
                n = len(searches[store_name])
                piece = sa.select(sa.literal(n).label("q"), _as_text(table.c[col]).label("v")).where(cond)
                searches[store_name].append((ref, col, kind, piece.limit(limit)))
    found: list[dict[str, Any]] = []
    for store_name, pieces in searches.items():
        # Each part keeps its own LIMIT inside a subquery (portable to SQLite, PostgreSQL, MariaDB).
        parts = [sa.select(p.subquery(f"s{i}")) for i, (_r, _c, _k, p) in enumerate(pieces)]
        union = parts[0] if len(parts) == 1 else sa.union_all(*parts)
        counts: dict[int, int] = defaultdict(int)
        with stores.sql[store_name].read() as conn:
            for q, value in conn.execute(union):
                ref, col, kind, _p = pieces[q]
                if value is None:
                    continue
                if kind is not None:
                    hit = value_matches(
                        kind, value, {i.value for i in identities if i.kind == kind}, dm.default_region
                    )
                else:
                    hit = bool(mentions(str(value), identities, region=dm.default_region))
                counts[q] += hit
        for q, (ref, col, _k, _p) in enumerate(pieces):
            if counts[q]:
                found.append({"table": ref, "column": col, "rows": counts[q]})
    return found
