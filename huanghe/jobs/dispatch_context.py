"""What every step of the dispatcher shares: sessions, settings, back-ends, the clock and the stored network."""

from __future__ import annotations

import logging
import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from huanghe.backends.describe import missing_by_backend
from huanghe.backends.protocol import Backend
from huanghe.broker.carbon import SIM_YEAR, beijing_year_origin
from huanghe.broker.snapshot import KIND_INDEX, NetworkSnapshot
from huanghe.core.clock import Clock
from huanghe.domain.enums import JobKind
from huanghe.jobs.backend_cache import BackendCache
from huanghe.jobs.settings import DispatchSettings
from huanghe.network import topology_store
from huanghe.network.secrets import SecretKeyError, resolve_settings

log = logging.getLogger("huanghe.broker")


def resolved_settings(session: Session, settings: dict[str, Any]) -> dict[str, Any]:
    """A pool's settings with its ``*_secret`` names replaced by the secrets' values; without a usable key the
    names are dropped (the back-end then reports the missing credential) and the reason is logged once per
    refresh, without any value."""
    try:
        return resolve_settings(session, settings)
    except SecretKeyError as exc:
        log.error("back-end secrets unavailable (后端凭据不可用): %s", exc.errors[0].message)
        return {k: v for k, v in settings.items() if not k.endswith("_secret")}


def submit_bound_problem(pool_id: str | None, backend: Backend, max_submit_s: float) -> str:
    """Why ``backend`` may not run pool ``pool_id``'s jobs: its submit can outlast ``max_submit_s`` ("" if not)."""
    bound = backend.submit_bound
    if bound.s <= max_submit_s:
        return ""
    return (
        f"pool {pool_id}: back-end {backend.name} may take up to {bound.s:g} s to submit ({bound.why}), more than "
        f"max_submit_s {max_submit_s:g} s (HUANGHE_SCHEDULER_MAX_SUBMIT_S), so recovery after a leader change "
        "could run a job twice; lower the back-end's timeouts in the pool's backend_settings or raise "
        "max_submit_s / 后端提交时限超过 max_submit_s，拒绝下发"
    )


@dataclass
class TickReport:
    """What one tick did (counts), for logs, tests and the bench."""

    placed: int = 0
    unplaceable: int = 0
    dispatched: int = 0
    transitions: int = 0
    retried: int = 0
    failed_over: int = 0
    cancelled: int = 0
    outcome_unknown: int = 0  # submits left DISPATCHED without a back-end id, for recovery by name
    health_checked: bool = False
    errors: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class PoolInfo:
    """Where a pool is and what runs it."""

    center_id: str
    backend: str
    backend_settings: dict[str, Any]


class DispatchContext:
    """The session factory, settings, back-end instances and clock (epoch seconds) of one dispatcher, and
    its view of the stored network: re-read at most every ``topology_refresh_s``, it gives the base
    snapshot (free capacity before active jobs are subtracted) and, per pool, its center and back-end."""

    def __init__(
        self,
        session_factory: sessionmaker[Session],
        settings: DispatchSettings,
        backends: BackendCache,
        clock: Clock,
    ) -> None:
        self.sf = session_factory
        self.settings = settings
        self.backends = backends
        self.clock = clock
        self.base: NetworkSnapshot | None = None
        self.pools: dict[str, PoolInfo] = {}
        self._loaded_s = -math.inf
        self._bound_logged: set[str] = set()

    def topology(self, session: Session, now_s: float) -> NetworkSnapshot | None:
        """The base snapshot of the stored network (None while it has no center), re-read when stale."""
        if self.base is None or now_s - self._loaded_s > self.settings.topology_refresh_s:
            topo = topology_store.export_topology(session)
            self._loaded_s = now_s
            if not topo.centers:
                self.base = None
                return None
            # ``*_secret`` settings become the decrypted credentials here, in memory only (never stored)
            self.pools = {
                p.id: PoolInfo(c.id, p.backend, resolved_settings(session, p.backend_settings))
                for c, p in topo.pools()
            }
            # the carbon signal on the Beijing calendar: hour 0 = 1 January 00:00 of the current year; on the
            # simulator's calendar (the twin replays workload time: t = 0 is 2023-01-01 00:00 Beijing time)
            if self.settings.carbon_calendar == "simulator":
                year, origin_s = SIM_YEAR, 0.0
            else:
                year, origin_s = beijing_year_origin(now_s)
            self.base = NetworkSnapshot.from_topology(
                topo,
                self.clock,
                backend_missing=missing_by_backend(),
                carbon_year=year,
                carbon_origin_s=origin_s,
            )
        return self.base

    def log_submit_bound_problems(self) -> None:
        """Log, as an error, every pool whose back-end's submit may outlast ``max_submit_s`` (its jobs are
        refused at dispatch: :func:`submit_bound_problem`), once per problem; the health check calls it, as it
        builds every pool's back-end anyway."""
        for pool_id in self.pools:
            try:
                be = self.backend_for_pool(pool_id)
            except Exception:  # a back-end that cannot be built fails its jobs with its own reason
                continue
            why = "" if be is None else submit_bound_problem(pool_id, be, self.settings.max_submit_s)
            if why and why not in self._bound_logged:  # once per problem, not on every re-read
                self._bound_logged.add(why)
                log.error("%s", why)

    def run_estimate_s(self, pool_id: str | None, spec: Mapping[str, Any]) -> float | None:
        """The job's estimated run time in the pool, seconds: its ``duration_s`` (else the default the placer
        used) divided by the pool's speed for the job's kind, as the placement estimated it; None when the pool
        or its speed is unknown. A simulating back-end "runs" a job for this long."""
        base = self.base
        if base is None or pool_id not in base.pool_ids:
            return None
        duration = spec.get("duration_s")
        duration_s = float(duration) if duration is not None else self.settings.default_duration_s
        gpus = float(spec.get("gpus") or 0.0)
        kind = JobKind(spec.get("kind") or (JobKind.GPU if gpus > 0 else JobKind.CPU))
        speed = float(base.speed[base.pool_index(pool_id), KIND_INDEX[kind]])
        return duration_s / speed if speed > 0 else None

    def backend_for_pool(self, pool_id: str) -> Backend | None:
        """The back-end instance of a known pool, or None."""
        info = self.pools.get(pool_id)
        return None if info is None else self.backends.get(info.backend, info.backend_settings)

    def pool_backends(self) -> Iterator[PoolInfo]:
        """Every known pool's center and back-end (pools with equal back-end settings share an instance)."""
        return iter(list(self.pools.values()))
