"""Why a job has not started yet, and until when: the scheduling report of a PENDING or PLACED job.

A PENDING job waits for the placer, which takes up to ``max_batch`` PENDING jobs per tick (every
``interval_s`` seconds) in the order priority (high first), submission time, id
(:class:`~huanghe.jobs.placing.Placer`): its place in that queue says when it is looked at next. A job the
broker looked at and could not place yet (unhealthy or excluded centers, a whole-cycle policy that holds it
for a greener hour or waits for a busy better pool) has an ``unplaced`` event whose data is the broker's
explanation: the filters that removed pools, the best candidate with its estimated start and the note (a
reservation or a greener hour names its time there). A PLACED job waits for its dispatch in its pool: the
placement's estimated start says until when. Times are epoch seconds.
"""

from __future__ import annotations

import math
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from huanghe.domain.enums import JobState
from huanghe.jobs.models import JobEventRow, JobRow, PlacementRow


def _queue_ahead(session: Session, row: JobRow) -> int:
    """PENDING jobs the placer takes before ``row`` (higher priority, or equal and submitted earlier)."""
    same = and_(
        JobRow.priority == row.priority,
        or_(JobRow.submit_s < row.submit_s, and_(JobRow.submit_s == row.submit_s, JobRow.id < row.id)),
    )
    return session.scalar(
        select(func.count()).select_from(JobRow).where(
            JobRow.state == JobState.PENDING.value,
            JobRow.cancel_requested.is_(False),
            or_(JobRow.priority > row.priority, same),
        )
    ) or 0  # fmt: skip


def _start_of(explanation: dict[str, Any] | None) -> float | None:
    """The estimated start of the best candidate an explanation names (None when there is none)."""
    winner = (explanation or {}).get("winner") or {}
    start = (winner.get("terms") or {}).get("start_s")
    return float(start) if isinstance(start, int | float) and math.isfinite(start) else None


def waiting_report(
    session: Session, row: JobRow, now_s: float, interval_s: float, max_batch: int
) -> dict[str, Any] | None:
    """The scheduling report of a PENDING or PLACED job (None for any other state): ``queue_position``
    (1 = next; PENDING only) of ``queue_length`` PENDING jobs, ``next_decision_s`` (when the placer reaches
    it at the earliest: now + ⌈position / max_batch⌉ ticks of ``interval_s``), ``reason`` (the scheduler's
    last word on it), ``checked_s``/``note``/``explanation`` of the broker's last "not placed" answer,
    ``est_start_s`` (the estimated start: the placement's for a PLACED job, the best candidate's for a
    PENDING one the broker could not place yet)."""
    if row.state not in (JobState.PENDING.value, JobState.PLACED.value):
        return None
    queue_length = session.scalar(
        select(func.count()).select_from(JobRow).where(
            JobRow.state == JobState.PENDING.value, JobRow.cancel_requested.is_(False)
        )
    ) or 0  # fmt: skip
    out: dict[str, Any] = {
        "state": row.state, "queue_position": None, "queue_length": queue_length, "next_decision_s": None,
        "reason": row.message, "checked_s": None, "note": "", "explanation": None, "est_start_s": None,
    }  # fmt: skip
    if row.state == JobState.PLACED.value:
        placed = session.scalars(
            select(PlacementRow)
            .where(PlacementRow.job_id == row.id)
            .order_by(PlacementRow.id.desc())
            .limit(1)
        ).first()
        out["est_start_s"] = placed.est_start_s if placed is not None else None
        return out
    position = _queue_ahead(session, row) + 1
    out["queue_position"] = position
    out["next_decision_s"] = now_s + math.ceil(position / max(1, max_batch)) * interval_s
    last = session.scalars(
        select(JobEventRow)
        .where(JobEventRow.job_id == row.id, JobEventRow.kind == "unplaced")
        .order_by(JobEventRow.id.desc())
        .limit(1)
    ).first()
    if last is not None:
        out.update(checked_s=last.t_s, explanation=last.data, note=(last.data or {}).get("note", ""))
        out["est_start_s"] = _start_of(last.data)
    return out
