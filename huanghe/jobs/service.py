"""Jobs use cases: submit (one or a batch, idempotent), list, show, events, cancel.

This module is the jobs domain's face for routers, the CLI and tests; each use case lives in a module named
for what it does: storing submissions in :mod:`~huanghe.jobs.submitting` (group commit in
:mod:`~huanghe.jobs.submit_queue`), reading in :mod:`~huanghe.jobs.queries`, cancelling here. Placement,
dispatch and following jobs on their back-ends happen in the dispatch loop (:mod:`huanghe.jobs.dispatcher`).
Times are epoch seconds from an injected :class:`~huanghe.core.clock.Clock` (default: the wall clock).

Cancellation works at every state: a PENDING or PLACED job is cancelled at once; a dispatched or running job
gets ``cancel_requested`` and the dispatcher ends it CANCELLED at its next tick — stopped on its back-end when it
reached one (and metered when its back-end reports it ended), at once when it never did (DISPATCHED without a
back-end id, :class:`~huanghe.jobs.following.Follower`); a terminal job is left as it is (cancelling is
idempotent). A job cancelled here never started, so it has no usage to meter and no placement to audit.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import update
from sqlalchemy.orm import Session

from huanghe.core.clock import Clock, WallClock
from huanghe.domain.enums import JobState
from huanghe.jobs.models import JobRow
from huanghe.jobs.queries import events, get_row, job_public, list_jobs, show
from huanghe.jobs.schemas import MAX_BATCH_JOBS, MAX_IDEMPOTENCY_KEY, JobBatchSubmit, JobSubmit
from huanghe.jobs.submit_queue import SubmitQueue
from huanghe.jobs.submitting import Answer, submit_jobs
from huanghe.jobs.transitions import record_event, rowcount

__all__ = [
    "MAX_BATCH_JOBS",
    "MAX_IDEMPOTENCY_KEY",
    "Answer",
    "JobBatchSubmit",
    "JobSubmit",
    "SubmitQueue",
    "cancel",
    "events",
    "get_row",
    "list_jobs",
    "show",
    "submit_jobs",
]


def cancel(
    session: Session, job_id: str, clock: Clock | None = None, viewer_tenant: str | None = None
) -> dict[str, Any]:
    """Cancel at any state (see module docstring) and commit; returns the job as it is now (env masked
    unless ``viewer_tenant`` owns it, see :func:`~huanghe.jobs.queries.job_public`)."""
    row = get_row(session, job_id)
    now_s = (clock or WallClock()).now_s()
    waiting = (JobState.PENDING.value, JobState.PLACED.value)
    done = rowcount(session.execute(
        update(JobRow)
        .where(JobRow.id == job_id, JobRow.state.in_(waiting))
        .values(state=JobState.CANCELLED.value, ended_s=now_s, updated_s=now_s, cancel_requested=True,
                message="cancelled before dispatch / 调度前已取消")
    ))  # fmt: skip
    if done:
        record_event(session, job_id, now_s, "state", JobState.CANCELLED, "cancelled by the user / 用户取消")
    else:
        session.refresh(row)
        if not JobState(row.state).terminal and not row.cancel_requested:
            session.execute(
                update(JobRow).where(JobRow.id == job_id).values(cancel_requested=True, updated_s=now_s)
            )
            record_event(session, job_id, now_s, "cancel_requested", None, "cancel requested / 已请求取消")
    session.commit()
    session.refresh(row)
    return job_public(row, now_s, viewer_tenant=viewer_tenant)
