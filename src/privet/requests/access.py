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
import multiprocessing
import operator
import pickle
import sys
import tempfile
import threading
import time
import traceback
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from multiprocessing.connection import Connection, wait
from pathlib import Path
from typing import IO, Any, cast

import orjson
import sqlalchemy as sa
from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup
from sqlalchemy.dialects import postgresql

from privet.datamap import DataMap, TableSpec, split_ref
from privet.detection.operators import mentions
from privet.errors import AmbiguousSubject, BadInput
from privet.identity import Identity
from privet.requests.erase import as_identity, person_identities
from privet.requests.execute import mention_params, mention_select
from privet.requests.matching import equals_identity, equals_many_pg, identity_shape, many_params
from privet.requests.resolve import Person, Resolution, normalized_identity, resolve, resolve_many
from privet.requests.select import Query, Selection, keep_row, table_query
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
# People searched for mentions in one statement by a batch export.
MENTION_CHUNK = 50
# An export is built in memory up to this size, then in its file; in a batch, where a group's
# exports are open together, up to the smaller size.
SPOOL_BYTES = 8 << 20
BATCH_SPOOL_BYTES = 512 << 10
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
    mention_ms: float = 0.0  # time of the mention pass over other people's free text

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


class _Spool:
    """Where an export's zip is built: in memory until it passes ``SPOOL_BYTES``, then in its
    target file. zipfile seeks back over every entry to write its sizes into the header (which
    keeps the zip readable by streaming readers, such as Java's, that refuse a stored entry with
    a trailing data descriptor); in memory a seek is free, on a file it is a flush and a system
    call. The file's methods are bound directly: no wrapper call per write."""

    def __init__(self, target: Path, limit: int) -> None:
        self.target = target
        self.limit = limit
        self.file: IO[bytes] | None = None
        self.mem = io.BytesIO()
        self._bind(self.mem)

    def _bind(self, f: IO[bytes]) -> None:
        self.write, self.tell, self.seek, self.flush = f.write, f.tell, f.seek, f.flush

    def seekable(self) -> bool:
        return True

    def roll(self) -> None:
        """Move to the target file once the zip has grown past the limit."""
        if self.file is None and self.mem.tell() > self.limit:
            at = self.mem.tell()
            self.file = self.target.open("w+b")
            self.file.write(self.mem.getbuffer())
            self.file.seek(at)
            self._bind(self.file)
            self.mem = io.BytesIO()

    def close(self) -> None:
        """Leave the zip in the target file."""
        if self.file is not None:
            self.file.close()
        else:
            self.target.write_bytes(self.mem.getbuffer())

    def discard(self) -> None:
        """Drop what was written, in memory or in the target file."""
        self.mem = io.BytesIO()
        if self.file is not None:
            self.file.close()
        self.target.unlink(missing_ok=True)


class _Archive:
    """A zip written entry by entry, remembering each entry's sha256 and size."""

    def __init__(self, target: Path, spool_bytes: int | None = None) -> None:
        self.spool = _Spool(target, SPOOL_BYTES if spool_bytes is None else spool_bytes)
        # Level 1: most of the size gain of deflate at a fraction of its time (exports are mostly JSON).
        self.zip = zipfile.ZipFile(self.spool, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1)
        self.entries: list[dict[str, Any]] = []

    def write_stream(self, name: str, chunks_: Iterator[bytes]) -> None:
        h, size = hashlib.sha256(), 0
        with self.zip.open(name, "w", force_zip64=True) as fh:
            for chunk in chunks_:
                h.update(chunk)
                size += len(chunk)
                fh.write(chunk)
                self.spool.roll()
        self.entries.append({"path": name, "sha256": h.hexdigest(), "bytes": size})

    def write_bytes(self, name: str, data: bytes) -> None:
        # A small entry is stored as it is: deflate's set-up would cost more than its few bytes saved.
        small = len(data) < STORE_BELOW
        self.zip.writestr(name, data, compress_type=zipfile.ZIP_STORED if small else None)
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
                writer.writerow(_csv_values(row, header))
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


