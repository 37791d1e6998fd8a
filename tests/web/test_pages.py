"""The privacy center and the console in real headless Chromium (Debian's, driven by Playwright)."""

from __future__ import annotations

import re
import shutil
import zipfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from privet.api.app import create_app
from privet.datamap import write_map
from privet.service import Principal, add_tenant, create_key
from privet.settings import Settings
from privet.state import open_state
from tests.requests.shop import build_shop, shop_map
from tests.support.databases import REQUIRE
from tests.support.server import running
from tests.support.smtp import Mailbox

pytestmark = pytest.mark.browser
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
SHOTS = Path(__file__).resolve().parents[1] / "screenshots"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    "--disable-quic",
]


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        if REQUIRE:
            pytest.fail(
                "PRIVET_REQUIRE_SERVICES=1 but Debian's chromium is not installed (make test installs it)"
            )
        pytest.skip("chromium is not installed; make test installs it with apt")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        yield b
        b.close()


@pytest.fixture
def site(tmp_path: Path, mailbox: Mailbox) -> Iterator[tuple[str, str, object]]:
    shop_url = f"sqlite:///{tmp_path / 'shop.db'}"
    build_shop(shop_url, tmp_path / "rec")
    write_map(shop_map(shop_url, tmp_path / "rec"), tmp_path / "privet.yaml")
    settings = Settings(home=tmp_path / ".privet", map=tmp_path / "privet.yaml", smtp_url=mailbox.url)
    db = open_state(settings.resolved_state_url)
    add_tenant(db, "1", name="Shop One")
    key = create_key(db, operator=True)
    db.dispose()
    app = create_app(settings)
    with running(app) as base:
        yield base, key, app


def _code(mailbox: Mailbox, address: str) -> str:
    match = re.search(r"^(\d{6})\r?$", str(mailbox.to(address)[-1].get_payload()), flags=re.M)
    assert match
    return match.group(1)


def _shot(page: Page, name: str) -> None:
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def test_when_a_subject_asks_for_data_then_verifies_and_downloads_after_approval(
    browser: Browser, site: tuple[str, str, object], mailbox: Mailbox, tmp_path: Path
) -> None:
    base, key, app = site
    page = browser.new_page(accept_downloads=True)
    page.goto(f"{base}/privacy?tenant=1&lang=en")
    _shot(page, "privacy-form")
    page.fill("#email", "anna@example")
    page.click("button[type=submit]")
    assert "not an email address" in page.inner_text("[role=alert]")
    assert page.input_value("#email") == "anna@example"  # nothing the person typed is lost
    page.fill("#email", "anna@example.com")
    page.select_option("#type", "access")
    page.click("button[type=submit]")
    assert page.inner_text("#status") == "received"
    page.fill("#code", "000000")
    page.click("button[type=submit]")
    assert "wrong code" in page.inner_text("[role=alert]") and page.input_value("#code") == "000000"
    page.click("#resend")  # too soon after the first mail: the page says how long to wait
    assert "try again in" in page.inner_text("[role=alert]") and page.inner_text("#status") == "received"
    page.fill("#code", _code(mailbox, "anna@example.com"))
    page.click("button[type=submit]")
    assert page.inner_text("#status") == "verified"
    _shot(page, "privacy-status")
    status_url = page.url

    console = browser.new_page()
    console.goto(f"{base}/console")
    assert console.url.endswith("/console/login")
    console.fill("#key", "wrong")
    console.click("button[type=submit]")
    assert "unknown API key" in console.inner_text("[role=alert]")
    console.fill("#key", key)
    console.click("button[type=submit]")
    _shot(console, "console-queue")
    console.click("text=Approve")
    app.state.runner.drain()  # type: ignore[attr-defined]
    console.reload()
    assert "completed" in console.inner_text("tbody")
    console.click("tbody a")
    assert console.inner_text("#status") == "completed"
    assert "approved" in console.inner_text("#history")
    assert "request.completed" in console.inner_text("#audit")
    _shot(console, "console-request")
    console.goto(f"{base}/console/overview")
    assert "requests answered on time" in console.content()
    console.goto(f"{base}/console/map")
    assert "contact.email" in console.inner_text("table") or "user.contact.email" in console.inner_text(
        "table"
    )
    _shot(console, "console-map")

    page.goto(status_url)
    with page.expect_download() as dl:
        page.click("#download")
    target = tmp_path / "mine.zip"
    dl.value.save_as(target)
    with zipfile.ZipFile(target) as z:
        assert "manifest.json" in z.namelist()


