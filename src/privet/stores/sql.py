"""SQL stores through SQLAlchemy: SQLite, PostgreSQL, MariaDB/MySQL.

Introspection, bounded dialect-aware sampling and streaming reads. Every value
travels as a bound parameter; identifiers come only from introspection or the
validated map and are quoted by SQLAlchemy.
"""

from __future__ import annotations

import contextlib
import functools
import re
import threading
import time
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any, TypeVar, cast

import sqlalchemy as sa
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Connection, Engine

from privet.errors import BadInput, StoreUnreachable, UnknownName
from privet.stores.schema import ColumnInfo, ForeignKey, IndexInfo, SchemaInfo, TableInfo

T = TypeVar("T")

_TEXT_TYPES = (sa.String, sa.Text, sa.Unicode, sa.UnicodeText, sa.Enum)
_TEMPORAL_TYPES = (sa.Date, sa.DateTime, sa.Time)
_NUMERIC_TYPES = (sa.Integer, sa.Numeric, sa.Float)
# psycopg prepares a statement on the server from its run after this many on one connection.
PREPARE_AFTER = 1


def make_engine(url: str, **kwargs: Any) -> Engine:
    """An engine for a SQLAlchemy URL, with a clear error for a malformed one."""
    try:
        parsed = sa.engine.make_url(url)
    except sa_exc.ArgumentError as exc:
        raise BadInput(
            f"'{url}' is not a database URL",
            value=url,
            hint="write a SQLAlchemy URL: sqlite:///app.db, postgresql+psycopg://user@host/db, "
            "mysql+pymysql://user@host/db",
        ) from exc
    try:
        if parsed.get_backend_name() == "sqlite":
            engine = sa.create_engine(parsed, **kwargs)
            sa.event.listen(engine, "connect", _sqlite_pragmas)
            return engine
        if parsed.get_backend_name() == "postgresql":
            parsed, prepare = _prepare_threshold(parsed)
        if parsed.get_backend_name() == "postgresql" and parsed.get_driver_name() == "psycopg":
            # A statement run twice on a connection is prepared on the server: later runs skip
            # parsing, and PostgreSQL may keep one plan for a key lookup (after five runs, when it
            # costs no more than one made for the values). Statements for many people are planned
            # for their values every time, indexed text searches once (``for_many_people``).
            kwargs.setdefault("connect_args", {}).setdefault("prepare_threshold", prepare)
        engine = sa.create_engine(parsed, **kwargs)
        if parsed.get_backend_name() == "postgresql" and parsed.get_driver_name() == "psycopg":
            sa.event.listen(engine, "connect", _no_generic_plans_before_12)
        if not kwargs.get("pool_pre_ping"):
            sa.event.listen(engine.pool, "checkin", _idle_since)
            sa.event.listen(engine.pool, "checkout", functools.partial(_ping_if_idle, engine.dialect))
        return engine
    except (sa_exc.NoSuchModuleError, ImportError) as exc:
        raise BadInput(
            f"no driver for '{parsed.drivername}' in {url}",
            value=url,
            hint="use sqlite://, postgresql+psycopg:// or mysql+pymysql://",
        ) from exc


def _prepare_threshold(parsed: sa.URL) -> tuple[sa.URL, int | None]:
    """The URL without Privet's ``prepare_threshold`` option, and the option: after how many runs
    on a connection a statement is prepared, ``none`` for never (a connection pooler that
    cannot keep prepared statements, such as PgBouncer before 1.21 in transaction mode)."""
    given = parsed.query.get("prepare_threshold")
    if given is None:
        return parsed, PREPARE_AFTER
    text = str(given if isinstance(given, str) else given[-1]).strip().lower()
    if text == "none":
        return parsed.difference_update_query(["prepare_threshold"]), None
    if not (text.isascii() and text.isdigit()):
        shown = parsed.render_as_string(hide_password=True)
        raise BadInput(
            f"prepare_threshold={text!r} in {shown} is neither a number nor 'none'",
            value=shown,
            hint="write ?prepare_threshold=none to prepare nothing (behind PgBouncer in transaction mode), "
            "or a number of runs, e.g. ?prepare_threshold=1",
        )
    return parsed.difference_update_query(["prepare_threshold"]), int(text)


# A pooled connection idle for longer than this is tested with a round trip before use (the
# server may have closed it); one given back moments ago is used as it is. SQLAlchemy's
# pre-ping tests every checkout, a round trip that was a tenth of a typical subject request.
PING_AFTER_IDLE_SECONDS = 1.0


def _idle_since(_dbapi_conn: Any, record: Any) -> None:
    record.info["privet_idle_since"] = time.monotonic()


