"""The broker's goals, measured: ``huanghe`` against the baselines (four real systems + our earliest-completion) at three loads and several seeds.

For each (seed, load) a workload is built on the bundled network (the same as
``huanghe workload build --network shandong-mini --seed S --load L --hours H --out W.csv``) and simulated under
every policy (the same as ``huanghe simulate --workload W.csv --json -``). Printed per run: mean JCT, cost and
carbon of ``huanghe`` as ratios to the best baseline (carbon, JCT), the cheapest policy (cost) and the
baseline with the best JCT, and the violations of every policy; a JSON with everything goes to ``--out``.
One configuration of ``huanghe`` (``Weights()``) for every load and seed. Beside every policy: its mean JCT
and carbon as ratios to the workload's lower bounds (``huanghe/sim/bounds.py``, no transfers charged, as this
bench simulates). The held-out family evaluation of issue #15 is ``bench/bench_families.py``. Usage::

    .venv/bin/python bench/bench_broker.py --seeds 1,2 --loads 0.3,0.7,1.2 --hours 12
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path
from typing import Any

from huanghe.broker.policies import BROKER_POLICIES, EARLIEST_COMPLETION, HUANGHE, Weights
from huanghe.broker.snapshot import NetworkSnapshot
from huanghe.catalog.topology import load_topology
from huanghe.core.clock import FakeClock
from huanghe.sim.bounds import lower_bounds
from huanghe.sim.network_sim import jobs_from_workload, simulate_network
from huanghe.sim.traces.workload_csv import load_workload_csv
from huanghe.sim.workload_builder import BuildOptions, build_workload, write_workload


def goals(summaries: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Ratios of ``huanghe`` to the baselines and whether each goal is met.

    JCT goal and the cost-vs-best-JCT goal: against the best *real-system* baseline (every baseline but
    ``earliest-completion``, which is ours); the JCT ratio to ``earliest-completion`` is reported beside it.
    Carbon: against the best of all baselines, ``earliest-completion`` included (the stricter reading).
    """
    ours = summaries[HUANGHE]
    base = {k: v for k, v in summaries.items() if k != HUANGHE}
    real = {k: v for k, v in base.items() if k != EARLIEST_COMPLETION} or base
    best_jct = min(real, key=lambda k: real[k]["mean_jct_s"])
    best_carbon = min(base, key=lambda k: base[k]["carbon_kg"])
    cheapest = min(summaries, key=lambda k: summaries[k]["cost_cny"])
    out = {
        "jct_vs_best_baseline": ours["mean_jct_s"] / real[best_jct]["mean_jct_s"],
        "best_jct_baseline": best_jct,
        "carbon_vs_best_baseline": ours["carbon_kg"] / base[best_carbon]["carbon_kg"],
        "best_carbon_baseline": best_carbon,
        "cost_vs_cheapest_policy": ours["cost_cny"] / summaries[cheapest]["cost_cny"],
        "cheapest_policy": cheapest,
        "cost_vs_best_jct_baseline": ours["cost_cny"] / real[best_jct]["cost_cny"],
        "violations": {k: v["violations"] for k, v in summaries.items()},
    }
    if EARLIEST_COMPLETION in base:
        out["jct_vs_earliest_completion"] = ours["mean_jct_s"] / base[EARLIEST_COMPLETION]["mean_jct_s"]
    out["met"] = {
        "jct<=0.7": out["jct_vs_best_baseline"] <= 0.7,
        "carbon<=0.8": out["carbon_vs_best_baseline"] <= 0.8,
        "cost<=1.1xcheapest": out["cost_vs_cheapest_policy"] <= 1.1,
        "cost<=best_jct_baseline": out["cost_vs_best_jct_baseline"] <= 1.0,
        "no_residency_latency": ours["violations"]["residency"] == 0 and ours["violations"]["latency"] == 0,
    }
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seeds", default="1,2")
    ap.add_argument("--loads", default="0.3,0.7,1.2")
    ap.add_argument("--hours", type=float, default=12.0)
    tmp = Path(tempfile.gettempdir()) / "huanghe-broker"
    ap.add_argument("--workdir", type=Path, default=tmp, help="where workloads are built (reused if present)")
    ap.add_argument("--out", type=Path, default=tmp / "broker.json")
    ap.add_argument("--policies", default=",".join(BROKER_POLICIES))
    ap.add_argument(
        "--weights", default="", help="sensitivity only, e.g. carbon=0.5,cost=0.3 (default Weights())"
    )
    args = ap.parse_args()
    kw: dict[str, Any] = {k: float(v) for k, v in (kv.split("=") for kv in args.weights.split(",") if kv)}
    weights = Weights(**kw)
    topo = load_topology("shandong-mini")
    snap = NetworkSnapshot.from_topology(topo, FakeClock(0.0))
    policies = args.policies.split(",")
    report: list[dict[str, Any]] = []
    for seed in (int(s) for s in args.seeds.split(",")):
        for load in (float(x) for x in args.loads.split(",")):
            path = args.workdir / f"w-s{seed}-l{load}-h{args.hours:g}.csv"
            if not path.exists():
                write_workload(
                    build_workload(topo, BuildOptions(seed=seed, load=load, hours=args.hours)), path
                )
            table, _ = load_workload_csv(path, topology=topo)
            jobs = jobs_from_workload(snap, table)
            bound = lower_bounds(snap, jobs, transfers=False).summary()
            summaries = {}
            for name in policies:
                t0 = time.perf_counter()
                summaries[name] = simulate_network(
                    snap, jobs, name, seed=seed, weights=weights, explain=False
                ).summary()
                summaries[name]["wall_s"] = time.perf_counter() - t0
            g = goals(summaries) if HUANGHE in summaries and len(summaries) > 1 else {}
            report.append({"seed": seed, "load": load, "hours": args.hours, "jobs": len(jobs), "workload": str(path),
                           "policies": summaries, "goals": g, "bound": bound})  # fmt: skip
            print(f"seed {seed} load {load}: {len(jobs)} jobs, bound JCT {bound['mean_jct_s']:.0f} s, "
                  f"carbon {bound['carbon_kg']:,.0f} kg")  # fmt: skip
            for name, s in summaries.items():
                v = s["violations"]
                print(
                    f"  {name:15s} JCT {s['mean_jct_s']:9.0f} s  wait {s['mean_wait_s']:7.0f} s  "
                    f"cost {s['cost_cny']:12,.0f}  CO2 {s['carbon_kg']:10,.0f} kg  "
                    f"viol {v['residency']}/{v['latency']}/{v['deadline']}  ({s['wall_s']:.1f} s)  "
                    f"JCT/bound {s['mean_jct_s'] / bound['mean_jct_s']:.2f} CO2/bound {s['carbon_kg'] / bound['carbon_kg']:.2f}"
                )
            if g:
                print(
                    f"  huanghe / best baseline: JCT {g['jct_vs_best_baseline']:.3f} ({g['best_jct_baseline']}), "
                    f"vs earliest-completion {g.get('jct_vs_earliest_completion', float('nan')):.3f}, "
                    f"carbon {g['carbon_vs_best_baseline']:.3f} ({g['best_carbon_baseline']}), "
                    f"cost / cheapest {g['cost_vs_cheapest_policy']:.3f} ({g['cheapest_policy']}), "
                    f"cost / best-JCT baseline {g['cost_vs_best_jct_baseline']:.3f}; met {g['met']}",
                    flush=True,
                )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=1), encoding="utf-8")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
