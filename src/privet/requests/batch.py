"""Batch exports: one zip per person for many people at once, each table read once per group
of people, optionally in worker processes. Every export holds exactly what
:func:`privet.requests.access.access` gives for that person."""

from __future__ import annotations

import concurrent.futures
import contextlib
import csv
import gc
import io
import itertools
import multiprocessing
import operator
import os
import pickle
import sys
import threading
import time
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from multiprocessing.connection import Connection, wait
from pathlib import Path
from typing import Any, TypeVar, cast

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from privet.datamap import DataMap, TableSpec, split_ref
from privet.errors import AmbiguousSubject, BadInput
from privet.identity import Identity
from privet.requests import render
from privet.requests.access import (
    SMALL_TABLE,
    AccessResult,
    _Archive,
    _csv_plain,
    _files_and_mentions,
    _json_rows,
    _mention_candidates,
    _mention_fragments,
    _Pages,
    _seal,
    _table_entries,
    _write_small_table,
    _write_table,
)
from privet.requests.erase import as_identity, person_identities
from privet.requests.matching import equals_many, equals_many_pg, many_params
from privet.requests.resolve import Person, Resolution, normalized_identity, resolve_many
from privet.requests.select import table_query
from privet.requests.textindex import store_indexes
from privet.settings import Settings
from privet.stores import Stores

# A batch's exports of one group are open together: each is built in memory up to this size only.
BATCH_SPOOL_BYTES = 512 << 10
# People exported together (each table read once for them), and the most worker processes a
# batch takes by default.
GROUP = 200
MAX_DEFAULT_WORKERS = 8

_T = TypeVar("_T")


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
        # A phone column with a number index is looked up in it, one range or value per number.
        indexes = store_indexes(store) if any(kind == "phone" for _col, kind in cols) else None

        def found(col: str, kind: str) -> sa.ColumnElement[bool]:
            numbers = indexes.phones_of(table, col) if kind == "phone" and indexes is not None else None
            if numbers is not None:
                return numbers.equals_many(table, values_of[kind])
            return equals_many(table.c[col], kind, values_of[kind], store.dialect)

        conds = [found(col, kind) for col, kind in cols]
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


@dataclass(frozen=True)
class _OwnedRead:
    """How a table reached by one key path is read for a list of owners (parameter
    ``privet_owners``): ``rows`` gives its rows ordered by owner then key, the owner last in each
    row; ``rendered``, where the database renders the table (``privet.requests.render``), one row
    per owner with its entries' lines."""

    pk: str
    names: list[str]
    rows: sa.Select[Any]
    rendered: sa.Select[Any] | None


@dataclass
class _Owned:
    """A table's rows read for a group: raw (ordered by owner, the owner last) or, when
    ``rendered``, one row per owner (``render.rendered_select``)."""

    pk: str
    names: list[str]
    rows: list[tuple[Any, ...]]
    rendered: bool = False


def _owned_read(dm: DataMap, stores: Stores, ref: str, spec: TableSpec) -> _OwnedRead | None:
    """For a table reached by one key path: how it is read for many owners at once. None for the
    other tables. Built once per store and table."""
    store = stores.sql[split_ref(ref)[0]]

    def build() -> _OwnedRead | None:
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
        names = [str(c.name) for c in table.columns]  # plain str: orjson takes no subclass as a key
        mine = stmt.where(cond)
        rendered = None
        kinds = render.kinds(table) if store.dialect == "postgresql" else None
        if kinds is not None and not any(s.file_store for s in spec.columns.values()):
            rendered = render.rendered_select(mine, kinds, pk, "__owner")
        return _OwnedRead(pk.name, names, mine.order_by(owner, pk), rendered)

    return store.cached(("batch_owned", ref), build)