def test_when_an_operator_extends_a_request_then_the_reason_is_kept(
    browser: Browser, site: tuple[str, str, object]
) -> None:
    base, key, app = site
    page = browser.new_page()
    page.goto(f"{base}/privacy?tenant=1&lang=de")
    assert page.inner_text("h1") == "Fragen zu Ihren Daten"
    page.fill("#email", "bob@example.com")
    page.click("button[type=submit]")
    rid = page.url.split("/privacy/requests/")[1].split("?")[0]
    console = browser.new_page()
    console.goto(f"{base}/console/login")
    console.fill("#key", key)
    console.click("button[type=submit]")
    console.fill(f"#reason-{rid}", "needs the archive")
    console.click(f"#r-{rid} >> text=Extend")
    view = app.state.requests.get(Principal(None, True, 0), rid)  # type: ignore[attr-defined]
    assert "needs the archive" in view["history"][-1]["reason"]


def test_when_a_subject_changes_consent_in_the_center_then_the_api_answer_changes(
    browser: Browser, site: tuple[str, str, object], mailbox: Mailbox
) -> None:
    base, key, _app = site
    check = {"subject": "email:anna@example.com", "purpose": "marketing_email"}
    auth = {"Authorization": f"Bearer {key}"}
    assert httpx.get(f"{base}/v1/consents/check", params=check, headers=auth).json()["allowed"] is False
    page = browser.new_page()
    page.goto(f"{base}/privacy/consents?lang=en")
    page.fill("#email", "anna@example.com")
    page.click("button[type=submit]")
    assert "on its way" in page.inner_text("[role=status]")
    body = mailbox.to("anna@example.com")[-1].get_payload(decode=True)
    assert isinstance(body, bytes)
    link = re.search(r"(http\S+/privacy/consents\?\S+)", body.decode())
    assert link
    page.goto(link.group(1).replace("http://127.0.0.1:8000", base))
    page.check("#p-marketing_email")
    page.click("button[type=submit]")
    assert "Saved" in page.inner_text("[role=status]")
    _shot(page, "privacy-consents")
    assert httpx.get(f"{base}/v1/consents/check", params=check, headers=auth).json()["allowed"] is True
    console = browser.new_page()
    console.goto(f"{base}/console/login")
    console.fill("#key", key)
    console.click("button[type=submit]")
    console.goto(f"{base}/console/overview")
    assert "intact" in console.inner_text("#audit")
    _shot(console, "console-overview")
    forged = page.goto(link.group(1).replace("http://127.0.0.1:8000", base).replace("token=", "token=1"))
    assert forged is not None and "not valid" in page.inner_text("[role=alert]")


def test_when_a_website_embeds_the_snippet_then_choices_reach_the_ledger(
    browser: Browser, site: tuple[str, str, object]
) -> None:
    base, key, _app = site
    auth = {"Authorization": f"Bearer {key}"}
    token = httpx.post(
        f"{base}/v1/consents/tokens", headers=auth, json={"subject": {"email": "carl@example.org"}}
    )
    assert token.status_code == 201
    page = browser.new_page()
    page.set_content(
        f'<html><body><h1>Shop</h1><script src="{base}/consent.js" data-token="{token.json()["token"]}" '
        'data-purposes="marketing_email"></script></body></html>'
    )
    page.wait_for_selector("#privet-consent")
    _shot(page, "consent-snippet")
    page.check("#privet-consent input[name=marketing_email]")
    page.click("#privet-consent button")
    page.wait_for_selector("#privet-consent", state="detached")
    check = {"subject": "email:carl@example.org", "purpose": "marketing_email"}
    assert httpx.get(f"{base}/v1/consents/check", params=check, headers=auth).json()["allowed"] is True
    forged = httpx.post(f"{base}/v1/public/consents", json={"token": "x|y|9999999999|z", "decisions": {}})
    assert forged.status_code == 404
