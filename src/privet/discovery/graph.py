"""Who each table is about: person tables (subject roots), foreign-key paths, tenants, legal holds."""

from __future__ import annotations

import re
from collections import deque
from dataclasses import dataclass

from privet.datamap import categories
from privet.discovery.classify import ColumnVerdict
from privet.stores.schema import TableInfo

_ACCOUNTING = re.compile(
    r"(invoice|rechnung|facture|factura|fattura|factuur|credit_?note|gutschrift|avoir|payment|zahlung|paiement"
    r"|pago|pagamento|betaling|order|bestellung|commande|pedido|ordine|bestelling|receipt|beleg|quittung)",
    re.I,
)
_TENANT = re.compile(
    r"^(tenant|tenant_?id|org|org_?id|organi[sz]ation_?id|workspace_?id|account_?id|mandant|mandant_?id"
    r"|company_?id|client_?account_?id|team_?id)$",
    re.I,
)
_DATE_COLS = (
    "issued_on",
    "issue_date",
    "invoice_date",
    "date",
    "rechnungsdatum",
    "date_facture",
    "fecha",
    "data",
    "created_at",
    "ordered_at",
    "paid_at",
    "booked_at",
)


@dataclass
class TableFacts:
    info: TableInfo
    verdicts: dict[str, ColumnVerdict]

    def personal(self) -> dict[str, ColumnVerdict]:
        return {k: v for k, v in self.verdicts.items() if v.category is not None and v.confidence >= 0.5}

    def with_identity(self, kind: str) -> list[str]:
        return [
            c for c, v in self.personal().items() if categories.CATEGORIES[v.category or ""].identity == kind
        ]


def is_accounting(name: str) -> bool:
    return bool(_ACCOUNTING.search(name))


def tenant_column(info: TableInfo) -> str | None:
    for c in info.columns:
        if _TENANT.match(c.name):
            return c.name
    return None


def hold_date_column(info: TableInfo) -> str | None:
    names = [c.name for c in info.columns if c.is_temporal]
    for pref in _DATE_COLS:
        if pref in names:
            return pref
    return names[0] if names else None


def find_roots(tables: dict[str, TableFacts]) -> list[str]:
    """Person tables: an email or phone identity, a name or inbound references, not a record of an event."""
    inbound: dict[str, int] = {t: 0 for t in tables}
    for facts in tables.values():
        for fk in facts.info.foreign_keys:
            if fk.ref_table in inbound:
                inbound[fk.ref_table] += 1
    roots = []
    for name, facts in tables.items():
        if is_accounting(name):
            continue
        has_identity = bool(facts.with_identity("email") or facts.with_identity("phone"))
        has_name = any((v.category or "").startswith("user.name") for v in facts.personal().values())
        if has_identity and (has_name or inbound[name] > 0):
            roots.append(name)
    # The main person kind first: the one most other tables point at.
    return sorted(roots, key=lambda r: (-inbound[r], r))


def subject_name(table: str, taken: set[str]) -> str:
    base = table.lower()
    for suffix, repl in (("ies", "y"), ("ses", "s"), ("s", "")):
        if base.endswith(suffix) and len(base) > len(suffix) + 2:
            base = base[: -len(suffix)] + repl
            break
    name, i = base, 2
    while name in taken:
        name, i = f"{base}{i}", i + 1
    return name


Path = list[tuple[str, str]]  # [(column in the current table, next table), …]


def paths_to(table: str, root: str, tables: dict[str, TableFacts], max_hops: int = 4) -> list[Path]:
    """All shortest foreign-key paths from ``table`` to ``root`` (several when a row is shared)."""
    direct = [
        [(fk.columns[0], root)]
        for fk in tables[table].info.foreign_keys
        if fk.ref_table == root and len(fk.columns) == 1
    ]
    if direct:
        return direct
    queue: deque[tuple[str, Path]] = deque([(table, [])])
    seen = {table}
    found: list[Path] = []
    while queue:
        current, path = queue.popleft()
        if found and len(path) >= len(found[0]):
            break
        if len(path) >= max_hops:
            continue
        for fk in tables[current].info.foreign_keys:
            if len(fk.columns) != 1 or fk.ref_table not in tables or _TENANT.match(fk.columns[0]):
                continue
            step = [*path, (fk.columns[0], fk.ref_table)]
            if fk.ref_table == root:
                found.append(step)
            elif fk.ref_table not in seen and not _is_root_like(fk.ref_table, tables):
                seen.add(fk.ref_table)
                queue.append((fk.ref_table, step))
    return found[:1]


TENANT_TABLES = frozenset(
    (
        "tenants",
        "tenant",
        "organizations",
        "organisations",
        "orgs",
        "accounts",
        "workspaces",
        "mandanten",
        "teams",
    )
)


def _is_root_like(name: str, tables: dict[str, TableFacts]) -> bool:
    """Tenant tables are no way to a person: every row of the tenant would follow."""
    return name.lower() in TENANT_TABLES


def render_path(path: Path, store: str) -> str:
    """Hops as the map writes them.

    ``[(project_id, projects), (client_id, users)]`` -> ``project_id -> app.projects.client_id -> app.users``.

    (The first column is in the table itself; each later one in the table before it.)
    """
    out = path[0][0]
    for i, (_col, table) in enumerate(path):
        nxt = path[i + 1][0] if i + 1 < len(path) else None
        out += f" -> {store}.{table}" + (f".{nxt}" if nxt else "")
    return out