def _read_owned(
    dm: DataMap, stores: Stores, owners_of: dict[str, dict[Any, list[tuple[_Export, Person]]]]
) -> dict[str, _Owned]:
    """The rows of the group's owners in every table reached by one key path (``_owned_read``),
    rendered by the database where it can. Each store's tables are read together, on lists of at
    most 1,000 owners (one round trip per list on PostgreSQL). A table whose rendering is not
    exact for one of the owners is read again as rows."""
    reads: dict[str, list[tuple[str, _OwnedRead, list[Any]]]] = {}
    for ref, owners in owners_of.items():
        store_name = split_ref(ref)[0]
        if store_name not in stores.sql:
            continue
        built = _owned_read(dm, stores, ref, dm.tables[ref])
        if built is not None:
            reads.setdefault(store_name, []).append((ref, built, list(owners)))
    out: dict[str, _Owned] = {}
    for store_name, items in reads.items():
        store = stores.sql[store_name]
        longest = max(len(keys) for *_rest, keys in items)
        for n in range(0, longest, 1000):
            part = [(ref, how, keys[n : n + 1000]) for ref, how, keys in items if keys[n : n + 1000]]
            with store.read() as conn:
                found = store.fetch_many(
                    conn,
                    [
                        (how.rendered if how.rendered is not None else how.rows, {_OWNERS: keys})
                        for _r, how, keys in part
                    ],
                    large=True,
                )
            for (ref, how, _keys), (_names, rows) in zip(part, found, strict=True):
                out.setdefault(ref, _Owned(how.pk, how.names, [], how.rendered is not None)).rows.extend(rows)
        for ref, how, keys in items:
            rendered = out[ref].rendered
            if rendered and not all(r[-1] and render.in_order(r[2]) for r in out[ref].rows):
                # A decimal Python writes in exponent notation, or rows not in order: the
                # group's table read as rows.
                with store.read() as conn:
                    ((_names, rows),) = store.fetch_many(conn, [(how.rows, {_OWNERS: keys})], large=True)
                out[ref] = _Owned(how.pk, how.names, rows)
    return out


def access_batch(
    dm: DataMap,
    settings: Settings,
    subjects: list[str | Identity],
    *,
    out_dir: Path,
    tenant: str | None = None,
    stores: Stores | None = None,
    group: int = GROUP,
    workers: int = 1,
    stats: dict[str, float] | None = None,
    mentions: bool = True,
) -> list[AccessResult]:
    """Exports for many people at once, one zip each (``out_dir/access-000001.zip`` … in the
    order given): each table is read once per group of people instead of once per person,
    and every export holds exactly what :func:`access` gives for that person. A subject that
    names two people is refused in its result (no file); malformed subjects stop the batch
    before anything is written. ``workers`` > 1 shares the groups out among that many processes
    (each with its own connections; ``stores`` then serves none of them). ``stats``, when given,
    is filled with milliseconds per phase (resolve, read, value_linked, write, per_person_tables,
    files_and_mentions of which mentions, seal), summed over the processes. ``mentions=False``
    leaves out the mention pass, as :func:`access` does."""
    with _collector_paused():
        return _access_batch(dm, subjects, out_dir, tenant, stores, group, workers, stats, mentions)


def _access_batch(
    dm: DataMap,
    subjects: list[str | Identity],
    out_dir: Path,
    tenant: str | None,
    stores: Stores | None,
    group: int,
    workers: int,
    stats: dict[str, float] | None,
    mentions: bool,
) -> list[AccessResult]:
    identities = [as_identity(dm, s) for s in subjects]
    if workers < 1:
        raise BadInput(f"workers must be at least 1, got {workers}", value=workers, hint="e.g. --workers 2")
    out_dir.mkdir(parents=True, exist_ok=True)
    job = _Batch(dm, out_dir, tenant, group, mentions)
    stats = stats if stats is not None else {}
    if workers > 1 and len(identities) > 1:
        return _in_processes(job, identities, stores, workers, stats)
    return _export_range(job, identities, 0, stores, stats)


