"""Speed of the broker's pure core: filters + estimates for many jobs over every pool of a network.

Baseline: the same work one job at a time (a batch of 1 per call), in the same run. Prints jobs per second
and the speed-up of the vectorised batch. Usage::

    .venv/bin/python bench/broker_core.py --network shandong-mini --jobs 5000 --seed 1
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from huanghe.broker.batch import JobBatch
from huanghe.broker.estimates import estimate
from huanghe.broker.filters import apply_filters
from huanghe.broker.snapshot import KINDS, NetworkSnapshot
from huanghe.catalog.topology import load_topology
from huanghe.core.clock import FakeClock


def make_records(snap: NetworkSnapshot, n: int, seed: int) -> list[dict[str, object]]:
    rng = np.random.default_rng(seed)
    out: list[dict[str, object]] = []
    for i in range(n):
        kind = KINDS[int(rng.integers(len(KINDS)))]
        gpu = kind in ("gpu", "inference")
        out.append(
            {
                "job_id": f"j{i}",
                "kind": str(kind),
                "cpus": int(rng.choice([4, 8, 16, 32])),
                "gpus": int(rng.choice([1, 2, 4, 8])) if gpu else 0,
                "nodes": int(rng.choice([1, 1, 1, 2, 4])),
                "mem_gb": 32.0,
                "duration_s": float(rng.lognormal(8.0, 1.0)),
                "data_gb": float(rng.lognormal(2.0, 1.5)),
                "data_center": snap.center_ids[int(rng.integers(snap.n_centers))],
                "data_class": str(rng.choice(["general", "general", "important"])),
                "user_city": snap.city_ids[int(rng.integers(len(snap.city_ids)))]
                if kind == "inference"
                else "",
                "latency_slo_ms": 3.0 if kind == "inference" else "",
            }
        )
    return out


def run(snap: NetworkSnapshot, jobs: JobBatch) -> float:
    t0 = time.perf_counter()
    rep = apply_filters(snap, jobs)
    est = estimate(snap, jobs)
    _ = np.where(rep.feasible, est.cost_cny, np.inf).argmin(axis=1)
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--network", default="shandong-mini")
    ap.add_argument("--jobs", type=int, default=5000)
    ap.add_argument("--baseline-jobs", type=int, default=500, help="jobs timed one at a time")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()

    snap = NetworkSnapshot.from_topology(load_topology(args.network), FakeClock(0.0))
    recs = make_records(snap, args.jobs, args.seed)
    t0 = time.perf_counter()
    jobs = JobBatch.from_records(snap, recs)
    build_s = time.perf_counter() - t0
    batch_s = min(run(snap, jobs) for _ in range(3))
    singles = [JobBatch.from_records(snap, [r]) for r in recs[: args.baseline_jobs]]
    single_s = sum(run(snap, j) for j in singles)

    batch_rate = args.jobs / batch_s
    single_rate = len(singles) / single_s
    print(f"network {args.network}: {snap.n_pools} pools, {snap.n_centers} centers")
    print(f"JobBatch.from_records: {args.jobs} jobs in {build_s:.3f} s ({args.jobs / build_s:,.0f} jobs/s)")
    print(f"filters+estimates, batch of {args.jobs}: {batch_s:.3f} s = {batch_rate:,.0f} jobs/s")
    print(f"filters+estimates, one job per call (baseline, {len(singles)} jobs): {single_rate:,.0f} jobs/s")
    print(f"speed-up of the batch over the baseline: {batch_rate / single_rate:.1f}x")


if __name__ == "__main__":
    main()
