"""What one policy's run of the multi-center simulator gives: per-job start, end, pool and node units, the
cost, energy and carbon they imply, rule violations (residency, latency, deadline), the per-policy summary of
docs/bench-broker-policies.md and per-job records."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from huanghe.broker.snapshot import NetworkSnapshot
from huanghe.sim.job_metrics import bounded_slowdown
from huanghe.sim.network_jobs import NetworkJobs

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

EPS = 1e-9
SECONDS_PER_HOUR = 3600.0


@dataclass(eq=False)
class NetworkSimResult:
    """Per-job records of one policy's run (arrays indexed like the workload) and its summary."""

    policy: str
    snapshot: NetworkSnapshot  # the idle network (ids, prices, energy, carbon signal)
    jobs: NetworkJobs
    start_s: FloatArray  # NaN = never started
    end_s: FloatArray  # NaN = did not end
    pool: IntArray  # -1 = never placed
    units: FloatArray  # node units held
    unfinished: dict[str, int]
    explanations: list[dict[str, Any] | None]
    cycles: int
    wall_s: float
    cost_cny: FloatArray = field(init=False)
    carbon_kg: FloatArray = field(init=False)
    energy_kwh: FloatArray = field(init=False)

    def __post_init__(self) -> None:
        snap = self.snapshot
        ran = ~np.isnan(self.end_s)
        p = np.maximum(self.pool, 0)
        c = snap.pool_center[p]
        hours = np.where(ran, (self.end_s - self.start_s) / SECONDS_PER_HOUR, 0.0)
        node_h = self.units * hours
        self.cost_cny = np.where(ran, node_h * snap.price_cny_per_node_hour[p], 0.0)
        self.energy_kwh = np.where(ran, node_h * snap.power_kw_per_node[p] * snap.pue[c], 0.0)
        st = np.where(ran, self.start_s, 0.0)
        en = np.where(ran, self.end_s, 0.0)
        intensity = snap.carbon.mean_intensity_kg_per_kwh(c, st, en)
        self.carbon_kg = np.where(ran, self.energy_kwh * intensity, 0.0)

    @property
    def center(self) -> IntArray:
        out: IntArray = np.where(self.pool >= 0, self.snapshot.pool_center[np.maximum(self.pool, 0)], -1)
        return out

    def violations(self) -> dict[str, npt.NDArray[np.bool_]]:
        """Per-job rule violations of the placed jobs (full rules, whatever the policy applied)."""
        snap, b = self.snapshot, self.jobs.batch
        placed = self.pool >= 0
        c = np.maximum(self.center, 0)
        rows = np.arange(len(b))
        residency = placed & ~b.allowed_centers[rows, c]
        city = np.maximum(b.user_city, 0)
        lat = snap.city_latency_ms[city, c]
        checked = (b.user_city >= 0) & ~np.isnan(b.latency_slo_ms)
        latency = placed & checked & (lat > b.latency_slo_ms + EPS)
        dl = self.jobs.deadline_abs_s
        with np.errstate(invalid="ignore"):
            deadline = ~np.isnan(self.end_s) & ~np.isnan(dl) & (self.end_s > dl + EPS)
        return {"residency": residency, "latency": latency, "deadline": deadline}

    def summary(self) -> dict[str, Any]:
        """The per-policy JSON summary (see docs/bench-broker-policies.md). Utilisation = node-hours used /
        (node units of the whole network × makespan); JCT = end − submit over the jobs that ended."""
        snap = self.snapshot
        ran = ~np.isnan(self.end_s)
        sub = self.jobs.batch.submit_s[ran]
        wait = self.start_s[ran] - sub
        run = self.end_s[ran] - self.start_s[ran]
        jct = wait + run
        n = int(ran.sum())
        makespan = float(self.end_s[ran].max() - sub.min()) if n else 0.0
        capacity = float(snap.nodes_total.sum()) * makespan
        per_center = np.bincount(self.center[self.pool >= 0], minlength=snap.n_centers)
        viol = self.violations()

        def stat(x: FloatArray, q: float | None = None) -> float | None:
            if x.size == 0:
                return None
            return float(np.percentile(x, q)) if q is not None else float(x.mean())

        return {
            "jobs": n,
            "unfinished": dict(self.unfinished),
            "mean_jct_s": stat(jct),
            "p95_jct_s": stat(jct, 95),
            "mean_wait_s": stat(wait),
            "mean_bsld": stat(bounded_slowdown(wait, run)) if n else None,
            "utilisation": float((self.units[ran] * run).sum() / capacity) if capacity > 0 else 0.0,
            "cost_cny": float(self.cost_cny.sum()),
            "carbon_kg": float(self.carbon_kg.sum()),
            "energy_kwh": float(self.energy_kwh.sum()),
            "violations": {k: int(v.sum()) for k, v in viol.items()},
            "jobs_per_center": {
                snap.center_ids[i]: int(v) for i, v in enumerate(per_center.tolist()) if v > 0
            },
            "cycles": self.cycles,
            "wall_s": self.wall_s,
        }

    def records(self) -> dict[str, list[Any]]:
        """Per-job columns: job_id, submit_s, start_s, end_s, wait_s, run_s, pool, center, cost_cny,
        carbon_kg, violations (comma-separated), explanation (dict or None)."""
        snap = self.snapshot
        viol = self.violations()
        names = [",".join(k for k, v in viol.items() if v[j]) for j in range(len(self.jobs))]
        return {
            "job_id": list(self.jobs.batch.job_ids),
            "submit_s": self.jobs.batch.submit_s.tolist(),
            "start_s": self.start_s.tolist(),
            "end_s": self.end_s.tolist(),
            "wait_s": (self.start_s - self.jobs.batch.submit_s).tolist(),
            "run_s": (self.end_s - self.start_s).tolist(),
            "pool": [snap.pool_ids[p] if p >= 0 else "" for p in self.pool.tolist()],
            "center": [snap.center_ids[c] if c >= 0 else "" for c in self.center.tolist()],
            "cost_cny": self.cost_cny.tolist(),
            "carbon_kg": self.carbon_kg.tolist(),
            "violations": names,
            "explanation": list(self.explanations),
        }
