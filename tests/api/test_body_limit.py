"""Oversized request bodies over real HTTP: 413 with Privet's error shape, declared or streamed."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from privet.api.app import MAX_BODY, create_app
from privet.service import add_tenant, create_key
from privet.settings import Settings
from privet.state import open_state
from tests.consent.test_consent import MAP
from tests.support.server import consent_check, running

TOO_BIG = {"error": "BadInput", "message": f"body over {MAX_BODY} bytes"}


@pytest.fixture
def api(sqlite_url: str, tmp_path: Path) -> Iterator[tuple[str, dict[str, str]]]:
    (tmp_path / "privet.yaml").write_text(MAP)
    settings = Settings(home=tmp_path / ".privet", map=tmp_path / "privet.yaml", state_url=sqlite_url)
    db = open_state(sqlite_url)
    add_tenant(db, "1", name="Shop One")
    key = create_key(db, tenant="1")
    db.dispose()
    with running(create_app(settings)) as base:
        yield base, {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}


def _consent(padding: int) -> bytes:
    return (
        b'{"subject": {"email": "anna@example.com"}, "purpose": "marketing_email", "granted": true'
        + b" " * padding
        + b"}"
    )


def test_when_a_declared_body_is_over_the_limit_then_413_and_nothing_is_recorded(
    api: tuple[str, dict[str, str]],
) -> None:
    base, headers = api
    huge = httpx.post(f"{base}/v1/consents", headers=headers, content=_consent(MAX_BODY))
    assert huge.status_code == 413 and huge.json() == TOO_BIG
    check = consent_check(base, headers)
    assert check["since"] is None
    fits = httpx.post(f"{base}/v1/consents", headers=headers, content=_consent(MAX_BODY - 200))
    assert fits.status_code == 201, fits.text


def test_when_a_streamed_body_passes_the_limit_then_413_and_nothing_is_recorded(
    api: tuple[str, dict[str, str]],
) -> None:
    base, headers = api

    def chunks(body: bytes) -> Iterator[bytes]:  # no Content-Length: sent chunked
        for i in range(0, len(body), 8192):
            yield body[i : i + 8192]

    huge = httpx.post(f"{base}/v1/consents", headers=headers, content=chunks(_consent(MAX_BODY)))
    assert "content-length" not in huge.request.headers
    assert huge.status_code == 413 and huge.json() == TOO_BIG
    check = consent_check(base, headers)
    assert check["since"] is None
    small = httpx.post(f"{base}/v1/consents", headers=headers, content=chunks(_consent(100)))
    assert small.status_code == 201, small.text
