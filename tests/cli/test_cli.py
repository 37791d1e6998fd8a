"""The CLI contract (PRODUCT.md): one JSON document with --json, exit codes 0/1/2, clear errors."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest


def privet(*args: str, cwd: Path, check_json: bool = True) -> tuple[int, Any, str]:
    proc = subprocess.run(
        [sys.executable, "-m", "privet.cli.main", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        env={"PATH": "/usr/bin:/bin", "PRIVET_HOME": str(cwd / ".privet"), "HOME": str(cwd)},
    )
    doc = json.loads(proc.stdout) if check_json and "--json" in args and proc.stdout.strip() else None
    return proc.returncode, doc, proc.stderr


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("demo")
    code, doc, err = privet("demo", "--no-serve", "--users", "30", "--dir", ".", "--json", cwd=d)
    assert code == 0, err
    assert doc["personal_columns"] > 20 and "user" in doc["subjects"]
    return d


def test_when_the_demo_map_is_checked_then_it_covers_everything(demo: Path) -> None:
    code, doc, _ = privet("map", "check", "--json", cwd=demo)
    assert code == 0 and doc == {
        "ok": True,
        "undeclared": [],
        "vanished": [],
        "unindexed": [],
        "superseded": [],
        "untuned": [],
        "ascii_case": [],
    }


def test_when_the_search_indexes_are_dropped_and_made_again_then_map_check_follows(demo: Path) -> None:
    """The demo's free-text and phone columns have their search indexes: ``map index`` leaves
    them, ``--drop`` removes them (map check then advises them), ``map index`` makes them again."""
    code, doc, _ = privet("map", "index", "--json", cwd=demo)
    assert code == 0 and doc and {a["action"] for a in doc} == {"current"}
    indexed = {(a["table"], a["column"]): a["kind"] for a in doc}
    assert indexed[("messages", "body")] == "fts5"
    assert indexed[("calls", "caller_number")] == indexed[("users", "phone")] == "phones"
    code, doc, _ = privet("map", "index", "--drop", "--json", cwd=demo)
    assert code == 0 and {a["action"] for a in doc} == {"dropped"}
    code, report, _ = privet("map", "check", "--json", cwd=demo)
    assert code == 0 and {(u["table"], u["column"]) for u in report["unindexed"]} == set(indexed)
    code, doc, _ = privet("map", "index", "--json", cwd=demo)
    assert code == 0 and {a["action"] for a in doc} == {"created"}
    code, report, _ = privet("map", "check", "--json", cwd=demo)
    assert code == 0 and report["unindexed"] == []
    code, _, err = privet("map", "index", "--drop", "--rebuild", cwd=demo)
    assert code == 2 and "--drop" in err and "--rebuild" in err


def test_when_a_subject_is_exported_erased_and_audited_then_json_follows_the_contract(demo: Path) -> None:
    email = sqlite3.connect(demo / "demo.db").execute("SELECT email FROM users WHERE id = 3").fetchone()[0]
    code, doc, _ = privet("access", "--subject", f"email={email}", "--out", "s.zip", "--json", cwd=demo)
    assert (
        code == 0 and doc["found"] and doc["rows"] > 5 and doc["out"] == "s.zip" and (demo / "s.zip").exists()
    )
    assert set(doc) >= {"subject", "rows", "tables", "files", "out"}
    code, plan, _ = privet("erase", "--subject", f"email={email}", "--dry-run", "--json", cwd=demo)
    assert code == 0 and plan["dry_run"] and plan["tables"]["app.users"]["rows"] == 1
    code, done, _ = privet("erase", "--subject", f"email={email}", "--json", cwd=demo)
    assert code == 0 and done["verified"] is True
    assert set(done) >= {"subject", "tables", "retained", "files_deleted", "verified"}
    code, report, _ = privet("audit", "verify", "--json", cwd=demo)
    assert code == 0 and report["ok"] and report["entries"] >= 1
    with sqlite3.connect(demo / ".privet" / "state.db") as db:
        db.execute("UPDATE privet_audit SET actor = 'mallory'")
    code, report, _ = privet("audit", "verify", "--json", cwd=demo)
    assert code == 1 and report["first_bad"] == 1


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (("discover", "not-a-url"), "is not a database URL"),
        (("discover", "postgresql+psycopg://nobody@127.0.0.1:1/x"), "cannot be reached"),
        (("erase", "--subject", "anna"), "does not name a subject"),
        (("erase", "--subject", "phone=12"), "phone number"),
        (("access", "--subject", "email=a@b.c", "--map", "missing.yaml"), "privet discover"),
        (("rectify", "--subject", "email=a@b.c", "--set", "nothing"), "COLUMN=VALUE"),
    ],
)
def test_when_input_is_bad_then_exit_2_with_a_clear_message(
    args: tuple[str, ...], words: str, tmp_path: Path
) -> None:
    (tmp_path / "privet.yaml").write_text("version: 1\nstores: {}\n")
    code, _, err = privet(*args, cwd=tmp_path)
    assert code == 2 and words in err, err


def test_when_map_is_malformed_then_error_names_file_and_line(tmp_path: Path) -> None:
    (tmp_path / "privet.yaml").write_text(
        "version: 1\nstores:\n  app: {url: 'sqlite:///x.db', colour: red}\n"
    )
    code, doc, err = privet("map", "check", "--json", cwd=tmp_path)
    assert code == 2 and "privet.yaml:3:" in err and "unknown key 'colour'" in err
    assert doc["error"] == "MapError" and doc["line"] == 3


def test_when_discover_writes_a_map_then_nothing_is_half_written_on_failure(tmp_path: Path) -> None:
    code, _, _ = privet("discover", "sqlite:///nope/missing.db", "--out", "privet.yaml", cwd=tmp_path)
    assert code == 2 and not (tmp_path / "privet.yaml").exists()


def test_when_a_file_is_scanned_then_findings_have_lines_and_counts(tmp_path: Path) -> None:
    (tmp_path / "m.txt").write_text(
        "Hi, Anna Schmidt here, call 0176 123 4567\nnothing\nmail anna@example.com\n"
    )
    code, doc, _ = privet("scan", "m.txt", "--json", cwd=tmp_path)
    assert code == 0 and doc["counts"] == {"person_name": 1, "phone": 1, "email": 1}
    email = next(f for f in doc["findings"] if f["type"] == "email")
    assert email["line"] == 3 and (email["start"], email["end"]) == (5, 21)


def test_when_retention_now_is_not_a_date_then_exit_2(demo: Path) -> None:
    code, _, err = privet("retention", "run", "--now", "yesterday", cwd=demo)
    assert code == 2 and "ISO 8601" in err


def test_when_a_tenant_and_keys_are_created_then_keys_print_once_and_bad_scopes_exit_2(
    tmp_path: Path,
) -> None:
    code, doc, _ = privet(
        "tenants", "add", "acme", "--name", "Acme", "--sla-days", "7", "--json", cwd=tmp_path
    )
    assert code == 0 and doc == {"id": "acme", "name": "Acme", "sla_days": 7}
    code, doc, _ = privet("keys", "create", "--tenant", "acme", "--json", cwd=tmp_path)
    assert code == 0 and doc["key"].startswith("pk_")
    with sqlite3.connect(tmp_path / ".privet" / "state.db") as db:
        stored = [r[0] for r in db.execute("SELECT key_hash FROM privet_svc_keys")]
    assert stored and doc["key"] not in stored
    code, _, err = privet("keys", "create", "--tenant", "nobody", cwd=tmp_path)
    assert code == 2 and "privet tenants add nobody" in err
    code, _, err = privet("keys", "create", cwd=tmp_path)
    assert code == 2 and "--operator" in err


def test_when_a_worker_starts_without_a_broker_or_with_a_bad_one_then_exit_2(tmp_path: Path) -> None:
    code, _, err = privet("worker", cwd=tmp_path)
    assert code == 2 and "PRIVET_BROKER_URL is not set" in err and "redis://" in err
    proc = subprocess.run(
        [sys.executable, "-m", "privet.cli.main", "worker"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "PRIVET_BROKER_URL": "kafka://127.0.0.1:9092"},
    )
    assert proc.returncode == 2 and "neither redis:// nor amqp://" in proc.stderr


def test_when_housekeeping_runs_and_a_tenant_contact_is_malformed_then_json_and_exit_2(demo: Path) -> None:
    code, doc, err = privet("housekeeping", "--json", cwd=demo)
    assert code == 0, err
    assert doc == {"exports_deleted": 0, "reminders": 0}
    code, _, err = privet("tenants", "add", "t9", "--contact", "not-an-address", cwd=demo)
    assert code == 2 and "not an email address" in err
    code, doc, err = privet("tenants", "add", "t9", "--contact", "DPO@t9.example", "--json", cwd=demo)
    assert code == 0 and doc["id"] == "t9", err


def test_when_a_file_of_subjects_is_exported_then_each_gets_its_own_zip(demo: Path) -> None:
    db = sqlite3.connect(demo / "demo.db")
    emails = [r[0] for r in db.execute("SELECT email FROM users WHERE id IN (5, 6) ORDER BY id")]
    db.close()
    (demo / "people.txt").write_text(
        f"# people who asked\nemail={emails[0]}\n\nemail={emails[1]}\nemail=nobody@example.com\n"
    )
    code, doc, err = privet(
        "access", "--subjects-file", "people.txt", "--out-dir", "exp", "--workers", "2", "--json", cwd=demo
    )
    assert code == 0, err
    assert doc["subjects"] == 3 and doc["found"] == 2 and doc["rows"] > 10 and doc["workers"] == 2
    one, two, nobody = doc["results"]
    assert one["out"] == "exp/access-000001.zip" and (demo / one["out"]).exists()
    code, alone, _ = privet(
        "access", "--subject", f"email={emails[1]}", "--out", "alone.zip", "--json", cwd=demo
    )
    assert code == 0 and alone["tables"] == two["tables"] and alone["rows"] == two["rows"]
    assert not nobody["found"]
    code, bare, err = privet(
        "access", "--subject", f"email={emails[1]}", "--out", "bare.zip", "--no-mentions", "--json", cwd=demo
    )
    assert code == 0 and bare["rows"] == alone["rows"] and bare["mentions"] == 0, err
    with zipfile.ZipFile(demo / "bare.zip") as z:
        assert "mentions.json" not in z.namelist()


def test_when_no_workers_are_given_then_a_batch_of_several_groups_takes_one_per_core(demo: Path) -> None:
    (demo / "many.txt").write_text("".join(f"email=nobody{n}@example.com\n" for n in range(450)))
    code, doc, err = privet("access", "--subjects-file", "many.txt", "--out-dir", "many", "--json", cwd=demo)
    assert code == 0, err
    assert doc["subjects"] == 450 and doc["workers"] == min(os.cpu_count() or 1, 8, 3)
    assert len(list((demo / "many").glob("access-*.zip"))) == 450
    (demo / "few.txt").write_text("email=nobody@example.com\n")
    code, doc, err = privet("access", "--subjects-file", "few.txt", "--out-dir", "few", "--json", cwd=demo)
    assert code == 0 and doc["workers"] == 1, err


def test_when_the_subjects_file_has_a_bad_line_then_exit_2_names_the_line_and_nothing_is_written(
    demo: Path,
) -> None:
    (demo / "bad.txt").write_text("email=a@example.com\nphone=not a number\n")
    code, doc, _ = privet("access", "--subjects-file", "bad.txt", "--out-dir", "none", "--json", cwd=demo)
    assert code == 2 and doc["error"] == "BadInput"
    assert "bad.txt:2" in doc["message"]
    assert not (demo / "none").exists()
    code, doc, _ = privet("access", "--json", cwd=demo)
    assert code == 2 and "--subject" in doc["message"]
    (demo / "ok.txt").write_text("email=a@example.com\n")
    code, doc, _ = privet("access", "--subjects-file", "ok.txt", "--workers", "0", "--json", cwd=demo)
    assert code == 2 and "workers" in doc["message"]


def test_when_an_objection_is_recorded_then_marketing_is_withdrawn_and_a_bad_purpose_exits_2(
    demo: Path,
) -> None:
    email = sqlite3.connect(demo / "demo.db").execute("SELECT email FROM users WHERE id = 5").fetchone()[0]
    code, _, err = privet("object", "--subject", f"email={email}", "--purpose", "nope", cwd=demo)
    assert code == 2 and "nope" in err and "marketing_email" in err
    code, doc, _ = privet("object", "--subject", f"email={email}", "--json", cwd=demo)
    assert code == 0 and doc["objection"] and doc["withdrawn"] == ["marketing_email", "product_news"]
