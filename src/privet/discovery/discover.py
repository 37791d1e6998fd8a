"""Discovery: inspect live databases and draft the data map."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import phonenumbers

from privet.datamap import categories
from privet.datamap.model import ColumnSpec, DataMap, LegalHold, StoreSpec, SubjectSpec, TableSpec
from privet.discovery.classify import ColumnVerdict, classify_column
from privet.discovery.graph import (
    TENANT_TABLES,
    TableFacts,
    find_roots,
    hold_date_column,
    is_accounting,
    paths_to,
    render_path,
    subject_name,
    tenant_column,
)
from privet.identity import try_normalize_phone
from privet.legal import hold_years
from privet.stores.sql import SqlStore

# Personal columns an accounting document needs, kept unaltered under the hold.
_DOCUMENT_NEEDS = (
    "user.name",
    "user.name.first",
    "user.name.last",
    "user.contact.address",
    "user.contact.address.street",
    "user.contact.address.city",
    "user.contact.address.postal_code",
    "user.government_id.tax_id",
)


@dataclass
class Discovery:
    datamap: DataMap
    columns: list[dict[str, Any]] = field(default_factory=list)
    tables: list[dict[str, Any]] = field(default_factory=list)
    seconds: float = 0.0
    warnings: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"columns": self.columns, "tables": self.tables, "warnings": self.warnings}


def store_names(urls: list[str]) -> dict[str, str]:
    return {("app" if i == 0 else f"app{i + 1}"): u for i, u in enumerate(urls)}


def discover(
    urls: list[str] | dict[str, str],
    *,
    sample: int = 200,
    files_root: str = "./files",
    region: str | None = None,
    on_table: Callable[[str], None] | None = None,
) -> Discovery:
    """Classify every column of every store and infer subjects, paths, links, tenants and holds."""
    started = time.perf_counter()
    named = store_names(urls) if isinstance(urls, list) else dict(urls)
    facts_by_store: dict[str, dict[str, TableFacts]] = {}
    stores = {name: SqlStore(name, url) for name, url in named.items()}
    phone_samples: list[str] = []
    try:
        for name, store in stores.items():
            schema = store.introspect()
            facts: dict[str, TableFacts] = {}
            for tname, info in schema.tables.items():
                keys = set(info.primary_key) | {c for fk in info.foreign_keys for c in fk.columns}
                verdicts: dict[str, ColumnVerdict] = {}
                for col in info.columns:
                    if col.name in keys or col.name == tenant_column(info):
                        continue
                    samples = store.sample(tname, col.name, sample) if col.is_text else []
                    verdict = classify_column(col, samples, region=region or "DE")
                    verdicts[col.name] = verdict
                    if verdict.value_entity == "phone":
                        phone_samples.extend(str(v) for v in samples[:50])
                facts[tname] = TableFacts(info, verdicts)
                if on_table:
                    on_table(f"{name}.{tname}")
            facts_by_store[name] = facts
        guessed = region or _guess_region(phone_samples)
        result = _build_map(named, facts_by_store, stores, guessed, files_root)
    finally:
        for s in stores.values():
            s.dispose()
    result.seconds = round(time.perf_counter() - started, 3)
    return result


def _guess_region(samples: list[str]) -> str:
    regions: Counter[str] = Counter()
    for s in samples:
        if s.strip().startswith(("+", "00")):
            try:
                num = phonenumbers.parse(s, None)
            except phonenumbers.NumberParseException:
                continue
            r = phonenumbers.region_code_for_number(num)
            if r:
                regions[r] += 1
    return regions.most_common(1)[0][0] if regions else "DE"


def _build_map(
    urls: dict[str, str],
    facts_by_store: dict[str, dict[str, TableFacts]],
    stores: dict[str, SqlStore],
    region: str,
    files_root: str,
) -> Discovery:
    dm = DataMap(default_region=region, stores={n: StoreSpec(url=u) for n, u in urls.items()})
    out = Discovery(dm)
    needs_files = False
    for store_name, facts in facts_by_store.items():
        roots = find_roots(facts)
        root_subject: dict[str, str] = {}
        for root in roots:
            sname = subject_name(root, set(dm.subjects))
            root_subject[root] = sname
            ids: dict[str, str] = {}
            for kind in ("email", "phone"):
                cols = facts[root].with_identity(kind)
                if cols:
                    ids[kind] = cols[0]
            if facts[root].info.primary_key:
                ids["id"] = facts[root].info.primary_key[0]
            dm.subjects[sname] = SubjectSpec(root=f"{store_name}.{root}", identities=ids)
        held: set[str] = set()
        for tname in sorted(facts):
            f = facts[tname]
            spec = TableSpec(tenant_column=tenant_column(f.info))
            subject_path = None
            if tname in root_subject:
                spec.subject = root_subject[tname]
                subject_path = "(root)"
            else:
                for root in roots:
                    paths = paths_to(tname, root, facts)
                    if paths:
                        spec.subject = root_subject[root]
                        rendered = [render_path(p, store_name) for p in paths]
                        spec.path = rendered[0] if len(rendered) == 1 else rendered
                        subject_path = rendered[0] if len(rendered) == 1 else " | ".join(rendered)
                        if any(hop[1] in held or is_accounting(hop[1]) for p in paths for hop in p[:-1]):
                            held.add(tname)
                        break
                if spec.subject is None:
                    match = _value_links(f, facts, roots, stores[store_name], region)
                    if match is not None:
                        root, links, evidence = match
                        spec.subject = root_subject[root]
                        spec.match = links
                        subject_path = "match: " + ", ".join(f"{c} = {k}" for c, k in links.items())
                        for c in links:
                            f.verdicts[c].evidence.append(evidence[c])
            personal = f.personal()
            if tname.lower() in TENANT_TABLES and not (f.with_identity("email") or f.with_identity("phone")):
                personal = {}  # a tenant's name is a company's name, not a person's
            for col, v in sorted(personal.items()):
                cat = categories.CATEGORIES[v.category or ""]
                cspec = ColumnSpec(category=cat.name, confidence=round(v.confidence, 2), evidence=v.evidence)
                if cat.file or v.looks_like_files:
                    cspec.file_store, cspec.on_erase = "files", "delete_file"
                    needs_files = True
                spec.columns[col] = cspec
                out.columns.append(
                    {
                        "store": store_name,
                        "table": tname,
                        "column": col,
                        "category": cat.name,
                        "confidence": cspec.confidence,
                        "evidence": v.evidence,
                    }
                )
            if spec.subject and (is_accounting(tname) or tname in held):
                date_col = hold_date_column(f.info)
                spec.legal_hold = LegalHold(
                    basis="accounting",
                    years=hold_years(region),
                    from_=date_col,
                    retain=sorted(c for c, v in personal.items() if v.category in _DOCUMENT_NEEDS),
                    country=region,
                )
            if spec.subject is None and not personal:
                continue
            dm.tables[f"{store_name}.{tname}"] = spec
            out.tables.append(
                {
                    "store": store_name,
                    "table": tname,
                    "subject_path": subject_path,
                    "tenant_column": spec.tenant_column,
                    "legal_hold": spec.legal_hold.model_dump(by_alias=True, exclude_none=True)
                    if spec.legal_hold
                    else None,
                }
            )
            if spec.subject is None:
                out.warnings.append(
                    f"{store_name}.{tname} holds personal data but no path to a person was found"
                )
    if needs_files:
        dm.stores["files"] = StoreSpec(files=files_root)
    return out


def _value_links(
    f: TableFacts, facts: dict[str, TableFacts], roots: list[str], store: SqlStore, region: str
) -> tuple[str, dict[str, str], dict[str, str]] | None:
    """Columns whose values are identities of a person table (compared after normalization)."""
    for root in roots:
        links: dict[str, str] = {}
        evidence: dict[str, str] = {}
        for kind in ("email", "phone"):
            root_cols = facts[root].with_identity(kind)
            if not root_cols:
                continue
            known = {_norm(kind, v, region) for v in store.sample(root, root_cols[0], 5000)} - {None}
            for col in f.with_identity(kind):
                vals = [_norm(kind, v, region) for v in store.sample(f.info.name, col, 200)]
                vals = [v for v in vals if v]
                hits = sum(1 for v in vals if v in known)
                if vals and hits / len(vals) >= 0.2:
                    links[col] = kind
                    evidence[col] = f"{hits} of {len(vals)} sampled values match {root}.{root_cols[0]}"
        if links:
            return root, links, evidence
    return None


def _norm(kind: str, value: Any, region: str) -> str | None:
    if value is None:
        return None
    if kind == "email":
        return str(value).strip().lower()
    return try_normalize_phone(value, region)
