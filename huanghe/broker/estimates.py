"""Estimates per job × candidate pool, all (J, P) arrays, units in names.

For job ``j`` in pool ``p`` of center ``c`` at snapshot time ``now = snapshot.t_s``:

* ``share`` = the node share the job uses per node (largest of its CPU, GPU, memory fractions, ≤ 1);
* ``fits_now``: the free resources hold the job now (gangs and whole-node jobs need ``nodes ≤ nodes_free``;
  smaller jobs need the pool's free totals) and nobody is queued in the pool;
* ``wait_s`` = 0 if ``fits_now`` else the pool's ``backlog_s`` (the queue's estimate);
* ``transfer_s`` = ``data_gb × 8 / bandwidth_gbps[src, c] + latency_ms[src, c] / 1000`` from the nearest
  source ``src`` (the minimum over the job's ``data_sources``, the centers holding a complete copy; the home
  ``data_center`` when it lists none), 0 when there is no input data or ``c`` holds a copy;
* ``start_s`` = ``now + max(wait_s, transfer_s)`` (the transfer runs while the job waits in the queue);
* ``run_s`` = ``duration_s / speed[p, kind]``; ``end_s = start_s + run_s``;
* ``energy_it_kwh`` = ``nodes × power_kw_per_node × share × run_s / 3600``;
  ``energy_facility_kwh`` = ``energy_it_kwh × pue[c]``;
* ``cost_cny`` = ``price_cny_per_node_hour × nodes × share × run_s / 3600``;
* ``carbon_kg`` = ``energy_facility_kwh ×`` the time-average of the center's effective hourly intensity over
  ``[start_s, end_s)`` (grid factor × hourly shape × (1 − renewable share), see :mod:`carbon`), i.e. the
  integral of a constant power over the hourly signal;
* ``deadline_ok``: ``end_s ≤ submit_s + deadline_s`` (True without a deadline).

Pairs where the job cannot run (a request larger than a node, speed 0) get ``inf`` times and NaN energy, cost
and carbon; use the filters' feasible mask to ignore them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from huanghe.broker.batch import JobBatch, node_share
from huanghe.broker.snapshot import NetworkSnapshot
from huanghe.domain.usage import billed_node_hours

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

SECONDS_PER_HOUR = 3600.0


@dataclass(frozen=True, eq=False)
class Estimates:
    """(J, P) estimates; see the module docstring for each formula."""

    share: FloatArray
    fits_now: BoolArray
    wait_s: FloatArray
    transfer_s: FloatArray
    start_s: FloatArray
    run_s: FloatArray
    end_s: FloatArray
    energy_it_kwh: FloatArray
    energy_facility_kwh: FloatArray
    cost_cny: FloatArray
    carbon_kg: FloatArray
    deadline_ok: BoolArray
    #: the batch and snapshot the estimates were made for (the data term is computed from them on demand)
    inputs: tuple[NetworkSnapshot, JobBatch] | None = None

    def data_term(self, job: int, pool: int) -> DataTerm | None:
        """What the pair's ``transfer_s`` moves (None without input data or without :attr:`inputs`)."""
        if self.inputs is None:
            return None
        return data_term(*self.inputs, job, pool)

    def terms(self, job: int, pool: int) -> dict[str, float]:
        """The estimates of one pair as plain floats (for explanations)."""
        return {
            name: float(getattr(self, name)[job, pool])
            for name in (
                "wait_s",
                "transfer_s",
                "start_s",
                "run_s",
                "end_s",
                "energy_it_kwh",
                "energy_facility_kwh",
                "cost_cny",
                "carbon_kg",
            )
        }


def fits_now(snap: NetworkSnapshot, jobs: JobBatch, share: FloatArray | None = None) -> BoolArray:
    """(J, P) the job could start in the pool right now (see module docstring)."""
    sh = node_share(jobs, snap) if share is None else share
    n = jobs.nodes[:, None]
    totals = (
        (n * jobs.cpus[:, None] <= snap.cpus_free[None, :] + 1e-9)
        & (n * jobs.gpus[:, None] <= snap.gpus_free[None, :] + 1e-9)
        & (n * jobs.mem_gb[:, None] <= snap.mem_gb_free[None, :] + 1e-9)
    )
    whole = (n > 1) | (sh >= 1.0 - 1e-9)
    nodes_ok = ~whole | (n <= snap.nodes_free[None, :])
    out: BoolArray = np.isfinite(sh) & totals & nodes_ok & (snap.queued_jobs[None, :] == 0)
    return out


@dataclass(frozen=True)
class DataTerm:
    """The data term of one (job, pool) pair: ``bytes`` (10^9 per GB) to move from center ``source`` (None
    when the pool's center holds a copy) in ``transfer_s`` seconds."""

    bytes: int
    source: str | None
    transfer_s: float

    def to_dict(self) -> dict[str, object]:
        return {"bytes": self.bytes, "from": self.source, "transfer_s": self.transfer_s}


