"""Evaluation on held-out workload families (issue #15): ``huanghe`` against the real-system baselines and the
lower bounds, per family × load, mean and spread over seeds.

For each (family, seed, load) a workload is built on the bundled network (``huanghe/sim/workload_families.py``),
its no-contention JCT bound and carbon bound are computed (``huanghe/sim/bounds.py``; rules of ``huanghe``,
and the bound of every policy, rule-breakers included), and every policy is simulated with data transfers
charged (``simulate_network(..., transfers=True)``). Printed: per cell the ratios, then the table per family ×
load (mean ± sample std over the seeds) with the goals of the issue (``huanghe/sim/family_eval.py``). The
family ``huanghe`` was tuned on (``--tuned-on``, default ``builder``) is refused in ``--families`` unless
``--include-tuning-family`` is given (then it is marked "tuned on"). ``--start-hour H`` starts every arrival
window H hours after midnight of day 0 (default 0, the window of every earlier result; the workloads and the
cached baselines are keyed by it, and the JSON records it as ``start_h``). Usage::

    .venv/bin/python bench/bench_families.py --families hpc,gpu-train,inference,data-heavy \\
        --seeds 1,2,3 --loads 0.5,1.0 --hours 3 --workdir /tmp/fam --out /tmp/fam/eval.json
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from huanghe.broker.policies import BROKER_POLICIES, HUANGHE, Weights
from huanghe.broker.snapshot import NetworkSnapshot
from huanghe.catalog.topology import load_topology
from huanghe.core.clock import FakeClock
from huanghe.sim.family_eval import aggregate
from huanghe.sim.family_runs import Cell, run_cell
from huanghe.sim.workload_families import FAMILIES, FamilyOptions
from huanghe.sim.workload_streams import WorkloadBuildError


def parse_weights(text: str) -> Weights:
    """``k=v,k=v`` → :class:`Weights` (others default); an unknown name exits naming it."""
    kw: dict[str, Any] = {k: float(v) for k, v in (kv.split("=") for kv in text.split(",") if kv)}
    unknown = sorted(set(kw) - {f.name for f in dataclasses.fields(Weights)})
    if unknown:
        sys.exit(f"--weights: unknown weight(s) {unknown}")
    return Weights(**kw)


def print_cell(r: dict[str, Any]) -> None:
    c, g = r["cell"], r.get("ratios")
    print(f"{c['family']} seed {c['seed']} load {c['load']:g}: {r['jobs']} jobs, bound JCT "
          f"{r['bound']['mean_jct_s']:.0f} s, carbon {r['bound']['carbon_kg']:,.0f} kg")  # fmt: skip
    for name, s in r["policies"].items():
        v = s["violations"]
        jb = s["mean_jct_s"] / r["bound"]["mean_jct_s"]
        cb = s["carbon_kg"] / r["bound"]["carbon_kg"]
        print(
            f"  {name:19s} JCT {s['mean_jct_s']:8.0f} s ({jb:5.2f}× bound)  cost {s['cost_cny']:11,.0f}  "
            f"CO2 {s['carbon_kg']:9,.0f} kg ({cb:4.2f}× bound)  viol {v['residency']}/{v['latency']}/"
            f"{v['deadline']}  unfinished {sum(s['unfinished'].values())}"
        )
    if g:
        print(
            f"  huanghe: JCT {g['jct_vs_best_real']:.3f} × {g['best_jct_baseline']}, carbon "
            f"{g['carbon_vs_best_real']:.3f} × {g['best_carbon_baseline']}, cost {g['cost_vs_cheapest_real']:.3f}"
            f" × {g['cheapest_baseline']}; met {g['met']}",
            flush=True,
        )


def check_start_hour(start_h: float) -> float:
    """``--start-hour`` validated by :class:`FamilyOptions` (``0 <= H < 24``); exits naming the option."""
    try:
        FamilyOptions(family="hpc", start_h=start_h).check()
    except WorkloadBuildError as e:
        sys.exit(f"--start-hour: {e}")
    return start_h


def print_table(groups: dict[tuple[str, float], dict[str, Any]], tuned_on: str) -> None:
    print("\n| family | load | seeds | JCT / best real | carbon / best real | cost / cheapest real | "
          "huanghe JCT / bound | best real JCT / bound | huanghe CO2 / bound | goals met (every seed) |")  # fmt: skip
    print("|---|---|---|---|---|---|---|---|---|---|")
    for (fam, load), a in groups.items():
        jb = a["jct_vs_bound"]
        real_best = min((k for k in jb if k not in (HUANGHE, "earliest-completion")), key=lambda k: jb[k][0])
        met = ", ".join(f"{k} {'✓' if v else '✗'}" for k, v in a["met_all"].items())
        tag = " (tuned on)" if fam == tuned_on else ""
        print(
            f"| {fam}{tag} | {load:g} | {a['seeds']} | {a['jct_vs_best_real'][0]:.3f} ± {a['jct_vs_best_real'][1]:.3f} "
            f"| {a['carbon_vs_best_real'][0]:.3f} ± {a['carbon_vs_best_real'][1]:.3f} "
            f"| {a['cost_vs_cheapest_real'][0]:.3f} ± {a['cost_vs_cheapest_real'][1]:.3f} "
            f"| {jb[HUANGHE][0]:.3f} ± {jb[HUANGHE][1]:.3f} | {jb[real_best][0]:.3f} ({real_best}) "
            f"| {a['carbon_vs_bound'][HUANGHE][0]:.3f} | {met} |"
        )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--families", default="hpc,gpu-train,inference,data-heavy")
    ap.add_argument("--tuned-on", default="builder", help="the family huanghe's weights were tuned on")
    ap.add_argument("--include-tuning-family", action="store_true")
    ap.add_argument("--seeds", default="1,2,3")
    ap.add_argument("--loads", default="0.5,1.0")
    ap.add_argument("--hours", type=float, default=3.0)
    ap.add_argument("--start-hour", type=float, default=0.0,
                    help="hours after midnight of day 0 at which the arrival windows start (0 <= H < 24)")  # fmt: skip
    tmp = Path(tempfile.gettempdir()) / "huanghe-families"
    ap.add_argument("--workdir", type=Path, default=tmp)
    ap.add_argument("--out", type=Path, default=tmp / "eval.json")
    ap.add_argument("--policies", default=",".join(BROKER_POLICIES))
    ap.add_argument("--weights", default="", help="huanghe weights, e.g. carbon=1.0 (default Weights())")
    ap.add_argument("--no-transfers", action="store_true", help="do not charge data transfers (old model)")
    ap.add_argument("--predict-runtimes", action="store_true",
                    help="huanghe assumes each job runs as long as its tenant's last two finished jobs (capped by "
                         "the request; Tsafrir et al. 2007) instead of the request")  # fmt: skip
    ap.add_argument("--fresh-baselines", action="store_true", help="re-simulate baselines even if cached")
    args = ap.parse_args()
    families = [f for f in args.families.split(",") if f]
    unknown = sorted(set(families) - set(FAMILIES))
    if unknown:
        sys.exit(f"--families: unknown {unknown} (known: {', '.join(FAMILIES)})")
    if args.tuned_on in families and not args.include_tuning_family:
        sys.exit(f"--families includes the tuning family {args.tuned_on!r}: held-out families only "
                 "(or --include-tuning-family)")  # fmt: skip
    weights = parse_weights(args.weights)
    start_h = check_start_hour(args.start_hour)
    topo = load_topology("shandong")
    snap = NetworkSnapshot.from_topology(topo, FakeClock(0.0))
    policies = args.policies.split(",")
    t0 = time.perf_counter()
    print(f"evaluation: families {families} (tuned on {args.tuned_on!r}), seeds {args.seeds}, loads "
          f"{args.loads}, {args.hours:g} h arrivals from hour {start_h:g}, transfers "
          f"{'off' if args.no_transfers else 'on'}")  # fmt: skip
    cells: list[dict[str, Any]] = []
    for fam in families:
        for load in (float(x) for x in args.loads.split(",")):
            for seed in (int(s) for s in args.seeds.split(",")):
                r = run_cell(topo, snap, Cell(fam, seed, load, args.hours, start_h), policies, args.workdir,
                             weights=weights, transfers=not args.no_transfers,
                             reuse_baselines=not args.fresh_baselines,
                             runtime_prediction=args.predict_runtimes)  # fmt: skip
                print_cell(r)
                cells.append(r)
    groups: dict[tuple[str, float], dict[str, Any]] = {}
    for fam in families:
        for load in (float(x) for x in args.loads.split(",")):
            rs = [c["ratios"] for c in cells if c["cell"]["family"] == fam and c["cell"]["load"] == load]
            if rs:
                groups[(fam, load)] = aggregate(rs)
    print_table(groups, args.tuned_on)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    report = {"args": {k: str(v) for k, v in vars(args).items()}, "start_h": start_h, "cells": cells,
              "groups": [{"family": f, "load": ld, **a} for (f, ld), a in groups.items()]}  # fmt: skip
    args.out.write_text(json.dumps(report, indent=1), encoding="utf-8")
    print(f"wrote {args.out} ({time.perf_counter() - t0:.0f} s)")


if __name__ == "__main__":
    main()