def _ping_if_idle(dialect: sa.Dialect, dbapi_conn: Any, record: Any, _proxy: Any) -> None:
    """Pool checkout: a connection idle too long answers a ping, or the pool replaces it."""
    since = record.info.get("privet_idle_since")
    if since is None or time.monotonic() - since < PING_AFTER_IDLE_SECONDS:
        return
    try:
        dialect.do_ping(dbapi_conn)
    except dialect.loaded_dbapi.Error as exc:
        if dialect.is_disconnect(exc, dbapi_conn, None):
            raise sa_exc.DisconnectionError(str(exc)) from exc
        raise


# A decimal digit of another script than ASCII's (Arabic-Indic, Devanagari, fullwidth...), as
# Python's ``re`` reads digits: the phone recognizer reads numbers written in them.
OTHER_DIGIT = re.compile(r"[^\D0-9]")
# The SQLite function Privet's connections have for it (``privet.requests.matching``): a class of
# sixty ranges in a GLOB costs about a microsecond per character of every text searched (3.6 s
# over 60,000 messages, measured), the function a regular expression's search in C.
SQLITE_OTHER_DIGITS = "privet_other_digits"
# MariaDB: the key of a reflected table's ``info`` naming its columns compared ignoring case (a
# ``_ci`` collation), where ``col IN (…)`` finds every value ``lower(col) IN (…)`` finds, through
# the column's index (``matching.equals_bound``).
CASELESS = "privet_caseless"


def _has_other_digits(text: Any) -> bool:
    return isinstance(text, str) and OTHER_DIGIT.search(text) is not None


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=5000")
    cur.close()
    dbapi_conn.create_function(SQLITE_OTHER_DIGITS, 1, _has_other_digits, deterministic=True)


def _caseless(conn: Connection, table: str) -> frozenset[str]:
    """MariaDB: the table's columns whose collation ignores case."""
    rows = conn.execute(
        sa.text(
            "SELECT COLUMN_NAME FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() "
            "AND TABLE_NAME = :t AND COLLATION_NAME LIKE '%\\_ci'"
        ),
        {"t": table},
    )
    return frozenset(r[0] for r in rows)


