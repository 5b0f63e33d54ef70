"""State changes of a stored job and the effects they carry, all in the caller's transaction.

Every state change the dispatcher makes goes through :func:`set_state`: it writes the state, the message,
``updated_s`` (and ``ended_s`` on a terminal state), appends a ``state`` event and, when the new state is
terminal and the job ran on a pool for a tenant (it has ``started_s``, ``ended_s``, ``pool_id`` and
``tenant_id``), meters it (:func:`huanghe.billing.service.meter_job`, idempotent per job) so the caller's
commit stores the end of a job and its usage together. Nothing here commits except :func:`requeue`.

A metering refusal (say, the pool was deleted) never fails the caller's transaction: it is logged, and
``huanghe billing meter`` (:func:`~huanghe.billing.service.meter_finished_jobs`) reports it later.
Times are epoch seconds from the caller's clock.
"""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import insert
from sqlalchemy.orm import Session

from huanghe.billing import service as billing
from huanghe.core.errors import ServiceError
from huanghe.domain.enums import JobState
from huanghe.jobs.models import JobEventRow, JobRow

log = logging.getLogger("huanghe.jobs")

#: States of a job that holds (or is about to hold) resources in a pool.
ACTIVE_STATES = (JobState.PLACED, JobState.DISPATCHED, JobState.RUNNING)


def record_event(
    session: Session,
    job_id: str,
    t_s: float,
    kind: str,
    state: JobState | None,
    message: str,
    data: dict[str, Any] | None = None,
) -> None:
    """Append one event to a job's history (not committed)."""
    session.execute(
        insert(JobEventRow),
        [{"job_id": job_id, "t_s": t_s, "kind": kind, "state": state.value if state else None,
          "message": message, "data": data}],
    )  # fmt: skip


def rowcount(result: Any) -> int:
    """Rows an UPDATE/DELETE touched (``Session.execute`` is typed as returning a plain ``Result``)."""
    return int(getattr(result, "rowcount", 0) or 0)


def set_state(s: Session, row: JobRow, state: JobState, message: str, now_s: float) -> None:
    """Move ``row`` to ``state`` with its event; a finished job that ran is metered (see module docstring)."""
    row.state = state.value
    row.message = message[:4000]
    row.updated_s = now_s
    if state.terminal and row.ended_s is None:
        row.ended_s = now_s
    record_event(s, row.id, now_s, "state", state, message[:4000])
    if state.terminal:
        meter_if_ran(s, row)


def meter_if_ran(s: Session, row: JobRow) -> None:
    """Record the usage of a finished job that ran on a pool for a tenant (nothing otherwise; not committed)."""
    if row.started_s is None or row.ended_s is None or not row.pool_id or not row.tenant_id:
        return
    try:  # meter_job validates before it adds anything, so a refusal leaves the session untouched
        billing.meter_job(
            s, job_id=row.id, tenant_id=row.tenant_id, pool_id=row.pool_id, started_s=row.started_s,
            ended_s=row.ended_s, nodes=row.nodes, cpus=row.cpus, gpus=row.gpus, mem_gb=row.mem_gb, flush=False,
        )  # fmt: skip
    except ServiceError:  # never fail the dispatcher's transaction: `huanghe billing meter` reports it
        log.exception("metering job %s failed", row.id)


def requeue(s: Session, row: JobRow, reason: str, now_s: float, kind: str = "retry") -> bool:
    """Send a job back to PENDING with its center excluded, or end it: CANCELLED when a cancel was
    requested, FAILED when its attempts are used up. Commits. Returns whether it was re-queued."""
    if row.cancel_requested:
        set_state(s, row, JobState.CANCELLED, f"cancelled ({reason})", now_s)
        s.commit()
        return False
    if row.attempt >= row.max_attempts:
        set_state(s, row, JobState.FAILED, f"{reason}; {row.attempt} attempt(s) used / 重试次数已用完", now_s)
        s.commit()
        return False
    excluded = list(row.excluded_centers or [])
    if row.center_id and row.center_id not in excluded:
        excluded.append(row.center_id)
    record_event(
        s, row.id, now_s, kind, None, reason,
        {"from_pool": row.pool_id, "from_center": row.center_id, "attempt": row.attempt},
    )  # fmt: skip
    row.excluded_centers = excluded
    row.backend_job_id = None
    row.dispatch_token = None
    row.started_s = None
    row.exit_code = None
    set_state(s, row, JobState.PENDING, f"re-queued: {reason} / 重新排队", now_s)
    s.commit()
    return True
