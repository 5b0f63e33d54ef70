"""Job tables: jobs, their events (state history), idempotency keys, placements, center health, leader lease.

Times are epoch seconds (``*_s``, float); money in CNY, carbon in kg. A job's ``state`` is one of
:class:`~huanghe.domain.enums.JobState`. Dispatch bookkeeping (what makes a restart safe):

* ``dispatch_token`` is written (state ``DISPATCHED``, ``backend_job_id`` NULL) and committed *before* the
  back-end is asked to run the job; the token is the back-end job name, so after a crash the job can be found
  on the back-end instead of being submitted again.
* ``backend_job_id`` is written as soon as the back-end answered.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, Boolean, Double, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from huanghe.store.base import Base

ID = String(64)
STATE = String(16)


class JobRow(Base):
    """One submitted job. ``spec`` holds the whole submitted request (JSON of ``JobSubmit``)."""

    __tablename__ = "jobs"

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    name: Mapped[str] = mapped_column(String(63))
    tenant_id: Mapped[str | None] = mapped_column(ID, nullable=True, index=True)
    user_id: Mapped[str | None] = mapped_column(ID, nullable=True)
    spec: Mapped[dict[str, Any]] = mapped_column(JSON)
    priority: Mapped[int] = mapped_column(Integer, default=0)
    cpus: Mapped[float] = mapped_column(Double)  # per node, cores
    gpus: Mapped[float] = mapped_column(Double)  # per node
    mem_gb: Mapped[float] = mapped_column(Double)  # per node, GB
    nodes: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(STATE, index=True)
    pool_id: Mapped[str | None] = mapped_column(ID, nullable=True, index=True)
    center_id: Mapped[str | None] = mapped_column(ID, nullable=True, index=True)
    submit_s: Mapped[float] = mapped_column(Double)
    updated_s: Mapped[float] = mapped_column(Double)
    started_s: Mapped[float | None] = mapped_column(Double, nullable=True)
    ended_s: Mapped[float | None] = mapped_column(Double, nullable=True)
    attempt: Mapped[int] = mapped_column(Integer, default=0)
    max_attempts: Mapped[int] = mapped_column(Integer, default=3)
    excluded_centers: Mapped[list[str]] = mapped_column(JSON, default=list)
    backend: Mapped[str | None] = mapped_column(String(64), nullable=True)
    backend_job_id: Mapped[str | None] = mapped_column(String(200), nullable=True)
    dispatch_token: Mapped[str | None] = mapped_column(String(63), nullable=True, unique=True)
    cancel_requested: Mapped[bool] = mapped_column(Boolean, default=False)
    exit_code: Mapped[int | None] = mapped_column(Integer, nullable=True)
    message: Mapped[str] = mapped_column(Text, default="")
    price_cny_per_hour: Mapped[float | None] = mapped_column(Double, nullable=True)
    est_cost_cny: Mapped[float | None] = mapped_column(Double, nullable=True)
    est_carbon_kg: Mapped[float | None] = mapped_column(Double, nullable=True)

    __table_args__ = (
        Index("ix_jobs_state_priority", "state", "priority", "submit_s"),
        # the job list (GET /jobs, newest first or by state; a tenant's own or all): pages read in index order
        Index("ix_jobs_submit", "submit_s", "id"),
        Index("ix_jobs_state_submit", "state", "submit_s", "id"),
        Index("ix_jobs_tenant_submit", "tenant_id", "submit_s", "id"),
        Index("ix_jobs_tenant_state_submit", "tenant_id", "state", "submit_s", "id"),
    )


class JobEventRow(Base):
    """Something that happened to a job: ``kind`` = state (``state`` set), placed, dispatched, retry,
    failover, cancel_requested, error. ``data`` carries details (JSON)."""

    __tablename__ = "job_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    job_id: Mapped[str] = mapped_column(ID, ForeignKey("jobs.id", ondelete="CASCADE"), index=True)
    t_s: Mapped[float] = mapped_column(Double)
    kind: Mapped[str] = mapped_column(String(32))
    state: Mapped[str | None] = mapped_column(STATE, nullable=True)
    message: Mapped[str] = mapped_column(Text, default="")
    data: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)


class IdempotencyKeyRow(Base):
    """An ``Idempotency-Key`` already used: the ids of the job(s) its first request created (unique key)."""

    __tablename__ = "idempotency_keys"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    job_ids: Mapped[list[str]] = mapped_column(JSON)
    created_s: Mapped[float] = mapped_column(Double)


class PlacementRow(Base):
    """One placement decision (one per attempt) with its estimates and the explanation JSON."""

    __tablename__ = "placements"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    job_id: Mapped[str] = mapped_column(ID, ForeignKey("jobs.id", ondelete="CASCADE"), index=True)
    attempt: Mapped[int] = mapped_column(Integer)
    t_s: Mapped[float] = mapped_column(Double)
    policy: Mapped[str] = mapped_column(String(64))
    pool_id: Mapped[str] = mapped_column(ID)
    center_id: Mapped[str] = mapped_column(ID)
    est_start_s: Mapped[float | None] = mapped_column(Double, nullable=True)
    est_run_s: Mapped[float | None] = mapped_column(Double, nullable=True)
    est_cost_cny: Mapped[float | None] = mapped_column(Double, nullable=True)
    est_carbon_kg: Mapped[float | None] = mapped_column(Double, nullable=True)
    explanation: Mapped[dict[str, Any]] = mapped_column(JSON)


class CenterHealthRow(Base):
    """Health of a center as seen by the scheduler's back-end pings (one row per center)."""

    __tablename__ = "center_health"

    center_id: Mapped[str] = mapped_column(ID, primary_key=True)
    healthy: Mapped[bool] = mapped_column(Boolean, default=True)
    checked_s: Mapped[float] = mapped_column(Double)
    last_ok_s: Mapped[float | None] = mapped_column(Double, nullable=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    latency_ms: Mapped[float | None] = mapped_column(Double, nullable=True)
    message: Mapped[str] = mapped_column(Text, default="")
