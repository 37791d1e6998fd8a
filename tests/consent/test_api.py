"""The consent REST endpoints and the snippet over real HTTP; state on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from privet.api.app import create_app
from privet.service import add_tenant, create_key
from privet.settings import Settings
from privet.state import open_state
from tests.consent.test_consent import MAP
from tests.support.server import running

ANNA = {"email": "Anna@Example.com"}


@dataclass
class Api:
    base: str
    one: dict[str, str]
    two: dict[str, str]


@pytest.fixture
def api(state_url: str, tmp_path: Path) -> Iterator[Api]:
    (tmp_path / "privet.yaml").write_text(MAP)
    settings = Settings(home=tmp_path / ".privet", map=tmp_path / "privet.yaml", state_url=state_url)
    db = open_state(state_url)
    add_tenant(db, "1", name="Shop One")
    add_tenant(db, "2", name="Shop Two")
    keys = create_key(db, tenant="1"), create_key(db, tenant="2")
    db.dispose()
    with running(create_app(settings)) as base:
        yield Api(base, {"Authorization": f"Bearer {keys[0]}"}, {"Authorization": f"Bearer {keys[1]}"})


def _check(api: Api, headers: dict[str, str], purpose: str) -> dict[str, object]:
    r = httpx.get(
        f"{api.base}/v1/consents/check",
        params={"subject": "email=anna@example.com", "purpose": purpose},
        headers=headers,
    )
    assert r.status_code == 200, r.text
    result: dict[str, object] = r.json()
    return result


def test_when_a_tenant_records_consent_then_only_that_tenant_sees_it_allowed(api: Api) -> None:
    assert _check(api, api.one, "marketing_email")["allowed"] is False
    r = httpx.post(
        f"{api.base}/v1/consents",
        headers=api.one,
        json={"subject": ANNA, "purpose": "marketing_email", "granted": True, "source": "signup"},
    )
    assert r.status_code == 201, r.text
    assert r.json()["notice_version"] == "2"
    decision = _check(api, api.one, "marketing_email")
    assert decision["allowed"] is True and decision["notice_version"] == "2" and decision["since"]
    assert _check(api, api.two, "marketing_email")["allowed"] is False


def test_when_the_request_is_bad_then_the_answer_says_why_and_nothing_is_recorded(api: Api) -> None:
    unknown = httpx.post(
        f"{api.base}/v1/consents", headers=api.one, json={"subject": ANNA, "purpose": "nope", "granted": True}
    )
    assert unknown.status_code == 422 and "nope" in unknown.text
    bad_email = httpx.post(
        f"{api.base}/v1/consents",
        headers=api.one,
        json={"subject": {"email": "not-an-email"}, "purpose": "marketing_email", "granted": True},
    )
    assert bad_email.status_code == 422
    no_key = httpx.get(f"{api.base}/v1/consents/check", params={"subject": "a@b.co", "purpose": "x"})
    assert no_key.status_code == 401
    assert no_key.json()["error"] == "Unauthorized" and no_key.json()["message"] == "an API key is required"
    missing = httpx.get(f"{api.base}/v1/consents/check", params={"subject": "a@b.co"}, headers=api.one)
    assert missing.status_code == 422 and missing.json()["error"] == "BadInput"
    unknown_purpose = httpx.get(
        f"{api.base}/v1/consents/check", params={"subject": "a@b.co", "purpose": "nope"}, headers=api.one
    )
    assert unknown_purpose.status_code == 422 and "nope" in unknown_purpose.json()["message"]
    assert unknown_purpose.headers["content-type"] == "application/json"
    assert _check(api, api.one, "marketing_email")["since"] is None


def test_when_the_browser_sends_gpc_then_sale_and_share_purposes_are_opted_out(api: Api) -> None:
    httpx.post(
        f"{api.base}/v1/consents",
        headers=api.one,
        json={"subject": ANNA, "purpose": "data_sale", "granted": True},
    )
    assert _check(api, api.one, "data_sale")["allowed"] is True
    quiet = httpx.post(f"{api.base}/v1/consents/gpc", headers=api.one, json={"subject": ANNA})
    assert quiet.json() == {"gpc": False, "opted_out": []}
    r = httpx.post(f"{api.base}/v1/consents/gpc", headers={**api.one, "Sec-GPC": "1"}, json={"subject": ANNA})
    assert r.json() == {"gpc": True, "opted_out": ["data_sale"]}
    assert _check(api, api.one, "data_sale")["allowed"] is False


def test_when_preferences_are_put_then_get_returns_them_with_role_defaults(api: Api) -> None:
    url = f"{api.base}/v1/subjects/email=anna@example.com/preferences"
    before = httpx.get(url, params={"role": "client"}, headers=api.one).json()["preferences"]
    assert before == {"newsletter": False, "project_updates": True}
    put = httpx.put(url, headers=api.one, json={"newsletter": True})
    assert put.status_code == 200, put.text
    after = httpx.get(url, params={"role": "client"}, headers=api.one).json()["preferences"]
    assert after == {"newsletter": True, "project_updates": True}
    assert httpx.put(url, headers=api.one, json={"telepathy": True}).status_code == 422


def test_when_the_dialog_loads_then_it_gets_purposes_and_the_snippet(api: Api) -> None:
    r = httpx.get(
        f"{api.base}/v1/consents/purposes", params={"subject": "email=anna@example.com"}, headers=api.one
    )
    listed = {p["purpose"]: p for p in r.json()["purposes"]}
    assert set(listed) == {"marketing_email", "data_sale"}
    assert listed["marketing_email"]["needs_prompt"] is True
    assert listed["marketing_email"]["text"] == "Marketing, now with partners"
    js = httpx.get(f"{api.base}/consent.js")
    assert js.status_code == 200 and js.headers["content-type"].startswith("text/javascript")
    assert "/v1/public/consents" in js.text and "globalPrivacyControl" in js.text
