"""Properties of erasure over random subjects (Hypothesis, SQLite): idempotent, and nobody else is touched."""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from privet.requests import erase
from privet.settings import Settings
from tests.requests.shop import build_shop, shop_map, snapshot
from tests.requests.test_erase import _is_annas

SUBJECTS = {
    1: ("email=anna@example.com", "phone=0176 123 4567", "id=1"),
    2: ("email=BOB@example.com", "phone=+49 30 1234567", "id=2"),
    3: ("email=carl@example.org", "id=3"),
}


def _touched(who: int, table: str, row: tuple[object, ...]) -> bool:
    """Rows erasing ``who`` may change: theirs, the ones they share, the ones mentioning them."""
    if who == 1:
        return _is_annas(table, row)
    if who == 2:
        return (
            (table == "users" and row[0] == 2)
            or (table == "orders" and row[1] == 2)
            or (table == "order_items" and row[1] == 12)
            or (table == "invoices" and row[0] == 21)
            or (table == "calls" and row[0] == 32)
            or (table == "messages" and row[0] == 41)
            or (table == "projects" and row[0] in (50, 51))
        )
    return (
        (table == "users" and row[0] == 3)
        or (table == "messages" and row[0] == 42)
        or (table == "projects" and row[0] == 51)
    )


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(who=st.sampled_from(sorted(SUBJECTS)), how=st.integers(0, 2))
def test_when_any_subject_is_erased_twice_then_second_run_changes_nothing_and_others_are_identical(
    who: int, how: int
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        url = f"sqlite:///{root / 'shop.db'}"
        build_shop(url, root / "rec")
        dm = shop_map(url, root / "rec")
        cfg = Settings(home=root / ".privet")
        subject = SUBJECTS[who][how % len(SUBJECTS[who])]
        before = snapshot(url)
        first = erase(dm, cfg, subject)
        assert first.found and first.verified, first.leftovers
        once = snapshot(url)
        erase(dm, cfg, SUBJECTS[who][-1])  # again, even by another of their identities
        assert snapshot(url) == once
        for table, rows in before.items():
            untouched = [r for r in rows if not _touched(who, table, r)]
            assert [r for r in once[table] if not _touched(who, table, r)] == untouched, table
