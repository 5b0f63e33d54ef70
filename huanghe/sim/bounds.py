"""Lower bounds of a workload on a network, beside every simulated result (issue #15).

For each job ``j`` and each pool ``p`` it may use (the filters below, judged on the idle network):

* **No-contention JCT bound**: ``jct_j = min_p transfer_s(j, p) + duration_s_j / speed(p, kind_j)``: the job
  alone on the network, on its fastest feasible pool from its submission, with the transfer of its input (when
  the simulator charges transfers, ``transfers=True``; else the transfer is 0). ``duration_s`` is the **true**
  run time the simulator runs, not the estimate. No schedule can end a job earlier: a job waits ≥ 0 and its
  input arrives ``transfer_s`` after it is bound at the earliest.
* **Carbon bound**: ``carbon_j = min_p energy(j, p) × I_min(center(p), window_j)``, with ``energy`` = nodes ×
  node share × run hours × power per node × PUE (what :class:`~huanghe.sim.network_result.NetworkSimResult`
  charges) and ``I_min`` the lowest hourly intensity of the center during the job's window: ``[submit,
  deadline]`` for a job with a deadline (the cleanest pool and hour within its deadline), the whole year of
  the signal for one without (it may start any time). The mean intensity over a run is at least the lowest
  hourly value it covers, so a schedule that meets the deadlines cannot emit less.

Two feasible sets: ``rules="all"`` (every filter: health, resources, accelerator, back-end, data class, latency
SLO, price cap), the bound of a policy that keeps the rules (``huanghe``, ``earliest-*``), and ``rules="hard"``
(health, resources, accelerator, back-end: what every policy applies), the bound of every policy, the ones
that break residency and latency rules included. Sums over jobs: ``mean_jct_s`` and ``carbon_kg``.

Pure and vectorised over chunks of jobs × pools (:data:`CHUNK` jobs at a time).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt

from huanghe.broker.batch import JobBatch, node_share
from huanghe.broker.carbon import HOURS_PER_YEAR, SECONDS_PER_HOUR
from huanghe.broker.cycle_context import FIRST_ADMIT, HUANGHE, POLICY_FILTERS
from huanghe.broker.estimates import transfer_s
from huanghe.broker.filters import apply_filters
from huanghe.broker.job_classes import subset_report, take_jobs
from huanghe.broker.snapshot import NetworkSnapshot
from huanghe.sim.network_jobs import NetworkJobs

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]
Rules = Literal["all", "hard"]

#: Start window of a job without a deadline in the carbon bound (s after submission, besides its run).
NO_DEADLINE_SLACK_S = 86400.0
#: Jobs per chunk (bounds memory to CHUNK × pools floats per array).
CHUNK = 20000


@dataclass(frozen=True, eq=False)
class Bounds:
    """Per-job lower bounds (``inf`` for a job no pool may take) and their sums."""

    jct_s: FloatArray  # (J,) seconds from submission
    carbon_kg: FloatArray  # (J,)
    rules: str
    transfers: bool
    slack_s: float | None

    @property
    def mean_jct_s(self) -> float:
        return float(self.jct_s.mean()) if self.jct_s.size else math.nan

    @property
    def total_carbon_kg(self) -> float:
        return float(self.carbon_kg.sum())

    def summary(self) -> dict[str, float | str | bool | None]:
        return {
            "mean_jct_s": self.mean_jct_s,
            "carbon_kg": self.total_carbon_kg,
            "rules": self.rules,
            "transfers": self.transfers,
            "no_deadline_slack_s": self.slack_s,
            "jobs_without_pool": int((~np.isfinite(self.jct_s)).sum()),
        }


def feasible_pools(snap: NetworkSnapshot, batch: JobBatch, rules: Rules) -> BoolArray:
    """(J, P) pools each job may use on the idle network under ``rules`` (see the module docstring)."""
    report = apply_filters(snap, batch)
    if rules == "all":
        return np.asarray(subset_report(report, POLICY_FILTERS[HUANGHE]).feasible)
    if rules == "hard":
        return np.asarray(subset_report(report, POLICY_FILTERS[FIRST_ADMIT]).feasible)
    raise ValueError(f"rules must be 'all' or 'hard', got {rules!r}")


def window_min_intensity(
    snap: NetworkSnapshot, start_s: FloatArray, end_s: FloatArray, centers: list[int] | None = None
) -> FloatArray:
    """(J, C) lowest hourly intensity of every center (or of ``centers``) over the hours touched by
    ``[start_s, end_s]``; the whole year's lowest where ``end_s`` is NaN or the window spans a year.

    A sparse table (range minimum) over the hours the windows cover, so the cost is ``O(C × L log L + J × C)``
    for ``L`` hours."""
    hourly = snap.carbon.hourly_kg_per_kwh  # (C, 8760)
    if centers is not None:
        hourly = hourly[centers]
    out = np.broadcast_to(hourly.min(axis=1), (len(start_s), hourly.shape[0])).copy()
    h0 = np.floor(np.asarray(start_s, dtype=np.float64) / SECONDS_PER_HOUR).astype(np.int64)
    ok = ~np.isnan(end_s)
    h1 = np.floor(np.where(ok, end_s, start_s) / SECONDS_PER_HOUR).astype(np.int64)
    h1 = np.maximum(h1, h0)
    ok &= (h1 - h0) < HOURS_PER_YEAR
    idx = np.flatnonzero(ok)
    if idx.size == 0:
        return out
    lo = int(h0[idx].min())
    a, b = h0[idx] - lo, h1[idx] - lo
    length = int(b.max()) + 1
    table = [hourly[:, np.arange(lo, lo + length) % HOURS_PER_YEAR]]  # table[k][:, i] = min of [i, i + 2^k)
    while 2 ** len(table) <= length:
        prev, half = table[-1], 2 ** (len(table) - 1)
        table.append(np.minimum(prev[:, :-half], prev[:, half:]))
    k = np.floor(np.log2(b - a + 1)).astype(np.int64)
    for level in np.unique(k).tolist():
        sel = k == level
        t = table[level]
        left, right = a[sel], b[sel] - 2**level + 1
        out[idx[sel]] = np.minimum(t[:, left], t[:, right]).T
    return out


def _chunk_bounds(
    snap: NetworkSnapshot,
    jobs: NetworkJobs,
    idx: npt.NDArray[np.intp],
    rules: Rules,
    transfers: bool,
    slack_s: float | None,
) -> tuple[FloatArray, FloatArray]:
    batch = take_jobs(jobs.batch, idx)
    feasible = feasible_pools(snap, batch, rules)
    speed = snap.speed[:, batch.kind].T  # (J, P)
    true_s = jobs.duration_s[idx][:, None]
    with np.errstate(divide="ignore", invalid="ignore"):
        run = np.where(speed > 0, true_s / speed, np.inf)
    xfer = transfer_s(snap, batch) if transfers else np.zeros_like(run)
    jct = np.where(feasible, xfer + run, np.inf).min(axis=1)
    share = node_share(batch, snap)
    with np.errstate(invalid="ignore"):
        energy = (
            batch.nodes[:, None]
            * share
            * run
            / SECONDS_PER_HOUR
            * snap.power_kw_per_node[None, :]
            * snap.pue[snap.pool_center][None, :]
        )
    deadline = jobs.deadline_abs_s[idx]
    if slack_s is None:
        i_min = window_min_intensity(snap, batch.submit_s, deadline)[:, snap.pool_center]  # (J, P)
    else:
        i_min = np.empty_like(run)
        runs = np.where(np.isfinite(run), run, 0.0)
        for p in range(snap.n_pools):  # the window of a job without a deadline depends on its run there
            end = np.where(np.isnan(deadline), batch.submit_s + runs[:, p] + slack_s, deadline)
            c = int(snap.pool_center[p])
            i_min[:, p] = window_min_intensity(snap, batch.submit_s, end, centers=[c])[:, 0]
    carbon = np.where(feasible & np.isfinite(energy), energy * i_min, np.inf).min(axis=1)
    return jct, carbon


def lower_bounds(
    snap: NetworkSnapshot,
    jobs: NetworkJobs,
    *,
    rules: Rules = "all",
    transfers: bool = True,
    slack_s: float | None = NO_DEADLINE_SLACK_S,
) -> Bounds:
    """Per-job no-contention JCT and carbon bounds of ``jobs`` on the idle network ``snap`` (module docstring).
    ``transfers`` must match the simulator's ``transfers`` for the JCT bound to bound its results."""
    n = len(jobs)
    jct = np.empty(n)
    carbon = np.empty(n)
    for lo in range(0, n, CHUNK):
        idx = np.arange(lo, min(lo + CHUNK, n))
        jct[idx], carbon[idx] = _chunk_bounds(snap, jobs, idx, rules, transfers, slack_s)
    return Bounds(jct_s=jct, carbon_kg=carbon, rules=rules, transfers=transfers, slack_s=slack_s)


__all__ = ["CHUNK", "NO_DEADLINE_SLACK_S", "Bounds", "feasible_pools", "lower_bounds", "window_min_intensity"]
