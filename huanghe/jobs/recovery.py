"""Recovery: resolve the dispatches a crash interrupted, never running a job twice; reconcile stuck jobs.

:func:`recover` runs when a process becomes leader. A job left DISPATCHED without a back-end id was claimed,
and maybe submitted, by a process that died. Its back-end is asked for the dispatch token (the back-end job
name, :meth:`~huanghe.backends.protocol.Backend.find_by_name`): found → adopted; provably never submitted →
PLACED again, to be dispatched again; unknowable → FAILED with that reason (at most once).

Only a claim older than :func:`claim_settled_s` (``max_submit_s`` + ``lease_ttl_s``) is resolved: a leader
that was deposed (a pause, a cut connection) may still be inside the back-end's ``submit()`` of a claim it
committed just before, and the back-end then answers "certainly not found" for a job it is about to create:
re-placed, the job ran twice (fencing refuses only the old leader's late commit of the back-end id, not the
back-end job). A submit lasts at most ``max_submit_s`` after its claim (each back-end enforces its declared
``submit_bound`` and the dispatcher refuses one above ``max_submit_s``: :mod:`huanghe.jobs.dispatching`), and
the old leader stops acting within ``lease_ttl_s`` of its last renewal, so an older claim's submit has returned:
the job is on the back-end to be found and adopted, or was never created. A younger claim is left for a later tick
(:meth:`~huanghe.jobs.dispatcher.Dispatcher.recover` runs again each tick while one is left). The deposed
leader does not cancel on its back-end what it submitted but could not record: the new leader may adopt that
very job (or dispatch it again under the same token), and a cancel from the old one would stop it.

:func:`reconcile_stuck` runs every tick: a job in a transitional state longer than ``stuck_after_s``
(:class:`~huanghe.jobs.settings.DispatchSettings`, seconds on the dispatcher's clock since its last state
change) is reconciled, with a ``stuck`` event saying how long it waited: DISPATCHED without a back-end id is
resolved as after a crash (above), once also older than :func:`claim_settled_s`; PLACED (never dispatched)
goes back to PENDING to be placed again, once — stuck a second time it is FAILED. Either way it stops holding
capacity.

Both lock each job from their read to their write (``SELECT ... FOR UPDATE``, as the placer does): a user's
cancel committed in between was overwritten on PostgreSQL (PLACED → PENDING wrote over its CANCELLED).
"""

from __future__ import annotations

import logging

from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.orm import Session

from huanghe.backends.protocol import Backend, BackendError
from huanghe.domain.enums import JobState
from huanghe.jobs.dispatch_context import DispatchContext, TickReport
from huanghe.jobs.models import JobEventRow, JobRow
from huanghe.jobs.settings import DispatchSettings
from huanghe.jobs.transitions import record_event, set_state

log = logging.getLogger("huanghe.broker")

#: Event kind of a job found stuck in a transitional state.
STUCK_EVENT = "stuck"


def claim_settled_s(settings: DispatchSettings) -> float:
    """Seconds after which a claim's submit has certainly returned (see the module docstring)."""
    return settings.max_submit_s + settings.lease_ttl_s


def claim_time_s(s: Session, job_id: str) -> float | None:
    """When the job's current dispatch was claimed (its latest DISPATCHED state event), None if never. Not
    ``updated_s``: a cancel request moves that."""
    t: float | None = s.scalar(
        select(func.max(JobEventRow.t_s)).where(
            JobEventRow.job_id == job_id,
            JobEventRow.kind == "state",
            JobEventRow.state == JobState.DISPATCHED.value,
        )
    )
    return t


def _locked(s: Session, job_id: str) -> JobRow | None:
    """The job, read again and locked until the caller's commit (``SELECT ... FOR UPDATE``): a cancel committed
    between a read and a write waits for the write, then applies to what was written (else it was overwritten)."""
    return s.get(JobRow, job_id, with_for_update=True, populate_existing=True)


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
            "dispatch interrupted (a restart, or a submit left unanswered) and the back-end cannot tell "
            "whether it started; "
            "not resubmitted (at most once) / 下发中断，未重复提交", now_s,
        )  # fmt: skip


