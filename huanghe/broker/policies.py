"""Placement policies of the multi-center broker (ARCHITECTURE.md §5, phase 5): ``huanghe`` and four baselines.

One scheduling **cycle** takes an immutable :class:`~huanghe.broker.snapshot.NetworkSnapshot`, the queued jobs
as a :class:`~huanghe.broker.batch.JobBatch` and a :class:`CycleContext` (priorities, tenants and their
dominant shares, the release profile of each pool), and returns a :class:`CycleResult`: for every job a
:class:`Status` and a pool, with an :class:`~huanghe.broker.explain.Explanation` built on demand.

Statuses: ``placed`` (start now in ``pool``; the cycle keeps track of what it already gave away, so all placed
jobs fit together), ``queued`` (bound now to ``pool``'s own queue although it does not fit yet: early binding,
what Slurm ``-M`` does), ``held`` (delay-tolerant job kept back for a greener hour, ``hold_until_s``),
``waiting`` (nothing suitable free now; asked again next cycle), ``infeasible`` (no pool passes the filters).

Vectorisation: jobs with identical requests (kind, per-node resources, nodes, duration, data, residency set,
user city and SLO, price cap, accelerator) form one **class**; filters, estimates and scores are computed on
classes × pools (``K × P``), and one pass over the ordered jobs assigns them (``O(J + K·P)``): per class the
pools are sorted once and a pointer only moves forward, because free capacity only shrinks during a cycle.

Policies and the filters they apply (``POLICY_FILTERS``): a baseline applies only the filters the real system
has; residency (data class) and latency SLO are unknown to all four, so they may violate them (the simulator
reports it).

``huanghe`` (ours)
    Order: priority, then dominant-resource fairness between tenants blended with age
    (``weights.fairness × share − age_s / weights.age_scale_s``), then submit time. Score per feasible pool,
    lower is better: ``Σ_term weight × (x − best) / (best + floor)`` for expected completion time
    (``start − now + run``), cost, carbon and data-transfer time, each relative to the job's best feasible pool,
    plus ``weights.deadline_miss`` for a pool estimated to miss the job's deadline when another would meet it.
    Late binding: a job starts where it fits now; if its best-scored pool is busy (the estimate says it is
    worth waiting for), it waits, and the first such job per pool gets a **reservation** (EASY: the time
    the pool frees enough for it, from the pool's release profile); later jobs may use that pool only if they
    end before it, or use the capacity left over at that time (backfilling). **Temporal shifting**: a job
    with a deadline is held when a start hour within ``[now, deadline − run × (1 + margin) − cycle]`` has a
    mean carbon intensity over its run at least ``weights.shift_min_gain`` lower than starting now (forecast
    = the center's hourly signal); it is never held past that latest start. **Spatial shifting** comes from
    the carbon term: a cleaner center wins when the time it costs is small.
``first-admit`` (MultiKueue)
    Pools in a fixed order (the topology's); the first whose free capacity admits the job now; else waits.
``earliest-start`` (Slurm ``-M``, federation) is not here: it is
    :class:`huanghe.broker.engine.EarliestStart`, scored by the engine's generic path (earliest estimated
    start, all filters, every job bound at once to its pool's queue: early binding).
    ``earliest-completion`` (:class:`huanghe.broker.engine.EarliestCompletion`, ours, stronger) is the
    same with the estimated completion (start + run) instead of the start.
``cheapest`` (SkyPilot / dstack optimizer)
    Feasible pools by the job's hourly price; the cheapest with free capacity now (fail-over down the list);
    else waits.
``spread`` (Karmada dynamic weights)
    A pool drawn (seeded) with probability proportional to its free capacity of the job's main resource
    (GPUs for accelerator jobs, cores otherwise) among pools that fit now; else waits.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from huanghe.broker.batch import JobBatch, node_share
from huanghe.broker.estimates import Estimates, estimate
from huanghe.broker.explain import Explanation, explain
from huanghe.broker.filters import FILTERS, FilterReport, Reason, apply_filters, job_price_cny_per_hour
from huanghe.broker.snapshot import NetworkSnapshot

if TYPE_CHECKING:
    from huanghe.broker.engine import Decision, Scores

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

SECONDS_PER_HOUR = 3600.0
EPS = 1e-9

HUANGHE = "huanghe"
FIRST_ADMIT = "first-admit"
EARLIEST_START = "earliest-start"
EARLIEST_COMPLETION = "earliest-completion"
CHEAPEST = "cheapest"
SPREAD = "spread"
#: Policies run by :func:`run_cycle` (the cycle-based ones of this module).
POLICY_NAMES: tuple[str, ...] = (HUANGHE, FIRST_ADMIT, CHEAPEST, SPREAD)
#: The broker's comparison set, in report order (ours first, then the baselines).
BROKER_POLICIES: tuple[str, ...] = (
    HUANGHE,
    FIRST_ADMIT,
    EARLIEST_START,
    EARLIEST_COMPLETION,
    CHEAPEST,
    SPREAD,
)

_HARD = (Reason.UNHEALTHY, Reason.RESOURCES, Reason.ACCELERATOR)
#: Filters each policy applies (what the real system knows about); the others are not checked.
POLICY_FILTERS: dict[str, tuple[Reason, ...]] = {
    HUANGHE: tuple(r for r, _ in FILTERS),
    FIRST_ADMIT: _HARD,  # Kueue flavors: resources, accelerator; inactive clusters skipped
    CHEAPEST: _HARD,  # SkyPilot: instance types, accelerators, availability; no data class, no user SLO
    SPREAD: _HARD,  # Karmada: resource estimator, cluster health
}


class Status(StrEnum):
    """What a cycle decided for one job."""

    PLACED = "placed"
    QUEUED = "queued"
    HELD = "held"
    WAITING = "waiting"
    INFEASIBLE = "infeasible"


@dataclass(frozen=True)
class Weights:
    """Tunable weights of the ``huanghe`` policy (one configuration for all loads).

    Score terms are relative excesses over the job's best feasible pool, so the weights are dimensionless:
    with ``completion=1`` and ``carbon=1.5`` (relative terms alone) a pool 30 % slower is taken when it is > 20 % cleaner.
    ``deadline_miss`` is added to pools whose estimated end misses the job's deadline while another meets it.
    ``*_floor`` keep the relative terms finite (seconds, CNY, kg). ``fairness`` is the weight of a tenant's
    dominant share in the queue order, ``age_scale_s`` the wait that counts as much as a whole share.
    ``shift_min_gain`` is the carbon reduction a greener hour must bring before a job is held for it,
    ``shift_margin`` the share of the run time kept as slack before the deadline. ``wait_for_better``: a job
    whose best-scored pool is busy waits for it (late binding) instead of taking the best free one.

    Absolute terms (H17): ``completion_abs × (x − best) / completion_abs_scale_s`` (per hour of later
    completion) and ``carbon_abs_per_kg × (kg − best kg)``. The relative terms weigh a 10-minute job's speed
    as much as a 3-day job's; mean JCT and total carbon are sums of seconds and kilograms, so these terms
    let long jobs (most of both sums) win the fast and clean pools while short ones go by the relative terms.
    Tuned on a workload not used in the evaluation (seed 7, loads 0.7 and 1.2, 6 h; docs/bench-broker-policies.md).
    """

    completion: float = 1.0
    cost: float = 0.3
    carbon: float = 1.5
    transfer: float = 0.1
    deadline_miss: float = 30.0
    fairness: float = 1.0
    age_scale_s: float = 6 * SECONDS_PER_HOUR
    completion_floor_s: float = 600.0
    cost_floor_cny: float = 0.01
    carbon_floor_kg: float = 0.001
    transfer_floor_s: float = 600.0
    shift_min_gain: float = 0.10
    shift_margin: float = 0.25
    shift_horizon_h: int = 48
    wait_for_better: bool = True
    completion_abs: float = 1.0
    completion_abs_scale_s: float = SECONDS_PER_HOUR
    carbon_abs_per_kg: float = 1.0


@dataclass(frozen=True)
class CycleContext:
    """What a cycle needs besides the snapshot and the jobs (all optional; arrays indexed like the batch).

    ``priority`` (J,) higher first; ``tenant`` (J,) tenant index (-1 none); ``tenant_share`` (T,) dominant
    share of each tenant's running work; ``releases`` per pool the estimated end times (s, ascending) and node
    units (nodes × node share) of its running jobs, for reservations; without it the reservation time is
    ``now + backlog_s``. ``cycle_s`` is the time to the next cycle (temporal shifting keeps it as slack).
    """

    priority: IntArray | None = None
    tenant: IntArray | None = None
    tenant_share: FloatArray | None = None
    releases: Sequence[tuple[FloatArray, FloatArray]] | None = None
    cycle_s: float = 60.0
    seed: int = 0
    weights: Weights = field(default_factory=Weights)


# ---------------------------------------------------------------------------------------------- classes
def job_classes(jobs: JobBatch) -> tuple[IntArray, IntArray]:
    """Group identical requests: ``(representative row of each class (K,), class of each job (J,))``.

    Rows are hashed (64-bit mix of the key columns' bit patterns) and grouped by hash; the grouping is then
    verified column by column and falls back to an exact ``np.unique(axis=0)`` on a collision.
    """
    n = len(jobs)
    if n == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    _, acc_code = np.unique(jobs.accelerator, return_inverse=True)
    cols = [
        jobs.kind.astype(np.float64),
        jobs.cpus,
        jobs.gpus,
        jobs.mem_gb,
        jobs.nodes.astype(np.float64),
        jobs.duration_s,
        jobs.data_gb,
        jobs.data_center.astype(np.float64),
        jobs.user_city.astype(np.float64),
        np.nan_to_num(jobs.latency_slo_ms, nan=-1.0),
        np.nan_to_num(jobs.max_price_cny_per_hour, posinf=-1.0),
        jobs.spread_ok.astype(np.float64),
        acc_code.astype(np.float64).reshape(-1),
        np.nan_to_num(jobs.submit_s + jobs.deadline_s, nan=-1.0),  # absolute deadline (estimates check it)
    ]
    allowed = jobs.allowed_centers
    if not allowed.all():
        packed = np.packbits(allowed, axis=1)
        cols.extend(packed[:, i].astype(np.float64) for i in range(packed.shape[1]))
    key = np.ascontiguousarray(np.stack(cols, axis=1))
    bits = key.view(np.uint64)
    mult = np.asarray(np.random.default_rng(12345).integers(1, 2**63, size=key.shape[1]), dtype=np.uint64)
    mult = mult | np.uint64(1)
    with np.errstate(over="ignore"):
        h = np.zeros(n, dtype=np.uint64)
        for i in range(key.shape[1]):
            h = (h ^ (bits[:, i] * mult[i])) * np.uint64(0x9E3779B97F4A7C15)
            h ^= h >> np.uint64(29)
    _, rep, inv = np.unique(h, return_index=True, return_inverse=True)
    inv = inv.reshape(-1)
    if not np.array_equal(bits, bits[rep[inv]]):  # hash collision: exact grouping
        _, rep, inv = np.unique(bits, axis=0, return_index=True, return_inverse=True)
        inv = inv.reshape(-1)
    return rep.astype(np.int64), inv.astype(np.int64)


def take_jobs(jobs: JobBatch, idx: npt.ArrayLike) -> JobBatch:
    """The jobs at positions ``idx``, as a new batch."""
    ix = np.asarray(idx, dtype=np.int64)
    values: dict[str, Any] = {
        f.name: (
            tuple(jobs.job_ids[i] for i in ix.tolist())
            if f.name == "job_ids"
            else np.asarray(getattr(jobs, f.name))[ix]
        )
        for f in dataclasses.fields(jobs)
    }
    return JobBatch(**values)


def subset_report(report: FilterReport, reasons: Sequence[Reason]) -> FilterReport:
    """The filter report as if only ``reasons`` had been applied (first-fail indices stay those of FILTERS)."""
    keep = set(reasons)
    feasible = np.ones_like(report.feasible)
    first_fail = np.full(report.feasible.shape, -1, dtype=np.int8)
    passed = {}
    for i, (reason, _) in enumerate(FILTERS):
        if reason not in keep:
            continue
        ok = report.passed[reason]
        passed[reason] = ok
        first_fail[feasible & ~ok] = i
        feasible = feasible & ok
    return FilterReport(passed=passed, feasible=feasible, first_fail=first_fail)


# ---------------------------------------------------------------------------------------------- scores
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


def huanghe_terms(
    snap: NetworkSnapshot, est: Estimates, feasible: BoolArray, weights: Weights
) -> tuple[FloatArray, dict[str, FloatArray]]:
    """(K, P) total score (lower is better) and its weighted terms for the ``huanghe`` policy."""
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
    total = np.zeros_like(completion)
    for t in terms.values():
        total = total + t
    total = np.where(feasible, total, np.inf)
    return total, terms


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
    if latest_start_s <= now_s:
        return None
    first = math.floor(now_s / SECONDS_PER_HOUR) + 1
    last = min(math.floor(latest_start_s / SECONDS_PER_HOUR), first + horizon_h - 1)
    if last < first:
        return None
    starts = np.concatenate([[now_s], np.arange(first, last + 1, dtype=np.float64) * SECONDS_PER_HOUR])
    span = max(run_s, 1.0)
    mean = snap.carbon.mean_intensity_kg_per_kwh(np.full(starts.shape, center), starts, starts + span)
    best = int(np.argmin(mean[1:])) + 1
    if mean[best] <= mean[0] * (1.0 - min_gain):
        return float(starts[best])
    return None


def policy_scores(
    policy: str, snap: NetworkSnapshot, jobs: JobBatch, feasible: BoolArray, est: Estimates, weights: Weights
) -> tuple[FloatArray, dict[str, FloatArray]]:
    """(J, P) score of ``policy`` (lower is better, ``inf`` where infeasible) and its named terms.
    ``spread`` draws at random in the cycle; its static score is minus the pool's free share."""
    if policy == HUANGHE:
        return huanghe_terms(snap, est, feasible, weights)
    if policy == FIRST_ADMIT:
        scores = np.where(feasible, np.arange(snap.n_pools, dtype=np.float64)[None, :], np.inf)
        return scores, {"pool_order": scores}
    if policy == CHEAPEST:
        scores = np.where(feasible, job_price_cny_per_hour(snap, jobs), np.inf)
        return scores, {"price_cny_per_hour": scores}
    free_share = snap.cpus_free / np.maximum(snap.cpus_per_node * snap.nodes_total, 1.0)
    scores = np.where(feasible, -free_share[None, :], np.inf)
    return scores, {"minus_free_share": scores}


# ---------------------------------------------------------------------------------------------- results
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
    terms: dict[str, FloatArray]  # (K, P) each
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
                terms={name: v[k] for name, v in self.terms.items()},
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
        """The engine's :class:`~huanghe.broker.engine.Decision` per job, in batch order. A job not placed
        or queued this cycle (waiting, held, infeasible) has ``pool_id`` None; the explanation's note says
        which, and when a held job is due."""
        from huanghe.broker.engine import make_decision

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
    out: IntArray = np.lexsort(tuple(keys)).astype(np.int64)
    return out


# ---------------------------------------------------------------------------------------------- the cycle
def run_cycle(
    policy: str, snap: NetworkSnapshot, jobs: JobBatch, ctx: CycleContext | None = None
) -> CycleResult:
    """One scheduling cycle of ``policy`` (a name of :data:`POLICY_NAMES`) at ``snap.t_s``."""
    if policy not in POLICY_FILTERS:
        raise KeyError(f"unknown placement policy {policy!r}; known: {', '.join(POLICY_NAMES)}")
    ctx = ctx or CycleContext()
    now = snap.t_s
    rep, class_of = job_classes(jobs)
    reps = take_jobs(jobs, rep)
    report = subset_report(apply_filters(snap, reps), POLICY_FILTERS[policy])
    est = estimate(snap, reps)
    feasible = report.feasible
    share = node_share(reps, snap)
    demand = np.where(feasible, reps.nodes[:, None] * np.minimum(share, 1.0), np.inf)
    whole = np.where((reps.nodes[:, None] > 1) | (share >= 1.0 - EPS), reps.nodes[:, None], 0)
    scores, terms = policy_scores(policy, snap, reps, feasible, est, ctx.weights)
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
        _assign_spread(res, cap, demand, whole, ctx)
    else:
        ours = policy == HUANGHE
        _assign_sorted(
            res, cap, demand, whole, ctx, late_wait=ours and ctx.weights.wait_for_better, shift=ours
        )
    return res


def _assign_sorted(
    res: CycleResult,
    cap: _Capacity,
    demand: FloatArray,
    whole: npt.NDArray[np.int64],
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
    sorted_pools = np.argsort(scores, axis=1, kind="stable")
    fit0 = est.fits_now
    ptr = [0] * scores.shape[0]
    blocked_at = [-1] * scores.shape[0]
    reserved: dict[int, list[float]] = {}  # pool -> [shadow_s, extra_units]
    run_s = est.run_s
    w = ctx.weights
    deadline_abs = jobs.submit_s + jobs.deadline_s
    has_deadline = (~np.isnan(deadline_abs)).tolist()
    status, pool = res.status, res.pool
    class_of = res.class_of.tolist()
    nfs = n_feasible.tolist()
    for j in res.order.tolist():
        k = class_of[j]
        nf = nfs[k]
        if nf == 0:
            status[j] = Status.INFEASIBLE
            continue
        i = ptr[k]
        if i >= nf or blocked_at[k] >= 0:
            continue  # nothing free for this class any more, or an earlier job of it waits for a busy pool
        row = sorted_pools[k]
        chosen = -1
        while i < nf:
            p = int(row[i])
            if late_wait and not fit0[k, p]:
                blocked_at[k] = p
                if p not in reserved:
                    reserved[p] = _reservation(snap, ctx, cap, p, float(demand[k, p]))
                    res.notes[j] = f"reservation 预留 on {snap.pool_ids[p]} at t={reserved[p][0]:.0f}s"
                break
            d, wn = float(demand[k, p]), int(whole[k, p])
            if cap.fits(d, wn, p) and _backfill_ok(reserved.get(p), now + float(run_s[k, p]), d):
                chosen = p
                break
            i += 1
        ptr[k] = i
        if chosen < 0:
            continue
        if shift and has_deadline[j]:
            latest = float(deadline_abs[j]) - float(run_s[k, chosen]) * (1 + w.shift_margin) - ctx.cycle_s
            t_green = greener_start_s(
                snap,
                int(snap.pool_center[chosen]),
                now,
                float(run_s[k, chosen]),
                latest,
                w.shift_min_gain,
                w.shift_horizon_h,
            )
            if t_green is not None:
                status[j] = Status.HELD
                res.hold_until_s[j] = t_green
                res.notes[j] = f"greener hour 低碳时段 at t={t_green:.0f}s, latest start {latest:.0f}s"
                continue
        d, wn = float(demand[k, chosen]), int(whole[k, chosen])
        cap.take(d, wn, chosen)
        r = reserved.get(chosen)
        if r is not None and now + float(run_s[k, chosen]) > r[0]:
            r[1] -= d
        status[j] = Status.PLACED
        pool[j] = chosen


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


def _assign_spread(
    res: CycleResult, cap: _Capacity, demand: FloatArray, whole: npt.NDArray[np.int64], ctx: CycleContext
) -> None:
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
        fits = frow & (demand[k] <= units_now + EPS) & (whole[k] <= nodes_now)
        if not fits.any():
            continue
        per = snap.gpus_per_node if gpus_job[j] > 0 else snap.cpus_per_node
        weight = np.where(fits, units_now * per, 0.0)
        total = weight.sum()
        p = int(rng.choice(len(weight), p=weight / total)) if total > 0 else int(np.flatnonzero(fits)[0])
        weights_out[k] = -weight / total if total > 0 else weights_out[k]
        units_now[p] -= demand[k, p]
        nodes_now[p] = min(nodes_now[p] - whole[k, p], math.floor(units_now[p] + EPS))
        res.status[j] = Status.PLACED
        res.pool[j] = p
    cap.units = units_now.tolist()
    cap.nodes = nodes_now.tolist()
    res.scores = np.where(feasible, weights_out, np.inf)
    res.terms = {"minus_weight": res.scores}


# ---------------------------------------------------------------------------------------------- registry
class CyclePolicy:
    """A policy of this module as the engine's registry sees it: ``score`` (the engine's generic protocol,
    :class:`huanghe.broker.engine.Policy`) and ``cycle`` (a whole cycle with waiting, holds and
    reservations, which :class:`~huanghe.broker.engine.PlacementEngine` uses when a policy has it)."""

    name: str = ""
    #: the policy whose filters and score :meth:`score` uses (its own name unless a variant says otherwise)
    scored_as: str = ""

    def __init__(self, weights: Weights | None = None) -> None:
        self.weights = weights or Weights()

    def cycle(self, snap: NetworkSnapshot, jobs: JobBatch, ctx: CycleContext | None = None) -> CycleResult:
        return run_cycle(self.name, snap, jobs, ctx or CycleContext(weights=self.weights))

    def score(self, snap: NetworkSnapshot, jobs: JobBatch, report: FilterReport, est: Estimates) -> Scores:
        from huanghe.broker.engine import Scores

        name = self.scored_as or self.name
        feasible = subset_report(report, POLICY_FILTERS[name]).feasible
        total, terms = policy_scores(name, snap, jobs, feasible, est, self.weights)
        return Scores(total=total, terms=terms)


class HuanghePolicy(CyclePolicy):
    name = HUANGHE


class FirstAdmitPolicy(CyclePolicy):
    name = FIRST_ADMIT


class CheapestPolicy(CyclePolicy):
    name = CHEAPEST


class SpreadPolicy(CyclePolicy):
    name = SPREAD
