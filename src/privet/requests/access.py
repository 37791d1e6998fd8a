"""Art. 15 access and Art. 20 portability: one zip with everything held about the person.

Rows are streamed into the archive as they are read, and memory stays bounded (an
export is built in memory up to a few megabytes, in its file beyond); every file
in it is listed with its sha256 in ``manifest.json``.
"""

from __future__ import annotations

import csv
import datetime as dt
import decimal
import functools
import hashlib
import io
import itertools
import json
import math
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
import sqlalchemy as sa
from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup, escape

from privet.datamap import DataMap, TableSpec, split_ref
from privet.detection.operators import mentions
from privet.identity import Identity
from privet.requests.erase import as_identity, person_identities
from privet.requests.execute import mention_join_params, mention_join_pg, mention_params, mention_select
from privet.requests.matching import identity_shape, search_options
from privet.requests.resolve import Person, resolve
from privet.requests.select import Query, Selection, keep_row, table_query
from privet.requests.sweep import SWEEP_FROM, swept
from privet.requests.textindex import StoreIndexes, store_indexes
from privet.requests.zipout import Spool, ZipOut
from privet.settings import Settings
from privet.stores import Stores

RIGHTS = (
    "access (Art. 15)",
    "rectification (Art. 16)",
    "erasure (Art. 17)",
    "restriction (Art. 18)",
    "portability (Art. 20)",
    "objection (Art. 21)",
    "complaint to a supervisory authority (Art. 77)",
)


PAGE_ROWS = 5000
# A table with fewer of the person's rows is written from memory in one go; more are streamed.
SMALL_TABLE = 1000
# People searched for mentions in one statement by a batch export (a UNION of one search each) on
# SQLite and MariaDB for a group of fewer than ``SWEEP_FROM`` (a larger one sweeps each table
# once, ``privet.requests.sweep``), and on PostgreSQL when a search of theirs is not an index
# lookup; otherwise PostgreSQL searches a column for the whole group in one statement
# (``mention_join_pg``).
MENTION_CHUNK = 50
# PostgreSQL: from how many people a mention pass first merges the pending lists of the GIN
# indexes it searches (``SqlStore.merge_pending``): each search reads them whole (0.5 ms for a
# list of 1,600 rows), merging a full one costs about ten searches' worth.
MERGE_FROM = 12
# An export is built in memory up to this size, then in its file.
SPOOL_BYTES = 8 << 20
# Zip entries smaller than this are stored, not deflated: setting up deflate (a quarter megabyte
# of state) costs more than writing a few kilobytes as they are.
STORE_BELOW = 16 << 10


@dataclass
class AccessResult:
    subject: str
    found: bool
    rows: int = 0
    tables: dict[str, int] = field(default_factory=dict)
    files: int = 0
    mentions: int = 0
    out: str | None = None
    message: str = ""
    # Time of the mention pass over other people's free text (on PostgreSQL its searches travel
    # with the export's first reads: their time in the database is not counted here).
    mention_ms: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "subject": self.subject,
            "found": self.found,
            "rows": self.rows,
            "tables": self.tables,
            "files": self.files,
            "mentions": self.mentions,
            "out": self.out,
            "message": self.message,
        }


def _json_default(v: Any) -> Any:
    if isinstance(v, dt.datetime | dt.date | dt.time):
        return v.isoformat()
    if isinstance(v, decimal.Decimal):
        return str(v)
    if isinstance(v, bytes | memoryview):
        return "<binary>"
    return str(v)


def _entry_name(name: str) -> str:
    """A zip entry's name as the manifest lists it: zip readers end a name at a NUL (a file
    reference could hold one), so it is written as U+FFFD instead."""
    return name.replace("\x00", "\ufffd") if "\x00" in name else name