@contextmanager
def _quiet_reflection() -> Iterator[None]:
    """SQLite's expression indexes are read apart (see ``_sqlite_expression_indexes``)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Skipped unsupported reflection of expression-based index")
        yield


def safe_url(url: str) -> str:
    """The URL with any password hidden, for messages and logs."""
    try:
        return sa.engine.make_url(url).render_as_string(hide_password=True)
    except sa_exc.ArgumentError:
        return url


class SqlStore:
    """One database of the map."""

    def __init__(self, name: str, url: str, *, engine: Engine | None = None) -> None:
        self.name = name
        self.url = url
        self._engine = engine
        self._tables: dict[str, sa.Table] = {}
        self._metadata = sa.MetaData()
        self._schema: SchemaInfo | None = None
        self._local = threading.local()
        self._reflecting = threading.Lock()
        # Statements and conditions built once and reused (``cached``); a store serves one map.
        self.statements: dict[Any, Any] = {}
        self._piped_cache: dict[int, tuple[Any, _Piped | None]] = {}
        self._read_committed: bool | None = None  # MariaDB: see _read_committed_allowed

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            self._engine = make_engine(self.url)
        return self._engine

    def after_fork(self) -> None:
        """In a forked process: a new pool of connections, the parent's left untouched (they stay
        the parent's), while the reflected tables and built statements are kept."""
        if self._engine is not None:
            self._engine.dispose(close=False)
        self._local = threading.local()
        self._reflecting = threading.Lock()

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def connect(self) -> Connection:
        """A connection, or StoreUnreachable saying which store and why."""
        try:
            return self.engine.connect()
        except sa_exc.OperationalError as exc:
            raise StoreUnreachable(
                f"store '{self.name}' at {safe_url(self.url)} cannot be reached: "
                f"{str(exc.orig).strip().splitlines()[0] if exc.orig else exc}",
                value=safe_url(self.url),
                hint="check that the server runs, the URL is right and the database exists",
            ) from exc

    def cached(self, key: tuple[Any, ...], build: Callable[[], T]) -> T:
        """A statement or condition built once per store and key, then reused: SQLAlchemy then
        skips construction and the cache-key walk, most of the Python cost of a statement."""
        found = self.statements.get(key)
        if found is None:
            found = self.statements[key] = build()
        return found

    def fetch_many(
        self,
        conn: Connection,
        items: Sequence[tuple[sa.Executable, Mapping[str, Any]]],
        *,
        large: bool = False,
        plan_once: bool = False,
        tune_from: int = 0,
        once: bool = False,
    ) -> list[tuple[list[str], list[tuple[Any, ...]]]]:
        """The rows (column names, tuples) of several reads, in order. On PostgreSQL with psycopg
        they travel in one pipeline: every statement is sent before the first result is awaited,
        so n reads cost about one round trip instead of n. Elsewhere, and for a statement with
        list parameters or a connection with a schema translation, they run one after the other on
        ``conn``. Statements should be long-lived (built with ``cached``): their compiled form is
        kept with them; ``once`` for statements built for this call only (compiled, not kept).
        ``large``: statements for many people at once, whose cost the planner overestimates, run
        ``for_many_people``. ``plan_once``: the same for statements whose plan does not depend on
        their values, indexed text searches (a pattern or a token is looked up in the index at run
        time; their estimate is a share of the table, 1% of its rows: past ``jit_above_cost`` from
        a few million rows, where they find a handful): a prepared one is planned once per
        connection (``for_many_people(generic=True)``). Either applies to the reads from the
        ``tune_from``-th on (the earlier ones run as they are, in the same round trip)."""
        return self.run_many(
            conn, [], items, large=large, plan_once=plan_once, tune_from=tune_from, once=once
        )[1]

    def run_many(
        self,
        conn: Connection,
        writes: Sequence[tuple[sa.Executable, Mapping[str, Any] | list[Mapping[str, Any]]]],
        reads: Sequence[tuple[sa.Executable, Mapping[str, Any]]],
        *,
        large: bool = False,
        plan_once: bool = False,
        tune_from: int = 0,
        once: bool = False,
    ) -> tuple[list[int], list[tuple[list[str], list[tuple[Any, ...]]]]]:
        """Writes, then reads, in order, as ``fetch_many`` sends reads (one pipeline on PostgreSQL
        with psycopg): the rows each write changed (a write given a list of parameter sets runs
        once for each, its count their sum where the driver tells it), and the rows of each read.
        ``large`` and ``plan_once`` apply to the reads from the ``tune_from``-th on."""
        driver = conn.connection.driver_connection if self.dialect == "postgresql" else None
        usable = (
            hasattr(driver, "pipeline")
            and _pipeline_supported()
            and not conn.get_execution_options().get("schema_translate_map")
        )
        statements = [stmt for stmt, _ in writes] + [stmt for stmt, _ in reads]
        piped = [self._piped(conn, stmt, keep=not once) for stmt in statements] if usable else []
        if not piped or any(p is None for p in piped):
            counts = []
            for stmt, params in writes:
                given = [dict(x) for x in params] if isinstance(params, list) else dict(params)
                counts.append(conn.execute(stmt, given).rowcount)
            out = []
            for stmt, params in reads[:tune_from]:
                result = conn.execute(stmt, dict(params))
                out.append((list(result.keys()), [tuple(r) for r in result]))
            tuning = self.for_many_people(conn, generic=plan_once)
            with tuning if (large or plan_once) and reads[tune_from:] else contextlib.nullcontext():
                for stmt, params in reads[tune_from:]:
                    result = conn.execute(stmt, dict(params))
                    out.append((list(result.keys()), [tuple(r) for r in result]))
            return counts, out
        assert driver is not None
        if not driver.autocommit and not conn.in_transaction():
            conn.begin()  # what SQLAlchemy's autobegin does: its commit() then ends the transaction
        dbapi_error = conn.dialect.loaded_dbapi.Error
        tuned = (large or plan_once) and bool(reads[tune_from:]) and _tunable(driver)
        # In a transaction SET LOCAL ends with it; outside, the reset travels in the same pipeline.
        local = not driver.autocommit
        settings = _many_set(local=local, generic=plan_once, plans=_prepares(driver))
        try:
            with driver.pipeline() as pipeline:
                written = []
                for p, (_stmt, params) in zip(piped, writes, strict=False):
                    assert p is not None
                    cur = driver.cursor()
                    if isinstance(params, list):
                        cur.executemany(p.sql, [p.params(x) for x in params])
                    else:
                        cur.execute(p.sql, p.params(params))
                    written.append(cur)
                cursors = []
                for n, (p, (_stmt, params)) in enumerate(zip(piped[len(writes) :], reads, strict=True)):
                    assert p is not None
                    if tuned and n == tune_from:
                        driver.execute(settings)
                    cur = driver.cursor()
                    cur.execute(p.sql, p.params(params))
                    cursors.append(cur)
                if tuned and not local:
                    for reset in _many_reset(_prepares(driver)):
                        driver.execute(reset)
                pipeline.sync()
                counts = [cur.rowcount for cur in written]
                for cur in written:
                    cur.close()
                rows = [
                    p.rows(conn.dialect, cur)
                    for p, cur in zip(piped[len(writes) :], cursors, strict=True)
                    if p
                ]
                return counts, rows
        except BaseException as exc:
            broken = bool(getattr(driver, "broken", False))
            if broken and isinstance(exc, dbapi_error):
                conn.invalidate(exc)  # the server went away: the pool must not hand it out again
            elif tuned and not local and not broken:
                # Whatever stopped the pipeline (a failed statement, a bad parameter, an interrupt)
                # skipped the reset: the connection goes back to the pool as it came.
                with contextlib.suppress(Exception):
                    for reset in _many_reset(_prepares(driver)):
                        driver.execute(reset)
            if not isinstance(exc, dbapi_error):
                raise
            # The pipeline reports its first failure; the statements it may come from are named.
            sent = "\n;\n".join(p.sql for p in piped if p)
            raise sa_exc.DBAPIError.instance(sent, None, exc, dbapi_error) from exc

    def planned_once(self, conn: Connection) -> list[sa.Executable]:
        """PostgreSQL 14 and later, statements prepared: the statement (to send first in the
        transaction) that has the transaction's prepared statements planned once per connection
        (generic plans, ``SET LOCAL``). For one person's request, whose statements look rows up by
        a key or a short key list, planning them for the values at hand every time is what costs:
        an erasure's statement deleting from eight tables took 0.3 ms to plan and 0.5 ms to run;
        planned once, its bind took 0.02 ms (measured in the server's statement log). From
        PostgreSQL 14 a generic plan's UPDATE or DELETE on a partitioned table still skips the
        partitions the values rule out when it runs (it locks them all as it starts); before, it
        would touch every one. Elsewhere nothing."""
        driver = conn.connection.driver_connection if self.dialect == "postgresql" else None
        if driver is None or not _prepares(driver) or _version(driver) < 140000:
            return []
        return [_PLANNED_ONCE]

    @contextmanager
    def for_many_people(self, conn: Connection, *, generic: bool = False) -> Iterator[None]:
        """PostgreSQL: no just-in-time compilation and no parallel workers for the statements run in
        the block, and where statements are prepared (PostgreSQL 12 and later) no generic plans,
        or with ``generic`` only generic ones. A request's statements touch few rows, but a
        long UNION or OR list can cost more than ``jit_above_cost`` in the planner's estimate, and
        compiling it then takes longer than running it (measured: a batch mention search over 50
        people, 289 ms with JIT, 56 ms without); starting parallel workers for its index lookups
        costs more than they save and takes the cores the exports are written on (measured: a
        batch export of 1,000 people in two processes, 3.8-4.0 s with them, 2.3-2.5 s without).
        A prepared statement is planned for its values each time (a generic plan would guess how
        many people a list holds), or with ``generic`` once per connection (an indexed text search:
        planning a UNION of fifty took 8 ms, running it 15 ms). In a transaction the settings end
        with it (``SET LOCAL``); outside, they are reset when the block ends."""
        driver = conn.connection.driver_connection if self.dialect == "postgresql" else None
        if driver is None or not _tunable(driver):
            yield
            return
        if not driver.autocommit:
            conn.exec_driver_sql(_many_set(local=True, generic=generic, plans=_prepares(driver)))
            yield
            return
        conn.exec_driver_sql(_many_set(local=False, generic=generic, plans=_prepares(driver)))
        try:
            yield
        finally:
            if not conn.invalidated:
                # Best effort after a failure: the failure, not the reset, is what the caller sees.
                with contextlib.suppress(Exception):
                    for reset in _many_reset(_prepares(driver)):
                        conn.exec_driver_sql(reset)

    def _piped(self, conn: Connection, stmt: sa.Executable, *, keep: bool = True) -> _Piped | None:
        """The statement compiled once for a pipeline (kept with it when ``keep``); None when it
        cannot go in one."""
        key = id(stmt)
        found = self._piped_cache.get(key) if keep else None
        if found is not None and found[0] is stmt:
            return found[1]
        compiled: Any = stmt.compile(dialect=conn.dialect)  # type: ignore[attr-defined]
        piped = None
        # List parameters (``IN`` on a list) are expanded only at execution: SQLAlchemy's path.
        if not compiled.post_compile_params and not compiled.literal_execute_params:
            piped = _Piped(compiled.string, compiled, list(getattr(stmt, "selected_columns", ())))
        if not keep:
            return piped
        # Kept with the statement, so its id is not reused while the entry lives; bounded for
        # callers that pass statements built per call.
        if len(self._piped_cache) >= 4096:
            self._piped_cache.clear()
        self._piped_cache[key] = (stmt, piped)
        return piped

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A connection for reads outside any transaction (autocommit): each statement sees what
        is committed and holds no lock afterwards, and no BEGIN or ROLLBACK costs a round trip.
        Inside ``pin_reader`` the thread's pinned connection is reused."""
        pinned: Connection | None = getattr(self._local, "reader", None)
        if pinned is not None:
            yield pinned
            return
        with self._for_reads() as conn:
            yield conn

    def merge_pending(self, conn: Connection, tables: Sequence[sa.Table]) -> int:
        """PostgreSQL: the pending lists of these tables' GIN indexes merged into the indexes
        (``gin_clean_pending_list``), as autovacuum would, so that the searches that follow do not
        each read the list whole (after 1,603 rows written to a table of page views, a trigram
        search for a name took 0.55 ms instead of 0.03; merging took 5 ms). Only the indexes the
        connected role owns, only on a primary, never in a read-only transaction: elsewhere the
        searches read the lists as they are. The pages merged; 0 elsewhere or on failure (it
        only saves time)."""
        if self.dialect != "postgresql" or not tables:
            return 0
        names = [conn.dialect.identifier_preparer.format_table(t) for t in tables]
        statement = sa.text(
            "SELECT coalesce(sum(gin_clean_pending_list(i.indexrelid)), 0) FROM pg_index i "
            "JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_am a ON a.oid = c.relam "
            "WHERE i.indrelid = ANY (SELECT to_regclass(n) FROM unnest(CAST(:names AS text[])) n) "
            "AND a.amname = 'gin' AND pg_has_role(c.relowner, 'USAGE') AND NOT pg_is_in_recovery() "
            "AND current_setting('transaction_read_only') = 'off'"
        )
        try:
            with conn.begin_nested() if conn.in_transaction() else contextlib.nullcontext():
                return int(conn.execute(statement, {"names": names}).scalar_one())
        except sa_exc.DBAPIError:
            return 0

    @contextmanager
    def pin_reader(self) -> Iterator[None]:
        """Reuse one autocommit connection for every ``read`` of this thread until the block ends
        (a request), and keep what ``scoped`` builds in it for as long."""
        if getattr(self._local, "reader", None) is not None:
            yield
            return
        with self._for_reads() as conn:
            self._local.reader, self._local.scope = conn, {}
            try:
                yield
            finally:
                self._local.reader = self._local.scope = None

    def scoped(self, key: tuple[Any, ...], build: Callable[[], T]) -> T:
        """What ``build`` gives, built once per ``pin_reader`` block of this thread (a request);
        outside one, built at every call."""
        scope: dict[tuple[Any, ...], Any] | None = getattr(self._local, "scope", None)
        if scope is None:
            return build()
        if key not in scope:
            scope[key] = build()
        return cast(T, scope[key])

    def _for_reads(self) -> Connection:
        """A pooled connection set to autocommit. Setting it talks to the server on some drivers
        (PyMySQL): a connection the server closed since its last use fails there, and is then
        replaced once (the pool pings only connections idle for a while)."""
        conn = self.connect()
        try:
            return conn.execution_options(isolation_level="AUTOCOMMIT")
        except Exception as exc:
            conn.invalidate()
            conn.close()
            dbapi_error = getattr(exc, "orig", exc)
            if not isinstance(dbapi_error, self.engine.dialect.loaded_dbapi.Error) or not (
                self.engine.dialect.is_disconnect(dbapi_error, None, None)
            ):
                raise
        return self.connect().execution_options(isolation_level="AUTOCOMMIT")

    @contextlib.contextmanager
    def begin(self) -> Iterator[Connection]:
        """A transaction (``with store.begin() as conn``), at READ COMMITTED on PostgreSQL and
        MariaDB whatever the server's default: each statement of Privet's transactions (an
        erasure's reads, its mention search, its verification) sees what other sessions committed
        before it, where MariaDB's default, REPEATABLE READ, would show every read the snapshot
        of the first one. StoreUnreachable when the store cannot be reached."""
        with self.connect() as conn:
            if self.dialect == "postgresql":
                # On the connection until it returns to the pool; psycopg sends it with the BEGIN.
                conn.execution_options(isolation_level="READ COMMITTED")
            committed = self.dialect in ("mysql", "mariadb") and self._read_committed_allowed(conn)
            with conn.begin():
                if committed:
                    # The level of the transaction this statement precedes: nothing to reset after.
                    conn.exec_driver_sql("SET TRANSACTION ISOLATION LEVEL READ COMMITTED")
                yield conn

    def _read_committed_allowed(self, conn: Connection) -> bool:
        """MariaDB: whether writes may run at READ COMMITTED, which InnoDB refuses while the binary
        log records statements (``binlog_format = STATEMENT``); asked once per store."""
        if self._read_committed is None:
            log_bin, binlog_format = conn.exec_driver_sql("SELECT @@log_bin, @@binlog_format").one()
            conn.commit()
            self._read_committed = not (int(log_bin or 0) and str(binlog_format).upper() == "STATEMENT")
        return self._read_committed

    def dispose(self) -> None:
        if self._engine is not None:
            self._engine.dispose()

    # -- introspection ----------------------------------------------------------

    def table_names(self) -> list[str]:
        with self.connect() as conn:
            insp = sa.inspect(conn)
            return sorted(insp.get_table_names())

    def schema(self) -> SchemaInfo:
        """The introspected schema, read once per store object (requests reuse it)."""
        if self._schema is None:
            self._schema = self.introspect()
        return self._schema

    def introspect(self, only: Sequence[str] | None = None) -> SchemaInfo:
        """Tables, columns, types, primary keys, foreign keys and indexes (always read afresh)."""
        info = SchemaInfo(store=self.name, dialect=self.dialect)
        with self.connect() as conn:
            insp = sa.inspect(conn)
            names = sorted(insp.get_table_names())
            for name in names:
                if only is not None and name not in only:
                    continue
                if name.startswith("privet_") or name == "alembic_version":
                    continue
                with _quiet_reflection():
                    info.tables[name] = self._table_info(insp, name)
            self._estimate_rows(conn, info)
        return info

    def _table_info(self, insp: Any, name: str) -> TableInfo:
        cols = []
        for c in insp.get_columns(name):
            t = c["type"]
            cols.append(
                ColumnInfo(
                    name=c["name"],
                    type=str(t.compile(dialect=self.engine.dialect)).lower()
                    if not isinstance(t, sa.types.NullType)
                    else "unknown",
                    nullable=bool(c.get("nullable", True)),
                    is_text=isinstance(t, _TEXT_TYPES) or _is_json(t),
                    is_temporal=isinstance(t, _TEMPORAL_TYPES),
                    is_numeric=isinstance(t, _NUMERIC_TYPES),
                    max_length=getattr(t, "length", None),
                )
            )
        pk = tuple(insp.get_pk_constraint(name).get("constrained_columns") or ())
        fks = [
            ForeignKey(tuple(fk["constrained_columns"]), fk["referred_table"], tuple(fk["referred_columns"]))
            for fk in insp.get_foreign_keys(name)
            if fk.get("referred_table")
        ]
        reflected = insp.get_indexes(name)
        idx = [
            IndexInfo(
                ix.get("name"),
                tuple(c for c in ix["column_names"] if c),
                bool(ix.get("unique")),
                tuple(str(e) for e in ix.get("expressions") or () if e),
                ix.get("dialect_options", {}).get("postgresql_using"),
                tuple(sorted((ix.get("dialect_options", {}).get("postgresql_with") or {}).items())),
            )
            for ix in reflected
        ]
        if self.dialect == "sqlite":
            idx += self._sqlite_expression_indexes(insp.bind, name)
        for uc in insp.get_unique_constraints(name):
            idx.append(IndexInfo(uc.get("name"), tuple(uc["column_names"]), True))
        return TableInfo(name=name, columns=cols, primary_key=pk, foreign_keys=fks, indexes=idx)

    @staticmethod
    def _sqlite_expression_indexes(conn: Any, table: str) -> list[IndexInfo]:
        """SQLAlchemy does not reflect SQLite's expression indexes; read them from the catalog."""
        out = []
        rows = conn.execute(
            sa.text(
                "SELECT name, sql FROM sqlite_master "
                "WHERE type = 'index' AND tbl_name = :t AND sql IS NOT NULL"
            ),
            {"t": table},
        )
        for name, ddl in rows:
            inner = ddl[ddl.index("(", ddl.upper().index(" ON ")) + 1 : ddl.rindex(")")]
            if "(" in inner:  # an expression, not plain columns (those are reflected already)
                out.append(IndexInfo(name, (), "UNIQUE" in ddl.upper().split(" ON ")[0], (inner,)))
        return out

    def _estimate_rows(self, conn: Connection, info: SchemaInfo) -> None:
        """Cheap row estimates from catalog statistics (no count(*) on big tables)."""
        try:
            if self.dialect == "postgresql":
                rows = conn.execute(
                    sa.text(
                        "SELECT c.relname, c.reltuples FROM pg_class c "
                        "JOIN pg_namespace n ON n.oid = c.relnamespace "
                        "WHERE n.nspname = current_schema() AND c.relkind = 'r'"
                    )
                )
                est = {r[0]: int(max(r[1], 0)) for r in rows}
            elif self.dialect in ("mysql", "mariadb"):
                rows = conn.execute(
                    sa.text(
                        "SELECT table_name, table_rows FROM information_schema.tables "
                        "WHERE table_schema = DATABASE()"
                    )
                )
                est = {r[0]: int(r[1] or 0) for r in rows}
            else:
                est = {}
                for name in info.tables:
                    t = self.table(name)
                    est[name] = (
                        int(conn.execute(sa.select(sa.func.count()).select_from(t)).scalar_one())
                        if len(info.tables) <= 200
                        else 0
                    )
        except sa_exc.SQLAlchemyError:
            return
        for name, tinfo in info.tables.items():
            tinfo.row_estimate = est.get(name)

    def table(self, name: str) -> sa.Table:
        """The reflected table (cached), for building statements with bound parameters."""
        t = self._tables.get(name)
        if t is not None:
            return t
        # One reflection at a time: reflecting a table also adds the tables its foreign keys
        # reference to the shared metadata, and another thread must not see them half built.
        with self._reflecting:
            t = self._tables.get(name)
            if t is None:
                try:
                    with self.connect() as conn, _quiet_reflection():
                        t = sa.Table(name, self._metadata, autoload_with=conn)
                        if self.dialect in ("mysql", "mariadb"):
                            t.info[CASELESS] = _caseless(conn, name)
                except sa_exc.NoSuchTableError:
                    raise UnknownName(
                        f"table '{name}' does not exist in store '{self.name}'",
                        value=name,
                        hint="run `privet map check` to compare the map with the live schema",
                    ) from None
                self._tables[name] = t
        return t

    def column(self, table: str, column: str) -> sa.Column[Any]:
        t = self.table(table)
        try:
            return t.c[column]
        except KeyError:
            raise UnknownName(
                f"column '{column}' does not exist in {self.name}.{table}",
                value=column,
                hint="run `privet map check` to compare the map with the live schema",
            ) from None

    # -- reading values -----------------------------------------------------------

    def sample(self, table: str, column: str, limit: int = 200) -> list[Any]:
        """Up to ``limit`` non-null values of a column, bounded whatever the table size."""
        t = self.table(table)
        col = t.c[column]
        stmt: sa.Select[Any] = sa.select(col).where(col.is_not(None)).limit(limit)
        if self.dialect == "postgresql":
            # Spread the sample over the table instead of its first pages when it is big.
            est = self._pg_estimate(table)
            if est and est > limit * 100:
                pct = min(100.0, max(0.01, limit * 400 / est))
                sampled = t.tablesample(sa.func.system(pct), name="s")
                stmt = sa.select(sampled.c[column]).where(sampled.c[column].is_not(None)).limit(limit)
        with self.connect() as conn:
            return [r[0] for r in conn.execute(stmt)]

    def _pg_estimate(self, table: str) -> int | None:
        with self.connect() as conn:
            v = conn.execute(
                sa.text("SELECT reltuples FROM pg_class WHERE oid = to_regclass(:t)"), {"t": table}
            ).scalar()
        return int(v) if v is not None and v > 0 else None

    def stream(
        self,
        table: str,
        columns: Sequence[str] | None = None,
        where: sa.ColumnElement[bool] | None = None,
        batch: int = 5000,
    ) -> Iterator[dict[str, Any]]:
        """Rows as dicts, fetched in batches on a server-side cursor (flat memory)."""
        t = self.table(table)
        cols = [t.c[c] for c in columns] if columns else list(t.c)
        stmt = sa.select(*cols)
        if where is not None:
            stmt = stmt.where(where)
        with self.connect() as conn:
            result = conn.execution_options(stream_results=True, yield_per=batch).execute(stmt)
            for row in result:
                yield dict(row._mapping)


