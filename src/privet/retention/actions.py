"""Retention actions, one class each behind a small base.

An action says which rows still need it (``pending``), so a second run is a
no-op and a crashed run resumes, and either a set-based SQL value (``sql``) or
a Python transform (``transform``) from the detection operators.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from privet.detection.operators import ANON_PREFIX, generalize_date, generalize_location, truncate_ip
from privet.errors import BadInput


class Action:
    name = ""
    deletes_row = False
    deletes_file = False

    def __init__(self, column: str | None) -> None:
        self.column = column

    @property
    def col(self) -> str:
        if self.column is None:
            raise BadInput(f"retention action {self.name} needs a column")
        return self.column

    def validate(self, table: sa.Table) -> None:
        if self.column is not None and self.column not in table.c:
            raise BadInput(
                f"retention action {self.name} names column '{self.column}' that {table.name} does not have",
                value=self.column,
                hint="fix the retention rule in the map",
            )

    def pending(self, table: sa.Table) -> sa.ColumnElement[bool] | None:
        """Rows that still need this action (None: every selected row)."""
        return None

    def sql(self, table: sa.Table, dialect: str, *, strict: bool = True) -> Any:
        """A SQL expression for the new value, or None when ``transform`` computes it in Python.

        ``strict=False`` may return a faster expression that raises a data error on a malformed
        value; the sweep then redoes that batch with the strict one."""
        return None

    def sql_pending(self, table: sa.Table, dialect: str) -> sa.ColumnElement[bool] | None:
        """Rows the SQL value must still be written to (defaults to ``pending``)."""
        return self.pending(table)

    @property
    def unconditional(self) -> bool:
        """True when writing the value to a row that is not pending changes nothing (e.g. NULL)."""
        return False

    def transform(self, value: Any) -> Any:
        return value

    def python_filter(self, table: sa.Table, dialect: str) -> sa.ColumnElement[bool] | None:
        return None

    @property
    def in_python(self) -> bool:
        return False


class DeleteRow(Action):
    name = "delete_row"
    deletes_row = True


class NullColumn(Action):
    name = "null"

    def pending(self, table: sa.Table) -> sa.ColumnElement[bool]:
        return table.c[self.col].is_not(None)

    def sql(self, table: sa.Table, dialect: str, *, strict: bool = True) -> Any:
        return sa.null()

    @property
    def unconditional(self) -> bool:
        return True


class AnonymizeColumn(Action):
    """Irreversible because the token is random: nothing about the input survives in it."""

    name = "anonymize"

    def pending(self, table: sa.Table) -> sa.ColumnElement[bool]:
        col = table.c[self.col]
        return sa.and_(col.is_not(None), sa.not_(col.like(f"{ANON_PREFIX}%")))

    def sql(self, table: sa.Table, dialect: str, *, strict: bool = True) -> Any:
        if dialect == "postgresql":
            return sa.literal_column(f"'{ANON_PREFIX}' || substr(md5(random()::text), 1, 10)")
        if dialect in ("mysql", "mariadb"):
            return sa.literal_column(f"concat('{ANON_PREFIX}', substr(md5(rand()), 1, 10))")
        return sa.literal_column(f"'{ANON_PREFIX}' || lower(hex(randomblob(5)))")


class GeneralizeColumn(Action):
    """IP to its network, date to its month, location to its country (the shared operators)."""

    name = "generalize"

    def __init__(self, column: str | None, kind: str) -> None:
        super().__init__(column)
        self.kind = kind

    @property
    def in_python(self) -> bool:
        return True

    def pending(self, table: sa.Table) -> sa.ColumnElement[bool]:
        return table.c[self.col].is_not(None)

    def sql(self, table: sa.Table, dialect: str, *, strict: bool = True) -> Any:
        """On PostgreSQL an IPv4 is truncated in the database; IPv6 is left to ``transform``.

        The fast form checks only the characters and lets the ``inet`` cast reject the rest (a
        data error, after which the batch is redone strictly); the strict form validates every
        octet first and drops what is not an address. The strict regular expressions cost about
        a fifth of the whole UPDATE, so the fast form is tried first."""
        if dialect != "postgresql" or self.kind != "ip":
            return None
        c = f'"{table.name}"."{self.col}"'
        if not strict:
            return sa.literal_column(
                f"CASE WHEN {c} ~ '^[0-9.]+$' THEN host(set_masklen({c}::inet, 24)::cidr) ELSE NULL END"
            )
        v4 = r"'^\d{1,3}(\.\d{1,3}){3}$'"
        v6 = r"'^[0-9A-Fa-f:]*:[0-9A-Fa-f:.]*$'"
        return sa.literal_column(
            f"CASE WHEN {c} ~ {v4} AND split_part({c}, '.', 1)::int < 256 "
            f"AND split_part({c}, '.', 2)::int < 256 AND split_part({c}, '.', 3)::int < 256 "
            f"AND split_part({c}, '.', 4)::int < 256 "
            f"THEN host(set_masklen({c}::inet, 24)::cidr) "
            f"WHEN {c} ~ {v6} THEN {c} ELSE NULL END"
        )

    def sql_pending(self, table: sa.Table, dialect: str) -> sa.ColumnElement[bool]:
        """On PostgreSQL: IPv4 values not yet truncated (a truncated one ends in ``.0``; IPv6
        values are the Python pass's); elsewhere every value (the SQL value is not used)."""
        col = table.c[self.col]
        if dialect == "postgresql" and self.kind == "ip":
            return sa.and_(col.is_not(None), col.not_like("%:%"), col.not_like("%.0"))
        return col.is_not(None)

    def python_filter(self, table: sa.Table, dialect: str) -> sa.ColumnElement[bool] | None:
        """Rows ``transform`` must still see: on PostgreSQL only the IPv6 values."""
        if dialect == "postgresql" and self.kind == "ip":
            return table.c[self.col].like("%:%")
        return None

    def transform(self, value: Any) -> Any:
        if value is None:
            return None
        try:
            if self.kind == "ip":
                return truncate_ip(str(value))
            if self.kind == "date":
                return generalize_date(str(value))
            return generalize_location(str(value))
        except ValueError:
            return None  # a value that is not what the column should hold is dropped, not kept


class DeleteFile(Action):
    """Delete the file the column names (through the journal) and clear the column."""

    name = "delete_file"
    deletes_file = True

    def pending(self, table: sa.Table) -> sa.ColumnElement[bool]:
        return table.c[self.col].is_not(None)

    def sql(self, table: sa.Table, dialect: str, *, strict: bool = True) -> Any:
        return sa.null()

    @property
    def unconditional(self) -> bool:
        return True


def build_action(column: str | None, name: str, generalize_kind: str | None) -> Action:
    if name == "delete_row":
        return DeleteRow(None)
    if name == "null":
        return NullColumn(column)
    if name == "anonymize":
        return AnonymizeColumn(column)
    if name == "generalize":
        return GeneralizeColumn(column, generalize_kind or "ip")
    if name == "delete_file":
        return DeleteFile(column)
    raise BadInput(
        f"unknown retention action '{name}'",
        value=name,
        hint="use delete_row, null, anonymize, generalize or delete_file",
    )