class _Archive:
    """An export's zip, written entry by entry (:class:`ZipOut`), remembering each entry's sha256
    and size for the manifest. Every entry is dated when the export was made."""

    def __init__(self, target: Path, spool_bytes: int | None = None) -> None:
        self.spool = Spool(target, SPOOL_BYTES if spool_bytes is None else spool_bytes)
        self.zip = ZipOut(self.spool, time.localtime()[:6])
        self.entries: list[dict[str, Any]] = []

    def write_stream(self, name: str, chunks_: Iterator[bytes]) -> None:
        name = _entry_name(name)
        h, size = hashlib.sha256(), 0

        def hashed() -> Iterator[bytes]:
            nonlocal size
            for chunk in chunks_:
                h.update(chunk)
                size += len(chunk)
                yield chunk

        self.zip.add_stream(name, hashed())
        self.entries.append({"path": name, "sha256": h.hexdigest(), "bytes": size})

    def write_bytes(self, name: str, data: bytes) -> None:
        name = _entry_name(name)
        self.zip.add(name, data, deflate=len(data) >= STORE_BELOW)
        self.spool.roll()
        self.entries.append({"path": name, "sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)})

    def write_text(self, name: str, text: str) -> None:
        self.write_bytes(name, text.encode("utf-8"))

    def close(self) -> None:
        """Finish the zip and leave it in the target file (the caller renames it)."""
        try:
            self.zip.close()
        except BaseException:
            self.spool.discard()
            raise
        self.spool.close()

    def discard(self) -> None:
        """Give up the export: nothing of it is left (after an error; never raises for a file
        already gone)."""
        self.spool.discard()


def _visible_columns(sel: Selection, key_links: set[str]) -> list[str]:
    """Columns the requester may see in a shared row: not the other person's link or values."""
    hidden = {h[0].column for h in sel.spec.paths} - key_links
    out = []
    for c in sel.table.columns:
        spec = sel.spec.columns.get(c.name)
        if c.name in hidden or (spec is not None and spec.belongs_to not in (None, *key_links)):
            continue
        out.append(c.name)
    return out


def _first_page(stores: Stores, q: Query) -> sa.Select[Any]:
    """The statement of the first page of a table's rows for the query's condition (built once)."""
    sel = q.sel
    cond = q.cond if q.cond is not None else sa.false()
    return stores.sql[sel.store].cached(
        ("first_page", sel.ref, sel.cond_key),
        lambda: sa.select(sel.table).where(cond).order_by(sel.pk).limit(PAGE_ROWS),
    )


def _rows(
    stores: Stores,
    dm: DataMap,
    person: Person,
    q: Query,
    first_page: tuple[list[str], list[tuple[Any, ...]]] | None = None,
) -> Iterator[dict[str, Any]]:
    """The person's full rows of one table, page by page (``first_page`` when already read with
    other tables'); in a shared row only the columns that are theirs."""
    sel = q.sel
    last: Any = None
    store = stores.sql[sel.store]
    first = _first_page(stores, q)
    with store.read() as conn:
        while True:
            # Pages keyed by primary key: one round trip for a typical person, flat memory for a big one.
            if last is None and first_page is not None:
                names, rows = first_page
            else:
                result = conn.execute(first if last is None else first.where(sel.pk > last), sel.params)
                names, rows = list(result.keys()), [tuple(r) for r in result]
            for row in rows:
                data = dict(zip(names, row, strict=True))
                if not keep_row(dm, person, q, data):
                    continue
                key = data[sel.pk.name]
                if key in sel.shared:
                    visible = _visible_columns(sel, sel.links.get(key, set()))
                    data = {k: v for k, v in data.items() if k in visible}
                yield data
            if len(rows) < PAGE_ROWS:
                return
            last = rows[-1][names.index(sel.pk.name)]


def _table_entries(
    archive: _Archive,
    stores: Stores,
    dm: DataMap,
    person: Person,
    q: Query,
    first_page: tuple[list[str], list[tuple[Any, ...]]] | None = None,
) -> tuple[int, list[tuple[str, str]]]:
    """The person's rows of one table into the archive; returns rows and file references."""
    columns = [c.name for c in q.sel.table.columns]
    return _write_table(archive, q.sel.ref, q.sel.spec, columns, _rows(stores, dm, person, q, first_page))


def _write_table(
    archive: _Archive, ref: str, spec: TableSpec, columns: list[str], rows: Iterator[dict[str, Any]]
) -> tuple[int, list[tuple[str, str]]]:
    """Write ``tables/<ref>.json`` and ``.csv`` from one pass over the rows (the CSV is spooled
    to a temporary file while the JSON streams into the archive); returns rows and file references.
    ``columns``: the table's columns in order. A row shared with another person lacks the columns
    that are theirs: absent from its JSON, empty in its CSV line."""
    count = 0
    files: list[tuple[str, str]] = []
    file_cols = {c: s.file_store for c, s in spec.columns.items() if s.file_store}
    head = list(itertools.islice(rows, SMALL_TABLE))
    if not head:
        return 0, files  # no entry for a table that holds nothing of the person
    if len(head) < SMALL_TABLE:
        return _write_small_table(archive, ref, head, file_cols, columns)
    first = head[0]
    rows = itertools.chain(head[1:], rows)
    with tempfile.SpooledTemporaryFile(max_size=1 << 20, mode="w+", newline="", encoding="utf-8") as spool:
        writer = csv.writer(spool)
        header = dict.fromkeys(columns)
        writer.writerow(header)

        def as_json() -> Iterator[bytes]:
            nonlocal count
            yield b"[\n"
            for i, row in enumerate(map(_finite, itertools.chain([first], rows))):
                count += 1
                for c, fs in file_cols.items():
                    if row.get(c):
                        files.append((fs or "", str(row[c])))
                writer.writerows(_csv_plain([_in_order(row, header)]))
                yield (b"," if i else b"") + _json_row(row)
            yield b"]\n"

        def as_csv() -> Iterator[bytes]:
            spool.seek(0)
            while chunk := spool.read(1 << 16):
                yield chunk.encode("utf-8")

        archive.write_stream(f"tables/{ref}.json", as_json())
        archive.write_stream(f"tables/{ref}.csv", as_csv())
    return count, files


# Values the csv module writes as an export shows them (str(Decimal), date.isoformat()); any
# other type (datetime, time, bytes…) goes through _json_default first.
_CSV_AS_IS = frozenset({str, int, float, bool, type(None), decimal.Decimal, dt.date})


def _in_order(row: dict[str, Any], header: dict[str, None]) -> tuple[Any, ...]:
    """The row's values in the header's order (None for a column a shared row does not show;
    every row's keys come in the table's column order)."""
    return tuple(row.values()) if row.keys() == header.keys() else tuple(map(row.get, header))


def _csv_plain(values: list[tuple[Any, ...]], types: set[type] | None = None) -> list[tuple[Any, ...]]:
    """Rows of values as the csv module should write them: one look at every value's type for
    all of them (``types``, when already known; most tables need no conversion), else dates,
    times and binary as in the JSON."""
    if types is None:
        types = set(map(type, itertools.chain.from_iterable(values)))
    if _CSV_AS_IS.issuperset(types):
        return values
    return [tuple(v if type(v) in _CSV_AS_IS else _json_default(v) for v in t) for t in values]


# The standard library's encoder for what orjson refuses (a time with a time zone, an integer
# beyond 64 bits): the same JSON, more slowly.
_ROW_ENCODER = json.JSONEncoder(default=_json_default, ensure_ascii=False, separators=(",", ":"))
_ROW_OPTIONS = orjson.OPT_APPEND_NEWLINE | orjson.OPT_PASSTHROUGH_SUBCLASS


def _json_row(row: dict[str, Any]) -> bytes:
    """One row as a line of JSON (dates in ISO 8601, decimals as strings, binary as "<binary>")."""
    try:
        return orjson.dumps(row, default=_json_default, option=_ROW_OPTIONS)
    except TypeError:
        return (_ROW_ENCODER.encode(row) + "\n").encode()


def _json_rows(rows: list[dict[str, Any]]) -> bytes:
    """``_json_row`` of every row joined by commas: one call to orjson per row, the standard
    library's encoder for every row when orjson refuses one."""
    try:
        return b",".join([orjson.dumps(r, default=_json_default, option=_ROW_OPTIONS) for r in rows])
    except TypeError:
        return b",".join(map(_json_row, rows))


def _finite(row: dict[str, Any]) -> dict[str, Any]:
    """The row with every non-finite float, also in an array, as the string JSON spells it ("NaN",
    "Infinity", "-Infinity"): JSON has no number for them, and null would say the value is missing."""
    if not any((type(v) is float and not math.isfinite(v)) or type(v) in (list, tuple) for v in row.values()):
        return row
    return {k: _finite_value(v) for k, v in row.items()}


def _finite_value(v: Any) -> Any:
    if type(v) is float and not math.isfinite(v):
        return "NaN" if v != v else "Infinity" if v > 0 else "-Infinity"
    if type(v) in (list, tuple):
        return [_finite_value(x) for x in v]
    return v


def _csv_text(
    rows: list[dict[str, Any]],
    columns: list[str],
    values: list[tuple[Any, ...]] | None = None,
    types: set[type] | None = None,
) -> bytes:
    """The CSV of the rows under the table's columns (``values``: the same rows as tuples in that
    order, when at hand; ``types``: the types of their values, when known); a shared row's
    hidden columns are empty."""
    header = dict.fromkeys(columns)
    if values is None:
        values = [_in_order(r, header) for r in rows]
    buf = io.StringIO(newline="")
    writer = csv.writer(buf)
    writer.writerow(header)
    writer.writerows(_csv_plain(values, types))
    return buf.getvalue().encode("utf-8")


def _write_small_table(
    archive: _Archive,
    ref: str,
    rows: list[dict[str, Any]],
    file_cols: dict[str, str],
    columns: list[str],
    values: list[tuple[Any, ...]] | None = None,
) -> tuple[int, list[tuple[str, str]]]:
    """``_write_table`` for rows already in hand (``values``: as tuples, when at hand): each entry
    built in memory and written at once (the same bytes as the streamed form)."""
    files = [(fs or "", str(row[c])) for row in rows for c, fs in file_cols.items() if row.get(c)]
    # The types of every value, looked at once for both the JSON and the CSV.
    cells = values if values is not None else (r.values() for r in rows)
    seen = set(map(type, itertools.chain.from_iterable(cells)))
    types: set[type] | None = seen
    if {float, list, tuple} & seen:
        finite = [_finite(r) for r in rows]
        if any(a is not b for a, b in zip(finite, rows, strict=True)):
            rows, values, types = finite, None, None  # the CSV looks at the new values again
    archive.write_bytes(f"tables/{ref}.json", b"[\n" + _json_rows(rows) + b"]\n")
    archive.write_bytes(f"tables/{ref}.csv", _csv_text(rows, columns, values, types))
    return len(rows), files


# Rows whose free text may mention someone of a group: (table, column, people of the statement,
# rows of (index in those people, key, text)).
_Candidates = list[tuple[str, str, list[int], list[tuple[Any, ...]]]]


# A mention search: (table, column, people of the statement, statement, parameters).
_Search = tuple[str, str, list[int], Any, dict[str, Any]]


def _mention_candidates(
    dm: DataMap,
    stores: Stores,
    people: list[set[Identity]],
    searches: dict[str, list[_Search]] | None = None,
    ahead: dict[str, list[list[tuple[Any, ...]]]] | None = None,
) -> _Candidates:
    """The SQL half of the mention pass for several people at once (their identities): per
    free-text column one statement for up to ``MENTION_CHUNK`` people, a UNION ALL of each
    person's indexed search (an OR of everyone's patterns would defeat the index), or on
    PostgreSQL one for all of them driven by their identities (``mention_join_pg``), or on
    SQLite and MariaDB, from ``SWEEP_FROM`` people, one sweep of each table for its columns
    without search indexes (``swept``, ``privet.requests.textindex``); every
    statement of a store in one round trip on PostgreSQL. Needs nothing but the identities, so a
    batch runs it beside its other work. ``searches``: ``_mention_searches`` for these people,
    when already built; ``ahead``: the rows of a store's searches already run with other reads."""
    out: _Candidates = []
    for store_name, items in (searches or _mention_searches(dm, stores, people)).items():
        store = stores.sql[store_name]
        found_here: _Candidates = []
        sweeping = [(ref, col) for ref, col, _group, stmt, _params in items if stmt is None]
        if sweeping:  # no index serves these columns (``_mention_searches``)
            with store.read() as conn:
                found_here += swept(conn, store, sweeping, people, dm.default_region)
        searched = [item for item in items if item[3] is not None]
        if searched:
            if ahead is not None and store_name in ahead:
                rows_of = ahead[store_name]
            else:
                with store.read() as conn:
                    if len(people) >= MERGE_FROM:
                        # Every search of many reads a GIN index's pending list whole: merged once first.
                        tables = dict.fromkeys(store.table(split_ref(r)[1]) for r, *_ in searched)
                        store.merge_pending(conn, list(tables))
                    statements = [(stmt, params) for *_rest, stmt, params in searched]
                    got = store.fetch_many(conn, statements, **_tuning(searched, people))
                rows_of = [rows for _names, rows in got]
            for (ref, col, group, _stmt, _params), rows in zip(searched, rows_of, strict=True):
                found_here.append((ref, col, group, rows))
        # In the map's order of tables and columns, swept or searched.
        order = {(ref, col): n for n, (ref, col, *_rest) in enumerate(items)}
        out += sorted(found_here, key=lambda c: order[(c[0], c[1])])
    return out


def _tuning(items: list[_Search], people: list[set[Identity]]) -> dict[str, bool]:
    """How these mention searches run (``search_options`` of the people they search for)."""
    return search_options(people[n] for _r, _c, group, _s, _p in items for n in group)


def _mention_searches(dm: DataMap, stores: Stores, people: list[set[Identity]]) -> dict[str, list[_Search]]:
    """The mention pass's statements for these people, by store (statements built once)."""
    groups = [
        list(range(i, min(i + MENTION_CHUNK, len(people)))) for i in range(0, len(people), MENTION_CHUNK)
    ]
    shapes = [identity_shape(ids) for ids in people]
    # PostgreSQL, several people whose searches are all index lookups: one statement per column
    # for all of them, driven by their identities (``mention_join_pg``).
    joined = len(people) > 1 and search_options(people)["plan_once"]
    join_params = mention_join_params(people) if joined else {}
    everyone = list(range(len(people)))
    searches: dict[str, list[_Search]] = {}
    indexes: dict[str, StoreIndexes] = {}
    for ref, spec in dm.tables.items():
        store_name, table_name = split_ref(ref)
        store = stores.sql.get(store_name)
        free = [c for c, s in spec.columns.items() if s.cat.free_text]
        if store is None or not free:
            continue
        table = store.table(table_name)
        for col in free:
            if store_name not in indexes:
                indexes[store_name] = store_indexes(store)
            index = indexes[store_name].of(table, col)
            if store.dialect != "postgresql" and index is None and len(people) >= SWEEP_FROM:
                # No index serves the search: each table swept once for the group (``swept``).
                searches.setdefault(store_name, []).append((ref, col, everyone, None, {}))
                continue
            if joined and store.dialect == "postgresql":
                join = mention_join_pg(table, col)
                if join is not None:
                    searches.setdefault(store_name, []).append((ref, col, everyone, join, join_params))
                continue
            for group in groups:
                shaped = tuple(indexes[store_name].shape(shapes[n], people[n]) for n in group)
                stmt = mention_select(table, col, shaped, store.dialect, index=index)
                if stmt is not None:
                    params = mention_params([people[n] for n in group])
                    searches.setdefault(store_name, []).append((ref, col, group, stmt, params))
    return searches


def _mention_fragments(
    dm: DataMap, candidates: _Candidates, people: list[tuple[set[Identity], dict[str, set[Any]]]]
) -> list[list[dict[str, Any]]]:
    """The Python half of the mention pass: for each person (identities and keys of their own
    rows), the fragments of other people's rows that mention them, in the order of the map's
    tables and columns, rows by primary key."""
    out: list[list[dict[str, Any]]] = [[] for _ in people]
    for ref, col, group, rows in candidates:
        last: tuple[Any, Any] | None = None
        for j, key, text in sorted(rows, key=lambda r: (r[0], r[1])):
            ids, own = people[group[j]]
            # A row found by two identities of a person (``mention_join_pg``) is read once.
            if not text or (j, key) == last or key in own.get(ref, set()):
                continue
            last = (j, key)
            value = str(text)
            for f in mentions(value, ids, region=dm.default_region):
                a, b = max(0, f.start - 40), min(len(value), f.end + 40)
                fragment = {"table": ref, "column": col, "fragment": value[a:b], "type": f.type}
                out[group[j]].append(fragment)
    return out


def _collect(
    dm: DataMap,
    stores: Stores,
    identity: Identity,
    tenant: str | None,
    archive: _Archive,
    result: AccessResult,
    mentions: bool = True,
) -> set[str]:
    """Every table's rows of the person into the archive (one statement per table), then their
    files and (``mentions``) the mentions of them in other people's rows; returns the subject
    kinds found."""
    res = resolve(dm, stores, identity, tenant=tenant)
    kinds = {p.kind for p in res.people}
    if not res.found:
        result.message = f"nobody in the map's stores has {identity}; the export is empty"
        return kinds
    result.found = True
    ids = person_identities(res)
    own: dict[str, set[Any]] = {}
    file_refs: list[tuple[str, str]] = []
    # The mention searches need only the identities: each store's go with its first pages.
    searches = _mention_searches(dm, stores, [ids]) if mentions else {}
    ahead: dict[str, list[list[tuple[Any, ...]]]] = {}
    for person in res.people:
        queries = [
            q
            for ref, spec in dm.tables.items()
            if (q := table_query(dm, stores, person, ref, spec)) is not None and q.cond is not None
        ]
        # The first page of every table of a store in one go (one round trip on PostgreSQL).
        pages: dict[int, tuple[list[str], list[tuple[Any, ...]]]] = {}
        for store_name in dict.fromkeys(q.sel.store for q in queries):
            mine = [i for i, q in enumerate(queries) if q.sel.store == store_name]
            store = stores.sql[store_name]
            reads = [(_first_page(stores, queries[i]), queries[i].sel.params) for i in mine]
            extra = [] if store_name in ahead else searches.get(store_name, [])
            with store.read() as conn:
                got = store.fetch_many(
                    conn,
                    reads + [(stmt, params) for *_rest, stmt, params in extra],
                    tune_from=len(reads),
                    **_tuning(extra, [ids]),
                )
            pages.update(zip(mine, got[: len(reads)], strict=True))
            if extra:
                ahead[store_name] = [rows for _names, rows in got[len(reads) :]]
        for i, q in enumerate(queries):
            ref = q.sel.ref
            n, refs = _table_entries(archive, stores, dm, person, q, pages[i])
            if n:
                own.setdefault(ref, set()).update(q.sel.keys)
                result.tables[ref] = result.tables.get(ref, 0) + n
                result.rows += n
                file_refs += refs
    fragments = None
    if mentions:
        started = time.perf_counter()
        candidates = _mention_candidates(dm, stores, [ids], searches, ahead)
        fragments = _mention_fragments(dm, candidates, [(ids, own)])[0]
        result.mention_ms = round((time.perf_counter() - started) * 1000, 2)
    _files_and_mentions(stores, archive, result, file_refs, fragments)
    return kinds


def _files_and_mentions(
    stores: Stores,
    archive: _Archive,
    result: AccessResult,
    file_refs: list[tuple[str, str]],
    fragments: list[dict[str, Any]] | None,
) -> None:
    """The person's files and the fragments of other people's rows that mention them (None: the
    mentions were not searched for, and the export has no mentions.json)."""
    for store_name, ref in file_refs:
        fs = stores.files.get(store_name)
        if fs is not None and fs.exists(ref):
            archive.write_stream(f"files/{store_name}/{ref.lstrip('/')}", fs.open_chunks(ref))
            result.files += 1
    if fragments is not None:
        result.mentions = len(fragments)
        archive.write_bytes("mentions.json", orjson.dumps(fragments, option=orjson.OPT_INDENT_2))


# Cache of information.html per set of subject kinds, generation time and whether mentions were
# searched, with a marker where the person's records per table go (the only part that differs
# between people of a batch).
_Pages = dict[tuple[frozenset[str], str, bool], str]
_TABLE_ROWS = "\x00privet-table-rows\x00"


def _seal(
    dm: DataMap,
    archive: _Archive,
    identity: Identity,
    result: AccessResult,
    kinds: set[str],
    pages: _Pages | None = None,
    mentions: bool = True,
) -> None:
    """information.html and manifest.json: the last entries of an export (``pages`` shares the
    rendering of information.html between the exports of a batch; ``mentions``: whether the
    export asked for the mention pass, which searched only if someone was found)."""
    mentions = mentions and result.found
    archive.write_text("information.html", _information(dm, kinds, result.tables, pages, mentions))
    manifest = {
        "subject": str(identity),
        "generated_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "found": result.found,
        "message": result.message,
        "rows": result.rows,
        "tables": result.tables,
        "mentions_searched": mentions,
        "files": archive.entries,
    }
    archive.write_bytes("manifest.json", orjson.dumps(manifest, option=orjson.OPT_INDENT_2))


@functools.cache
def _templates() -> Environment:
    return Environment(loader=PackageLoader("privet.requests", "templates"), autoescape=select_autoescape())


@functools.lru_cache(maxsize=4096)
def _cell(ref: str) -> str:
    """A table's name as an HTML table cell (the same few names in every export of a map)."""
    return f"<tr><td>{escape(ref)}</td><td>"


def _table_rows(tables: dict[str, int]) -> str:
    """information.html's rows of the person's records per table: the one part of the page that
    differs between the people of a batch, so built without a template render per export."""
    if not tables:
        return '<tr><td colspan="2">none</td></tr>'
    return "".join(f"{_cell(ref)}{int(n)}</td></tr>" for ref, n in tables.items())


def _information(
    dm: DataMap, kinds: set[str], tables: dict[str, int], pages: _Pages | None = None, mentions: bool = True
) -> str:
    env = _templates()
    generated = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    rows = _table_rows(tables)
    key = (frozenset(kinds), generated, mentions)
    if pages is not None and key in pages:
        return pages[key].replace(_TABLE_ROWS, rows, 1)
    categories: dict[str, str] = {}
    for _ref, spec in dm.tables.items():
        if spec.subject in kinds:
            for cs in spec.columns.values():
                categories[cs.category] = cs.cat.label
    retention = [{"table": r.table, "after": r.after, "actions": r.actions} for r in dm.retention]
    holds = [
        {"table": ref, "basis": s.legal_hold.basis, "years": s.legal_hold.years}
        for ref, s in dm.tables.items()
        if s.legal_hold and s.subject in kinds
    ]
    page = env.get_template("information.html").render(
        purposes=dm.purposes,
        categories=sorted(categories.items()),
        recipients=dm.recipients,
        retention=retention,
        holds=holds,
        rights=RIGHTS,
        table_rows=Markup(_TABLE_ROWS),
        mentions=mentions,
        generated=generated,
    )
    if pages is not None:
        for stale in [k for k in pages if k[1] != generated]:
            del pages[stale]
        pages[key] = page
    return page.replace(_TABLE_ROWS, rows, 1)


def access(
    dm: DataMap,
    settings: Settings,
    subject: str | Identity,
    *,
    out: Path | None = None,
    tenant: str | None = None,
    stores: Stores | None = None,
    mentions: bool = True,
) -> AccessResult:
    """Export everything held about the person into a zip (``out``); nobody found is an empty
    export. ``mentions=False`` leaves out the search of other people's records for mentions of
    the person (a portability export under Art. 20 covers what the person provided)."""
    identity = as_identity(dm, subject)
    result = AccessResult(subject=str(identity), found=False)
    target = out or Path(f"access-{identity.kind}.zip")
    tmp = target.with_name(f".{target.name}.part")
    archive = _Archive(tmp)
    own_stores = stores is None
    stores = stores or Stores(dm)
    try:
        with stores.reading():
            kinds = _collect(dm, stores, identity, tenant, archive, result, mentions)
        _seal(dm, archive, identity, result, kinds, mentions=mentions)
    except BaseException:
        archive.discard()
        raise
    finally:
        if own_stores:
            stores.close()
    archive.close()
    tmp.replace(target)
    result.out = str(target)
    return result