class _Piped:
    """A statement compiled for psycopg's pipeline, with the result converters SQLAlchemy would
    apply (found from the first result's column types, then reused)."""

    def __init__(self, sql: str, compiled: Any, columns: list[Any]) -> None:
        self.sql = sql
        self.compiled = compiled
        self.columns = columns
        self.converters: list[Any] | None = None
        # What SQLAlchemy converts before sending (arrays, for one), applied the same way.
        self.bind_converters: dict[str, Any] = dict(getattr(compiled, "_bind_processors", None) or {})

    def params(self, given: Mapping[str, Any]) -> dict[str, Any]:
        values: dict[str, Any] = self.compiled.construct_params(dict(given), escape_names=False)
        for name, convert in self.bind_converters.items():
            if name in values:
                values[name] = convert(values[name])
        # Names the SQL spells differently (spaces, brackets) go by their escaped form.
        escaped = self.compiled.escaped_bind_names
        return {escaped.get(k, k): v for k, v in values.items()} if escaped else values

    def rows(self, dialect: Any, cur: Any) -> tuple[list[str], list[tuple[Any, ...]]]:
        description = cur.description or ()
        if self.converters is None:
            found = [
                _result_processor(col.type, dialect, d.type_code)
                for col, d in zip(self.columns, description, strict=False)
            ]
            self.converters = found if any(found) else []
        rows = cur.fetchall()
        cur.close()
        if self.converters:
            conv = self.converters
            rows = [tuple(f(v) if f else v for f, v in zip(conv, r, strict=False)) for r in rows]
        return [d.name for d in description], rows