def _csv_values(row: dict[str, Any], header: dict[str, None]) -> list[Any]:
    """The row's values in the header's order ("" for a column a shared row does not show; every
    row's keys come in the table's column order)."""
    values = list(row.values()) if row.keys() == header.keys() else [row.get(k) for k in header]
    if _CSV_AS_IS.issuperset(map(type, values)):
        return values
    return [v if type(v) in _CSV_AS_IS else _json_default(v) for v in values]


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
    rows: list[dict[str, Any]], columns: list[str], values: list[tuple[Any, ...]] | None = None
) -> bytes:
    """The CSV of the rows under the table's columns (``values``: the same rows as tuples in that
    order, when at hand); a shared row's hidden columns are empty."""
    header = dict.fromkeys(columns)
    if values is None:
        values = [tuple(r.values()) if r.keys() == header.keys() else tuple(map(r.get, header)) for r in rows]
    # One look at every value's type for the whole table: most tables need no conversion at all.
    if not _CSV_AS_IS.issuperset(set(map(type, itertools.chain.from_iterable(values)))):
        values = [tuple(v if type(v) in _CSV_AS_IS else _json_default(v) for v in t) for t in values]
    buf = io.StringIO(newline="")
    writer = csv.writer(buf)
    writer.writerow(header)
    writer.writerows(values)
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
    if {float, list, tuple} & set(map(type, itertools.chain.from_iterable(r.values() for r in rows))):
        finite = [_finite(r) for r in rows]
        if any(a is not b for a, b in zip(finite, rows, strict=True)):
            rows, values = finite, None
    archive.write_bytes(f"tables/{ref}.json", b"[\n" + b",".join(map(_json_row, rows)) + b"]\n")
    archive.write_bytes(f"tables/{ref}.csv", _csv_text(rows, columns, values))
    return len(rows), files


def _mention_fragments_of_group(
    dm: DataMap, stores: Stores, people: list[tuple[set[Identity], dict[str, set[Any]]]]
) -> list[list[dict[str, Any]]]:
    """The mention pass for several people at once (each with their identities and own rows):
    per free-text column one statement for up to ``MENTION_CHUNK`` people, a UNION ALL of each
    person's indexed search (an OR of everyone's patterns would defeat the index). Fragments
    per person, in the order of the map's tables and columns, rows by primary key."""
    out: list[list[dict[str, Any]]] = [[] for _ in people]
    groups = [
        list(range(i, min(i + MENTION_CHUNK, len(people)))) for i in range(0, len(people), MENTION_CHUNK)
    ]
    shapes = [identity_shape(ids) for ids, _own in people]
    # Per store, every search (table, column, group of people) in one go: one round trip on PostgreSQL.
    searches: dict[str, list[tuple[str, str, list[int], Any, dict[str, Any]]]] = {}
    for ref, spec in dm.tables.items():
        store_name, table_name = split_ref(ref)
        store = stores.sql.get(store_name)
        free = [c for c, s in spec.columns.items() if s.cat.free_text]
        if store is None or not free:
            continue
        table = store.table(table_name)
        for col in free:
            for group in groups:
                stmt = mention_select(table, col, tuple(shapes[n] for n in group))
                if stmt is not None:
                    params = mention_params([people[n][0] for n in group])
                    searches.setdefault(store_name, []).append((ref, col, group, stmt, params))
    for store_name, items in searches.items():
        store = stores.sql[store_name]
        with store.read() as conn:
            found = store.fetch_many(
                conn, [(stmt, params) for _r, _c, _g, stmt, params in items], large=len(people) > 1
            )
        for (ref, col, group, _stmt, _params), (_names, rows) in zip(items, found, strict=True):
            for j, key, text in sorted(rows, key=lambda r: (r[0], r[1])):
                ids, own = people[group[j]]
                if not text or key in own.get(ref, set()):
                    continue
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
) -> set[str]:
    """Every table's rows of the person into the archive (one statement per table), then their
    files and the mentions of them in other people's rows; returns the subject kinds found."""
    res = resolve(dm, stores, identity, tenant=tenant)
    kinds = {p.kind for p in res.people}
    if not res.found:
        result.message = f"nobody in the map's stores has {identity}; the export is empty"
        return kinds
    result.found = True
    ids = person_identities(res)
    own: dict[str, set[Any]] = {}
    file_refs: list[tuple[str, str]] = []
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
            with store.read() as conn:
                got = store.fetch_many(
                    conn, [(_first_page(stores, queries[i]), queries[i].sel.params) for i in mine]
                )
            pages.update(zip(mine, got, strict=True))
        for i, q in enumerate(queries):
            ref = q.sel.ref
            n, refs = _table_entries(archive, stores, dm, person, q, pages[i])
            if n:
                own.setdefault(ref, set()).update(q.sel.keys)
                result.tables[ref] = result.tables.get(ref, 0) + n
                result.rows += n
                file_refs += refs
    started = time.perf_counter()
    fragments = _mention_fragments_of_group(dm, stores, [(ids, own)])[0]
    result.mention_ms = round((time.perf_counter() - started) * 1000, 2)
    _files_and_mentions(stores, archive, result, file_refs, fragments)
    return kinds