def data_term(snap: NetworkSnapshot, jobs: JobBatch, job: int, pool: int) -> DataTerm | None:
    """The data term of one pair (see :class:`DataTerm`), the same formula as :func:`transfer_s`."""
    gb = float(jobs.data_gb[job])
    if not gb > 0:
        return None
    dst = int(snap.pool_center[pool])
    row = jobs.data_sources[job]
    sources = [int(c) for c in row if c >= 0] or (
        [int(jobs.data_center[job])] if jobs.data_center[job] >= 0 else []
    )
    if not sources:
        return None
    if dst in sources:
        return DataTerm(0, None, 0.0)
    best_s, best_c = math.inf, sources[0]
    for c in sources:
        bw = float(snap.bandwidth_gbps[c, dst])
        t = (gb * 8.0 / bw if bw > 0 else math.inf) + float(snap.latency_ms[c, dst]) / 1000.0
        if t < best_s:
            best_s, best_c = t, c
    return DataTerm(round(gb * 1e9), snap.center_ids[best_c], best_s)


def transfer_s(snap: NetworkSnapshot, jobs: JobBatch) -> FloatArray:
    """(J, P) seconds to bring the job's input data to each pool's center from its nearest source (0 when a
    copy is there or there is no input). Rows with ``data_sources`` take the minimum over them (J_s × S × P
    work for those rows only); the others use ``data_center``."""
    out = _transfer_from_home(snap, jobs)
    if jobs.data_sources.shape[1] == 0:
        return out
    rows = np.flatnonzero((jobs.data_sources >= 0).any(axis=1) & (jobs.data_gb > 0))
    if rows.size:
        out[rows] = _transfer_from_sources(snap, jobs.data_gb[rows], jobs.data_sources[rows])
    return out


def _transfer_from_sources(
    snap: NetworkSnapshot, data_gb: FloatArray, sources: npt.NDArray[np.int64]
) -> FloatArray:
    """(R, P) minimum over each row's sources (R × S, -1 = none) of ``gb × 8 / bw + latency``; 0 where the
    pool's center is a source. Computed per destination center (R × S × C), then spread to the pools."""
    src = np.maximum(sources, 0)
    with np.errstate(divide="ignore"):
        t = data_gb[:, None, None] * 8.0 / snap.bandwidth_gbps[src] + snap.latency_ms[src] / 1000.0
    t[sources < 0] = np.inf
    per_center = t.min(axis=1)  # (R, C)
    rows, cols = np.nonzero(sources >= 0)
    per_center[rows, sources[rows, cols]] = 0.0  # a copy is there
    out: FloatArray = per_center[:, snap.pool_center]
    return out


def _transfer_from_home(snap: NetworkSnapshot, jobs: JobBatch) -> FloatArray:
    """(J, P) seconds from ``data_center`` (the single-source formula)."""
    src = np.maximum(jobs.data_center, 0)
    dst = snap.pool_center
    bw = snap.bandwidth_gbps[src][:, dst]
    lat = snap.latency_ms[src][:, dst]
    remote = (
        (jobs.data_center[:, None] >= 0) & (jobs.data_gb[:, None] > 0) & (jobs.data_center[:, None] != dst)
    )
    with np.errstate(divide="ignore"):
        t = jobs.data_gb[:, None] * 8.0 / bw + lat / 1000.0
    out: FloatArray = np.where(remote, t, 0.0)
    return out


def run_s(snap: NetworkSnapshot, jobs: JobBatch) -> FloatArray:
    """(J, P) run time in each pool: reference duration / the pool's speed for the job's kind (inf at 0)."""
    speed = snap.speed[:, jobs.kind].T
    with np.errstate(divide="ignore"):
        out: FloatArray = np.where(speed > 0, jobs.duration_s[:, None] / speed, np.inf)
    return out


def estimate(snap: NetworkSnapshot, jobs: JobBatch) -> Estimates:
    """All estimates for every (job, pool) pair of the batch."""
    share = node_share(jobs, snap)
    now_ok = fits_now(snap, jobs, share)
    wait = np.where(now_ok, 0.0, snap.backlog_s[None, :])
    xfer = transfer_s(snap, jobs)
    start = snap.t_s + np.maximum(wait, xfer)
    run = run_s(snap, jobs)
    end = start + run
    ok = np.isfinite(share) & np.isfinite(run) & np.isfinite(start)
    with np.errstate(invalid="ignore"):
        node_hours = np.where(ok, billed_node_hours(jobs.nodes[:, None] * 1.0, share, run), np.nan)
    it_kwh = node_hours * snap.power_kw_per_node[None, :]
    fac_kwh = it_kwh * snap.pue[snap.pool_center][None, :]
    cost = node_hours * snap.price_cny_per_node_hour[None, :]
    centers = np.broadcast_to(snap.pool_center[None, :], share.shape)
    safe_start = np.where(ok, start, snap.t_s)
    safe_end = np.where(ok, end, snap.t_s)
    intensity = snap.carbon.mean_intensity_kg_per_kwh(centers, safe_start, safe_end)
    carbon = fac_kwh * intensity
    deadline = jobs.submit_s + jobs.deadline_s
    deadline_ok = np.isnan(deadline)[:, None] | (end <= deadline[:, None])
    return Estimates(
        share=share,
        fits_now=now_ok,
        wait_s=wait,
        transfer_s=xfer,
        start_s=start,
        run_s=run,
        end_s=end,
        energy_it_kwh=it_kwh,
        energy_facility_kwh=fac_kwh,
        cost_cny=cost,
        carbon_kg=carbon,
        deadline_ok=deadline_ok,
        inputs=(snap, jobs),
    )
