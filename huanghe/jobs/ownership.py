"""Who owns a job, for authorisation (:mod:`huanghe.api.scope_rules`): the API asks here instead of reading
job rows itself."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from huanghe.jobs.models import IdempotencyKeyRow, JobRow
from huanghe.jobs.schemas import MAX_IDEMPOTENCY_KEY
from huanghe.store.crud import get_row


def tenant_of_job(session: Session, job_id: str) -> str | None:
    """The tenant job ``job_id`` runs for (None: no tenant); :class:`NotFoundError` when there is no such job."""
    job = get_row(session, JobRow, job_id, "job")
    return job.tenant_id


def tenants_of_idempotency_key(session: Session, key: str) -> set[str | None]:
    """The tenants of the jobs an ``Idempotency-Key`` already created (empty when the key is unused)."""
    used = session.get(IdempotencyKeyRow, key[:MAX_IDEMPOTENCY_KEY])
    if used is None:
        return set()
    return set(session.scalars(select(JobRow.tenant_id).where(JobRow.id.in_(used.job_ids))))
