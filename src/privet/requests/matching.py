"""SQL predicates that find a person's identifiers in stored values, in any written format."""

from __future__ import annotations

import functools
from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY, TSQUERY, TSVECTOR

from privet.identity import Identity, try_normalize_phone

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


# The phone recognizer's candidates (``PhoneRecognizer.pattern``) in PostgreSQL's regular
# expressions: the same runs of digits and separators, cut at the same places (longest match,
# at most 24 characters from the first digit, ending on a digit that no letter follows).
PG_PHONE_CANDIDATE = r"(?<![\w+])(?:\+|00)?\(?[0-9][0-9\s()./-]{5,22}[0-9](?!\w)"
MENTION_TAIL = 7  # digits of a number's tail that the mention searches compare


@functools.lru_cache(maxsize=1024)
def phone_tokens(col: sa.ColumnElement[Any]) -> sa.ColumnElement[Any]:
    """PostgreSQL: the numbers of free text as a tsvector a GIN index keeps: every candidate the
    phone recognizer would read, as the last ``MENTION_TAIL`` of its digits reversed (and the
    other digit runs of the text likewise, which only lets more rows through). A number written
    in any format ends with its tail, so ``phone_tokens(col) @@ tail`` finds every row whose
    text may hold it with one exact index lookup, where a trigram search of digits intersects
    long lists of common digit trigrams. Constants inline, so that the index map check advises
    matches the expression."""

    def lit(sql: str) -> sa.ColumnElement[Any]:
        return sa.literal_column(sql)

    g = lit("'g'")
    marked = sa.func.regexp_replace(col, lit(f"'{PG_PHONE_CANDIDATE}'"), lit(r"',\&,'"), g)
    digits = sa.func.reverse(sa.func.regexp_replace(marked, lit("'[^0-9,]+'"), lit("''"), g))
    tails = sa.func.regexp_replace(digits, lit(f"'([0-9]{{{MENTION_TAIL}}})[0-9]+'"), lit(r"'\1'"), g)
    words = sa.func.array_remove(sa.func.regexp_split_to_array(tails, lit("','")), lit("''"))
    return sa.func.array_to_tsvector(words, type_=TSVECTOR)


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
    """A prefilter for stored values equal to one of the identities (phones are re-checked in Python),
    with the values bound: ``equals_bound`` for a one-off statement."""
    idents = {Identity(kind, v) for v in values}
    return equals_bound(col, kind, len(idents), dialect).params(identity_params(idents))


def value_matches(kind: str, stored: Any, values: set[str], region: str) -> bool:
    """The exact check after a prefilter: normalized stored value is one of the identities."""
    if stored is None:
        return False
    if kind == "email":
        return str(stored).strip().lower() in values
    if kind == "phone":
        return try_normalize_phone(stored, region) in values
    return str(stored) in values


# Statements a request runs for every person have the same shape for people with the same number
# of identities of each kind. Built once with named parameters and reused, they skip SQLAlchemy's
# construction and cache-key walk (most of the Python cost of a large UNION or a REPLACE chain).

Shape = tuple[tuple[str, int], ...]


def identity_shape(identities: Iterable[Identity]) -> Shape:
    """How many identities of each kind: the key under which a bound statement is reused."""
    counts: dict[str, int] = {}
    for i in identities:
        counts[i.kind] = counts.get(i.kind, 0) + 1
    return tuple(sorted(counts.items()))


def identity_params(identities: Iterable[Identity], prefix: str = "") -> dict[str, str]:
    """The values for the named parameters of ``equals_bound`` and ``contains_bound`` (names
    start with ``prefix`` when several people's conditions share a statement)."""
    by_kind: dict[str, list[str]] = {}
    for i in identities:
        by_kind.setdefault(i.kind, []).append(i.value)
    params: dict[str, str] = {}
    for kind, values in by_kind.items():
        for n, v in enumerate(sorted(values)):
            params[f"{prefix}{kind}_{n}"] = v
            params[f"{prefix}{kind}_in_{n}"] = f"%{v.lower()}%"
            if kind == "phone":
                params[f"{prefix}phone_rev_{n}"] = f"{phone_tail(v)[::-1]}%"
                params[f"{prefix}phone_end_{n}"] = f"%{phone_tail(v)}"
                params[f"{prefix}phone_in_{n}"] = f"%{phone_tail(v, MENTION_TAIL)}%"
                params[f"{prefix}phone_tail_{n}"] = phone_tail(v, MENTION_TAIL)[::-1]
    return params


def _bp(name: str) -> sa.BindParameter[str]:
    return sa.bindparam(name, type_=sa.String(), required=True)


