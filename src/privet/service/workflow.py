"""The request workflow: received -> verified -> approved -> running -> completed (or rejected, failed).

Every step is kept in the request's history and in the audit log. The subject's
identity is stored encrypted; the verification code only as a hash.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import secrets
import uuid
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy.orm import Session

from privet import audit
from privet.datamap import DataMap
from privet.detection.operators import Decrypt, Encrypt
from privet.errors import BadInput, Conflict, NotFound, VerificationFailed
from privet.identity import Identity, normalize
from privet.protection import derive_key
from privet.service import mail, webhooks
from privet.service.deadlines import add_months, at_risk, legal_due
from privet.service.models import RequestEvent, SubjectRequest, Tenant
from privet.service.runner import Runner
from privet.service.tenants import Principal
from privet.settings import Settings
from privet.state import StateDB
from privet.state.db import utcnow

TYPES = ("access", "portability", "erasure", "rectification", "restriction", "objection")
CODE_MINUTES = 30
MAX_ATTEMPTS = 5
MAX_RESENDS = 3


def _aware(v: dt.datetime) -> dt.datetime:
    return v if v.tzinfo else v.replace(tzinfo=dt.UTC)


class RequestService:
    def __init__(self, settings: Settings, dm: DataMap, state: StateDB, runner: Runner) -> None:
        self.settings = settings
        self.dm = dm
        self.state = state
        self.runner = runner
        master = settings.master_key()
        self._seal_key = derive_key(master, "requests")
        self._export_key = derive_key(master, "exports")
        self._link_key = derive_key(master, "links")

    # -- intake ----------------------------------------------------------------------

    def create(
        self,
        principal: Principal,
        rtype: str,
        subject: dict[str, str],
        *,
        tenant: str | None = None,
        changes: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        if rtype not in TYPES:
            raise BadInput(
                f"unknown request type '{rtype}'", value=rtype, hint=f"use one of {', '.join(TYPES)}"
            )
        if len(subject) != 1:
            raise BadInput(
                "subject must name exactly one identity", hint='e.g. {"email": "anna@example.com"}'
            )
        kind, value = next(iter(subject.items()))
        identity = Identity(kind, normalize(kind, str(value), self.dm.default_region))
        owner = principal.tenant if not principal.is_operator else tenant
        now = utcnow()
        code = f"{secrets.randbelow(10**6):06d}"
        rid = str(uuid.uuid4())
        with self.state.session() as s:
            owner_row = s.get(Tenant, owner) if owner else None
            sla = owner_row.sla_days if owner_row else None
            payload = json.dumps({"kind": identity.kind, "value": identity.value, "changes": changes or {}})
            s.add(
                SubjectRequest(
                    id=rid,
                    tenant=owner,
                    type=rtype,
                    subject_sealed=Encrypt(self._seal_key).apply(payload),
                    status="received",
                    received_at=now,
                    due_at=legal_due(now),
                    sla_due_at=now + dt.timedelta(days=sla) if sla else None,
                    code_hash=self._code_hash(rid, code),
                    code_expires=now + dt.timedelta(minutes=CODE_MINUTES),
                    attempts=0,
                )
            )
            self._event(s, rid, principal.actor, "received", None, owner)
        if identity.kind == "email":
            self._mail_code(identity.value, rtype, code)
        return self.get(principal, rid)

    def _mail_code(self, to: str, rtype: str, code: str) -> None:
        mail.send(
            self.settings,
            to,
            "Confirm your privacy request",
            f"Someone asked for the {rtype} of the personal data held about this address.\n"
            f"If it was you, confirm with this code:\n\n{code}\n\n"
            f"The code expires in {CODE_MINUTES} minutes. If it was not you, ignore this message.\n",
        )

    def resend(self, rid: str) -> dict[str, Any]:
        """A new code to the address the request was filed for (the old one stops working):
        at most ``MAX_RESENDS`` times, not within ``PRIVET_CODE_RESEND_SECONDS`` of the last;
        wrong attempts still count."""
        with self.state.session() as s:
            req = _awaiting_code(s, rid)
            if req.resends >= MAX_RESENDS:
                raise VerificationFailed(
                    f"the code was already sent again {MAX_RESENDS} times", hint="file a new request"
                )
            sent_at = (
                _aware(req.code_expires) - dt.timedelta(minutes=CODE_MINUTES) if req.code_expires else None
            )
            pause = self.settings.code_resend_seconds
            wait = pause - (utcnow() - sent_at).total_seconds() if sent_at else 0
            if wait > 0:
                raise Conflict(
                    f"a code was sent less than {pause} s ago; try again in {int(wait) + 1} s",
                    hint="look for the last mail first, also in the spam folder",
                )
            payload = json.loads(Decrypt(self._seal_key).apply(req.subject_sealed))
            code = f"{secrets.randbelow(10**6):06d}"
            req.code_hash = self._code_hash(rid, code)
            req.code_expires = utcnow() + dt.timedelta(minutes=CODE_MINUTES)
            req.resends += 1
            left = MAX_RESENDS - req.resends
            rtype, tenant = req.type, req.tenant
            audit.record(
                s, "request.code_resent", target=f"request:{rid}", tenant=tenant, details={"left": left}
            )
        if payload["kind"] == "email":
            self._mail_code(payload["value"], rtype, code)
        return {"id": rid, "status": "received", "resends_left": left}

    def _code_hash(self, rid: str, code: str) -> str:
        return hashlib.sha256(f"{rid}:{code}".encode()).hexdigest()

    def verify(self, rid: str, code: str) -> dict[str, Any]:
        """The subject proves the address is theirs; wrong codes are counted and lock the request."""
        with self.state.session() as s:
            req = _awaiting_code(s, rid)
            if req.attempts >= MAX_ATTEMPTS:
                raise VerificationFailed(
                    "too many wrong codes; the request is locked", hint="file a new request to get a new code"
                )
            if req.code_expires is None or _aware(req.code_expires) < utcnow():
                raise VerificationFailed("the code has expired", hint="file a new request to get a new code")
            if not hmac.compare_digest(req.code_hash or "", self._code_hash(rid, code.strip())):
                # Counted in this transaction, which commits before the error is raised.
                req.attempts += 1
                left = MAX_ATTEMPTS - req.attempts
                audit.record(
                    s,
                    "request.code_wrong",
                    target=f"request:{rid}",
                    tenant=req.tenant,
                    details={"attempts": req.attempts},
                )
                wrong = VerificationFailed(
                    "wrong code", hint=f"{left} attempts left" if left else "request locked"
                )
            else:
                wrong = None
                req.status, req.code_hash = "verified", None
                self._event(s, rid, "subject", "verified", None, req.tenant)
                owner = s.get(Tenant, req.tenant) if req.tenant else None
                auto = owner is not None and req.type in owner.auto_approve.split(",")
        if wrong is not None:
            raise wrong
        if auto:
            self._approve(rid, "auto-approval")
        return {"id": rid, "status": "approved" if auto else "verified"}

    # -- decisions -------------------------------------------------------------------

    def _visible(self, s: Session, principal: Principal, rid: str) -> SubjectRequest:
        req = s.get(SubjectRequest, rid)
        if req is None or not principal.may_see(req.tenant):
            raise NotFound("no such request", value=rid)  # another tenant's request looks just like none
        return req

    def approve(self, principal: Principal, rid: str) -> dict[str, Any]:
        with self.state.session() as s:
            req = self._visible(s, principal, rid)
            if req.status != "verified":
                raise Conflict(
                    f"only a verified request can be approved; this one is {req.status}", value=req.status
                )
        self._approve(rid, principal.actor)
        return self.get(principal, rid)

    def _approve(self, rid: str, actor: str) -> None:
        with self.state.session() as s:
            req = s.get(SubjectRequest, rid)
            assert req is not None
            req.status = "approved"
            self._event(s, rid, actor, "approved", None, req.tenant)
        self.runner.submit("request.run", rid)

    def reject(self, principal: Principal, rid: str, reason: str) -> dict[str, Any]:
        if not reason.strip():
            raise BadInput("a rejection needs a reason", hint='send {"reason": "…"}')
        with self.state.session() as s:
            req = self._visible(s, principal, rid)
            if req.status in ("running", "completed", "rejected"):
                raise Conflict(f"the request is already {req.status}", value=req.status)
            req.status = "rejected"
            self._event(s, rid, principal.actor, "rejected", reason, req.tenant)
        return self.get(principal, rid)

    def extend(self, principal: Principal, rid: str, reason: str, months: int = 2) -> dict[str, Any]:
        """Art. 12(3): up to two more months, with a reason given to the subject."""
        if not reason.strip():
            raise BadInput("an extension needs a reason", hint='send {"reason": "…", "months": 1 or 2}')
        if months not in (1, 2):
            raise BadInput(f"an extension is 1 or 2 months, not {months}", value=months)
        with self.state.session() as s:
            req = self._visible(s, principal, rid)
            if req.status in ("completed", "rejected", "failed"):
                raise Conflict(f"the request is already {req.status}", value=req.status)
            req.due_at = add_months(_aware(req.received_at), 1 + months)
            self._event(
                s, rid, principal.actor, req.status, f"extended by {months} month(s): {reason}", req.tenant
            )
        return self.get(principal, rid)

    # -- execution -------------------------------------------------------------------

    def run(self, rid: str) -> None:
        """Execute an approved request (idempotent: a completed request is left alone)."""
        from privet import requests as lib

        with self.state.session() as s:
            req = s.get(SubjectRequest, rid, with_for_update=True)
            if req is None or req.status not in ("approved", "running"):
                return
            req.status = "running"
            self._event(s, rid, "worker", "running", None, req.tenant)
            payload = json.loads(Decrypt(self._seal_key).apply(req.subject_sealed))
            rtype, tenant = req.type, req.tenant
        identity = Identity(payload["kind"], payload["value"])
        try:
            result: dict[str, Any]
            export_path = None
            if rtype in ("access", "portability"):
                tmp = self.settings.exports_dir / f"{rid}.zip"
                tmp.parent.mkdir(parents=True, exist_ok=True)
                res = lib.access(self.dm, self.settings, identity, out=tmp, tenant=tenant)
                export_path = self._seal_file(tmp)
                result = res.to_dict() | {"out": None}
            elif rtype == "erasure":
                result = lib.erase(
                    self.dm, self.settings, identity, tenant=tenant, actor="worker", state=self.state
                ).to_dict()
            elif rtype == "rectification":
                result = lib.rectify(
                    self.dm, self.settings, identity, payload["changes"], tenant=tenant, state=self.state
                )
            elif rtype == "restriction":
                result = lib.restrict(self.dm, self.settings, identity, tenant=tenant, state=self.state)
            else:
                result = lib.object_to(self.dm, self.settings, identity, tenant=tenant, state=self.state)
            status, reason = "completed", None
        except Exception as exc:  # the job fails visibly; the request keeps its history
            result, status, reason = {"error": type(exc).__name__}, "failed", str(exc)[:400]
        with self.state.session() as s:
            req = s.get(SubjectRequest, rid)
            assert req is not None
            # The stored result carries counts only: the identity stays sealed in subject_sealed.
            result = {k: v for k, v in result.items() if k not in ("subject", "leftovers")}
            req.status, req.result = status, json.dumps(result, default=str)
            if export_path is not None:
                req.export_path = str(export_path)
                req.export_expires = utcnow() + dt.timedelta(days=self.settings.export_ttl_days)
            self._event(s, rid, "worker", status, reason, req.tenant)
        self.purge_expired_exports()  # housekeeping rides on every job
        if status == "completed" and rtype in ("erasure", "rectification", "restriction"):
            # Recipients of the data learn of it (Art. 19); counts only, no personal data.
            webhooks.notify(
                self.state,
                tenant,
                rid,
                f"request.{rtype}.completed",
                {"type": rtype, "tables": len(result.get("tables", {}) or {})},
            )

    def _seal_file(self, path: Path) -> Path:
        """Exports are kept encrypted at rest (AES-GCM), the clear zip removed."""
        nonce = secrets.token_bytes(12)
        sealed = path.with_suffix(".zip.enc")
        sealed.write_bytes(nonce + AESGCM(self._export_key).encrypt(nonce, path.read_bytes(), b"export"))
        path.unlink()
        return sealed

    def export(self, rid: str, *, principal: Principal | None = None, token: str | None = None) -> bytes:
        """The export, to the tenant or to whoever holds a valid signed link, until it expires."""
        with self.state.session() as s:
            req = s.get(SubjectRequest, rid)
            ok = req is not None and (
                (principal is not None and principal.may_see(req.tenant))
                or (token is not None and hmac.compare_digest(token, self.link_token(rid)))
            )
            if req is None or not ok:
                raise NotFound("no such export", value=rid)
            if not req.export_path or req.export_expires is None:
                raise NotFound("the export is not ready", value=rid)
            if _aware(req.export_expires) < utcnow():
                raise NotFound("the export has expired", value=rid, hint="file a new access request")
            blob = Path(req.export_path).read_bytes()
        return AESGCM(self._export_key).decrypt(blob[:12], blob[12:], b"export")

    def purge_expired_exports(self, now: dt.datetime | None = None) -> int:
        """Delete export files past their expiry (default 7 days); returns how many went."""
        when = now or utcnow()
        gone = 0
        with self.state.session() as s:
            rows = s.execute(
                sa.select(SubjectRequest).where(SubjectRequest.export_path.is_not(None))
            ).scalars()
            for req in rows:
                if req.export_expires is not None and _aware(req.export_expires) < when:
                    Path(req.export_path or "").unlink(missing_ok=True)
                    req.export_path = None
                    self._event(s, req.id, "worker", req.status, "export deleted after expiry", req.tenant)
                    gone += 1
        return gone

    def housekeeping(self, now: str | None = None) -> dict[str, int]:
        """The periodic job: delete expired exports and mail deadline reminders."""
        when = dt.datetime.fromisoformat(now) if now else utcnow()
        when = _aware(when)
        return {"exports_deleted": self.purge_expired_exports(when), "reminders": self.send_reminders(when)}

    def send_reminders(self, now: dt.datetime | None = None) -> int:
        """Mail the controller about each open request that is at risk or overdue, at most once a
        day per request: to the tenant's contact address, else to ``PRIVET_REMINDER_EMAIL``.
        The mail names the request, its type and its deadline; never the subject."""
        when = _aware(now or utcnow())
        sent = 0
        with self.state.session() as s:
            contacts = {t.id: t.contact_email for t in s.execute(sa.select(Tenant)).scalars()}
            open_rows = s.execute(
                sa.select(SubjectRequest).where(
                    SubjectRequest.status.not_in(("completed", "rejected", "failed"))
                )
            ).scalars()
            due: list[tuple[SubjectRequest, str, str]] = []
            for req in open_rows:
                deadline = (
                    min(_aware(req.due_at), _aware(req.sla_due_at)) if req.sla_due_at else _aware(req.due_at)
                )
                if when > deadline:
                    state = "overdue"
                elif at_risk(_aware(req.received_at), deadline, when):
                    state = "at risk"
                else:
                    continue
                to = contacts.get(req.tenant or "") or self.settings.reminder_email
                if not to:
                    continue
                last = s.execute(
                    sa.select(sa.func.max(RequestEvent.at)).where(
                        RequestEvent.request_id == req.id, RequestEvent.reason.like("reminder mailed%")
                    )
                ).scalar()
                if last is not None and when - _aware(last) < dt.timedelta(hours=23):
                    continue
                due.append((req, state, to))
            console = self.settings.public_url.rstrip("/")
            for req, state, to in due:
                mail.send(
                    self.settings,
                    to,
                    f"Privacy request {req.id[:8]} is {state}",
                    f"The {req.type} request {req.id} received {_aware(req.received_at):%Y-%m-%d} "
                    f"is {state}.\nStatus: {req.status}. Deadline: {_aware(req.due_at):%Y-%m-%d}"
                    + (f" (your service level: {_aware(req.sla_due_at):%Y-%m-%d})" if req.sla_due_at else "")
                    + f".\n\nOpen it in the console: {console}/console/requests/{req.id}\n",
                )
                s.add(
                    RequestEvent(
                        request_id=req.id,
                        at=when,
                        actor="worker",
                        status=req.status,
                        reason=f"reminder mailed: {state}",
                    )
                )
                audit.record(
                    s,
                    "request.reminded",
                    actor="worker",
                    tenant=req.tenant,
                    target=f"request:{req.id}",
                    details={"state": state},
                )
                sent += 1
        return sent

    def resume_open(self) -> int:
        """Submit again every approved or running request (after a restart of the in-process
        worker, whose queue did not survive); the job is idempotent."""
        with self.state.session() as s:
            ids = list(
                s.execute(
                    sa.select(SubjectRequest.id).where(SubjectRequest.status.in_(("approved", "running")))
                ).scalars()
            )
        for rid in ids:
            self.runner.submit("request.run", rid)
        return len(ids)

    def link_token(self, rid: str) -> str:
        return hmac.new(self._link_key, rid.encode(), hashlib.sha256).hexdigest()

    # -- reading ---------------------------------------------------------------------

    def get(self, principal: Principal, rid: str) -> dict[str, Any]:
        with self.state.session() as s:
            req = self._visible(s, principal, rid)
            history = (
                s.execute(
                    sa.select(RequestEvent).where(RequestEvent.request_id == rid).order_by(RequestEvent.id)
                )
                .scalars()
                .all()
            )
            return self._view(req) | {
                "history": [
                    {"at": h.at.isoformat(), "actor": h.actor, "status": h.status, "reason": h.reason}
                    for h in history
                ]
            }

    def list(
        self,
        principal: Principal,
        *,
        status: str | None = None,
        overdue: bool | None = None,
        at_risk_only: bool | None = None,
    ) -> list[dict[str, Any]]:
        stmt = sa.select(SubjectRequest).order_by(SubjectRequest.due_at)
        if not principal.is_operator:
            stmt = stmt.where(SubjectRequest.tenant == principal.tenant)
        if status:
            stmt = stmt.where(SubjectRequest.status == status)
        with self.state.session() as s:
            rows = [self._view(r) for r in s.execute(stmt).scalars()]
        if overdue is not None:
            rows = [r for r in rows if r["overdue"] == overdue]
        if at_risk_only:
            rows = [r for r in rows if r["at_risk"]]
        return rows

    def _view(self, req: SubjectRequest) -> dict[str, Any]:
        now = utcnow()
        open_ = req.status not in ("completed", "rejected", "failed")
        due = min(_aware(req.due_at), _aware(req.sla_due_at)) if req.sla_due_at else _aware(req.due_at)
        return {
            "id": req.id,
            "type": req.type,
            "tenant": req.tenant,
            "status": req.status,
            "received_at": _aware(req.received_at).isoformat(),
            "due_at": _aware(req.due_at).isoformat(),
            "sla_due_at": _aware(req.sla_due_at).isoformat() if req.sla_due_at else None,
            "overdue": open_ and now > due,
            "at_risk": open_ and at_risk(_aware(req.received_at), due, now),
            "result": json.loads(req.result) if req.result else None,
            "export_ready": bool(req.export_path),
        }

    def _event(
        self, s: Any, rid: str, actor: str, status: str, reason: str | None, tenant: str | None
    ) -> None:
        s.add(RequestEvent(request_id=rid, at=utcnow(), actor=actor, status=status, reason=reason))
        audit.record(
            s,
            f"request.{status}",
            actor=actor,
            tenant=tenant,
            target=f"request:{rid}",
            details={"reason": reason} if reason else {},
        )


def _awaiting_code(s: Session, rid: str) -> SubjectRequest:
    """The request, locked for this transaction, while it waits for the subject's code."""
    req = s.get(SubjectRequest, rid, with_for_update=True)
    if req is None:
        raise NotFound("no such request", value=rid)
    if req.status != "received":
        raise Conflict(f"the request is {req.status}, not waiting for a code", value=req.status)
    return req
