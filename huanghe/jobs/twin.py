"""The twin's fidelity (issue #12, deliverable 6): one workload replayed through the LIVE job path and through
the simulator, compared job by job.

* **Live** (:func:`replay_live`): jobs are written to the store (SQLite, migrated, the network imported) as
  PENDING rows at their ``submit_s``; a :class:`~huanghe.jobs.dispatcher.Dispatcher` (health, stuck, cancel,
  place with the placement engine on the live snapshot, dispatch, reconcile, metering) ticks on an injected
  :class:`~huanghe.core.clock.FakeClock` every ``interval_s`` seconds of workload time. Every pool runs on the
  ``fake`` back-end (:class:`TwinBackend`, on the same clock): a job runs for the estimate the platform passes
  (``duration_s / speed``) stretched by its true/estimated ratio, i.e. ``true duration_s / speed``, exactly
  what the simulator runs. Ticks are skipped only when they cannot change anything: no job PENDING and no
  arrival or back-end end before them (the clock then jumps to the next such event, on the tick grid).
* **Simulator** (:func:`replay_sim`): :func:`huanghe.sim.network_sim.simulate_network` on the same network
  (every pool on ``fake``, so the two snapshots see the same pools and capabilities), same policy,
  ``cycle_s = interval_s``.
* **Compare** (:func:`compare`): the share of jobs placed on the same pool, mean JCT (end − submit, seconds) of
  both and their relative difference, over jobs that ended on both sides.

Times are seconds of workload time (``t = 0`` = 2023-01-01 00:00 Beijing time for the carbon signal, the same
on both sides: the live clock starts at 0).
"""

from __future__ import annotations

import heapq
import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import func, select

from huanghe.backends.fake import FakeBackend
from huanghe.backends.protocol import Backend, BackendJobSpec
from huanghe.core.clock import FakeClock
from huanghe.domain.enums import JobState
from huanghe.domain.network import MAX_WALL_TIME_S, Topology
from huanghe.jobs.backend_cache import BackendCache
from huanghe.jobs.dispatch_context import TickReport
from huanghe.jobs.dispatcher import Dispatcher
from huanghe.jobs.models import JobRow
from huanghe.jobs.settings import DispatchSettings
from huanghe.network import topology_store
from huanghe.sim.network_sim import simulate_network
from huanghe.sim.traces.workload_csv import WorkloadTable
from huanghe.store.db import make_session_factory
from huanghe.store.migrate import migrate

TERMINAL = (JobState.SUCCEEDED.value, JobState.FAILED.value, JobState.CANCELLED.value)


def twin_topology(topo: Topology) -> Topology:
    """``topo`` with every pool on the ``fake`` back-end (no settings) and a wall time (default and maximum)
    of :data:`MAX_WALL_TIME_S`, so no job is cut by a limit the simulator does not model."""
    centers = []
    for c in topo.centers:
        pools = [
            p.model_copy(
                update={
                    "backend": "fake",
                    "backend_settings": {},
                    "default_time_limit_s": MAX_WALL_TIME_S,
                    "max_time_limit_s": MAX_WALL_TIME_S,
                }
            )
            for p in c.pools
        ]
        centers.append(c.model_copy(update={"pools": pools}))
    return topo.model_copy(update={"centers": centers})


def compress(table: WorkloadTable, factor: float) -> WorkloadTable:
    """The workload with every time (submit, duration, estimate, deadline) divided by ``factor`` (≥ 1)."""
    if not factor >= 1.0:
        raise ValueError("factor must be >= 1")
    return _replace(
        table,
        submit_s=table.submit_s / factor,
        duration_s=np.maximum(table.duration_s / factor, 1.0),
        estimate_s=np.maximum(table.estimate_s / factor, 1.0),
        deadline_s=table.deadline_s / factor,
    )


def head(table: WorkloadTable, n: int) -> WorkloadTable:
    """The first ``n`` jobs in submission order."""
    order = np.argsort(table.submit_s, kind="stable")[:n]
    return WorkloadTable(**{k: getattr(table, k)[order] for k in table.__dataclass_fields__})


def _replace(table: WorkloadTable, **cols: Any) -> WorkloadTable:
    return WorkloadTable(**{k: cols.get(k, getattr(table, k)) for k in table.__dataclass_fields__})


class TwinBackend(FakeBackend):
    """The fake back-end on the benchmark's clock. A job runs ``spec.duration_s`` (the platform's estimate in
    the pool, s) × ``stretch[platform job id]`` (its true/estimated duration), and the back-end knows when the
    next job ends (:meth:`next_end_s`)."""

    def __init__(self, clock: FakeClock, stretch: Mapping[str, float]) -> None:
        super().__init__({}, clock=clock)
        self.stretch = stretch
        self._ends: list[float] = []

    def submit(self, spec: BackendJobSpec) -> str:
        job_id = super().submit(spec)
        job = self._jobs[job_id]
        if spec.duration_s is not None:
            job.run_s = float(spec.duration_s) * self.stretch.get(
                spec.env.get("HUANGHE_PLATFORM_JOB_ID", ""), 1.0
            )
        heapq.heappush(self._ends, job.start_at + job.run_s)
        return job_id

    def next_end_s(self, after_s: float) -> float:
        """The first end of a job strictly after ``after_s`` (inf when none)."""
        while self._ends and self._ends[0] <= after_s:
            heapq.heappop(self._ends)
        return self._ends[0] if self._ends else math.inf


