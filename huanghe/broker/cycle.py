"""One scheduling **cycle** of a whole-cycle placement policy (``huanghe`` and the baselines ``first-admit``,
``cheapest``, ``spread``; see :mod:`huanghe.broker.policies` for what each does).

:func:`run_cycle` groups the jobs into classes (:mod:`huanghe.broker.job_classes`), filters, estimates and
scores classes × pools (:mod:`huanghe.broker.scoring`), orders the jobs (:func:`queue_order`) and assigns them
in one greedy pass: per class the pools are sorted once and a pointer only moves forward, because free
capacity only shrinks during a cycle. ``huanghe`` waits for a busy better pool with an EASY reservation there
(later jobs backfill around it) and holds a delay-tolerant job for a greener hour; ``spread`` draws a pool.
The answer is a :class:`CycleResult` (status and pool per job, explanations built on demand).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from huanghe.broker.batch import JobBatch
from huanghe.broker.cycle_context import (
    EPS,
    HUANGHE,
    POLICY_FILTERS,
    POLICY_NAMES,
    SPREAD,
    CycleContext,
    Status,
    Weights,
)
from huanghe.broker.decision import (
    Decision,
    DuplicatePlacementPolicyError,
    UnknownPlacementPolicyError,
    make_decision,
)
from huanghe.broker.estimates import Estimates
from huanghe.broker.explain import Explanation, explain
from huanghe.broker.filters import FilterReport, Reason
from huanghe.broker.job_classes import job_classes, take_jobs
from huanghe.broker.pool_order import LazyPoolOrder
from huanghe.broker.row_chunks import estimate_by_rows, filters_by_rows, scores_by_rows, term_row
from huanghe.broker.scoring import greener_start_s, priced_start_s
from huanghe.broker.snapshot import NetworkSnapshot
from huanghe.broker.waiters import Waiters, best_completion, wait_penalty
from huanghe.core.registry import Registry

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


@dataclass(eq=False)
class CycleResult:
    """Decisions of one cycle. ``status`` / ``pool`` / ``hold_until_s`` are indexed like the batch;
    ``order`` is the order the jobs were considered in. Explanations are built on demand."""

    policy: str
    snapshot: NetworkSnapshot
    jobs: JobBatch
    status: list[Status]
    pool: IntArray  # (J,) -1 = none
    hold_until_s: FloatArray  # (J,) NaN = not held
    order: IntArray
    class_of: IntArray  # (J,)
    report: FilterReport  # (K, P) for the class representatives, policy's filters only
    estimates: Estimates  # (K, P)
    scores: FloatArray  # (K, P)
    terms: Mapping[str, FloatArray]  # (K, P) each (RowTerms: computed on demand)
    notes: dict[int, str] = field(default_factory=dict)
    _explained: dict[tuple[int, int], Explanation] = field(default_factory=dict, repr=False)

    def explanation(self, job: int) -> Explanation:
        """Why job ``job`` (batch row) got its status: candidates, removals, winner and runner-up terms."""
        k = int(self.class_of[job])
        chosen = int(self.pool[job])
        expl = self._explained.get((k, chosen))
        if expl is None:  # jobs of one class placed in one pool share everything but the id and note
            expl = explain(
                self.snapshot,
                self.report,
                k,
                self.jobs.job_ids[job],
                self.scores[k],
                terms=term_row(self.terms, k),
                estimates=self.estimates,
                chosen=chosen if chosen >= 0 else None,
                policy=self.policy,
            )
            self._explained[(k, chosen)] = expl
        status = self.status[job]
        note = f"{status.value}"
        extra = self.notes.get(job)
        if extra:
            note += f": {extra}"
        if status in (Status.WAITING, Status.HELD, Status.INFEASIBLE) and chosen < 0:
            # the best candidate stays listed as winner for context, but nothing was placed
            note += " (not placed this cycle 本轮未放置)"
        return dataclasses.replace(expl, job_id=self.jobs.job_ids[job], note=note)

    def decisions(self) -> list[Decision]:
        """The :class:`~huanghe.broker.decision.Decision` per job, in batch order. A job not placed
        or queued this cycle (waiting, held, infeasible) has ``pool_id`` None; the explanation's note says
        which, and when a held job is due."""
        return [
            make_decision(
                self.snapshot,
                self.estimates,
                int(self.class_of[j]),
                int(self.pool[j]) if self.pool[j] >= 0 else None,
                self.jobs.job_ids[j],
                int(self.jobs.nodes[j]),
                self.explanation(j),
                self.status[j].value,
            )
            for j in range(len(self.jobs))
        ]

    def counts(self) -> dict[str, int]:
        out = {s.value: 0 for s in Status}
        for s in self.status:
            out[s.value] += 1
        return out


class _Capacity:
    """Free node units (nodes × share) and whole free nodes per pool, updated as a cycle gives them away."""

    def __init__(self, snap: NetworkSnapshot) -> None:
        units = snap.nodes_total.astype(np.float64)
        for free, per in (
            (snap.cpus_free, snap.cpus_per_node),
            (snap.gpus_free, snap.gpus_per_node),
            (snap.mem_gb_free, snap.mem_gb_per_node),
        ):
            with np.errstate(divide="ignore", invalid="ignore"):
                units = np.minimum(units, np.where(per > 0, free / np.where(per > 0, per, 1.0), np.inf))
        self.units: list[float] = np.maximum(units, 0.0).tolist()
        self.nodes: list[int] = snap.nodes_free.tolist()

    def fits(self, demand: float, whole_nodes: int, p: int) -> bool:
        return demand <= self.units[p] + EPS and whole_nodes <= self.nodes[p]

    def take(self, demand: float, whole_nodes: int, p: int) -> None:
        self.units[p] -= demand
        self.nodes[p] = min(self.nodes[p] - whole_nodes, math.floor(self.units[p] + EPS))


class _Demand:
    """Node units class ``k`` takes in pool ``p`` (``inf`` where infeasible) and the whole nodes it takes there
    (gangs and whole-node jobs): the elements of ``where(feasible, nodes × min(share, 1), inf)`` and
    ``where((nodes > 1) | (share ≥ 1 − EPS), nodes, 0)``, computed when read (a cycle reads a few pairs)."""

    def __init__(self, reps: JobBatch, feasible: npt.NDArray[np.bool_], share: FloatArray) -> None:
        self._nodes = reps.nodes
        self._feasible = feasible
        self._share = share
        self._units_rows: dict[int, FloatArray] = {}  # rows read by the spread policy, kept for the cycle
        self._whole_rows: dict[int, npt.NDArray[np.int64]] = {}

    def units(self, k: int, p: int) -> float:
        return float(
            np.where(self._feasible[k, p], self._nodes[k] * np.minimum(self._share[k, p], 1.0), np.inf)
        )

    def whole(self, k: int, p: int) -> int:
        n = self._nodes[k]
        return int(np.where((n > 1) | (self._share[k, p] >= 1.0 - EPS), n, 0))

    def units_row(self, k: int) -> FloatArray:
        out = self._units_rows.get(k)
        if out is None:
            out = self._units_rows[k] = np.where(
                self._feasible[k], self._nodes[k] * np.minimum(self._share[k], 1.0), np.inf
            )
        return out

    def whole_row(self, k: int) -> npt.NDArray[np.int64]:
        out = self._whole_rows.get(k)
        if out is None:
            n = self._nodes[k]
            out = self._whole_rows[k] = np.where((n > 1) | (self._share[k] >= 1.0 - EPS), n, 0)
        return out


def queue_order(jobs: JobBatch, ctx: CycleContext, now_s: float, fair: bool) -> IntArray:
    """Order of consideration: priority (higher first), then (``fair``) the DRF/age blend, then submit time."""
    n = len(jobs)
    prio = ctx.priority if ctx.priority is not None else np.zeros(n, np.int64)
    keys: list[npt.NDArray[np.generic]] = [np.arange(n), jobs.submit_s]
    if fair:
        share = np.zeros(n)
        if ctx.tenant is not None and ctx.tenant_share is not None and len(ctx.tenant_share):
            t = np.asarray(ctx.tenant)
            share = np.where(t >= 0, np.asarray(ctx.tenant_share)[np.maximum(t, 0)], 0.0)
        w = ctx.weights
        keys.append(w.fairness * share - (now_s - jobs.submit_s) / w.age_scale_s)
    keys.append(-np.asarray(prio))
    return lexsort(keys)


def lexsort(keys: list[npt.NDArray[np.generic]]) -> IntArray:
    """``np.lexsort(keys)`` (last key primary), faster when the two most significant keys leave no ties: then
    the order is two stable sorts (the minor key, then the major one, as small integers when it fits: a radix
    sort) and the other keys cannot change it; with a tie (equal values, or NaN and NaN) it is ``np.lexsort``."""
    if len(keys) >= 3 and len(keys[0]) > 1:
        major, minor = np.asarray(keys[-1]), np.asarray(keys[-2])
        o = np.argsort(minor, kind="stable")
        m = major[o]
        if m.dtype.kind in "iu" and m.min() >= np.iinfo(np.int16).min and m.max() <= np.iinfo(np.int16).max:
            m = m.astype(np.int16)  # same order, radix-sorted
        o = o[np.argsort(m, kind="stable")]
        if not (_equal_next(major[o]) & _equal_next(minor[o])).any():
            return o.astype(np.int64)
    out: IntArray = np.lexsort(tuple(keys)).astype(np.int64)
    return out


def _equal_next(x: npt.NDArray[np.generic]) -> npt.NDArray[np.bool_]:
    """``x[i + 1]`` sorts equal to ``x[i]`` (equal values, or both NaN)."""
    out: npt.NDArray[np.bool_] = x[1:] == x[:-1]
    if x.dtype.kind in "fc":
        out |= np.isnan(x[1:]) & np.isnan(x[:-1])
    return out


# ---------------------------------------------------------------------------------------------- the cycle
#: The whole-cycle policies (:data:`POLICY_NAMES`) and the filters each applies, as a registry.
CYCLE_POLICY_FILTERS: Registry[tuple[Reason, ...]] = Registry(
    "placement policy",
    ((name, POLICY_FILTERS[name]) for name in POLICY_NAMES),
    unknown_error=UnknownPlacementPolicyError,
    duplicate_error=DuplicatePlacementPolicyError,
)


def run_cycle(
    policy: str, snap: NetworkSnapshot, jobs: JobBatch, ctx: CycleContext | None = None
) -> CycleResult:
    """One scheduling cycle of ``policy`` (a name of :data:`POLICY_NAMES`) at ``snap.t_s``."""
    filters = CYCLE_POLICY_FILTERS.get(policy)  # UnknownPlacementPolicyError names the cycle policies
    ctx = ctx or CycleContext()
    now = snap.t_s
    rep, class_of = job_classes(jobs)
    reps = take_jobs(jobs, rep)
    # the dense class × pool phases by row chunks (row_chunks: same values, cache-sized temporaries)
    report = filters_by_rows(snap, reps, filters)
    est = estimate_by_rows(snap, reps)
    feasible = report.feasible
    need = _Demand(reps, feasible, est.share)
    scores, terms = scores_by_rows(policy, snap, reps, feasible, est, ctx.weights)
    res = CycleResult(
        policy=policy,
        snapshot=snap,
        jobs=jobs,
        status=[Status.WAITING] * len(jobs),
        pool=np.full(len(jobs), -1, np.int64),
        hold_until_s=np.full(len(jobs), np.nan),
        order=queue_order(jobs, ctx, now, fair=policy == HUANGHE),
        class_of=class_of,
        report=report,
        estimates=est,
        scores=scores,
        terms=terms,
    )
    cap = _Capacity(snap)
    if policy == SPREAD:
        _assign_spread(res, cap, need, ctx)
    else:
        ours = policy == HUANGHE
        _assign_sorted(res, cap, need, ctx, late_wait=ours and ctx.weights.wait_for_better, shift=ours)
    return res


def _assign_sorted(
    res: CycleResult,
    cap: _Capacity,
    need: _Demand,
    ctx: CycleContext,
    late_wait: bool,
    shift: bool,
) -> None:
    """Greedy over jobs in order, each class walking its pools sorted by score. With ``late_wait`` (huanghe)
    a busy pool ranked above every free one makes the job wait, with an EASY reservation there; with ``shift``
    a job with a deadline may be held for a greener hour."""
    snap, jobs, est = res.snapshot, res.jobs, res.estimates
    now = snap.t_s
    scores = res.scores
    n_feasible = res.report.feasible.sum(axis=1)
    pool_order = LazyPoolOrder(snap, est, scores)  # tie_order's order (ties: cost, carbon, pool id), lazily
    fit0 = est.fits_now
    ptr = [0] * scores.shape[0]
    blocked_at = [-1] * scores.shape[0]
    reserved: dict[int, list[float]] = {}  # pool -> [shadow_s, extra_units]
    memo: dict[tuple[str, int], object] = {}  # per-cycle cache of _later_than_estimated
    run_s = est.run_s
    w = ctx.weights
    deadline_abs = jobs.submit_s + jobs.deadline_s
    has_deadline = (~np.isnan(deadline_abs)).tolist()
    status, pool = res.status, res.pool
    class_of = res.class_of.tolist()
    nfs = n_feasible.tolist()
    for j in np.flatnonzero(n_feasible[res.class_of] == 0).tolist():
        status[j] = Status.INFEASIBLE
    # a class is done once it has no feasible pool, none free any more, or an earlier job of it waits for a busy
    # pool: that lasts for the rest of the cycle, so the pass stops when every class is done (the rest wait)
    done = [nf == 0 for nf in nfs]
    alive = done.count(False)
    waiters = Waiters(snap, ctx.releases) if late_wait and w.wait_for_waiters else None
    passed: list[tuple[int, float]] = [(-1, math.inf)] * scores.shape[0]
    for j in res.order.tolist():
        if alive == 0:
            break
        k = class_of[j]
        if done[k]:
            if waiters is not None and blocked_at[k] >= 0:  # it waits for that pool too, ahead of later jobs
                waiters.add(blocked_at[k], need.units(k, blocked_at[k]), float(run_s[k, blocked_at[k]]))
            continue
        nf = nfs[k]
        i = ptr[k]
        chosen = -1
        wait_on, wait_score = passed[k]  # a busy pool passed over for its waiters, and its corrected score
        while i < nf or wait_on >= 0:  # past the last pool, the busy pool passed over is what is left
            p = pool_order.at(k, i) if i < nf else wait_on
            if wait_on >= 0 and scores[k, p] >= wait_score:
                p = wait_on  # nothing better than waiting there after all
            elif late_wait and not fit0[k, p]:
                if (
                    w.wait_from_releases
                    and i + 1 < nf
                    and _later_than_estimated(res, ctx, cap, k, p, i, pool_order, need.units(k, p), memo)
                ):
                    i += 1  # the release profile says this busy pool frees too late: the next one is better
                    continue
                if waiters is not None:
                    extra = waiters.extra_s(p, need.units(k, p), cap.units[p], now)
                    c = float(scores[k, p]) + wait_penalty(
                        extra,
                        best_completion(res.estimates, res.report.feasible, k, snap.t_s, memo),
                        w,
                    )
                    if c < wait_score:
                        wait_on, wait_score = p, c
                    if i + 1 < nf and scores[k, pool_order.at(k, i + 1)] < wait_score:
                        i += 1  # the jobs already waiting for it make the next pool better: look there
                        continue
                    p = wait_on
            if late_wait and not fit0[k, p]:
                blocked_at[k] = p
                if p not in reserved:
                    reserved[p] = _reservation(snap, ctx, cap, p, need.units(k, p))
                    res.notes[j] = f"reservation 预留 on {snap.pool_ids[p]} at t={reserved[p][0]:.0f}s"
                elif waiters is not None:
                    res.notes[j] = f"waits for 等待 {snap.pool_ids[p]} behind {waiters.units[p]:g} node units"
                if waiters is not None:
                    waiters.add(p, need.units(k, p), float(run_s[k, p]))
                break
            d, wn = need.units(k, p), need.whole(k, p)
            if cap.fits(d, wn, p) and _backfill_ok(reserved.get(p), now + float(run_s[k, p]), d):
                chosen = p
                break
            i += 1
        ptr[k] = i
        passed[k] = (wait_on, wait_score)
        if chosen < 0:  # blocked by a busy better pool, or nothing free left: done for this cycle
            done[k] = True
            alive -= 1
            continue
        if shift and has_deadline[j]:
            latest = float(deadline_abs[j]) - float(run_s[k, chosen]) * (1 + w.shift_margin) - ctx.cycle_s
            t_green = _greener_start(res, w, k, chosen, latest, memo)
            if t_green is not None:
                status[j] = Status.HELD
                res.hold_until_s[j] = t_green
                res.notes[j] = f"greener hour 低碳时段 at t={t_green:.0f}s, latest start {latest:.0f}s"
                continue
        d, wn = need.units(k, chosen), need.whole(k, chosen)
        cap.take(d, wn, chosen)
        r = reserved.get(chosen)
        if r is not None and now + float(run_s[k, chosen]) > r[0]:
            r[1] -= d
        status[j] = Status.PLACED
        pool[j] = chosen


def _greener_start(
    res: CycleResult, w: Weights, k: int, p: int, latest: float, memo: dict[tuple[str, int], object]
) -> float | None:
    """The hour class ``k`` is held for in pool ``p`` (None: start now): :func:`greener_start_s`, or with
    ``w.shift_priced`` :func:`priced_start_s` against the class's best completion and carbon (memo per class)."""
    snap, est = res.snapshot, res.estimates
    c, now, run = int(snap.pool_center[p]), snap.t_s, float(est.run_s[k, p])
    if not w.shift_priced:
        return greener_start_s(snap, c, now, run, latest, w.shift_min_gain, w.shift_horizon_h)
    bests = memo.get(("bests", k))
    if bests is None:
        f = res.report.feasible[k]
        done = np.where(f, est.start_s[k] - now + est.run_s[k], np.inf)
        bests = memo[("bests", k)] = (float(done.min()), float(np.where(f, est.carbon_kg[k], np.inf).min()))
    assert isinstance(bests, tuple)
    energy = float(est.energy_facility_kwh[k, p])
    return priced_start_s(snap, c, now, run, latest, energy, bests[0], bests[1], w)


