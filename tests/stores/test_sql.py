"""SQL store connector against real SQLite, PostgreSQL and MariaDB."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from privet.errors import BadInput, StoreUnreachable, UnknownName
from privet.stores import SqlStore
from privet.stores.sql import make_engine
from tests.support.databases import fresh_database


def _schema(url: str) -> None:
    engine = sa.create_engine(url)
    md = sa.MetaData()
    users = sa.Table(
        "users",
        md,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("email", sa.String(200), nullable=False, unique=True),
        sa.Column("bio", sa.Text),
        sa.Column("created_at", sa.DateTime),
    )
    orders = sa.Table(
        "orders",
        md,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id"), nullable=False, index=True),
        sa.Column("total", sa.Numeric(10, 2)),
    )
    md.create_all(engine)
    with engine.begin() as conn:
        conn.execute(
            users.insert(),
            [{"id": i, "email": f"u{i}@example.com", "bio": None if i % 2 else "hi"} for i in range(1, 51)],
        )
        conn.execute(orders.insert(), [{"id": i, "user_id": 1 + i % 50, "total": i} for i in range(1, 101)])
    engine.dispose()


def _opened(url: str) -> Iterator[SqlStore]:
    _schema(url)
    s = SqlStore("app", url)
    yield s
    s.dispose()


@pytest.fixture
def store(db_url: str) -> Iterator[SqlStore]:
    """The store over the test schema, on each database in turn."""
    yield from _opened(db_url)


@pytest.fixture
def pg_store(pg_url: str) -> Iterator[SqlStore]:
    yield from _opened(pg_url)


def test_when_schema_is_introspected_then_columns_keys_and_indexes_are_reported(store: SqlStore) -> None:
    info = store.introspect()
    assert set(info.tables) == {"users", "orders"}
    users, orders = info.tables["users"], info.tables["orders"]
    assert users.primary_key == ("id",)
    email = users.column("email")
    assert email is not None and email.is_text and not email.nullable
    created = users.column("created_at")
    assert created is not None and created.is_temporal
    assert orders.foreign_keys[0].columns == ("user_id",)
    assert orders.foreign_keys[0].ref_table == "users"
    assert orders.is_indexed("user_id") and users.is_indexed("email")
    assert not orders.is_indexed("total")


def test_when_column_is_sampled_then_at_most_limit_non_null_values_come_back(store: SqlStore) -> None:
    values = store.sample("users", "bio", limit=10)
    assert 0 < len(values) <= 10 and all(v == "hi" for v in values)


def test_when_table_is_streamed_then_every_row_arrives_once(store: SqlStore) -> None:
    t = store.table("orders")
    rows = list(store.stream("orders", ["id", "user_id"], where=t.c.user_id == 2, batch=7))
    assert sorted(r["id"] for r in rows) == [1, 51]
    assert sum(1 for _ in store.stream("orders", batch=13)) == 100


def test_when_identity_looks_like_sql_then_it_is_only_a_bound_value(store: SqlStore) -> None:
    t = store.table("users")
    evil = "x' OR '1'='1"
    assert list(store.stream("users", ["id"], where=t.c.email == evil)) == []
    assert len(list(store.stream("users", ["id"]))) == 50


def test_when_table_does_not_exist_then_unknown_name_says_how_to_check(store: SqlStore) -> None:
    with pytest.raises(UnknownName, match="privet map check"):
        store.table("nope")


def test_when_url_is_malformed_then_bad_input_shows_an_example() -> None:
    with pytest.raises(BadInput, match="sqlite:///app\\.db"):
        SqlStore("app", "not a url").connect()


def test_when_driver_is_unknown_then_bad_input_names_it() -> None:
    with pytest.raises(BadInput, match="no driver"):
        SqlStore("app", "oracle+nothing://x/y").connect()


def test_when_server_is_down_then_store_unreachable_names_the_store() -> None:
    store = SqlStore("billing", "postgresql+psycopg://postgres@127.0.0.1:1/x?connect_timeout=2")
    with pytest.raises(StoreUnreachable, match="store 'billing'"):
        store.connect()


def test_when_several_reads_are_fetched_together_then_each_gives_what_it_gives_alone(store: SqlStore) -> None:
    """fetch_many (one pipeline on PostgreSQL) returns, per statement and in order, the same
    column names and values as running it alone: numbers, dates, NULLs, no rows, literals."""
    with store.begin() as conn:
        conn.execute(sa.text("UPDATE users SET created_at = :t WHERE id <= 3"), {"t": "2024-05-06 07:08:09"})
    users, orders = store.table("users"), store.table("orders")
    uid = sa.bindparam("uid", type_=sa.Integer, required=True)
    statements = [
        sa.select(users).where(users.c.id <= uid).order_by(users.c.id),
        sa.select(orders.c.id, orders.c.total).where(orders.c.user_id == uid).order_by(orders.c.id),
        sa.select(sa.literal(7).label("who"), users.c.email).where(users.c.email.like(sa.bindparam("pat"))),
        sa.select(users.c.id).where(users.c.id > 1000 + uid),
    ]
    params = {"uid": 3, "pat": "%u2@%"}
    with store.read() as conn:
        got = store.fetch_many(conn, [(s, params) for s in statements])
        alone = []
        for s in statements:
            result = conn.execute(s, params)
            alone.append((list(result.keys()), [tuple(r) for r in result]))
        # Twice: the second run reuses the compiled statements.
        again = store.fetch_many(conn, [(s, params) for s in statements])
    assert got == alone == again
    assert [len(rows) for _names, rows in got] == [3, 2, 1, 0]
    assert got[2][1] == [(7, "u2@example.com")]


def test_when_writes_and_reads_run_together_then_each_read_sees_the_writes_before_it(store: SqlStore) -> None:
    """run_many sends writes then reads (one pipeline on PostgreSQL): each write's row count comes
    back, a write given a list of parameter sets runs for each, the reads see every write, and a
    rollback takes all of them back."""
    users, orders = store.table("users"), store.table("orders")
    bio = sa.update(users).where(users.c.id == sa.bindparam("k")).values(bio=sa.bindparam("v"))
    gone = sa.delete(orders).where(orders.c.user_id == sa.bindparam("uid"))
    read_bio = sa.select(users.c.id, users.c.bio).where(users.c.id <= 3).order_by(users.c.id)
    count = sa.select(sa.func.count()).select_from(orders).where(orders.c.user_id == sa.bindparam("uid"))
    with store.begin() as conn:
        counts, found = store.run_many(
            conn,
            [(gone, {"uid": 1}), (bio, [{"k": 1, "v": "one"}, {"k": 3, "v": "three"}])],
            [(read_bio, {}), (count, {"uid": 1}), (count, {"uid": 2})],
        )
        assert counts[0] == 2  # user 1 had orders 50 and 100
        assert found[0][1] == [(1, "one"), (2, "hi"), (3, "three")]
        assert [rows for _names, rows in found[1:]] == [[(0,)], [(2,)]]
        conn.rollback()
    with store.read() as conn:
        assert store.fetch_many(conn, [(count, {"uid": 1})])[0][1] == [(2,)]
        assert store.fetch_many(conn, [(read_bio, {})])[0][1] == [(1, None), (2, "hi"), (3, None)]


def test_when_one_of_several_reads_fails_then_a_database_error_names_it_and_the_store_stays_usable(
    store: SqlStore,
) -> None:
    users = store.table("users")
    bad = sa.select(sa.column("no_such_column")).select_from(users)
    with store.read() as conn, pytest.raises(sa.exc.DBAPIError, match="no_such_column"):
        store.fetch_many(conn, [(sa.select(users.c.id), {}), (bad, {})])
    with store.read() as conn:
        assert store.fetch_many(conn, [(sa.select(sa.func.count()).select_from(users), {})])[0][1] == [(50,)]


class _NoneAsZero(sa.types.TypeDecorator[int]):
    """A parameter type SQLAlchemy converts before sending (None becomes 0)."""

    impl = sa.Integer
    cache_ok = True

    def process_bind_param(self, value: int | None, dialect: sa.Dialect) -> int:
        return 0 if value is None else value


def test_when_parameters_need_converting_or_escaping_then_fetch_many_sends_what_sqlalchemy_sends(
    store: SqlStore,
) -> None:
    users = store.table("users")
    # A name with a space (escaped in the SQL) and a converter that also applies to None.
    stmt = (
        sa.select(sa.func.count())
        .select_from(users)
        .where(users.c.id > sa.bindparam("min id", type_=_NoneAsZero))
    )
    with store.connect() as conn:
        got = store.fetch_many(conn, [(stmt, {"min id": None}), (stmt, {"min id": 45})])
        assert [rows for _names, rows in got] == [[(50,)], [(5,)]]
        # Read without begin(): the connection is in a transaction SQLAlchemy knows about.
        assert conn.in_transaction()
        conn.rollback()


def test_when_statements_for_many_people_run_then_postgresql_compiles_nothing_and_the_session_is_restored(
    pg_store: SqlStore,
) -> None:
    """Large request statements run without JIT (compiling a long UNION costs more than running
    it) and planned for their values; the session's own setting is back afterwards, also after a
    failed statement."""
    store = pg_store
    users = store.table("users")
    setting = sa.select(
        sa.func.current_setting("jit")
        + "/"
        + sa.func.current_setting("max_parallel_workers_per_gather")
        + "/"
        + sa.func.current_setting("plan_cache_mode")
    )
    bad = sa.select(sa.literal(1) / sa.bindparam("z", type_=sa.Integer))
    with store.read() as conn:
        before = conn.execute(setting).scalar_one()
        assert before != "off/0/force_custom_plan"
        assert store.fetch_many(conn, [(setting, {})], large=True)[0][1] == [("off/0/force_custom_plan",)]
        assert store.fetch_many(conn, [(setting, {})], plan_once=True)[0][1] == [
            ("off/0/force_generic_plan",)
        ]
        # In one round trip, the settings from the tune_from-th read on.
        both = store.fetch_many(conn, [(setting, {}), (setting, {})], plan_once=True, tune_from=1)
        assert [rows for _names, rows in both] == [[(before,)], [("off/0/force_generic_plan",)]]
        assert store.fetch_many(conn, [(setting, {})])[0][1] == [(before,)]
        assert conn.execute(setting).scalar_one() == before
        with store.for_many_people(conn):
            assert conn.execute(setting).scalar_one() == "off/0/force_custom_plan"
        assert conn.execute(setting).scalar_one() == before
        with pytest.raises(sa.exc.DBAPIError, match="division by zero"):
            store.fetch_many(conn, [(sa.select(users.c.id), {}), (bad, {"z": 0})], large=True)
        assert conn.execute(setting).scalar_one() == before
    with store.begin() as conn, pytest.raises(sa.exc.DBAPIError):
        store.fetch_many(conn, [(bad, {"z": 0})], large=True)
    with store.read() as conn:
        assert conn.execute(setting).scalar_one() == before


def test_when_a_statement_runs_again_on_postgresql_then_the_server_has_it_prepared(
    pg_store: SqlStore,
) -> None:
    """A request's statements are parsed once per connection (and key lookups planned once):
    from its second run a statement is prepared on the server, in a pipeline too."""
    store = pg_store
    users = store.table("users")
    lookup = sa.select(users.c.email).where(users.c.id == sa.bindparam("id"))
    prepared = sa.text("SELECT statement FROM pg_prepared_statements")
    with store.read() as conn:
        for n in (1, 2, 3):
            assert store.fetch_many(conn, [(lookup, {"id": n})])[0][1] == [(f"u{n}@example.com",)]
        assert conn.execute(lookup, {"id": 4}).scalar_one() == "u4@example.com"
        texts = [t for (t,) in conn.execute(prepared)]
    assert any("FROM users" in t and "users.id =" in t for t in texts), texts


def test_when_a_transaction_asks_for_plans_made_once_then_its_statements_use_generic_plans(
    pg_store: SqlStore, sqlite_url: str
) -> None:
    """``planned_once``: sent first in a transaction on PostgreSQL, every statement prepared in it is
    planned once per connection (no planning per run) until the transaction ends."""
    store = pg_store
    users = store.table("users")
    lookup = sa.select(users.c.email).where(users.c.id == sa.bindparam("id"))
    plans = sa.text(
        "SELECT generic_plans, custom_plans FROM pg_prepared_statements WHERE statement LIKE '%FROM users%'"
    )
    mode = sa.text("SHOW plan_cache_mode")
    with store.engine.connect() as conn:
        with conn.begin():
            first = store.planned_once(conn)
            assert len(first) == 1
            store.run_many(conn, [(first[0], {})], [(lookup, {"id": 1})])
            assert conn.execute(mode).scalar_one() == "force_generic_plan"
            for n in (2, 3, 4):
                assert store.fetch_many(conn, [(lookup, {"id": n})])[0][1] == [(f"u{n}@example.com",)]
            generic, custom = conn.execute(plans).one()  # the view's columns: PostgreSQL 14
            assert generic >= 2 and custom == 0
        assert conn.execute(mode).scalar_one() == "auto"  # SET LOCAL: gone with the transaction
    _schema(sqlite_url)
    lite = SqlStore("lite", sqlite_url)
    try:
        with lite.begin() as conn:
            assert lite.planned_once(conn) == []
    finally:
        lite.dispose()


def test_when_the_url_says_prepare_threshold_none_then_nothing_is_prepared(pg_url: str) -> None:
    """Behind a pooler that cannot keep prepared statements, ``?prepare_threshold=none`` turns
    them off; a value that is neither a number nor none is bad input naming the option."""
    _schema(pg_url)
    sep = "&" if "?" in pg_url else "?"
    store = SqlStore("app", f"{pg_url}{sep}prepare_threshold=none")
    users = store.table("users")
    lookup = sa.select(users.c.email).where(users.c.id == sa.bindparam("id"))
    try:
        with store.read() as conn:
            for n in (1, 2, 3, 4):
                assert store.fetch_many(conn, [(lookup, {"id": n})])[0][1] == [(f"u{n}@example.com",)]
            assert conn.execute(sa.text("SELECT count(*) FROM pg_prepared_statements")).scalar_one() == 0
        with store.begin() as conn:
            assert store.planned_once(conn) == []  # nothing prepared: nothing to plan once
    finally:
        store.dispose()
    with pytest.raises(BadInput, match=r"prepare_threshold='sometimes'.*neither a number nor 'none'"):
        make_engine(f"{pg_url}{sep}prepare_threshold=sometimes")


@pytest.mark.parametrize("kind", ["postgresql", "mariadb"])
def test_when_the_server_closed_an_idle_connection_then_the_pool_replaces_it(
    kind: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A pooled connection idle past PING_AFTER_IDLE_SECONDS is pinged before use and replaced
    when the server has closed it; one used moments ago goes out as it is (no round trip)."""
    import privet.stores.sql as sql_module

    with fresh_database(kind, tmp_path) as url:
        store = SqlStore("app", url)

        def backend() -> int:
            with store.read() as conn:
                pid = "pg_backend_pid()" if kind == "postgresql" else "CONNECTION_ID()"
                return int(conn.execute(sa.text(f"SELECT {pid}")).scalar_one())

        def kill(pid: int) -> None:
            admin = sa.create_engine(url, isolation_level="AUTOCOMMIT")
            with admin.connect() as conn:
                if kind == "postgresql":
                    conn.execute(sa.text("SELECT pg_terminate_backend(:p)"), {"p": pid})
                else:
                    conn.execute(sa.text(f"KILL {pid}"))
            admin.dispose()

        try:
            # Used moments ago: not pinged. On PostgreSQL the first statement on a connection the
            # server closed meanwhile fails (a later request gets a new one); PyMySQL finds out
            # while the connection is set up for reads, and it is replaced there.
            monkeypatch.setattr(sql_module, "PING_AFTER_IDLE_SECONDS", 3600.0)
            first = backend()
            kill(first)
            if kind == "postgresql":
                with pytest.raises(sa.exc.OperationalError, match="terminat"):
                    backend()
            else:
                assert backend() != first
            # Idle long enough: pinged, found closed and replaced without the caller seeing it.
            monkeypatch.setattr(sql_module, "PING_AFTER_IDLE_SECONDS", 0.0)
            second = backend()
            kill(second)
            assert backend() not in (first, second)
        finally:
            store.dispose()