def equals_bound(
    col: sa.ColumnElement[Any], kind: str, n: int, dialect: str = "default"
) -> sa.ColumnElement[bool]:
    """A prefilter for stored values equal to one of ``n`` identities of the kind, as named parameters
    (``identity_params``); phones are re-checked in Python. On PostgreSQL a phone is matched by the
    prefix of its reversed digits (indexable); elsewhere by the tail of its digits."""
    if kind == "email":
        return sa.func.lower(col).in_([_bp(f"email_{i}") for i in range(n)])
    if kind == "phone" and dialect == "postgresql":
        return sa.or_(*(phone_key(col).like(_bp(f"phone_rev_{i}")) for i in range(n)))
    if kind == "phone":
        return sa.or_(*(digits_only(col).like(_bp(f"phone_end_{i}")) for i in range(n)))
    return sa.cast(col, sa.String(200)).in_([_bp(f"{kind}_{i}") for i in range(n)])


def contains_bound(
    col: sa.ColumnElement[Any], kind: str, n: int, prefix: str = "", dialect: str = "default"
) -> sa.ColumnElement[bool]:
    """A prefilter for free text that mentions one of ``n`` identities of the kind (named parameters).
    Phones: on PostgreSQL an exact lookup of their tails in ``phone_tokens``, elsewhere a search
    for the tail in the text's digits."""
    if kind == "phone" and dialect == "postgresql":
        tokens = phone_tokens(col)
        return sa.or_(
            *(tokens.bool_op("@@")(sa.cast(_bp(f"{prefix}phone_tail_{i}"), TSQUERY)) for i in range(n))
        )
    if kind == "phone":
        return sa.or_(*(digits_only(col).like(_bp(f"{prefix}phone_in_{i}")) for i in range(n)))
    return sa.or_(*(sa.func.lower(col).like(_bp(f"{prefix}{kind}_in_{i}")) for i in range(n)))


@functools.lru_cache(maxsize=4096)
def mention_filter_bound(
    table: sa.Table, col: str, shape: Shape, prefix: str = "", dialect: str = "default"
) -> sa.ColumnElement[bool] | None:
    """A SQL prefilter for free text that may mention identities of the given shape (built once per
    table, column and shape; values come from ``identity_params``)."""
    counts = dict(shape)
    column: sa.ColumnElement[Any] = table.c[col]
    if not isinstance(column.type, sa.String | sa.Text):
        column = sa.cast(column, sa.Text)
    conds = [
        contains_bound(column, kind, counts[kind], prefix, dialect)
        for kind in ("email", "phone", "name")
        if counts.get(kind)
    ]
    return sa.or_(*conds) if conds else None


def equals_many_pg(table: sa.Table, col: str, kind: str, n: int = 0) -> sa.Select[Any]:
    """PostgreSQL: the rows whose stored value may equal one of many identities of the kind, the
    identities in one array parameter (``many_params``), so that the statement's text is the
    same for any number of people and every identity is an index lookup (parameters named with
    ``n``, so that several columns' lookups share a statement). Phones: a join of the
    reversed tails with the table, one range scan per tail (``phone_key``), re-checked in Python."""
    column = table.c[col]
    if kind == "phone":
        tails = (
            sa.func.unnest(
                sa.bindparam(f"privet_lo_{n}", type_=ARRAY(sa.Text())),
                sa.bindparam(f"privet_hi_{n}", type_=ARRAY(sa.Text())),
            )
            .table_valued("lo", "hi")
            .render_derived(name="privet_tails")
        )
        key = phone_key(column)
        joined = tails.join(table, sa.and_(key.op("~>=~")(tails.c.lo), key.op("~<~")(tails.c.hi)))
        return sa.select(table).select_from(joined)
    values = sa.bindparam(f"privet_values_{n}", type_=ARRAY(sa.Text()))
    stored = sa.func.lower(column) if kind == "email" else sa.cast(column, sa.Text)
    return sa.select(table).where(stored == sa.any_(values))


def many_params(kind: str, values: Iterable[str], n: int = 0) -> dict[str, list[str]]:
    """The parameters of ``equals_many_pg`` for these identities."""
    if kind == "phone":
        # The digits of a tail reversed, and the first string after every string starting with them.
        low = sorted({t[::-1] for v in values if (t := phone_tail(v))})
        return {f"privet_lo_{n}": low, f"privet_hi_{n}": [t[:-1] + chr(ord(t[-1]) + 1) for t in low]}
    return {f"privet_values_{n}": sorted({v.lower() if kind == "email" else v for v in values})}
