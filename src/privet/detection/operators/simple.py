"""Redact, mask and replace."""

from __future__ import annotations

from dataclasses import dataclass

from privet.detection.operators.base import Operator


@dataclass(frozen=True)
class Redact(Operator):
    replacement: str = "[redacted]"
    name = "redact"

    def apply(self, value: str) -> str:
        return self.replacement


@dataclass(frozen=True)
class Mask(Operator):
    char: str = "*"
    keep_last: int = 4
    name = "mask"

    def validate(self) -> None:
        if len(self.char) != 1 or self.keep_last < 0:
            raise ValueError("mask needs one character and keep_last >= 0")

    def apply(self, value: str) -> str:
        keep = min(self.keep_last, len(value) // 2)
        head = "".join(self.char if c.isalnum() else c for c in value[: len(value) - keep])
        return head + value[len(value) - keep :]


@dataclass(frozen=True)
class Replace(Operator):
    token: str = "<PII>"
    name = "replace"

    def apply(self, value: str) -> str:
        return self.token
