"""Legal deadlines: one calendar month after receipt (Art. 12(3)), extensions, service levels."""

from __future__ import annotations

import calendar
import datetime as dt


def add_months(when: dt.datetime, months: int) -> dt.datetime:
    """The same day ``months`` later, or the month's last day when it has none (31 Jan -> 28/29 Feb)."""
    month0 = when.month - 1 + months
    year, month = when.year + month0 // 12, month0 % 12 + 1
    day = min(when.day, calendar.monthrange(year, month)[1])
    return when.replace(year=year, month=month, day=day)


def legal_due(received: dt.datetime) -> dt.datetime:
    return add_months(received, 1)


def at_risk(received: dt.datetime, due: dt.datetime, now: dt.datetime, share: float = 0.25) -> bool:
    """Less than ``share`` of the time is left, and the deadline has not passed yet."""
    total = (due - received).total_seconds()
    return now < due and (due - now).total_seconds() < share * total
