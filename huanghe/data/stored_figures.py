"""The observatory's storage figures from what is actually stored on the endpoints (not the topology's
declared ``used_tb``): bytes and capacity per tier and per medium, the advanced-storage share of stored bytes
(flash + optical, as in :mod:`huanghe.observatory.indicators`), the monthly cost per tier, and the share of
important/core data with a verified off-site copy. Lifecycle policies (tiering) are listed and set here too.
"""

from __future__ import annotations

import time

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from huanghe.audit import service as audit
from huanghe.core.errors import invalid
from huanghe.core.paging import DEFAULT_PAGE_LIMIT, Page
from huanghe.data import backup, tiering
from huanghe.data.models import LifecyclePolicyRow, StorageEndpointRow
from huanghe.domain.network import ID_PATTERN
from huanghe.store.crud import get_row, page_of
from huanghe.tenancy.models import TenantRow

#: Media that count as advanced storage (先进存储).
ADVANCED_MEDIA = ("flash", "optical")


class MediumFigure(BaseModel):
    medium: str
    stored_bytes: int
    capacity_bytes: int


class StoredStorage(BaseModel):
    """Storage as stored: per tier (with its monthly cost, fen) and per medium; ``advanced_share_stored`` is
    the share of stored bytes on flash or optical media (None when nothing is stored)."""

    endpoints: int
    endpoints_available: int
    stored_bytes: int
    capacity_bytes: int
    tiers: list[tiering.TierCost]
    media: list[MediumFigure]
    advanced_share_stored: float | None
    offsite: backup.OffsiteStatus


def stored_storage(session: Session, *, backup_scope: str = "city") -> StoredStorage:
    rows = session.execute(
        select(StorageEndpointRow.medium, func.sum(StorageEndpointRow.used_bytes),
               func.sum(StorageEndpointRow.capacity_bytes)).group_by(StorageEndpointRow.medium)
    ).all()  # fmt: skip
    media = [
        MediumFigure(medium=str(m), stored_bytes=int(u or 0), capacity_bytes=int(c or 0)) for m, u, c in rows
    ]
    stored = sum(m.stored_bytes for m in media)
    advanced = sum(m.stored_bytes for m in media if m.medium in ADVANCED_MEDIA)
    n, up = session.execute(
        select(func.count(), func.count().filter(StorageEndpointRow.available.is_(True))).select_from(
            StorageEndpointRow
        )
    ).one()
    return StoredStorage(
        endpoints=int(n), endpoints_available=int(up), stored_bytes=stored,
        capacity_bytes=sum(m.capacity_bytes for m in media), tiers=tiering.tier_costs(session),
        media=sorted(media, key=lambda m: m.medium), advanced_share_stored=None if stored == 0 else advanced / stored,
        offsite=backup.offsite_status(session, scope=backup_scope),
    )  # fmt: skip


class PolicyPut(BaseModel):
    """A lifecycle policy: copies on ``from_temperature`` not read for ``idle_s`` seconds (and at least
    ``min_age_s`` old) move to ``to_temperature``; ``tenant`` None = the province's policy."""

    model_config = ConfigDict(extra="forbid")

    tenant: str | None = Field(default=None, pattern=ID_PATTERN, max_length=64)
    from_temperature: str = Field(pattern="^(hot|warm)$")
    to_temperature: str = Field(pattern="^(warm|cold)$")
    idle_s: float = Field(gt=0, le=100 * 365 * 86400.0)
    min_age_s: float = Field(default=0.0, ge=0, le=100 * 365 * 86400.0)
    enabled: bool = True


class PolicyPublic(PolicyPut):
    id: str
    created_s: float


def _public(row: LifecyclePolicyRow) -> PolicyPublic:
    return PolicyPublic(id=row.id, tenant=row.tenant_id, from_temperature=row.from_temperature,
                        to_temperature=row.to_temperature, idle_s=row.idle_s, min_age_s=row.min_age_s,
                        enabled=row.enabled, created_s=row.created_s)  # fmt: skip


def list_policies(
    session: Session, *, tenant: str | None = None, limit: int = DEFAULT_PAGE_LIMIT, offset: int = 0
) -> Page[PolicyPublic]:
    """A page of policies by id (``tenant`` given: the province's and that tenant's)."""
    q = select(LifecyclePolicyRow)
    if tenant is not None:
        q = q.where(or_(LifecyclePolicyRow.tenant_id.is_(None), LifecyclePolicyRow.tenant_id == tenant))
    return page_of(session, q, (LifecyclePolicyRow.id,), limit, offset, _public)


def put_policy(session: Session, policy_id: str, body: PolicyPut, *, actor: str) -> PolicyPublic:
    """Create or replace a policy (committed, audited)."""
    order = tiering.TIERS
    if order.index(body.to_temperature) <= order.index(body.from_temperature):
        raise invalid("to_temperature", "must be colder than from_temperature (只能移向更冷的层)")
    if body.tenant is not None and session.get(TenantRow, body.tenant) is None:
        raise invalid("tenant", f"unknown tenant {body.tenant!r}")
    row = session.get(LifecyclePolicyRow, policy_id)
    if row is None:
        row = LifecyclePolicyRow(id=policy_id, created_s=time.time())
        session.add(row)
    row.tenant_id, row.from_temperature, row.to_temperature = (
        body.tenant,
        body.from_temperature,
        body.to_temperature,
    )
    row.idle_s, row.min_age_s, row.enabled = body.idle_s, body.min_age_s, body.enabled
    session.flush()
    audit.record(session, actor, "lifecycle.put", policy_id, body.model_dump())
    session.commit()
    return _public(row)


def delete_policy(session: Session, policy_id: str, *, actor: str) -> None:
    row = get_row(session, LifecyclePolicyRow, policy_id, "lifecycle policy")
    session.delete(row)
    audit.record(session, actor, "lifecycle.delete", policy_id, {})
    session.commit()
