"""Bearer API keys: one tenant's, or the operator's."""

from __future__ import annotations

from fastapi import Request

from privet.service.tenants import Principal, authenticate


def principal(request: Request) -> Principal:
    header = request.headers.get("authorization", "")
    key = header[7:].strip() if header.lower().startswith("bearer ") else None
    return authenticate(request.app.state.state_db, key)
