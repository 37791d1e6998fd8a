"""``/v1/requests``: intake, verification, decisions, state, export."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field

from privet.api.auth import principal, resolve_principal
from privet.service import Principal, RequestService

router = APIRouter(prefix="/v1/requests", tags=["requests"])
Who = Annotated[Principal, Depends(principal)]


class NewRequest(BaseModel):
    type: Literal["access", "erasure", "rectification", "restriction", "objection", "portability"]
    subject: dict[str, str] = Field(description='one identity, e.g. {"email": "anna@example.com"}')
    tenant: str | None = Field(default=None, description="for operator keys: the controller it is for")
    changes: dict[str, str] | None = Field(default=None, description="rectification: column -> new value")


class Code(BaseModel):
    code: str = Field(min_length=1, max_length=20)


class Reason(BaseModel):
    reason: str = Field(min_length=1, max_length=500)
    months: int = 2


def _svc(request: Request) -> RequestService:
    svc: RequestService = request.app.state.requests
    return svc


@router.post("", status_code=201)
def create(body: NewRequest, request: Request, who: Who) -> dict[str, Any]:
    view = _svc(request).create(who, body.type, body.subject, tenant=body.tenant, changes=body.changes)
    return {"id": view["id"], "status": view["status"], "due_at": view["due_at"]}


@router.post("/{rid}/verify")
def verify(rid: str, body: Code, request: Request) -> dict[str, Any]:
    """Called for the subject (privacy center): the code is the credential."""
    return _svc(request).verify(rid, body.code)


@router.post("/{rid}/resend")
def resend(rid: str, request: Request) -> dict[str, Any]:
    """Called for the subject (privacy center): a new code to the same address, a few times at most."""
    return _svc(request).resend(rid)


@router.post("/{rid}/approve")
def approve(rid: str, request: Request, who: Who) -> dict[str, Any]:
    return _svc(request).approve(who, rid)


@router.post("/{rid}/reject")
def reject(rid: str, body: Reason, request: Request, who: Who) -> dict[str, Any]:
    return _svc(request).reject(who, rid, body.reason)


@router.post("/{rid}/extend")
def extend(rid: str, body: Reason, request: Request, who: Who) -> dict[str, Any]:
    return _svc(request).extend(who, rid, body.reason, body.months)


@router.get("/{rid}")
def get(rid: str, request: Request, who: Who) -> dict[str, Any]:
    return _svc(request).get(who, rid)


@router.get("")
def list_(
    request: Request,
    who: Who,
    status: str | None = None,
    overdue: bool | None = None,
    at_risk: bool | None = None,
) -> dict[str, Any]:
    return {"requests": _svc(request).list(who, status=status, overdue=overdue, at_risk_only=at_risk)}


@router.get("/{rid}/export")
def export(rid: str, request: Request, token: str | None = None) -> Response:
    """The export zip, to the tenant (Bearer key) or to the holder of the signed link (?token=)."""
    who = None
    if request.headers.get("authorization"):
        who = resolve_principal(request)
    data = _svc(request).export(rid, principal=who, token=token)
    return Response(
        data,
        media_type="application/zip",
        headers={"Content-Disposition": f'attachment; filename="export-{rid}.zip"'},
    )
