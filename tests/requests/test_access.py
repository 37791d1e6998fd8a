"""Access export (Art. 15/20) on SQLite, PostgreSQL and MariaDB."""

from __future__ import annotations

import gc
import hashlib
import json
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest

from privet.errors import BadInput, BadSubject
from privet.requests import access, access_batch, rectify
from privet.requests.erase import as_identity
from privet.settings import Settings
from tests.requests.shop import shop_map, snapshot
from tests.requests.zipcheck import local_headers_agree


def _table(z: zipfile.ZipFile, ref: str) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = json.loads(z.read(f"tables/{ref}.json"))
    return rows


def test_when_anna_asks_then_export_holds_all_her_rows_files_and_a_manifest(
    shop: tuple[str, Path], settings: Settings, tmp_path: Path
) -> None:
    url, rec = shop
    out = tmp_path / "anna.zip"
    result = access(shop_map(url, rec), settings, "phone=0176 123 4567", out=out)
    assert result.found and result.tables == {
        "shop.users": 1,
        "shop.orders": 2,
        "shop.order_items": 2,
        "shop.invoices": 1,
        "shop.calls": 2,
        "shop.messages": 1,
        "shop.projects": 2,
    }
    assert result.files == 2
    with zipfile.ZipFile(out) as z:
        manifest = json.loads(z.read("manifest.json"))
        for entry in manifest["files"]:
            assert hashlib.sha256(z.read(entry["path"])).hexdigest() == entry["sha256"]
        assert {"information.html", "mentions.json", "tables/shop.calls.csv"} <= set(z.namelist())
        assert z.read("files/rec/a1.wav") == (rec / "a1.wav").read_bytes()
        # The project shared with Bob: her side only, never Bob's link.
        shared = next(p for p in _table(z, "shop.projects") if p["id"] == 50)
        assert "freelancer_id" not in shared and shared["client_note"] == "Anna wants blue"
        # Bob's message mentions her: only the fragment, in the mentions section.
        mentions = json.loads(z.read("mentions.json"))
        assert {m["table"] for m in mentions} == {"shop.messages"}
        assert all("anna@example.com" in m["fragment"] or "1234567" in m["fragment"] for m in mentions)
        page = z.read("information.html").decode()
        assert "Art. 15" in page
        assert "<tr><td>shop.calls</td><td>2</td></tr>" in page
        assert page.count("<tr><td>shop.") == len(result.tables)


def test_when_nobody_matches_then_export_is_empty_and_says_so(
    shop: tuple[str, Path], settings: Settings, tmp_path: Path
) -> None:
    url, rec = shop
    out = tmp_path / "nobody.zip"
    result = access(shop_map(url, rec), settings, "email=nobody@example.com", out=out)
    assert not result.found and "empty" in result.message
    with zipfile.ZipFile(out) as z:
        assert '<tr><td colspan="2">none</td></tr>' in z.read("information.html").decode()
    with zipfile.ZipFile(out) as z:
        assert json.loads(z.read("manifest.json"))["found"] is False


def test_when_access_runs_then_nothing_in_the_store_changes(
    shop: tuple[str, Path], settings: Settings, tmp_path: Path
) -> None:
    url, rec = shop
    before = snapshot(url)
    access(shop_map(url, rec), settings, "email=bob@example.com", out=tmp_path / "b.zip")
    assert snapshot(url) == before


def test_when_email_is_rectified_then_copies_change_and_held_invoice_keeps_history(
    shop: tuple[str, Path], settings: Settings
) -> None:
    url, rec = shop
    dm = shop_map(url, rec)
    report = rectify(dm, settings, "email=anna@example.com", {"email": "anna.new@example.com"})
    assert report["updated"] == {"shop.users.email": 1}
    assert report["kept_under_hold"] == {"shop.invoices.party_email": 1}
    again = access(dm, settings, "email=anna.new@example.com", out=Path(rec.parent / "x.zip"))
    assert again.found and again.tables["shop.orders"] == 2


def _contents(path: str) -> dict[str, object]:
    """Every entry of an export except the generation timestamps."""
    out: dict[str, object] = {}
    with zipfile.ZipFile(path) as z:
        for name in z.namelist():
            if name.endswith(".json") and name != "manifest.json":
                data = json.loads(z.read(name))
                out[name] = sorted(map(json.dumps, data)) if isinstance(data, list) else data
            elif name.startswith(("files/", "tables/")) and name.endswith((".csv", ".wav")):
                out[name] = z.read(name)
    return out


