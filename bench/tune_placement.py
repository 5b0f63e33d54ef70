"""Tuning of the ``huanghe`` placement weights on ONE family (issue #15): it sees only ``--family`` (default
``builder``, the family ``huanghe`` has always been tuned on) and never a held-out family; the evaluation is a
separate command (``bench/bench_families.py``, which refuses the tuning family).

Each candidate (a set of :class:`~huanghe.broker.policies.Weights` overrides, :data:`CANDIDATES`) runs on every
(seed, load) of the tuning family beside the real-system baselines (simulated once and cached per workload);
the selection rule, fixed before any run: among the candidates with zero residency and latency violations
and cost ≤ 1.05 × the cheapest real baseline in every cell, the lowest worst-cell ``max(JCT ratio, carbon
ratio)`` (both to the best real-system baseline), ties to the lower mean JCT / bound. ``--start-hour H`` starts
the arrival windows H hours after midnight (default 0; recorded in the JSON as ``start_h``). Usage::

    .venv/bin/python bench/tune_placement.py --family builder --seeds 7 --loads 0.5,1.0 --hours 6 \\
        --workdir /tmp/tune
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from huanghe.broker.policies import HUANGHE
from huanghe.broker.snapshot import NetworkSnapshot
from huanghe.catalog.topology import load_topology
from huanghe.core.clock import FakeClock
from huanghe.sim.family_eval import REAL_BASELINES
from huanghe.sim.family_runs import Cell, run_cell
from huanghe.sim.workload_families import FAMILIES

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_families import check_start_hour, parse_weights

#: Candidates: name → ``--weights`` text (others default; ``1`` / ``0`` for a flag). Round 1 of issue #15 (see
#: docs/bench-broker-policies.md): the shipped weights, release-profile waits (``wait_from_releases``), with a
#: lower carbon weight, and no waiting for a busy better pool at all. Round 2 (the held-out ``gpu-train`` 5 ×
#: bound was the hold for a greener hour, docs/bench-broker-policies.md): priced holds, and no holds. Round 3
#: (its JCT excess over ``earliest-completion`` was waits at the broker for the same few busy pools): waiters.
#: Round 4: the exchange rate of carbon for time (both carbon weights and the stranding term × 0.5 to × 4).
#: Rounds 1-3 override ``Weights()`` as it was then, i.e. ``carbon x1``; in round 4 ``Weights()`` was ``carbon x3``;
#: since round 5 (three builder seeds, 0.5 h windows) it is ``carbon x1.5``.
CANDIDATES: dict[str, str] = {
    "shipped": "",
    "release waits": "wait_from_releases=1",
    "release waits, carbon 1.0": "wait_from_releases=1,carbon=1.0",
    "no wait for better": "wait_for_better=0",
    # round 2: temporal shifting priced at the score's own exchange rate, and no temporal shifting at all
    "priced holds": "shift_priced=1",
    "no holds": "shift_min_gain=1",
    # round 3: queue-wait prediction (jobs left waiting for a busy pool count in its wait for later jobs)
    "waiters": "wait_for_waiters=1",
    # round 4: the exchange rate of carbon for completion time: the carbon weights and the stranding term (which
    # must keep outweighing a clean accelerator pool for CPU work) scaled together; × 1 is the weights of rounds
    # 1-3 (the held-out `hpc` family misses its JCT and carbon goals by about 2 % each, pulling in opposite ways)
    "carbon x0.5": "carbon=0.75,carbon_abs_per_kg=0.5,stranding=2.5",
    "carbon x0.75": "carbon=1.125,carbon_abs_per_kg=0.75,stranding=3.75",
    "carbon x1": "carbon=1.5,carbon_abs_per_kg=1,stranding=5",
    "carbon x1.5": "carbon=2.25,carbon_abs_per_kg=1.5,stranding=7.5",
    "carbon x2": "carbon=3.0,carbon_abs_per_kg=2,stranding=10",
    "carbon x3": "carbon=4.5,carbon_abs_per_kg=3,stranding=15",
    "carbon x4": "carbon=6.0,carbon_abs_per_kg=4,stranding=20",
}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--family", default="builder", choices=FAMILIES)
    ap.add_argument("--seeds", default="7")
    ap.add_argument("--loads", default="0.5,1.0")
    ap.add_argument("--hours", type=float, default=6.0)
    ap.add_argument("--start-hour", type=float, default=0.0, help="window start, hours after midnight")
    tmp = Path(tempfile.gettempdir()) / "huanghe-tune"
    ap.add_argument("--workdir", type=Path, default=tmp)
    ap.add_argument("--out", type=Path, default=tmp / "tune.json")
    ap.add_argument("--candidates", default=",".join(CANDIDATES), help="names from CANDIDATES")
    ap.add_argument(
        "--baselines",
        default=",".join(REAL_BASELINES),
        help="real-system baselines to compare with (a subset saves CPU; the ratios then use that subset)",
    )
    args = ap.parse_args()
    names = args.candidates.split(",")
    unknown = sorted(set(names) - set(CANDIDATES))
    if unknown:
        sys.exit(f"--candidates: unknown {unknown} (known: {', '.join(CANDIDATES)})")
    start_h = check_start_hour(args.start_hour)
    topo = load_topology("shandong")
    snap = NetworkSnapshot.from_topology(topo, FakeClock(0.0))
    cells = [Cell(args.family, int(s), float(ld), args.hours, start_h) for s in args.seeds.split(",") for ld in args.loads.split(",")]  # fmt: skip
    print(f"tuning on family {args.family!r} only: seeds {args.seeds}, loads {args.loads}, {args.hours:g} h "
          f"from hour {start_h:g}")  # fmt: skip
    bad = sorted(set(args.baselines.split(",")) - set(REAL_BASELINES))
    if bad:
        sys.exit(f"--baselines: unknown {bad} (known: {', '.join(REAL_BASELINES)})")
    policies = [HUANGHE, *args.baselines.split(",")]
    report: dict[str, Any] = {}
    t0 = time.perf_counter()
    for name in names:
        weights = parse_weights(CANDIDATES[name])
        rs = [run_cell(topo, snap, c, policies, args.workdir, weights=weights)["ratios"] for c in cells]
        ok = all(r["met"]["cost<=1.05"] and r["met"]["no_violations"] for r in rs)
        worst = max(max(r["jct_vs_best_real"], r["carbon_vs_best_real"]) for r in rs)
        bound = sum(r["jct_vs_bound"][HUANGHE] for r in rs) / len(rs)
        report[name] = {"cells": rs, "admissible": ok, "worst": worst, "mean_jct_vs_bound": bound}
        cellstr = "  ".join(
            f"l{c.load:g}/s{c.seed}: JCT {r['jct_vs_best_real']:.3f} CO2 {r['carbon_vs_best_real']:.3f} "
            f"cost {r['cost_vs_cheapest_real']:.3f} bound {r['jct_vs_bound'][HUANGHE]:.3f}"
            for c, r in zip(cells, rs, strict=True)
        )
        print(f"{name:28s} worst {worst:.3f} {'ok ' if ok else 'NO '} {cellstr}", flush=True)
    kept = {k: v for k, v in report.items() if v["admissible"]}
    if kept:
        best = min(kept, key=lambda k: (kept[k]["worst"], kept[k]["mean_jct_vs_bound"]))
        print(f"selected: {best!r} ({CANDIDATES[best] or 'Weights()'}), worst cell {kept[best]['worst']:.3f}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({**report, "start_h": start_h}, indent=1), encoding="utf-8")
    print(f"wrote {args.out} ({time.perf_counter() - t0:.0f} s)")


if __name__ == "__main__":
    main()
