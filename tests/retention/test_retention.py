"""Retention on SQLite, PostgreSQL and MariaDB: old rows change as the rules say, nothing else does."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from privet.datamap import DataMap, parse_map
from privet.requests import erase
from privet.retention import run_retention, set_override
from privet.settings import Settings
from tests.requests.shop import build_shop, shop_map

NOW = dt.datetime(2026, 6, 1, 12, 0, 0)
MD = sa.MetaData()
CALLS = sa.Table(
    "calls",
    MD,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("tenant_id", sa.Integer, nullable=False),
    sa.Column("caller_number", sa.String(40)),
    sa.Column("caller_ip", sa.String(45)),
    sa.Column("device", sa.String(20)),
    sa.Column("recording_path", sa.String(100)),
    sa.Column("started_at", sa.DateTime, nullable=False),
)
SMS = sa.Table(
    "sms",
    MD,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("body", sa.String(200)),
    sa.Column("received_at", sa.DateTime, nullable=False),
)
MAP = """
version: 1
stores:
  app: {url: "%(url)s"}
  rec: {files: "%(rec)s"}
tables:
  app.calls:
    tenant_column: tenant_id
    columns:
      caller_number: {category: contact.phone_number}
      caller_ip: {category: device.ip_address}
      recording_path: {category: media.voice, file_store: rec}
retention:
  - table: app.calls
    age_column: started_at
    after: 90d
    actions: {caller_number: anonymize, caller_ip: generalize, recording_path: delete_file}
  - table: app.sms
    age_column: received_at
    after: 30d
    actions: delete_row
