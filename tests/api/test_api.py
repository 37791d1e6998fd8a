"""The REST API through real HTTP against a running server, state on SQLite and PostgreSQL."""

from __future__ import annotations

import io
import json
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from privet.api.app import create_app
from privet.datamap import write_map
from privet.errors import Conflict
from privet.service import add_tenant, create_key
from privet.settings import Settings
from privet.state import open_state
from tests.requests.shop import build_shop, shop_map
from tests.support.server import running
from tests.support.smtp import Mailbox


@dataclass
class Api:
    base: str
    tenant1: dict[str, str]
    tenant2: dict[str, str]
    operator: dict[str, str]
    mailbox: Mailbox
    app: object

    def code_for(self, address: str) -> str:
        body = self.mailbox.to(address)[-1].get_payload()
        match = re.search(r"^(\d{6})\r?$", str(body), flags=re.M)
        assert match, body
        return match.group(1)

    def drain(self) -> None:
        self.app.state.runner.drain()  # type: ignore[attr-defined]


@pytest.fixture
def api(state_url: str, tmp_path: Path, mailbox: Mailbox) -> Iterator[Api]:
    shop_url = f"sqlite:///{tmp_path / 'shop.db'}"
    build_shop(shop_url, tmp_path / "rec")
    write_map(shop_map(shop_url, tmp_path / "rec"), tmp_path / "privet.yaml")
    settings = Settings(
        home=tmp_path / ".privet",
        map=tmp_path / "privet.yaml",
        state_url=state_url,
        smtp_url=mailbox.url,
        code_resend_seconds=0,
    )
    db = open_state(state_url)
    add_tenant(db, "1", name="Shop One", sla_days=7)
    add_tenant(db, "2", name="Shop Two")
    keys = {
        "1": create_key(db, tenant="1"),
        "2": create_key(db, tenant="2"),
        "op": create_key(db, operator=True),
    }
    db.dispose()
    app = create_app(settings)
    with running(app) as base:
        yield Api(
            base,
            {"Authorization": f"Bearer {keys['1']}"},
            {"Authorization": f"Bearer {keys['2']}"},
            {"Authorization": f"Bearer {keys['op']}"},
            mailbox,
            app,
        )


def test_when_anna_asks_for_her_data_then_she_verifies_and_the_tenant_downloads_it(api: Api) -> None:
    r = httpx.post(
        f"{api.base}/v1/requests",
        headers=api.tenant1,
        json={"type": "access", "subject": {"email": "anna@example.com"}},
    )
    assert r.status_code == 201, r.text
    rid = r.json()["id"]
    assert r.json()["status"] == "received" and r.json()["due_at"]
    wrong = httpx.post(f"{api.base}/v1/requests/{rid}/verify", json={"code": "000000"})
    assert wrong.status_code == 403 and "attempts left" in wrong.json()["hint"]
    code = api.code_for("anna@example.com")
    assert (
        httpx.post(f"{api.base}/v1/requests/{rid}/verify", json={"code": code}).json()["status"] == "verified"
    )
    assert (
        httpx.post(f"{api.base}/v1/requests/{rid}/verify", json={"code": code}).status_code == 409
    )  # replay
    assert httpx.post(f"{api.base}/v1/requests/{rid}/approve", headers=api.tenant1).status_code == 200
    api.drain()
    state = httpx.get(f"{api.base}/v1/requests/{rid}", headers=api.tenant1).json()
    assert state["status"] == "completed" and state["result"]["rows"] > 5
    assert [h["status"] for h in state["history"]] == [
        "received",
        "verified",
        "approved",
        "running",
        "completed",
    ]
    export = httpx.get(f"{api.base}/v1/requests/{rid}/export", headers=api.tenant1)
    assert export.status_code == 200
    with zipfile.ZipFile(io.BytesIO(export.content)) as z:
        assert json.loads(z.read("manifest.json"))["found"] is True
    token = api.app.state.requests.link_token(rid)  # type: ignore[attr-defined]
    assert httpx.get(f"{api.base}/v1/requests/{rid}/export", params={"token": token}).status_code == 200
    assert httpx.get(f"{api.base}/v1/requests/{rid}/export", params={"token": "forged"}).status_code == 404