def default_workers(subjects: int, group: int = GROUP) -> int:
    """Worker processes for a batch of this many people: one per core (at most
    ``MAX_DEFAULT_WORKERS``), no more than it has groups. Two processes on two cores shared
    with PostgreSQL exported 1,000 people in 561 ms where one took 726 (measured)."""
    cores = os.cpu_count() or 1
    return max(1, min(cores, MAX_DEFAULT_WORKERS, -(-subjects // group)))


@dataclass(frozen=True)
class _Batch:
    """What every part of a batch export shares."""

    dm: DataMap
    out_dir: Path
    tenant: str | None
    group: int
    mentions: bool


def _export_range(
    job: _Batch, identities: list[Identity], first: int, stores: Stores | None, stats: dict[str, float]
) -> list[AccessResult]:
    """The exports of ``identities``, numbered from ``first``, group by group: each group read
    (``_gather``), written (``_write_group``) and finished (``_finish``). Three stages at once, a
    thread each: the next group is read (the database renders it) and the group before is
    finished (its files written) while a group is written. A failure leaves no export of its
    group nor of the one read ahead; the groups before it are finished."""
    own_stores = stores is None
    stores = stores or Stores(job.dm)
    results: list[AccessResult] = []
    for store in stores.sql.values():
        _ = store.engine  # made here, not by two threads at once
    searching = None
    if job.mentions:
        searching = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="privet-mentions")
    gathering = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="privet-gather")
    finishing = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="privet-finish")
    finished: list[concurrent.futures.Future[None]] = []

    def gather(start: int) -> _Gathered:
        # On a connection of this thread's own, while the group before is being written.
        with stores.reading():
            part = identities[start : start + job.group]
            return _gather(job, stores, part, first + start, stats, searching)

    starts = range(0, len(identities), job.group)
    ahead: concurrent.futures.Future[_Gathered] | None = None
    try:
        with stores.reading():
            ahead = gathering.submit(gather, starts[0]) if starts else None
            for n in range(len(starts)):
                assert ahead is not None
                group = ahead.result()
                ahead = gathering.submit(gather, starts[n + 1]) if n + 1 < len(starts) else None
                exports = _write_group(job, stores, group, stats)
                finished.append(finishing.submit(_finish_after, finished[-1:], exports))
                results += [ex.result for ex in exports]
                for done in finished:
                    if done.done():
                        done.result()  # a group that could not be finished stops the batch
            for done in finished:
                done.result()
    finally:
        _drop_ahead(ahead)
        finishing.shutdown(wait=True)
        gathering.shutdown(wait=True)
        if searching is not None:
            # After a failure a search not started is cancelled; one under way ends first.
            searching.shutdown(wait=True, cancel_futures=True)
        if own_stores:
            stores.close()
    return results


def _drop_ahead(ahead: concurrent.futures.Future[_Gathered] | None) -> None:
    """After a failure, the group read ahead of the one being written is given up: nothing of its
    exports is left, and its own error (if any) gives way to the first one."""
    if ahead is None or ahead.cancel():
        return
    with contextlib.suppress(BaseException):
        ahead.result().discard()


@contextlib.contextmanager
def _collector_paused() -> Iterator[None]:
    """Python's cyclic garbage collector paused while a batch is exported (``access_batch``, and
    each worker process in its range), as it was before afterwards. A group's rows, dicts and
    zip entries hold no reference cycles (a batch of 1,000 exports left none for the collector
    to find): reference counting frees them, while the collector would walk every one of a
    group's ~100k new objects again and again (measured: a tenth of a batch's time in one
    process, a quarter with two workers). Paused for the whole batch, not group by group:
    between groups the threads reading the next group and finishing the last one still hold
    theirs, and a collection there walked them all (measured, 1,000 exports: 32-146 ms of
    collections per batch paused by group, 7-17 ms paused throughout). What the process might
    leave in a cycle meanwhile waits for the next collection after it."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


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
            with _collector_paused():  # as in the parent: a spawned worker starts with it on
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


def _timed(fn: Callable[..., _T], *args: Any) -> tuple[float, _T]:
    """``fn(*args)`` and how many milliseconds it took."""
    started = time.perf_counter()
    out = fn(*args)
    return (time.perf_counter() - started) * 1000, out


def _asked(
    ref: str, owners: dict[Any, list[tuple[_Export, Person]]], key: Any
) -> list[tuple[_Export, Person]]:
    """The exports (and people) that asked for the rows of the owner ``key``."""
    pairs = owners.get(key)
    if pairs is None:
        raise RuntimeError(f"{ref}: rows of owner {key!r} that the batch did not ask for")
    return pairs


def _give(
    ref: str,
    pairs: list[tuple[_Export, Person]],
    json_bytes: bytes,
    csv_bytes: bytes,
    n: int,
    keys: list[Any],
) -> None:
    """An owner's table entries, built once, into each export that asked for them."""
    for ex, _person in pairs:
        ex.archive.write_bytes(f"tables/{ref}.json", json_bytes)
        ex.archive.write_bytes(f"tables/{ref}.csv", csv_bytes)
        ex.add(ref, n, keys, [])


