"""Generalization: keep the coarse part of a value (IP network, month, country)."""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass

from privet.detection.operators.base import Operator
from privet.detection.recognizers.dates import parse_date


def truncate_ip(ip: str) -> str:
    """IPv4 to its /24 network address, IPv6 to its /48; use at write time so full IPs are never stored."""
    addr = ipaddress.ip_address(ip.strip())
    prefix = 24 if addr.version == 4 else 48
    return str(ipaddress.ip_network(f"{addr}/{prefix}", strict=False).network_address)


def generalize_date(value: str) -> str:
    """A date (or timestamp) to the first day of its month: 1985-07-23 -> 1985-07-01."""
    v = value.strip()
    d = parse_date(v[:10]) or parse_date(v)
    if d is None:
        raise ValueError(f"'{value}' is not a date")
    return f"{d.year:04d}-{d.month:02d}-01"


def generalize_location(value: str) -> str:
    """A location written 'street, city, country' (or 'city, country') to its last part, the country."""
    parts = [p.strip() for p in re.split(r"[,;/]", value) if p.strip()]
    return parts[-1] if parts else ""


@dataclass(frozen=True)
class Generalize(Operator):
    kind: str = "ip"
    name = "generalize"

    def validate(self) -> None:
        if self.kind not in ("ip", "date", "location"):
            raise ValueError(f"generalize kind '{self.kind}' is not ip, date or location")

    def apply(self, value: str) -> str:
        if self.kind == "ip":
            return truncate_ip(value)
        if self.kind == "date":
            return generalize_date(value)
        return generalize_location(value)