def test_when_another_tenant_asks_then_every_route_answers_404(api: Api) -> None:
    rid = httpx.post(
        f"{api.base}/v1/requests",
        headers=api.tenant1,
        json={"type": "erasure", "subject": {"email": "bob@example.com"}},
    ).json()["id"]
    for method, path, body in [
        ("GET", f"/v1/requests/{rid}", None),
        ("POST", f"/v1/requests/{rid}/approve", None),
        ("POST", f"/v1/requests/{rid}/reject", {"reason": "no"}),
        ("POST", f"/v1/requests/{rid}/extend", {"reason": "busy"}),
        ("GET", f"/v1/requests/{rid}/export", None),
    ]:
        r = httpx.request(method, f"{api.base}{path}", headers=api.tenant2, json=body)
        assert r.status_code == 404, (path, r.text)
        missing = httpx.request(
            method, f"{api.base}{path.replace(rid, 'nope')}", headers=api.tenant2, json=body
        )
        assert missing.json() == r.json() or missing.status_code == 404
    assert httpx.get(f"{api.base}/v1/requests", headers=api.tenant2).json() == {"requests": []}
    assert len(httpx.get(f"{api.base}/v1/requests", headers=api.operator).json()["requests"]) == 1


def test_when_codes_are_wrong_five_times_then_the_request_is_locked(api: Api) -> None:
    rid = httpx.post(
        f"{api.base}/v1/requests",
        headers=api.tenant1,
        json={"type": "access", "subject": {"email": "anna@example.com"}},
    ).json()["id"]
    for _ in range(5):
        assert httpx.post(f"{api.base}/v1/requests/{rid}/verify", json={"code": "123"}).status_code == 403
    right = httpx.post(
        f"{api.base}/v1/requests/{rid}/verify", json={"code": api.code_for("anna@example.com")}
    )
    assert right.status_code == 403 and "locked" in right.json()["message"]


def test_when_the_code_is_sent_again_then_only_the_new_one_works_and_resends_are_limited(api: Api) -> None:
    rid = httpx.post(
        f"{api.base}/v1/requests",
        headers=api.tenant1,
        json={"type": "access", "subject": {"email": "anna@example.com"}},
    ).json()["id"]
    first = api.code_for("anna@example.com")
    r = httpx.post(f"{api.base}/v1/requests/{rid}/resend")
    assert r.status_code == 200 and r.json()["resends_left"] == 2
    second = api.code_for("anna@example.com")
    assert len(api.mailbox.to("anna@example.com")) == 2
    if first != second:
        assert httpx.post(f"{api.base}/v1/requests/{rid}/verify", json={"code": first}).status_code == 403
    for _ in range(2):
        assert httpx.post(f"{api.base}/v1/requests/{rid}/resend").status_code == 200
    over = httpx.post(f"{api.base}/v1/requests/{rid}/resend")
    assert over.status_code == 403 and "3 times" in over.json()["message"]
    last = api.code_for("anna@example.com")
    assert httpx.post(f"{api.base}/v1/requests/{rid}/verify", json={"code": last}).status_code == 200
    assert httpx.post(f"{api.base}/v1/requests/{rid}/resend").status_code == 409  # nothing to confirm now
    assert httpx.post(f"{api.base}/v1/requests/nope/resend").status_code == 404


def test_when_a_code_is_asked_again_too_soon_then_the_wait_is_named(tmp_path: Path) -> None:
    from privet.datamap import load_map
    from privet.service import InlineRunner, RequestService, authenticate

    shop_url = f"sqlite:///{tmp_path / 'shop.db'}"
    build_shop(shop_url, tmp_path / "rec")
    write_map(shop_map(shop_url, tmp_path / "rec"), tmp_path / "privet.yaml")
    settings = Settings(home=tmp_path / ".privet", map=tmp_path / "privet.yaml")
    settings.ensure_home()
    db = open_state(settings.resolved_state_url)
    try:
        add_tenant(db, "1")
        svc = RequestService(settings, load_map(settings.map), db, InlineRunner())
        rid = svc.create(authenticate(db, create_key(db, tenant="1")), "access", {"email": "a@example.com"})[
            "id"
        ]
        with pytest.raises(Conflict, match="less than 60 s ago; try again in"):
            svc.resend(rid)
    finally:
        db.dispose()


