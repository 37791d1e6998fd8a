"""Keyed pseudonyms, irreversible anonymization and reversible encryption."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from privet.detection.operators.base import Operator

ANON_PREFIX = "anon-"
PSEUDO_PREFIX = "pseudo-"


def pseudonym(value: str, key: bytes, kind: str = "value", length: int = 12) -> str:
    """A stable, keyed token for a value: same value and key, same token; no key, no way back."""
    digest = hmac.new(key, f"{kind}:{value}".encode(), hashlib.sha256).hexdigest()[:length]
    if kind == "email":
        return f"{PSEUDO_PREFIX}{digest}@example.invalid"
    return f"{PSEUDO_PREFIX}{kind}-{digest}"


@dataclass(frozen=True)
class Pseudonymize(Operator):
    """Keyed HMAC-SHA256 pseudonym, typed so the column keeps its shape (emails stay emails)."""

    key: bytes
    kind: str = "value"
    name = "pseudonymize"

    def validate(self) -> None:
        if len(self.key) < 16:
            raise ValueError("a pseudonymization key has at least 16 bytes")

    def apply(self, value: str) -> str:
        if value.startswith(PSEUDO_PREFIX):
            return value  # already a pseudonym: applying twice changes nothing
        return pseudonym(value.strip().lower() if self.kind == "email" else value, self.key, self.kind)


@dataclass(frozen=True)
class Anonymize(Operator):
    """Irreversible: a random token per value, so nothing links it to the input or to other rows."""

    name = "anonymize"

    def apply(self, value: str) -> str:
        if value.startswith(ANON_PREFIX):
            return value
        return ANON_PREFIX + secrets.token_hex(5)


@dataclass(frozen=True)
class Encrypt(Operator):
    """AES-256-GCM; the token is ``enc1:`` + base64(nonce | ciphertext)."""

    key: bytes
    name = "encrypt"

    def validate(self) -> None:
        if len(self.key) != 32:
            raise ValueError("an encryption key has exactly 32 bytes")

    def apply(self, value: str) -> str:
        nonce = os.urandom(12)
        sealed = AESGCM(self.key).encrypt(nonce, value.encode("utf-8"), b"privet")
        return "enc1:" + base64.urlsafe_b64encode(nonce + sealed).decode("ascii")


@dataclass(frozen=True)
class Decrypt(Operator):
    key: bytes
    name = "decrypt"

    def apply(self, value: str) -> str:
        if not value.startswith("enc1:"):
            raise ValueError("not a Privet ciphertext (expected the enc1: prefix)")
        raw = base64.urlsafe_b64decode(value[5:].encode("ascii"))
        try:
            return AESGCM(self.key).decrypt(raw[:12], raw[12:], b"privet").decode("utf-8")
        except InvalidTag as exc:
            raise ValueError("wrong key, or the ciphertext was altered") from exc
