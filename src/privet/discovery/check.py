"""``privet map check``: the live schema against the map, both ways."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from privet.datamap import DataMap
from privet.discovery.discover import discover
from privet.requests.matching import PG_PHONE_CANDIDATE, digits_only, phone_tokens
from privet.requests.phoneindex import TailIndex
from privet.requests.phoneindex import indexable_info as phone_indexable
from privet.requests.textindex import catalog as text_catalog
from privet.requests.textindex import current, indexable_info
from privet.requests.tokenindex import catalog as token_catalog
from privet.requests.tokenindex import indexable_info as token_indexable
from privet.stores.schema import TableInfo
from privet.stores.sql import SqlStore


@dataclass
class CheckReport:
    undeclared: list[dict[str, Any]] = field(default_factory=list)
    vanished: list[dict[str, Any]] = field(default_factory=list)
    # Columns subject requests look people up by, without an index: a warning, not a failure.
    unindexed: list[dict[str, Any]] = field(default_factory=list)
    # Indexes an earlier version advised that no search uses now: a warning, with the DROP INDEX.
    superseded: list[dict[str, Any]] = field(default_factory=list)
    # GIN indexes of searched free text whose pending list may grow large: a warning, with the
    # ALTER INDEX that bounds it.
    untuned: list[dict[str, Any]] = field(default_factory=list)
    # Searched free text on PostgreSQL whose collation lowers ASCII letters only (C, POSIX): a
    # name written in capitals beyond ASCII (MÜLLER) is not found there. A warning, with the fix.
    ascii_case: list[dict[str, Any]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.undeclared and not self.vanished

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "undeclared": self.undeclared,
            "vanished": self.vanished,
            "unindexed": self.unindexed,
            "superseded": self.superseded,
            "untuned": self.untuned,
            "ascii_case": self.ascii_case,
        }


# The most a GIN index of searched free text keeps in its pending list (kB), the entries of new
# rows not yet moved into the index proper. Every search reads that list whole: with PostgreSQL's
# default (4 MB), after 5,000 new messages a trigram search took 1.4-1.7 ms instead of 0.12-0.18;
# with this limit 0.3-0.5 ms, while the 5,000 inserts took 258 ms against 214 ms (plus 68 ms for
# moving the list later), where fastupdate = off made them 754 ms.
GIN_PENDING_LIST_KB = 256


def search_index(
    dialect: str, table: str, column: str, kind: str | None, present: frozenset[str] = frozenset()
) -> str | None:
    """The index that lets erasure find a person's identifier in this column without a scan
    (None where the dialect has none for a search with a leading wildcard). Free text on
    PostgreSQL takes two: a trigram index for emails and names (it needs the pg_trgm extension,
    CREATE EXTENSION pg_trgm) and an index of the numbers in the text for phones; ``present``
    names those already there (by what their expressions contain, as ``_needs``)."""
    if dialect in ("mysql", "mariadb"):
        return None  # no index on an expression there
    if kind == "email":
        return f"CREATE INDEX ix_{table}_{column}_lower ON {table} (lower({column}))"
    if dialect != "postgresql":
        return None
    if kind == "phone":
        digits = str(digits_only(sa.column(column)).compile(compile_kwargs={"literal_binds": True}))
        # A number is looked up by the tail of its digits: reversed, a prefix a B-tree finds.
        return f"CREATE INDEX ix_{table}_{column}_rdigits ON {table} (reverse({digits}) text_pattern_ops)"
    tokens = phone_tokens(sa.column(column)).compile(
        dialect=postgresql.dialect(),  # type: ignore[no-untyped-call]
        compile_kwargs={"literal_binds": True},
    )
    pending = f" WITH (gin_pending_list_limit = {GIN_PENDING_LIST_KB})"
    trigrams, numbers = f"gin (lower({column}) gin_trgm_ops){pending}", f"gin (({tokens})){pending}"
    wanted = {
        "lower(": f"CREATE INDEX ix_{table}_{column}_trgm ON {table} USING {trigrams}",
        PG_PHONE_CANDIDATE.lower(): f"CREATE INDEX ix_{table}_{column}_numbers ON {table} USING {numbers}",
    }
    return "; ".join(sql for needs, sql in wanted.items() if needs not in present) or None


def _needs(dialect: str, kind: str | None) -> tuple[str, ...]:
    """What the expressions of the indexes serving this lookup contain (nothing: any expression)."""
    if dialect != "postgresql":
        return ()
    if kind == "phone":
        return ("reverse(",)
    # The numbers index by its pattern: one built for an earlier pattern no longer serves.
    return ("lower(", PG_PHONE_CANDIDATE.lower()) if kind is None else ()


def _present(info: TableInfo, column: str, needs: tuple[str, ...]) -> frozenset[str]:
    """Which of ``needs`` an index on an expression of the column has."""
    return frozenset(n for n in needs if info.has_expression_index(column, n))


def _has_indexes(info: TableInfo, column: str, needs: tuple[str, ...]) -> bool:
    return len(_present(info, column, needs)) == len(needs) if needs else info.has_expression_index(column)


def _superseded(info: TableInfo, table: str, column: str) -> list[str]:
    """Indexes an earlier version advised for searching this free-text column that serve no
    search now: the trigram index of its digits (``ix_<table>_<column>_digits``), and an index of
    its numbers built for an earlier pattern (``ix_<table>_<column>_numbers``)."""
    current = PG_PHONE_CANDIDATE.lower()
    out = []
    for ix in info.indexes:
        if ix.name == f"ix_{table}_{column}_digits" or (
            ix.name == f"ix_{table}_{column}_numbers"
            and not any(current in e.lower() for e in ix.expressions)
        ):
            out.append(ix.name)
    return out


# How PostgreSQL spells a boolean storage parameter that is off (any prefix of "false" or "off"
# that is not ambiguous, "no", "0").
_OFF = {"f", "fa", "fal", "fals", "false", "n", "no", "of", "off", "0"}


def _untuned(info: TableInfo, column: str) -> list[str]:
    """The GIN indexes the mention and verification searches of this free-text column read (a
    trigram index on ``lower(column)``, the numbers index) whose pending list may hold more than
    ``GIN_PENDING_LIST_KB``: fastupdate on, and no limit of the index's own at most that."""
    pattern = re.compile(rf"\b{re.escape(column)}\b")
    out = []
    for ix in info.indexes:
        if ix.method != "gin" or not ix.name:
            continue
        mine = [e.lower() for e in ix.expressions if pattern.search(e)]
        if not any(needs in e for e in mine for needs in _needs("postgresql", None)):
            continue
        options = dict(ix.options)
        if options.get("fastupdate", "on").strip().lower() in _OFF:
            continue
        limit = options.get("gin_pending_list_limit", "")
        if limit.isdigit() and int(limit) <= GIN_PENDING_LIST_KB:
            continue
        out.append(ix.name)
    return out