def _later_than_estimated(
    res: CycleResult,
    ctx: CycleContext,
    cap: _Capacity,
    k: int,
    p: int,
    i: int,
    pool_order: LazyPoolOrder,
    need: float,
    memo: dict[tuple[str, int], object],
) -> bool:
    """Whether busy pool ``p`` (rank ``i`` of class ``k``) stops being the class's best choice once its wait
    comes from its release profile (when enough node units free up for the job, as a reservation would
    say) instead of the fluid backlog the scores used: its score plus the completion terms of the extra wait
    (relative to the class's best completion, and per hour) exceeds the next-ranked pool's score, and that
    pool can start the job now (otherwise the job would wait on a worse pool)."""
    if ctx.releases is None:
        return False
    snap, est, w = res.snapshot, res.estimates, ctx.weights
    ends, units = ctx.releases[p]
    cum = memo.get(("cum", p))
    if cum is None:
        cum = memo[("cum", p)] = np.cumsum(units)
    assert isinstance(cum, np.ndarray)
    idx = int(np.searchsorted(cum, need - cap.units[p] - EPS))  # the release that frees enough: O(log n)
    if idx >= len(ends):
        return False  # the profile never frees enough (the scores' backlog stands)
    shadow = max(float(ends[idx]), snap.t_s)
    extra = max(shadow, snap.t_s + float(est.transfer_s[k, p])) - float(est.start_s[k, p])
    if extra <= 0:
        return False
    penalty = wait_penalty(extra, best_completion(res.estimates, res.report.feasible, k, snap.t_s, memo), w)
    nxt = pool_order.at(k, i + 1)
    if not est.fits_now[k, nxt]:
        return False  # never trade a wait on the best pool for a wait on a worse one
    return float(res.scores[k, p]) + penalty > float(res.scores[k, nxt])


