"""The ONE way a :class:`~huanghe.broker.cycle_context.CycleContext` is built, by the live loop
(:mod:`huanghe.jobs.placing`, from the store) and by the simulator (:mod:`huanghe.sim.network_sim`, from its
event state): both describe the jobs holding capacity as :class:`RunningJobs` and the queued jobs' priorities
and tenants, and :func:`cycle_context` turns them into tenants' dominant shares and per-pool release profiles.

Definitions (the same on both clocks):

- a tenant's **dominant share** = max(its cores held / the network's cores, its GPUs held / the network's
  GPUs), over the jobs holding capacity (DRF, :class:`~huanghe.broker.fairshare.DominantShares`);
- a pool's **release profile** = the estimated end times (seconds, not before ``now``, ascending) and node
  units (nodes × node share) of the jobs holding capacity there, for EASY reservations.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from huanghe.broker.cycle_context import CycleContext, Weights
from huanghe.broker.snapshot import NetworkSnapshot

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True)
class RunningJobs:
    """R jobs holding capacity now: ``pool`` index, ``tenant`` index (-1 none), ``est_end_s`` estimated end
    (s, on the snapshot's clock), ``units`` node units (nodes × node share of the pool), ``cpus`` / ``gpus``
    cores and GPUs held in total (nodes × per node)."""

    pool: IntArray
    tenant: IntArray
    est_end_s: FloatArray
    units: FloatArray
    cpus: FloatArray
    gpus: FloatArray

    @classmethod
    def empty(cls) -> RunningJobs:
        z = np.zeros(0)
        return cls(np.zeros(0, np.int64), np.zeros(0, np.int64), z, z, z, z)

    @classmethod
    def of(
        cls,
        pool: npt.ArrayLike,
        tenant: npt.ArrayLike,
        est_end_s: npt.ArrayLike,
        units: npt.ArrayLike,
        cpus: npt.ArrayLike,
        gpus: npt.ArrayLike,
    ) -> RunningJobs:
        return cls(
            np.asarray(pool, dtype=np.int64).reshape(-1),
            np.asarray(tenant, dtype=np.int64).reshape(-1),
            np.asarray(est_end_s, dtype=np.float64).reshape(-1),
            np.asarray(units, dtype=np.float64).reshape(-1),
            np.asarray(cpus, dtype=np.float64).reshape(-1),
            np.asarray(gpus, dtype=np.float64).reshape(-1),
        )


def tenant_shares(snap: NetworkSnapshot, running: RunningJobs, n_tenants: int) -> FloatArray:
    """(T,) dominant share of each tenant ``0 .. n_tenants - 1`` (0 with nothing running)."""
    cap_cpus = max(float((snap.cpus_per_node * snap.nodes_total).sum()), 1.0)
    cap_gpus = max(float((snap.gpus_per_node * snap.nodes_total).sum()), 1.0)
    n = max(int(n_tenants), 1)
    cpus = np.zeros(n)
    gpus = np.zeros(n)
    ok = (running.tenant >= 0) & (running.tenant < n)
    np.add.at(cpus, running.tenant[ok], running.cpus[ok])
    np.add.at(gpus, running.tenant[ok], running.gpus[ok])
    out: FloatArray = np.maximum(cpus / cap_cpus, gpus / cap_gpus)
    return out


def release_profiles(
    snap: NetworkSnapshot, running: RunningJobs, now_s: float
) -> list[tuple[FloatArray, FloatArray]]:
    """Per pool: (estimated end times clipped to ``now_s``, node units), ordered by end then units."""
    out: list[tuple[FloatArray, FloatArray]] = []
    order = np.lexsort((running.units, running.est_end_s, running.pool))
    pool = running.pool[order]
    ends = running.est_end_s[order]
    units = running.units[order]
    bounds = np.searchsorted(pool, np.arange(snap.n_pools + 1))
    for p in range(snap.n_pools):
        lo, hi = int(bounds[p]), int(bounds[p + 1])
        out.append((np.maximum(ends[lo:hi], now_s), units[lo:hi].copy()))
    return out


def cycle_context(
    snap: NetworkSnapshot,
    running: RunningJobs,
    priority: npt.ArrayLike,
    tenant: npt.ArrayLike,
    n_tenants: int,
    *,
    cycle_s: float,
    seed: int = 0,
    weights: Weights | None = None,
) -> CycleContext:
    """The context of one cycle at ``snap.t_s``: ``priority`` and ``tenant`` (index, -1 none) per queued job
    (batch order), tenants' dominant shares and pools' release profiles from ``running``; ``cycle_s`` the
    time to the next cycle (s)."""
    return CycleContext(
        priority=np.asarray(priority, dtype=np.int64),
        tenant=np.asarray(tenant, dtype=np.int64),
        tenant_share=tenant_shares(snap, running, n_tenants),
        releases=release_profiles(snap, running, snap.t_s),
        cycle_s=float(cycle_s),
        seed=seed,
        weights=weights or Weights(),
    )


def node_units(
    snap: NetworkSnapshot, pool: int, nodes: int, cpus: float, gpus: float, mem_gb: float
) -> float:
    """Node units a job holds in ``pool``: ``nodes`` × its node share (largest of its core, GPU and memory
    fractions of one node, at most 1), the simulator's and the cycle's capacity unit."""
    share = 0.0
    for req, per in (
        (cpus, snap.cpus_per_node[pool]),
        (gpus, snap.gpus_per_node[pool]),
        (mem_gb, snap.mem_gb_per_node[pool]),
    ):
        if req > 0 and per > 0:
            share = max(share, float(req) / float(per))
    return float(nodes) * min(share, 1.0)


def running_backlog_s(snap: NetworkSnapshot, running: RunningJobs, now_s: float) -> FloatArray:
    """(P,) the estimated remaining work of the running jobs (node units × seconds left) per node unit of the
    pool: the wait a new job that needs the whole pool would see (the simulator adds its pools' queues)."""
    work = np.zeros(snap.n_pools)
    np.add.at(work, running.pool, running.units * np.maximum(running.est_end_s - now_s, 0.0))
    out: FloatArray = work / np.maximum(snap.nodes_total.astype(np.float64), 1.0)
    return out
