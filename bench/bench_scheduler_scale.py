"""Speed and optimality of the broker's cycle.

1. Scale: one ``huanghe`` cycle over ``--jobs`` queued jobs on a generated network of ``--pools`` pools
   (Armada's published round: 1,000 nodes × 320,000 jobs ≈ 1.3 s, BENCHMARKS.md §4), and, as the baseline in
   the same run, the engine's generic per-job path (``PlacementEngine('earliest-start')``, J × P dense,
   eager explanations) on the first ``--baseline-jobs`` jobs of the same queue: decisions per second of each.
2. Sustained placement decisions/s with ``--centers`` centers.
3. Optimality on small instances (the bundled network with 0–5 % of each pool free, ``--small-jobs`` jobs):
   the greedy cycle (no waiting for busy pools) and the MILP batch mode against the LP lower bound.

Usage::

    .venv/bin/python bench/bench_scheduler_scale.py --pools 1000 --jobs 320000 --centers 200
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from huanghe.broker.batch import JobBatch
from huanghe.broker.batch_milp import solve_cycle
from huanghe.broker.engine import PlacementEngine
from huanghe.broker.policies import HUANGHE, CycleContext, Weights, run_cycle, take_jobs
from huanghe.broker.snapshot import NetworkSnapshot
from huanghe.catalog.topology import load_topology
from huanghe.core.clock import FakeClock
from huanghe.sim.broker_scale import busy_snapshot, network_with_pools, sustained, synthetic_queue, time_cycle


def small_instance(seed: int, n_jobs: int) -> tuple[NetworkSnapshot, JobBatch]:
    snap = NetworkSnapshot.from_topology(load_topology("shandong-mini"), FakeClock(0.0))
    rng = np.random.default_rng(seed)
    free = np.floor(snap.nodes_total * rng.uniform(0.0, 0.05, snap.n_pools))
    snap = snap.with_free(
        free, free * snap.cpus_per_node, free * snap.gpus_per_node, free * snap.mem_gb_per_node
    )
    recs = []
    for j in range(n_jobs):
        if rng.random() < 0.5:
            g = int(rng.choice([1, 2, 4, 8]))
            recs.append({"job_id": f"g{j}", "kind": "gpu", "cpus": 8, "gpus": g, "nodes": int(rng.choice([1, 1, 2])),
                         "duration_s": float(rng.lognormal(8, 1))})  # fmt: skip
        else:
            recs.append({"job_id": f"c{j}", "kind": "cpu", "cpus": int(rng.choice([8, 16, 32, 64])),
                         "nodes": int(rng.choice([1, 1, 2, 8, 32])), "duration_s": float(rng.lognormal(8, 1))})  # fmt: skip
    return snap, JobBatch.from_records(snap, recs)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pools", type=int, default=1000)
    ap.add_argument("--jobs", type=int, default=320_000)
    ap.add_argument("--centers", type=int, default=200)
    ap.add_argument("--baseline-jobs", type=int, default=2000)
    ap.add_argument("--small-jobs", type=int, default=150)
    ap.add_argument("--seeds", default="1,2,3,4,5")
    args = ap.parse_args()

    topo = network_with_pools(args.pools, 1)
    snap = busy_snapshot(topo, 1)
    batch, ctx = synthetic_queue(snap, args.jobs, 2)
    runs = [time_cycle(snap, batch, ctx) for _ in range(3)]
    best = min(runs, key=lambda r: r.cycle_s)
    print(
        f"scale: {best.pools} pools, {best.centers} centers, {best.jobs:,} jobs ({best.classes} classes): "
        f"cycle {best.cycle_s:.3f} s (runs {', '.join(f'{r.cycle_s:.3f}' for r in runs)}), "
        f"placed {best.placed:,}, explanations {best.explain_s:.3f} s; Armada round 1.3 s -> "
        f"{best.cycle_s / 1.3:.2f}x"
    )
    small = take_jobs(batch, np.arange(args.baseline_jobs))
    t0 = time.perf_counter()
    base = PlacementEngine("earliest-start").place(snap, small, snap.t_s)
    base_s = time.perf_counter() - t0
    base_placed = sum(d.pool_id is not None for d in base)
    ours = time_cycle(snap, small, CycleContext(priority=ctx.priority[: args.baseline_jobs]))  # type: ignore[index]
    print(
        f"baseline (generic engine, dense J x P, {args.baseline_jobs} jobs): {base_s:.3f} s, {base_placed} bound "
        f"= {args.baseline_jobs / base_s:,.0f} jobs decided/s; huanghe cycle on the same jobs: "
        f"{ours.cycle_s + ours.explain_s:.3f} s, {ours.placed} placed (the rest wait) = "
        f"{args.baseline_jobs / (ours.cycle_s + ours.explain_s):,.0f} jobs decided/s; speed-up "
        f"{base_s / (ours.cycle_s + ours.explain_s):.1f}x"
    )

    net = network_with_pools(2 * args.centers, 1, centers=args.centers)
    snap200 = busy_snapshot(net, 1)
    rate, cyc = sustained(snap200, 20_000, 5, 3)
    print(
        f"sustained: {args.centers} centers, {snap200.n_pools} pools, 5 cycles x 20,000 queued jobs: "
        f"{sum(c.placed for c in cyc):,} placements in {sum(c.cycle_s + c.explain_s for c in cyc):.3f} s = "
        f"{rate:,.0f} decisions/s (with explanations)"
    )

    for seed in (int(s) for s in args.seeds.split(",")):
        s, jobs = small_instance(seed, args.small_jobs)
        res = run_cycle(HUANGHE, s, jobs, CycleContext(weights=Weights(wait_for_better=False)))
        sol = solve_cycle(res, time_limit_s=30.0)
        print(
            f"optimality seed {seed}: {sol.pairs} pairs, LP bound {sol.lp_bound:.3f}, MILP {sol.objective:.3f} "
            f"(gap {100 * sol.gap:.1f} %, {sol.status}, {sol.solve_s:.2f} s), greedy {sol.greedy_objective:.3f} "
            f"({100 * (sol.greedy_objective / sol.lp_bound - 1):.1f} % above the bound)"
        )


if __name__ == "__main__":
    main()