def _build(url: str, *statements: str | tuple[str, dict[str, Any]]) -> None:
    """Run the statements (SQL, or SQL and its parameters) in one transaction on the database."""
    import sqlalchemy as sa

    engine = sa.create_engine(url)
    with engine.begin() as conn:
        for stmt in statements:
            sql, params = (stmt, {}) if isinstance(stmt, str) else stmt
            conn.execute(sa.text(sql), params)
    engine.dispose()


def _as_alone(
    dm: Any, settings: Settings, subjects: list[str], batch: list[Any], tmp_path: Path, mentions: bool = True
) -> None:
    """Each export of the batch holds what access() gives for that subject alone."""
    for subject, got in zip(subjects, batch, strict=True):
        alone = access(dm, settings, subject, out=tmp_path / "alone.zip", mentions=mentions)
        assert (got.found, got.rows, got.tables, got.files, got.mentions) == (
            alone.found,
            alone.rows,
            alone.tables,
            alone.files,
            alone.mentions,
        )
        assert (got.out is None) == (alone.out is None)
        if got.out is not None and alone.out is not None:
            assert _contents(got.out) == _contents(alone.out)
            _json_and_csv_agree(got.out)


def message_fragments(result: Any) -> list[str]:
    """The fragments of ``shop.messages`` in an export's ``mentions.json``."""
    assert result.out is not None
    with zipfile.ZipFile(result.out) as z:
        found = json.loads(z.read("mentions.json"))
    return [m["fragment"] for m in found if m["table"] == "shop.messages"]


def _json_and_csv_agree(path: str) -> None:
    """Every table's CSV holds every value of its JSON, under every column the JSON shows (a
    shared row's hidden columns are empty in CSV)."""
    import csv
    import io

    with zipfile.ZipFile(path) as z:
        for name in z.namelist():
            if not (name.startswith("tables/") and name.endswith(".json")):
                continue
            rows = json.loads(z.read(name))
            lines = list(csv.DictReader(io.StringIO(z.read(name[:-5] + ".csv").decode(), newline="")))
            assert len(rows) == len(lines), name
            for row, line in zip(rows, lines, strict=True):
                assert {k: "" if v is None else str(v) for k, v in row.items()} == {
                    k: v for k, v in line.items() if k in row
                }, name
                assert all(v == "" for k, v in line.items() if k not in row), name


def test_when_many_people_are_exported_in_a_batch_then_each_export_equals_their_own_access(
    shop: tuple[str, Path], settings: Settings, tmp_path: Path
) -> None:
    url, rec = shop
    dm = shop_map(url, rec)
    subjects: list[str] = [
        "email=bob@example.com",
        "phone=0176 123 4567",
        "email=anna@example.com",  # Anna again, by another identity, in the same group
        "email=nobody@example.com",
        "id=3",
    ]
    stats: dict[str, float] = {}
    batch = access_batch(dm, settings, list(subjects), out_dir=tmp_path / "batch", group=3, stats=stats)
    assert {"resolve_ms", "read_ms", "write_ms", "seal_ms"} <= set(stats)
    assert [r.subject for r in batch] == [str(as_identity(dm, s)) for s in subjects]
    _as_alone(dm, settings, subjects, batch, tmp_path)
    assert batch[0].tables["shop.order_items"] >= 1  # a multi-hop table, read for the whole group at once
    assert not batch[3].found and "nobody" in batch[3].message


