"""Following dispatched jobs: stop those whose cancel was requested, copy back-end states into the database.

**cancel**: dispatched/running jobs with ``cancel_requested`` are cancelled on their back-end (in the
background, one call per job at a time); the job becomes CANCELLED when its back-end says so. One that never
reached a back-end (DISPATCHED without a back-end id; PENDING or PLACED, when the cancel crossed a re-queue) or
whose pool lost its back-end is CANCELLED at once, except a DISPATCHED one whose claim is younger than
:func:`~huanghe.jobs.recovery.claim_settled_s` (a deposed leader's submit may still create it: it is looked up
by name again on later ticks).
**reconcile**: back-end states of dispatched/running jobs are copied into the database (one status call per
job per ``status_interval_s``). A job that FAILED without an exit code (killed, node lost), was PREEMPTED, or
that its back-end forgot (a back-end with a history answers with the job's end instead: Slurm's ``sacct``), is
retried elsewhere (bounded); a job whose own program failed (exit code ≠ 0) is
not retried. A job that ends is metered in the same transaction (:func:`~huanghe.jobs.transitions.set_state`).
"""

from __future__ import annotations

import logging
import math
from concurrent.futures import Executor

from sqlalchemy import select
from sqlalchemy.orm import Session

from huanghe.backends.protocol import Backend, BackendError, BackendJobStatus, UnknownJobError
from huanghe.domain.enums import JobState
from huanghe.jobs.dispatch_context import DispatchContext, TickReport
from huanghe.jobs.models import JobRow
from huanghe.jobs.recovery import claim_settled_s, claim_time_s, find_by_token
from huanghe.jobs.transitions import ACTIVE_STATES, record_event, requeue, set_state

log = logging.getLogger("huanghe.broker")

_MESSAGES = {
    JobState.RUNNING: "running / 运行中",
    JobState.SUCCEEDED: "succeeded / 成功",
    JobState.CANCELLED: "cancelled / 已取消",
    JobState.DISPATCHED: "queued in the back-end / 后端排队中",
}