def _write_owned(
    ref: str, spec: TableSpec, owned: _Owned, owners: dict[Any, list[tuple[_Export, Person]]]
) -> None:
    """A table's rows read for the group into the owners' exports: the same entries as
    ``_write_small_table`` and ``_write_table`` write for one person. Rendered by the database,
    each owner's entries only need their brackets and header; read as rows (ordered by owner, the
    owner's key last), what is the same for the whole group is worked out once: the types of its
    values, the CSV's header line and writer, the entries' names."""
    names, rows = owned.names, owned.rows
    buf = io.StringIO(newline="")
    writer = csv.writer(buf)
    writer.writerow(names)
    header = buf.getvalue().encode("utf-8")
    if owned.rendered:
        for key, n, keys, json_lines, csv_lines, _exact in rows:
            json_bytes, csv_bytes = b"[\n" + json_lines.encode() + b"]\n", header + csv_lines.encode()
            _give(ref, _asked(ref, owners, key), json_bytes, csv_bytes, n, keys)
        return
    file_cols = {c: s.file_store or "" for c, s in spec.columns.items() if s.file_store}
    at = names.index(owned.pk)
    types = set(map(type, itertools.chain.from_iterable(rows)))  # the owner's key too: a superset
    # Non-finite floats and file references are looked at row by row, person by person.
    as_one = not file_cols and not ({float, list, tuple} & types)
    for key, grouped in itertools.groupby(rows, key=operator.itemgetter(-1)):
        values = [r[:-1] for r in grouped]
        mine = [dict(zip(names, r, strict=True)) for r in values]
        pairs = _asked(ref, owners, key)
        keys = [r[at] for r in values]
        if as_one and len(mine) < SMALL_TABLE:
            json_bytes = b"[\n" + _json_rows(mine) + b"]\n"
            buf.seek(0)
            buf.truncate()
            writer.writerows(_csv_plain(values, types))
            csv_bytes = header + buf.getvalue().encode("utf-8")
            _give(ref, pairs, json_bytes, csv_bytes, len(values), keys)
            continue
        for ex, _person in pairs:
            if len(mine) < SMALL_TABLE:
                n, refs = _write_small_table(ex.archive, ref, mine, file_cols, names, values)
            else:
                n, refs = _write_table(ex.archive, ref, spec, names, iter(mine))
            ex.add(ref, n, keys, refs)


@dataclass
class _Gathered:
    """A group as read from the stores, before anything is written: its exports (archives still
    empty), the people found and their identities, the mention search under way, and the rows of
    the tables read for the whole group."""

    exports: list[_Export]
    ids: list[set[Identity]]  # of the people found, in the order of ``found``
    search: concurrent.futures.Future[tuple[float, Any]] | None
    owners_of: dict[str, dict[Any, list[tuple[_Export, Person]]]]
    owned: dict[str, _Owned]
    linked: dict[str, dict[Any, list[dict[str, Any]]]]

    @property
    def found(self) -> list[_Export]:
        """The exports of subjects who were found (neither refused nor nobody)."""
        return [ex for ex in self.exports if ex.people]

    def discard(self) -> None:
        for ex in self.exports:
            ex.archive.discard()


def _gather(
    job: _Batch,
    stores: Stores,
    identities: list[Identity],
    start: int,
    stats: dict[str, float],
    searching: concurrent.futures.ThreadPoolExecutor | None,
) -> _Gathered:
    """Resolve a group and read what is read for all of it at once: the tables reached by one key
    path and the tables linked by value. The mention search is handed to ``searching`` (a thread
    of its own: the database runs it while the rows are written); nothing is written."""
    dm = job.dm
    exports: list[_Export] = []
    lap = _Laps(stats)
    try:
        resolved = resolve_many(dm, stores, identities, tenant=job.tenant)
        for i, (identity, res) in enumerate(zip(identities, resolved, strict=True)):
            target = job.out_dir / f"access-{start + i + 1:06d}.zip"
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
        found = [ex for ex in exports if ex.people]
        ids = [person_identities(Resolution(ex.identity, ex.people)) for ex in found]
        # The mention pass's statements need only the identities: the database runs them
        # while the exports' own rows are read and written.
        search = None
        if searching is not None:
            search = searching.submit(_timed, _mention_candidates, dm, stores, ids)
        owners_of: dict[str, dict[Any, list[tuple[_Export, Person]]]] = {}
        for ref, spec in dm.tables.items():
            # A person may be asked for twice in one batch (by email, by phone): each export
            # gets the rows.
            owners: dict[Any, list[tuple[_Export, Person]]] = {}
            for ex in exports:
                for person in ex.people:
                    if person.kind == spec.subject:
                        owners.setdefault(person.key, []).append((ex, person))
            if owners and spec.subject in dm.subjects:
                owners_of[ref] = owners
        # Tables reached by one key path: every such table of a store read for the whole
        # group in one go (one round trip on PostgreSQL), rows ordered by owner.
        owned = _read_owned(dm, stores, owners_of)
        lap("read_ms")
        linked = {
            ref: _value_linked(dm, stores, ref, dm.tables[ref], owners)
            for ref, owners in owners_of.items()
            if ref not in owned and dm.tables[ref].match and not dm.tables[ref].paths
        }
        lap("value_linked_ms")
    except BaseException:
        for ex in exports:
            ex.archive.discard()
        raise
    return _Gathered(exports, ids, search, owners_of, owned, linked)