def _result_processor(type_: Any, dialect: Any, type_code: Any) -> Any:
    """SQLAlchemy's converter of a result column, or None where it would only copy the value: an
    array of values that need no conversion (psycopg returns a list; SQLAlchemy's converter
    would rebuild it item by item, a rendered batch read's keys, for one)."""
    impl = type_.dialect_impl(dialect)
    if (
        isinstance(impl, sa.ARRAY)
        and not impl.as_tuple
        and impl.item_type.dialect_impl(dialect).result_processor(dialect, None) is None
    ):
        return None
    return impl.result_processor(dialect, type_code)


# Session settings bracketing a request's statements for many people (``SqlStore.for_many_people``):
# no JIT, no parallel workers and, where statements are prepared, a plan for the values at hand
# (or, for indexed text searches, one plan), each setting in one statement (a pipeline takes no
# multi-command string), back to the session's own values afterwards.
_LARGE = ("jit", "off"), ("max_parallel_workers_per_gather", "0")
_PLANS = "plan_cache_mode"
_PLANNED_ONCE = sa.text(f"SELECT set_config('{_PLANS}', 'force_generic_plan', true)")


@functools.cache
def _many_set(*, local: bool, generic: bool, plans: bool) -> str:
    """The statement setting ``_LARGE`` and, with ``plans``, the plan cache mode (generic plans
    when ``generic``), for the transaction (``local``) or the session."""
    values = (
        [*_LARGE, (_PLANS, "force_generic_plan" if generic else "force_custom_plan")] if plans else _LARGE
    )
    scope = "true" if local else "false"
    return "SELECT " + ", ".join(f"set_config('{k}', '{v}', {scope})" for k, v in values)


