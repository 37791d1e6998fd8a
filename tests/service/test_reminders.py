"""Deadline reminders: mailed over real SMTP to the controller, once a day, never naming the subject."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from privet.datamap import load_map, write_map
from privet.service import InlineRunner, RequestService, add_tenant, authenticate, create_key
from privet.service.jobs import register_jobs
from privet.settings import Settings
from privet.state import open_state
from tests.requests.shop import build_shop, shop_map
from tests.support.smtp import Mailbox


@pytest.fixture
def make(tmp_path: Path, state_url: str, mailbox: Mailbox) -> Iterator[Callable[..., RequestService]]:
    made: list[RequestService] = []

    def factory(**extra: str) -> RequestService:
        made.append(_service(tmp_path, state_url, mailbox, **extra))
        return made[-1]

    yield factory
    for service in made:
        service.state.dispose()


def _service(tmp_path: Path, state_url: str, mailbox: Mailbox, **extra: str) -> RequestService:
    shop = f"sqlite:///{tmp_path / 'shop.db'}"
    build_shop(shop, tmp_path / "rec")
    write_map(shop_map(shop, tmp_path / "rec"), tmp_path / "privet.yaml")
    settings = Settings(
        home=tmp_path / ".privet",
        map=tmp_path / "privet.yaml",
        state_url=state_url,
        smtp_url=mailbox.url,
        **extra,  # type: ignore[arg-type]
    )
    state = open_state(state_url)
    add_tenant(state, "1", name="Shop One", sla_days=7, contact_email="DPO@shop-one.example")
    add_tenant(state, "2", name="Shop Two")
    runner = InlineRunner()
    service = RequestService(settings, load_map(settings.map), state, runner)
    register_jobs(runner, service)
    return service


def _later(days: int) -> str:
    return (dt.datetime.now(dt.UTC) + dt.timedelta(days=days)).isoformat()


def test_when_a_request_passes_its_service_level_then_the_tenant_is_reminded_once_a_day(
    make: Callable[..., RequestService], mailbox: Mailbox
) -> None:
    service = make()
    one = authenticate(service.state, create_key(service.state, tenant="1"))
    rid = service.create(one, "access", {"email": "anna@example.com"})["id"]

    assert service.housekeeping()["reminders"] == 0  # just received: neither at risk nor overdue
    assert service.housekeeping(now=_later(8)) == {"exports_deleted": 0, "reminders": 1}
    assert service.housekeeping(now=_later(8)) == {"exports_deleted": 0, "reminders": 0}  # once a day
    assert service.housekeeping(now=_later(9))["reminders"] == 1

    mails = mailbox.to("dpo@shop-one.example")
    assert len(mails) == 2
    body = str(mails[0].get_payload())
    assert rid in body and "overdue" in str(mails[0]["Subject"])
    assert "anna" not in body.lower()  # the controller learns of the request, not of the person
    history = service.get(one, rid)["history"]
    assert [h["reason"] for h in history if h["reason"]] == ["reminder mailed: overdue"] * 2


def test_when_a_tenant_has_no_contact_then_reminders_go_to_the_operator_address_if_set(
    make: Callable[..., RequestService], mailbox: Mailbox
) -> None:
    service = make(reminder_email="privacy-ops@example.net")
    two = authenticate(service.state, create_key(service.state, tenant="2"))
    service.create(two, "erasure", {"email": "bob@example.com"})
    # Tenant 2 has no service level: the legal month applies, at risk in its last week.
    assert service.housekeeping(now=_later(10))["reminders"] == 0
    assert service.housekeeping(now=_later(26))["reminders"] == 1
    assert len(mailbox.to("privacy-ops@example.net")) == 1


def test_when_neither_address_is_known_then_nothing_is_mailed(
    make: Callable[..., RequestService], mailbox: Mailbox
) -> None:
    service = make()
    two = authenticate(service.state, create_key(service.state, tenant="2"))
    service.create(two, "erasure", {"email": "bob@example.com"})
    before = len(mailbox.messages)
    assert service.housekeeping(now=_later(40))["reminders"] == 0
    assert len(mailbox.messages) == before
