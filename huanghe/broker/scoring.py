"""Scores of the whole-cycle placement policies over classes × pools (lower is better, ``inf`` where
infeasible): the ``huanghe`` terms (relative and absolute excess over the job's best feasible pool, deadline
misses), the baselines' static scores, and the greener start hour of temporal shifting."""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

from huanghe.broker.batch import JobBatch
from huanghe.broker.cycle_context import CHEAPEST, FIRST_ADMIT, HUANGHE, SECONDS_PER_HOUR, Weights
from huanghe.broker.estimates import Estimates
from huanghe.broker.filters import job_price_cny_per_hour
from huanghe.broker.snapshot import NetworkSnapshot

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]


def relative_excess(values: FloatArray, feasible: BoolArray, floor: float) -> FloatArray:
    """``(x − best) / (best + floor)`` per row over the feasible pools; ``inf`` where infeasible."""
    x = np.where(feasible, values, np.inf)
    best = x.min(axis=1, keepdims=True)
    best = np.where(np.isfinite(best), best, 0.0)
    with np.errstate(invalid="ignore"):
        out: FloatArray = np.where(feasible, (x - best) / (np.abs(best) + floor), np.inf)
    return out


def absolute_excess(values: FloatArray, feasible: BoolArray) -> FloatArray:
    """``x − best`` per row over the feasible pools (units of ``values``); ``inf`` where infeasible."""
    x = np.where(feasible, values, np.inf)
    best = x.min(axis=1, keepdims=True)
    best = np.where(np.isfinite(best), best, 0.0)
    with np.errstate(invalid="ignore"):
        out: FloatArray = np.where(feasible, x - best, np.inf)
    return out


def stranding(snap: NetworkSnapshot, jobs: JobBatch, feasible: BoolArray) -> FloatArray:
    """(J, P) 1 where a job asking for no GPUs would take an accelerator pool while a feasible CPU-only pool
    exists for it (it would strand that pool's accelerators), else 0."""
    accel = snap.gpus_per_node > 0  # (P,)
    cpu_job = jobs.gpus <= 0  # (J,)
    cpu_pool_ok = (feasible & ~accel[None, :]).any(axis=1)  # (J,)
    out: FloatArray = ((cpu_job & cpu_pool_ok)[:, None] & accel[None, :]).astype(np.float64)
    return out


def huanghe_terms(
    snap: NetworkSnapshot,
    est: Estimates,
    feasible: BoolArray,
    weights: Weights,
    jobs: JobBatch | None = None,
) -> tuple[FloatArray, dict[str, FloatArray]]:
    """(K, P) total score (lower is better) and its weighted terms for the ``huanghe`` policy (with ``jobs``,
    the ``stranding`` term too: see :func:`stranding`)."""
    completion = est.start_s - snap.t_s + est.run_s
    abs_completion_h = absolute_excess(completion, feasible) / weights.completion_abs_scale_s
    raw = {
        "completion": (weights.completion, relative_excess(completion, feasible, weights.completion_floor_s)),
        "completion_abs": (weights.completion_abs, abs_completion_h),
        "carbon_abs": (weights.carbon_abs_per_kg, absolute_excess(est.carbon_kg, feasible)),
        "cost": (weights.cost, relative_excess(est.cost_cny, feasible, weights.cost_floor_cny)),
        "carbon": (weights.carbon, relative_excess(est.carbon_kg, feasible, weights.carbon_floor_kg)),
        "transfer": (weights.transfer, relative_excess(est.transfer_s, feasible, weights.transfer_floor_s)),
    }
    # weight × term on the feasible pools only (a zero weight must not turn an infeasible ``inf`` into NaN)
    terms = {name: np.where(feasible, w * np.where(feasible, x, 0.0), np.inf) for name, (w, x) in raw.items()}
    # a pool that would miss the job's deadline is a last resort while another feasible pool meets it
    late = feasible & ~est.deadline_ok
    can_meet = (feasible & est.deadline_ok).any(axis=1, keepdims=True)
    terms["deadline"] = np.where(late & can_meet, weights.deadline_miss, 0.0)
    if jobs is not None:
        terms["stranding"] = np.where(feasible, weights.stranding * stranding(snap, jobs, feasible), np.inf)
    total = np.zeros_like(completion)
    for t in terms.values():
        total = total + t
    total = np.where(feasible, total, np.inf)
    return total, terms


def tie_order(snap: NetworkSnapshot, est: Estimates, scores: FloatArray) -> npt.NDArray[np.intp]:
    """(K, P) pools of each row sorted by score, ties broken by lower estimated cost, then lower estimated
    carbon, then pool id (alphabetical): never by the topology's order alone."""
    shape = np.shape(scores)
    cost = np.broadcast_to(np.nan_to_num(est.cost_cny, nan=np.inf), shape)
    carbon = np.broadcast_to(np.nan_to_num(est.carbon_kg, nan=np.inf), shape)
    ids = np.broadcast_to(pool_id_rank(snap)[None, :], shape)
    out: npt.NDArray[np.intp] = np.lexsort((ids, carbon, cost, scores), axis=-1)
    return out


