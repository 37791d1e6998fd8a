"""PostgreSQL writes an export's table entries itself: for each owner, the JSON lines and CSV
lines of their rows, byte for byte what :mod:`privet.requests.access` builds in Python from the
same rows (orjson for the JSON, the csv module's default dialect for the CSV).

A batch export reads tens of thousands of rows per group of people; turned into Python tuples,
dicts, JSON and CSV one by one they are most of its time. Rendered by the database, a group's
table arrives as one row per owner, and the database does that work on its own core while the
batch writes the group before. Only tables whose every column has a type rendered here exactly
take this way (integers, booleans, text, decimals, dates and timestamps); a value Python would
write otherwise (a decimal in exponent notation, ``1E-7``; a time zone offset with seconds)
sends the group's table back to the Python way."""

from __future__ import annotations

import decimal
import functools
import operator
from typing import Any, cast

import orjson
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql


def _kind(t: sa.types.TypeEngine[Any]) -> str | None:
    """How a column's values are rendered, or None for a type not rendered here."""
    if isinstance(t, sa.Boolean):
        return "bool"
    if isinstance(t, sa.Integer):
        return "int"
    if isinstance(t, sa.Float):  # non-finite values and shortest round-trip digits: Python's way
        return None
    if isinstance(t, sa.Numeric):
        return "numeric"
    if isinstance(t, sa.DateTime):
        return "timestamptz" if t.timezone else "timestamp"
    if isinstance(t, sa.Date):
        return "date"
    # CHAR pads with spaces that its cast to text drops; an enum may carry a Python type.
    if isinstance(t, sa.Enum | sa.CHAR):
        return None
    if isinstance(t, sa.String):
        return "text"
    return None


def kinds(table: sa.Table) -> dict[str, str] | None:
    """How each column of the table is rendered, or None when one of its types is not rendered
    here or it has a single column (the csv module quotes the empty field of a one-column row)."""
    out = {str(c.name): _kind(c.type) for c in table.columns}
    if len(out) < 2 or None in out.values():
        return None
    return cast(dict[str, str], out)


def _text(s: str) -> sa.ColumnElement[str]:
    return sa.literal(s, sa.Text())


def _json_value(col: sa.ColumnElement[Any], kind: str) -> sa.ColumnElement[str]:
    """A value as orjson writes it (a decimal as its string, a date in ISO 8601)."""
    if kind == "int":
        value: sa.ColumnElement[str] = sa.cast(col, sa.Text)
    elif kind == "bool":
        value = sa.case((col, _text("true")), (sa.not_(col), _text("false")))
    elif kind == "text":
        value = sa.cast(sa.func.to_json(col), sa.Text)
    elif kind in ("date", "timestamp", "timestamptz"):
        value = _text('"') + _iso(col, kind) + _text('"')
    else:  # numeric: digits, a point, a sign, NaN or Infinity; nothing JSON escapes
        value = _text('"') + sa.cast(col, sa.Text) + _text('"')
    return sa.func.coalesce(value, _text("null"))


def _csv_value(col: sa.ColumnElement[Any], kind: str) -> sa.ColumnElement[str]:
    """A value as the csv module writes it (True/False, an empty field for NULL, quoted when it
    holds a comma, a double quote or a line break)."""
    if kind == "bool":
        return sa.case((col, _text("True")), (sa.not_(col), _text("False")), else_=_text(""))
    if kind == "text":
        quoted = _text('"') + sa.func.replace(col, _text('"'), _text('""')) + _text('"')
        return sa.case((col.op("~")(_text('[",\r\n]')), quoted), else_=sa.func.coalesce(col, _text("")))
    if kind in ("date", "timestamp", "timestamptz"):
        return sa.func.coalesce(_iso(col, kind), _text(""))
    return sa.func.coalesce(sa.cast(col, sa.Text), _text(""))


