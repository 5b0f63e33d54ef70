"""Training-set scores of the ``huanghe`` order's configurations (how it was chosen; docs/bench-sim.md §3).

Prints, for each configuration, its mean bounded slowdown divided by FCFS+EASY's on the same jobs, for
the six training sets of round 2, and the geometric mean of the six ratios (the selection criterion).
None of these sets is the published evaluation protocol (seed-1 starts), though some share jobs with it:

  lub_rl        Lublin, 20 sequences of 1,024 jobs, starts drawn with seed 2 (RLScheduler mechanics)
  hpc_rl        HPC2N, 20 sequences, seed 2, starts in [10,000, end) (disjoint from the seed-1 pool)
  sdsc_rl_late  SDSC-SP2, the same from [10,000, end)
  sdsc_rl_early SDSC-SP2, starts drawn as the published protocol but with seeds 2 and 3 (20 sequences)
  sdsc_whole    whole SDSC-SP2, default SWF rules, textbook EASY
  hpc_half      HPC2N jobs [10,000, n/2) (default SWF rules), textbook EASY

Round 1 used only lub_rl, hpc_rl and sdsc_rl_late (seed 2, 10–20 sequences). Run:

    .venv/bin/python bench/tune_huanghe.py          # about 15 s in all (4 configurations)

Round 3 (helper H14): the same six training sets, the family of :func:`round3_family` — the shipped
shape with the estimate replaced by an online per-user run-time prediction (Tsafrir et al. 2007: mean of
the user's last ``history`` finished jobs, capped by the request; engine finish hook, no look-ahead).
Selection rule, fixed before any evaluation run: among candidates with ``sdsc_whole`` and ``hpc_half``
ratios ≤ 0.7, the lowest geometric mean; it replaces the shipped order only if that geo-mean is below
the shipped order's on the same sets AND, at the one evaluation (published protocol, seed 1, RLScheduler
mechanics; whole traces, standard mechanics), it keeps the whole-trace goal on the three traces and meets
more published targets than the shipped order, or as many with a lower bsld on ≥ 2 of the 3 traces.

    .venv/bin/python bench/tune_huanghe.py --round 3

Round 3b: round 3 picked a corner of its grid (promotion 5, n^1, xf from the request), so the grid was
extended in that direction (:func:`round3b_family`), on the same training sets and with the same rule,
after seeing round 3's training scores and before any evaluation run:

    .venv/bin/python bench/tune_huanghe.py --round 3b

Round 4 (NOT blind: designed after round 3b's one evaluation on the published sequences had been seen):
round 3b's pick sat at its grid's edge (promotion 20), so the grid is extended past it
(:func:`round4_family`), same training sets and rule; it replaces round 3b only if its geo-mean is below
round 3b's AND at its evaluation it meets more published targets than round 3b (1 of 3), or as many with
a lower bsld on ≥ 2 of the 3 traces:

    .venv/bin/python bench/tune_huanghe.py --round 4

Round 3b selected ``promote=20 n^1.25 xf^0.5`` (prediction on, promotion by the request-based slowdown),
now the defaults of :class:`HuangheOrder` ("round 3b = shipped" above).
"""

from __future__ import annotations

import argparse
import itertools
import math
import time
from collections.abc import Sequence

import numpy as np

from huanghe.broker.cluster_queue import RLSCHEDULER_RULES, STANDARD_RULES, EngineRules
from huanghe.broker.queue import Backfill, HuangheOrder, QueuePolicy, get_policy
from huanghe.sim.rlscheduler import TRACES, legacy_gym_rng, load_trace, sequence_starts
from huanghe.sim.simulation import simulate
from huanghe.sim.traces.swf import load_swf
from huanghe.sim.workload import Workload

LENGTH = 1024
CONFIGS: dict[str, HuangheOrder] = {
    "previous (wide-first xf)": HuangheOrder(
        estimate_power=0.25,
        procs_power=-0.5,
        xf_power=1.0,
        promote_xf=math.inf,
        estimate_floor_s=10.0,
        predict=False,
    ),
    "round 1 (area, no promotion)": HuangheOrder(
        predict=False, procs_power=0.75, xf_power=0.1, promote_xf=math.inf
    ),
    "round 2 (H13)": HuangheOrder(predict=False, procs_power=0.75, xf_power=0.1, promote_xf=3.0),
    "round 3b = shipped": HuangheOrder(),
}


def round3_family() -> dict[str, HuangheOrder]:
    """Round 3: prediction on, over promotion threshold, width power, aging power, xf from prediction."""
    family: dict[str, HuangheOrder] = {}
    for in_xf, promote, procs_power, xf_power in itertools.product(
        (True, False), (2.0, 3.0, 5.0), (0.5, 0.75, 1.0), (0.1, 0.5)
    ):
        name = f"pred xf={'p' if in_xf else 'e'} promote={promote:g} n^{procs_power:g} xf^{xf_power:g}"
        family[name] = HuangheOrder(
            predict=True,
            predict_in_xf=in_xf,
            promote_xf=promote,
            procs_power=procs_power,
            xf_power=xf_power,
        )
    for history in (1, 4):
        family[f"pred history={history}"] = HuangheOrder(
            predict=True, history=history, predict_in_xf=True, promote_xf=3.0, procs_power=0.75, xf_power=0.1
        )
    return family


