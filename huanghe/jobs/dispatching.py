"""Dispatching: each PLACED job goes to its pool's back-end, at most once.

Each PLACED job gets a dispatch token (``hh-<job id>-<attempt>``), committed as state DISPATCHED *before* the
back-end is called; the token is the back-end job name, so a restart finds a job that was already submitted
instead of running it twice (:mod:`huanghe.jobs.recovery`).

No dispatch leaves a zombie: a back-end that is unavailable (:class:`BackendUnavailableError`) gets the job
re-placed elsewhere once (its center excluded, the dispatch does not count as an attempt; event
``dispatch_unavailable``) and FAILED the second time; any other error — a refusal, a bad setting, an
``OSError`` such as a missing program — FAILS the job at once. Either way the error is in the job's events
(``dispatch_error``: back-end, exception type, detail) and its message, and its capacity is released.

Submit bound: recovery after a leader change (:func:`huanghe.jobs.recovery.claim_settled_s`) takes a claim
older than ``max_submit_s`` + ``lease_ttl_s`` to have no submit in flight any more. That holds because every
back-end declares how long its ``submit()`` can take (:attr:`~huanghe.backends.protocol.Backend.submit_bound`,
from its own request and command timeouts, which it enforces) and a back-end whose bound exceeds
``max_submit_s`` is refused (:func:`~huanghe.jobs.dispatch_context.submit_bound_problem`): its jobs are FAILED
before it sees them, with the pool, the back-end's settings and ``max_submit_s`` named, and the dispatcher logs
the pool as an error at its health checks (from start-up on, a pool added or changed; once per problem). The
dispatcher puts no deadline of its own on a submit: it cannot stop a submit it stops waiting for, whose job
could then appear after recovery re-placed it (run twice); only the back-end can end its own request. A
submit whose request may have created the job but got no answer in time raises
:class:`~huanghe.backends.protocol.SubmitOutcomeUnknownError`: the job stays DISPATCHED without a back-end id
(event ``submit_outcome_unknown``) and recovery resolves it by name once the claim is settled (adopted, placed
again only if the back-end is certain it never got it, else FAILED), never re-placed at once as an unavailable
back-end's job is.

Wall time: a job naming no ``time_limit_s`` runs under its pool's ``default_time_limit_s`` (Slurm DefaultTime);
one asking more than the pool's ``max_time_limit_s`` (Slurm MaxTime) is FAILED with that reason (admission
already refuses a job longer than every pool's maximum, :mod:`huanghe.network.wall_time`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from huanghe.backends.protocol import (
    TOKEN_MARKER,
    BackendError,
    BackendJobSpec,
    BackendUnavailableError,
    SubmitOutcomeUnknownError,
)
from huanghe.domain.enums import JobState
from huanghe.jobs.dispatch_context import DispatchContext, TickReport, submit_bound_problem
from huanghe.jobs.models import JobEventRow, JobRow
from huanghe.jobs.schemas import JobSubmit
from huanghe.jobs.transitions import record_event, requeue, rowcount, set_state
from huanghe.network.models import PoolRow


def dispatch_token(job_id: str, attempt: int) -> str:
    """The back-end job name of a dispatch (≤ 63 characters)."""
    return f"hh-{job_id}-{attempt}"


def backend_spec(row: JobRow, token: str, default_time_limit_s: float | None = None) -> BackendJobSpec:
    """The back-end neutral job of a stored submission, marked with its token; a job naming no
    ``time_limit_s`` gets ``default_time_limit_s`` (its pool's DefaultTime, seconds).

    The mark is a no-op shell command (``: huanghe-dispatch-token=<token>``) in front of the command, or on the
    line after the script's ``#!``, so the job's files on a back-end can be recognised after a crash.
    """
    sub = JobSubmit.model_validate(row.spec)
    mark = TOKEN_MARKER + token
    common: dict[str, Any] = {
        "name": token,
        "cpus": sub.cpus,
        "mem_gb": sub.mem_gb,
        "gpus": sub.gpus,
        "nodes": sub.nodes,
        "env": {**sub.env, "HUANGHE_PLATFORM_JOB_ID": row.id},
        "time_limit_s": sub.time_limit_s or default_time_limit_s,
        "tenant": row.tenant_id or "",
    }
    if not sub.script.strip():
        return BackendJobSpec(command=f"{mark}; {sub.command}", **common)
    body = sub.script
    shebang = "#!/bin/sh\n"
    if body.startswith("#!"):
        first, _, body = body.partition("\n")
        shebang = first + "\n"
    return BackendJobSpec(script=f"{shebang}{mark}\n{body.rstrip(chr(10))}\n", **common)


#: Event kind of a submit that may have created the job without saying so (left for recovery by name).
OUTCOME_UNKNOWN_EVENT = "submit_outcome_unknown"

#: Whether a PLACED job may be dispatched now, and the working directory to give its back-end ("" = the
#: back-end's default): :meth:`huanghe.jobs.staging.Stager.prepare` (inputs staged first).
Prepare = Callable[[JobRow], tuple[bool, str]]


def dispatch(ctx: DispatchContext, rep: TickReport, prepare: Prepare | None = None) -> None:
    """Dispatch up to ``max_batch`` PLACED jobs (priority, then age), one transaction each; with ``prepare``
    only the jobs it calls ready."""
    with ctx.sf() as s:
        ids = list(
            s.scalars(
                select(JobRow.id)
                .where(JobRow.state == JobState.PLACED.value, JobRow.cancel_requested.is_(False))
                .order_by(JobRow.priority.desc(), JobRow.submit_s)
                .limit(ctx.settings.max_batch)
            )
        )
    for job_id in ids:
        dispatch_one(ctx, job_id, rep, prepare)


def dispatch_one(ctx: DispatchContext, job_id: str, rep: TickReport, prepare: Prepare | None = None) -> None:
    """Claim the job (commit DISPATCHED + token), submit it, remember the back-end's id (commit). Any error
    of the submission ends the dispatch (see the module docstring): the job never stays DISPATCHED."""
    with ctx.sf() as s:
        row = s.get(JobRow, job_id)
        if row is None:
            return
        ready, workdir = (True, "") if prepare is None else prepare(row)
        if not ready:
            return
        try:
            be, be_error = ctx.backend_for_pool(row.pool_id or ""), ""
        except Exception as exc:  # a back-end that cannot even be built fails its jobs, not the loop
            be, be_error = None, f"{type(exc).__name__}: {exc}"
        now_s = ctx.clock.now_s()
        token = dispatch_token(row.id, row.attempt + 1)
        # 1. record the intent (commit) before the back-end sees anything
        claimed = rowcount(s.execute(
            update(JobRow)
            .where(JobRow.id == job_id, JobRow.state == JobState.PLACED.value, JobRow.cancel_requested.is_(False))
            .values(state=JobState.DISPATCHED.value, dispatch_token=token, attempt=JobRow.attempt + 1,
                    updated_s=now_s, message=f"dispatching to {row.pool_id} / 正在下发")
        ))  # fmt: skip
        if not claimed:
            s.rollback()
            return
        record_event(
            s, job_id, now_s, "state", JobState.DISPATCHED, f"dispatching as {token}", {"token": token}
        )
        s.commit()
        s.refresh(row)
        if be is None:
            why = f"pool {row.pool_id} has no back-end" + (f" ({be_error})" if be_error else "")
            fail_dispatch(s, row, "-", why, now_s)
            return
        default_s, too_long = pool_time_limit(s, row)
        too_slow = submit_bound_problem(row.pool_id, be, ctx.settings.max_submit_s)
        if too_long or too_slow:
            fail_dispatch(s, row, be.name, too_long or too_slow, now_s)
            return
        # 2. submit
        try:
            spec = replace(
                backend_spec(row, token, default_s),
                duration_s=ctx.run_estimate_s(row.pool_id, row.spec),
                workdir=workdir,
            )
            bid = be.submit(spec)
        except SubmitOutcomeUnknownError as exc:
            # the job may exist: recovery asks for it by name once no submit of this claim can be in flight
            why = f"{be.name}: submit outcome unknown, resolved by name later / 提交结果未知: {exc}"
            row.message = why[:4000]
            record_event(s, job_id, ctx.clock.now_s(), OUTCOME_UNKNOWN_EVENT, None, str(exc)[:4000],
                         {"backend": be.name, "token": token})  # fmt: skip
            s.commit()
            rep.outcome_unknown += 1
            return
        except BackendUnavailableError as exc:
            row.attempt -= 1  # nothing was submitted: this dispatch does not count
            if unavailable_retry(s, row, be.name, exc, ctx.clock.now_s()):
                rep.retried += 1
            return
        except (BackendError, ValueError) as exc:
            fail_dispatch(s, row, be.name, f"back-end {be.name} refused the job: {exc}", now_s, exc)
            return
        except Exception as exc:  # e.g. OSError from a missing program: fail, never a zombie
            why = f"dispatch to {be.name} failed: {type(exc).__name__}: {exc}"
            fail_dispatch(s, row, be.name, why, now_s, exc)
            return
        # 3. remember the back-end's id
        row.backend_job_id = bid
        row.updated_s = ctx.clock.now_s()
        record_event(
            s, job_id, row.updated_s, "dispatched", None, f"{be.name} job {bid}", {"backend_job_id": bid}
        )
        s.commit()
        rep.dispatched += 1


#: Event kind of a dispatch the back-end's unavailability sent back to placement (at most one per job).
UNAVAILABLE_EVENT = "dispatch_unavailable"


def fail_dispatch(
    s: Session, row: JobRow, backend: str, why: str, now_s: float, exc: BaseException | None = None
) -> None:
    """End a dispatch that failed: a ``dispatch_error`` event with the error, then FAILED (committed)."""
    data = {
        "backend": backend,
        "error": type(exc).__name__ if exc else None,
        "detail": str(exc)[:2000] if exc else why,
    }
    record_event(s, row.id, now_s, "dispatch_error", None, why[:4000], data)
    set_state(s, row, JobState.FAILED, why, now_s)
    s.commit()


def unavailable_retry(s: Session, row: JobRow, backend: str, exc: BaseException, now_s: float) -> bool:
    """The back-end was unavailable: re-place the job elsewhere once (its center excluded), FAIL it the second
    time (committed). Returns whether it was re-queued."""
    why = f"back-end {backend} unavailable: {exc}"
    before = s.scalar(
        select(func.count()).select_from(JobEventRow)
        .where(JobEventRow.job_id == row.id, JobEventRow.kind == UNAVAILABLE_EVENT)
    )  # fmt: skip
    if before:
        fail_dispatch(s, row, backend, f"{why}; already re-placed once / 后端不可用", now_s, exc)
        return False
    return requeue(s, row, why, now_s, kind=UNAVAILABLE_EVENT)


def pool_time_limit(s: Session, row: JobRow) -> tuple[float | None, str]:
    """(the default wall time of the job's pool, seconds; why the job asks more than the pool's maximum, or
    "")."""
    pool = s.get(PoolRow, row.pool_id) if row.pool_id else None
    if pool is None:
        return None, ""
    asked = row.spec.get("time_limit_s") or row.spec.get("duration_s")
    if asked is not None and float(asked) > pool.max_time_limit_s:
        return pool.default_time_limit_s, (
            f"asks {float(asked):.0f} s, more than the longest time limit of pool {pool.id} "
            f"({pool.max_time_limit_s:.0f} s) / 超过资源池最长运行时间"
        )
    return pool.default_time_limit_s, ""