def _files_and_mentions(
    stores: Stores,
    archive: _Archive,
    result: AccessResult,
    file_refs: list[tuple[str, str]],
    fragments: list[dict[str, Any]],
) -> None:
    """The person's files and the fragments of other people's rows that mention them."""
    for store_name, ref in file_refs:
        fs = stores.files.get(store_name)
        if fs is not None and fs.exists(ref):
            archive.write_stream(f"files/{store_name}/{ref.lstrip('/')}", fs.open_chunks(ref))
            result.files += 1
    result.mentions = len(fragments)
    archive.write_bytes("mentions.json", orjson.dumps(fragments, option=orjson.OPT_INDENT_2))


# Cache of information.html per set of subject kinds and generation time, with a marker where
# the person's records per table go (the only part that differs between people of a batch).
_Pages = dict[tuple[frozenset[str], str], str]
_TABLE_ROWS = "\x00privet-table-rows\x00"


def _seal(
    dm: DataMap,
    archive: _Archive,
    identity: Identity,
    result: AccessResult,
    kinds: set[str],
    pages: _Pages | None = None,
) -> None:
    """information.html and manifest.json: the last entries of an export (``pages`` shares the
    rendering of information.html between the exports of a batch)."""
    archive.write_text("information.html", _information(dm, kinds, result.tables, pages))
    manifest = {
        "subject": str(identity),
        "generated_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "found": result.found,
        "message": result.message,
        "rows": result.rows,
        "tables": result.tables,
        "files": archive.entries,
    }
    archive.write_bytes("manifest.json", orjson.dumps(manifest, option=orjson.OPT_INDENT_2))


@functools.cache
def _templates() -> Environment:
    return Environment(loader=PackageLoader("privet.requests", "templates"), autoescape=select_autoescape())


def _information(dm: DataMap, kinds: set[str], tables: dict[str, int], pages: _Pages | None = None) -> str:
    env = _templates()
    generated = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    rows = env.get_template("table_rows.html").render(tables=tables)
    key = (frozenset(kinds), generated)
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
) -> AccessResult:
    """Export everything held about the person into a zip (``out``); nobody found is an empty export."""
    identity = as_identity(dm, subject)
    result = AccessResult(subject=str(identity), found=False)
    target = out or Path(f"access-{identity.kind}.zip")
    tmp = target.with_name(f".{target.name}.part")
    archive = _Archive(tmp)
    own_stores = stores is None
    stores = stores or Stores(dm)
    try:
        with stores.reading():
            kinds = _collect(dm, stores, identity, tenant, archive, result)
        _seal(dm, archive, identity, result, kinds)
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


