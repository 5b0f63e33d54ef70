"""One broker cycle at national scale (issue #16 goal: 10,000 pools × 1,000,000 queued jobs, ≤ 3 s, ≤ 8 GiB).

For each ``POOLS×JOBS`` size a **fresh process** builds the generated network
(:func:`huanghe.sim.broker_scale.network_with_pools`, seeded free share per pool) and the synthetic queue
(:func:`~huanghe.sim.broker_scale.synthetic_queue`, ≤ 1,280 job classes), then times ``--repeat`` ``huanghe``
cycles (:func:`huanghe.broker.policies.run_cycle`, explanations not built) and reports the best wall time, the
CPU time of that run (user + system of the process: less sensitive to other load on a shared machine), the
CPU seconds of the phases of one cycle (classes, filters, estimates, scores, by row chunks as the cycle computes
them; the pool order and greedy pass are the rest), the placements, and
the process's **peak RSS** (``ru_maxrss``, network and queue included). Baseline in the same command: the first
size (default 1,000 × 320,000, the published figure of 0.49 s). Usage::

    .venv/bin/python bench/bench_national_scale.py --sizes 1000x320000,10000x1000000 --repeat 3
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from typing import Any

GOAL_S = 3.0
GOAL_GIB = 8.0


def measure(pools: int, jobs: int, repeat: int, policy: str) -> dict[str, Any]:
    """In this process: build, time, and report one size."""
    from huanghe.broker.job_classes import job_classes, take_jobs
    from huanghe.broker.policies import POLICY_FILTERS, Status, run_cycle
    from huanghe.broker.row_chunks import estimate_by_rows, filters_by_rows, scores_by_rows
    from huanghe.sim.broker_scale import busy_snapshot, network_with_pools, synthetic_queue

    t0 = time.perf_counter()
    topo = network_with_pools(pools, 1)
    snap = busy_snapshot(topo, 1)
    net_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    batch, ctx = synthetic_queue(snap, jobs, 2)
    queue_s = time.perf_counter() - t0
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    runs = []
    for _ in range(repeat):
        c0, w0 = time.process_time(), time.perf_counter()
        res = run_cycle(policy, snap, batch, ctx)
        runs.append((time.perf_counter() - w0, time.process_time() - c0))
        placed = sum(s == Status.PLACED for s in res.status)
        classes = int(res.scores.shape[0])
        del res
    best = min(runs)
    phases: dict[str, float] = {}  # CPU seconds of each phase, run once more on its own

    def timed(name: str, c0: float) -> None:
        phases[name] = time.process_time() - c0

    c = time.process_time()
    rep, _ = job_classes(batch)
    reps = take_jobs(batch, rep)
    timed("classes", c)
    c = time.process_time()
    report = filters_by_rows(snap, reps, POLICY_FILTERS[policy])  # as run_cycle computes them (row chunks)
    timed("filters", c)
    c = time.process_time()
    est = estimate_by_rows(snap, reps)
    timed("estimates", c)
    c = time.process_time()
    scores_by_rows(policy, snap, reps, report.feasible, est, ctx.weights)
    timed("scores", c)
    phases["order_and_greedy"] = max(best[1] - sum(phases.values()), 0.0)
    return {
        "pools": snap.n_pools,
        "centers": snap.n_centers,
        "jobs": jobs,
        "classes": classes,
        "placed": placed,
        "cycle_s": best[0],
        "cycle_cpu_s": best[1],
        "runs_s": [r[0] for r in runs],
        "phases_s": phases,
        "network_s": net_s,
        "queue_s": queue_s,
        "rss_before_cycle_mib": rss_before,
        "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "loadavg": os.getloadavg()[0],
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="1000x320000,10000x1000000", help="POOLSxJOBS,... (first = baseline)")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--policy", default="huanghe")
    ap.add_argument("--json", default="", help="also write the rows to this file")
    ap.add_argument("--child", default="", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        pools, jobs = (int(x) for x in args.child.split("x"))
        print(json.dumps(measure(pools, jobs, args.repeat, args.policy)))
        return
    rows = []
    for size in args.sizes.split(","):
        cmd = [
            sys.executable,
            __file__,
            "--child",
            size,
            "--repeat",
            str(args.repeat),
            "--policy",
            args.policy,
        ]
        out = subprocess.run(cmd, capture_output=True, text=True, check=True)
        r = json.loads(out.stdout.strip().splitlines()[-1])
        rows.append(r)
        base = rows[0]
        ph = ", ".join(f"{k} {v:.2f}" for k, v in r["phases_s"].items())
        print(
            f"{r['pools']:>6} pools ({r['centers']} centers) x {r['jobs']:>9,} jobs ({r['classes']} classes): "
            f"cycle {r['cycle_s']:.2f} s wall, {r['cycle_cpu_s']:.2f} s CPU (runs "
            f"{', '.join(f'{x:.2f}' for x in r['runs_s'])}; {r['cycle_s'] / base['cycle_s']:.1f}x baseline); "
            f"phases (CPU s) {ph}; placed {r['placed']:,}; peak RSS {r['peak_rss_mib'] / 1024:.2f} GiB "
            f"(before the cycle {r['rss_before_cycle_mib'] / 1024:.2f}); network {r['network_s']:.1f} s, "
            f"queue {r['queue_s']:.1f} s; load average {r['loadavg']:.1f}",
            flush=True,
        )
    last = rows[-1]
    print(
        f"goal (last size) <= {GOAL_S:g} s and <= {GOAL_GIB:g} GiB: cycle {last['cycle_s']:.2f} s "
        f"({'met' if last['cycle_s'] <= GOAL_S else 'NOT met'}), CPU {last['cycle_cpu_s']:.2f} s, "
        f"peak {last['peak_rss_mib'] / 1024:.2f} GiB ({'met' if last['peak_rss_mib'] / 1024 <= GOAL_GIB else 'NOT met'})"
    )
    if args.json:
        with open(args.json, "w", encoding="utf-8") as fh:
            json.dump(rows, fh, indent=1)


if __name__ == "__main__":
    main()