"""


def _build(url: str, rec: Path, n: int = 120) -> DataMap:
    engine = sa.create_engine(url)
    MD.drop_all(engine)
    MD.create_all(engine)
    rec.mkdir(parents=True, exist_ok=True)
    calls, sms = [], []
    for i in range(1, n + 1):
        (rec / f"c{i}.wav").write_bytes(b"RIFF")
        calls.append(
            {
                "id": i,
                "tenant_id": 1 + i % 2,
                "caller_number": f"+49176{1000000 + i}",
                "caller_ip": f"198.51.100.{i}",
                "device": "mobile",
                "recording_path": f"c{i}.wav",
                "started_at": NOW - dt.timedelta(days=i * 2),
            }
        )  # 2..240 days old
        sms.append({"id": i, "body": f"sms {i}", "received_at": NOW - dt.timedelta(days=i)})
    with engine.begin() as conn:
        conn.execute(CALLS.insert(), calls)
        conn.execute(SMS.insert(), sms)
    engine.dispose()
    return parse_map(MAP % {"url": url, "rec": rec})


def _calls(url: str) -> dict[int, tuple[Any, ...]]:
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        rows = {r[0]: tuple(r[1:]) for r in conn.execute(sa.select(CALLS).order_by(CALLS.c.id))}
    engine.dispose()
    return rows


def _count(url: str, table: sa.Table) -> int:
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        n = int(conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one())
    engine.dispose()
    return n


def test_when_retention_runs_then_old_rows_change_and_young_rows_are_identical(
    db_url: str, tmp_path: Path, settings: Settings
) -> None:
    rec = tmp_path / "rec"
    dm = _build(db_url, rec)
    before = _calls(db_url)
    report = run_retention(dm, settings, now=NOW, batch_size=7)
    after = _calls(db_url)
    old = {i for i in before if NOW - dt.timedelta(days=i * 2) < NOW - dt.timedelta(days=90)}
    for i, row in after.items():
        if i in old:
            tenant, number, ip, device, path, _started = row
            assert number.startswith("anon-") and str(before[i][1]) not in number
            assert ip == "198.51.100.0" and path is None and device == "mobile" and tenant == before[i][0]
            assert not (rec / f"c{i}.wav").exists()
        else:
            assert row == before[i]
            assert (rec / f"c{i}.wav").exists()
    assert _count(db_url, SMS) == 30  # up to exactly 30 days old stay
    calls_rule = report.rules[0]
    assert calls_rule.rows == len(old) and calls_rule.files == len(old) and calls_rule.batches >= 2
    # Short transactions: at most batch_size rows each, every batch timed (timing itself is the
    # benchmark's business, not a test's: a loaded machine would make any bound flaky).
    assert calls_rule.rows <= 7 * calls_rule.batches and calls_rule.longest_batch_s > 0


def test_when_dry_run_then_counts_are_reported_and_nothing_changes(
    db_url: str, tmp_path: Path, settings: Settings
) -> None:
    dm = _build(db_url, tmp_path / "rec")
    before = _calls(db_url)
    report = run_retention(dm, settings, now=NOW, dry_run=True)
    assert _calls(db_url) == before and _count(db_url, SMS) == 120
    assert [r.rows for r in report.rules] == [75, 90] and report.rules[0].files == 75


def test_when_run_twice_then_second_run_changes_nothing(
    db_url: str, tmp_path: Path, settings: Settings
) -> None:
    dm = _build(db_url, tmp_path / "rec")
    run_retention(dm, settings, now=NOW)
    once = _calls(db_url)
    again = run_retention(dm, settings, now=NOW)
    assert _calls(db_url) == once
    assert [r.rows for r in again.rules] == [0, 0]


def test_when_a_run_crashes_between_batches_then_a_rerun_completes(
    db_url: str, tmp_path: Path, settings: Settings
) -> None:
    rec = tmp_path / "rec"
    dm = _build(db_url, rec)

    def crash(rule: str, batch: int, rows: int) -> None:
        if rule == "app.calls" and batch == 3:
            raise RuntimeError("worker killed")

    with pytest.raises(RuntimeError):
        run_retention(dm, settings, now=NOW, batch_size=10, on_batch=crash)
    half = _calls(db_url)
    assert 0 < sum(1 for r in half.values() if str(r[1]).startswith("anon-")) < 75
    report = run_retention(dm, settings, now=NOW, batch_size=10)
    assert sum(1 for r in _calls(db_url).values() if str(r[1]).startswith("anon-")) == 75
    assert report.rules[0].rows == 75 - 30  # resumed after the three committed batches


def test_when_a_tenant_sets_its_own_period_then_its_rows_follow_it(
    db_url: str, tmp_path: Path, settings: Settings
) -> None:
    dm = _build(db_url, tmp_path / "rec")
    set_override(settings, "2", "app.calls", "30d", dm)
    run_retention(dm, settings, now=NOW)
    rows = _calls(db_url)
    for i, row in rows.items():
        age = i * 2
        limit = 30 if row[0] == 2 else 90
        assert str(row[1]).startswith("anon-") == (age > limit), (i, row)


def test_when_a_legal_hold_expires_then_retained_values_are_purged(
    db_url: str, tmp_path: Path, settings: Settings
) -> None:
    rec = tmp_path / "shop"
    build_shop(db_url, rec)
    dm = shop_map(db_url, rec)
    erase(dm, settings, "email=anna@example.com")
    run_retention(dm, settings, now=dt.datetime(2030, 1, 1))
    engine = sa.create_engine(db_url)
    with engine.connect() as conn:
        name = conn.execute(sa.text("SELECT party_name FROM invoices WHERE id = 20")).scalar_one()
    assert name == "Anna Schmidt"  # held until 2032-12-31
    report = run_retention(dm, settings, now=dt.datetime(2033, 1, 2))
    with engine.connect() as conn:
        name = conn.execute(sa.text("SELECT party_name FROM invoices WHERE id = 20")).scalar_one()
        bob = conn.execute(sa.text("SELECT party_name FROM invoices WHERE id = 21")).scalar_one()
    engine.dispose()
    assert report.holds_purged == 1 and name.startswith("pseudo-") and bob == "Bob Meyer"


def test_when_old_rows_hold_malformed_or_ipv6_addresses_then_each_is_generalized_or_dropped(
    db_url: str, tmp_path: Path, settings: Settings
) -> None:
    dm = _build(db_url, tmp_path / "rec")
    odd = {50: "300.1.2.3", 51: "not an ip", 52: "1.2.3", 53: "2001:db8:1:2::7", 54: "10.1.2.0"}
    engine = sa.create_engine(db_url)
    with engine.begin() as conn:
        for i, ip in odd.items():
            conn.execute(sa.update(CALLS).where(CALLS.c.id == i).values(caller_ip=ip))
    engine.dispose()
    report = run_retention(dm, settings, now=NOW)
    rows = _calls(db_url)
    assert [rows[i][2] for i in odd] == [None, None, None, "2001:db8:1::", "10.1.2.0"]
    assert rows[49][2] == "198.51.100.0" and rows[55][2] == "198.51.100.0"
    assert report.rules[0].rows == 75
    assert [r.rows for r in run_retention(dm, settings, now=NOW).rules] == [0, 0]


def test_when_a_rule_rewrites_indexed_columns_then_the_report_names_the_indexes_and_vacuums(
    db_url: str, tmp_path: Path, settings: Settings
) -> None:
    dm = _build(db_url, tmp_path / "rec")
    engine = sa.create_engine(db_url)
    with engine.begin() as conn:
        conn.execute(sa.text("CREATE INDEX ix_calls_number ON calls (caller_number)"))
        conn.execute(sa.text("CREATE INDEX ix_calls_device ON calls (device)"))
    engine.dispose()
    small = settings.model_copy(update={"retention_vacuum_rows": 10})
    report = run_retention(dm, small, now=NOW).to_dict()
    calls, sms = report["rules"]
    assert calls["indexes_rewritten"] == ["ix_calls_number (caller_number)"]
    assert sms["indexes_rewritten"] == ["primary key (id)"]
    assert any("ix_calls_number" in a for a in report["advice"])
    if db_url.startswith("postgresql"):
        assert [v["table"] for v in report["vacuum"]] == ["app.calls", "app.sms"]
    else:
        assert report["vacuum"] == []
