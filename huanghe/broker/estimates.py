"""Estimates per job × candidate pool, all (J, P) arrays, units in names.

For job ``j`` in pool ``p`` of center ``c`` at snapshot time ``now = snapshot.t_s``:

* ``share`` = the node share the job uses per node (largest of its CPU, GPU, memory fractions, ≤ 1);
* ``fits_now``: the free resources hold the job now (gangs and whole-node jobs need ``nodes ≤ nodes_free``;
  smaller jobs need the pool's free totals) and nobody is queued in the pool;
* ``wait_s`` = 0 if ``fits_now`` else the pool's ``backlog_s`` (the queue's estimate);
* ``transfer_s`` = ``data_gb × 8 / bandwidth_gbps[data_center, c] + latency_ms[data_center, c] / 1000``, 0 when
  there is no input data or it already lives in ``c``;
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


def transfer_s(snap: NetworkSnapshot, jobs: JobBatch) -> FloatArray:
    """(J, P) seconds to bring the job's input data to each pool's center (0 when local or none)."""
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
    )
