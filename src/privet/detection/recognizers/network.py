"""IPv4 and IPv6 addresses."""

from __future__ import annotations

import ipaddress
import re

from privet.detection.context import before
from privet.detection.recognizers.base import Recognizer, for_hyperscan


class IpRecognizer(Recognizer):
    type = "ip_address"
    min_digits = 1
    # Four dotted numbers, two hexadecimal groups each followed by a colon, or "::" (for Python's
    # engine written to begin with the punctuation, which it finds fast).
    gate = re.compile(r":(?:(?<=[0-9A-Fa-f]:)[0-9A-Fa-f]{1,4}:|:)|\.(?<=\d\.)\d{1,3}\.\d{1,3}\.\d")
    hs_gate = for_hyperscan(r"\d\.\d{1,3}\.\d{1,3}\.\d|[0-9A-Fa-f]:[0-9A-Fa-f]{1,4}:|::")

    def possible(
        self, text: str, digits: int, lower: str | None = None, hits: frozenset[str] | None = None
    ) -> bool:
        # IPv4 needs three dots, IPv6 two colons.
        if hits is None and text.count(".") < 3 and text.count(":") < 2:
            return False
        return super().possible(text, digits, lower, hits)

    pattern = re.compile(
        r"(?<![\w.:])(?:\d{1,3}\.){3}\d{1,3}(?![\w.])"
        r"|(?<![\w:])(?:[0-9A-Fa-f]{1,4}:){2,7}(?::|(?::[0-9A-Fa-f]{1,4}){1,6}|[0-9A-Fa-f]{1,4})(?![\w:])"
        r"|(?<![\w:])::(?:[0-9A-Fa-f]{1,4}:){0,6}[0-9A-Fa-f]{1,4}(?![\w:])"
    )
    base_score = 0.9

    def validate(self, candidate: str, text: str, start: int, region: str) -> float | None:
        try:
            addr = ipaddress.ip_address(candidate)
        except ValueError:
            return None
        window = before(text, start, 12)
        if addr.version == 4 and window.rstrip().endswith(("version", "v", "ver.", "release")):
            return None
        if addr.version == 6 and candidate.count(":") < 2:
            return None
        if addr.is_unspecified:
            return None
        return self.base_score
