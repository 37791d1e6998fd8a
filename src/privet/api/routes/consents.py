"""``/v1/consents`` and ``/v1/subjects/{key}/preferences`` (the ``/consent.js`` snippet: routes/public.py).

Global Privacy Control: a browser with GPC on sends ``Sec-GPC: 1`` with every
request; wherever that header reaches us with a subject, the person has opted
out of every purpose marked ``sale_or_share``.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field

from privet.api.auth import principal
from privet.consent import ConsentService
from privet.errors import BadInput
from privet.identity import Identity
from privet.service import Principal

router = APIRouter(tags=["consent"])
Who = Annotated[Principal, Depends(principal)]


class NewConsent(BaseModel):
    subject: dict[str, str] = Field(description='one identity, e.g. {"email": "anna@example.com"}')
    purpose: str
    granted: bool
    notice_version: str | None = None
    source: str = "api"


class GpcSignal(BaseModel):
    subject: dict[str, str] = Field(description='one identity, e.g. {"email": "anna@example.com"}')
    gpc: bool = Field(False, description="navigator.globalPrivacyControl, for when the header is stripped")


def _gpc(request: Request) -> bool:
    return request.headers.get("sec-gpc", "").strip() == "1"


def _svc(request: Request) -> ConsentService:
    svc: ConsentService = request.app.state.consent
    return svc


def _subject(svc: ConsentService, subject: dict[str, str] | str) -> Identity:
    if isinstance(subject, dict):
        if len(subject) != 1:
            raise BadInput(
                "subject must name exactly one identity", hint='e.g. {"email": "anna@example.com"}'
            )
        kind, value = next(iter(subject.items()))
        return svc.identity(f"{kind}={value}")
    return svc.identity(subject)  # KIND:VALUE, KIND=VALUE, or a bare email


@router.post("/v1/consents", status_code=201)
def record(body: NewConsent, request: Request, who: Who) -> dict[str, Any]:
    svc = _svc(request)
    ip = request.client.host if request.client else None
    event = svc.record(
        _subject(svc, body.subject),
        body.purpose,
        body.granted,
        notice_version=body.notice_version,
        source=body.source,
        tenant=who.tenant,
        ip=ip,
        user_agent=request.headers.get("user-agent"),
    )
    if _gpc(request):
        svc.record_gpc(_subject(svc, body.subject), tenant=who.tenant, ip=ip)
    return {
        "id": event.id,
        "purpose": event.purpose,
        "granted": event.granted,
        "notice_version": event.notice_version,
    }


@router.get("/v1/consents/check")
async def check(subject: str, purpose: str, request: Request, who: Who) -> dict[str, Any]:
    # Async on purpose: the answer almost always comes from the in-process cache, and skipping the
    # thread pool is what keeps its latency low; a cache miss reads the projection briefly.
    svc = _svc(request)
    return svc.check(_subject(svc, subject), purpose, tenant=who.tenant).to_dict()


@router.get("/v1/subjects/{key}/preferences")
def preferences(key: str, request: Request, who: Who, role: str | None = None) -> dict[str, Any]:
    svc = _svc(request)
    return {"preferences": svc.preferences(_subject(svc, key), role=role, tenant=who.tenant)}


@router.put("/v1/subjects/{key}/preferences")
def set_preferences(key: str, body: dict[str, bool], request: Request, who: Who) -> dict[str, Any]:
    svc = _svc(request)
    return {"preferences": svc.set_preferences(_subject(svc, key), body, tenant=who.tenant)}


@router.post("/v1/consents/gpc")
def gpc(body: GpcSignal, request: Request, who: Who) -> dict[str, Any]:
    """The browser's GPC signal (header or body): opt out of sale/share purposes; a no-op without it."""
    svc = _svc(request)
    if not (_gpc(request) or body.gpc):
        return {"gpc": False, "opted_out": []}
    events = svc.record_gpc(
        _subject(svc, body.subject),
        tenant=who.tenant,
        ip=request.client.host if request.client else None,
        user_agent=request.headers.get("user-agent"),
    )
    return {"gpc": True, "opted_out": [e.purpose for e in events]}


@router.get("/v1/consents/purposes")
def purposes(request: Request, who: Who, subject: str | None = None) -> dict[str, Any]:
    """The consent purposes with their current notice, for a consent dialog; per subject: ask again?"""
    svc = _svc(request)
    identity = _subject(svc, subject) if subject else None
    out = []
    for name, p in sorted(svc.dm.purposes.items()):
        if p.basis != "consent":
            continue
        notice = p.notices[-1] if p.notices else None
        item: dict[str, Any] = {
            "purpose": name,
            "description": p.description,
            "sale_or_share": p.sale_or_share,
            "notice_version": notice.version if notice else None,
            "text": notice.text if notice else "",
        }
        if identity is not None:
            item["needs_prompt"] = svc.needs_prompt(identity, name, tenant=who.tenant)
            item["allowed"] = svc.check(identity, name, tenant=who.tenant).allowed
        out.append(item)
    return {"purposes": out, "gpc": _gpc(request)}
