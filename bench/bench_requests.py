"""Access and erasure of one subject through the library against hand-written SQL, on PostgreSQL.

A 12-table schema is generated inside the database (generate_series), about
PRIVET_BENCH_ROWS rows in all (default 10,000,000). The reference is the same
work as hand-written statements in one transaction (an erasure committed, on a
twin subject with the same rows per table); the ratio is library time over
reference time, measured in the same run on the same data. Setup runs
``privet map check`` first and prints the lookup and search columns it finds
without an index, then creates the indexes it advises (what a user does).
The mention pass (other people's free text) is timed apart. The database is vacuumed after
loading and every subject's pages are read once before timing: warm cache, as in a running service.
"""

from __future__ import annotations

import os
import shutil
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from privet.datamap import parse_map
from privet.discovery.check import check_map
from privet.requests import access, access_batch, erase
from privet.settings import Settings
from privet.state import open_state
from privet.stores import Stores

ADMIN = os.environ.get("PRIVET_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
DB = "privet_bench_requests"

# Rows per user in each child table; users = rows / sum.
PER_USER = {
    "orders": 5,
    "order_items": 15,
    "invoices": 3,
    "invoice_lines": 6,
    "messages": 20,
    "page_views": 30,
    "sessions": 10,
    "addresses": 2,
    "calls": 4,
    "notes": 3,
    "devices": 1,
}

SCHEMA = """
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE TABLE users (id bigint PRIMARY KEY, tenant_id int NOT NULL, email text NOT NULL, phone text, name text,
                    ip text);
CREATE TABLE orders (id bigint PRIMARY KEY, user_id bigint NOT NULL REFERENCES users(id), ship_to text);
CREATE TABLE order_items (id bigint PRIMARY KEY, order_id bigint NOT NULL REFERENCES orders(id), sku text);
CREATE TABLE invoices (id bigint PRIMARY KEY, user_id bigint NOT NULL REFERENCES users(id), issued_on date NOT NULL,
                       amount numeric NOT NULL, party_name text, party_email text);
CREATE TABLE invoice_lines (id bigint PRIMARY KEY, invoice_id bigint NOT NULL REFERENCES invoices(id), what text);
CREATE TABLE messages (id bigint PRIMARY KEY, author_id bigint REFERENCES users(id), body text);
CREATE TABLE page_views (id bigint PRIMARY KEY, user_id bigint REFERENCES users(id), ip text, url text);
CREATE TABLE sessions (id bigint PRIMARY KEY, user_id bigint NOT NULL REFERENCES users(id), token text);
CREATE TABLE addresses (id bigint PRIMARY KEY, user_id bigint NOT NULL REFERENCES users(id), street text);
CREATE TABLE calls (id bigint PRIMARY KEY, caller_number text, recording text);
CREATE TABLE notes (id bigint PRIMARY KEY, user_id bigint REFERENCES users(id), note text);
CREATE TABLE devices (id bigint PRIMARY KEY, user_id bigint REFERENCES users(id), device_id text);
"""

# The indexes an application has anyway (its foreign keys); the search indexes Privet's
# verification and mention passes need are added from map check's advice (_advised_indexes).
INDEXES = """
CREATE INDEX ON orders (user_id); CREATE INDEX ON order_items (order_id); CREATE INDEX ON invoices (user_id);
CREATE INDEX ON invoice_lines (invoice_id); CREATE INDEX ON messages (author_id); CREATE INDEX ON page_views (user_id);
CREATE INDEX ON sessions (user_id); CREATE INDEX ON addresses (user_id); CREATE INDEX ON notes (user_id);
CREATE INDEX ON devices (user_id); CREATE INDEX ON calls (caller_number);
ANALYZE;
"""

MAP = """
version: 1
default_region: DE
stores: {app: {url: "%(url)s"}}
subjects:
  user: {root: app.users, identities: {email: email, phone: phone, id: id}}
tables:
  app.users: {subject: user, tenant_column: tenant_id, columns: {email: {category: contact.email},
    phone: {category: contact.phone_number}, name: {category: name}, ip: {category: device.ip_address}}}
  app.orders: {subject: user, path: user_id -> app.users, columns: {ship_to: {category: contact.address}}}
  app.order_items: {subject: user, path: order_id -> app.orders.user_id -> app.users}
  app.invoices: {subject: user, path: user_id -> app.users,
    legal_hold: {basis: accounting, years: 8, from: issued_on, retain: [party_name]},
    columns: {party_name: {category: name}, party_email: {category: contact.email}}}
  app.invoice_lines: {subject: user, path: invoice_id -> app.invoices.user_id -> app.users,
    legal_hold: {basis: accounting, years: 8}}
  app.messages: {subject: user, path: author_id -> app.users, columns: {body: {category: content.private}}}
  app.page_views: {subject: user, path: user_id -> app.users, columns: {ip: {category: device.ip_address},
    url: {category: behavior.browsing_history}}}
  app.sessions: {subject: user, path: user_id -> app.users}
  app.addresses: {subject: user, path: user_id -> app.users, columns: {street: {category: contact.address}}}
  app.calls: {subject: user, match: {caller_number: phone}, columns: {caller_number: {category: contact.phone}}}
  app.notes: {subject: user, path: user_id -> app.users, columns: {note: {category: content.private}}}
  app.devices: {subject: user, path: user_id -> app.users, columns: {device_id: {category: device.device_id}}}
"""


def _gen_sql(users: int) -> list[str]:
    u = users
    p = PER_USER
    return [
        f"INSERT INTO users SELECT g, g %% 5, 'user' || g || '@example.com', '+49176' || (1000000 + g), "
        f"'Person ' || g, '10.0.' || (g %% 250) || '.1' FROM generate_series(1, {u}) g",
        f"INSERT INTO orders SELECT g, 1 + g %% {u}, 'Street ' || g FROM generate_series(1, {u * p['orders']}) g",
        f"INSERT INTO order_items SELECT g, 1 + g %% {u * p['orders']}, 'sku' FROM "
        f"generate_series(1, {u * p['order_items']}) g",
        f"INSERT INTO invoices SELECT g, 1 + g %% {u}, date '2024-01-01' + (g %% 300), g %% 1000, 'Person ' || "
        f"(1 + g %% {u}), 'user' || (1 + g %% {u}) || '@example.com' FROM generate_series(1, {u * p['invoices']}) g",
        f"INSERT INTO invoice_lines SELECT g, 1 + g %% {u * p['invoices']}, 'line' FROM "
        f"generate_series(1, {u * p['invoice_lines']}) g",
        f"INSERT INTO messages SELECT g, 1 + g %% {u}, 'hello, this is message ' || g || ' about the project' "
        f"FROM generate_series(1, {u * p['messages']}) g",
        f"INSERT INTO page_views SELECT g, 1 + g %% {u}, '10.1.' || (g %% 250) || '.9', '/page/' || (g %% 50) "
        f"FROM generate_series(1, {u * p['page_views']}) g",
        f"INSERT INTO sessions SELECT g, 1 + g %% {u}, md5(g::text) FROM generate_series(1, {u * p['sessions']}) g",
        f"INSERT INTO addresses SELECT g, 1 + g %% {u}, 'Hauptstraße ' || g FROM "
        f"generate_series(1, {u * p['addresses']}) g",
        f"INSERT INTO calls SELECT g, '0176 ' || (1000000 + 1 + g %% {u}), 'r' || g || '.wav' FROM "
        f"generate_series(1, {u * p['calls']}) g",
        f"INSERT INTO notes SELECT g, 1 + g %% {u}, 'note ' || g FROM generate_series(1, {u * p['notes']}) g",
        f"INSERT INTO devices SELECT g, 1 + g %% {u}, md5(g::text) FROM generate_series(1, {u * p['devices']}) g",
    ]


REF_ACCESS = [
    "SELECT * FROM users WHERE id = :id",
    "SELECT * FROM orders WHERE user_id = :id",
    "SELECT * FROM order_items WHERE order_id IN (SELECT id FROM orders WHERE user_id = :id)",
    "SELECT * FROM invoices WHERE user_id = :id",
    "SELECT * FROM invoice_lines WHERE invoice_id IN (SELECT id FROM invoices WHERE user_id = :id)",
    "SELECT * FROM messages WHERE author_id = :id",
    "SELECT * FROM page_views WHERE user_id = :id",
    "SELECT * FROM sessions WHERE user_id = :id",
    "SELECT * FROM addresses WHERE user_id = :id",
    "SELECT * FROM calls WHERE caller_number = :nat",
    "SELECT * FROM notes WHERE user_id = :id",
    "SELECT * FROM devices WHERE user_id = :id",
]
REF_ERASE = [
    "DELETE FROM order_items WHERE order_id IN (SELECT id FROM orders WHERE user_id = :id)",
    "DELETE FROM orders WHERE user_id = :id",
    "UPDATE invoices SET party_email = NULL WHERE user_id = :id",
    "DELETE FROM messages WHERE author_id = :id",
    "DELETE FROM page_views WHERE user_id = :id",
    "DELETE FROM sessions WHERE user_id = :id",
    "DELETE FROM addresses WHERE user_id = :id",
    "DELETE FROM calls WHERE caller_number = :nat",
    "DELETE FROM notes WHERE user_id = :id",
    "DELETE FROM devices WHERE user_id = :id",
    "UPDATE users SET email = 'x' || id || '@example.invalid', phone = NULL, name = NULL, ip = NULL WHERE id = :id",
]


def _advised_indexes(url: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Map check's warnings about unindexed lookup and search columns, before and after
    creating the indexes it advises."""
    dm = parse_map(MAP % {"url": url})
    before = check_map(dm, sample=50).unindexed
    for w in before:
        print(f"  map check: {w['table']}.{w['column']} ({w['used_as']}) has no index -> {w['fix']}")
    engine = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        for w in before:
            for stmt in str(w["fix"]).split(";"):
                if stmt.strip():
                    conn.execute(sa.text(stmt))
        conn.execute(sa.text("ANALYZE"))
    engine.dispose()
    after = check_map(dm, sample=50).unindexed
    return before, after


def _setup(rows: int) -> tuple[str, int]:
    admin = sa.create_engine(ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f"DROP DATABASE IF EXISTS {DB} WITH (FORCE)"))
        conn.execute(sa.text(f"CREATE DATABASE {DB}"))
    admin.dispose()
    url = sa.engine.make_url(ADMIN).set(database=DB).render_as_string(hide_password=False)
    users = max(100, rows // (1 + sum(PER_USER.values())))
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        for stmt in SCHEMA.split(";"):
            if stmt.strip():
                conn.execute(sa.text(stmt))
        for stmt in _gen_sql(users):
            conn.execute(sa.text(stmt.replace("%%", "%")))
    with engine.connect() as conn:
        conn.execution_options(isolation_level="AUTOCOMMIT")
        for stmt in INDEXES.split(";"):
            if stmt.strip():
                conn.execute(sa.text(stmt))
        total = sum(
            conn.execute(sa.text(f"SELECT count(*) FROM {t}")).scalar_one() for t in ["users", *PER_USER]
        )
    engine.dispose()
    return url, total


BATCH_REF = [
    "SELECT * FROM users WHERE id = ANY(:ids)",
    "SELECT * FROM orders WHERE user_id = ANY(:ids)",
    "SELECT i.*, o.user_id FROM order_items i JOIN orders o ON o.id = i.order_id WHERE o.user_id = ANY(:ids)",
    "SELECT * FROM invoices WHERE user_id = ANY(:ids)",
    "SELECT l.*, v.user_id FROM invoice_lines l JOIN invoices v ON v.id = l.invoice_id WHERE v.user_id = ANY(:ids)",
    "SELECT * FROM messages WHERE author_id = ANY(:ids)",
    "SELECT * FROM page_views WHERE user_id = ANY(:ids)",
    "SELECT * FROM sessions WHERE user_id = ANY(:ids)",
    "SELECT * FROM addresses WHERE user_id = ANY(:ids)",
    "SELECT * FROM calls WHERE caller_number = ANY(:nats)",
    "SELECT * FROM notes WHERE user_id = ANY(:ids)",
    "SELECT * FROM devices WHERE user_id = ANY(:ids)",
]


# Runs of each batch variant, the median reported.
BATCH_ROUNDS = 5


def _batched_export(
    dm: Any, settings: Settings, stores: Stores, engine: sa.Engine, tmp: Path
) -> dict[str, Any]:
    """1,000 subjects exported by access_batch against one hand-written query per table for all of
    them (rows fetched, nothing written), and one access() per subject for contrast."""
    uids = list(range(501, 1501))
    subjects: list[str | Any] = [f"email=user{u}@example.com" for u in uids]
    # The exports go to a folder in memory where the machine has one: creating a file costs this
    # machine's disk 0.1-0.9 ms whatever its size (1,000 empty files: 0.14-0.8 s, measured), more
    # than the rest of a batch at times, and the reference writes nothing. One variant writes to
    # the disk, and creating the same files alone is timed there, both reported beside.
    ram = _ram_folder()
    base = ram or tmp

    def reference() -> int:
        n = 0
        with engine.connect() as conn:
            for q in BATCH_REF:
                params = {"ids": uids, "nats": [f"0176 {1000000 + u}" for u in uids]}
                n += len(conn.execute(sa.text(q), params).all())
        return n

    # Both sides once unmeasured: the rows' pages and the search indexes warm, as in a running service.
    reference()
    access_batch(dm, settings, subjects, out_dir=tmp / "warm", stores=stores)
    stats: dict[str, float] = {}
    lib_rows = 0

    def timed_batch(name: str, workers: int, mentions: bool) -> float:
        nonlocal lib_rows
        # Into an empty folder, as a user's batch writes: the last run's zips removed first,
        # untimed (replacing a thousand files costs the file system twice what writing new ones does).
        folder = (tmp if name == "disk" else base) / name
        shutil.rmtree(folder, ignore_errors=True)
        t = time.perf_counter()
        got = access_batch(
            dm,
            settings,
            subjects,
            out_dir=folder,
            stores=stores,
            workers=workers,
            mentions=mentions,
            stats=stats if name == "batch" else None,
        )
        took = time.perf_counter() - t
        rows = sum(r.rows for r in got)
        assert lib_rows in (0, rows), (lib_rows, rows)
        lib_rows = rows
        return took

    # Every variant BATCH_ROUNDS times, the rounds interleaved (reference, one process, two worker
    # processes, both without the mention pass), and the median of each taken: a single run of
    # a second or so moves by a fifth from one run to the next on a shared machine. Two worker
    # processes are one per core of the machine measured; the mention pass is reported apart,
    # as for one subject (the reference searches no free text).
    times: dict[str, list[float]] = {}
    ref_rows = 0
    for _round in range(BATCH_ROUNDS):
        t = time.perf_counter()
        ref_rows = reference()
        times.setdefault("reference", []).append(time.perf_counter() - t)
        for name, workers, mentions in (
            ("batch", 1, True),
            ("batch2", 2, True),
            ("bare", 1, False),
            ("bare2", 2, False),
            ("disk", 1, True),
        ):
            times.setdefault(name, []).append(timed_batch(name, workers, mentions))
    ref_s, lib_s, two_s, bare_s, bare_two_s, disk_s = (
        statistics.median(times[k]) for k in ("reference", "batch", "batch2", "bare", "bare2", "disk")
    )
    files_s = _files_alone(base / "batch", tmp / "files")
    if ram is not None:
        shutil.rmtree(ram, ignore_errors=True)
    # The phases of the one-process runs with the mention pass, per run.
    stats = {k: round(v / BATCH_ROUNDS, 2) for k, v in stats.items()}
    t = time.perf_counter()
    loop_rows = 0
    for u in range(1501, 1601):
        loop_rows += access(
            dm, settings, f"email=user{u}@example.com", out=tmp / "one.zip", stores=stores
        ).rows
    loop_s = time.perf_counter() - t
    return {
        "subjects": len(uids),
        "rounds": BATCH_ROUNDS,
        "runs_s": {k: [round(x, 3) for x in v] for k, v in times.items()},
        "rows": lib_rows,
        "reference_rows": ref_rows,
        "reference_s": round(ref_s, 3),
        "privet_s": round(lib_s, 3),
        "privet_without_mentions_s": round(bare_s, 3),
        "reference_rows_per_s": round(ref_rows / ref_s),
        "privet_rows_per_s": round(lib_rows / lib_s),
        "privet_rows_per_s_without_mentions": round(lib_rows / bare_s),
        "ratio": round((lib_rows / lib_s) / (ref_rows / ref_s), 2),
        "ratio_without_mentions": round((lib_rows / bare_s) / (ref_rows / ref_s), 2),
        "per_subject_rows_per_s": round(loop_rows / loop_s),
        "two_workers_s": round(two_s, 3),
        "two_workers_rows_per_s": round(lib_rows / two_s),
        "two_workers_ratio": round((lib_rows / two_s) / (ref_rows / ref_s), 2),
        "two_workers_without_mentions_s": round(bare_two_s, 3),
        "two_workers_ratio_without_mentions": round((lib_rows / bare_two_s) / (ref_rows / ref_s), 2),
        "phases_ms": stats,
        "folder": "memory (/dev/shm)" if ram is not None else "disk (the temporary folder)",
        "to_disk_s": round(disk_s, 3),
        "to_disk_ratio": round((lib_rows / disk_s) / (ref_rows / ref_s), 2),
        "files_alone_on_disk_s": round(files_s, 3),
        # Reading alone: the batched statements (on PostgreSQL most tables rendered by the database
        # as each person's JSON and CSV lines), in a thread of their own beside the writing.
        "privet_read_rows_per_s": round(lib_rows / (stats.get("read_ms", 0.0) / 1000 or 1)),
    }


def _ram_folder() -> Path | None:
    """A new folder in memory (/dev/shm), or None where the machine has none to write to."""
    shm = Path("/dev/shm")
    if not (shm.is_dir() and os.access(shm, os.W_OK)):
        return None
    return Path(tempfile.mkdtemp(prefix="privet-bench-", dir=shm))


def _files_alone(made: Path, folder: Path) -> float:
    """Seconds to create, on the disk, files of the same sizes as a batch's zips, written and
    renamed as a batch writes them: what the file system alone costs a batch there."""
    sizes = [p.stat().st_size for p in sorted(made.glob("*.zip"))]
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    data = os.urandom(max(sizes, default=0))
    t = time.perf_counter()
    for n, size in enumerate(sizes):
        part = folder / f".access-{n:06d}.zip.part"
        part.write_bytes(data[:size])
        part.replace(folder / f"access-{n:06d}.zip")
    took = time.perf_counter() - t
    shutil.rmtree(folder, ignore_errors=True)
    return took


def _time(fn: Any) -> float:
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def run() -> dict[str, Any]:
    rows = int(os.environ.get("PRIVET_BENCH_ROWS", "10000000"))
    url, total = _setup(rows)
    warned, still = _advised_indexes(url)
    # What autovacuum has long done on a live database: visibility map and hint bits set, fresh
    # statistics. Without it the first reads of every page also write, which hides the work measured.
    vacuum = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    with vacuum.connect() as conn:
        conn.execute(sa.text("VACUUM ANALYZE"))
    vacuum.dispose()
    dm = parse_map(MAP % {"url": url})
    tmp = Path(tempfile.mkdtemp())
    settings = Settings(home=tmp / ".privet")
    state = open_state(settings.resolved_state_url)
    stores = Stores(dm)  # a long-lived service keeps its connections and reflected schema
    engine = sa.create_engine(url)
    subjects = list(range(11, 51))
    # The hand-written erasure commits, as an erasure does, on a twin of each subject (the same
    # rows per table: the data is generated round-robin), so the library erases the subject itself.
    twin = 100
    ref_access, lib_access, ref_erase, lib_erase, ref_erase_rolled_back = [], [], [], [], []

    def ref(sqls: list[str], uid: int) -> None:
        with engine.begin() as conn:
            for s in sqls:
                list(conn.execute(sa.text(s), {"id": uid, "nat": f"0176 {1000000 + uid}"}))

    access_mentions: list[float] = []
    erase_mentions: list[float] = []
    phases: dict[str, list[float]] = {}
    for uid in subjects:
        # The subject's pages read once, unmeasured: both sides then run on a warm cache.
        ref(REF_ACCESS, uid)
        ref_access.append(_time(lambda uid=uid: ref(REF_ACCESS, uid)))
        t = time.perf_counter()
        got = access(dm, settings, f"email=user{uid}@example.com", out=tmp / f"a{uid}.zip", stores=stores)
        lib_access.append(time.perf_counter() - t)
        access_mentions.append(got.mention_ms / 1000)
    batch = _batched_export(dm, settings, stores, engine, tmp)
    for uid in subjects:
        ref(REF_ACCESS, uid + twin)  # the twin's pages read once, as the subject's were
    for uid in subjects:
        with engine.connect() as conn:
            # Also rolled back on the subject itself (no commit to wait for), reported apart.
            t = time.perf_counter()
            with conn.begin() as tx:
                for s in REF_ERASE:
                    conn.execute(sa.text(s), {"id": uid, "nat": f"0176 {1000000 + uid}"})
                tx.rollback()
            ref_erase_rolled_back.append(time.perf_counter() - t)
            t = time.perf_counter()
            with conn.begin():
                for s in REF_ERASE:
                    conn.execute(sa.text(s), {"id": uid + twin, "nat": f"0176 {1000000 + uid + twin}"})
            ref_erase.append(time.perf_counter() - t)
        result = None

        def lib(uid: int = uid) -> None:
            nonlocal result
            result = erase(dm, settings, f"email=user{uid}@example.com", state=state, stores=stores)

        lib_erase.append(_time(lib))
        assert result is not None and result.verified, result
        erase_mentions.append(result.timings.get("mentions", 0.0) / 1000)
        for phase, ms in result.timings.items():
            phases.setdefault(phase, []).append(ms)
    # A heavy subject: give user 60 about 20k rows, erase in one transaction.
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE page_views SET user_id = 60 WHERE id <= 20000"))
    heavy = _time(lambda: erase(dm, settings, "email=user60@example.com", state=state, stores=stores))
    # Naive contrast: one statement per row on its own connection, as row-by-row tools do.
    with engine.connect() as conn:
        ids = [r[0] for r in conn.execute(sa.text("SELECT id FROM page_views WHERE user_id = 70"))]
    t = time.perf_counter()
    for i in ids:
        with engine.begin() as conn:
            conn.execute(sa.text("UPDATE page_views SET ip = NULL WHERE id = :i"), {"i": i})
    naive_per_row = (time.perf_counter() - t) / max(1, len(ids))
    engine.dispose()
    state.dispose()
    stores.close()
    med = statistics.median
    out = {
        "name": "requests",
        "rows": total,
        "tables": 12,
        "access_ms": {
            "privet": round(med(lib_access) * 1000, 2),
            "reference": round(med(ref_access) * 1000, 2),
        },
        "erase_ms": {
            "privet": round(med(lib_erase) * 1000, 2),
            "reference": round(med(ref_erase) * 1000, 2),
            "reference_rolled_back": round(med(ref_erase_rolled_back) * 1000, 2),
        },
        "access_mention_pass_ms": round(med(access_mentions) * 1000, 2),
        "erase_mention_pass_ms": round(med(erase_mentions) * 1000, 2),
        "erase_phases_ms": {k: round(med(v), 2) for k, v in phases.items()},
        "access_ratio": round(med(lib_access) / med(ref_access), 2),
        "erase_ratio": round(med(lib_erase) / med(ref_erase), 2),
        "access_ratio_without_mentions": round(
            med([a - m for a, m in zip(lib_access, access_mentions, strict=True)]) / med(ref_access), 2
        ),
        "erase_ratio_without_mentions": round(
            med([a - m for a, m in zip(lib_erase, erase_mentions, strict=True)]) / med(ref_erase), 2
        ),
        # What the hand-written reference does not do at all: the mention pass and the verification.
        "erase_ratio_without_mentions_and_verification": round(
            med(
                [
                    a - m - v / 1000
                    for a, m, v in zip(lib_erase, erase_mentions, phases["verification"], strict=True)
                ]
            )
            / med(ref_erase),
            2,
        ),
        "batched_export_1000": batch,
        "map_check_unindexed_at_setup": [f"{w['table']}.{w['column']} ({w['used_as']})" for w in warned],
        "map_check_unindexed_after_advice": [f"{w['table']}.{w['column']}" for w in still],
        "heavy_subject_20k_rows_erase_s": round(heavy, 3),
        "naive_row_by_row_ms_per_row": round(naive_per_row * 1000, 3),
    }
    out["summary"] = (
        f"PostgreSQL, {total:,} rows over 12 tables, median of {len(subjects)} subjects.\n"
        f"setup: map check warned about {len(warned)} unindexed lookup/search columns; after its advice "
        f"{len(still)} remain\n"
        f"mention pass: access {out['access_mention_pass_ms']} ms, erase {out['erase_mention_pass_ms']} ms "
        f"(the erasure's redactions travel with its verification, timed there); "
        f"without it the ratios are access {out['access_ratio_without_mentions']}, "
        f"erase {out['erase_ratio_without_mentions']} (also without verification "
        f"{out['erase_ratio_without_mentions_and_verification']}); erase phases (ms): {out['erase_phases_ms']}\n"
        f"access: Privet {out['access_ms']['privet']} ms (zip with JSON+CSV, mentions, information.html) vs "
        f"hand-written SQL {out['access_ms']['reference']} ms -> ratio {out['access_ratio']} (goal <= 2)\n"
        f"erase: Privet {out['erase_ms']['privet']} ms (plan, one transaction, mentions, verification, "
        f"certificate, audit) vs hand-written SQL {out['erase_ms']['reference']} ms, committed -> ratio "
        f"{out['erase_ratio']} (goal <= 2, < 20 ms; the same SQL rolled back: "
        f"{out['erase_ms']['reference_rolled_back']} ms)\n"
        f"batched export of 1,000 subjects (median of {batch['rounds']} runs each): Privet "
        f"{batch['privet_rows_per_s']:,} rows/s "
        f"({batch['privet_rows_per_s_without_mentions']:,} without the mention pass) vs one batched query per "
        f"table {batch['reference_rows_per_s']:,} rows/s -> ratio {batch['ratio']} "
        f"({batch['ratio_without_mentions']} without the mention pass; goal >= 0.7); with two worker processes "
        f"(the default of `privet access --subjects-file` on two cores) "
        f"{batch['two_workers_rows_per_s']:,} rows/s -> ratio {batch['two_workers_ratio']} "
        f"({batch['two_workers_ratio_without_mentions']} without the mention pass); one access() per subject: "
        f"{batch['per_subject_rows_per_s']:,} rows/s; reading alone (batched statements, tables rendered by the database, in a thread beside the writing) "
        f"{batch['privet_read_rows_per_s']:,} rows/s; phases (ms): {batch['phases_ms']}; exports written to "
        f"{batch['folder']}; one process with the mention pass writing to the disk instead: "
        f"{batch['to_disk_s']} s -> ratio {batch['to_disk_ratio']} (creating the same files alone on the disk: "
        f"{batch['files_alone_on_disk_s']} s)\n"
        f"subject with ~20k rows erased in {out['heavy_subject_20k_rows_erase_s']} s (goal < 1 s); "
        f"naive one statement per row: {out['naive_row_by_row_ms_per_row']} ms per row"
    )
    return out
