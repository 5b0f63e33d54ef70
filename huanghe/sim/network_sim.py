"""Multi-center simulation: a workload CSV replayed over a topology on simulated time, through the placement
engine (:mod:`huanghe.broker.engine`, the same registry and policies the live service uses).

Model (times in seconds on the workload's clock, ``t = 0`` = 2023-01-01 00:00 Beijing time for the carbon
signal):

* **Jobs** arrive at ``submit_s`` into the broker's queue. Every ``cycle_s`` seconds, when something changed
  (an arrival, a job end, a hold that expires), the broker builds a :class:`NetworkSnapshot` of the network
  (free capacity, queue lengths and backlogs, the carbon signal at that time) and asks the policy about
  every job in its queue.
* A policy with a ``cycle`` method (:class:`huanghe.broker.policies.CyclePolicy`) answers per job placed /
  queued / held / waiting / infeasible; a score-only policy (``earliest-start``) goes through
  :meth:`PlacementEngine.place`, where every job with a feasible pool is bound to it (early binding).
* **Pools** keep their own queue (FCFS with EASY backfilling, as a center's batch system would) on **node
  units**: a job takes ``nodes × share`` of a pool whose capacity is its node count, ``share`` being the largest
  of its CPU, GPU and memory fractions of one node (the snapshot's fluid model: sub-node jobs pack perfectly).
* The scheduler sees ``estimate_s`` (the requested time, else ``duration_s``); the job runs
  ``duration_s / speed[pool, kind]``. Backlog of a pool = (remaining estimated work of its running jobs +
  estimated work of its queue) / its node units. With ``runtime_prediction`` (an experiment, off by default,
  measured worse: docs/bench-broker-policies.md) the broker's view, not the pools' queues, takes each job's run
  as its tenant's last two finished runs capped by its request (:mod:`huanghe.broker.runtime_predict`).
* Cost = ``price_cny_per_node_hour × node units × run hours``; carbon = IT energy × PUE × the center's mean
  effective intensity over ``[start, end)`` (:mod:`huanghe.broker.carbon`).
* Tenants' dominant shares of the network's cores and GPUs held by started jobs, priorities and the pools'
  release profiles form the cycle context, built by :func:`huanghe.broker.cycle_inputs.cycle_context` exactly
  as the live loop builds it; the engine is called the same way (``engine.cycle`` / ``engine.place`` with it).
* **Data transfers** (``transfers=True``, off by default so earlier results stay comparable): a job bound to
  a pool whose center does not hold its input enters that pool's queue only when its data has arrived,
  ``transfer_s`` after binding (the formula of :func:`huanghe.broker.estimates.transfer_s`: ``data_gb × 8 /
  bandwidth + latency``); the transfer holds no node. Off, transfers are only in the broker's estimates.
* Violations are counted against the full set of rules, whatever the policy applied: residency (the center is
  not allowed for the job's data class), latency (one-way user-city → center latency above the SLO),
  deadline (end after ``deadline_s``).

Deterministic: same inputs and seed give the same records. Every job ends or is reported unfinished
(``infeasible`` for the policy, or still queued/running at ``max_time_s``).

Modules: :mod:`~huanghe.sim.network_jobs` (the workload resolved against the network),
:mod:`~huanghe.sim.network_result` (records, cost, carbon, violations, summary) and this one (the event loop).
"""

from __future__ import annotations

import dataclasses
import heapq
import math
import time
from collections import deque
from collections.abc import Callable
from typing import Any

import numpy as np
import numpy.typing as npt

from huanghe.broker.cycle_inputs import RunningJobs, cycle_context
from huanghe.broker.engine import PlacementEngine, make_policy
from huanghe.broker.policies import Status, Weights, take_jobs
from huanghe.broker.runtime_predict import UserRuntimePredictor
from huanghe.broker.snapshot import NetworkSnapshot
from huanghe.core.clock import FakeClock
from huanghe.domain.network import Topology
from huanghe.sim.network_jobs import NetworkJobs, jobs_from_workload
from huanghe.sim.network_result import NetworkSimResult
from huanghe.sim.traces.workload_csv import WorkloadTable

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
ProgressFn = Callable[[int, int], None]

EPS = 1e-9
DEFAULT_CYCLE_S = 60.0


class _Pools:
    """Node units per pool, the running jobs and each pool's own FCFS + EASY queue."""

    def __init__(self, snap: NetworkSnapshot) -> None:
        self.total = snap.nodes_total.astype(np.float64)
        self.free: list[float] = self.total.tolist()
        self.queue: list[deque[int]] = [deque() for _ in range(snap.n_pools)]
        self.running: list[dict[int, tuple[float, float]]] = [{} for _ in range(snap.n_pools)]

    def fits(self, p: int, units: float) -> bool:
        return units <= self.free[p] + EPS