def _write_group(job: _Batch, stores: Stores, g: _Gathered, stats: dict[str, float]) -> list[_Export]:
    """A gathered group's exports written and sealed: the rows read for the group, the tables
    read person by person (shared rows, several paths), the mentions, information.html and the
    manifest (``_finish`` then completes the files)."""
    dm, exports, found = job.dm, g.exports, g.found
    lap = _Laps(stats)
    try:
        for ref, spec in dm.tables.items():
            owners = g.owners_of.get(ref, {})
            if not owners:
                continue
            if ref in g.owned:
                _write_owned(ref, spec, g.owned[ref], owners)
                lap("write_ms")
                continue
            if ref in g.linked:
                table = stores.sql[split_ref(ref)[0]].table(split_ref(ref)[1])
                pk = next(iter(table.primary_key.columns))
                columns = [c.name for c in table.columns]
                for key, mine in g.linked[ref].items():
                    for ex, _person in owners[key]:
                        n, refs = _write_table(ex.archive, ref, spec, columns, iter(mine))
                        ex.add(ref, n, [r[pk.name] for r in mine], refs)
                lap("write_ms")
                continue
            for pairs in owners.values():
                for ex, person in pairs:
                    q = table_query(dm, stores, person, ref, spec)
                    if q is not None and q.cond is not None:
                        q_rows, refs = _table_entries(ex.archive, stores, dm, person, q)
                        ex.add(ref, q_rows, q.sel.keys, refs)
            lap("per_person_tables_ms")
        # One mention pass for the whole group. What it cost the batch (waiting for its statements,
        # then the fragments) is shared out among the exports; how long the statements ran beside
        # the rest is reported apart.
        fragments: list[list[dict[str, Any]]] | list[None] = [None] * len(found)
        mention_ms = 0.0
        if g.search is not None:
            started = time.perf_counter()
            search_ms, candidates = g.search.result()
            fragments = _mention_fragments(
                dm, candidates, [(i, ex.own) for i, ex in zip(g.ids, found, strict=True)]
            )
            mention_ms = (time.perf_counter() - started) * 1000
            stats["mentions_ms"] = round(stats.get("mentions_ms", 0.0) + mention_ms, 2)
            stats["mention_search_ms"] = round(stats.get("mention_search_ms", 0.0) + search_ms, 2)
        for ex, its_fragments in zip(found, fragments, strict=True):
            ex.result.mention_ms = round(mention_ms / len(found), 2)
            _files_and_mentions(stores, ex.archive, ex.result, ex.file_refs, its_fragments)
        lap("files_and_mentions_ms")
        pages: _Pages = {}
        for ex in exports:
            kinds = {p.kind for p in ex.people}
            _seal(dm, ex.archive, ex.identity, ex.result, kinds, pages, job.mentions)
    except BaseException:
        g.discard()
        raise
    lap("seal_ms")
    return exports


class _GivenUp(Exception):
    """A group's finishing given up because a group before it could not be finished."""


def _finish_after(before: list[concurrent.futures.Future[None]], exports: list[_Export]) -> None:
    """``_finish`` for a group once the group before (``before``: its finishing, if any) is
    finished; if that failed or was given up, so is this group (the batch is stopping): every
    group after a failure is given up, however far the writing got ahead of the finishing."""
    if before and before[0].exception() is not None:
        for ex in exports:
            ex.archive.discard()
        raise _GivenUp
    _finish(exports)


def _finish(exports: list[_Export]) -> None:
    """Each written export's zip completed and moved to its name (a refused one left out); after
    a failure, nothing is left of the exports not finished."""
    done = 0
    try:
        for ex in exports:
            if ex.result.message.startswith("refused:"):
                ex.archive.discard()
            else:
                ex.archive.close()
                ex.tmp.replace(ex.target)
                ex.result.out = str(ex.target)
            done += 1
    except BaseException:
        for ex in exports[done:]:
            ex.archive.discard()
        raise