def round3b_family() -> dict[str, HuangheOrder]:
    """Round 3b: round 3's corner extended: larger promotion thresholds, wider-job penalties, aging."""
    family: dict[str, HuangheOrder] = {}
    for promote, procs_power, xf_power in itertools.product(
        (5.0, 8.0, 12.0, 20.0), (1.0, 1.25, 1.5), (0.5, 1.0)
    ):
        family[f"pred xf=e promote={promote:g} n^{procs_power:g} xf^{xf_power:g}"] = HuangheOrder(
            predict=True, predict_in_xf=False, promote_xf=promote, procs_power=procs_power, xf_power=xf_power
        )
    return family


def round4_family() -> dict[str, HuangheOrder]:
    """Round 4: past round 3b's edge: promotion 20 … never, width 1.25 / 1.5, aging 0.25 … 0.75."""
    family: dict[str, HuangheOrder] = {}
    for promote, procs_power, xf_power in itertools.product(
        (20.0, 30.0, 50.0, 100.0, math.inf), (1.25, 1.5), (0.25, 0.5, 0.75)
    ):
        family[f"pred xf=e promote={promote:g} n^{procs_power:g} xf^{xf_power:g}"] = HuangheOrder(
            predict=True, predict_in_xf=False, promote_xf=promote, procs_power=procs_power, xf_power=xf_power
        )
    return family


def late_starts(n_jobs: int, seed: int, count: int, low: int) -> list[int]:
    rng = legacy_gym_rng(seed)
    return [int(rng.randint(low, n_jobs - LENGTH - 1)) for _ in range(count)]


def sequences_bsld(
    wl: Workload, cores: int, policy: QueuePolicy, starts: Sequence[int], rules: EngineRules
) -> float:
    return float(
        np.mean(
            [
                simulate(wl.take(slice(s, s + LENGTH)), cores, policy, rules=rules).summary().mean_bsld
                for s in starts
            ]
        )
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--round", choices=("2", "3", "3b", "4"), default="2")
    args = parser.parse_args()
    configs = dict(CONFIGS) if args.round == "2" else {"round 2 (H13)": CONFIGS["round 2 (H13)"]}
    if args.round == "4":
        configs["round 3b = shipped"] = CONFIGS["round 3b = shipped"]
    families = {"2": dict, "3": round3_family, "3b": round3b_family, "4": round4_family}
    configs.update(families[args.round]())
    lub, sdsc, hpc = (load_trace(k)[1] for k in ("lublin", "sdsc-sp2", "hpc2n"))
    sdsc_whole = load_swf(TRACES["sdsc-sp2"].path)[0]
    hpc_default = load_swf(TRACES["hpc2n"].path)[0]
    hpc_half = hpc_default.take(slice(10_000, len(hpc_default) // 2))
    rl_sets = {
        "lub_rl": (lub, 256, late_starts(10_000, 2, 20, LENGTH)),
        "hpc_rl": (hpc, 240, late_starts(len(hpc), 2, 20, 10_000)),
        "sdsc_rl_late": (sdsc, 128, late_starts(len(sdsc), 2, 20, 10_000)),
        "sdsc_rl_early": (sdsc, 128, sequence_starts(seed=2) + sequence_starts(seed=3)),
    }
    long_sets = {"sdsc_whole": (sdsc_whole, 128), "hpc_half": (hpc_half, 240)}

    def scores(policy: QueuePolicy) -> dict[str, float]:
        out = {k: sequences_bsld(w, c, policy, st, RLSCHEDULER_RULES) for k, (w, c, st) in rl_sets.items()}
        for k, (w, c) in long_sets.items():
            out[k] = simulate(w, c, policy, rules=STANDARD_RULES).summary().mean_bsld
        return out

    base = scores(get_policy("fcfs-easy"))
    print("FCFS+EASY bsld:", "  ".join(f"{k}={v:.1f}" for k, v in base.items()))
    kept: dict[str, float] = {}
    for name, order in configs.items():
        t0 = time.perf_counter()
        got = scores(QueuePolicy(name, order, Backfill.EASY))
        ratios = {k: got[k] / base[k] for k in got}
        gm = float(np.exp(np.mean(np.log(list(ratios.values())))))
        cells = "  ".join(f"{k}={v:.3f}" for k, v in ratios.items())
        print(f"{name:42s} geo-mean {gm:.4f}  {cells}  ({time.perf_counter() - t0:.0f} s)", flush=True)
        if ratios["sdsc_whole"] <= 0.7 and ratios["hpc_half"] <= 0.7:
            kept[name] = gm
    if args.round != "2" and kept:
        best = min(kept, key=kept.__getitem__)
        print(f"selected (lowest geo-mean with whole-trace ratios <= 0.7): {best} ({kept[best]:.4f})")


if __name__ == "__main__":
    main()
