"""The person's rows of a table shared by two people are found through the link columns' indexes,
on every database (not by reading the whole table once per person)."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa

from privet.requests.access import _first_page
from privet.requests.erase import as_identity
from privet.requests.resolve import resolve
from privet.requests.select import table_query
from privet.stores import Stores
from tests.requests.shop import build_shop, shop_map


def _plan(conn: sa.Connection, dialect: str, sql: str) -> str:
    """The database's plan for the statement, as text."""
    if dialect == "sqlite":
        return "\n".join(str(r[-1]) for r in conn.execute(sa.text(f"EXPLAIN QUERY PLAN {sql}")))
    if dialect == "postgresql":
        conn.execute(sa.text("SET enable_seqscan = off"))  # a table this small is read whole otherwise
        return "\n".join(r[0] for r in conn.execute(sa.text(f"EXPLAIN {sql}")))
    rows = conn.execute(sa.text(f"EXPLAIN {sql}")).mappings().all()
    return "\n".join(f"{r['table']} {r['type']} {r['key']}" for r in rows)


def test_when_a_table_is_reached_by_two_link_columns_then_a_person_s_rows_are_looked_up_in_their_indexes(
    db_url: str, tmp_path: Path
) -> None:
    build_shop(db_url, tmp_path / "rec")
    engine = sa.create_engine(db_url)
    with engine.begin() as conn:
        conn.execute(sa.text("CREATE INDEX ix_projects_client ON projects (client_id)"))
        conn.execute(sa.text("CREATE INDEX ix_projects_freelancer ON projects (freelancer_id)"))
        # Other people's projects, each with a client of its own (an index lookup finds a handful).
        conn.execute(
            sa.text("INSERT INTO users (id, tenant_id, email) VALUES (:i, 1, :e)"),
            [{"i": i, "e": f"u{i}@example.com"} for i in range(1000, 4000)],
        )
        conn.execute(
            sa.text(
                "INSERT INTO projects (id, client_id, freelancer_id, title) VALUES (:i, :i, 4999 - :i, 'p')"
            ),
            [{"i": i} for i in range(1000, 4000)],
        )
        if engine.dialect.name == "postgresql":
            conn.execute(sa.text("ANALYZE projects"))
        else:
            conn.execute(sa.text("ANALYZE TABLE projects" if engine.dialect.name != "sqlite" else "ANALYZE"))
    dm = shop_map(db_url, tmp_path / "rec")
    with Stores(dm) as stores:
        person = resolve(dm, stores, as_identity(dm, "email=anna@example.com")).people[0]
        q = table_query(dm, stores, person, "shop.projects", dm.tables["shop.projects"])
        assert q is not None
        stmt = _first_page(stores, q)
        store = stores.sql["shop"]
        sql = str(stmt.params(q.sel.params).compile(store.engine, compile_kwargs={"literal_binds": True}))
        with store.engine.connect() as conn:
            plan = _plan(conn, engine.dialect.name, sql)
            rows = conn.execute(stmt, q.sel.params).all()
    engine.dispose()
    assert sorted(r[0] for r in rows) == [50, 52]  # the project she shares with Bob, and her own
    if engine.dialect.name == "sqlite":
        assert (
            "SCAN projects" not in plan and "ix_projects_client" in plan and "ix_projects_freelancer" in plan
        ), plan
    elif engine.dialect.name == "postgresql":
        assert "Seq Scan" not in plan and "ix_projects_client" in plan and "ix_projects_freelancer" in plan, (
            plan
        )
    else:
        assert "projects ALL" not in plan and "projects index " not in plan, plan
        assert "ix_projects_client" in plan and "ix_projects_freelancer" in plan, plan
