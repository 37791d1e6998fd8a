"""Routes for the embeddable consent dialog: no API key in the browser, a short-lived subject token."""

from __future__ import annotations

import hashlib
import hmac
import time
from importlib import resources
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field

from privet.api.auth import principal
from privet.consent import ConsentService
from privet.errors import BadInput, NotFound
from privet.protection import derive_key
from privet.service import Principal

router = APIRouter(tags=["consent"])
Who = Annotated[Principal, Depends(principal)]
TOKEN_SECONDS = 3600


class TokenRequest(BaseModel):
    subject: dict[str, str] = Field(description='one identity, e.g. {"email": "anna@example.com"}')


class Decisions(BaseModel):
    token: str
    decisions: dict[str, bool]
    language: str | None = Field(
        None, description="the language the notices were shown in (else Accept-Language, else the default)"
    )


def _svc(request: Request) -> ConsentService:
    svc: ConsentService = request.app.state.consent
    return svc


def _sign(request: Request, body: str) -> str:
    key = derive_key(request.app.state.settings.master_key(), "consent-token")
    return hmac.new(key, body.encode(), hashlib.sha256).hexdigest()


def _read(request: Request, token: str) -> tuple[str, str]:
    """(subject, tenant) of a valid token; anything else is answered like a missing page."""
    parts = token.split("|")
    if len(parts) != 4 or not parts[2].isdigit() or int(parts[2]) < time.time():
        raise NotFound("no such token")
    if not hmac.compare_digest(parts[3], _sign(request, "|".join(parts[:3]))):
        raise NotFound("no such token")
    return parts[0], parts[1]


@router.post("/v1/consents/tokens", status_code=201)
def token(body: TokenRequest, request: Request, who: Who) -> dict[str, Any]:
    """For the app's server: a token that lets this person's browser record their own choices."""
    svc = _svc(request)
    if len(body.subject) != 1:
        raise BadInput("subject must name exactly one identity", hint='e.g. {"email": "anna@example.com"}')
    kind, value = next(iter(body.subject.items()))
    identity = svc.identity(f"{kind}={value}")
    if "|" in identity.value or "|" in (who.tenant or ""):
        raise BadInput("an identity for a consent token cannot contain '|'", value=identity.value)
    payload = f"{identity.kind}={identity.value}|{who.tenant or ''}|{int(time.time()) + TOKEN_SECONDS}"
    return {"token": f"{payload}|{_sign(request, payload)}", "expires_in": TOKEN_SECONDS}


def _language(request: Request, explicit: str | None) -> str | None:
    """``?language=`` (or the body's), else the browser's ``Accept-Language``; None: the default."""
    return explicit or request.headers.get("accept-language") or None


@router.get("/v1/public/purposes")
def purposes(token: str, request: Request, language: str | None = None) -> dict[str, Any]:
    """The consent purposes for the dialog, each with its notice in the person's language: ``language``
    (a tag or an ``Accept-Language`` value), else the ``Accept-Language`` header, else the purpose's
    default language; ``language`` and ``notice_version`` in each item say which notice it is."""
    subject, tenant = _read(request, token)
    svc = _svc(request)
    wanted = _language(request, language)
    out = []
    for name, p in sorted(svc.dm.purposes.items()):
        if p.basis == "consent":
            notice = svc.notice(name, wanted)
            out.append(
                {
                    "name": name,
                    "text": notice.text if notice else p.description,
                    "language": notice.language if notice else None,
                    "notice_version": notice.version if notice else None,
                    "allowed": svc.check(subject, name, tenant=tenant or None).allowed,
                }
            )
    return {"purposes": out}


@router.post("/v1/public/consents", status_code=201)
def decide(body: Decisions, request: Request) -> dict[str, Any]:
    subject, tenant = _read(request, body.token)
    svc = _svc(request)
    ip = request.client.host if request.client else None
    wanted = _language(request, body.language)  # the decision is on the notice shown in it
    for name, granted in sorted(body.decisions.items()):
        svc.record(
            subject,
            name,
            granted,
            source="banner",
            tenant=tenant or None,
            ip=ip,
            user_agent=request.headers.get("user-agent"),
            language=wanted,
        )
    if request.headers.get("sec-gpc") == "1":
        svc.record_gpc(subject, tenant=tenant or None)
    return {"recorded": len(body.decisions)}


@router.get("/consent.js", include_in_schema=False)
def snippet() -> Response:
    js = resources.files("privet.web").joinpath("static/consent.js").read_text(encoding="utf-8")
    return Response(
        js,
        media_type="text/javascript",
        headers={"Cache-Control": "public, max-age=300", "Access-Control-Allow-Origin": "*"},
    )
