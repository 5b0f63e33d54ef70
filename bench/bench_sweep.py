"""Speed-up of `huanghe sweep` on a local Ray over the serial sweep, both measured in the same command.

The grid is the broker evaluation's (``bench/bench_broker.py``): every placement policy × three loads × two
seeds = 36 cells, each a workload built and simulated exactly as ``huanghe sweep`` does it (the same
executors, :mod:`huanghe.cli.sweep_exec`). By default on a generated network written to ``--workdir`` (fixed
seed, so the bench does not move when the bundled network is edited); ``--network shandong`` for the bundled
one. Baseline: the serial executor in this process. Then a private local Ray with ``--cpus`` CPUs: the time
from ``ray.init`` to the last stored cell (start-up included) and without the start-up. Both runs start from
empty result directories; the results must be identical. The load average before and after is printed
(the machine may be shared). Usage::

    .venv/bin/python bench/bench_sweep.py --cpus 2 --hours 2
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

from huanghe.broker.policies import BROKER_POLICIES
from huanghe.catalog.generate import generate_topology
from huanghe.catalog.topology import dump_topology_json
from huanghe.cli.sweep_exec import ray_session, run_ray, run_serial
from huanghe.sim.sweep import Cell, SweepStore, grid


def fresh_store(root: Path) -> SweepStore:
    shutil.rmtree(root, ignore_errors=True)
    return SweepStore(root)


def summaries(store: SweepStore, cells: list[Cell]) -> dict[str, Any]:
    out = {}
    for c in cells:
        r = store.load(c)
        out[c.key()] = None if r is None else r["summary"]
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--network", default="", help="network name or file (default: generated, --centers)")
    ap.add_argument("--centers", type=int, default=40, help="centers of the generated network")
    ap.add_argument("--policies", default=",".join(BROKER_POLICIES))
    ap.add_argument("--loads", default="0.3,0.7,1.2")
    ap.add_argument("--seeds", default="1,2")
    ap.add_argument("--hours", type=float, default=2.0)
    ap.add_argument("--cpus", type=int, default=2, help="CPUs of the local Ray")
    ap.add_argument("--skip-serial", action="store_true", help="only the Ray run (no ratio)")
    tmp = Path(tempfile.gettempdir()) / "huanghe-sweep-bench"
    ap.add_argument("--workdir", type=Path, default=tmp)
    args = ap.parse_args()

    args.workdir.mkdir(parents=True, exist_ok=True)
    network = args.network
    if not network:
        path = args.workdir / f"net-{args.centers}.json"
        path.write_text(dump_topology_json(generate_topology(args.centers, 1)), encoding="utf-8")
        network = str(path)
    cells = grid(
        networks=[network],
        policies=args.policies.split(","),
        seeds=[int(s) for s in args.seeds.split(",")],
        cycle_s=[60.0],
        loads=[float(x) for x in args.loads.split(",")],
        hours=[args.hours],
        tenants=[60],
    )
    load0 = os.getloadavg()
    print(
        f"{len(cells)} cells on {network}, {args.hours:g} h each; load average before {load0[0]:.2f}",
        flush=True,
    )

    def quiet(cell: Cell, error: str | None) -> None:
        if error is not None:
            raise SystemExit(f"cell {cell.key()} failed: {error}")

    serial_s = float("nan")
    serial_store = fresh_store(args.workdir / "serial")
    if not args.skip_serial:
        t0 = time.perf_counter()
        run_serial(cells, serial_store, {}, quiet)
        serial_s = time.perf_counter() - t0
        print(f"serial: {serial_s:.1f} s ({serial_s / len(cells):.2f} s per cell)", flush=True)

    ray_store = fresh_store(args.workdir / "ray")
    t0 = time.perf_counter()
    with ray_session("local", args.cpus) as ray:
        started_s = time.perf_counter() - t0
        run = run_ray(ray, cells, ray_store, {}, quiet)
        ray_s = time.perf_counter() - t0
    ray_sweep_s = run.wall_s
    load1 = os.getloadavg()
    print(
        f"ray local ({run.workers} CPUs): {ray_s:.1f} s from ray.init to the last cell "
        f"(start-up {started_s:.1f} s, sweep {ray_sweep_s:.1f} s); load average after {load1[0]:.2f}"
    )
    same = args.skip_serial or summaries(serial_store, cells) == summaries(ray_store, cells)
    report = {
        "cells": len(cells),
        "network": network,
        "hours": args.hours,
        "cpus": run.workers,
        "serial_s": serial_s,
        "ray_s": ray_s,
        "ray_startup_s": started_s,
        "ray_sweep_s": ray_sweep_s,
        "speedup": serial_s / ray_s,
        "speedup_without_startup": serial_s / ray_sweep_s,
        "identical_results": same,
        "loadavg_before": load0,
        "loadavg_after": load1,
    }
    (args.workdir / "bench_sweep.json").write_text(json.dumps(report, indent=1), encoding="utf-8")
    print(
        f"speed-up serial / ray: {report['speedup']:.2f}x (start-up included), "
        f"{report['speedup_without_startup']:.2f}x without it; goal >= 1.6x: "
        f"{'met' if report['speedup'] >= 1.6 else 'NOT met'}; identical results: {same}"
    )
    if not same:
        raise SystemExit("serial and Ray results differ")


if __name__ == "__main__":
    main()
