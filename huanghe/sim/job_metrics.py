"""Scheduling metrics from per-job records (vectorised).

Definitions (times in seconds):
  wait = start − submit;  run = end − start (the actual run time);  JCT = end − submit = wait + run;
  bounded slowdown (threshold τ = 10 s) bsld = max((wait + run) / max(run, τ), 1);
  makespan = last end − first submit;  utilisation = Σ(run · procs) / (cores · makespan).
Percentiles use numpy's linear interpolation.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import numpy.typing as npt

BSLD_THRESHOLD_S = 10.0

FloatArray = npt.NDArray[np.float64]


def bounded_slowdown(
    wait_s: FloatArray, run_s: FloatArray, threshold_s: float = BSLD_THRESHOLD_S
) -> FloatArray:
    """Per-job bounded slowdown ``max((wait + run) / max(run, threshold), 1)``."""
    return np.maximum((wait_s + run_s) / np.maximum(run_s, threshold_s), 1.0)


@dataclass(frozen=True)
class Summary:
    """Summary of one run; see the module docstring for the definitions."""

    jobs: int
    mean_bsld: float
    mean_wait_s: float
    p95_wait_s: float
    mean_jct_s: float
    p95_jct_s: float
    utilisation: float
    makespan_s: float

    def as_dict(self) -> dict[str, float | int]:
        return asdict(self)


def summarize(
    submit_s: FloatArray, start_s: FloatArray, end_s: FloatArray, procs: npt.ArrayLike, cores: int
) -> Summary:
    """Metrics over the jobs that ran (NaN start = never ran, excluded)."""
    ran = ~np.isnan(start_s)
    sub, st, en = submit_s[ran], start_s[ran], end_s[ran]
    n = int(ran.sum())
    if n == 0:
        return Summary(0, float("nan"), float("nan"), float("nan"), float("nan"), float("nan"), 0.0, 0.0)
    wait = st - sub
    run = en - st
    jct = en - sub
    makespan = float(en.max() - sub.min())
    work = float(np.dot(run, np.asarray(procs, dtype=np.float64)[ran]))
    return Summary(
        jobs=n,
        mean_bsld=float(bounded_slowdown(wait, run).mean()),
        mean_wait_s=float(wait.mean()),
        p95_wait_s=float(np.percentile(wait, 95)),
        mean_jct_s=float(jct.mean()),
        p95_jct_s=float(np.percentile(jct, 95)),
        utilisation=work / (cores * makespan) if makespan > 0 else 0.0,
        makespan_s=makespan,
    )


def step_series(
    up_s: FloatArray, down_s: FloatArray, weight: npt.ArrayLike | None = None
) -> tuple[FloatArray, FloatArray]:
    """A count (or weighted sum) of intervals ``[up, down)`` as a step function: ``(times, level)``.

    E.g. queue length = intervals [submit, start); busy cores = [start, end) weighted by procs.
    ``level[k]`` holds from ``times[k]`` until ``times[k + 1]``.
    """
    w = np.ones(len(up_s)) if weight is None else np.asarray(weight, dtype=np.float64)
    t = np.concatenate([up_s, down_s])
    d = np.concatenate([w, -w])
    order = np.argsort(t, kind="stable")
    t, d = t[order], np.cumsum(d[order])
    last = np.r_[t[1:] != t[:-1], True]  # keep the level after the last change at each time
    return t[last], d[last]
