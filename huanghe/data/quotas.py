"""Data quotas: how many bytes a tenant may keep on one storage endpoint, or on all together (endpoint ``*``).

What a tenant uses is what its replicas occupy (the sizes of the replicas of its datasets' files, every state,
shared copies counted for each replica like Rucio's accounting) plus the declared sizes of its open uploads.
:func:`bytes_left` is what uploads and replication rules ask before they add bytes. Sizes in bytes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select, union_all
from sqlalchemy.orm import Session

from huanghe.audit import service as audit
from huanghe.core.errors import FieldError, InvalidError, NotFoundError
from huanghe.core.paging import DEFAULT_PAGE_LIMIT, Page
from huanghe.data.endpoint_schemas import ALL_ENDPOINTS, QuotaPublic, QuotaPut
from huanghe.data.models import DataFileRow, DataQuotaRow, DatasetRow, FileReplicaRow, StorageEndpointRow
from huanghe.store.base import Base
from huanghe.store.crud import check_page, commit
from huanghe.tenancy.models import TenantRow

SYSTEM = "system:data-quotas"


@dataclass(frozen=True)
class QuotaLeft:
    """What a tenant may still add, bytes: in total (None: no limit) and per endpoint id (absent: no limit);
    the same fields as the rule solver's ``Quota``."""

    total_bytes: int | None = None
    per_endpoint: dict[str, int] = field(default_factory=dict)


def tenant_usage(session: Session, tenant_id: str) -> dict[str, int]:
    """Bytes the tenant holds per endpoint (replicas of its files + its open uploads).

    ONE statement, so one snapshot: read in two (replicas, then open uploads), an upload finished between them
    (open → done, its replica added, in one commit) was in neither, and concurrent uploads to two endpoints
    passed a tenant-wide quota (PostgreSQL, READ COMMITTED: each statement sees what was committed before it)."""
    parts: list[Any] = [
        select(FileReplicaRow.endpoint_id.label("e"), FileReplicaRow.size_bytes.label("n"))
        .join(DataFileRow, DataFileRow.id == FileReplicaRow.file_id)
        .join(DatasetRow, DatasetRow.id == DataFileRow.dataset_id)
        .where(DatasetRow.tenant_id == tenant_id)
    ]
    uploads: Any = Base.metadata.tables.get("data_uploads")
    if uploads is not None:
        parts.append(
            select(uploads.c.endpoint_id.label("e"), uploads.c.size_bytes.label("n")).where(
                uploads.c.tenant_id == tenant_id, uploads.c.state == "open"
            )
        )
    held = union_all(*parts).subquery()
    return {
        str(e): int(n or 0)
        for e, n in session.execute(select(held.c.e, func.sum(held.c.n)).group_by(held.c.e))
    }


def _used(usage: dict[str, int], endpoint_id: str) -> int:
    return sum(usage.values()) if endpoint_id == ALL_ENDPOINTS else usage.get(endpoint_id, 0)


def quota_left(session: Session, tenant_id: str) -> QuotaLeft:
    """The tenant's room under each of its quotas (never below 0)."""
    usage = tenant_usage(session, tenant_id)
    total: int | None = None
    per: dict[str, int] = {}
    for row in session.scalars(select(DataQuotaRow).where(DataQuotaRow.tenant_id == tenant_id)):
        left = max(0, row.limit_bytes - _used(usage, row.endpoint_id))
        if row.endpoint_id == ALL_ENDPOINTS:
            total = left
        else:
            per[row.endpoint_id] = left
    return QuotaLeft(total_bytes=total, per_endpoint=per)


def bytes_left(session: Session, tenant_id: str, endpoint_id: str) -> int | None:
    """Bytes the tenant may still add on ``endpoint_id``: the smaller room of its quota there and of its
    quota on all endpoints; None when neither exists (no limit)."""
    q = quota_left(session, tenant_id)
    rooms = [r for r in (q.per_endpoint.get(endpoint_id), q.total_bytes) if r is not None]
    return min(rooms) if rooms else None


def _public(row: DataQuotaRow, usage: dict[str, int]) -> QuotaPublic:
    used = _used(usage, row.endpoint_id)
    return QuotaPublic(tenant=row.tenant_id, endpoint=row.endpoint_id, limit_bytes=row.limit_bytes,
                       used_bytes=used, left_bytes=max(0, row.limit_bytes - used))  # fmt: skip


def list_quotas(
    session: Session,
    *,
    tenant: str | None = None,
    endpoint: str | None = None,
    limit: int = DEFAULT_PAGE_LIMIT,
    offset: int = 0,
) -> Page[QuotaPublic]:
    """Quotas by tenant then endpoint, each with what the tenant uses under it."""
    check_page(limit, offset)
    stmt = select(DataQuotaRow)
    if tenant is not None:
        stmt = stmt.where(DataQuotaRow.tenant_id == tenant)
    if endpoint is not None:
        stmt = stmt.where(DataQuotaRow.endpoint_id == endpoint)
    total = int(session.scalar(select(func.count()).select_from(stmt.subquery())) or 0)
    rows = list(
        session.scalars(
            stmt.order_by(DataQuotaRow.tenant_id, DataQuotaRow.endpoint_id).limit(limit).offset(offset)
        )
    )
    usage = {t: tenant_usage(session, t) for t in {r.tenant_id for r in rows}}
    return Page[QuotaPublic](
        items=[_public(r, usage[r.tenant_id]) for r in rows], total=total, limit=limit, offset=offset
    )


def set_quota(
    session: Session, tenant_id: str, endpoint_id: str, body: QuotaPut, *, actor: str = SYSTEM,
    now_s: float | None = None,
) -> QuotaPublic:  # fmt: skip
    """Create or change a quota (422 naming ``tenant`` / ``endpoint`` when either does not exist). A limit
    below what is already used is stored: nothing is deleted, the tenant just cannot add more. Audited."""
    errors = []
    if session.get(TenantRow, tenant_id) is None:
        errors.append(FieldError("tenant", f"unknown tenant {tenant_id!r}"))
    if endpoint_id != ALL_ENDPOINTS and session.get(StorageEndpointRow, endpoint_id) is None:
        errors.append(FieldError("endpoint", f"unknown storage endpoint {endpoint_id!r} (or * for all)"))
    if errors:
        raise InvalidError(errors)
    row = session.get(DataQuotaRow, (tenant_id, endpoint_id))
    if row is None:
        row = DataQuotaRow(tenant_id=tenant_id, endpoint_id=endpoint_id, limit_bytes=body.limit_bytes)
        session.add(row)
    row.limit_bytes = body.limit_bytes
    audit.record(session, actor, "data_quota.set", f"{tenant_id}/{endpoint_id}",
                 {"limit_bytes": body.limit_bytes}, now=now_s)  # fmt: skip
    commit(session)
    return _public(row, tenant_usage(session, tenant_id))


def delete_quota(
    session: Session, tenant_id: str, endpoint_id: str, *, actor: str = SYSTEM, now_s: float | None = None
) -> None:
    """Remove a quota (no limit there any more); 404 when there is none. Audited."""
    row = session.get(DataQuotaRow, (tenant_id, endpoint_id))
    if row is None:
        raise NotFoundError("data quota", f"{tenant_id}/{endpoint_id}")
    session.delete(row)
    audit.record(session, actor, "data_quota.delete", f"{tenant_id}/{endpoint_id}", {}, now=now_s)
    commit(session)
