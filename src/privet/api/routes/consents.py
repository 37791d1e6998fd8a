"""``/v1/consents`` and ``/v1/subjects/{key}/preferences`` (the ``/consent.js`` snippet: routes/public.py).

Global Privacy Control: a browser with GPC on sends ``Sec-GPC: 1`` with every
request; wherever that header reaches us with a subject, the person has opted
out of every purpose marked ``sale_or_share``.

Languages: the notice a person is shown (and agrees to, when no version is
named) is chosen by an explicit ``language``, else by ``Accept-Language``, else
the purpose's default language.

``GET /v1/consents/check`` is the hot path (an app asks before every send): it
takes only the request, reads its two parameters itself, answers from the
service's memory when it can (else by one indexed read, in the event loop:
shorter than a thread hop), and returns bytes serialized once per decision.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel, Field
from starlette.types import ASGIApp, Receive, Scope, Send

from privet.api.auth import principal, resolve_principal
from privet.consent import ConsentService, Decision
from privet.errors import BadInput, PrivetError
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
    language: str | None = Field(
        None,
        description="the person's language (else Accept-Language); picks the notice when no version is named",
    )


class CheckAnswer(BaseModel):
    allowed: bool
    since: str | None = Field(description="when the decision was recorded (ISO 8601), null without one")
    notice_version: str | None


class GpcSignal(BaseModel):
    subject: dict[str, str] = Field(description='one identity, e.g. {"email": "anna@example.com"}')
    gpc: bool = Field(False, description="navigator.globalPrivacyControl, for when the header is stripped")


def _gpc(request: Request) -> bool:
    return request.headers.get("sec-gpc", "").strip() == "1"


def _language(request: Request, explicit: str | None) -> str | None:
    """The explicit language, else the ``Accept-Language`` header (both may list several)."""
    return explicit or request.headers.get("accept-language") or None


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
        language=_language(request, body.language),
    )
    if _gpc(request):
        svc.record_gpc(_subject(svc, body.subject), tenant=who.tenant, ip=ip)
    return {
        "id": event.id,
        "purpose": event.purpose,
        "granted": event.granted,
        "notice_version": event.notice_version,
    }


CHECK_PATH = "/v1/consents/check"
_CHECK_PARAMETERS = [
    {
        "name": "subject",
        "in": "query",
        "required": True,
        "schema": {"type": "string", "title": "Subject"},
        "description": "KIND:VALUE or KIND=VALUE, e.g. email:anna@example.com (a bare one with @: email)",
    },
    {"name": "purpose", "in": "query", "required": True, "schema": {"type": "string", "title": "Purpose"}},
]
_BODIES: dict[Decision, bytes] = {}


def _json(content: Any) -> bytes:
    """As ``JSONResponse`` renders it."""
    return json.dumps(content, ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode()


def _body(decision: Decision) -> bytes:
    """The JSON of a decision, serialized once: cached decisions are shared objects."""
    body = _BODIES.get(decision)
    if body is None:
        if len(_BODIES) >= 100_000:
            _BODIES.clear()
        body = _BODIES[decision] = _json(decision.to_dict())
    return body


@router.get(
    CHECK_PATH,
    response_model=CheckAnswer,
    openapi_extra={"parameters": _CHECK_PARAMETERS},
    responses={
        401: {"description": "no or an unknown API key"},
        422: {"description": "bad subject or purpose"},
    },
)
async def check(request: Request) -> Response:
    """May this person be contacted for this purpose? ``{"allowed", "since", "notice_version"}``."""
    # Async on purpose, with no declared parameters or dependencies: the answer often comes from
    # memory, and FastAPI's parameter validation, response model and thread pool would cost more
    # than the answer itself. A cache miss is one indexed read of one row (measured: a thread hop
    # for it made the p99 under four concurrent clients three times worse, 5 -> 15 ms). The app
    # answers this route before routing (``CheckFirst``); this declaration documents it and
    # answers when that is not installed.
    return Response(_answer(request), media_type="application/json")


def _answer(request: Request) -> bytes:
    who = resolve_principal(request)
    query = request.query_params
    subject, purpose = query.get("subject"), query.get("purpose")
    if not subject or not purpose:
        raise BadInput(
            "subject and purpose are required",
            hint="e.g. ?subject=email:anna@example.com&purpose=marketing_email",
        )
    svc = _svc(request)
    return _body(svc.check(_subject(svc, subject), purpose, tenant=who.tenant))


class CheckFirst:
    """``GET /v1/consents/check`` answered before FastAPI's routing, dependency solving and
    exception middleware, which cost more per request than the check; everything else passes.
    Errors are answered as the app's ``PrivetError`` handler answers them."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != CHECK_PATH or scope["method"] != "GET":
            await self.app(scope, receive, send)
            return
        status = 200
        try:
            body = _answer(Request(scope))
        except PrivetError as exc:
            status, body = exc.http_status, _json(exc.to_dict())
        headers = [(b"content-length", str(len(body)).encode()), (b"content-type", b"application/json")]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})


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
def purposes(
    request: Request, who: Who, subject: str | None = None, language: str | None = None
) -> dict[str, Any]:
    """The consent purposes with the notice to show, for a consent dialog; per subject: ask again?

    The notice is the current one in ``language`` (else ``Accept-Language``), else in the
    purpose's default language; ``language`` in each item says which one it is."""
    svc = _svc(request)
    identity = _subject(svc, subject) if subject else None
    wanted = _language(request, language)
    out = []
    for name, p in sorted(svc.dm.purposes.items()):
        if p.basis != "consent":
            continue
        notice = svc.notice(name, wanted)
        item: dict[str, Any] = {
            "purpose": name,
            "description": p.description,
            "sale_or_share": p.sale_or_share,
            "marketing": p.is_marketing,
            "notice_version": notice.version if notice else None,
            "language": notice.language if notice else None,
            "text": notice.text if notice else "",
        }
        if identity is not None:
            item["needs_prompt"] = svc.needs_prompt(identity, name, tenant=who.tenant, language=wanted)
            item["allowed"] = svc.check(identity, name, tenant=who.tenant).allowed
        out.append(item)
    return {"purposes": out, "gpc": _gpc(request)}
