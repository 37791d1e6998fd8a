"""Notices per language: the text and version a person is shown and agrees to, by their language.

Library and REST, with Privet's state on SQLite, PostgreSQL and MariaDB.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from privet.api.app import create_app
from privet.consent import ConsentService
from privet.consent.languages import parse_accept_language
from privet.datamap import parse_map
from privet.service import add_tenant, create_key
from privet.settings import Settings
from privet.state import open_state
from tests.support.server import consent_check, running

MASTER = bytes(range(32))
# English first (the default language); German keeps up; the French translation lags one version.
MAP = """
version: 1
stores: {}
purposes:
  marketing_email:
    notices:
      - {version: "1", language: en, text: "Marketing"}
      - {version: "1", language: de, text: "Werbung"}
      - {version: "1", language: fr, text: "Publicité"}
      - {version: "2", language: en, text: "Marketing, now with partners"}
      - {version: "2", language: de, text: "Werbung, jetzt mit Partnern"}
  product_news:
    notices: [{version: "1", language: de-AT, text: "Neuigkeiten"}]
"""


@pytest.fixture
def service(db_url: str) -> Iterator[ConsentService]:
    db = open_state(db_url)
    yield ConsentService(db, parse_map(MAP), MASTER, cache_seconds=0)
    db.dispose()


def _shown(svc: ConsentService, purpose: str, language: str | list[str] | None) -> tuple[str, str]:
    notice = svc.notice(purpose, language)
    assert notice is not None
    return notice.version, notice.text


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("de-CH,de;q=0.9,en;q=0.8", ["de-ch", "de", "en"]),
        ("en;q=0.5, fr", ["fr", "en"]),
        ("*, it;q=0, pt_BR", ["pt-br"]),
        ("fr;q=abc, de", ["de"]),
        ("", []),
    ],
)
def test_when_a_browser_lists_languages_then_they_are_ranked_by_quality(
    header: str, expected: list[str]
) -> None:
    assert parse_accept_language(header) == expected


def test_when_a_language_is_asked_then_its_newest_notice_is_shown_else_the_default_one(
    service: ConsentService,
) -> None:
    assert _shown(service, "marketing_email", None) == ("2", "Marketing, now with partners")
    assert _shown(service, "marketing_email", "de") == ("2", "Werbung, jetzt mit Partnern")
    assert _shown(service, "marketing_email", "de-CH,fr;q=0.5") == ("2", "Werbung, jetzt mit Partnern")
    assert _shown(service, "marketing_email", ["it", "fr"]) == ("1", "Publicité")
    assert _shown(service, "marketing_email", "it, pt-BR;q=0.7") == ("2", "Marketing, now with partners")
    # The default language is the one of the purpose's first notice; "de" finds a "de-AT" notice.
    assert _shown(service, "product_news", "en") == ("1", "Neuigkeiten")
    assert _shown(service, "product_news", "de") == ("1", "Neuigkeiten")


def test_when_consent_is_given_in_a_language_then_it_is_on_that_language_s_notice(
    service: ConsentService,
) -> None:
    assert (
        service.record("email=fr@example.com", "marketing_email", True, language="fr").notice_version == "1"
    )
    assert (
        service.record("email=de@example.com", "marketing_email", True, language="de").notice_version == "2"
    )
    assert (
        service.record("email=it@example.com", "marketing_email", True, language="it").notice_version == "2"
    )
    decision = service.check("email=fr@example.com", "marketing_email")
    assert decision.allowed and decision.notice_version == "1"
    assert service.history("email=fr@example.com")[0]["notice_version"] == "1"


def test_when_the_notice_in_their_language_is_newer_then_people_are_prompted_again(
    service: ConsentService,
) -> None:
    service.record("email=fr@example.com", "marketing_email", True, language="fr")  # version 1
    service.record("email=en@example.com", "marketing_email", True, language="en")  # version 2
    service.record("email=old@example.com", "marketing_email", True, notice_version="1")
    # French has nothing newer than what they agreed to; in English they would see version 2.
    assert not service.needs_prompt("email=fr@example.com", "marketing_email", language="fr")
    assert service.needs_prompt("email=fr@example.com", "marketing_email", language="en")
    assert service.needs_prompt("email=fr@example.com", "marketing_email")  # the default language
    # Agreeing to a newer version than the translation has is not a reason to ask again.
    assert not service.needs_prompt("email=en@example.com", "marketing_email", language="fr")
    assert service.needs_prompt("email=old@example.com", "marketing_email", language="de-CH")
    assert service.needs_prompt("email=new@example.com", "marketing_email", language="fr")


@pytest.fixture
def api(db_url: str, tmp_path: Path) -> Iterator[tuple[str, dict[str, str]]]:
    (tmp_path / "privet.yaml").write_text(MAP)
    settings = Settings(home=tmp_path / ".privet", map=tmp_path / "privet.yaml", state_url=db_url)
    db = open_state(db_url)
    add_tenant(db, "1", name="Shop One")
    key = create_key(db, tenant="1")
    db.dispose()
    with running(create_app(settings)) as base:
        yield base, {"Authorization": f"Bearer {key}"}


def _dialog(
    api: tuple[str, dict[str, str]], *, headers: dict[str, str] | None = None, **params: str
) -> dict[str, dict[str, object]]:
    base, auth = api
    r = httpx.get(f"{base}/v1/consents/purposes", params=params, headers={**auth, **(headers or {})})
    assert r.status_code == 200, r.text
    return {p["purpose"]: p for p in r.json()["purposes"]}


def test_when_the_dialog_is_asked_over_rest_then_the_notice_follows_the_language(
    api: tuple[str, dict[str, str]],
) -> None:
    german = _dialog(api, headers={"Accept-Language": "de-CH,de;q=0.9,en;q=0.5"})["marketing_email"]
    assert (german["notice_version"], german["language"], german["text"]) == (
        "2",
        "de",
        "Werbung, jetzt mit Partnern",
    )
    french = _dialog(api, language="fr", headers={"Accept-Language": "de"})["marketing_email"]
    assert (french["notice_version"], french["text"]) == ("1", "Publicité")  # explicit beats the header
    default = _dialog(api, headers={"Accept-Language": "ja"})["marketing_email"]
    assert (default["notice_version"], default["language"]) == ("2", "en")


def test_when_consent_is_posted_with_a_language_then_the_ledger_and_the_prompt_follow_it(
    api: tuple[str, dict[str, str]],
) -> None:
    base, auth = api
    subject = {"email": "Anna@Example.com"}
    r = httpx.post(
        f"{base}/v1/consents",
        headers={**auth, "Accept-Language": "fr-FR,fr;q=0.9"},
        json={"subject": subject, "purpose": "marketing_email", "granted": True},
    )
    assert r.status_code == 201, r.text
    assert r.json()["notice_version"] == "1"
    check = consent_check(base, auth)
    assert check["allowed"] is True and check["notice_version"] == "1"
    who = {"subject": "email=anna@example.com"}
    assert _dialog(api, **who, headers={"Accept-Language": "fr"})["marketing_email"]["needs_prompt"] is False
    assert _dialog(api, **who, language="en")["marketing_email"]["needs_prompt"] is True
    r = httpx.post(
        f"{base}/v1/consents",
        headers={**auth, "Accept-Language": "fr"},
        json={"subject": subject, "purpose": "marketing_email", "granted": True, "language": "de"},
    )
    assert r.json()["notice_version"] == "2"
    assert _dialog(api, **who, language="en")["marketing_email"]["needs_prompt"] is False


def test_when_the_embedded_dialog_loads_then_its_notices_follow_the_browser_s_language(
    api: tuple[str, dict[str, str]],
) -> None:
    base, auth = api
    token = httpx.post(
        f"{base}/v1/consents/tokens", headers=auth, json={"subject": {"email": "anna@example.com"}}
    ).json()["token"]

    def shown(headers: dict[str, str] | None = None, **params: str) -> dict[str, tuple[object, ...]]:
        r = httpx.get(f"{base}/v1/public/purposes", params={"token": token, **params}, headers=headers)
        assert r.status_code == 200, r.text
        return {p["name"]: (p["notice_version"], p["language"], p["text"]) for p in r.json()["purposes"]}

    default = shown()  # no language: the purpose's default one (English), not its last-listed notice
    assert default["marketing_email"] == ("2", "en", "Marketing, now with partners")
    assert default["product_news"] == ("1", "de-AT", "Neuigkeiten")
    assert shown({"Accept-Language": "fr-FR,fr;q=0.9"})["marketing_email"] == ("1", "fr", "Publicité")
    assert shown({"Accept-Language": "de-CH,en;q=0.5"})["marketing_email"][2] == "Werbung, jetzt mit Partnern"
    assert (
        shown({"Accept-Language": "fr"}, language="de")["marketing_email"][2] == "Werbung, jetzt mit Partnern"
    )
    assert shown({"Accept-Language": "ja"})["marketing_email"] == ("2", "en", "Marketing, now with partners")
    # What the person agrees to in the dialog is the notice it showed them in their language.
    r = httpx.post(
        f"{base}/v1/public/consents",
        headers={"Accept-Language": "fr"},
        json={"token": token, "decisions": {"marketing_email": True}},
    )
    assert r.status_code == 201, r.text
    check = consent_check(base, auth)
    assert check["allowed"] is True and check["notice_version"] == "1"
