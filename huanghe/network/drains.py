"""Draining pools (排空维护): an operator takes a pool of one of their centers out of placement and resumes it.

A drained pool keeps its jobs (they run to their end) but the placement loop gives it no new ones: the live
snapshot's ``pool_open`` mask is False for it (:meth:`huanghe.broker.snapshot.NetworkSnapshot.with_pool_open`),
so the broker's ``unhealthy`` filter removes it and a job that only that pool could run waits (PENDING) until
it is resumed. Draining and resuming are audited as every API mutation is (method, path, actor). Who may drain which pool is the policy table's business
(operators: pools of their own centers; admins: any).
"""

from __future__ import annotations

import time

from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from huanghe.network.models import PoolDrainRow, PoolRow
from huanghe.network.service import center_of_pool


class DrainRequest(BaseModel):
    """Why the pool is drained (shown to operators and in the audit trail)."""

    reason: str = Field(default="", max_length=500, pattern=r"^[^\x00-\x1f]*$")


class PoolState(BaseModel):
    """Whether a pool takes new jobs: ``draining`` with ``reason``, ``by`` and ``since_s`` (epoch seconds)."""

    pool: str
    center: str
    draining: bool
    reason: str = ""
    by: str = ""
    since_s: float | None = None


def _state(row: PoolDrainRow | None, pool_id: str, center: str) -> PoolState:
    if row is None:
        return PoolState(pool=pool_id, center=center, draining=False)
    return PoolState(pool=pool_id, center=center, draining=True, reason=row.reason, by=row.by,
                     since_s=row.since_s)  # fmt: skip


def drain(
    session: Session, pool_id: str, body: DrainRequest, *, actor: str, now: float | None = None
) -> PoolState:
    """Drain ``pool_id`` (again: the reason is replaced); NotFoundError for an unknown pool. Commits."""
    center = center_of_pool(session, pool_id)
    at = time.time() if now is None else now
    row = session.get(PoolDrainRow, pool_id)
    if row is None:
        row = PoolDrainRow(pool_id=pool_id, reason=body.reason, by=actor[:200], since_s=at)
        session.add(row)
    else:
        row.reason, row.by = body.reason, actor[:200]
    session.commit()
    return _state(row, pool_id, center)


def resume(session: Session, pool_id: str) -> PoolState:
    """Resume ``pool_id`` (a pool that is not drained stays as it is); NotFoundError for an unknown pool."""
    center = center_of_pool(session, pool_id)
    row = session.get(PoolDrainRow, pool_id)
    if row is not None:
        session.delete(row)
        session.commit()
    return _state(None, pool_id, center)


def list_drains(session: Session, center: str | None = None) -> list[PoolState]:
    """The drained pools (optionally of one center), by pool id."""
    q = select(PoolDrainRow, PoolRow.center_id).join(PoolRow, PoolRow.id == PoolDrainRow.pool_id)
    if center is not None:
        q = q.where(PoolRow.center_id == center)
    return [_state(row, row.pool_id, c) for row, c in session.execute(q.order_by(PoolDrainRow.pool_id))]


def drained_pool_ids(session: Session) -> set[str]:
    """Ids of the pools taking no new jobs (read by the placement loop every round)."""
    return set(session.scalars(select(PoolDrainRow.pool_id)))
