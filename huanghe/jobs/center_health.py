"""Center health: ping every back-end, mark centers unhealthy, fail their jobs over elsewhere.

``health()`` of every back-end, per center; a center whose back-ends fail ``unhealthy_after`` pings in a
row is marked unhealthy (``center_health`` table), gets no new jobs (snapshot health mask), and its
placed/dispatched/running jobs are failed over: cancelled on the back-end if it answers, then re-queued with
that center excluded (bounded by the job's ``max_attempts``, each step recorded as an event). A job the
back-end says ended by itself (since the last reconcile) is not re-queued: its end is copied as the follower
would (:func:`~huanghe.jobs.following.apply_status`). Each job is locked from its last read to its write, so a
user's cancel in between is not overwritten.
"""

from __future__ import annotations

import contextlib
import logging
import math
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from huanghe.backends.protocol import Backend, BackendError, BackendJobStatus
from huanghe.domain.enums import JobState
from huanghe.jobs.backend_cache import BackendCache
from huanghe.jobs.dispatch_context import DispatchContext, TickReport
from huanghe.jobs.following import apply_status
from huanghe.jobs.models import CenterHealthRow, JobRow
from huanghe.jobs.transitions import ACTIVE_STATES, requeue

log = logging.getLogger("huanghe.broker")


def check_health(ctx: DispatchContext, rep: TickReport) -> None:
    """Ping every back-end once, store each center's health, fail over the centers that just went down; log the
    pools whose back-end the dispatcher refuses for its submit bound."""
    ctx.log_submit_bound_problems()
    now_s = ctx.clock.now_s()
    by_center: dict[str, list[tuple[bool, float, str]]] = {}
    seen: dict[str, tuple[bool, float, str]] = {}
    for pool in ctx.pool_backends():
        k = BackendCache.key(pool.backend, pool.backend_settings)
        if k not in seen:
            try:
                h = ctx.backends.get(pool.backend, pool.backend_settings).health()
                seen[k] = (h.ok, h.latency_ms, h.message)
            except BackendError as exc:
                seen[k] = (False, math.nan, str(exc))
        by_center.setdefault(pool.center_id, []).append(seen[k])
    newly_down: list[str] = []
    with ctx.sf() as s:
        rows = {r.center_id: r for r in s.scalars(select(CenterHealthRow))}
        for center, results in by_center.items():
            ok = all(r[0] for r in results)
            msg = "; ".join(sorted({r[2] for r in results if not r[0]})) or "ok"
            latency = max((r[1] for r in results if not math.isnan(r[1])), default=None)
            row = rows.get(center)
            if row is None:
                row = CenterHealthRow(center_id=center, healthy=True, failures=0, checked_s=now_s, message="")
                s.add(row)
            was_healthy = row.healthy
            row.checked_s = now_s
            row.latency_ms = latency
            row.message = msg[:2000]
            if ok:
                row.failures = 0
                row.last_ok_s = now_s
                row.healthy = True
            else:
                row.failures = (row.failures or 0) + 1
                row.healthy = row.failures < ctx.settings.unhealthy_after
            if was_healthy and not row.healthy:
                newly_down.append(center)
                log.warning("center %s unhealthy (中心不可用): %s", center, msg)
        s.commit()
    for center in newly_down:
        fail_over_center(ctx, center, rep)


def fail_over_center(ctx: DispatchContext, center: str, rep: TickReport) -> None:
    """Cancel (best effort) and re-queue elsewhere every active job of ``center``, one transaction each."""
    active = [st.value for st in ACTIVE_STATES]
    with ctx.sf() as s:
        ids = list(s.scalars(select(JobRow.id).where(JobRow.center_id == center, JobRow.state.in_(active))))
    for job_id in ids:
        with ctx.sf() as s:
            row = s.get(JobRow, job_id)
            if row is None or row.state not in active:
                continue
            bid, ended = row.backend_job_id, None
            be = ctx.backend_for_pool(row.pool_id or "")
            if be is not None and bid:
                with contextlib.suppress(Exception):
                    be.cancel(bid)  # best effort: the center may not answer at all
                # it may have ended since the last reconcile: then copied as it ended, never run again
                ended = _ended_on_its_own(be, bid)
            s.rollback()
            # locked from here to the commit, read again (not during the back-end calls above): a user's cancel
            # committed between the read and the write waits, then applies to what was written (unlocked, the
            # re-queue wrote over its CANCELLED)
            row = s.get(JobRow, job_id, with_for_update=True, populate_existing=True)
            if row is None or row.state not in active or row.backend_job_id != bid:
                continue
            if ended is not None:
                apply_status(ctx, s, row, ended, rep)
                continue
            requeue(s, row, f"center {center} unhealthy / 中心不可用", ctx.clock.now_s(), kind="failover")
            rep.failed_over += 1


def _ended_on_its_own(be: Backend, backend_job_id: str) -> BackendJobStatus | None:
    """The status of a job that ended by itself, asked AFTER the failover's cancel: a job seen CANCELLED (or
    running, or not at all) is re-queued; one that ended before the cancel reached it keeps its own end."""
    try:
        st = be.status(backend_job_id)
    except Exception:  # the center may not answer at all: re-queue
        return None
    return st if st.terminal and st.state is not JobState.CANCELLED else None


def health_rows(session: Session) -> list[dict[str, Any]]:
    """Stored center health, for the API."""
    return [
        {
            "center": r.center_id,
            "healthy": r.healthy,
            "checked_s": r.checked_s,
            "last_ok_s": r.last_ok_s,
            "failures": r.failures,
            "latency_ms": r.latency_ms,
            "message": r.message,
        }
        for r in session.scalars(select(CenterHealthRow).order_by(CenterHealthRow.center_id))
    ]
