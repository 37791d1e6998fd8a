"""SQL predicates that find a person's identifiers in stored values, in any written format."""

from __future__ import annotations

import functools
from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa

from privet.identity import try_normalize_phone

_PHONE_NOISE = (" ", "-", "(", ")", ".", "/", "+")


@functools.lru_cache(maxsize=1024)
def digits_only(col: sa.ColumnElement[Any]) -> sa.ColumnElement[Any]:
    """The column with phone punctuation stripped, in SQL every dialect runs (nested REPLACE);
    built once per column (a column object lives as long as its reflected table)."""
    expr: sa.ColumnElement[Any] = col
    for ch in _PHONE_NOISE:
        # Inline constants (ours, never user input) so an expression index on the same chain applies.
        expr = sa.func.replace(expr, sa.literal_column(f"'{ch}'"), sa.literal_column("''"))
    return expr


def phone_tail(e164: str, n: int = 8) -> str:
    """The last digits of a number: the part every written format shares."""
    return "".join(c for c in e164 if c.isdigit())[-n:]


def phone_key(col: sa.ColumnElement[Any]) -> sa.ColumnElement[Any]:
    """A phone column's digits reversed: a number's tail becomes a prefix, which a B-tree index
    (``text_pattern_ops``) finds without scanning (PostgreSQL)."""
    return sa.func.reverse(digits_only(col))


def equals_identity(
    col: sa.ColumnElement[Any], kind: str, values: Iterable[str], dialect: str = "default"
) -> sa.ColumnElement[bool]:
    """A prefilter for stored values equal to one of the identities (phones are re-checked in Python).
    On PostgreSQL a phone is matched by the prefix of its reversed digits (indexable); elsewhere
    by the tail of its digits."""
    vals = sorted(set(values))
    if kind == "email":
        return sa.func.lower(col).in_(vals)
    if kind == "phone" and dialect == "postgresql":
        return sa.or_(*(phone_key(col).like(f"{phone_tail(v)[::-1]}%") for v in vals))
    if kind == "phone":
        return sa.or_(*(digits_only(col).like(f"%{phone_tail(v)}") for v in vals))
    return sa.cast(col, sa.String(200)).in_(vals)


def contains_identity(col: sa.ColumnElement[Any], kind: str, values: Iterable[str]) -> sa.ColumnElement[bool]:
    """A prefilter for free text that mentions one of the identities."""
    vals = sorted(set(values))
    if kind == "email":
        return sa.or_(*(sa.func.lower(col).like(f"%{v.lower()}%") for v in vals))
    if kind == "phone":
        return sa.or_(*(digits_only(col).like(f"%{phone_tail(v, 7)}%") for v in vals))
    return sa.or_(*(sa.func.lower(col).like(f"%{v.lower()}%") for v in vals))


def value_matches(kind: str, stored: Any, values: set[str], region: str) -> bool:
    """The exact check after a prefilter: normalized stored value is one of the identities."""
    if stored is None:
        return False
    if kind == "email":
        return str(stored).strip().lower() in values
    if kind == "phone":
        return try_normalize_phone(stored, region) in values
    return str(stored) in values
