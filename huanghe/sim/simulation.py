"""The event-driven simulator: replays a workload on simulated time through the scheduler's queue engine.

The simulator owns only time and events (arrivals from the workload, ends from a heap); every decision is
taken by :class:`huanghe.broker.cluster_queue.ClusterQueue`, the code the live service uses. At each
event time it hands the scheduler all ends, then all arrivals at that time, then asks it once what to start.

Many clusters: :class:`Simulation` holds a list of clusters and a ``router`` that sends each arriving job
to one of them (the multi-center broker plugs in there). ``simulate`` is the one-cluster shortcut.
Deterministic: the same inputs and seed give the same schedule (ties are broken by job index).
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from huanghe.broker.cluster_queue import STANDARD_RULES, ClusterQueue, EngineRules
from huanghe.broker.queue import QueuePolicy, get_policy
from huanghe.broker.queue_types import JobTable, PoolSpec
from huanghe.sim.job_metrics import Summary, summarize
from huanghe.sim.workload import Workload

ProgressFn = Callable[[int, int], None]
Router = Callable[[int, float], int]
"""``router(job_index, now_s) -> cluster index`` for the job arriving now."""


@dataclass(frozen=True)
class ClusterSpec:
    """A cluster (one center's batch system): a name and its pools."""

    name: str
    pools: tuple[PoolSpec, ...]

    def __post_init__(self) -> None:
        if not self.pools:
            raise ValueError(f"cluster {self.name!r} has no pools")
        names = [p.name for p in self.pools]
        if len(set(names)) != len(names):
            raise ValueError(f"cluster {self.name!r}: duplicate pool names {names}")

    @classmethod
    def single(cls, cores: int, cores_per_node: int = 1, name: str = "cluster") -> ClusterSpec:
        """One pool of ``cores // cores_per_node`` nodes."""
        if cores < 1:
            raise ValueError(f"cluster size must be >= 1 core, got {cores}")
        return cls(name, (PoolSpec(f"{name}-pool", cores // cores_per_node, cores_per_node),))

    @property
    def cores(self) -> int:
        return sum(p.cores for p in self.pools)

    @property
    def max_cores_per_job(self) -> int:
        return max(p.cores for p in self.pools)


FAIR_SHARE_OWNERS = ("user", "tenant")


def job_table(workload: Workload, fair_share_by: str = "user") -> JobTable:
    """The scheduler's view of a workload; ``fair_share_by`` picks the fair-share owner (user or tenant)."""
    if fair_share_by not in FAIR_SHARE_OWNERS:
        raise ValueError(f"fair_share_by must be one of {FAIR_SHARE_OWNERS}, not {fair_share_by!r}")
    owner = workload.user if fair_share_by == "user" else workload.tenant
    return JobTable(
        submit_s=workload.submit_s.tolist(),
        estimate_s=workload.estimate_s.tolist(),
        procs=workload.procs.tolist(),
        owner=owner.tolist(),
        priority=workload.priority.tolist(),
    )


@dataclass
class SimResult:
    """Per-job records of one run. Arrays are indexed like ``workload`` (the jobs that were simulated)."""

    workload: Workload
    policy: str
    clusters: tuple[ClusterSpec, ...]
    start_s: npt.NDArray[np.float64]
    end_s: npt.NDArray[np.float64]
    cluster: npt.NDArray[np.int64]
    pool: npt.NDArray[np.int64]
    nodes: npt.NDArray[np.int64]
    seed: int = 0
    rejected: dict[str, int] = field(default_factory=dict)

    @property
    def wait_s(self) -> npt.NDArray[np.float64]:
        return self.start_s - self.workload.submit_s

    @property
    def run_s(self) -> npt.NDArray[np.float64]:
        return self.end_s - self.start_s

    @property
    def cores(self) -> int:
        return sum(c.cores for c in self.clusters)

    def summary(self) -> Summary:
        """Mean/p95 wait and JCT, mean bounded slowdown, utilisation, makespan."""
        wl = self.workload
        return summarize(wl.submit_s, self.start_s, self.end_s, wl.procs, self.cores)

    def pool_names(self) -> list[str]:
        """Pool name of each job ('' if it never ran)."""
        names = [[p.name for p in c.pools] for c in self.clusters]
        return [
            names[c][p] if p >= 0 else ""
            for c, p in zip(self.cluster.tolist(), self.pool.tolist(), strict=True)
        ]

    def records(self) -> dict[str, list[float] | list[int] | list[str]]:
        """Per-job columns: job_id, submit_s, start_s, end_s, wait_s, run_s, pool, nodes."""
        return {
            "job_id": self.workload.job_id.tolist(),
            "submit_s": self.workload.submit_s.tolist(),
            "start_s": self.start_s.tolist(),
            "end_s": self.end_s.tolist(),
            "wait_s": self.wait_s.tolist(),
            "run_s": self.run_s.tolist(),
            "pool": self.pool_names(),
            "nodes": self.nodes.tolist(),
        }


class Simulation:
    """Replays ``workload`` on ``clusters``; each cluster runs its own queue engine and policy."""

    def __init__(
        self,
        workload: Workload,
        clusters: Sequence[ClusterSpec],
        policies: Sequence[QueuePolicy],
        *,
        router: Router | None = None,
        rules: EngineRules = STANDARD_RULES,
        seed: int = 0,
        incremental: bool = True,
        fair_share_by: str = "user",
    ) -> None:
        if len(clusters) != len(policies):
            raise ValueError("one policy per cluster")
        if len(clusters) > 1 and router is None:
            raise ValueError("several clusters need a router")
        self.clusters = tuple(clusters)
        self.policies = tuple(policies)
        self.seed = seed
        self.router = router
        # jobs no cluster can ever hold are counted and left out, never silently
        widest = max(c.max_cores_per_job for c in self.clusters)
        too_big = workload.procs > widest
        self.rejected = {"processors > largest pool 处理器数超过最大资源池": int(too_big.sum())}
        self.workload = workload.take(np.flatnonzero(~too_big)) if too_big.any() else workload
        table = job_table(self.workload, fair_share_by)
        self.queues = [
            ClusterQueue(c.pools, table, p, rules=rules, seed=seed, incremental=incremental)
            for c, p in zip(self.clusters, self.policies, strict=True)
        ]

    def run(self, progress: ProgressFn | None = None, progress_every: int = 4096) -> SimResult:
        wl = self.workload
        n = len(wl)
        sub: list[float] = wl.submit_s.tolist()
        run: list[float] = wl.run_s.tolist()
        start = [float("nan")] * n
        cl = [-1] * n
        pool = [-1] * n
        heap: list[tuple[float, int]] = []
        queues = self.queues
        single = len(queues) == 1
        q0 = queues[0]
        router = self.router
        push, pop = heapq.heappush, heapq.heappop
        i = 0
        steps = 0
        done = 0
        report = progress is not None
        if single:
            cl = [0] * n
        while i < n or heap:
            t = heap[0][0] if heap and (i >= n or heap[0][0] <= sub[i]) else sub[i]
            while heap and heap[0][0] <= t:
                _, j = pop(heap)
                queues[cl[j]].finish(j, t)
                done += 1
            while i < n and sub[i] <= t:
                if single:
                    q0.submit(i, t)
                else:
                    c = router(i, t)  # type: ignore[misc]
                    cl[i] = c
                    queues[c].submit(i, t)
                i += 1
            for q in queues:
                for j, p in q.schedule(t):
                    start[j] = t
                    pool[j] = p
                    push(heap, (t + run[j], j))
            if report:
                steps += 1
                if steps % progress_every == 0:
                    progress(done, n)  # type: ignore[misc]
        if progress is not None:
            progress(n, n)
        start_a = np.asarray(start, dtype=np.float64)
        cl_a = np.asarray(cl, dtype=np.int64)
        pool_a = np.asarray(pool, dtype=np.int64)
        nodes = np.zeros(n, dtype=np.int64)
        for c, q in enumerate(queues):
            for p in range(len(self.clusters[c].pools)):
                sel = np.flatnonzero((cl_a == c) & (pool_a == p))
                nodes[sel] = [q.nodes_needed(j, p) for j in sel.tolist()]
        return SimResult(
            workload=wl,
            policy="+".join(dict.fromkeys(p.name for p in self.policies)),
            clusters=self.clusters,
            start_s=start_a,
            end_s=start_a + wl.run_s,
            cluster=cl_a,
            pool=pool_a,
            nodes=nodes,
            seed=self.seed,
            rejected=self.rejected,
        )


def simulate(
    workload: Workload,
    cluster: ClusterSpec | int,
    policy: QueuePolicy | str,
    *,
    rules: EngineRules = STANDARD_RULES,
    seed: int = 0,
    progress: ProgressFn | None = None,
    incremental: bool = True,
    fair_share_by: str = "user",
) -> SimResult:
    """Run one cluster (a :class:`ClusterSpec`, or a core count for one pool of 1-core nodes)."""
    spec = ClusterSpec.single(cluster) if isinstance(cluster, int) else cluster
    pol = get_policy(policy) if isinstance(policy, str) else policy
    sim = Simulation(
        workload, [spec], [pol], rules=rules, seed=seed, incremental=incremental, fair_share_by=fair_share_by
    )
    return sim.run(progress)
