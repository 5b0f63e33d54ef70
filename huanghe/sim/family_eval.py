"""Reading one simulated workload's results against the baselines and the lower bounds (issue #15), and
aggregating them over seeds: the ratios and goals printed by ``bench/bench_families.py``.

Baselines: the **real-system** ones (:data:`REAL_BASELINES`: MultiKueue ``first-admit``, Slurm ``-M``
``earliest-start``, SkyPilot ``cheapest``, Karmada ``spread``); ``earliest-completion`` is ours and is reported
beside them, not used in the goals. Goals of ``huanghe`` per workload (the issue's):

* ``jct<=0.8``: mean JCT ≤ 0.8 × the best real-system baseline's;
* ``carbon<=0.8``: carbon ≤ 0.8 × the best (lowest) real-system baseline's;
* ``cost<=1.05``: cost ≤ 1.05 × the cheapest real-system baseline's;
* ``no_violations``: zero residency and zero latency violations;
* ``jct<=1.15xbound`` (judged at load 0.5 only): mean JCT ≤ 1.15 × the no-contention bound.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from huanghe.broker.cycle_context import CHEAPEST, EARLIEST_START, FIRST_ADMIT, HUANGHE, SPREAD

REAL_BASELINES: tuple[str, ...] = (FIRST_ADMIT, EARLIEST_START, CHEAPEST, SPREAD)
#: Load at which the bound goal is judged.
BOUND_GOAL_LOAD = 0.5
JCT_GOAL = 0.8
CARBON_GOAL = 0.8
COST_GOAL = 1.05
BOUND_GOAL = 1.15


def workload_ratios(
    summaries: Mapping[str, Mapping[str, Any]], bound: Mapping[str, Any], load: float
) -> dict[str, Any]:
    """Ratios of one workload: ``huanghe`` to the best real baselines, every policy to the bounds, and the goals.
    ``summaries``: policy → :meth:`NetworkSimResult.summary`; ``bound``: :meth:`Bounds.summary` (rules ``all``)."""
    ours = summaries[HUANGHE]
    real = {k: v for k, v in summaries.items() if k in REAL_BASELINES}
    if not real:
        raise ValueError("workload_ratios needs at least one real-system baseline")
    best_jct = min(real, key=lambda k: real[k]["mean_jct_s"])
    best_carbon = min(real, key=lambda k: real[k]["carbon_kg"])
    cheapest = min(real, key=lambda k: real[k]["cost_cny"])
    out: dict[str, Any] = {
        "jct_vs_best_real": ours["mean_jct_s"] / real[best_jct]["mean_jct_s"],
        "best_jct_baseline": best_jct,
        "carbon_vs_best_real": ours["carbon_kg"] / real[best_carbon]["carbon_kg"],
        "best_carbon_baseline": best_carbon,
        "cost_vs_cheapest_real": ours["cost_cny"] / real[cheapest]["cost_cny"],
        "cheapest_baseline": cheapest,
        "jct_vs_bound": {k: v["mean_jct_s"] / bound["mean_jct_s"] for k, v in summaries.items()},
        "carbon_vs_bound": {k: v["carbon_kg"] / bound["carbon_kg"] for k, v in summaries.items()},
        "violations": {k: dict(v["violations"]) for k, v in summaries.items()},
        "unfinished": {k: sum(v["unfinished"].values()) for k, v in summaries.items()},
    }
    v = ours["violations"]
    met: dict[str, bool] = {
        "jct<=0.8": out["jct_vs_best_real"] <= JCT_GOAL,
        "carbon<=0.8": out["carbon_vs_best_real"] <= CARBON_GOAL,
        "cost<=1.05": out["cost_vs_cheapest_real"] <= COST_GOAL,
        "no_violations": v["residency"] == 0 and v["latency"] == 0,
    }
    if math.isclose(load, BOUND_GOAL_LOAD):
        met["jct<=1.15xbound"] = out["jct_vs_bound"][HUANGHE] <= BOUND_GOAL
    out["met"] = met
    return out


def mean_spread(values: Sequence[float]) -> tuple[float, float]:
    """Mean and sample standard deviation (0 for one value)."""
    x = np.asarray(values, dtype=np.float64)
    return float(x.mean()), float(x.std(ddof=1)) if x.size > 1 else 0.0


def aggregate(cells: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Mean and spread over seeds of one (family, load): each ``cells[i]`` is a :func:`workload_ratios` result.
    A goal is met when it is met for every seed (``met_all``) and on the mean (``met_mean``)."""
    if not cells:
        raise ValueError("aggregate needs at least one cell")
    out: dict[str, Any] = {"seeds": len(cells)}
    for key in ("jct_vs_best_real", "carbon_vs_best_real", "cost_vs_cheapest_real"):
        out[key] = mean_spread([c[key] for c in cells])
    for key in ("jct_vs_bound", "carbon_vs_bound"):
        out[key] = {p: mean_spread([c[key][p] for c in cells]) for p in cells[0][key]}
    goals = list(cells[0]["met"])
    out["met_all"] = {g: all(c["met"][g] for c in cells) for g in goals}
    hv = [c["violations"][HUANGHE] for c in cells]
    out["huanghe_violations"] = {k: sum(v[k] for v in hv) for k in hv[0]}
    means = {
        "jct<=0.8": out["jct_vs_best_real"][0] <= JCT_GOAL,
        "carbon<=0.8": out["carbon_vs_best_real"][0] <= CARBON_GOAL,
        "cost<=1.05": out["cost_vs_cheapest_real"][0] <= COST_GOAL,
        "no_violations": out["met_all"]["no_violations"],
    }
    if "jct<=1.15xbound" in goals:
        means["jct<=1.15xbound"] = out["jct_vs_bound"][HUANGHE][0] <= BOUND_GOAL
    out["met_mean"] = means
    return out


__all__ = [
    "BOUND_GOAL",
    "BOUND_GOAL_LOAD",
    "CARBON_GOAL",
    "COST_GOAL",
    "JCT_GOAL",
    "REAL_BASELINES",
    "aggregate",
    "mean_spread",
    "workload_ratios",
]