def recover(ctx: DispatchContext) -> int:
    """Resolve every DISPATCHED job without a back-end id whose claim is older than :func:`claim_settled_s`,
    one commit each (younger ones are left for a later call). Returns how many were resolved."""
    now_s = ctx.clock.now_s()
    n = 0
    with ctx.sf() as s:
        ctx.topology(s, now_s)
        ids = list(
            s.scalars(
                select(JobRow.id).where(
                    _unrecorded(), JobRow.updated_s < now_s - claim_settled_s(ctx.settings)
                )
            )
        )
        for job_id in ids:
            row = _locked(s, job_id)
            if row is None or row.state != JobState.DISPATCHED.value or row.backend_job_id is not None:
                s.rollback()
                continue
            n += 1
            resolve_dispatch(ctx, s, row, now_s)
            s.commit()
    return n


def unrecorded_claims(ctx: DispatchContext) -> int:
    """How many jobs are DISPATCHED without a back-end id (resolved or not yet)."""
    with ctx.sf() as s:
        return int(s.scalar(select(func.count()).select_from(JobRow).where(_unrecorded())) or 0)


def _unrecorded() -> ColumnElement[bool]:
    """DISPATCHED without a back-end id: claimed, the submit's answer not recorded."""
    return and_(JobRow.state == JobState.DISPATCHED.value, JobRow.backend_job_id.is_(None))


def reconcile_stuck(ctx: DispatchContext, rep: TickReport) -> int:
    """Reconcile every job stuck in PLACED for longer than ``ctx.settings.stuck_after_s``, or DISPATCHED without
    a back-end id for longer than that and :func:`claim_settled_s` (see the module docstring), one commit each,
    each row locked from its read to its write. Returns how many."""
    now_s = ctx.clock.now_s()
    limit_s = ctx.settings.stuck_after_s
    claim_limit_s = max(limit_s, claim_settled_s(ctx.settings))
    n = 0
    with ctx.sf() as s:
        ids = list(
            s.scalars(
                select(JobRow.id).where(
                    or_(
                        and_(JobRow.state == JobState.PLACED.value, JobRow.updated_s < now_s - limit_s),
                        and_(_unrecorded(), JobRow.updated_s < now_s - claim_limit_s),
                    )
                )
            )
        )
        for job_id in ids:
            row = _locked(s, job_id)  # what the read saw may have changed since (a cancel, a dispatch)
            unrecorded = (
                row is not None and row.state == JobState.DISPATCHED.value and row.backend_job_id is None
            )
            row_limit_s = claim_limit_s if unrecorded else limit_s
            if (
                row is None
                or not (unrecorded or row.state == JobState.PLACED.value)
                or (row.updated_s >= now_s - row_limit_s)
            ):
                s.rollback()
                continue
            waited_s = now_s - row.updated_s
            why = f"stuck {row.state} for {waited_s:.0f} s (limit {row_limit_s:.0f} s) / 状态停滞"
            before = s.scalar(
                select(func.count()).select_from(JobEventRow)
                .where(JobEventRow.job_id == row.id, JobEventRow.kind == STUCK_EVENT)
            )  # fmt: skip
            record_event(s, row.id, now_s, STUCK_EVENT, None, why,
                         {"state": row.state, "waited_s": waited_s, "limit_s": row_limit_s})  # fmt: skip
            if unrecorded:
                resolve_dispatch(ctx, s, row, now_s)
            elif before:
                set_state(s, row, JobState.FAILED, f"{why}; already re-placed once", now_s)
            else:
                set_state(s, row, JobState.PENDING, f"re-placed: {why} / 重新调度", now_s)
            s.commit()
            n += 1
            rep.transitions += 1
    return n
