"""Classify one column from its name and its sampled values, with confidence and evidence."""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from privet.datamap import categories
from privet.detection import classify_value, scan
from privet.discovery.names import category_from_name
from privet.stores.schema import ColumnInfo

_FILE_EXT = re.compile(r"\.(wav|mp3|ogg|m4a|flac|png|jpe?g|gif|webp|pdf|docx?|xlsx?|txt|zip)$", re.I)


@dataclass
class ColumnVerdict:
    column: str
    category: str | None
    confidence: float
    evidence: list[str] = field(default_factory=list)
    value_entity: str | None = None  # what the sampled values are, if they agree
    looks_like_files: bool = False


def _text(v: Any) -> str | None:
    if v is None:
        return None
    if isinstance(v, dict | list):
        return json.dumps(v, ensure_ascii=False)
    if isinstance(v, bytes | bytearray | memoryview):
        return None
    return str(v)


def classify_column(col: ColumnInfo, samples: Sequence[Any], *, region: str = "DE") -> ColumnVerdict:
    """Name and values each vote; validated values can confirm, correct or find what names miss."""
    verdict = ColumnVerdict(col.name, None, 0.0)
    by_name = category_from_name(col.name)
    texts = [t for t in (_text(v) for v in samples) if t and t.strip()]
    if by_name:
        verdict.category, verdict.confidence = by_name[0], 0.75
        verdict.evidence.append(f"column name matches '{by_name[1]}'")
    if not texts:
        if by_name:
            verdict.evidence.append("no values to sample")
        return verdict
    n = len(texts)
    if sum(1 for t in texts if ("/" in t or "\\" in t) and _FILE_EXT.search(t.strip())) >= 0.8 * n:
        verdict.looks_like_files = True
    entities: Counter[str] = Counter()
    for t in texts:
        f = classify_value(t, region=region)
        if f is not None:
            entities[f.type] += 1
    top, hits = entities.most_common(1)[0] if entities else (None, 0)
    share = hits / n
    long_text = sum(len(t) for t in texts) / n > 25 and sum(1 for t in texts if " " in t.strip()) >= 0.5 * n
    if top and share >= 0.6 and not (top == "date_of_birth" and not _is_birth(by_name)):
        verdict.value_entity = top
        value_cat = categories.for_entity(top).name
        verdict.evidence.append(f"{hits} of {n} sampled values are valid {top}")
        if by_name and categories.CATEGORIES[by_name[0]].entity == top:
            verdict.confidence = 0.98
        elif by_name and by_name[0] in ("user.name.first", "user.name.last") and top == "person_name":
            verdict.confidence = 0.95
        elif by_name and categories.CATEGORIES[by_name[0]].free_text:
            verdict.confidence = 0.9
        elif by_name is None or categories.CATEGORIES[by_name[0]].entity is None:
            if by_name is None or not _name_is_specific(by_name[0]):
                verdict.category, verdict.confidence = value_cat, 0.6 + 0.35 * share
        else:
            verdict.category, verdict.confidence = value_cat, 0.85
            verdict.evidence.append(f"values overrule the name ('{by_name[1]}')")
    elif long_text:
        mentioned = sum(1 for t in texts[:100] if scan(t[:2000], region=region))
        if mentioned:
            verdict.evidence.append(f"{mentioned} of {min(n, 100)} sampled texts mention personal data")
            if verdict.category is None:
                verdict.category = "user.content.private"
            verdict.confidence = max(verdict.confidence, min(0.95, 0.6 + mentioned / min(n, 100)))
        elif verdict.category is not None and categories.CATEGORIES[verdict.category].free_text:
            verdict.evidence.append("free text; no personal data in the sample")
            verdict.confidence = 0.6
    elif sum(entities.values()) >= 0.3 * n and len(entities) >= 2:
        # Custom-field (EAV) values: personal data of several kinds in one column.
        kinds = ", ".join(sorted(entities))
        verdict.evidence.append(f"{sum(entities.values())} of {n} sampled values are personal data ({kinds})")
        verdict.category = (
            verdict.category if verdict.category and _is_free(verdict.category) else ("user.content.private")
        )
        verdict.confidence = max(verdict.confidence, 0.8)
    elif (
        by_name
        and by_name[0].startswith("user.name")
        and n >= 5
        and (sum(1 for t in texts if t[:1].isupper()) < 0.2 * n)
    ):
        verdict.evidence.append("but sampled values are not capitalised like names")
        verdict.confidence = 0.4
    elif by_name and categories.CATEGORIES[by_name[0]].entity in ("email", "phone", "ip_address", "iban"):
        # The name promises validated values that are not there: the column holds something else.
        verdict.evidence.append(
            f"but only {hits} of {n} sampled values are valid {by_name[0].split('.')[-1]}s"
        )
        verdict.confidence = 0.4
    if verdict.looks_like_files:
        verdict.evidence.append("values are file paths")
        if verdict.category is None or not categories.CATEGORIES[verdict.category].file:
            verdict.category = "user.media.document"
            verdict.confidence = max(verdict.confidence, 0.7)
    return verdict


def _is_free(category: str) -> bool:
    return categories.CATEGORIES[category].free_text


def _is_birth(by_name: tuple[str, str] | None) -> bool:
    return by_name is not None and by_name[0] == "user.demographic.date_of_birth"


def _name_is_specific(category: str) -> bool:
    """Categories a name decides on its own even when values look like another entity."""
    return category in (
        "user.device.user_agent",
        "user.behavior.browsing_history",
        "user.device.device_id",
        "user.account.username",
        "user.authorization.credentials",
        "user.government_id.tax_id",
    )
