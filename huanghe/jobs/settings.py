"""Settings of the dispatch loop (environment variables ``HUANGHE_SCHEDULER_*``, names kept for users)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class DispatchSettings(BaseSettings):
    """Dispatch loop settings (env prefix ``HUANGHE_SCHEDULER_``): ``enabled``, ``interval_s`` (time between
    ticks, default 0.2 s), ``policy`` (placement policy name, default ``earliest-completion``),
    ``health_interval_s`` (seconds between back-end pings), ``unhealthy_after`` (failed pings in a row),
    ``lease_ttl_s`` (SQLite leader lease), ``max_batch`` (jobs placed per tick), ``default_duration_s``
    (run-time estimate of a job that gives none), ``topology_refresh_s`` (how often the stored network is
    re-read), ``status_interval_s`` (least time between two status calls for one job; a newly dispatched job
    is asked at once), ``stuck_after_s`` (a job PLACED, or DISPATCHED without a back-end id, for longer than
    this is reconciled: :func:`huanghe.jobs.recovery.reconcile_stuck`), ``max_submit_s`` (the longest a
    back-end's ``submit()`` may take, from its claim to its answer, default 120 s: a back-end whose declared
    bound, from its own timeouts, is longer is refused, :func:`huanghe.jobs.dispatch_context.submit_bound_problem`;
    a claim younger than this plus ``lease_ttl_s`` may still be in a deposed leader's submit, so recovery leaves it
    for a later tick: :func:`huanghe.jobs.recovery.claim_settled_s`)."""

    model_config = SettingsConfigDict(env_prefix="HUANGHE_SCHEDULER_", extra="ignore")

    enabled: bool = True
    interval_s: float = Field(default=0.2, gt=0, le=60)
    policy: str = "earliest-completion"
    health_interval_s: float = Field(default=2.0, gt=0)
    unhealthy_after: int = Field(default=2, ge=1)
    lease_ttl_s: float = Field(default=3.0, gt=0)
    max_batch: int = Field(default=2000, ge=1)
    default_duration_s: float = Field(default=60.0, ge=0)
    topology_refresh_s: float = Field(default=10.0, gt=0)
    status_interval_s: float = Field(default=0.5, ge=0)
    stuck_after_s: float = Field(default=300.0, gt=0)
    max_submit_s: float = Field(default=120.0, gt=0)
    #: hours of the carbon signal: ``beijing`` (the clock is epoch seconds, hour 0 = 1 January of the current
    #: Beijing year) or ``simulator`` (the clock is workload time, t = 0 = 2023-01-01 00:00, as the simulator)
    carbon_calendar: Literal["beijing", "simulator"] = "beijing"
