"""Bearer API keys: one tenant's, or the operator's."""

from __future__ import annotations

import time

from fastapi import Request

from privet.service.tenants import Principal, authenticate

CACHE_SECONDS = 30.0  # a revoked key stops working within this time


async def principal(request: Request) -> Principal:
    """The caller of a route; async so a cached key costs no thread hop (a new key is looked up once)."""
    return resolve_principal(request)


def resolve_principal(request: Request) -> Principal:
    header = request.headers.get("authorization", "")
    key = header[7:].strip() if header.lower().startswith("bearer ") else None
    cache: dict[str, tuple[float, Principal]] = request.app.state.principals
    now = time.monotonic()
    if key and (hit := cache.get(key)) is not None and now - hit[0] < CACHE_SECONDS:
        return hit[1]
    who = authenticate(request.app.state.state_db, key)
    if key:
        cache[key] = (now, who)
    return who
