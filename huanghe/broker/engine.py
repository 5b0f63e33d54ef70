"""The placement engine: ``PlacementEngine(policy_name).place(snapshot, jobs, now_s) -> list[Decision]``.

Pure: no database, no back-end, no clock of its own (``now_s`` is given). The live scheduler service and the
simulator both call it the same way.

How a batch is placed (phases of ARCHITECTURE.md §5):

1. filters (:func:`huanghe.broker.filters.apply_filters`) give the feasible (job, pool) pairs;
2. estimates (:func:`huanghe.broker.estimates.estimate`) give start, run, cost, carbon per pair;
3. the policy turns them into a (J, P) score, **lower is better** (:class:`Scores`);
4. jobs are taken in batch order (the caller orders by priority / age); each gets its feasible pool with the
   lowest score (ties: lower estimated cost, then lower estimated carbon, then pool id) and its allocation is taken from the snapshot.
   When a job's choice no longer fits the resources left by earlier jobs of the batch, that pool gets a queue
   (one job, backlog = the shortest run time that did not fit) and the remaining jobs are scored again on the
   updated snapshot (at most :data:`MAX_ROUNDS` rounds, then the last scores stand and the job queues there).

Every job gets a :class:`Decision`; a job without a feasible pool has ``pool_id`` None and an explanation that
says which filter removed how many pools.

Policies live in ONE explicit list, :data:`POLICIES` (name → factory), read into a
:class:`~huanghe.core.registry.Registry`: a duplicate name is an error (:class:`DuplicatePlacementPolicyError`),
an unknown one raises :class:`UnknownPlacementPolicyError`. To add a policy: write a class with a ``name`` and a
``score`` method (see :class:`~huanghe.broker.decision.PlacementPolicy`) and append one entry to
:data:`POLICIES`. The answers (:class:`~huanghe.broker.decision.Decision`, :class:`Scores`) live in
:mod:`huanghe.broker.decision`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np
import numpy.typing as npt

from huanghe.broker.batch import JobBatch
from huanghe.broker.batch_milp import HuangheBatchPolicy
from huanghe.broker.cycle import CycleResult
from huanghe.broker.cycle_context import CycleContext
from huanghe.broker.decision import (
    Decision,
    DuplicatePlacementPolicyError,
    PlacementPolicy,
    Scores,
    UnknownPlacementPolicyError,
    make_decision,
)
from huanghe.broker.estimates import Estimates, estimate
from huanghe.broker.explain import explain
from huanghe.broker.filters import FilterReport, apply_filters
from huanghe.broker.policies import CheapestPolicy, FirstAdmitPolicy, HuanghePlacementPolicy, SpreadPolicy
from huanghe.broker.scoring import pool_id_rank, stranding
from huanghe.broker.snapshot import NetworkSnapshot
from huanghe.core.registry import Registry

FloatArray = npt.NDArray[np.float64]

__all__ = [
    "MAX_ROUNDS",
    "POLICIES",
    "POLICY_REGISTRY",
    "Decision",
    "DuplicatePlacementPolicyError",
    "EarliestCompletion",
    "EarliestStart",
    "PlacementEngine",
    "PlacementPolicy",
    "PlacementPolicyFactory",
    "Scores",
    "UnknownPlacementPolicyError",
    "build_policy_registry",
    "make_decision",
    "make_policy",
    "policy_names",
]

#: What ``earliest-completion`` adds to an accelerator pool for CPU-only work while a CPU pool can run it, s.
STRANDING_PENALTY_S = 7 * 24 * 3600.0

#: Re-scoring rounds per batch when earlier jobs used up the capacity later jobs were scored on.
MAX_ROUNDS = 8


class EarliestStart:
    """``earliest-start`` (Slurm ``sbatch -M`` / ``--clusters``): the pool where the job is estimated to *start*
    first.

    Score = ``start_s - snapshot.t_s`` in seconds (input data transfer and queue backlog delay the start; the
    run time does not count, as in Slurm, which sends the job to the cluster offering the earliest expected
    start). Ties (e.g. several pools free now, score 0) go to the lower estimated cost, then carbon, then pool
    id (the engine's tie rule), which is our choice: Slurm breaks ties by the order of the ``-M`` list.
    """

    name = "earliest-start"

    def score(self, snap: NetworkSnapshot, jobs: JobBatch, report: FilterReport, est: Estimates) -> Scores:
        total = np.asarray(est.start_s - snap.t_s, dtype=np.float64)
        return Scores(total=total, terms={"start_s": total})


class EarliestCompletion:
    """``earliest-completion``: the pool where the job is estimated to *complete* first (start + run time).

    Not a real system's rule (Slurm ``-M`` looks at the start only): ours, a stronger early-binding baseline
    that also prefers faster pools. Score = ``end_s - snapshot.t_s`` in seconds. Default of the live
    scheduler loop and of :class:`PlacementEngine` (the behaviour ``earliest-start`` had before it was made
    faithful to Slurm).

    Stranding (issue #12): for a job asking for no GPUs, an accelerator pool scores
    :data:`STRANDING_PENALTY_S` more while a feasible CPU-only pool exists
    (:func:`huanghe.broker.scoring.stranding`), so CPU work takes accelerator nodes only when no CPU pool can
    run it, or every CPU pool would finish it more than that much later.
    """

    name = "earliest-completion"

    def score(self, snap: NetworkSnapshot, jobs: JobBatch, report: FilterReport, est: Estimates) -> Scores:
        completion = np.asarray(est.end_s - snap.t_s, dtype=np.float64)
        strand = STRANDING_PENALTY_S * stranding(snap, jobs, report.feasible)
        return Scores(total=completion + strand, terms={"completion_s": completion, "stranding_s": strand})


PlacementPolicyFactory = Callable[[], PlacementPolicy]

#: name → factory. The only place placement policies are listed.
POLICIES: list[tuple[str, PlacementPolicyFactory]] = [
    ("earliest-start", EarliestStart),
    ("earliest-completion", EarliestCompletion),
    ("huanghe", HuanghePlacementPolicy),
    ("first-admit", FirstAdmitPolicy),
    ("cheapest", CheapestPolicy),
    ("spread", SpreadPolicy),
    ("huanghe-batch", HuangheBatchPolicy),
]


def build_policy_registry(
    entries: Sequence[tuple[str, PlacementPolicyFactory]],
) -> Registry[PlacementPolicyFactory]:
    """The explicit list as a registry; :class:`DuplicatePlacementPolicyError` on a repeated name."""
    return Registry(
        "placement policy",
        entries,
        unknown_error=UnknownPlacementPolicyError,
        duplicate_error=DuplicatePlacementPolicyError,
    )


POLICY_REGISTRY: Registry[PlacementPolicyFactory] = build_policy_registry(POLICIES)


def policy_names() -> list[str]:
    """Registered policy names, in list order."""
    return POLICY_REGISTRY.names()


def make_policy(name: str) -> PlacementPolicy:
    """A new policy instance; :class:`UnknownPlacementPolicyError` names the known ones."""
    return POLICY_REGISTRY.get(name)()


def _subset(jobs: JobBatch, rows: npt.NDArray[np.intp]) -> JobBatch:
    """The jobs of ``rows`` as a new batch."""
    values: dict[str, object] = {}
    for name, value in vars(jobs).items():
        if name == "job_ids":
            values[name] = tuple(jobs.job_ids[int(i)] for i in rows)
        else:
            values[name] = np.asarray(value)[rows]
    return JobBatch(**values)  # type: ignore[arg-type]


class PlacementEngine:
    """Places batches of jobs with one policy (by registry name, default ``earliest-completion``)."""

    def __init__(self, policy_name: str = "earliest-completion") -> None:
        self.policy = make_policy(policy_name)
        self.policy_name = policy_name

    def cycle(
        self, snapshot: NetworkSnapshot, jobs: JobBatch, now_s: float, ctx: CycleContext | None = None
    ) -> CycleResult | None:
        """A whole-cycle policy's answer (statuses, pools, holds; explanations built on demand) at ``now_s``
        with ``ctx`` (:func:`huanghe.broker.cycle_inputs.cycle_context`); None for a score-only policy."""
        cycle = getattr(self.policy, "cycle", None)
        if cycle is None:
            return None
        result: CycleResult = cycle(snapshot.at(now_s), jobs, ctx)
        return result

    def place(
        self, snapshot: NetworkSnapshot, jobs: JobBatch, now_s: float, ctx: CycleContext | None = None
    ) -> list[Decision]:
        """One :class:`Decision` per job, in batch order. ``snapshot`` is not modified. ``ctx`` is the cycle
        context (priorities, tenants' shares, release profiles) both clocks build with
        :func:`huanghe.broker.cycle_inputs.cycle_context`: a whole-cycle policy uses all of it; the generic
        path takes the jobs by priority (higher first), then submit time, then batch order."""
        res = self.cycle(snapshot, jobs, now_s, ctx)
        if res is not None:  # a whole-cycle policy (huanghe.broker.cycle): waits, holds, reservations
            return res.decisions()
        if ctx is not None and ctx.priority is not None and len(jobs) > 1:
            order = np.lexsort((jobs.submit_s, -np.asarray(ctx.priority))).astype(np.intp)
            ranked = self._place_in_order(snapshot, _subset(jobs, order), now_s)
            out = [ranked[0]] * len(jobs)
            for d, j in zip(ranked, order.tolist(), strict=True):
                out[j] = d
            return out
        return self._place_in_order(snapshot, jobs, now_s)

    def _place_in_order(self, snapshot: NetworkSnapshot, jobs: JobBatch, now_s: float) -> list[Decision]:
        snap = snapshot.at(now_s)
        out: dict[int, Decision] = {}
        pending = np.arange(len(jobs), dtype=np.intp)
        for round_no in range(MAX_ROUNDS):
            if pending.size == 0:
                break
            batch = jobs if pending.size == len(jobs) and round_no == 0 else _subset(jobs, pending)
            snap, deferred = self._round(snap, batch, pending, out, last=round_no == MAX_ROUNDS - 1)
            pending = deferred
        return [out[j] for j in range(len(jobs))]

    def _round(
        self,
        snap: NetworkSnapshot,
        batch: JobBatch,
        rows: npt.NDArray[np.intp],
        out: dict[int, Decision],
        *,
        last: bool,
    ) -> tuple[NetworkSnapshot, npt.NDArray[np.intp]]:
        report = apply_filters(snap, batch)
        est = estimate(snap, batch)
        scores = self.policy.score(snap, batch, report, est)
        total = np.asarray(scores.total, dtype=np.float64)
        deferred: list[int] = []
        full: dict[int, float] = {}  # pool → shortest run time of a job that no longer fits there
        id_rank = pool_id_rank(snap)
        start_snap = snap
        for k in range(len(batch)):
            feasible = np.flatnonzero(report.feasible[k] & np.isfinite(total[k]))
            if feasible.size == 0:
                out[int(rows[k])] = self._decision(start_snap, report, est, scores, k, batch, None)
                continue
            cost = np.nan_to_num(est.cost_cny[k, feasible], nan=math.inf)
            carbon = np.nan_to_num(est.carbon_kg[k, feasible], nan=math.inf)
            order = np.lexsort((id_rank[feasible], carbon, cost, total[k, feasible]))
            chosen = int(feasible[order[0]])
            need = (
                int(batch.nodes[k]),
                float(batch.cpus[k]),
                float(batch.gpus[k]),
                float(batch.mem_gb[k]),
            )
            still_fits = _fits(snap, chosen, *need)
            if est.fits_now[k, chosen] and not still_fits and not last:
                deferred.append(int(rows[k]))  # scored on capacity an earlier job of this batch took
                full[chosen] = min(full.get(chosen, math.inf), float(est.run_s[k, chosen]))
                continue
            out[int(rows[k])] = self._decision(start_snap, report, est, scores, k, batch, chosen)
            if still_fits:
                snap = snap.with_allocation(chosen, *need)
        if full:  # the pool filled up during this round: later jobs see a queue there
            queued = snap.queued_jobs.copy()
            backlog = snap.backlog_s.copy()
            for pool, run in full.items():
                queued[pool] += 1
                backlog[pool] = max(backlog[pool], run if math.isfinite(run) else 0.0)
            snap = snap.with_queue(queued, backlog)
        return snap, np.asarray(deferred, dtype=np.intp)

    def _decision(
        self,
        snap: NetworkSnapshot,
        report: FilterReport,
        est: Estimates,
        scores: Scores,
        k: int,
        batch: JobBatch,
        chosen: int | None,
    ) -> Decision:
        terms = {name: np.asarray(v)[k] for name, v in scores.terms.items()}
        why = explain(
            snap,
            report,
            k,
            batch.job_ids[k],
            np.asarray(scores.total)[k],
            terms=terms,
            estimates=est,
            chosen=chosen,
            policy=self.policy_name,
        )
        return make_decision(snap, est, k, chosen, batch.job_ids[k], int(batch.nodes[k]), why)


def _fits(snap: NetworkSnapshot, pool: int, nodes: int, cpus: float, gpus: float, mem_gb: float) -> bool:
    """Whether ``nodes`` × (cpus, gpus, mem_gb) fit the pool's free totals now."""
    eps = 1e-9
    return bool(
        nodes * cpus <= snap.cpus_free[pool] + eps
        and nodes * gpus <= snap.gpus_free[pool] + eps
        and nodes * mem_gb <= snap.mem_gb_free[pool] + eps
    )
