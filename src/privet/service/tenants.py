"""Controllers (tenants) and API keys scoped to one tenant or to the operator."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

import sqlalchemy as sa

from privet import audit
from privet.errors import BadInput, Unauthorized, UnknownName
from privet.identity import normalize
from privet.service.models import ApiKey, Tenant
from privet.state import StateDB
from privet.state.db import utcnow


@dataclass(frozen=True, slots=True)
class Principal:
    """Who calls: a tenant's key (``tenant`` set) or the operator's (every tenant)."""

    tenant: str | None
    is_operator: bool
    key_id: int
    name: str | None = None  # set for callers without a key, e.g. "privacy-center"

    @property
    def actor(self) -> str:
        if self.name:
            return self.name
        return "operator" if self.is_operator else f"tenant:{self.tenant}"

    def may_see(self, tenant: str | None) -> bool:
        return self.is_operator or (tenant is not None and tenant == self.tenant)


def add_tenant(
    db: StateDB,
    tenant_id: str,
    *,
    name: str | None = None,
    sla_days: int | None = None,
    auto_approve: str = "",
    contact_email: str | None = None,
) -> Tenant:
    if not tenant_id.strip():
        raise BadInput("a tenant id cannot be empty", hint="use the value its rows carry in tenant columns")
    if sla_days is not None and not 1 <= sla_days <= 90:
        raise BadInput(f"--sla-days {sla_days} is out of range", value=sla_days, hint="use 1 to 90 days")
    if contact_email is not None:
        contact_email = normalize("email", contact_email)  # raises BadInput on a malformed address
    with db.session() as s:
        row = s.get(Tenant, tenant_id)
        if row is None:
            row = Tenant(
                id=tenant_id,
                name=name or tenant_id,
                sla_days=sla_days,
                auto_approve=auto_approve,
                contact_email=contact_email,
                created_at=utcnow(),
            )
            s.add(row)
        else:
            row.name, row.sla_days, row.auto_approve = name or row.name, sla_days, auto_approve
            row.contact_email = contact_email or row.contact_email
        audit.record(s, "tenant.saved", actor="cli", tenant=tenant_id, details={"sla_days": sla_days})
    return row


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def create_key(db: StateDB, *, tenant: str | None = None, operator: bool = False) -> str:
    """A new key, returned once; only its hash is stored."""
    if (tenant is None) == (not operator):
        raise BadInput("a key is for one tenant (--tenant T) or for the operator (--operator)")
    with db.session() as s:
        if tenant is not None and s.get(Tenant, tenant) is None:
            raise UnknownName(
                f"tenant '{tenant}' does not exist",
                value=tenant,
                hint=f"add it first: privet tenants add {tenant}",
            )
        key = "pk_" + secrets.token_urlsafe(32)
        s.add(ApiKey(key_hash=_hash(key), tenant=tenant, operator=operator, created_at=utcnow()))
        audit.record(s, "key.created", actor="cli", tenant=tenant, details={"operator": operator})
    return key


def authenticate(db: StateDB, key: str | None) -> Principal:
    if not key:
        raise Unauthorized("an API key is required", hint="send Authorization: Bearer KEY")
    with db.session() as s:
        row = s.execute(sa.select(ApiKey).where(ApiKey.key_hash == _hash(key))).scalar_one_or_none()
    if row is None:
        raise Unauthorized("unknown API key", hint="create one with privet keys create")
    return Principal(row.tenant, row.operator, row.id)