def _iso(col: sa.ColumnElement[Any], kind: str) -> sa.ColumnElement[str]:
    """A date or a timestamp as Python's isoformat() writes it: microseconds when there are any,
    a time zone's offset as +HH:MM (in the connection's time zone, as the driver reads it)."""
    if kind == "date":
        return sa.func.to_char(col, _text("YYYY-MM-DD"))
    micro = sa.case(
        (sa.func.to_char(col, _text("US")) == _text("000000"), _text("")),
        else_=sa.func.to_char(col, _text(".US")),
    )
    out = sa.func.to_char(col, _text('YYYY-MM-DD"T"HH24:MI:SS')) + micro
    return out + sa.func.to_char(col, _text("TZH:TZM")) if kind == "timestamptz" else out


def _exact(col: sa.ColumnElement[Any], kind: str) -> sa.ColumnElement[bool]:
    """A value Python writes as rendered here. A decimal: str(Decimal) turns to exponent notation
    when the first digit is past the sixth decimal place (``1E-7``, ``0E-7`` for a zero of
    scale 7). A date or timestamp: in Python's years (1 to 9999; the driver refuses the others
    and infinity, which the Python way then reports), with a time zone offset of whole minutes
    (a city's local mean time before time zones has seconds)."""
    if kind == "numeric":
        return sa.or_(
            col.is_(None),
            sa.func.abs(col) >= sa.literal(decimal.Decimal("0.000001"), sa.Numeric()),  # NaN, Infinity too
            sa.and_(col == 0, sa.func.scale(col) <= 6),
        )
    year = sa.func.extract("year", col)
    exact = sa.and_(sa.func.isfinite(col), year >= 1, year <= 9999)
    if kind == "timestamptz":
        exact = sa.and_(exact, sa.func.extract("timezone", col) % 60 == 0)
    return sa.or_(col.is_(None), exact)


def rendered_select(
    rows: sa.Select[Any], kinds: dict[str, str], key: sa.Column[Any], owner: str
) -> sa.Select[Any]:
    """From a statement of rows (each with its owner's key in column ``owner``; ``kinds``: the
    table's columns in order, as ``kinds`` gives them): one row per owner
    with the owner's key, then: its number of rows, their keys, their JSON lines joined by commas,
    their CSV lines, and whether Python writes every value as rendered (``_exact``), the rows in
    the order of ``key``.

    An aggregate with its own ORDER BY sorts its rows apart from the others (PostgreSQL before
    16), so for an integer key the rows come sorted from a subquery and are aggregated as they
    come; the keys come with them, and ``in_order`` tells whether they did (the plan keeps the
    subquery's order; were it not kept, the table would be read again as rows)."""
    by_key = isinstance(key.type, sa.Integer)
    sub = (rows.order_by(rows.selected_columns[owner], key) if by_key else rows).subquery("privet_rows")
    c = sub.c
    json_parts: list[sa.ColumnElement[str]] = []
    csv_parts: list[sa.ColumnElement[str]] = []
    for i, name in enumerate(kinds):
        json_parts += [_text(("{" if i == 0 else ",") + orjson.dumps(name).decode() + ":")]
        json_parts += [_json_value(c[name], kinds[name])]
        csv_parts += [_text(",")] if i else []
        csv_parts += [_csv_value(c[name], kinds[name])]
    # Joined by || (concat() takes at most 100 arguments); no part is NULL.
    json_line = functools.reduce(operator.add, [*json_parts, _text("}\n")])
    csv_line = functools.reduce(operator.add, [*csv_parts, _text("\r\n")])
    exact = [_exact(c[n], kind) for n, kind in kinds.items() if kind not in ("int", "bool", "text")]

    def ordered(arg: sa.ColumnElement[Any]) -> sa.ColumnElement[Any]:
        return arg if by_key else postgresql.aggregate_order_by(arg, c[key.name])

    return sa.select(
        c[owner],
        sa.func.count().label("rows"),
        sa.func.array_agg(ordered(c[key.name])).label("keys"),
        sa.func.string_agg(json_line, ordered(_text(","))).label("json"),
        sa.func.string_agg(csv_line, ordered(_text(""))).label("csv"),
        (sa.func.bool_and(sa.and_(*exact)) if exact else sa.true()).label("exact"),
    ).group_by(c[owner])


def in_order(keys: list[Any]) -> bool:
    """Whether a rendered owner's keys came in order: always for a key that is not an integer
    (its aggregates sort), else when each integer is below the next."""
    return not keys or type(keys[0]) is not int or all(map(operator.lt, keys, keys[1:]))
