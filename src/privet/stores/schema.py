"""What introspection reports about a database: tables, columns, keys, indexes."""

from __future__ import annotations

import re
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class ColumnInfo:
    name: str
    type: str  # the dialect's type name, lower case (varchar(255), integer, text, json…)
    nullable: bool
    is_text: bool  # holds strings (candidates for personal data in values)
    is_temporal: bool = False
    is_numeric: bool = False
    max_length: int | None = None


@dataclass(frozen=True, slots=True)
class ForeignKey:
    columns: tuple[str, ...]
    ref_table: str
    ref_columns: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class IndexInfo:
    name: str | None
    columns: tuple[str, ...]
    unique: bool
    expressions: tuple[str, ...] = ()  # expression indexes, e.g. "lower(email)"
    method: str | None = None  # the access method where the dialect names one, e.g. "gin"
    options: tuple[tuple[str, str], ...] = ()  # storage parameters, e.g. ("fastupdate", "on")


@dataclass(slots=True)
class TableInfo:
    name: str
    columns: list[ColumnInfo] = field(default_factory=list)
    primary_key: tuple[str, ...] = ()
    foreign_keys: list[ForeignKey] = field(default_factory=list)
    indexes: list[IndexInfo] = field(default_factory=list)
    row_estimate: int | None = None

    def column(self, name: str) -> ColumnInfo | None:
        for c in self.columns:
            if c.name == name:
                return c
        return None

    def is_indexed(self, column: str) -> bool:
        """True when ``column`` leads an index or the primary key."""
        if self.primary_key[:1] == (column,):
            return True
        return any(ix.columns[:1] == (column,) for ix in self.indexes)

    def has_expression_index(self, column: str, containing: str | None = None) -> bool:
        """True when an index is built on an expression of ``column`` (lower(), replace(), ...),
        and, with ``containing``, one whose expression has that text (e.g. ``reverse(``)."""
        pattern = re.compile(rf"\b{re.escape(column)}\b")
        return any(
            pattern.search(e) and (containing is None or containing in e.lower())
            for ix in self.indexes
            for e in ix.expressions
        )


@dataclass(slots=True)
class SchemaInfo:
    store: str
    dialect: str
    tables: dict[str, TableInfo] = field(default_factory=dict)