def _many_reset(plans: bool) -> tuple[str, ...]:
    """The statements giving ``_many_set``'s settings back their session values. RESET does as
    reading reset_val from pg_settings would, at a tenth of the cost (the view builds every
    setting of the server: about 1 ms)."""
    return tuple(f"RESET {k}" for k, _v in _LARGE) + ((f"RESET {_PLANS}",) if plans else ())


def _tunable(driver: Any) -> bool:
    """Whether the server has the settings of ``for_many_people`` (``jit``: PostgreSQL 11)."""
    return _version(driver) >= 110000


def _prepares(driver: Any) -> bool:
    """Whether the connection prepares statements (then ``plan_cache_mode``, PostgreSQL 12, says
    how they are planned; a session setting a pooler could leave behind is not sent otherwise)."""
    return getattr(driver, "prepare_threshold", None) is not None and _version(driver) >= 120000


def _version(driver: Any) -> int:
    return int(getattr(getattr(driver, "info", None), "server_version", 0))


def _no_generic_plans_before_12(dbapi_conn: Any, _record: Any) -> None:
    """Before PostgreSQL 12 a prepared statement could not be told how to be planned: nothing is
    prepared there."""
    if _version(dbapi_conn) < 120000:
        dbapi_conn.prepare_threshold = None


@functools.cache
def _pipeline_supported() -> bool:
    """Whether the installed psycopg and libpq can pipeline (libpq 14 or newer)."""
    try:
        import psycopg
    except ImportError:
        return False
    return bool(psycopg.Pipeline.is_supported())


def _is_json(t: Any) -> bool:
    return isinstance(t, sa.JSON) or type(t).__name__.upper() in ("JSON", "JSONB")
