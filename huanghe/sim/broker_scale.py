"""Scale benchmark of the broker: one full scheduling cycle over a large queue, and sustained decisions/s.

The network is :func:`huanghe.catalog.generate.generate_topology` (centers on Shandong's map, 1–3 pools
each) grown until it has the requested number of pools; a seeded share of each pool (0–60 %) is free.
The queue is ``jobs`` jobs drawn (seeded) from a fixed menu, the way real queues repeat a few job shapes:
32 resource shapes (CPU 8–64 cores × 1–32 nodes; GPU 1–8 × 1–4 nodes) × 8 run times × 5 input-data cases
(none for 80 %, else 4 data centers) and 100 tenants, so at most 1,280 distinct job classes. The cycle is
:func:`huanghe.broker.policies.run_cycle` (classes × pools vectorised, one greedy pass over the jobs).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np

from huanghe.broker.batch import JobBatch
from huanghe.broker.policies import HUANGHE, CycleContext, Status, run_cycle
from huanghe.broker.snapshot import KIND_INDEX, NetworkSnapshot
from huanghe.catalog.generate import generate_topology
from huanghe.core.clock import FakeClock
from huanghe.domain.enums import JobKind
from huanghe.domain.network import Topology

CPU_SHAPES = [(c, n) for c in (8, 16, 32, 64) for n in (1, 2, 4, 32)]  # cores per node, nodes
GPU_SHAPES = [(g, n) for g in (1, 2, 4, 8) for n in (1, 1, 2, 4)]  # gpus per node, nodes
DURATIONS_S = (300.0, 900.0, 1800.0, 3600.0, 7200.0, 14400.0, 43200.0, 86400.0)
N_TENANTS = 100


@dataclass(frozen=True)
class CycleTiming:
    """One cycle: sizes, seconds, and what it decided."""

    pools: int
    centers: int
    jobs: int
    classes: int
    cycle_s: float
    placed: int
    explain_s: float  # building the explanations of the placed jobs

    @property
    def decisions_per_s(self) -> float:
        """Placement decisions (with their explanations) per second of cycle time."""
        return self.placed / (self.cycle_s + self.explain_s) if self.cycle_s > 0 else math.inf


def network_with_pools(pools: int, seed: int, centers: int | None = None) -> Topology:
    """A generated network with at least ``pools`` pools (or exactly ``centers`` centers when given)."""
    if centers is not None:
        per = max(1, min(4, round(pools / max(centers, 1))))
        return generate_topology(centers, seed, (per, per))
    c = max(1, math.ceil(pools / 2))
    topo = generate_topology(c, seed)
    while len(topo.pools()) < pools:
        c += max(1, math.ceil((pools - len(topo.pools())) / 2))
        topo = generate_topology(c, seed)
    return topo


def busy_snapshot(topo: Topology, seed: int, free_max: float = 0.6) -> NetworkSnapshot:
    """The network with a seeded free share in [0, free_max] of each pool's nodes."""
    snap = NetworkSnapshot.from_topology(topo, FakeClock(0.0), carbon_shape="synthetic")
    rng = np.random.default_rng(seed)
    free = np.floor(snap.nodes_total * rng.uniform(0.0, free_max, snap.n_pools))
    return snap.with_free(
        free, free * snap.cpus_per_node, free * snap.gpus_per_node, free * snap.mem_gb_per_node
    )


def synthetic_queue(snap: NetworkSnapshot, n: int, seed: int) -> tuple[JobBatch, CycleContext]:
    """``n`` queued jobs from the menu of the module docstring, and a context (priorities, tenants)."""
    rng = np.random.default_rng(seed)
    gpu = rng.random(n) < 0.4
    shape = rng.integers(0, 16, n)
    cpu_c = np.array([s[0] for s in CPU_SHAPES], dtype=np.float64)[shape]
    cpu_n = np.array([s[1] for s in CPU_SHAPES], dtype=np.int64)[shape]
    gpu_g = np.array([s[0] for s in GPU_SHAPES], dtype=np.float64)[shape]
    gpu_n = np.array([s[1] for s in GPU_SHAPES], dtype=np.int64)[shape]
    data = rng.integers(0, 5, n)
    has_data = (rng.random(n) >= 0.8) & (data > 0)
    data_centers = rng.choice(snap.n_centers, size=4, replace=False)
    batch = JobBatch.from_arrays(
        snap,
        n,
        job_ids=[f"j{i}" for i in range(n)],
        kind=np.where(gpu, KIND_INDEX[JobKind.GPU], KIND_INDEX[JobKind.CPU]),
        cpus=np.where(gpu, 8.0 * gpu_g, cpu_c),
        gpus=np.where(gpu, gpu_g, 0.0),
        nodes=np.where(gpu, gpu_n, cpu_n),
        mem_gb=np.where(gpu, 64.0 * gpu_g, 2.0 * cpu_c),
        duration_s=np.asarray(DURATIONS_S)[rng.integers(0, len(DURATIONS_S), n)],
        submit_s=-rng.uniform(0, 3600.0, n),
        data_gb=np.where(has_data, 50.0 * data, 0.0),
        data_center=np.where(has_data, data_centers[np.maximum(data - 1, 0)], -1),
    )
    tenant = rng.integers(0, N_TENANTS, n)
    ctx = CycleContext(
        priority=(rng.random(n) < 0.05).astype(np.int64),
        tenant=tenant,
        tenant_share=rng.uniform(0.0, 0.02, N_TENANTS),
    )
    return batch, ctx


def time_cycle(
    snap: NetworkSnapshot, batch: JobBatch, ctx: CycleContext, policy: str = HUANGHE, explain: bool = True
) -> CycleTiming:
    """Time one cycle (and, with ``explain``, building the explanation of every placed job)."""
    t0 = time.perf_counter()
    res = run_cycle(policy, snap, batch, ctx)
    cycle_s = time.perf_counter() - t0
    placed = [j for j, s in enumerate(res.status) if s == Status.PLACED]
    t1 = time.perf_counter()
    if explain:
        for j in placed:
            res.explanation(j)
    explain_s = time.perf_counter() - t1 if explain else 0.0
    return CycleTiming(
        pools=snap.n_pools,
        centers=snap.n_centers,
        jobs=len(batch),
        classes=int(res.scores.shape[0]),
        cycle_s=cycle_s,
        placed=len(placed),
        explain_s=explain_s,
    )


def sustained(
    snap: NetworkSnapshot, jobs_per_cycle: int, cycles: int, seed: int, explain: bool = True
) -> tuple[float, list[CycleTiming]]:
    """Placement decisions per second over ``cycles`` cycles, each on a fresh queue and a fresh free state."""
    timings = []
    for c in range(cycles):
        s = busy_snapshot_from(snap, seed + c)
        batch, ctx = synthetic_queue(s, jobs_per_cycle, seed + 1000 + c)
        timings.append(time_cycle(s, batch, ctx, explain=explain))
    placed = sum(t.placed for t in timings)
    total = sum(t.cycle_s + t.explain_s for t in timings)
    return (placed / total if total > 0 else math.inf), timings


def busy_snapshot_from(snap: NetworkSnapshot, seed: int, free_max: float = 0.6) -> NetworkSnapshot:
    """``snap`` with a new seeded free share per pool (same network)."""
    rng = np.random.default_rng(seed)
    free = np.floor(snap.nodes_total * rng.uniform(0.0, free_max, snap.n_pools))
    return snap.with_free(
        free, free * snap.cpus_per_node, free * snap.gpus_per_node, free * snap.mem_gb_per_node
    )
