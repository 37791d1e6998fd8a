"""IPv4 and IPv6 addresses."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterator

from privet.detection.context import before
from privet.detection.finding import Finding
from privet.detection.recognizers.base import Recognizer


class IpRecognizer(Recognizer):
    type = "ip_address"
    needs_digit = True
    pattern = re.compile(
        r"(?<![\w.:])(?:\d{1,3}\.){3}\d{1,3}(?![\w.])"
        r"|(?<![\w:])(?:[0-9A-Fa-f]{1,4}:){2,7}(?::|(?::[0-9A-Fa-f]{1,4}){1,6}|[0-9A-Fa-f]{1,4})(?![\w:])"
        r"|(?<![\w:])::(?:[0-9A-Fa-f]{1,4}:){0,6}[0-9A-Fa-f]{1,4}(?![\w:])"
    )
    base_score = 0.9

    def find(self, text: str, region: str) -> Iterator[Finding]:
        # IPv4 needs three dots, IPv6 two colons: without them the (costly) pattern cannot match.
        if text.count(".") < 3 and text.count(":") < 2:
            return
        yield from super().find(text, region)

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