class Follower:
    """Cancels on back-ends (through ``executor``) and reconciles states; remembers what it asked when."""

    def __init__(self, ctx: DispatchContext, executor: Executor) -> None:
        self.ctx = ctx
        self._executor = executor
        self._cancelling: set[str] = set()
        self._polled: dict[str, float] = {}  # job id → clock time of its last back-end status

    # ---------------------------------------------------------------- cancel
    def cancel(self, rep: TickReport) -> None:
        """Stop every dispatched/running job whose cancel was requested: on its back-end when it reached one
        (in the background; the back-end's CANCELLED is copied by :meth:`reconcile`) — a job without a
        back-end id is first looked up there by its dispatch token and adopted if found —, at once when it
        never reached one or its pool has no back-end any more."""
        with self.ctx.sf() as s:
            rows = list(
                s.execute(
                    select(JobRow.id, JobRow.pool_id, JobRow.backend_job_id, JobRow.dispatch_token).where(
                        JobRow.cancel_requested.is_(True),
                        # PENDING/PLACED too: a cancel requested as the dispatcher re-queued the job (or wrote over
                        # the cancel) left it waiting with its cancel requested, never placed nor ended
                        JobRow.state.in_([st.value for st in ACTIVE_STATES] + [JobState.PENDING.value]),
                    )
                )
            )
        for job_id, pool_id, bid, token in rows:
            if job_id in self._cancelling:
                continue
            if bid is None:  # a dispatch that left no id may still have reached the back-end: ask it by name
                bid = self._adopt(job_id, pool_id, token)
                if bid is None and self._claim_in_flight(job_id):
                    continue  # a deposed leader's submit may still create it: ask again on a later tick
            be = None if bid is None else self._backend(pool_id)
            if be is None:
                self._cancel_here(job_id, bid, rep)
                continue
            self._cancelling.add(job_id)
            rep.cancelled += 1

            def run(be: Backend = be, bid: str = str(bid), job_id: str = job_id) -> None:
                try:
                    be.cancel(bid)
                except UnknownJobError:
                    pass  # reconcile finds it gone and ends it CANCELLED (cancel_requested)
                except BackendError as exc:
                    log.warning("cancel of %s failed: %s", job_id, exc)
                finally:
                    self._cancelling.discard(job_id)

            self._executor.submit(run)

    def _claim_in_flight(self, job_id: str) -> bool:
        """Whether the job is DISPATCHED without a back-end id by a claim younger than :func:`claim_settled_s`:
        the submit of a leader deposed meanwhile may still create it on its back-end (ending it CANCELLED here
        would leave that job running, unseen). The same bound as crash recovery (:mod:`huanghe.jobs.recovery`)."""
        with self.ctx.sf() as s:
            row = s.get(JobRow, job_id)
            if row is None or row.state != JobState.DISPATCHED.value or row.backend_job_id is not None:
                return False
            claimed_s = claim_time_s(s, job_id)
        if claimed_s is None:
            return False
        return self.ctx.clock.now_s() - claimed_s < claim_settled_s(self.ctx.settings)

    def _backend(self, pool_id: str | None) -> Backend | None:
        try:
            return self.ctx.backend_for_pool(pool_id or "")
        except Exception:  # a back-end that cannot be built cannot run (or stop) anything
            log.exception("back-end of pool %s unavailable", pool_id)
            return None

    def _adopt(self, job_id: str, pool_id: str | None, token: str | None) -> str | None:
        """The back-end id of the dispatch named ``token`` if the back-end has it (then stored on the job)."""
        be = self._backend(pool_id) if token else None
        found = None if be is None else find_by_token(be, str(token))[0]
        if be is None or found is None:
            return None
        with self.ctx.sf() as s:
            row = s.get(JobRow, job_id)
            if row is None or row.backend_job_id is not None or JobState(row.state).terminal:
                return None
            row.backend_job_id = found
            record_event(s, job_id, self.ctx.clock.now_s(), "recovered", None, f"found {token} on {be.name}",
                         {"backend_job_id": found})  # fmt: skip
            s.commit()
        return found

    def _cancel_here(self, job_id: str, bid: str | None, rep: TickReport) -> None:
        """End a cancelled job that no back-end runs (no back-end id, or no back-end for its pool)."""
        with self.ctx.sf() as s:
            row = s.get(JobRow, job_id)
            if row is None or JobState(row.state).terminal or row.backend_job_id != bid:
                return
            where = "before it reached its back-end" if bid is None else "its pool has no back-end"
            set_state(s, row, JobState.CANCELLED, f"cancelled {where} / 已取消", self.ctx.clock.now_s())
            s.commit()
            rep.cancelled += 1
            rep.transitions += 1

    # ---------------------------------------------------------------- reconcile
    def reconcile(self, rep: TickReport) -> None:
        """Copy the back-end state of every dispatched/running job into the database (see module docstring)."""
        ctx = self.ctx
        with ctx.sf() as s:
            rows = list(
                s.execute(
                    select(JobRow.id, JobRow.pool_id, JobRow.backend_job_id, JobRow.state).where(
                        JobRow.state.in_([JobState.DISPATCHED.value, JobState.RUNNING.value]),
                        JobRow.backend_job_id.is_not(None),
                    )
                )
            )
        now_s = ctx.clock.now_s()
        active = {r[0] for r in rows}
        for gone in [j for j in self._polled if j not in active]:
            del self._polled[gone]
        for job_id, pool_id, bid, state in rows:
            be = self._backend(pool_id)
            if be is None:
                continue
            if now_s - self._polled.get(job_id, -math.inf) < ctx.settings.status_interval_s:
                continue  # asked recently: spare the back-end (one status call per job per interval)
            self._polled[job_id] = now_s
            try:
                st = be.status(str(bid))
            except UnknownJobError as exc:
                with ctx.sf() as s:
                    row = s.get(JobRow, job_id)
                    if row is not None and row.state == state:
                        why = f" ({exc.reason})" if exc.reason else ""
                        reason = f"lost: {be.name} no longer knows job {bid}{why} / 作业丢失"
                        requeue(s, row, reason, ctx.clock.now_s())
                        rep.retried += 1
                continue
            except BackendError as exc:
                rep.errors.append(f"{job_id}: {exc}")
                continue
            if st.state.value == state and not st.terminal:
                continue
            with ctx.sf() as s:
                row = s.get(JobRow, job_id)
                if row is None or row.state != state or row.backend_job_id != bid:
                    continue
                apply_status(ctx, s, row, st, rep)


def apply_status(
    ctx: DispatchContext, s: Session, row: JobRow, st: BackendJobStatus, rep: TickReport
) -> None:
    """Copy the back-end's status ``st`` into ``row`` and commit: a job that FAILED without an exit code or was
    PREEMPTED is re-queued (bounded), an ended job gets its exit code and times and is metered."""
    now_s = ctx.clock.now_s()
    if st.started_at is not None and row.started_s is None:
        row.started_s = float(st.started_at)
    if st.state == JobState.RUNNING and row.started_s is None:
        row.started_s = now_s
    retry = st.state == JobState.PREEMPTED or (st.state == JobState.FAILED and st.exit_code is None)
    if retry and not row.cancel_requested:
        row.exit_code = st.exit_code
        reason = f"{st.state.value.lower()} on {row.pool_id}: {st.message or 'no exit code'}"
        requeue(s, row, reason, ctx.clock.now_s())
        rep.retried += 1
        return
    state = JobState.CANCELLED if st.state == JobState.PREEMPTED else st.state
    if row.state == JobState.DISPATCHED.value and st.terminal and st.started_at is not None:
        # it started and ended between two looks: the history still shows that it ran
        record_event(s, row.id, float(st.started_at), "state", JobState.RUNNING, "running / 运行中")
    if st.terminal:
        row.exit_code = st.exit_code
        if st.ended_at is not None:
            row.ended_s = float(st.ended_at)
        if row.started_s is None:
            row.started_s = row.ended_s
        if row.ended_s is not None and row.started_s is not None and row.ended_s < row.started_s:
            # our start time (a tick's clock) can be later than a back-end's end time in whole seconds:
            # a job never ends before it started, and it is metered for zero seconds, not refused
            row.ended_s = row.started_s
    msg = (
        st.message
        or _MESSAGES.get(state)
        or (f"failed, exit code {st.exit_code} / 失败" if state == JobState.FAILED else state.value)
    )
    set_state(s, row, state, msg, now_s)
    s.commit()
    rep.transitions += 1