@dataclass
class _Export:
    """One subject's export while a batch is written."""

    identity: Identity
    result: AccessResult
    target: Path
    tmp: Path
    archive: _Archive
    people: list[Person] = field(default_factory=list)
    own: dict[str, set[Any]] = field(default_factory=dict)
    file_refs: list[tuple[str, str]] = field(default_factory=list)

    def add(self, ref: str, n: int, keys: Iterator[Any] | list[Any], refs: list[tuple[str, str]]) -> None:
        if n:
            self.own.setdefault(ref, set()).update(keys)
            self.result.tables[ref] = self.result.tables.get(ref, 0) + n
            self.result.rows += n
            self.file_refs += refs


class _Laps:
    """Adds the time since the previous call to a named phase."""

    def __init__(self, stats: dict[str, float]) -> None:
        self.stats = stats
        self.last = time.perf_counter()

    def __call__(self, phase: str) -> None:
        now = time.perf_counter()
        self.stats[phase] = round(self.stats.get(phase, 0.0) + (now - self.last) * 1000, 2)
        self.last = now


def _owner_select(
    dm: DataMap, stores: Stores, ref: str, spec: TableSpec, root: str
) -> tuple[sa.Table, sa.Select[Any]] | None:
    """The table's rows with the root key they belong to (``__owner``), for tables reached by
    one foreign-key path of primary keys; None for the rest (several paths, shared rows, value
    links), which are read person by person."""
    store_name, table_name = split_ref(ref)
    store = stores.sql.get(store_name)
    if store is None or spec.match:
        return None
    table = store.table(table_name)
    if ref == root:
        pk = list(table.primary_key.columns)
        return (table, sa.select(table, pk[0].label("__owner"))) if len(pk) == 1 else None
    paths = [p for p in spec.paths if p[-1].table == root and split_ref(p[-1].table)[0] == store_name]
    if len(paths) != 1 or any(h.target is not None for h in paths[0]):
        return None
    hops = paths[0]
    joined: sa.FromClause = table
    owner: sa.ColumnElement[Any] = table.c[hops[0].column]
    for i, hop in enumerate(hops[:-1]):
        hop_table = store.table(split_ref(hop.table)[1])
        pks = list(hop_table.primary_key.columns)
        if len(pks) != 1:
            return None
        alias = hop_table.alias(f"privet_hop{i}")
        joined = joined.join(alias, owner == alias.c[pks[0].name])
        owner = alias.c[hops[i + 1].column]
    if store.dialect in ("mysql", "mariadb"):
        # Comparisons follow the column's collation there ('ANNA' = 'anna'): the owner is the
        # root's own key, as resolution read it, not the link's spelling of it.
        root_table = store.table(split_ref(root)[1])
        root_pks = list(root_table.primary_key.columns)
        if len(root_pks) != 1:
            return None
        root_alias = root_table.alias("privet_root")
        joined = joined.join(root_alias, owner == root_alias.c[root_pks[0].name])
        owner = root_alias.c[root_pks[0].name]
    return table, sa.select(table, owner.label("__owner")).select_from(joined)


