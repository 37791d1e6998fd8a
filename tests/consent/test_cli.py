"""``privet consent …`` as a user runs it: a subprocess, PRODUCT.md's JSON shapes and exit codes."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.consent.test_consent import MAP
from tests.consent.test_languages import MAP as LANGUAGES_MAP

ANNA = "email=Anna@Example.com"


def privet(cwd: Path, *args: str) -> tuple[int, Any, str]:
    proc = subprocess.run(
        [sys.executable, "-m", "privet.cli.main", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        env={
            "PATH": "/usr/bin:/bin",
            "HOME": str(cwd),
            "PRIVET_HOME": str(cwd / ".privet"),
            "PRIVET_MAP": str(cwd / "privet.yaml"),
        },
    )
    doc = json.loads(proc.stdout) if "--json" in args and proc.stdout.strip() else proc.stdout
    return proc.returncode, doc, proc.stderr


def test_when_consent_is_recorded_checked_and_withdrawn_then_the_cli_follows_the_contract(
    tmp_path: Path,
) -> None:
    (tmp_path / "privet.yaml").write_text(MAP)
    code, doc, err = privet(tmp_path, "consent", "check", "-s", ANNA, "-p", "marketing_email", "--json")
    assert code == 0, err
    assert doc == {"allowed": False, "since": None, "notice_version": None}
    code, _, err = privet(tmp_path, "consent", "record", "-s", ANNA, "-p", "marketing_email", "--json")
    assert code == 0, err
    code, doc, _ = privet(
        tmp_path, "consent", "check", "-s", "email=anna@example.com", "-p", "marketing_email", "--json"
    )
    assert doc["allowed"] is True and doc["notice_version"] == "2" and doc["since"]
    (tmp_path / "list.csv").write_text(
        "subject,purpose,granted,notice_version,at\n"
        "email=bob@example.com,data_sale,yes,1,2024-01-02T03:04:05+00:00\n"
    )
    code, doc, err = privet(tmp_path, "consent", "import", "list.csv", "--json")
    assert (code, doc) == (0, {"imported": 1}), err
    code, _, err = privet(tmp_path, "consent", "withdraw", "-s", ANNA, "-p", "marketing_email")
    assert code == 0, err
    code, doc, _ = privet(tmp_path, "consent", "history", "-s", ANNA, "--json")
    assert [(e["granted"], e["source"]) for e in doc["events"]] == [(True, "cli"), (False, "cli")]
    code, out, err = privet(tmp_path, "consent", "export", "-p", "data_sale", "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(out)))
    assert code == 0 and [(r["granted"], r["source"], r["at"][:4]) for r in rows] == [
        ("True", "import", "2024")
    ]


def test_when_the_purpose_or_subject_is_wrong_then_exit_2_and_nothing_is_recorded(tmp_path: Path) -> None:
    (tmp_path / "privet.yaml").write_text(MAP)
    code, _, err = privet(tmp_path, "consent", "record", "-s", ANNA, "-p", "telepathy")
    assert code == 2 and "telepathy" in err and "marketing_email" in err
    code, _, err = privet(tmp_path, "consent", "record", "-s", "email=not-an-email", "-p", "marketing_email")
    assert code == 2, err
    code, _, err = privet(
        tmp_path, "consent", "record", "-s", ANNA, "-p", "marketing_email", "--notice-version", "9"
    )
    assert code == 2 and "9" in err
    code, doc, _ = privet(tmp_path, "consent", "history", "-s", ANNA, "--json")
    assert doc == {"events": []}


def test_when_consent_is_recorded_with_a_language_then_it_is_on_that_language_s_notice(
    tmp_path: Path,
) -> None:
    (tmp_path / "privet.yaml").write_text(LANGUAGES_MAP)
    base = ("consent", "record", "-s", ANNA, "-p", "marketing_email", "--json")
    code, doc, err = privet(tmp_path, *base, "--language", "fr-CA, en;q=0.5")
    assert code == 0, err
    assert doc["notice_version"] == "1"  # the French notice lags a version behind
    code, doc, err = privet(tmp_path, *base, "--language", "it")
    assert code == 0 and doc["notice_version"] == "2", err  # the default language's current notice