# Capitals beyond ASCII and their lower case: what a collation lowering text as Python does gives.
_CAPITALS = "ÄÖÜÉΣИ"


def ascii_lowered(conn: sa.Connection) -> dict[tuple[str, str], str]:
    """PostgreSQL: the text columns of the current schema whose collation's lower() leaves
    capitals beyond ASCII as they are (``(table, column)``: the collation), one query for the
    columns and one per collation they use."""
    rows = conn.execute(
        sa.text(
            "SELECT c.relname, a.attname, cn.nspname, co.collname FROM pg_attribute a "
            "JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace "
            "JOIN pg_collation co ON co.oid = a.attcollation "
            "JOIN pg_namespace cn ON cn.oid = co.collnamespace "
            "WHERE n.nspname = current_schema() AND a.attnum > 0 AND NOT a.attisdropped "
            "AND c.relkind IN ('r', 'p')"
        )
    ).all()
    quote = postgresql.dialect().identifier_preparer.quote  # type: ignore[no-untyped-call]
    lowers: dict[tuple[str, str], bool] = {}
    out: dict[tuple[str, str], str] = {}
    for table, column, space, name in rows:
        if (space, name) not in lowers:
            collate = f"{quote(space)}.{quote(name)}"
            low = conn.execute(sa.text(f"SELECT lower(CAST(:s AS text) COLLATE {collate})"), {"s": _CAPITALS})
            lowers[space, name] = low.scalar() == _CAPITALS.lower()
        if not lowers[space, name]:
            out[table, column] = name
    return out