def _value_linked(
    dm: DataMap, stores: Stores, ref: str, spec: TableSpec, owners: dict[Any, list[tuple[_Export, Person]]]
) -> dict[Any, list[dict[str, Any]]]:
    """A table linked to people by value only (``match``), read once for a whole group: the rows
    whose stored value, normalized, is an identity of one of them, by root key."""
    store = stores.sql[split_ref(ref)[0]]
    table = store.table(split_ref(ref)[1])
    pk = next(iter(table.primary_key.columns))
    match = spec.match or {}
    by_value: dict[tuple[str, str], set[Any]] = {}
    for key, pairs in owners.items():
        for kind in set(match.values()):
            for v in pairs[0][1].values(kind):
                by_value.setdefault((kind, v), set()).add(key)
    values_of = {kind: {v for k, v in by_value if k == kind} for kind in set(match.values())}
    out: dict[Any, list[dict[str, Any]]] = {}
    seen: dict[tuple[str, Any], str | None] = {}
    if not any(values_of.values()):
        return out
    cols = tuple((col, kind) for col, kind in match.items() if values_of[kind])
    if store.dialect == "postgresql":
        # One statement, its text the same for any group (cached), driven by the identities (every
        # one an index lookup; a `pk IN (…)` form lets the planner scan the table instead), a row
        # found twice (two columns, two people's tails) taken once, in primary key order.
        def build() -> sa.Select[Any]:
            parts = [equals_many_pg(table, col, kind, n) for n, (col, kind) in enumerate(cols)]
            found = (parts[0] if len(parts) == 1 else sa.union_all(*parts)).subquery("privet_found")
            key = found.c[pk.name]
            return sa.select(found).distinct(key).order_by(key)

        stmt = store.cached(("value_linked", ref, cols), build)
        params: dict[str, Any] = {}
        for n, (_col, kind) in enumerate(cols):
            params |= many_params(kind, values_of[kind], n)
    else:
        conds = [equals_identity(table.c[col], kind, values_of[kind], store.dialect) for col, kind in cols]
        stmt, params = sa.select(table).where(sa.or_(*conds)).order_by(pk), {}
    with store.read() as conn:
        names, rows = store.fetch_many(
            conn, [(stmt, params)], large=True, once=store.dialect != "postgresql"
        )[0]
    for row in rows:
        data = dict(zip(names, row, strict=True))
        keys: set[Any] = set()
        for col, kind in match.items():
            raw = data[col]
            if (kind, raw) not in seen:  # a number stored in several rows is parsed once
                seen[(kind, raw)] = normalized_identity(kind, raw, dm.default_region)
            norm = seen[(kind, raw)]
            if norm:
                keys |= by_value.get((kind, norm), set())
        for key in keys:
            out.setdefault(key, []).append(data)
    return out


_OWNERS = "privet_owners"


def _owned_read(dm: DataMap, stores: Stores, ref: str, spec: TableSpec) -> tuple[str, sa.Select[Any]] | None:
    """For a table reached by one key path: its primary key's name and the statement reading the
    rows of a list of owners (parameter ``privet_owners``), ordered by owner then key, the owner
    last in each row. None for the other tables. Built once per store and table."""
    store = stores.sql[split_ref(ref)[0]]

    def build() -> tuple[str, sa.Select[Any]] | None:
        subject = dm.subjects.get(spec.subject or "")
        shaped = _owner_select(dm, stores, ref, spec, subject.root) if subject else None
        if shaped is None:
            return None
        table, stmt = shaped
        pk = next(iter(table.primary_key.columns))
        owner = stmt.selected_columns["__owner"]
        if store.dialect == "postgresql":
            # One array parameter: the statement's text is the same for any number of owners.
            cond = owner == sa.any_(sa.bindparam(_OWNERS, type_=postgresql.ARRAY(owner.type)))
        else:
            cond = owner.in_(sa.bindparam(_OWNERS, expanding=True))
        return pk.name, stmt.where(cond).order_by(owner, pk)

    return store.cached(("batch_owned", ref), build)


def _read_owned(
    dm: DataMap, stores: Stores, owners_of: dict[str, dict[Any, list[tuple[_Export, Person]]]]
) -> dict[str, tuple[str, list[str], list[tuple[Any, ...]]]]:
    """The rows of the group's owners in every table reached by one key path: per table its
    primary key's name, column names and rows (``_owned_read``). Each store's tables are read
    together, on lists of at most 1,000 owners (one round trip per list on PostgreSQL)."""
    reads: dict[str, list[tuple[str, str, sa.Select[Any], list[Any]]]] = {}
    for ref, owners in owners_of.items():
        store_name = split_ref(ref)[0]
        if store_name not in stores.sql:
            continue
        built = _owned_read(dm, stores, ref, dm.tables[ref])
        if built is not None:
            reads.setdefault(store_name, []).append((ref, built[0], built[1], list(owners)))
    out: dict[str, tuple[str, list[str], list[tuple[Any, ...]]]] = {}
    for store_name, items in reads.items():
        store = stores.sql[store_name]
        longest = max(len(keys) for *_rest, keys in items)
        for n in range(0, longest, 1000):
            part = [
                (ref, pk, stmt, keys[n : n + 1000]) for ref, pk, stmt, keys in items if keys[n : n + 1000]
            ]
            with store.read() as conn:
                found = store.fetch_many(
                    conn, [(stmt, {_OWNERS: keys}) for _r, _p, stmt, keys in part], large=True
                )
            for (ref, pk, _stmt, _keys), (names, rows) in zip(part, found, strict=True):
                out.setdefault(ref, (pk, names[:-1], []))[2].extend(rows)
    return out