def test_when_a_store_transaction_begins_then_each_read_sees_what_others_committed(store: SqlStore) -> None:
    """READ COMMITTED on PostgreSQL and MariaDB whatever the server's default (MariaDB's is
    REPEATABLE READ): a read later in the transaction sees a row another session committed after
    the first read; the pooled connection then goes back to the server's default."""
    outside = sa.create_engine(store.url)
    if store.dialect == "postgresql":  # a database whose default is REPEATABLE READ
        with outside.connect() as conn:
            db = conn.exec_driver_sql("SELECT current_database()").scalar_one()
            conn.exec_driver_sql(f"ALTER DATABASE {db} SET default_transaction_isolation = 'repeatable read'")
            conn.commit()
        store.engine.dispose()
    count = sa.text("SELECT count(*) FROM users")
    try:
        with store.begin() as conn:
            if store.dialect == "sqlite":
                conn.exec_driver_sql("BEGIN")  # pysqlite begins at the first write: a read opens it
            assert conn.execute(count).scalar_one() == 50
            if store.dialect == "sqlite":
                return  # one writer at a time there: nobody else can commit meanwhile
            with outside.begin() as other:
                other.execute(sa.text("INSERT INTO users (id, email) VALUES (51, 'late@example.com')"))
            assert conn.execute(count).scalar_one() == 51
        # The same pooled connection, after the transaction: the server's default, one snapshot.
        with store.engine.connect() as conn, conn.begin():
            conn.execute(count).scalar_one()
            with outside.begin() as other:
                other.execute(sa.text("DELETE FROM users WHERE id = 51"))
            assert conn.execute(count).scalar_one() == 51
    finally:
        outside.dispose()
