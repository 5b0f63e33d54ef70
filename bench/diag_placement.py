"""Per-job diagnosis of one family workload (issue #15): where does ``huanghe`` lose JCT against another policy
(``earliest-completion`` by default)? Both are simulated on the same cached workload (``<workdir>/<family>-s<seed>
-l<load>-h<hours>.csv``, built as ``bench/bench_families.py`` builds it, transfers charged) and the difference of
every job's JCT (end − submit, s) is split into wait (start − submit) and run (end − start), by run time, by gang
size, by whether the two put the job in the same pool; then the jobs waiting (submitted, not started a cycle
later) at a few times, per pool they finally ran on, with their work in hours of that pool's whole capacity.
Usage::

    .venv/bin/python bench/diag_placement.py --family gpu-train --seed 1 --load 0.5 --hours 3 \\
        --workdir /tmp/fam [--weights wait_for_waiters=1] [--other earliest-completion]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import numpy.typing as npt

from huanghe.broker.policies import HUANGHE
from huanghe.broker.snapshot import NetworkSnapshot
from huanghe.catalog.topology import load_topology
from huanghe.core.clock import FakeClock
from huanghe.sim.bounds import lower_bounds
from huanghe.sim.family_runs import Cell, cell_jobs
from huanghe.sim.network_result import NetworkSimResult
from huanghe.sim.network_sim import simulate_network

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_families import parse_weights

FloatArray = npt.NDArray[np.float64]
RUN_BUCKETS_H = ((0.0, 1.0), (1.0, 6.0), (6.0, 24.0), (24.0, np.inf))


def split(name: str, mask: npt.NDArray[np.bool_], d_jct: FloatArray, d_wait: FloatArray, n: int) -> str:
    """One line: the jobs of ``mask``, their JCT excess and its wait and run parts, in s per job of the workload."""
    return (
        f"  {name:22s} {int(mask.sum()):6d} jobs: JCT excess {np.nansum(d_jct[mask]) / n:7.0f} s/job = wait "
        f"{np.nansum(d_wait[mask]) / n:7.0f} + run {np.nansum((d_jct - d_wait)[mask]) / n:7.0f}"
    )


def report(snap: NetworkSnapshot, a: NetworkSimResult, b: NetworkSimResult, bound_s: float) -> None:
    """Print the per-job split of ``a``'s JCT excess over ``b`` (see the module docstring)."""
    jobs = a.jobs
    sub, n = jobs.batch.submit_s, len(jobs)
    jct_a, jct_b = a.end_s - sub, b.end_s - sub
    d_jct, d_wait = jct_a - jct_b, (a.start_s - sub) - (b.start_s - sub)
    print(f"{a.policy}: mean JCT {np.nanmean(jct_a):,.0f} s ({np.nanmean(jct_a) / bound_s:.3f} × bound), "
          f"CO2 {a.carbon_kg.sum():,.0f} kg; {b.policy}: {np.nanmean(jct_b):,.0f} s "
          f"({np.nanmean(jct_b) / bound_s:.3f} ×), {b.carbon_kg.sum():,.0f} kg")  # fmt: skip
    print(split("all", np.ones(n, bool), d_jct, d_wait, n))
    order = np.argsort(-np.nan_to_num(d_jct))
    total = np.nansum(d_jct)
    for top in (10, 100, 1000):
        print(f"  the {top} jobs of largest excess carry {np.nansum(d_jct[order[:top]]) / total:.0%} of it")
    true_h = jobs.duration_s / 3600.0
    for lo, hi in RUN_BUCKETS_H:
        m = (true_h >= lo) & (true_h < hi)
        line = split(f"runs {lo:g}-{hi:g} h", m, d_jct, d_wait, n)
        print(f"{line}; CO2 {a.carbon_kg[m].sum():,.0f} vs {b.carbon_kg[m].sum():,.0f} kg")
    nodes = jobs.batch.nodes
    print(split("1 node", nodes == 1, d_jct, d_wait, n))
    print(split("gangs (> 1 node)", nodes > 1, d_jct, d_wait, n))
    same = a.pool == b.pool
    print(split("same pool", same, d_jct, d_wait, n))
    print(split("different pool", ~same, d_jct, d_wait, n))
    est_ratio = jobs.batch.duration_s / np.maximum(jobs.duration_s, 1.0)
    print(
        f"  run-time estimate / true run: median {np.median(est_ratio):.2f}, p90 {np.percentile(est_ratio, 90):.2f}"
    )
    horizon = float(sub.max())
    for res in (a, b):
        print(f"  {res.policy}: jobs waiting (submitted, not started 60 s later), per pool they ran on")
        run = res.end_s - res.start_s
        for t in np.linspace(horizon / 3, horizon, 3):
            waiting = (sub <= t) & (res.start_s > t + 60.0)
            p = np.maximum(res.pool[waiting], 0)
            count = np.bincount(p, minlength=snap.n_pools)
            work = np.bincount(p, weights=(res.units * run)[waiting], minlength=snap.n_pools)
            top3 = np.argsort(-count)[:3]
            pools = "; ".join(
                f"{snap.pool_ids[q]} ({snap.nodes_total[q]} nodes) {count[q]} jobs = "
                f"{work[q] / snap.nodes_total[q] / 3600:.1f} h of it"
                for q in top3
            )
            print(f"    t = {t:,.0f} s: {int(waiting.sum())} jobs; {pools}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--family", required=True)
    ap.add_argument("--seed", type=int, required=True)
    ap.add_argument("--load", type=float, required=True)
    ap.add_argument("--hours", type=float, required=True)
    ap.add_argument("--workdir", type=Path, required=True)
    ap.add_argument(
        "--weights", default="", help="huanghe weights, e.g. wait_for_waiters=1 (default Weights())"
    )
    ap.add_argument("--other", default="earliest-completion", help="the policy to compare with")
    args = ap.parse_args()
    topo = load_topology("shandong")
    snap = NetworkSnapshot.from_topology(topo, FakeClock(0.0))
    jobs = cell_jobs(topo, snap, Cell(args.family, args.seed, args.load, args.hours), args.workdir)
    bound = lower_bounds(snap, jobs, rules="all", transfers=True)
    weights = parse_weights(args.weights)
    runs = [
        simulate_network(snap, jobs, p, seed=args.seed, weights=weights, explain=False, transfers=True)
        for p in (HUANGHE, args.other)
    ]
    print(f"{args.family} seed {args.seed} load {args.load:g} {args.hours:g} h: {len(jobs)} jobs, weights "
          f"{args.weights or 'Weights()'}, bound {bound.mean_jct_s:,.0f} s")  # fmt: skip
    report(snap, runs[0], runs[1], bound.mean_jct_s)


if __name__ == "__main__":
    main()