def test_when_a_batch_runs_then_the_collector_waits_until_its_last_group_is_done(
    shop: tuple[str, Path], settings: Settings, tmp_path: Path
) -> None:
    """Group by group, three threads at once: no cyclic collection starts while a group is read,
    written or finished (with a threshold of one object, any moment the collector were on
    between groups would start one, in whichever thread allocates), and the collector is on
    again afterwards, as before."""
    url, rec = shop
    dm = shop_map(url, rec)
    subjects = ["email=bob@example.com", "phone=0176 123 4567", "email=nobody@example.com", "id=3"]
    out = tmp_path / "batch"
    inside = {"_export_range", "_gather", "_write_group", "_finish", "_mention_candidates"}
    started: list[list[str]] = []

    def seen(phase: str, info: dict[str, int]) -> None:
        if phase != "start":
            return
        # The functions under way where the collection started (the thread that allocated).
        names, frame = [], sys._getframe(1)
        while frame is not None:
            names.append(frame.f_code.co_name)
            frame = frame.f_back
        started.append(names)

    threshold = gc.get_threshold()
    gc.callbacks.append(seen)
    gc.set_threshold(1)
    try:
        batch = access_batch(dm, settings, subjects, out_dir=out, group=1)
        assert gc.isenabled()
        _ = [[] for _ in range(10)]  # on again: a collection starts at once
    finally:
        gc.set_threshold(*threshold)
        gc.callbacks.remove(seen)
    assert started, "the collector never ran"
    assert not [names for names in started if inside & set(names)]
    assert [r.found for r in batch] == [True, True, False, True]


def test_when_mentions_are_left_out_then_the_exports_hold_none_and_say_so(
    shop: tuple[str, Path], settings: Settings, tmp_path: Path
) -> None:
    url, rec = shop
    dm = shop_map(url, rec)
    full = access(dm, settings, "email=anna@example.com", out=tmp_path / "full.zip")
    bare = access(dm, settings, "email=anna@example.com", out=tmp_path / "bare.zip", mentions=False)
    assert full.mentions >= 1 and bare.mentions == 0
    assert (bare.rows, bare.tables, bare.files) == (full.rows, full.tables, full.files)
    with zipfile.ZipFile(tmp_path / "bare.zip") as z:
        assert "mentions.json" not in z.namelist()
        assert json.loads(z.read("manifest.json"))["mentions_searched"] is False
        assert "not searched for mentions" in z.read("information.html").decode()
    with zipfile.ZipFile(tmp_path / "full.zip") as z:
        assert json.loads(z.read("manifest.json"))["mentions_searched"] is True
        page = z.read("information.html").decode()
        assert "mentions.json" in page and "not searched" not in page
    subjects = ["email=anna@example.com", "email=bob@example.com", "email=nobody@example.com"]
    batch = access_batch(dm, settings, subjects, out_dir=tmp_path / "batch", mentions=False)
    assert not any(r.mentions for r in batch)
    for got in batch:
        assert got.out is not None
        with zipfile.ZipFile(got.out) as z:
            assert "mentions.json" not in z.namelist()
            assert json.loads(z.read("manifest.json"))["mentions_searched"] is False
    _as_alone(dm, settings, subjects, batch, tmp_path, mentions=False)


def test_when_a_batch_runs_in_worker_processes_then_it_gives_the_same_exports_in_the_same_order(
    shop: tuple[str, Path], settings: Settings, tmp_path: Path
) -> None:
    """Two worker processes, each with its own connections (one forked from open stores whose
    schema is already reflected): the same results and the same zips as one process."""
    from privet.stores import Stores

    url, rec = shop
    dm = shop_map(url, rec)
    subjects: list[str] = ["email=bob@example.com", "phone=0176 123 4567", "email=nobody@example.com", "id=3"]
    alone = access_batch(dm, settings, list(subjects), out_dir=tmp_path / "one", group=1)
    with Stores(dm) as stores:
        access(dm, settings, subjects[0], out=tmp_path / "warm.zip", stores=stores)  # tables reflected
        stats: dict[str, float] = {}
        forked = access_batch(
            dm,
            settings,
            list(subjects),
            out_dir=tmp_path / "two",
            group=1,
            workers=2,
            stores=stores,
            stats=stats,
        )
        # The parent's own connections still work after its children have gone.
        again = access(dm, settings, subjects[1], out=tmp_path / "after.zip", stores=stores)
    assert again.rows == alone[1].rows
    assert stats["read_ms"] > 0
    assert [r.to_dict() | {"out": None} for r in forked] == [r.to_dict() | {"out": None} for r in alone]
    for a, b in zip(alone, forked, strict=True):
        assert (a.out is None) == (b.out is None)
        if a.out is not None and b.out is not None:
            assert Path(b.out).name == Path(a.out).name
            assert _contents(b.out) == _contents(a.out)
    with pytest.raises(BadInput, match="workers"):
        access_batch(dm, settings, list(subjects), out_dir=tmp_path / "none", workers=0)