class ReconcileFirstDispatcher(Dispatcher):
    """A :class:`Dispatcher` whose tick copies back-end states (ends) into the store BEFORE placing, so the
    placement sees the capacity freed since the last tick, as the simulator's event-time ends do. For the
    benchmark's attribution run only (``reconcile_first=True``); the shipped loop places, dispatches, then
    reconciles."""

    def tick(self) -> TickReport:
        with self.sf() as s:
            if self.ctx.topology(s, self.clock.now_s()) is not None:
                self._follower.reconcile(TickReport())
        return super().tick()


@dataclass
class Replay:
    """Per job id: the pool it ran on (None: never placed) and its submit/start/end times (NaN: not reached)."""

    pool: dict[str, str | None]
    submit_s: dict[str, float]
    end_s: dict[str, float]
    wall_s: float
    ticks: int = 0
    states: dict[str, int] = field(default_factory=dict)


def _spec(table: WorkloadTable, j: int) -> dict[str, Any]:
    def opt(x: float) -> float | None:
        return None if math.isnan(x) else float(x)

    est = float(table.effective_estimate_s()[j])
    deadline = opt(float(table.deadline_s[j]))
    spec: dict[str, Any] = {
        "name": str(table.job_id[j])[:63], "command": "true", "kind": str(table.kind[j]),
        "cpus": float(table.cpus[j]), "gpus": float(table.gpus[j]), "nodes": int(table.nodes[j]),
        "mem_gb": float(table.mem_gb[j]), "accelerator": str(table.accelerator[j]), "duration_s": est,
        "data_gb": float(table.data_gb[j]), "data_center": str(table.data_center[j]) or None,
        "data_class": str(table.data_class[j]) or "general", "user_city": str(table.user_city[j]) or None,
        "latency_slo_ms": opt(float(table.latency_slo_ms[j])), "priority": int(table.priority[j]),
        "deadline_s": None if deadline is None else max(deadline - float(table.submit_s[j]), 1.0),
    }  # fmt: skip
    return {k: v for k, v in spec.items() if v is not None}


def replay_live(
    topo: Topology,
    table: WorkloadTable,
    policy: str,
    db_path: Path,
    *,
    interval_s: float = 60.0,
    max_ticks: int = 1_000_000,
    reconcile_first: bool = False,
    progress: Callable[[int, int, float], None] | None = None,
) -> Replay:
    """Replay ``table`` through the live job path on ``twin_topology(topo)`` (see the module docstring); the
    store is a fresh SQLite file at ``db_path``. ``reconcile_first``: use :class:`ReconcileFirstDispatcher`."""
    t_wall = time.perf_counter()
    url = f"sqlite:///{db_path}"
    migrate(url)
    sf = make_session_factory(url)
    clock = FakeClock(0.0)
    est = table.effective_estimate_s()
    ids = [str(x) for x in table.job_id]
    stretch = {ids[j]: float(table.duration_s[j]) / float(est[j]) for j in range(len(table))}
    backend = TwinBackend(clock, stretch)

    def factory(name: str, settings: Mapping[str, str]) -> Backend:
        return backend

    # the clock runs workload time: the carbon signal is read on the simulator's calendar, as in the simulator
    settings = DispatchSettings(enabled=False, interval_s=interval_s, policy=policy, max_batch=100_000,
                                carbon_calendar="simulator")  # fmt: skip
    disp = (ReconcileFirstDispatcher if reconcile_first else Dispatcher)(
        sf, settings, BackendCache(factory), clock
    )
    order = np.argsort(table.submit_s, kind="stable").tolist()
    n, i, ticks = len(order), 0, 0
    try:
        with sf() as s:
            topology_store.import_topology(s, twin_topology(topo))
        t = 0.0
        while ticks < max_ticks:
            with sf() as s:
                while i < n and float(table.submit_s[order[i]]) <= t:
                    j = order[i]
                    sub = float(table.submit_s[j])
                    s.add(JobRow(
                        id=ids[j], name=ids[j][:63], tenant_id=str(table.tenant[j]) or None, spec=_spec(table, j),
                        priority=int(table.priority[j]), cpus=float(table.cpus[j]), gpus=float(table.gpus[j]),
                        mem_gb=float(table.mem_gb[j]), nodes=int(table.nodes[j]), state=JobState.PENDING.value,
                        submit_s=sub, updated_s=sub,
                    ))  # fmt: skip
                    i += 1
                s.commit()
            clock.set(t)
            disp.tick()
            ticks += 1
            with sf() as s:
                open_n = s.scalar(select(func.count()).where(JobRow.state.not_in(TERMINAL))) or 0
                pending = s.scalar(select(func.count()).where(JobRow.state == JobState.PENDING.value)) or 0
            if progress is not None and ticks % 50 == 0:
                progress(i, open_n, t)
            if i >= n and open_n == 0:
                break
            t_arr = float(table.submit_s[order[i]]) if i < n else math.inf
            nxt = t + interval_s if pending else max(t + interval_s, min(t_arr, backend.next_end_s(t)))
            if nxt == math.inf:
                break  # nothing can ever happen again (jobs stuck in a state no tick changes)
            t = math.ceil(nxt / interval_s - 1e-9) * interval_s
        with sf() as s:
            rows = s.execute(
                select(JobRow.id, JobRow.pool_id, JobRow.submit_s, JobRow.ended_s, JobRow.state)
            ).all()
    finally:
        disp.close()
        sf.kw["bind"].dispose()
    states: dict[str, int] = {}
    for r in rows:
        states[r.state] = states.get(r.state, 0) + 1
    return Replay(
        pool={r.id: r.pool_id for r in rows},
        submit_s={r.id: float(r.submit_s) for r in rows},
        end_s={
            r.id: float(r.ended_s) if r.ended_s is not None and r.state == "SUCCEEDED" else math.nan
            for r in rows
        },
        wall_s=time.perf_counter() - t_wall,
        ticks=ticks,
        states=states,
    )


