"""The privacy center's consent page (reached through a mailed link) and the console's overviews."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from typing import Annotated, Any
from urllib.parse import urlencode

import sqlalchemy as sa
from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from privet import audit
from privet.consent import ConsentService
from privet.consent.models import ConsentState
from privet.errors import PrivetError
from privet.protection import derive_key
from privet.retention.models import RetentionRun
from privet.service import mail
from privet.web.i18n import language, messages
from privet.web.pages import _page, _principal

router = APIRouter(include_in_schema=False)
LINK_SECONDS = 24 * 3600


def _sign(request: Request, email: str, tenant: str, exp: int) -> str:
    key = derive_key(request.app.state.settings.master_key(), "consent-link")
    return hmac.new(key, f"{email}|{tenant}|{exp}".encode(), hashlib.sha256).hexdigest()


def _valid(request: Request, email: str, tenant: str, token: str) -> bool:
    exp, _, sig = token.partition(".")
    return (
        exp.isdigit()
        and int(exp) > time.time()
        and hmac.compare_digest(sig, _sign(request, email, tenant, int(exp)))
    )


def _consent(request: Request) -> ConsentService:
    svc: ConsentService = request.app.state.consent
    return svc


def _form(request: Request, email: str, tenant: str, token: str, **extra: Any) -> HTMLResponse:
    svc = _consent(request)
    purposes = sorted((n, p) for n, p in svc.dm.purposes.items() if p.basis == "consent")
    decisions = (
        {n: svc.check(f"email={email}", n, tenant=tenant or None).allowed for n, _ in purposes}
        if token
        else {}
    )
    return _page(
        request,
        "privacy_consents.html",
        messages(request)["prefs"],
        email=email,
        tenant=tenant,
        token=token,
        purposes=purposes,
        decisions=decisions,
        **extra,
    )


@router.get("/privacy/consents", response_class=HTMLResponse)
def consents(request: Request, email: str = "", tenant: str = "", token: str = "") -> HTMLResponse:
    if token and not _valid(request, email, tenant, token):
        return _form(request, email, tenant, "", error="this link is not valid any more; ask for a new one")
    return _form(request, email, tenant, token)


@router.post("/privacy/consents/link", response_class=HTMLResponse)
def send_link(
    request: Request, email: Annotated[str, Form()], tenant: Annotated[str, Form()] = ""
) -> HTMLResponse:
    svc = _consent(request)
    try:
        identity = svc.identity(f"email={email}")
    except PrivetError as exc:
        return _form(request, email, tenant, "", error=exc.message)
    exp = int(time.time()) + LINK_SECONDS
    token = f"{exp}.{_sign(request, identity.value, tenant, exp)}"
    query = urlencode({"email": identity.value, "tenant": tenant, "token": token, "lang": language(request)})
    settings = request.app.state.settings
    mail.send(
        settings,
        identity.value,
        "Your privacy choices",
        "Open this link to see and change what you allow:\n\n"
        f"{settings.public_url}/privacy/consents?{query}\n",
    )
    return _form(request, email, tenant, "", notice=messages(request)["link_sent"])


@router.post("/privacy/consents", response_model=None)
async def save(request: Request, email: str, tenant: str = "", token: str = "") -> Response:
    if not _valid(request, email, tenant, token):
        return _form(request, email, tenant, "", error="this link is not valid any more; ask for a new one")
    granted = set((await request.form()).getlist("granted"))
    svc = _consent(request)
    ip = request.client.host if request.client else None
    for name, p in svc.dm.purposes.items():
        if p.basis != "consent":
            continue
        now_allowed = svc.check(f"email={email}", name, tenant=tenant or None).allowed
        if (name in granted) != now_allowed:
            svc.record(
                f"email={email}",
                name,
                name in granted,
                source="privacy_center",
                tenant=tenant or None,
                ip=ip,
                user_agent=request.headers.get("user-agent"),
            )
    return _form(request, email, tenant, token, notice=messages(request)["saved"])


def _bars(rows: list[tuple[str, int, int]]) -> str:
    """Granted share per purpose and notice version, as inline SVG bars."""
    if not rows:
        return "<p>no decisions yet</p>"
    out = []
    for i, (label, granted, total) in enumerate(rows):
        width = 400 * granted / total if total else 0
        out.append(
            f'<text x="0" y="{14 + i * 22}" font-size="12">{label}</text>'
            f'<rect x="220" y="{4 + i * 22}" width="400" height="14" fill="#dde3ea"/>'
            f'<rect x="220" y="{4 + i * 22}" width="{width:.0f}" height="14" fill="#1d6b2f">'
            f"<title>{granted} of {total}</title></rect>"
        )
    return (
        f'<svg role="img" aria-label="consent rates" viewBox="0 0 640 {10 + len(rows) * 22}" width="100%">'
        + "".join(out)
        + "</svg>"
    )


@router.get("/console/overview", response_class=HTMLResponse, response_model=None)
def overview(request: Request) -> Response:
    """Consent rates per purpose and notice version, retention runs, the audit chain's state."""
    session = _principal(request)
    if session is None:
        return RedirectResponse("/console/login", 303)
    state = request.app.state.state_db
    with state.session() as s:
        counts = s.execute(
            sa.select(
                ConsentState.purpose, ConsentState.notice_version, ConsentState.granted, sa.func.count()
            ).group_by(ConsentState.purpose, ConsentState.notice_version, ConsentState.granted)
        ).all()
        runs = s.execute(sa.select(RetentionRun).order_by(RetentionRun.id.desc()).limit(10)).scalars().all()
        chain = audit.verify(s)
        run_rows = [(r.at.isoformat(timespec="seconds"), json.loads(r.report)) for r in runs]
    agg: dict[str, list[int]] = {}
    for purpose, version, granted, n in counts:
        entry = agg.setdefault(f"{purpose} v{version}", [0, 0])
        entry[1] += n
        entry[0] += n if granted else 0
    bars = _bars([(k, v[0], v[1]) for k, v in sorted(agg.items())])
    svc = request.app.state.requests
    done = [svc.get(session[0], r["id"]) for r in svc.list(session[0]) if r["status"] == "completed"]
    on_time = sum(
        1
        for r in done
        if any(
            h["status"] == "completed" and h["at"] <= (r["sla_due_at"] or r["due_at"]) for h in r["history"]
        )
    )
    on_time_bar = (
        _bars([("requests answered on time", on_time, len(done))]) if done else "<p>none completed yet</p>"
    )
    html = [
        "<h2>On time</h2>",
        on_time_bar,
        "<h2>" + messages(request)["consents"] + "</h2>",
        bars,
        "<h2>" + messages(request)["retention"] + "</h2>",
        "<ul>",
    ]
    html += [
        f"<li>{at}: {rep['rows']} rows, {rep['files']} files, {rep['holds_purged']} holds purged</li>"
        for at, rep in run_rows
    ] or ["<li>none yet</li>"]
    status = "intact" if chain.ok else f"BROKEN at entry {chain.first_bad}: {chain.reason}"
    html += [
        "</ul>",
        f"<h2>{messages(request)['audit']}</h2>",
        f'<p id="audit" class="{"ok" if chain.ok else "error"}">{chain.entries} entries, {status}</p>',
    ]
    return _page(request, "console_overview.html", "Overview", content="".join(html))