def check_map(dm: DataMap, *, sample: int = 100) -> CheckReport:
    """Undeclared personal columns in live stores, and map entries that no longer exist."""
    report = CheckReport()
    urls = {name: spec.url for name, spec in dm.sql_stores().items() if spec.url}
    for name, url in urls.items():
        store = SqlStore(name, url)
        try:
            schema = store.introspect()
            indexes = {}
            tokens = None
            if schema.dialect == "sqlite":
                with store.connect() as conn:
                    indexes = text_catalog(conn)
            elif schema.dialect in ("mysql", "mariadb"):
                with store.connect() as conn:
                    tokens = token_catalog(conn)
            caseless = {}
            if schema.dialect == "postgresql":
                with store.connect() as conn:
                    caseless = ascii_lowered(conn)
        finally:
            store.dispose()
        for ref, table in dm.tables_of(name).items():
            tname = ref.split(".", 1)[1]
            info = schema.tables.get(tname)
            if info is None:
                report.vanished.append(
                    {"store": name, "table": tname, "column": None, "problem": "table no longer exists"}
                )
                continue
            live = {c.name for c in info.columns}
            wanted = set(table.columns) | set(table.match or {})
            wanted |= {hops[0].column for hops in table.paths}
            if table.tenant_column:
                wanted.add(table.tenant_column)
            for col in sorted(wanted - live):
                report.vanished.append(
                    {"store": name, "table": tname, "column": col, "problem": "column no longer exists"}
                )
            lookups = {hops[0].column: "foreign-key path" for hops in table.paths}
            lookups |= {c: "value link" for c in table.match or {}}
            for subject in dm.subjects.values():
                if subject.root == ref:
                    lookups |= {c: "identity" for c in subject.identities.values()}
            # The kind of identifier each lookup compares: emails by lower(), phones by their digits.
            kinds = {c: k for c, k in (table.match or {}).items()}
            for subject in dm.subjects.values():
                if subject.root == ref:
                    kinds |= {c: k for k, c in subject.identities.items()}
            for col, why in sorted(lookups.items()):
                if col not in live:
                    continue
                expr_fix = search_index(schema.dialect, tname, col, kinds.get(col))
                fix: str
                numbers = (
                    phone_indexable(info, col) if tokens is not None and kinds.get(col) == "phone" else None
                )
                if tokens is not None and numbers is not None:
                    # MariaDB: a number is looked up through the column's number index.
                    indexed, fix = tokens.has(numbers), "privet map index"
                elif schema.dialect == "sqlite" and kinds.get(col) == "phone":
                    # SQLite: through an index on the reversed tail of its digits, which
                    # `privet map index` creates (``phoneindex.TailIndex.statements``).
                    tail = TailIndex(tname, col)
                    indexed, fix = current(indexes, tail), "privet map index"
                elif kinds.get(col) in ("email", "phone") and expr_fix is not None:
                    indexed, fix = _has_indexes(info, col, _needs(schema.dialect, kinds[col])), expr_fix
                else:
                    indexed = info.is_indexed(col) or info.has_expression_index(col)
                    fix = f"CREATE INDEX ix_{tname}_{col} ON {tname} ({col})"
                if not indexed:
                    report.unindexed.append(
                        {"store": name, "table": tname, "column": col, "used_as": why, "fix": fix}
                    )
            # Columns every erasure's verification pass (and the mention pass) searches.
            for col, cspec in sorted(table.columns.items()):
                if col not in live:
                    continue
                kind = cspec.cat.identity if cspec.cat.identity in ("email", "phone") else None
                # Free text on PostgreSQL: the indexes earlier versions advised, and the pending lists.
                searched_pg = schema.dialect == "postgresql" and cspec.cat.free_text
                stale = _superseded(info, tname, col) if searched_pg else []
                untuned = [ix for ix in _untuned(info, col) if ix not in stale] if searched_pg else []
                advice = None
                text_index = indexable_info(info, col) if schema.dialect == "sqlite" else None
                token_index = token_indexable(info, col) if tokens is not None else None
                if cspec.cat.free_text and text_index is not None:
                    if not current(indexes, text_index):
                        advice = "; ".join([*text_index.drop_statements(), *text_index.statements()])
                elif cspec.cat.free_text and token_index is not None and tokens is not None:
                    if tokens.why is not None:
                        advice = f"the search index cannot serve on this server: {tokens.why}"
                    elif not tokens.current(token_index):
                        advice = "privet map index"
                elif col not in lookups and kind == "phone" and tokens is not None:
                    numbers = phone_indexable(info, col)
                    if numbers is not None and not tokens.has(numbers):
                        advice = "privet map index"
                elif col not in lookups and kind == "phone" and schema.dialect == "sqlite":
                    tail = TailIndex(tname, col)
                    if not current(indexes, tail):
                        advice = "privet map index"
                elif col not in lookups and (kind is not None or cspec.cat.free_text):
                    needs = _needs(schema.dialect, kind)
                    if not _has_indexes(info, col, needs):
                        # None: no index serves this search here; verification scans the column.
                        advice = search_index(schema.dialect, tname, col, kind, _present(info, col, needs))
                replaced = f"ix_{tname}_{col}_numbers"
                if advice is not None and replaced in stale and f"CREATE INDEX {replaced} " in advice:
                    # The advised index takes the name of the one it replaces.
                    advice = f"DROP INDEX {replaced}; {advice}"
                    stale.remove(replaced)
                if advice is not None:
                    report.unindexed.append(
                        {
                            "store": name,
                            "table": tname,
                            "column": col,
                            "used_as": f"searched for {kind or 'mentions'} by verification",
                            "fix": advice,
                        }
                    )
                if cspec.cat.free_text and (tname, col) in caseless:
                    report.ascii_case.append(
                        {
                            "store": name,
                            "table": tname,
                            "column": col,
                            "collation": caseless[tname, col],
                            "fix": f'ALTER TABLE {tname} ALTER COLUMN {col} TYPE text COLLATE "und-x-icu"',
                        }
                    )
                report.superseded += [
                    {"store": name, "table": tname, "column": col, "index": ix, "fix": f"DROP INDEX {ix}"}
                    for ix in stale
                ]
                report.untuned += [
                    {
                        "store": name,
                        "table": tname,
                        "column": col,
                        "index": ix,
                        "fix": f"ALTER INDEX {ix} SET (gin_pending_list_limit = {GIN_PENDING_LIST_KB})",
                    }
                    for ix in untuned
                ]
    found = discover(urls, sample=sample, region=dm.default_region)
    for found_col in found.columns:
        spec = dm.tables.get(f"{found_col['store']}.{found_col['table']}")
        if spec is None or found_col["column"] not in spec.columns:
            if found_col["confidence"] < 0.6:
                continue
            report.undeclared.append(
                {k: found_col[k] for k in ("store", "table", "column", "category", "confidence", "evidence")}
            )
    return report