def _backfill_ok(reservation: list[float] | None, end_s: float, demand: float) -> bool:
    """A job may use a reserved pool if it ends before the reservation or fits the capacity left over then."""
    if reservation is None:
        return True
    return end_s <= reservation[0] or demand <= reservation[1] + EPS


def _reservation(
    snap: NetworkSnapshot, ctx: CycleContext, cap: _Capacity, p: int, need: float
) -> list[float]:
    """EASY reservation for ``need`` node units in pool ``p``: ``[shadow_s, extra_units]``."""
    free = cap.units[p]
    if ctx.releases is not None:
        ends, units = ctx.releases[p]
        if len(ends):
            cum = free + np.cumsum(units)
            idx = int(np.searchsorted(cum, need - EPS))
            if idx < len(ends):
                return [max(float(ends[idx]), snap.t_s), float(cum[idx] - need)]
    return [snap.t_s + float(snap.backlog_s[p]), 0.0]


def _assign_spread(res: CycleResult, cap: _Capacity, need: _Demand, ctx: CycleContext) -> None:
    """Karmada dynamic weights: a seeded draw among pools that fit now, proportional to free capacity of the
    job's main resource (GPUs if it asks for any, else cores)."""
    snap = res.snapshot
    rng = np.random.default_rng([abs(ctx.seed), abs(int(snap.t_s))])
    feasible = res.report.feasible
    units_now = np.asarray(cap.units)
    nodes_now = np.asarray(cap.nodes)
    gpus_job = res.jobs.gpus
    weights_out = np.zeros_like(res.scores)
    for j in res.order.tolist():
        k = int(res.class_of[j])
        frow = feasible[k]
        if not frow.any():
            res.status[j] = Status.INFEASIBLE
            continue
        fits = frow & (need.units_row(k) <= units_now + EPS) & (need.whole_row(k) <= nodes_now)
        if not fits.any():
            continue
        per = snap.gpus_per_node if gpus_job[j] > 0 else snap.cpus_per_node
        weight = np.where(fits, units_now * per, 0.0)
        total = weight.sum()
        p = int(rng.choice(len(weight), p=weight / total)) if total > 0 else int(np.flatnonzero(fits)[0])
        weights_out[k] = -weight / total if total > 0 else weights_out[k]
        units_now[p] -= need.units(k, p)
        nodes_now[p] = min(nodes_now[p] - need.whole(k, p), math.floor(units_now[p] + EPS))
        res.status[j] = Status.PLACED
        res.pool[j] = p
    cap.units = units_now.tolist()
    cap.nodes = nodes_now.tolist()
    res.scores = np.where(feasible, weights_out, np.inf)
    res.terms = {"minus_weight": res.scores}