def access_batch(
    dm: DataMap,
    settings: Settings,
    subjects: list[str | Identity],
    *,
    out_dir: Path,
    tenant: str | None = None,
    stores: Stores | None = None,
    group: int = 200,
    workers: int = 1,
    stats: dict[str, float] | None = None,
) -> list[AccessResult]:
    """Exports for many people at once, one zip each (``out_dir/access-000001.zip`` … in the
    order given): each table is read once per group of people instead of once per person,
    and every export holds exactly what :func:`access` gives for that person. A subject that
    names two people is refused in its result (no file); malformed subjects stop the batch
    before anything is written. ``workers`` > 1 shares the groups out among that many processes
    (each with its own connections; ``stores`` then serves none of them). ``stats``, when given,
    is filled with milliseconds per phase (resolve, read, write, per_person_tables,
    files_and_mentions of which mentions, seal), summed over the processes."""
    identities = [as_identity(dm, s) for s in subjects]
    if workers < 1:
        raise BadInput(f"workers must be at least 1, got {workers}", value=workers, hint="e.g. --workers 2")
    out_dir.mkdir(parents=True, exist_ok=True)
    job = _Batch(dm, out_dir, tenant, group)
    stats = stats if stats is not None else {}
    if workers > 1 and len(identities) > 1:
        return _in_processes(job, identities, stores, workers, stats)
    return _export_range(job, identities, 0, stores, stats)


@dataclass(frozen=True)
class _Batch:
    """What every part of a batch export shares."""

    dm: DataMap
    out_dir: Path
    tenant: str | None
    group: int


def _export_range(
    job: _Batch, identities: list[Identity], first: int, stores: Stores | None, stats: dict[str, float]
) -> list[AccessResult]:
    """The exports of ``identities``, numbered from ``first``, group by group."""
    own_stores = stores is None
    stores = stores or Stores(job.dm)
    results: list[AccessResult] = []
    try:
        with stores.reading():
            for start in range(0, len(identities), job.group):
                part = identities[start : start + job.group]
                results += _export_group(job.dm, stores, part, first + start, job.out_dir, job.tenant, stats)
    finally:
        if own_stores:
            stores.close()
    return results


def _range_in_child(
    send: Connection, job: _Batch, identities: list[Identity], first: int, stores: Stores | None
) -> None:
    """A worker process's part of a batch; its results, or the error that stopped it, go back
    through ``send``. Forked with the parent's stores, it opens and closes connections of its own."""
    try:
        if stores is not None:
            stores.after_fork()
        stats: dict[str, float] = {}
        try:
            results = _export_range(job, identities, first, stores, stats)
        finally:
            if stores is not None:
                stores.close()
        send.send(("ok", results, stats))
    except BaseException as exc:  # reported to the parent, which raises it
        send.send(("error", _portable(exc), {}))
    finally:
        send.close()


def _portable(exc: BaseException) -> BaseException:
    """The error as it can travel to the parent, with the worker's traceback in a note: itself
    when it survives pickling, else a RuntimeError with its type and message."""
    trace = "".join(traceback.format_exception(exc)).strip()
    exc.add_note(f"in a batch worker:\n{trace}")
    try:
        pickle.loads(pickle.dumps(exc))
        return exc
    except Exception:  # any error of pickling: the text goes instead
        return RuntimeError(f"a batch worker failed: {type(exc).__name__}: {exc}\n{trace}")