def test_when_a_batch_holds_a_malformed_subject_then_nothing_is_written(
    shop: tuple[str, Path], settings: Settings, tmp_path: Path
) -> None:
    url, rec = shop
    with pytest.raises(BadSubject):
        access_batch(
            shop_map(url, rec),
            settings,
            ["email=bob@example.com", "email=not-an-address"],
            out_dir=tmp_path / "b",
        )
    assert not (tmp_path / "b").exists() or not any((tmp_path / "b").iterdir())


TEXT_KEYS_MAP = """
version: 1
stores: {shop: {url: "%s"}}
subjects:
  customer: {root: shop.users, identities: {email: email, id: id}}
tables:
  shop.users: {subject: customer, columns: {email: {category: contact.email}}}
  shop.orders: {subject: customer, path: user_id -> shop.users, columns: {note: {category: content.private}}}
"""


def test_when_links_spell_a_text_key_differently_then_a_batch_export_holds_what_access_gives(
    db_url: str, settings: Settings, tmp_path: Path
) -> None:
    """Text keys: where the database compares them without case (MariaDB's default collation), an
    order linked to 'ANNA' belongs to the customer 'anna'; the batch export must hold it too."""
    import sqlalchemy as sa

    from privet.datamap import parse_map

    spelled = "ANNA" if sa.engine.make_url(db_url).get_backend_name() in ("mysql", "mariadb") else "anna"
    _build(
        db_url,
        "CREATE TABLE users (id VARCHAR(20) PRIMARY KEY, email VARCHAR(100))",
        "CREATE TABLE orders (id INTEGER PRIMARY KEY, user_id VARCHAR(20) NOT NULL, "
        "note VARCHAR(50), FOREIGN KEY (user_id) REFERENCES users(id))",
        "INSERT INTO users VALUES ('anna', 'anna@example.com'), ('bob', 'bob@example.com')",
        (
            "INSERT INTO orders VALUES (1, 'anna', 'a1'), (2, :spelled, 'a2'), (3, 'bob', 'b1')",
            {"spelled": spelled},
        ),
    )
    dm = parse_map(TEXT_KEYS_MAP % db_url)
    subjects = ["email=anna@example.com", "email=bob@example.com", "id=anna"]
    batch = access_batch(dm, settings, list(subjects), out_dir=tmp_path / "batch")
    _as_alone(dm, settings, subjects, batch, tmp_path)
    assert batch[0].tables["shop.orders"] == 2 and batch[1].tables["shop.orders"] == 1


WIDE_MAP = """
version: 1
stores: {app: {url: "%s"}}
subjects:
  customer: {root: app.users, identities: {email: email, id: id}}
tables:
  app.users: {subject: customer, columns: {email: {category: contact.email}}}
  app.events: {subject: customer, path: user_id -> app.users, columns: {body: {category: content.private}}}
"""

# Above the size an export writes from memory (SMALL_TABLE): the streamed form is used.
WIDE_ROWS = 1500


def _typed_events(engine: Any, *, score: bool = False) -> tuple[Any, Any]:
    """``users`` and their ``events`` with a value of every kind (a timestamp, a decimal, binary,
    text; a float ``score`` when asked), created on the database: (users, events)."""
    import sqlalchemy as sa

    meta = sa.MetaData()
    users = sa.Table(
        "users", meta, sa.Column("id", sa.Integer, primary_key=True), sa.Column("email", sa.String(100))
    )
    events = sa.Table(
        "events",
        meta,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id"), nullable=False),
        sa.Column("at", sa.DateTime),
        sa.Column("amount", sa.Numeric(10, 2)),
        *([sa.Column("score", sa.Float)] if score else []),
        sa.Column("blob", sa.LargeBinary),
        sa.Column("body", sa.String(200)),
    )
    meta.create_all(engine)
    return users, events


