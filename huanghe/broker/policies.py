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
    = the center's hourly signal); it is never held past that latest start. With ``weights.shift_priced`` the
    hold must also pay at the score's own exchange rate (carbon terms saved > completion terms the wait adds).
    **Spatial shifting** comes from the carbon term: a cleaner center wins when the time it costs is small.
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

from huanghe.broker.batch import JobBatch
from huanghe.broker.cycle import CycleResult, queue_order, run_cycle
from huanghe.broker.cycle_context import (
    BROKER_POLICIES,
    CHEAPEST,
    EARLIEST_COMPLETION,
    EARLIEST_START,
    EPS,
    FIRST_ADMIT,
    HUANGHE,
    POLICY_FILTERS,
    POLICY_NAMES,
    SECONDS_PER_HOUR,
    SPREAD,
    CycleContext,
    Status,
    Weights,
)
from huanghe.broker.decision import Scores
from huanghe.broker.estimates import Estimates
from huanghe.broker.filters import FilterReport
from huanghe.broker.job_classes import job_classes, subset_report, take_jobs
from huanghe.broker.scoring import (
    absolute_excess,
    greener_start_s,
    huanghe_terms,
    policy_scores,
    relative_excess,
)
from huanghe.broker.snapshot import NetworkSnapshot

__all__ = [
    "BROKER_POLICIES",
    "CHEAPEST",
    "EARLIEST_COMPLETION",
    "EARLIEST_START",
    "EPS",
    "FIRST_ADMIT",
    "HUANGHE",
    "POLICY_FILTERS",
    "POLICY_NAMES",
    "SECONDS_PER_HOUR",
    "SPREAD",
    "CheapestPolicy",
    "CycleContext",
    "CyclePolicy",
    "CycleResult",
    "FirstAdmitPolicy",
    "HuanghePlacementPolicy",
    "SpreadPolicy",
    "Status",
    "Weights",
    "absolute_excess",
    "greener_start_s",
    "huanghe_terms",
    "job_classes",
    "policy_scores",
    "queue_order",
    "relative_excess",
    "run_cycle",
    "subset_report",
    "take_jobs",
]


class CyclePolicy:
    """A policy of this module as the engine's registry sees it: ``score`` (the engine's generic protocol,
    :class:`huanghe.broker.decision.PlacementPolicy`) and ``cycle`` (a whole cycle with waiting, holds and
    reservations, which :class:`~huanghe.broker.engine.PlacementEngine` uses when a policy has it)."""

    name: str = ""
    #: the policy whose filters and score :meth:`score` uses (its own name unless a variant says otherwise)
    scored_as: str = ""

    def __init__(self, weights: Weights | None = None) -> None:
        self.weights = weights or Weights()

    def cycle(self, snap: NetworkSnapshot, jobs: JobBatch, ctx: CycleContext | None = None) -> CycleResult:
        return run_cycle(self.name, snap, jobs, ctx or CycleContext(weights=self.weights))

    def score(self, snap: NetworkSnapshot, jobs: JobBatch, report: FilterReport, est: Estimates) -> Scores:
        name = self.scored_as or self.name
        feasible = subset_report(report, POLICY_FILTERS[name]).feasible
        total, terms = policy_scores(name, snap, jobs, feasible, est, self.weights)
        return Scores(total=total, terms=terms)


class HuanghePlacementPolicy(CyclePolicy):
    """``huanghe``: our placement policy (see the module docstring)."""

    name = HUANGHE


class FirstAdmitPolicy(CyclePolicy):
    """``first-admit`` (MultiKueue)."""

    name = FIRST_ADMIT


class CheapestPolicy(CyclePolicy):
    """``cheapest`` (SkyPilot / dstack optimizer)."""

    name = CHEAPEST


class SpreadPolicy(CyclePolicy):
    """``spread`` (Karmada dynamic weights)."""

    name = SPREAD
