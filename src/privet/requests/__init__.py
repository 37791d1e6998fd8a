"""Data subject requests: access, portability, erasure, rectification, restriction, objection."""

from privet.requests.erase import ErasureResult, erase
from privet.requests.resolve import Person, Resolution, resolve

__all__ = ["ErasureResult", "Person", "Resolution", "erase", "resolve"]
