"""Keys derived from the installation's master key, one per purpose.

A purpose-specific key means a leaked pseudonymization key reveals nothing
about export encryption, and each can be rotated on its own.
"""

from __future__ import annotations

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF


def derive_key(master: bytes, purpose: str, *, length: int = 32) -> bytes:
    """HKDF-SHA256 of the master key for one named purpose (``pseudonymize``, ``exports``…)."""
    if len(master) < 16:
        raise ValueError("the master key must be at least 16 bytes")
    return HKDF(
        algorithm=hashes.SHA256(), length=length, salt=b"privet/v1", info=purpose.encode("utf-8")
    ).derive(master)