def test_when_keys_are_missing_or_unknown_then_401(api: Api) -> None:
    assert httpx.get(f"{api.base}/v1/requests").status_code == 401
    assert httpx.get(f"{api.base}/v1/requests", headers={"Authorization": "Bearer nope"}).status_code == 401


def test_when_bodies_are_bad_or_huge_then_422_and_413(api: Api) -> None:
    bad = httpx.post(f"{api.base}/v1/requests", headers=api.tenant1, json={"type": "shred", "subject": {}})
    assert bad.status_code == 422 and bad.json()["errors"]
    not_email = httpx.post(
        f"{api.base}/v1/requests", headers=api.tenant1, json={"type": "access", "subject": {"email": "nope"}}
    )
    assert not_email.status_code == 422 and "email" in not_email.json()["message"]
    huge = httpx.post(
        f"{api.base}/v1/requests",
        headers={**api.tenant1, "content-type": "application/json"},
        content=b"x" * 100_000,
    )
    assert huge.status_code == 413


def test_when_a_request_is_extended_then_its_deadline_moves_and_the_reason_is_kept(api: Api) -> None:
    r = httpx.post(
        f"{api.base}/v1/requests",
        headers=api.tenant1,
        json={"type": "access", "subject": {"email": "anna@example.com"}},
    ).json()
    assert (
        httpx.post(
            f"{api.base}/v1/requests/{r['id']}/extend", headers=api.tenant1, json={"reason": ""}
        ).status_code
        == 422
    )
    ext = httpx.post(
        f"{api.base}/v1/requests/{r['id']}/extend",
        headers=api.tenant1,
        json={"reason": "complex request", "months": 2},
    ).json()
    assert ext["due_at"] > r["due_at"] and "complex request" in ext["history"][-1]["reason"]


def test_when_consent_is_posted_then_the_check_answers_it(api: Api) -> None:
    check = f"{api.base}/v1/consents/check"
    params = {"subject": "anna@example.com", "purpose": "marketing_email"}
    assert httpx.get(check, params=params, headers=api.tenant1).json()["allowed"] is False
    r = httpx.post(
        f"{api.base}/v1/consents",
        headers=api.tenant1,
        json={"subject": {"email": "anna@example.com"}, "purpose": "marketing_email", "granted": True},
    )
    assert r.status_code == 201 and r.json()["notice_version"] == "1"
    assert httpx.get(check, params=params, headers=api.tenant1).json()["allowed"] is True
    assert httpx.get(check, params=params, headers=api.tenant2).json()["allowed"] is False  # per controller
    unknown = httpx.post(
        f"{api.base}/v1/consents",
        headers=api.tenant1,
        json={"subject": {"email": "anna@example.com"}, "purpose": "telepathy", "granted": True},
    )
    assert unknown.status_code == 422


def test_when_openapi_is_fetched_then_it_lists_the_routes(api: Api) -> None:
    spec = httpx.get(f"{api.base}/openapi.json").json()
    assert {"/v1/requests", "/v1/requests/{rid}/verify", "/v1/consents", "/v1/consents/check"} <= set(
        spec["paths"]
    )


def test_when_an_export_expires_then_its_file_is_deleted_and_the_link_answers_404(api: Api) -> None:
    import datetime as dt

    rid = httpx.post(
        f"{api.base}/v1/requests",
        headers=api.operator,
        json={"type": "access", "subject": {"email": "bob@example.com"}, "tenant": "1"},
    ).json()["id"]
    httpx.post(f"{api.base}/v1/requests/{rid}/verify", json={"code": api.code_for("bob@example.com")})
    httpx.post(f"{api.base}/v1/requests/{rid}/approve", headers=api.tenant1)
    api.drain()
    svc = api.app.state.requests  # type: ignore[attr-defined]
    sealed = list(svc.settings.exports_dir.glob(f"{rid}*"))
    assert [p.suffix for p in sealed] == [".enc"]  # encrypted at rest, no clear zip left
    assert svc.purge_expired_exports(now=dt.datetime.now(dt.UTC) + dt.timedelta(days=8)) == 1
    assert not sealed[0].exists()
    assert httpx.get(f"{api.base}/v1/requests/{rid}/export", headers=api.tenant1).status_code == 404