class NetworkSimulation:
    """One policy over one workload; :meth:`run` returns a :class:`NetworkSimResult`."""

    def __init__(
        self,
        snapshot: NetworkSnapshot,
        jobs: NetworkJobs,
        policy: str,
        *,
        cycle_s: float = DEFAULT_CYCLE_S,
        seed: int = 0,
        weights: Weights | None = None,
        explain: bool = True,
        max_time_s: float = math.inf,
        transfers: bool = False,
        runtime_prediction: bool = False,
    ) -> None:
        if cycle_s <= 0:
            raise ValueError("cycle_s must be > 0")
        self.snap = snapshot
        self.jobs = jobs
        self.policy_name = policy
        self.policy = make_policy(policy)  # raises UnknownPlacementPolicyError for a bad name
        self.engine = PlacementEngine(policy)
        self.cycle_s = float(cycle_s)
        self.seed = seed
        self.weights = weights or Weights()
        self.explain = explain
        self.max_time_s = max_time_s
        self.transfers = transfers
        self.runtime_prediction = runtime_prediction
        self._predictor = UserRuntimePredictor()
        #: running job -> the end the broker expects (s): its predicted run, else its request
        self._view_end: dict[int, float] = {}
        b = jobs.batch
        speed = snapshot.speed[:, b.kind].T  # (J, P)
        self._speed = speed
        caps = np.array([snapshot.cpus_per_node, snapshot.gpus_per_node, snapshot.mem_gb_per_node])
        self._caps = caps

    # ------------------------------------------------------------------ helpers
    def _estimate_s(self, j: int) -> float:
        """The run time (s, reference speed) the broker assumes for job ``j``: its request, or with
        ``runtime_prediction`` the tenant's recent actual runs capped by it (Tsafrir et al. 2007)."""
        req = float(self.jobs.batch.duration_s[j])
        if not self.runtime_prediction:
            return req
        return self._predictor.predict(int(self.jobs.tenant[j]), req)

    def _broker_end(self, j: int, request_end: float, t: float) -> float:
        """The end of running job ``j`` the broker expects at ``t``: the predicted one, or the request's once
        the job outlived its prediction."""
        e = self._view_end.get(j, request_end)
        return e if e > t else request_end

    def _units(self, j: int, p: int) -> float:
        b = self.jobs.batch
        share = 0.0
        for req, per in ((b.cpus[j], self.snap.cpus_per_node[p]), (b.gpus[j], self.snap.gpus_per_node[p])):
            if req > 0 and per > 0:
                share = max(share, req / per)
        mem, mper = b.mem_gb[j], self.snap.mem_gb_per_node[p]
        if mem > 0 and mper > 0:
            share = max(share, mem / mper)
        return float(b.nodes[j]) * min(share, 1.0)

    def transfer_s(self, j: int, p: int) -> float:
        """Seconds to bring job ``j``'s input to pool ``p``'s center (0 when local or none): the scalar form of
        :func:`huanghe.broker.estimates.transfer_s`."""
        b, s = self.jobs.batch, self.snap
        src, dst = int(b.data_center[j]), int(s.pool_center[p])
        if src < 0 or dst == src or not b.data_gb[j] > 0:
            return 0.0
        bw = float(s.bandwidth_gbps[src, dst])
        return (float(b.data_gb[j]) * 8.0 / bw if bw > 0 else math.inf) + float(
            s.latency_ms[src, dst]
        ) / 1000.0

    def run(self, progress: ProgressFn | None = None) -> NetworkSimResult:
        t0 = time.perf_counter()
        snap0, jobs, b = self.snap, self.jobs, self.jobs.batch
        self._predictor, self._view_end = UserRuntimePredictor(), {}
        n = len(jobs)
        order = np.argsort(b.submit_s, kind="stable").tolist()
        sub = b.submit_s.tolist()
        start = [math.nan] * n
        end = [math.nan] * n
        pool_of = [-1] * n
        units_of = [0.0] * n
        est_end = [math.nan] * n
        expl: list[dict[str, Any] | None] = [None] * n
        infeasible: set[int] = set()
        pools = _Pools(snap0)
        heap: list[tuple[float, int]] = []
        staging: list[tuple[float, int]] = []  # (data arrives, job) of bound jobs whose input is on its way
        pending: list[int] = []
        hold_until: dict[int, float] = {}
        cycle_s = self.cycle_s
        next_cycle = math.inf
        i = 0
        done = 0
        cycles = 0
        tick = 0

        def start_job(j: int, p: int, t: float) -> None:
            u = units_of[j]
            pools.free[p] -= u
            speed = float(self._speed[j, p])
            start[j] = t
            run_true = float(jobs.duration_s[j]) / speed
            est_end[j] = t + float(b.duration_s[j]) / speed
            pools.running[p][j] = (est_end[j], u)
            self._view_end[j] = t + self._estimate_s(j) / speed
            heapq.heappush(heap, (t + run_true, j))

        def drain(p: int, t: float) -> None:
            """FCFS + EASY on pool p's own queue."""
            q = pools.queue[p]
            while q and pools.fits(p, units_of[q[0]]):
                start_job(q.popleft(), p, t)
            if len(q) < 2:
                return
            need = units_of[q[0]]
            avail = pools.free[p]
            shadow, extra = math.inf, 0.0
            for e, u in sorted(pools.running[p].values()):
                avail += u
                if avail >= need - EPS:
                    shadow, extra = max(e, t), avail - need
                    break
            for j in list(q)[1:]:
                u = units_of[j]
                if not pools.fits(p, u):
                    continue
                run_est = float(b.duration_s[j]) / float(self._speed[j, p])
                if t + run_est <= shadow:
                    q.remove(j)
                    start_job(j, p, t)
                elif u <= extra + EPS:
                    extra -= u
                    q.remove(j)
                    start_job(j, p, t)

        def bind(j: int, p: int, t: float) -> None:
            pool_of[j] = p
            units_of[j] = self._units(j, p)
            xfer = self.transfer_s(j, p) if self.transfers else 0.0
            if xfer > 0:
                heapq.heappush(staging, (t + xfer, j))
            else:
                pools.queue[p].append(j)

        while True:
            t_arr = sub[order[i]] if i < n else math.inf
            t_end = heap[0][0] if heap else math.inf
            t_stage = staging[0][0] if staging else math.inf
            t = min(t_arr, t_end, next_cycle, t_stage)
            if t == math.inf or t > self.max_time_s:
                break
            if t_stage == t:
                arrived = set()
                while staging and staging[0][0] <= t:
                    _, j = heapq.heappop(staging)
                    pools.queue[pool_of[j]].append(j)
                    arrived.add(pool_of[j])
                for p in sorted(arrived):
                    drain(p, t)
            elif t_end == t:
                touched = set()
                while heap and heap[0][0] <= t:
                    _, j = heapq.heappop(heap)
                    p = pool_of[j]
                    end[j] = t
                    pools.free[p] += units_of[j]
                    del pools.running[p][j]
                    del self._view_end[j]
                    self._predictor.observe(int(jobs.tenant[j]), float(jobs.duration_s[j]))
                    touched.add(p)
                    done += 1
                for p in sorted(touched):
                    drain(p, t)
                if pending:
                    next_cycle = min(next_cycle, math.ceil(t / cycle_s - EPS) * cycle_s)
            elif t_arr == t:
                while i < n and sub[order[i]] <= t:
                    pending.append(order[i])
                    i += 1
                next_cycle = min(next_cycle, math.ceil(t / cycle_s - EPS) * cycle_s)
            else:
                next_cycle = math.inf
                cycles += 1
                pending = self._cycle(t, pending, hold_until, infeasible, pools, bind, expl)
                for p in range(snap0.n_pools):
                    if pools.queue[p]:
                        drain(p, t)
                if hold_until:
                    next_cycle = max(min(hold_until.values()), t + cycle_s)
                done_now = done + len(infeasible)
                tick += 1
                if progress is not None and tick % 50 == 0:
                    progress(done_now, n)
        if progress is not None:
            progress(n, n)
        unfinished = {
            "infeasible": len(infeasible),
            "pending": len(pending),
            "queued": sum(len(q) for q in pools.queue) + len(staging),
            "running": len(heap),
        }
        return NetworkSimResult(
            policy=self.policy_name,
            snapshot=snap0,
            jobs=jobs,
            start_s=np.asarray(start, dtype=np.float64),
            end_s=np.asarray(end, dtype=np.float64),
            pool=np.asarray(pool_of, dtype=np.int64),
            units=np.asarray(units_of, dtype=np.float64),
            unfinished=unfinished,
            explanations=expl,
            cycles=cycles,
            wall_s=time.perf_counter() - t0,
        )

    # ------------------------------------------------------------------ one broker cycle
    def _snapshot(self, t: float, pools: _Pools) -> NetworkSnapshot:
        s = self.snap
        free = np.maximum(np.asarray(pools.free), 0.0)
        queued = np.array([len(q) for q in pools.queue], dtype=np.int64)
        work = np.zeros(s.n_pools)
        for p in range(s.n_pools):
            w = sum(u * max(self._broker_end(j, e, t) - t, 0.0) for j, (e, u) in pools.running[p].items())
            for j in pools.queue[p]:
                w += self._units(j, p) * self._estimate_s(j) / float(self._speed[j, p])
            work[p] = w
        backlog = work / np.maximum(pools.total, 1.0)
        return (
            s.at(t)
            .with_free(
                np.floor(free + EPS).astype(np.int64),
                free * s.cpus_per_node,
                free * s.gpus_per_node,
                free * s.mem_gb_per_node,
            )
            .with_queue(queued, backlog)
        )

    def _running(self, pools: _Pools, t: float) -> RunningJobs:
        """The started jobs (they hold capacity) at ``t``: pool, tenant, the end the broker expects, node units,
        cores and GPUs."""
        js = [j for p in range(self.snap.n_pools) for j in pools.running[p]]
        if not js:
            return RunningJobs.empty()
        b = self.jobs.batch
        ix = np.asarray(js, dtype=np.int64)
        vals = [
            (self._broker_end(j, e, t), u)
            for p in range(self.snap.n_pools)
            for j, (e, u) in pools.running[p].items()
        ]
        pool = [p for p in range(self.snap.n_pools) for _ in pools.running[p]]
        return RunningJobs.of(
            pool,
            self.jobs.tenant[ix],
            [e for e, _ in vals],
            [u for _, u in vals],
            b.nodes[ix] * b.cpus[ix],
            b.nodes[ix] * b.gpus[ix],
        )

    def _cycle(
        self,
        t: float,
        pending: list[int],
        hold_until: dict[int, float],
        infeasible: set[int],
        pools: _Pools,
        bind: Callable[[int, int, float], None],
        expl: list[dict[str, Any] | None],
    ) -> list[int]:
        snap = self._snapshot(t, pools)
        idx = np.asarray(pending, dtype=np.int64)
        batch = take_jobs(self.jobs.batch, idx)
        if self.runtime_prediction:
            batch = dataclasses.replace(
                batch, duration_s=np.array([self._estimate_s(j) for j in pending], dtype=np.float64)
            )
        keep: list[int] = []
        # the same context, built the same way, as the live loop's (huanghe.jobs.placing)
        ctx = cycle_context(
            snap,
            self._running(pools, t),
            self.jobs.priority[idx],
            self.jobs.tenant[idx],
            len(self.jobs.tenants),
            cycle_s=self.cycle_s,
            seed=self.seed,
            weights=self.weights,
        )
        res = self.engine.cycle(snap, batch, t, ctx)
        if res is not None:
            for local, j in enumerate(pending):
                st = res.status[local]
                p = int(res.pool[local])
                if st in (Status.PLACED, Status.QUEUED):
                    if self.explain:
                        expl[j] = res.explanation(local).to_dict()
                    bind(j, p, t)
                    hold_until.pop(j, None)
                elif st == Status.INFEASIBLE:
                    infeasible.add(j)
                    hold_until.pop(j, None)
                    if self.explain:
                        expl[j] = res.explanation(local).to_dict()
                else:
                    if st == Status.HELD:
                        hold_until[j] = float(res.hold_until_s[local])
                    else:
                        hold_until.pop(j, None)
                    keep.append(j)
            return keep
        # score-only policy: the engine's generic path binds every job with a feasible pool (priority order)
        decisions = self.engine.place(snap, batch, t, ctx)
        pool_index = {pid: k for k, pid in enumerate(snap.pool_ids)}
        for d, j in zip(decisions, pending, strict=True):
            if self.explain:
                expl[j] = d.explanation.to_dict()
            if d.pool_id is None:
                infeasible.add(j)
            else:
                bind(j, pool_index[d.pool_id], t)
        return keep


