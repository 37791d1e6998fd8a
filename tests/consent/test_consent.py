"""The consent ledger on SQLite, PostgreSQL and MariaDB-backed state."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from privet.consent import ConsentService
from privet.consent.models import ConsentEvent, ConsentState
from privet.datamap import parse_map
from privet.errors import BadInput, BadSubject, UnknownName
from privet.identity import Identity
from privet.protection import derive_key, suppression
from privet.state import StateDB, open_state

MASTER = bytes(range(32))
MAP = """
version: 1
stores: {}
purposes:
  marketing_email:
    notices: [{version: "1", text: "Marketing"}, {version: "2", text: "Marketing, now with partners"}]
  data_sale: {sale_or_share: true, notices: [{version: "1"}]}
  fraud_checks: {basis: legitimate_interests}
notifications:
  project_updates: {roles: [client, freelancer], default: true}
  newsletter: {roles: [client], default: false, purpose: marketing_email}
  payout_reminders: {roles: [freelancer], default: true}
"""


@pytest.fixture
def service(db_url: str) -> Iterator[ConsentService]:
    db = open_state(db_url)
    yield ConsentService(db, parse_map(MAP), MASTER, cache_seconds=0)
    db.dispose()


def _count(db: StateDB) -> int:
    with db.session() as s:
        return int(s.execute(sa.select(sa.func.count()).select_from(ConsentEvent)).scalar_one())


def test_when_nobody_decided_then_consent_purposes_are_not_allowed(service: ConsentService) -> None:
    assert not service.check("email=anna@example.com", "marketing_email").allowed
    assert service.check("email=anna@example.com", "fraud_checks").allowed  # legitimate interests


def test_when_consent_is_given_and_withdrawn_then_check_follows_and_history_proves_both(
    service: ConsentService,
) -> None:
    service.record(
        "email=Anna@Example.com",
        "marketing_email",
        True,
        source="signup",
        ip="203.0.113.77",
        user_agent="Firefox",
    )
    d = service.check("email=anna@example.com", "marketing_email")
    assert d.allowed and d.notice_version == "2" and d.since is not None
    service.withdraw("email=anna@example.com", "marketing_email", source="settings")
    assert not service.check("email=anna@example.com", "marketing_email").allowed
    events = service.history("email=anna@example.com")
    assert [(e["granted"], e["source"]) for e in events] == [(True, "signup"), (False, "settings")]
    assert events[0]["ip"] == "203.0.113.0"  # stored truncated


def test_when_the_ledger_is_updated_then_the_database_refuses(service: ConsentService) -> None:
    service.record("email=anna@example.com", "marketing_email", True)
    with pytest.raises(sa.exc.DBAPIError, match="append-only"), service.state.session() as s:
        s.execute(sa.update(ConsentEvent).values(granted=False))
    assert service.check("email=anna@example.com", "marketing_email").allowed


@pytest.mark.parametrize(
    ("args", "error"),
    [
        (("email=anna@example.com", "newsletter_v2", True), UnknownName),
        (("email=not-an-email", "marketing_email", True), BadSubject),
        (("phone=12", "marketing_email", True), BadSubject),
    ],
)
def test_when_input_is_bad_then_nothing_is_recorded(
    service: ConsentService, args: tuple[str, str, bool], error: type[Exception]
) -> None:
    with pytest.raises(error):
        service.record(*args)
    with pytest.raises(UnknownName, match="notice version"):
        service.record("email=anna@example.com", "marketing_email", True, notice_version="7")
    with pytest.raises(BadInput, match="source"):
        service.record("email=anna@example.com", "marketing_email", True, source="carrier pigeon")
    assert _count(service.state) == 0


def test_when_the_notice_changes_then_people_who_agreed_to_the_old_one_are_prompted(
    service: ConsentService,
) -> None:
    service.record("email=anna@example.com", "marketing_email", True, notice_version="1")
    service.record("email=bob@example.com", "marketing_email", True)
    assert service.needs_prompt("email=anna@example.com", "marketing_email")
    assert not service.needs_prompt("email=bob@example.com", "marketing_email")
    assert service.needs_prompt("email=carl@example.com", "marketing_email")


def test_when_gpc_is_sent_then_sale_and_share_purposes_are_opted_out(service: ConsentService) -> None:
    service.record("email=anna@example.com", "data_sale", True)
    events = service.record_gpc("email=anna@example.com")
    assert [e.purpose for e in events] == ["data_sale"]
    assert not service.check("email=anna@example.com", "data_sale").allowed


def test_when_a_person_is_suppressed_then_no_consent_lets_marketing_through(service: ConsentService) -> None:
    service.record("email=anna@example.com", "marketing_email", True)
    with service.state.session() as s:
        suppression.add(s, Identity("email", "anna@example.com"), derive_key(MASTER, "suppression"))
    assert not service.check("email=anna@example.com", "marketing_email").allowed


def test_when_preferences_are_set_then_defaults_apply_per_role(service: ConsentService) -> None:
    assert service.preferences("email=a@example.com", role="client") == {
        "newsletter": False,
        "project_updates": True,
    }
    assert service.preferences("email=a@example.com", role="freelancer") == {
        "payout_reminders": True,
        "project_updates": True,
    }
    service.set_preferences("email=a@example.com", {"project_updates": False})
    assert service.preferences("email=a@example.com", role="client")["project_updates"] is False
    with pytest.raises(UnknownName):
        service.set_preferences("email=a@example.com", {"sms_spam": True})


def test_when_a_list_is_imported_then_one_bad_row_imports_nothing(
    service: ConsentService, tmp_path: Path
) -> None:
    good = tmp_path / "good.csv"
    good.write_text(
        "subject,purpose,granted,notice_version,at\nemail=a@example.com,marketing_email,yes,1,"
        "2024-01-02T10:00:00\nphone=+49 176 1234567,marketing_email,no,,\n"
    )
    assert service.import_csv(str(good)) == 2
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "subject,purpose,granted\nemail=b@example.com,marketing_email,yes\nemail=c@x,marketing_email,yes\n"
    )
    with pytest.raises(BadInput, match=r"bad\.csv:3"):
        service.import_csv(str(bad))
    assert _count(service.state) == 2


def test_when_a_person_is_forgotten_then_their_decisions_are_gone(service: ConsentService) -> None:
    service.record("email=anna@example.com", "marketing_email", True)
    service.record("email=bob@example.com", "marketing_email", True)
    assert service.forget("email=anna@example.com") == 1
    assert service.history("email=anna@example.com") == []
    assert len(service.history("email=bob@example.com")) == 1


EVENTS = st.lists(
    st.tuples(st.integers(0, 4), st.sampled_from(["marketing_email", "data_sale"]), st.booleans()),
    min_size=1,
    max_size=25,
)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(events=EVENTS)
def test_when_the_projection_is_rebuilt_then_it_equals_a_replay_of_the_ledger(
    sqlite_url: str, events: list[tuple[int, str, bool]]
) -> None:
    db = open_state(sqlite_url)
    svc = ConsentService(db, parse_map(MAP), MASTER, cache_seconds=0)
    with db.session() as s:
        s.execute(sa.delete(ConsentState))
        s.execute(sa.text("DELETE FROM privet_consent_events"))
    expected: dict[tuple[int, str], bool] = {}
    for who, purpose, granted in events:
        svc.record(f"email=p{who}@example.com", purpose, granted)
        expected[(who, purpose)] = granted
    svc.rebuild_projection()
    for (who, purpose), granted in expected.items():
        assert svc.check(f"email=p{who}@example.com", purpose).allowed is granted
    with db.session() as s:
        assert s.execute(sa.select(sa.func.count()).select_from(ConsentState)).scalar_one() == len(expected)
    db.dispose()
