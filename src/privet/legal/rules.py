"""National hold periods for accounting records: a versioned rule pack shipped as data."""

from __future__ import annotations

import datetime as dt
from functools import cache
from importlib import resources
from typing import Any

import yaml

from privet.errors import BadInput


@cache
def rule_pack() -> dict[str, Any]:
    text = resources.files("privet.legal").joinpath("holds.yaml").read_text(encoding="utf-8")
    data: dict[str, Any] = yaml.safe_load(text)
    return data


def pack_version() -> str:
    return str(rule_pack()["version"])


def hold_years(country: str, *, issued_on: dt.date | None = None) -> int:
    """Years accounting records are kept in ``country`` (the period in force when issued)."""
    pack = rule_pack()
    code = country.upper()
    if not (len(code) == 2 and code.isalpha()):
        raise BadInput(
            f"'{country}' is not a country code", value=country, hint="use ISO 3166 codes: DE, FR…"
        )
    if issued_on is not None:
        for period in pack.get("history", {}).get(code, []):
            if issued_on <= dt.date.fromisoformat(str(period["until"])):
                return int(period["years"])
    return int(pack["years"].get(code, pack["default_years"]))


def hold_until(issued_on: dt.date, country: str, years_override: int | None = None) -> dt.date:
    """Last day of the hold: the end of the year of issue plus the period."""
    years = years_override if years_override is not None else hold_years(country, issued_on=issued_on)
    return dt.date(issued_on.year + years, 12, 31)