def _can_fork() -> bool:
    """Fork on Linux in a process with a single thread: a thread holding a lock at the fork
    would leave it held for ever in the child (the API's worker threads, for instance)."""
    return sys.platform.startswith("linux") and threading.active_count() == 1


def _in_processes(
    job: _Batch, identities: list[Identity], stores: Stores | None, workers: int, stats: dict[str, float]
) -> list[AccessResult]:
    """The batch in contiguous ranges, one process each, each range in groups: the Python work of
    writing zips runs on every core while the database answers the other processes. Forked
    where that is safe (a child starts at once and keeps the reflected schema and built
    statements, on connections of its own); elsewhere spawned (it imports Privet and opens
    its stores afresh). The first error stops the other workers and is raised."""
    per = -(-len(identities) // workers)
    ranges = [(start, identities[start : start + per]) for start in range(0, len(identities), per)]
    fork = _can_fork()
    context = multiprocessing.get_context("fork") if fork else multiprocessing.get_context("spawn")
    children = []
    outcomes: list[tuple[list[AccessResult], dict[str, float]] | None] = [None] * len(ranges)
    try:
        for start, part in ranges:
            recv, send = context.Pipe(duplex=False)
            child = context.Process(
                target=_range_in_child, args=(send, job, part, start, stores if fork else None), daemon=True
            )
            child.start()
            send.close()
            children.append((child, recv))
        waiting = {recv: n for n, (_child, recv) in enumerate(children)}
        while waiting:
            for ready in wait(list(waiting)):
                conn = cast(Connection, ready)
                n = waiting.pop(conn)
                child = children[n][0]
                try:
                    message: tuple[str, Any, dict[str, float]] = conn.recv()
                    status, payload, part_stats = message
                except EOFError:  # the process died without a word (killed, out of memory)
                    child.join()
                    raise RuntimeError(f"a batch worker ended with exit code {child.exitcode}") from None
                child.join()
                if status == "error":
                    raise payload
                outcomes[n] = (payload, part_stats)
    except BaseException:
        # A worker that failed, died or was stopped may leave the export it was writing half done.
        for child, _recv in children:
            if child.is_alive():
                child.terminate()
                child.join()
        for i in range(len(identities)):
            (job.out_dir / f".access-{i + 1:06d}.zip.part").unlink(missing_ok=True)
        raise
    finally:
        for _child, recv in children:
            recv.close()
    results: list[AccessResult] = []
    for outcome in outcomes:
        assert outcome is not None
        part_results, part_stats = outcome
        results += part_results
        for phase, ms in part_stats.items():
            stats[phase] = round(stats.get(phase, 0.0) + ms, 2)
    return results


def _export_group(
    dm: DataMap,
    stores: Stores,
    identities: list[Identity],
    start: int,
    out_dir: Path,
    tenant: str | None,
    stats: dict[str, float],
) -> list[AccessResult]:
    exports: list[_Export] = []
    lap = _Laps(stats)
    try:
        resolved = resolve_many(dm, stores, identities, tenant=tenant)
        for i, (identity, res) in enumerate(zip(identities, resolved, strict=True)):
            target = out_dir / f"access-{start + i + 1:06d}.zip"
            tmp = target.with_name(f".{target.name}.part")
            result = AccessResult(subject=str(identity), found=False)
            ex = _Export(identity, result, target, tmp, _Archive(tmp, BATCH_SPOOL_BYTES))
            exports.append(ex)
            if isinstance(res, AmbiguousSubject):
                ex.result.message = f"refused: {res}"
                continue
            ex.people = res.people
            ex.result.found = res.found
            if not res.found:
                ex.result.message = f"nobody in the map's stores has {identity}; the export is empty"
        lap("resolve_ms")
        owners_of: dict[str, dict[Any, list[tuple[_Export, Person]]]] = {}
        for ref, spec in dm.tables.items():
            # A person may be asked for twice in one batch (by email, by phone): each export gets the rows.
            owners: dict[Any, list[tuple[_Export, Person]]] = {}
            for ex in exports:
                for person in ex.people:
                    if person.kind == spec.subject:
                        owners.setdefault(person.key, []).append((ex, person))
            if owners and spec.subject in dm.subjects:
                owners_of[ref] = owners
        # Tables reached by one key path: every such table of a store read for the whole group in
        # one go (one round trip on PostgreSQL), rows ordered by owner.
        owned = _read_owned(dm, stores, owners_of)
        lap("read_ms")
        for ref, spec in dm.tables.items():
            owners = owners_of.get(ref, {})
            if not owners:
                continue
            if ref in owned:
                pk_name, names, rows = owned[ref]
                file_cols = {c: s.file_store or "" for c, s in spec.columns.items() if s.file_store}
                at = names.index(pk_name)
                for key, grouped in itertools.groupby(rows, key=operator.itemgetter(-1)):
                    values = [r[:-1] for r in grouped]
                    mine = [dict(zip(names, r, strict=True)) for r in values]
                    if key not in owners:
                        raise RuntimeError(f"{ref}: rows of owner {key!r} that the batch did not ask for")
                    for ex, _person in owners[key]:
                        if len(mine) < SMALL_TABLE:
                            n, refs = _write_small_table(ex.archive, ref, mine, file_cols, names, values)
                        else:
                            n, refs = _write_table(ex.archive, ref, spec, names, iter(mine))
                        ex.add(ref, n, [r[at] for r in values], refs)
                lap("write_ms")
                continue
            if spec.match and not spec.paths:
                table = stores.sql[split_ref(ref)[0]].table(split_ref(ref)[1])
                pk = next(iter(table.primary_key.columns))
                columns = [c.name for c in table.columns]
                for key, mine in _value_linked(dm, stores, ref, spec, owners).items():
                    for ex, _person in owners[key]:
                        n, refs = _write_table(ex.archive, ref, spec, columns, iter(mine))
                        ex.add(ref, n, [r[pk.name] for r in mine], refs)
                lap("value_linked_ms")
                continue
            for pairs in owners.values():
                for ex, person in pairs:
                    q = table_query(dm, stores, person, ref, spec)
                    if q is not None and q.cond is not None:
                        q_rows, refs = _table_entries(ex.archive, stores, dm, person, q)
                        ex.add(ref, q_rows, q.sel.keys, refs)
            lap("per_person_tables_ms")
        found = [ex for ex in exports if ex.people]
        ids = [person_identities(Resolution(ex.identity, ex.people)) for ex in found]
        # One mention pass for the whole group, its time shared out among the exports.
        started = time.perf_counter()
        fragments = _mention_fragments_of_group(
            dm, stores, [(i, ex.own) for i, ex in zip(ids, found, strict=True)]
        )
        mention_ms = (time.perf_counter() - started) * 1000
        stats["mentions_ms"] = round(stats.get("mentions_ms", 0.0) + mention_ms, 2)
        for ex, its_fragments in zip(found, fragments, strict=True):
            ex.result.mention_ms = round(mention_ms / len(found), 2)
            _files_and_mentions(stores, ex.archive, ex.result, ex.file_refs, its_fragments)
        lap("files_and_mentions_ms")
        pages: _Pages = {}
        for ex in exports:
            _seal(dm, ex.archive, ex.identity, ex.result, {p.kind for p in ex.people}, pages)
        lap("seal_ms")
    except BaseException:
        for ex in exports:
            ex.archive.discard()
        raise
    sealed = 0
    try:
        for ex in exports:
            if ex.result.message.startswith("refused:"):
                ex.archive.discard()
            else:
                ex.archive.close()
                ex.tmp.replace(ex.target)
                ex.result.out = str(ex.target)
            sealed += 1
    except BaseException:
        for ex in exports[sealed:]:
            ex.archive.discard()
        raise
    return [ex.result for ex in exports]
