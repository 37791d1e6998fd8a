"""Data subject requests: access, portability, erasure, rectification, restriction, objection."""

from privet.requests.access import AccessResult, access
from privet.requests.batch import access_batch
from privet.requests.erase import ErasureResult, erase
from privet.requests.resolve import Person, Resolution, resolve
from privet.requests.rights import is_restricted, object_to, rectify, restrict

__all__ = [
    "AccessResult",
    "ErasureResult",
    "Person",
    "Resolution",
    "access",
    "access_batch",
    "erase",
    "is_restricted",
    "object_to",
    "rectify",
    "resolve",
    "restrict",
]
