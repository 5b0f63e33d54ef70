"""The twin's fidelity, measured (issue #12): one workload through the LIVE job path and through the simulator,
compared job by job (:mod:`huanghe.jobs.twin`).

The workload is built on the bundled network exactly as
``huanghe workload build --network shandong-mini --seed S --load L --hours H --out W.csv`` builds it; the first
``--jobs`` jobs (submission order) are kept and every time is divided by ``--compress``. Both sides run every
pool on the ``fake`` back-end (the simulator has no back-end capability map) with the policy ``--policy`` and a
loop interval / broker cycle of ``--interval`` seconds. Printed and written to ``--out`` (JSON): the share of
jobs on the same pool, mean JCT of both and their relative difference, wall times. Usage::

    .venv/bin/python bench/bench_twin.py --jobs 3000 --compress 10 --policy huanghe
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path
from typing import Any

from huanghe.catalog.topology import load_topology
from huanghe.jobs.twin import compare, compress, head, replay_live, replay_sim
from huanghe.sim.traces.workload_csv import load_workload_csv
from huanghe.sim.workload_builder import BuildOptions, build_workload, write_workload


def run(
    *,
    jobs: int,
    compress_by: float,
    policy: str,
    interval_s: float,
    seed: int,
    load: float,
    hours: float,
    reconcile_first: bool = False,
) -> dict[str, Any]:
    topo = load_topology("shandong-mini")
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "w.csv"
        write_workload(build_workload(topo, BuildOptions(seed=seed, load=load, hours=hours)), path)
        table, _ = load_workload_csv(path, topology=topo)
        table = compress(head(table, jobs), compress_by)
        sim = replay_sim(topo, table, policy, interval_s=interval_s)

        def progress(arrived: int, open_n: int, t: float) -> None:
            print(f"  live t={t:.0f} s arrived={arrived} open={open_n}", flush=True)

        live = replay_live(
            topo, table, policy, Path(d) / "twin.db", interval_s=interval_s, reconcile_first=reconcile_first,
            progress=progress,
        )  # fmt: skip
    fid = compare(live, sim)
    return {
        "config": {
            "network": "shandong-mini", "seed": seed, "load": load, "hours": hours, "jobs": len(table),
            "compress": compress_by, "policy": policy, "interval_s": interval_s, "reconcile_first": reconcile_first,
        },
        "fidelity": fid.to_dict(),
        "goals": {"same_pool_ge_0_99": fid.same_pool_share >= 0.99, "jct_within_5pct": abs(fid.jct_rel_diff) <= 0.05},
        "live": {"wall_s": live.wall_s, "ticks": live.ticks, "states": live.states},
        "sim": {"wall_s": sim.wall_s, "cycles": sim.ticks, "unfinished": sim.states},
    }  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--jobs", type=int, default=3000, help="jobs kept (first in submission order)")
    ap.add_argument("--compress", type=float, default=10.0, help="divide every time by this (>= 1)")
    ap.add_argument("--policy", default="huanghe")
    ap.add_argument("--interval", type=float, default=60.0, help="loop interval = broker cycle, s")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--load", type=float, default=0.7)
    ap.add_argument("--hours", type=float, default=2.0, help="arrival horizon of the built workload, h")
    ap.add_argument(
        "--reconcile-first", action="store_true",
        help="attribution run: the live tick copies back-end ends into the store before placing",
    )  # fmt: skip
    ap.add_argument("--out", type=Path, default=None, help="JSON file for the results")
    a = ap.parse_args()
    t0 = time.perf_counter()
    res = run(
        jobs=a.jobs, compress_by=a.compress, policy=a.policy, interval_s=a.interval, seed=a.seed, load=a.load,
        hours=a.hours, reconcile_first=a.reconcile_first,
    )  # fmt: skip
    res["wall_s"] = time.perf_counter() - t0
    print(json.dumps(res, indent=2))
    if a.out is not None:
        a.out.write_text(json.dumps(res, indent=2) + "\n")


if __name__ == "__main__":
    main()