def replay_sim(topo: Topology, table: WorkloadTable, policy: str, *, interval_s: float = 60.0) -> Replay:
    """Replay ``table`` through the simulator on ``twin_topology(topo)`` with ``cycle_s = interval_s``."""
    t_wall = time.perf_counter()
    res = simulate_network(twin_topology(topo), table, policy, cycle_s=interval_s, explain=False)
    ids = [str(x) for x in table.job_id]
    pool_ids = res.snapshot.pool_ids
    return Replay(
        pool={ids[j]: (pool_ids[int(p)] if p >= 0 else None) for j, p in enumerate(res.pool.tolist())},
        submit_s={ids[j]: float(table.submit_s[j]) for j in range(len(ids))},
        end_s={ids[j]: float(e) for j, e in enumerate(res.end_s.tolist())},
        wall_s=time.perf_counter() - t_wall,
        ticks=res.cycles,
        states={k: int(v) for k, v in res.unfinished.items()},
    )


@dataclass(frozen=True)
class Fidelity:
    """Job-by-job agreement of a live and a simulated replay. JCTs in seconds over jobs ended on both sides."""

    jobs: int
    same_pool: int
    ended_both: int
    mean_jct_live_s: float
    mean_jct_sim_s: float
    mean_abs_jct_diff_s: float

    @property
    def same_pool_share(self) -> float:
        return self.same_pool / self.jobs if self.jobs else math.nan

    @property
    def jct_rel_diff(self) -> float:
        """(mean live JCT − mean simulated JCT) / mean simulated JCT."""
        return (
            (self.mean_jct_live_s - self.mean_jct_sim_s) / self.mean_jct_sim_s
            if self.mean_jct_sim_s
            else math.nan
        )

    def to_dict(self) -> dict[str, float | int]:
        return {
            "jobs": self.jobs, "same_pool": self.same_pool, "same_pool_share": self.same_pool_share,
            "ended_both": self.ended_both, "mean_jct_live_s": self.mean_jct_live_s,
            "mean_jct_sim_s": self.mean_jct_sim_s, "jct_rel_diff": self.jct_rel_diff,
            "mean_abs_jct_diff_s": self.mean_abs_jct_diff_s,
        }  # fmt: skip


def compare(live: Replay, sim: Replay) -> Fidelity:
    """Compare two replays of the same jobs (ids of ``sim``)."""
    ids = sorted(sim.pool)
    same = sum(1 for k in ids if live.pool.get(k) == sim.pool[k])
    both = [k for k in ids if math.isfinite(live.end_s.get(k, math.nan)) and math.isfinite(sim.end_s[k])]
    jl = np.array([live.end_s[k] - live.submit_s[k] for k in both], dtype=np.float64)
    js = np.array([sim.end_s[k] - sim.submit_s[k] for k in both], dtype=np.float64)
    nan = math.nan
    return Fidelity(
        jobs=len(ids),
        same_pool=same,
        ended_both=len(both),
        mean_jct_live_s=float(jl.mean()) if len(both) else nan,
        mean_jct_sim_s=float(js.mean()) if len(both) else nan,
        mean_abs_jct_diff_s=float(np.abs(jl - js).mean()) if len(both) else nan,
    )