def simulate_network(
    topology: Topology | NetworkSnapshot,
    workload: WorkloadTable | NetworkJobs,
    policy: str,
    *,
    cycle_s: float = DEFAULT_CYCLE_S,
    seed: int = 0,
    weights: Weights | None = None,
    explain: bool = True,
    max_time_s: float = math.inf,
    progress: ProgressFn | None = None,
    transfers: bool = False,
    runtime_prediction: bool = False,
) -> NetworkSimResult:
    """Run ``policy`` over ``workload`` on ``topology`` (see the module docstring for the model)."""
    snap = (
        topology
        if isinstance(topology, NetworkSnapshot)
        else NetworkSnapshot.from_topology(topology, FakeClock(0.0))
    )
    jobs = workload if isinstance(workload, NetworkJobs) else jobs_from_workload(snap, workload)
    sim = NetworkSimulation(
        snap,
        jobs,
        policy,
        cycle_s=cycle_s,
        seed=seed,
        weights=weights,
        explain=explain,
        max_time_s=max_time_s,
        transfers=transfers,
        runtime_prediction=runtime_prediction,
    )
    return sim.run(progress)


__all__ = [
    "NetworkJobs",
    "NetworkSimResult",
    "NetworkSimulation",
    "jobs_from_workload",
    "simulate_network",
]
