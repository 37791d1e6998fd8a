"""Write a data map as YAML with a stable order, so diffs of the map stay small."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from privet.datamap import categories
from privet.datamap.model import DataMap

HEADER = """\
# Privet data map: the single source of truth about personal data.
# Written by `privet discover`; review it, edit it, commit it.
# Reference: categories follow Fideslang (contact.email, name, device.ip_address…);
# on_erase is one of delete_row, null, pseudonymize, redact, retain, delete_file.
"""

_TOP_ORDER = (
    "version",
    "default_region",
    "stores",
    "subjects",
    "tables",
    "retention",
    "purposes",
    "notifications",
    "recipients",
)


def map_to_dict(dm: DataMap) -> dict[str, Any]:
    """The map as plain data in the order the writer uses."""
    raw = dm.model_dump(mode="json", by_alias=True, exclude_none=True)
    for table in raw.get("tables", {}).values():
        for col in table.get("columns", {}).values():
            col["category"] = categories.short(col["category"])
        for key in ("columns",):
            if key in table:
                table[key] = dict(sorted(table[key].items()))
    if "tables" in raw:
        raw["tables"] = dict(sorted(raw["tables"].items()))
    for key in ("stores", "subjects"):
        if key in raw:
            raw[key] = dict(sorted(raw[key].items()))
    return {k: raw[k] for k in _TOP_ORDER if k in raw and raw[k] not in ({}, [])}


def dump_map(dm: DataMap) -> str:
    """YAML text of the map with a header comment."""
    body = yaml.safe_dump(map_to_dict(dm), sort_keys=False, allow_unicode=True, width=110)
    return HEADER + body


def write_map(dm: DataMap, path: str | Path) -> None:
    """Write atomically: a crash never leaves half a map behind."""
    p = Path(path)
    tmp = p.with_name(f".{p.name}.tmp")
    tmp.write_text(dump_map(dm), encoding="utf-8")
    tmp.replace(p)
