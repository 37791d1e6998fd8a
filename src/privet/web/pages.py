"""Server-rendered pages over the service: the privacy center and the console."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import time
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, PackageLoader, select_autoescape

from privet import audit
from privet.errors import NotFound, PrivetError
from privet.protection import derive_key
from privet.service import Principal, RequestService
from privet.service.models import ApiKey
from privet.service.tenants import authenticate
from privet.web.i18n import language, messages

router = APIRouter(include_in_schema=False)
_env = Environment(loader=PackageLoader("privet.web", "templates"), autoescape=select_autoescape())
SESSION = "privet_session"
SESSION_SECONDS = 8 * 3600


def _page(request: Request, template: str, title: str, status: int = 200, **ctx: Any) -> HTMLResponse:
    html = _env.get_template(template).render(lang=language(request), m=messages(request), title=title, **ctx)
    return HTMLResponse(html, status_code=status)


def _svc(request: Request) -> RequestService:
    svc: RequestService = request.app.state.requests
    return svc


CENTER = Principal(None, True, 0, name="privacy-center")


# -- privacy center ---------------------------------------------------------------------


@router.get("/privacy", response_class=HTMLResponse)
def privacy_form(request: Request, tenant: str = "") -> HTMLResponse:
    return _page(
        request, "privacy_form.html", messages(request)["center"], tenant=tenant, email="", rtype="access"
    )


@router.post("/privacy/requests", response_model=None)
def privacy_submit(
    request: Request,
    email: Annotated[str, Form()],
    type: Annotated[str, Form()],
    tenant: Annotated[str, Form()] = "",
) -> Response:
    svc = _svc(request)
    try:
        # Filed for the controller whose center it is; the code mailed to the address is the proof.
        view = svc.create(CENTER, type, {"email": email}, tenant=tenant or None)
    except PrivetError as exc:  # what the person typed stays in the form
        return _page(
            request,
            "privacy_form.html",
            messages(request)["center"],
            status=422,
            tenant=tenant,
            email=email,
            rtype=type,
            error=exc.message,
        )
    token = svc.link_token(view["id"])
    return RedirectResponse(f"/privacy/requests/{view['id']}?token={token}&lang={language(request)}", 303)


def _status(request: Request, rid: str, token: str, **extra: Any) -> HTMLResponse:
    svc = _svc(request)
    if not hmac.compare_digest(token, svc.link_token(rid)):
        raise NotFound("no such request", value=rid)
    req = svc.get(CENTER, rid)
    return _page(request, "privacy_status.html", messages(request)["status"], req=req, token=token, **extra)


@router.get("/privacy/requests/{rid}", response_class=HTMLResponse)
def privacy_status(request: Request, rid: str, token: str = "") -> HTMLResponse:
    return _status(request, rid, token, code="")


@router.post("/privacy/requests/{rid}/verify", response_model=None)
def privacy_verify(request: Request, rid: str, code: Annotated[str, Form()], token: str = "") -> Response:
    svc = _svc(request)
    if not hmac.compare_digest(token, svc.link_token(rid)):
        raise NotFound("no such request", value=rid)
    try:
        svc.verify(rid, code)
    except PrivetError as exc:
        page = _status(request, rid, token, code=code, error=str(exc))
        page.status_code = exc.http_status
        return page
    return RedirectResponse(f"/privacy/requests/{rid}?token={token}&lang={language(request)}", 303)


@router.post("/privacy/requests/{rid}/resend", response_model=None)
def privacy_resend(request: Request, rid: str, token: str = "") -> Response:
    svc = _svc(request)
    if not hmac.compare_digest(token, svc.link_token(rid)):
        raise NotFound("no such request", value=rid)
    try:
        svc.resend(rid)
    except PrivetError as exc:
        page = _status(request, rid, token, code="", error=exc.message)
        page.status_code = exc.http_status
        return page
    return _status(request, rid, token, code="", notice=messages(request)["resent"])


# -- console ----------------------------------------------------------------------------


def _sign(request: Request, text: str) -> str:
    key = derive_key(request.app.state.settings.master_key(), "web-session")
    return hmac.new(key, text.encode(), hashlib.sha256).hexdigest()


def _principal(request: Request) -> tuple[Principal, str] | None:
    raw = request.cookies.get(SESSION, "")
    parts = raw.split(".")
    if len(parts) != 3 or not hmac.compare_digest(parts[2], _sign(request, f"{parts[0]}.{parts[1]}")):
        return None
    if not parts[1].isdigit() or int(parts[1]) < time.time():
        return None
    with request.app.state.state_db.session() as s:
        row = s.get(ApiKey, int(parts[0]))
    if row is None:
        return None
    return Principal(row.tenant, row.operator, row.id), _sign(request, f"csrf:{raw}")


@router.get("/console/login", response_class=HTMLResponse)
def login_form(request: Request) -> HTMLResponse:
    return _page(request, "console_login.html", messages(request)["console"])


@router.post("/console/login", response_model=None)
def login(request: Request, key: Annotated[str, Form()]) -> Response:
    try:
        who = authenticate(request.app.state.state_db, key.strip())
    except PrivetError as exc:
        return _page(
            request, "console_login.html", messages(request)["console"], status=401, error=exc.message
        )
    body = f"{who.key_id}.{int(time.time()) + SESSION_SECONDS}"
    response = RedirectResponse("/console", 303)
    response.set_cookie(
        SESSION,
        f"{body}.{_sign(request, body)}",
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
        max_age=SESSION_SECONDS,
    )
    return response


def _timeline(rows: list[dict[str, Any]]) -> str:
    """Open requests as bars from receipt to deadline, now as a line: an inline SVG."""
    open_rows = [r for r in rows if r["status"] not in ("completed", "rejected", "failed")][:30]
    if not open_rows:
        return ""
    start = min(dt.datetime.fromisoformat(r["received_at"]) for r in open_rows)
    end = max(dt.datetime.fromisoformat(r["due_at"]) for r in open_rows)
    span = max((end - start).total_seconds(), 1.0)
    now = dt.datetime.now(dt.UTC)

    def x(t: dt.datetime) -> float:
        return 10 + 580 * (t - start).total_seconds() / span

    bars = []
    for i, r in enumerate(open_rows):
        color = "#a11d1d" if r["overdue"] else "#8a5a00" if r["at_risk"] else "#0b5cad"
        x0, x1 = x(dt.datetime.fromisoformat(r["received_at"])), x(dt.datetime.fromisoformat(r["due_at"]))
        bars.append(
            f'<rect x="{x0:.0f}" y="{8 + i * 14}" width="{max(x1 - x0, 2):.0f}" height="10" fill="{color}">'
            f"<title>{r['type']} due {r['due_at'][:10]}</title></rect>"
        )
    height = 16 + len(open_rows) * 14
    nx = min(max(x(now), 10), 590)
    return (
        f'<svg role="img" aria-label="deadlines" viewBox="0 0 600 {height}" width="100%">{"".join(bars)}'
        f'<line x1="{nx:.0f}" x2="{nx:.0f}" y1="0" y2="{height}" stroke="#14171a" '
        'stroke-dasharray="3"/></svg>'
    )


@router.get("/console", response_class=HTMLResponse, response_model=None)
def console(request: Request) -> Response:
    session = _principal(request)
    if session is None:
        return RedirectResponse("/console/login", 303)
    who, csrf = session
    rows = _svc(request).list(who)
    return _page(
        request,
        "console_queue.html",
        messages(request)["queue"],
        requests=rows,
        csrf=csrf,
        timeline=_timeline(rows),
    )


@router.get("/console/requests/{rid}", response_class=HTMLResponse, response_model=None)
def console_request(request: Request, rid: str) -> Response:
    """One request: its state, its full history and its entries in the audit log."""
    session = _principal(request)
    if session is None:
        return RedirectResponse("/console/login", 303)
    req = _svc(request).get(session[0], rid)
    with request.app.state.state_db.session() as s:
        trail = [
            {"seq": e.seq, "at": str(e.at)[:19], "actor": e.actor, "action": e.action, "hash": e.hash}
            for e in audit.entries_for(s, f"request:{rid}")
        ]
    return _page(request, "console_request.html", messages(request)["queue"], req=req, audit=trail)


@router.get("/console/map", response_class=HTMLResponse, response_model=None)
def console_map(request: Request) -> Response:
    if _principal(request) is None:
        return RedirectResponse("/console/login", 303)
    dm = _svc(request).dm
    return _page(request, "console_map.html", messages(request)["map"], tables=sorted(dm.tables.items()))


def _checked(request: Request, csrf: str) -> Principal:
    session = _principal(request)
    if session is None or not hmac.compare_digest(csrf, session[1]):
        raise NotFound("no such page")  # an expired session or a forged form looks like nothing
    return session[0]


@router.post("/console/requests/{rid}/approve", response_model=None)
def console_approve(request: Request, rid: str, csrf: Annotated[str, Form()]) -> Response:
    _svc(request).approve(_checked(request, csrf), rid)
    return RedirectResponse("/console", 303)


@router.post("/console/requests/{rid}/extend", response_model=None)
def console_extend(
    request: Request, rid: str, csrf: Annotated[str, Form()], reason: Annotated[str, Form()]
) -> Response:
    _svc(request).extend(_checked(request, csrf), rid, reason)
    return RedirectResponse("/console", 303)
