"""``/v1/consents`` and ``/v1/subjects/{key}/preferences``."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field

from privet.api.auth import principal
from privet.consent import ConsentService
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


def _svc(request: Request) -> ConsentService:
    svc: ConsentService = request.app.state.consent
    return svc


def _subject(svc: ConsentService, subject: dict[str, str] | str) -> Identity:
    if isinstance(subject, dict):
        if len(subject) != 1:
            from privet.errors import BadInput

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
    if request.headers.get("sec-gpc") == "1":
        svc.record_gpc(_subject(svc, body.subject), tenant=who.tenant)
    return {
        "id": event.id,
        "purpose": event.purpose,
        "granted": event.granted,
        "notice_version": event.notice_version,
    }


@router.get("/v1/consents/check")
def check(subject: str, purpose: str, request: Request, who: Who) -> dict[str, Any]:
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
