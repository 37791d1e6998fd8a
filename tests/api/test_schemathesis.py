"""Schemathesis against our own OpenAPI document, through real HTTP: no input makes a 500."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode

from privet.api.app import create_app
from privet.datamap import write_map
from privet.service import add_tenant, create_key
from privet.settings import Settings
from privet.state import open_state
from tests.requests.shop import build_shop, shop_map
from tests.support.server import running

AUTH: dict[str, str] = {}
BASE: list[str] = []


@pytest.fixture(scope="module")
def api_schema(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    tmp = tmp_path_factory.mktemp("fuzz")
    shop = f"sqlite:///{tmp / 'shop.db'}"
    build_shop(shop, tmp / "rec")
    write_map(shop_map(shop, tmp / "rec"), tmp / "privet.yaml")
    conf = Settings(home=tmp / ".privet", map=tmp / "privet.yaml", state_url=f"sqlite:///{tmp / 'state.db'}")
    db = open_state(conf.resolved_state_url)
    add_tenant(db, "1", name="Shop One")
    AUTH["Authorization"] = f"Bearer {create_key(db, operator=True)}"
    db.dispose()
    app = create_app(conf)
    with running(app) as base:
        BASE[:] = [base]
        yield schemathesis.openapi.from_url(f"{base}/openapi.json")


def test_when_any_request_the_schema_allows_is_sent_then_the_server_never_fails(api_schema: Any) -> None:
    tried: list[str] = []
    operations = [r.ok() for r in api_schema.get_all_operations()]
    for operation, mode in itertools.product(operations, GenerationMode):
        # Valid inputs, then inputs that break the schema (wrong types, missing fields, ...).
        tried.append(f"{operation.label} ({mode.value})")

        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(
            max_examples=60,
            deadline=None,
            database=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        )
        def no_server_error(case: Any) -> None:
            response = case.call(base_url=BASE[0], headers=AUTH)
            assert response.status_code < 500, (
                f"{case.method} {case.formatted_path}: {response.status_code} {response.text[:500]}"
            )

        try:
            no_server_error()
        except Unsatisfiable:
            # An operation without parameters has no schema-breaking input to send.
            if mode is not GenerationMode.NEGATIVE:
                raise
    assert len(tried) >= 20, tried


def test_when_the_schema_is_loaded_then_every_route_family_is_in_it(api_schema: Any, tmp_path: Path) -> None:
    paths = set(api_schema.raw_schema["paths"])
    assert {"/v1/requests", "/v1/consents", "/v1/consents/check"} <= paths
