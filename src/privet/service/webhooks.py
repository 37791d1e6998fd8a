"""Recipients (Art. 19): per-tenant webhooks, HMAC-signed, retried with backoff, every delivery logged."""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time
from typing import Any
from urllib.parse import urlparse

import httpx
import sqlalchemy as sa

from privet import audit
from privet.errors import BadInput, UnknownName
from privet.service.models import Tenant, Webhook, WebhookDelivery
from privet.state import StateDB
from privet.state.db import utcnow

BACKOFF_SECONDS = (0.2, 1.0, 5.0)


def add_webhook(db: StateDB, tenant: str, url: str) -> dict[str, Any]:
    """Register a recipient URL for a tenant; returns the signing secret (shown once)."""
    parsed = urlparse(url)
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        raise BadInput(
            f"'{url}' is not an http(s) URL", value=url, hint="e.g. https://crm.example.com/privet"
        )
    secret = secrets.token_urlsafe(24)
    with db.session() as s:
        if s.get(Tenant, tenant) is None:
            raise UnknownName(
                f"tenant '{tenant}' does not exist",
                value=tenant,
                hint=f"add it first: privet tenants add {tenant}",
            )
        hook = Webhook(tenant=tenant, url=url, secret=secret, created_at=utcnow())
        s.add(hook)
        s.flush()
        audit.record(s, "webhook.added", actor="cli", tenant=tenant, details={"id": hook.id})
        return {"id": hook.id, "tenant": tenant, "url": url, "secret": secret}


def signature(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def notify(
    db: StateDB,
    tenant: str | None,
    request_id: str,
    event: str,
    payload: dict[str, Any],
    *,
    backoff: tuple[float, ...] = BACKOFF_SECONDS,
) -> int:
    """POST the event to every webhook of the tenant; returns how many were delivered."""
    if tenant is None:
        return 0
    with db.session() as s:
        hooks = [
            (h.id, h.url, h.secret)
            for h in s.execute(sa.select(Webhook).where(Webhook.tenant == tenant)).scalars()
        ]
    body = json.dumps({"event": event, "request": request_id, **payload}, default=str).encode()
    delivered = 0
    for hook_id, url, secret in hooks:
        error: str | None = None
        attempts = 0
        for pause in (0.0, *backoff):
            time.sleep(pause)
            attempts += 1
            try:
                r = httpx.post(
                    url,
                    content=body,
                    timeout=5,
                    headers={
                        "Content-Type": "application/json",
                        "X-Privet-Event": event,
                        "X-Privet-Signature": signature(secret, body),
                    },
                )
                if r.status_code < 300:
                    error = None
                    break
                error = f"HTTP {r.status_code}"
            except httpx.HTTPError as exc:
                error = type(exc).__name__
        with db.session() as s:
            s.add(
                WebhookDelivery(
                    webhook_id=hook_id,
                    request_id=request_id,
                    event=event,
                    status="failed" if error else "delivered",
                    attempts=attempts,
                    last_error=error,
                    at=utcnow(),
                )
            )
        delivered += error is None
    return delivered
