"""The data map (``privet.yaml``) as typed objects.

The map says what each column holds (its category), whom each table belongs to
(a subject kind, through a foreign-key path or a value match), which tables are
under a legal hold and what retention applies. Policies (what erasure does to a
category) are separate: a column's ``on_erase`` overrides the category default.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from privet.datamap import categories
from privet.datamap.categories import OnErase

_DURATION = re.compile(r"^\s*(\d+)\s*([dwmy])\s*$")
_DURATION_DAYS = {"d": 1, "w": 7, "m": 30, "y": 365}


def parse_duration_days(text: str) -> int:
    """Days in a duration like ``90d``, ``6w``, ``18m`` (30-day months), ``2y``."""
    m = _DURATION.match(text)
    if not m:
        raise ValueError(f"'{text}' is not a duration; write a number and a unit, e.g. 90d, 6w, 18m, 2y")
    return int(m.group(1)) * _DURATION_DAYS[m.group(2)]


class MapReferenceError(ValueError):
    """A cross-reference error, carrying where in the map it is (for the loader's line)."""

    def __init__(self, loc: tuple[str | int, ...], message: str) -> None:
        self.loc = loc
        super().__init__(message)


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class StoreSpec(_Model):
    """A database (``url``) or a file store (``files``: a local folder)."""

    url: str | None = None
    files: str | None = None
    region: str | None = Field(default=None, description="Region of phone numbers in this store")

    @model_validator(mode="after")
    def _one_kind(self) -> StoreSpec:
        if bool(self.url) == bool(self.files):
            raise ValueError("a store has exactly one of 'url' (a database) or 'files' (a folder)")
        return self

    @property
    def is_files(self) -> bool:
        return self.files is not None


class SubjectSpec(_Model):
    """A kind of person: the root table whose row is the person, and its identity columns."""

    root: str
    identities: dict[str, str] = Field(default_factory=dict)
    description: str | None = None

    @field_validator("root")
    @classmethod
    def _qualified(cls, v: str) -> str:
        if v.count(".") != 1:
            raise ValueError(f"root '{v}' must be written store.table, e.g. app.users")
        return v


class ColumnSpec(_Model):
    """One personal column: its category and, optionally, what erasure does to it."""

    category: str
    on_erase: OnErase | None = None
    file_store: str | None = None
    belongs_to: str | None = Field(
        default=None, description="In a shared row: the link column of the person this value is about"
    )
    confidence: float | None = None
    evidence: list[str] | None = None

    @field_validator("category")
    @classmethod
    def _known_category(cls, v: str) -> str:
        full = categories.canonical(v)
        if full is None:
            raise ValueError(
                f"unknown category '{v}'; use a Fideslang name such as contact.email, "
                "contact.phone_number, name, device.ip_address, content.private"
            )
        return full

    @property
    def cat(self) -> categories.Category:
        return categories.CATEGORIES[self.category]

    @property
    def erase_action(self) -> OnErase:
        return self.on_erase or self.cat.default_on_erase


class LegalHold(_Model):
    """Rows kept unaltered for a period set by law (Art. 17(3)(b)), e.g. invoices."""

    basis: str = "accounting"
    years: int | None = Field(default=None, ge=0, le=100)
    from_: str | None = Field(default=None, alias="from", description="date column the period counts from")
    retain: list[str] = Field(default_factory=list, description="personal columns the document needs")
    on_erase: Literal["retain", "pseudonymize"] = "retain"
    country: str | None = None


@dataclass(frozen=True, slots=True)
class Hop:
    """One foreign-key step: ``column`` of the current table points at ``table.target``."""

    column: str
    table: str
    target: str | None  # None: the target table's primary key


@functools.lru_cache(maxsize=4096)
def _parsed_path(text: str) -> tuple[Hop, ...]:
    """``parse_path`` once per path text (a request asks every table for its paths many times)."""
    return tuple(parse_path(text))


def parse_path(text: str) -> list[Hop]:
    """Parse ``a_id -> app.t1.b_id -> app.users`` (or ``-> app.users(uid)``) into hops."""
    parts = [p.strip() for p in text.split("->")]
    if len(parts) < 2 or any(not p for p in parts):
        raise ValueError(
            f"path '{text}' must read 'column -> store.table', e.g. 'freelancer_id -> app.users', "
            "or chain hops: 'project_id -> app.projects.client_id -> app.users'"
        )
    hops: list[Hop] = []
    column = parts[0]
    for i, part in enumerate(parts[1:], start=1):
        last = i == len(parts) - 1
        target: str | None = None
        m = re.match(r"^([\w$]+\.[\w$]+)\((\w+)\)$", part)
        if m:
            table, target = m.group(1), m.group(2)
            if not last:
                raise ValueError(f"in path '{text}': only the last hop may name a target column")
            hops.append(Hop(column, table, target))
            break
        pieces = part.split(".")
        if last:
            if len(pieces) != 2:
                raise ValueError(f"in path '{text}': the last hop must be store.table, got '{part}'")
            hops.append(Hop(column, part, None))
        else:
            if len(pieces) != 3:
                raise ValueError(
                    f"in path '{text}': a middle hop must be store.table.next_column, got '{part}'"
                )
            hops.append(Hop(column, f"{pieces[0]}.{pieces[1]}", None))
            column = pieces[2]
    return hops


class TableSpec(_Model):
    """A table holding personal data: whose it is, how it links to them, what it holds."""

    subject: str | None = None
    path: str | list[str] | None = None
    match: dict[str, str] | None = Field(
        default=None, description="column -> identity kind, for tables linked by value"
    )
    tenant_column: str | None = None
    primary_key: list[str] | None = None
    legal_hold: LegalHold | None = None
    columns: dict[str, ColumnSpec] = Field(default_factory=dict)

    @field_validator("path")
    @classmethod
    def _valid_path(cls, v: str | list[str] | None) -> str | list[str] | None:
        for p in [v] if isinstance(v, str) else (v or []):
            parse_path(p)
        return v

    @property
    def paths(self) -> list[list[Hop]]:
        raw = [self.path] if isinstance(self.path, str) else (self.path or [])
        return [list(_parsed_path(p)) for p in raw]


class RetentionRule(_Model):
    """After ``after`` counted from ``age_column``, apply ``actions``."""

    table: str
    age_column: str
    after: str
    actions: Literal["delete_row"] | dict[str, str]

    @field_validator("after")
    @classmethod
    def _duration(cls, v: str) -> str:
        parse_duration_days(v)
        return v

    @field_validator("actions")
    @classmethod
    def _actions(cls, v: Any) -> Any:
        if isinstance(v, dict):
            for col, act in v.items():
                if act not in categories.RETENTION_ACTIONS:
                    raise ValueError(
                        f"unknown retention action '{act}' for column '{col}'; "
                        f"use one of {', '.join(categories.RETENTION_ACTIONS)}"
                    )
        return v

    @property
    def after_days(self) -> int:
        return parse_duration_days(self.after)


class Notice(_Model):
    """One version of the text a person agrees to."""

    version: str
    text: str = ""
    language: str = "en"
    published: str | None = None


class PurposeSpec(_Model):
    """A purpose of processing that may need consent (marketing_email, call_recording…)."""

    description: str = ""
    basis: Literal[
        "consent", "contract", "legal_obligation", "vital_interests", "public_task", "legitimate_interests"
    ] = "consent"
    opt_in: bool = True
    sale_or_share: bool = False
    # Direct marketing (newsletters, offers by post): an objection (Art. 21(2)) ends it, and the
    # suppression list stops it. Unset, a purpose based on consent or on legitimate interests
    # (the two bases direct marketing rests on) counts as marketing.
    marketing: bool | None = None

    @property
    def is_marketing(self) -> bool:
        if self.marketing is not None:
            return self.marketing
        return self.basis in ("consent", "legitimate_interests")

    notices: list[Notice] = Field(default_factory=list)
    roles: list[str] | None = None

    @property
    def current_notice(self) -> str | None:
        return self.notices[-1].version if self.notices else None


class NotificationType(_Model):
    """A kind of message a role receives, and whether it is on by default."""

    description: str = ""
    roles: list[str] = Field(default_factory=list)
    default: bool = True
    purpose: str | None = None


def default_purposes() -> dict[str, PurposeSpec]:
    """Purposes every new map starts with (all opt-in)."""
    return {
        "marketing_email": PurposeSpec(
            description="Marketing emails about offers and events",
            sale_or_share=False,
            marketing=True,
            notices=[Notice(version="1", text="Send me marketing emails. I can withdraw at any time.")],
        ),
        "product_news": PurposeSpec(
            description="News about product changes and new features",
            marketing=True,
            notices=[Notice(version="1", text="Send me product news. I can withdraw at any time.")],
        ),
        "call_recording": PurposeSpec(
            description="Recording of calls for quality and training",
            marketing=False,
            notices=[Notice(version="1", text="Calls may be recorded for quality and training.")],
        ),
    }


class DataMap(_Model):
    """The whole map: the single source of truth about personal data."""

    version: Literal[1] = 1
    default_region: str = "DE"
    stores: dict[str, StoreSpec] = Field(default_factory=dict)
    subjects: dict[str, SubjectSpec] = Field(default_factory=dict)
    tables: dict[str, TableSpec] = Field(default_factory=dict)
    retention: list[RetentionRule] = Field(default_factory=list)
    purposes: dict[str, PurposeSpec] = Field(default_factory=default_purposes)
    notifications: dict[str, NotificationType] = Field(default_factory=dict)
    recipients: list[str] = Field(default_factory=list, description="who receives the data (Art. 15(1)(c))")

    @field_validator("default_region")
    @classmethod
    def _region(cls, v: str) -> str:
        if not re.fullmatch(r"[A-Z]{2}", v):
            raise ValueError(f"default_region '{v}' must be an ISO 3166 country code such as DE, FR, GB")
        return v

    @model_validator(mode="after")
    def _references(self) -> DataMap:
        """Every name the map uses must be declared in it."""
        for name, subj in self.subjects.items():
            self._check_table_ref(subj.root, ("subjects", name, "root"))
        for tname, table in self.tables.items():
            self._check_table_ref(tname, ("tables", tname))
            if table.subject is not None and table.subject not in self.subjects:
                raise MapReferenceError(
                    ("tables", tname, "subject"),
                    f"tables.{tname}.subject: '{table.subject}' is not a subject of the map "
                    f"(declared: {', '.join(sorted(self.subjects)) or 'none'})",
                )
            for hops in table.paths:
                for hop in hops:
                    self._check_table_ref(hop.table, ("tables", tname, "path"))
            for col, spec in table.columns.items():
                if spec.file_store is not None:
                    store = self.stores.get(spec.file_store)
                    if store is None or not store.is_files:
                        raise MapReferenceError(
                            ("tables", tname, "columns", col, "file_store"),
                            f"tables.{tname}.columns.{col}.file_store: '{spec.file_store}' is not a "
                            "file store of the map; declare it under stores with 'files: ./folder'",
                        )
            if table.match and table.subject:
                kinds = self.subjects[table.subject].identities
                for col, kind in table.match.items():
                    if kind not in kinds:
                        raise MapReferenceError(
                            ("tables", tname, "match", col),
                            f"tables.{tname}.match.{col}: identity '{kind}' is not an identity of "
                            f"subject '{table.subject}' (it has: {', '.join(kinds) or 'none'})",
                        )
        for i, rule in enumerate(self.retention):
            self._check_table_ref(rule.table, ("retention", i, "table"))
        return self

    def _check_table_ref(self, ref: str, loc: tuple[str | int, ...]) -> None:
        where = ".".join(str(x) for x in loc)
        store, _, table = ref.partition(".")
        if not table:
            raise MapReferenceError(loc, f"{where}: '{ref}' must be written store.table")
        if store not in self.stores:
            raise MapReferenceError(
                loc,
                f"{where}: store '{store}' is not declared under stores "
                f"(declared: {', '.join(sorted(self.stores)) or 'none'})",
            )

    # -- lookups used everywhere -------------------------------------------------

    def table(self, ref: str) -> TableSpec:
        from privet.errors import UnknownName

        try:
            return self.tables[ref]
        except KeyError:
            raise UnknownName(
                f"table '{ref}' is not in the map", value=ref, hint="run privet discover or add it"
            ) from None

    def subject(self, name: str) -> SubjectSpec:
        from privet.errors import UnknownName

        try:
            return self.subjects[name]
        except KeyError:
            raise UnknownName(
                f"subject kind '{name}' is not in the map",
                value=name,
                hint=f"declared: {', '.join(sorted(self.subjects)) or 'none'}",
            ) from None

    def sql_stores(self) -> dict[str, StoreSpec]:
        return {k: v for k, v in self.stores.items() if not v.is_files}

    def file_stores(self) -> dict[str, StoreSpec]:
        return {k: v for k, v in self.stores.items() if v.is_files}

    def tables_of(self, store: str) -> dict[str, TableSpec]:
        return {k: v for k, v in self.tables.items() if k.split(".", 1)[0] == store}


def split_ref(ref: str) -> tuple[str, str]:
    """``app.users`` -> (``app``, ``users``)."""
    store, _, table = ref.partition(".")
    return store, table