def test_when_a_table_holds_many_rows_of_every_type_then_json_and_csv_say_the_same_and_the_zip_is_sound(
    db_url: str, settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Timestamps, decimals, binary values, NULLs and text with commas, quotes and line breaks, in
    a table large enough to be streamed: the JSON and the CSV hold the same values, the zip's
    checksums hold, and a batch export gives the same bytes."""
    import csv
    import datetime as dt
    import decimal
    import io

    import sqlalchemy as sa

    from privet.datamap import parse_map

    engine = sa.create_engine(db_url)
    users, events = _typed_events(engine)
    start = dt.datetime(2024, 5, 1, 12, 30, 15)
    with engine.begin() as conn:
        conn.execute(users.insert(), [{"id": 1, "email": "anna@example.com"}])
        conn.execute(
            events.insert(),
            [
                {
                    "id": i,
                    "user_id": 1,
                    "at": None if i % 7 == 0 else start + dt.timedelta(minutes=i),
                    "amount": decimal.Decimal(i) / 4,
                    "blob": b"\x00\x01" if i % 2 else None,
                    "body": f'line {i}, "quoted"\nnext' if i % 3 == 0 else f"plain {i}",
                }
                for i in range(1, WIDE_ROWS + 1)
            ],
        )
    engine.dispose()
    dm = parse_map(WIDE_MAP % db_url)
    out = tmp_path / "anna.zip"
    result = access(dm, settings, "email=anna@example.com", out=out)
    assert result.tables == {"app.users": 1, "app.events": WIDE_ROWS}
    with zipfile.ZipFile(out) as z:
        assert z.testzip() is None
        # Sizes in every local header, no trailing data descriptor: streaming readers (Java's
        # ZipInputStream) refuse a stored entry that has one.
        assert all(not info.flag_bits & 0x08 for info in z.infolist())
        assert {info.compress_type for info in z.infolist()} == {zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED}
        # Every entry, stored, deflated or streamed, dated when the export was made.
        dates = {dt.date(*info.date_time[:3]) for info in z.infolist()}
        assert dates <= {dt.date.today(), dt.date.today() - dt.timedelta(days=1)}
        for entry in json.loads(z.read("manifest.json"))["files"]:
            assert hashlib.sha256(z.read(entry["path"])).hexdigest() == entry["sha256"]
        as_json = _table(z, "app.events")
        as_csv = list(csv.DictReader(io.StringIO(z.read("tables/app.events.csv").decode(), newline="")))
    assert len(as_json) == len(as_csv) == WIDE_ROWS
    for j, c in zip(as_json, as_csv, strict=True):
        assert {k: "" if v is None else str(v) for k, v in j.items()} == c
    row = next(r for r in as_json if r["id"] == 3)
    assert row["at"] == (start + dt.timedelta(minutes=3)).isoformat()
    assert row["blob"] == "<binary>" and row["body"] == 'line 3, "quoted"\nnext'
    assert decimal.Decimal(str(row["amount"])) == decimal.Decimal("0.75")
    assert next(r for r in as_json if r["id"] == 7)["at"] is None
    batch = access_batch(dm, settings, ["email=anna@example.com"], out_dir=tmp_path / "batch")
    assert batch[0].out is not None and _contents(batch[0].out) == _contents(out)
    _json_and_csv_agree(str(out))
    # An export larger than what is built in memory moves to its file half-way: the same zip.
    import importlib

    # The module, not the function privet.requests exports under the same name.
    monkeypatch.setattr(importlib.import_module("privet.requests.access"), "SPOOL_BYTES", 4096)
    big = tmp_path / "big.zip"
    access(dm, settings, "email=anna@example.com", out=big)
    with zipfile.ZipFile(big) as z:
        assert z.testzip() is None
    local_headers_agree(big)
    local_headers_agree(out)
    assert _contents(str(big)) == _contents(str(out))


@pytest.mark.parametrize("floats", [False, True], ids=["as-one", "with-floats"])
def test_when_a_group_holds_values_of_every_type_then_each_batch_export_equals_their_own_access(
    db_url: str, settings: Settings, tmp_path: Path, floats: bool
) -> None:
    """A batch writes a table's rows for the whole group at once (the types of its values looked
    at once, one CSV writer; with floats, which may not be finite, person by person): timestamps,
    decimals, binary values, NULLs and text with commas, quotes and line breaks, a person whose
    rows hold only some of the types, one with no rows, one with one row, give each person the
    bytes access() gives."""
    import datetime as dt
    import decimal

    import sqlalchemy as sa

    from privet.datamap import parse_map

    engine = sa.create_engine(db_url)
    users, events = _typed_events(engine, score=True)
    start = dt.datetime(2024, 5, 1, 12, 30, 15)
    rows: list[dict[str, Any]] = []
    for u in range(1, 6):
        for i in range({1: 4, 2: 3, 3: 0, 4: 1, 5: 6}[u]):
            n = 10 * u + i
            rows.append(
                {
                    "id": n,
                    "user_id": u,
                    "at": None if u == 2 else start + dt.timedelta(minutes=n),
                    "amount": decimal.Decimal(n) / 4,
                    "score": 1.5 * n if floats and u == 5 and i % 2 else None,
                    "blob": b"\x00\x01" if u == 1 and i % 2 else None,
                    "body": f'line {n}, "quoted"\nnext' if i % 3 == 0 else f"plain {n} é",
                }
            )
    with engine.begin() as conn:
        conn.execute(users.insert(), [{"id": u, "email": f"user{u}@example.com"} for u in range(1, 6)])
        conn.execute(events.insert(), rows)
    engine.dispose()
    dm = parse_map(WIDE_MAP % db_url)
    subjects = [f"email=user{u}@example.com" for u in (2, 1, 3, 5, 4)]
    batch = access_batch(dm, settings, list(subjects), out_dir=tmp_path / "batch")
    assert [r.tables.get("app.events", 0) for r in batch] == [3, 4, 0, 6, 1]
    _as_alone(dm, settings, subjects, batch, tmp_path)


def test_when_batch_workers_cannot_reach_the_store_then_the_batch_raises_the_store_error(
    settings: Settings, tmp_path: Path
) -> None:
    from privet.datamap import parse_map
    from privet.errors import StoreUnreachable

    # Nothing listens on port 9: every worker fails to connect.
    dm = parse_map(TEXT_KEYS_MAP % "postgresql+psycopg://postgres@127.0.0.1:9/none")
    out = tmp_path / "batch"
    with pytest.raises(StoreUnreachable, match="cannot be reached"):
        access_batch(dm, settings, ["email=a@example.com", "email=b@example.com"], out_dir=out, workers=2)
    assert list(out.iterdir()) == []


def test_when_the_process_runs_threads_then_batch_workers_are_spawned_and_give_the_same_exports(
    shop: tuple[str, Path], settings: Settings, tmp_path: Path
) -> None:
    """Forking a process that runs threads could leave a lock held in the child: then the workers
    start afresh (spawned), with the same exports."""
    import threading

    from privet.requests.batch import _can_fork

    url, rec = shop
    dm = shop_map(url, rec)
    subjects: list[str] = ["email=bob@example.com", "phone=0176 123 4567", "id=3"]
    alone = access_batch(dm, settings, list(subjects), out_dir=tmp_path / "one")
    stop = threading.Event()
    busy = threading.Thread(target=stop.wait)
    busy.start()
    try:
        assert not _can_fork()  # the thread makes the batch start its workers afresh
        spawned = access_batch(dm, settings, list(subjects), out_dir=tmp_path / "two", workers=2)
    finally:
        stop.set()
        busy.join()
    for a, b in zip(alone, spawned, strict=True):
        assert a.out is not None and b.out is not None
        assert _contents(b.out) == _contents(a.out)


@pytest.mark.parametrize("rows", [5, WIDE_ROWS], ids=["in-memory", "streamed"])
def test_when_a_float_is_not_finite_then_json_and_csv_spell_it_the_same_way(
    pg_url: str, settings: Settings, tmp_path: Path, rows: int
) -> None:
    """PostgreSQL stores NaN and the infinities in a float column; JSON has no number for them,
    so both files spell them as strings rather than JSON's null (which would read as missing)."""
    from privet.datamap import parse_map

    _build(
        pg_url,
        "CREATE TABLE users (id integer PRIMARY KEY, email text)",
        "CREATE TABLE events (id integer PRIMARY KEY, user_id integer REFERENCES users(id), "
        "score float8, body text)",
        "INSERT INTO users VALUES (1, 'anna@example.com')",
        (
            "INSERT INTO events SELECT g, 1, CASE g % 5 WHEN 1 THEN 'NaN' WHEN 2 THEN 'Infinity' "
            "WHEN 3 THEN '-Infinity' WHEN 4 THEN 1.5 END FROM generate_series(1, :n) g",
            {"n": rows},
        ),
    )
    dm = parse_map(WIDE_MAP % pg_url)
    out = tmp_path / "anna.zip"
    access(dm, settings, "email=anna@example.com", out=out)
    with zipfile.ZipFile(out) as z:
        scores = [r["score"] for r in _table(z, "app.events")]
    assert scores == ["NaN", "Infinity", "-Infinity", 1.5, None] * (rows // 5)
    _json_and_csv_agree(str(out))


TWO_LINKS_MAP = """
version: 1
default_region: DE
stores: {app: {url: "%s"}}
subjects:
  customer: {root: app.users, identities: {email: email, phone: phone, id: id}}
tables:
  app.users: {subject: customer, columns: {email: {category: contact.email},
    phone: {category: contact.phone_number}}}
  app.contacts: {subject: customer, match: {sender: email, caller: phone, customer_ref: id},
    columns: {sender: {category: contact.email}, caller: {category: contact.phone_number}}}
"""


def test_when_a_table_is_linked_by_several_kinds_of_value_then_a_batch_finds_rows_by_each(
    db_url: str, settings: Settings, tmp_path: Path
) -> None:
    """Value links by email, phone and customer number in one table: a batch reads them for the
    group in one go and every export holds the rows any value finds, once each, as access() does."""
    from privet.datamap import parse_map

    _build(
        db_url,
        "CREATE TABLE users (id INTEGER PRIMARY KEY, email VARCHAR(100), phone VARCHAR(40))",
        "CREATE TABLE contacts (id INTEGER PRIMARY KEY, sender VARCHAR(100), caller VARCHAR(40), "
        "customer_ref VARCHAR(20))",
        "INSERT INTO users VALUES (1, 'anna@example.com', '+491761234567'), "
        "(2, 'bob@example.com', '+4930123456'), (3, 'dora@example.com', '+49301212')",
        "INSERT INTO contacts VALUES (1, 'Anna@Example.com', NULL, NULL), "
        "(2, NULL, '0176 123 4567', NULL), (3, 'anna@example.com', '+49 176 1234567', '1'), "
        "(4, 'bob@example.com', '030 123456', NULL), (5, 'carl@example.com', '0176 999 9999', NULL), "
        "(6, NULL, NULL, '1'), (7, NULL, NULL, '2'), "
        # Dora's short number, written shorter still, and inside a longer one.
        "(8, NULL, '030 1212', NULL), (9, NULL, '1212', NULL), (10, NULL, '0170 301212', NULL)",
    )
    dm = parse_map(TWO_LINKS_MAP % db_url)
    subjects = ["email=anna@example.com", "email=bob@example.com", "email=dora@example.com"]
    batch = access_batch(dm, settings, list(subjects), out_dir=tmp_path / "batch")
    assert [r.tables.get("app.contacts") for r in batch] == [4, 2, 1]
    _as_alone(dm, settings, subjects, batch, tmp_path)
    for got in batch:
        assert got.out is not None
        with zipfile.ZipFile(got.out) as z:
            ids = [r["id"] for r in _table(z, "app.contacts")]
        assert ids == sorted(set(ids))


def test_when_each_kind_of_identity_alone_finds_a_mention_then_a_batch_exports_every_one_once(
    shop: tuple[str, Path], settings: Settings, tmp_path: Path
) -> None:
    """Carl's messages mention Bob only by email, Anna only by name, Bob only by phone, and Anna
    by email and name in one text: a batch (on PostgreSQL one search per column for the whole
    group, driven by everyone's identities) finds each mention by the identity it holds and
    exports a text found twice once, as access() does for each person alone."""
    url, rec = shop
    _build(
        url,
        "INSERT INTO messages (id, author_id, body) VALUES "
        "(60, 3, 'Please write to bob@example.com about it'), "
        "(61, 3, 'Anna Schmidt approved the draft'), "
        "(62, 3, 'Ring him on +49 30 1234567 tomorrow'), "
        "(63, 3, 'Anna Schmidt, anna@example.com, asked twice')",
    )
    dm = shop_map(url, rec)
    subjects = ["email=bob@example.com", "email=anna@example.com", "email=carl@example.org"]
    batch = access_batch(dm, settings, list(subjects), out_dir=tmp_path / "batch")
    _as_alone(dm, settings, subjects, batch, tmp_path)

    bob, anna = message_fragments(batch[0]), message_fragments(batch[1])
    assert sum("bob@example.com" in f for f in bob) == 1
    assert sum("+49 30 1234567" in f for f in bob) == 1
    assert sum(f.startswith("Anna Schmidt approved") for f in anna) == 1
    # Message 63 found by her email and by her name: each mention of her once.
    assert sum("asked twice" in f for f in anna) == 2
