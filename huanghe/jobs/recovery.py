"""Recovery: resolve the dispatches a crash interrupted, never running a job twice; reconcile stuck jobs.

:func:`recover` runs when a process becomes leader. A job left DISPATCHED without a back-end id was claimed,
and maybe submitted, by a process that died. Its back-end is asked for the dispatch token (the back-end job
name, :meth:`~huanghe.backends.protocol.Backend.find_by_name`): found → adopted; provably never submitted →
PLACED again, to be dispatched again; unknowable → FAILED with that reason (at most once).

:func:`reconcile_stuck` runs every tick: a job in a transitional state longer than ``stuck_after_s``
(:class:`~huanghe.jobs.settings.DispatchSettings`, seconds on the dispatcher's clock since its last state
change) is reconciled, with a ``stuck`` event saying how long it waited: DISPATCHED without a back-end id is
resolved as after a crash (above); PLACED (never dispatched) goes back to PENDING to be placed again, once —
stuck a second time it is FAILED. Either way it stops holding capacity.
"""

from __future__ import annotations

import logging

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from huanghe.backends.protocol import Backend, BackendError
from huanghe.domain.enums import JobState
from huanghe.jobs.dispatch_context import DispatchContext, TickReport
from huanghe.jobs.models import JobEventRow, JobRow
from huanghe.jobs.transitions import record_event, set_state

log = logging.getLogger("huanghe.broker")

#: Event kind of a job found stuck in a transitional state.
STUCK_EVENT = "stuck"


def find_by_token(backend: Backend, token: str) -> tuple[str | None, bool]:
    """Ask ``backend`` for the dispatch named ``token``: (back-end job id or None, certain).

    ``certain`` False means the back-end cannot tell whether the job was submitted (it lacks
    :attr:`~huanghe.backends.protocol.Capability.FIND_BY_NAME`, or could not be asked). A back-end that
    raises instead of answering is treated as uncertain, so recovery never guesses.
    """
    try:
        return backend.find_by_name(token)
    except BackendError as exc:
        log.warning("%s: looking up %s failed: %s", backend.name, token, exc)
        return None, False


def _backend(ctx: DispatchContext, pool_id: str | None) -> Backend | None:
    try:
        return ctx.backend_for_pool(pool_id or "")
    except Exception:  # a back-end that cannot be built cannot tell anything: uncertain
        log.exception("back-end of pool %s unavailable", pool_id)
        return None


def resolve_dispatch(ctx: DispatchContext, s: Session, row: JobRow, now_s: float) -> None:
    """Resolve one DISPATCHED job without a back-end id (see the module docstring); the caller commits."""
    be = _backend(ctx, row.pool_id)
    token = row.dispatch_token or ""
    found, certain = (None, False) if be is None else find_by_token(be, token)
    if found:
        row.backend_job_id = found
        row.updated_s = now_s
        record_event(s, row.id, now_s, "recovered", None, f"found {token} on {be.name if be else '?'}",
                     {"backend_job_id": found})  # fmt: skip
    elif certain:
        row.attempt -= 1
        row.dispatch_token = None
        set_state(s, row, JobState.PLACED, "dispatch interrupted before submission; again", now_s)
    else:
        set_state(
            s, row, JobState.FAILED,
            "dispatch interrupted by a restart and the back-end cannot tell whether it started; "
            "not resubmitted (at most once) / 下发中断，未重复提交", now_s,
        )  # fmt: skip


def recover(ctx: DispatchContext) -> int:
    """Resolve every DISPATCHED job without a back-end id, one commit each. Returns how many there were."""
    now_s = ctx.clock.now_s()
    n = 0
    with ctx.sf() as s:
        ctx.topology(s, now_s)
        rows = list(
            s.scalars(
                select(JobRow).where(
                    JobRow.state == JobState.DISPATCHED.value, JobRow.backend_job_id.is_(None)
                )
            )
        )
        for row in rows:
            n += 1
            resolve_dispatch(ctx, s, row, now_s)
            s.commit()
    return n


def reconcile_stuck(ctx: DispatchContext, rep: TickReport) -> int:
    """Reconcile every job stuck in PLACED, or DISPATCHED without a back-end id, for longer than
    ``ctx.settings.stuck_after_s`` (see the module docstring), one commit each. Returns how many."""
    now_s = ctx.clock.now_s()
    limit_s = ctx.settings.stuck_after_s
    with ctx.sf() as s:
        rows = list(
            s.scalars(
                select(JobRow).where(
                    or_(
                        JobRow.state == JobState.PLACED.value,
                        and_(JobRow.state == JobState.DISPATCHED.value, JobRow.backend_job_id.is_(None)),
                    ),
                    JobRow.updated_s < now_s - limit_s,
                )
            )
        )
        for row in rows:
            waited_s = now_s - row.updated_s
            why = f"stuck {row.state} for {waited_s:.0f} s (limit {limit_s:.0f} s) / 状态停滞"
            before = s.scalar(
                select(func.count()).select_from(JobEventRow)
                .where(JobEventRow.job_id == row.id, JobEventRow.kind == STUCK_EVENT)
            )  # fmt: skip
            record_event(s, row.id, now_s, STUCK_EVENT, None, why,
                         {"state": row.state, "waited_s": waited_s, "limit_s": limit_s})  # fmt: skip
            if row.state == JobState.DISPATCHED.value:
                resolve_dispatch(ctx, s, row, now_s)
            elif before:
                set_state(s, row, JobState.FAILED, f"{why}; already re-placed once", now_s)
            else:
                set_state(s, row, JobState.PENDING, f"re-placed: {why} / 重新调度", now_s)
            s.commit()
            rep.transitions += 1
    return len(rows)
