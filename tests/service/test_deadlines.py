"""Deadlines by Art. 12(3): one calendar month, extension by two more, service levels."""

from __future__ import annotations

import datetime as dt

import pytest

from privet.service.deadlines import add_months, at_risk, legal_due

UTC = dt.UTC


@pytest.mark.parametrize(
    ("received", "due"),
    [
        (dt.datetime(2025, 1, 31, 10, tzinfo=UTC), dt.datetime(2025, 2, 28, 10, tzinfo=UTC)),
        (dt.datetime(2024, 1, 31, 10, tzinfo=UTC), dt.datetime(2024, 2, 29, 10, tzinfo=UTC)),
        (dt.datetime(2025, 3, 15, 9, tzinfo=UTC), dt.datetime(2025, 4, 15, 9, tzinfo=UTC)),
        (dt.datetime(2025, 12, 31, 23, tzinfo=UTC), dt.datetime(2026, 1, 31, 23, tzinfo=UTC)),
    ],
)
def test_when_a_request_is_received_then_it_is_due_one_calendar_month_later(
    received: dt.datetime, due: dt.datetime
) -> None:
    assert legal_due(received) == due


def test_when_extended_by_two_months_then_due_three_months_after_receipt() -> None:
    assert add_months(dt.datetime(2025, 11, 30, tzinfo=UTC), 3) == dt.datetime(2026, 2, 28, tzinfo=UTC)


def test_when_less_than_a_quarter_of_the_time_is_left_then_at_risk() -> None:
    start = dt.datetime(2025, 1, 1, tzinfo=UTC)
    due = start + dt.timedelta(days=8)
    assert not at_risk(start, due, start + dt.timedelta(days=5))
    assert at_risk(start, due, start + dt.timedelta(days=7))
    assert not at_risk(start, due, start + dt.timedelta(days=9))  # overdue is not "at risk"