def pool_id_rank(snap: NetworkSnapshot) -> npt.NDArray[np.int64]:
    """(P,) rank of each pool's id in alphabetical order."""
    rank = np.empty(snap.n_pools, dtype=np.int64)
    rank[np.argsort(np.asarray(snap.pool_ids, dtype=np.str_), kind="stable")] = np.arange(snap.n_pools)
    return rank


def greener_start_s(
    snap: NetworkSnapshot,
    center: int,
    now_s: float,
    run_s: float,
    latest_start_s: float,
    min_gain: float,
    horizon_h: int,
) -> float | None:
    """The hour start in ``(now, latest_start]`` with the lowest mean intensity over the run, if it beats
    starting now by at least ``min_gain`` (a fraction); else None. Candidates are whole hours."""
    cand = _hour_starts(snap, center, now_s, run_s, latest_start_s, horizon_h)
    if cand is None:
        return None
    starts, mean = cand
    best = int(np.argmin(mean[1:])) + 1
    if mean[best] <= mean[0] * (1.0 - min_gain):
        return float(starts[best])
    return None


def priced_start_s(
    snap: NetworkSnapshot,
    center: int,
    now_s: float,
    run_s: float,
    latest_start_s: float,
    energy_kwh: float,
    best_completion_s: float,
    best_carbon_kg: float,
    weights: Weights,
) -> float | None:
    """Temporal shifting priced with the score's own exchange rate (``weights.shift_priced``): among the hour
    starts in ``(now, latest_start]`` whose mean intensity over the run is at least ``weights.shift_min_gain``
    lower than now, the one where the carbon terms saved exceed the completion terms added by the most, else
    None. For a delay ``d`` (s) saving ``g`` kg (``energy_kwh`` × the intensity drop), in the units of
    :func:`huanghe_terms` (relative to the job's best feasible completion ``best_completion_s`` and carbon
    ``best_carbon_kg``): saved ``carbon × g / (best kg + floor) + carbon_abs_per_kg × g``, added
    ``completion × d / (best s + floor) + completion_abs × d / completion_abs_scale_s``. Without it (the
    relative threshold alone, :func:`greener_start_s`) a 3-minute job waits 11 h to save 0.1 kg."""
    w = weights
    cand = _hour_starts(snap, center, now_s, run_s, latest_start_s, w.shift_horizon_h)
    if cand is None:
        return None
    starts, mean = cand
    gain_kg = energy_kwh * (mean[0] - mean[1:])
    delay_s = starts[1:] - now_s
    saved = w.carbon * gain_kg / (abs(best_carbon_kg) + w.carbon_floor_kg) + w.carbon_abs_per_kg * gain_kg
    added = (
        w.completion * delay_s / (abs(best_completion_s) + w.completion_floor_s)
        + w.completion_abs * delay_s / w.completion_abs_scale_s
    )
    net = np.where(mean[1:] <= mean[0] * (1.0 - w.shift_min_gain), saved - added, -np.inf)
    best = int(np.argmax(net))
    return float(starts[1 + best]) if net[best] > 0 else None


def _hour_starts(
    snap: NetworkSnapshot, center: int, now_s: float, run_s: float, latest_start_s: float, horizon_h: int
) -> tuple[FloatArray, FloatArray] | None:
    """``now`` then the whole-hour starts in ``(now, latest_start]`` (at most ``horizon_h``), with the center's
    mean intensity over a run of ``run_s`` from each; None when there is no such hour."""
    if latest_start_s <= now_s:
        return None
    first = math.floor(now_s / SECONDS_PER_HOUR) + 1
    last = min(math.floor(latest_start_s / SECONDS_PER_HOUR), first + horizon_h - 1)
    if last < first:
        return None
    starts = np.concatenate([[now_s], np.arange(first, last + 1, dtype=np.float64) * SECONDS_PER_HOUR])
    span = max(run_s, 1.0)
    mean = snap.carbon.mean_intensity_kg_per_kwh(np.full(starts.shape, center), starts, starts + span)
    return starts, np.asarray(mean, dtype=np.float64)


def policy_scores(
    policy: str, snap: NetworkSnapshot, jobs: JobBatch, feasible: BoolArray, est: Estimates, weights: Weights
) -> tuple[FloatArray, dict[str, FloatArray]]:
    """(J, P) score of ``policy`` (lower is better, ``inf`` where infeasible) and its named terms.
    ``spread`` draws at random in the cycle; its static score is minus the pool's free share."""
    if policy == HUANGHE:
        return huanghe_terms(snap, est, feasible, weights, jobs)
    if policy == FIRST_ADMIT:
        scores = np.where(feasible, np.arange(snap.n_pools, dtype=np.float64)[None, :], np.inf)
        return scores, {"pool_order": scores}
    if policy == CHEAPEST:
        scores = np.where(feasible, job_price_cny_per_hour(snap, jobs), np.inf)
        return scores, {"price_cny_per_hour": scores}
    free_share = snap.cpus_free / np.maximum(snap.cpus_per_node * snap.nodes_total, 1.0)
    scores = np.where(feasible, -free_share[None, :], np.inf)
    return scores, {"minus_free_share": scores}
