"""Fixtures of the request tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.requests.shop import build_shop


@pytest.fixture
def shop(db_url: str, tmp_path: Path) -> tuple[str, Path]:
    """The shop schema with Anna, Bob and Carl (``build_shop``) on each database in turn: its URL
    and the folder of its recordings."""
    rec = tmp_path / "rec"
    build_shop(db_url, rec)
    return db_url, rec
