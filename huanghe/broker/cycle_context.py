"""The vocabulary of a whole-cycle placement policy (:mod:`huanghe.broker.cycle`): the policy names, the
filters each one applies, the :class:`Status` of a job after a cycle, the ``huanghe`` :class:`Weights` and
the :class:`CycleContext` a cycle is given besides the snapshot and the jobs."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum

import numpy as np
import numpy.typing as npt

from huanghe.broker.filters import FILTERS, Reason

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

SECONDS_PER_HOUR = 3600.0
EPS = 1e-9

HUANGHE = "huanghe"
FIRST_ADMIT = "first-admit"
EARLIEST_START = "earliest-start"
EARLIEST_COMPLETION = "earliest-completion"
CHEAPEST = "cheapest"
SPREAD = "spread"
#: Policies run by :func:`huanghe.broker.cycle.run_cycle` (the whole-cycle ones).
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

#: what every real system knows: a pinned pool (an offering), health, shapes, accelerators and what its
#: back-ends can run
_HARD = (Reason.OFFERING, Reason.UNHEALTHY, Reason.RESOURCES, Reason.ACCELERATOR, Reason.BACKEND)
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
    with ``completion=1`` and ``carbon=2.25`` (relative terms alone) a pool 30 % slower is taken when it is > 13 % cleaner.
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
    Stranding (issue #12): ``stranding`` is added to an accelerator pool (GPUs per node > 0) for a job that
    asks for no GPUs while a feasible CPU-only pool exists for it (filters: resources, data class, latency,
    price...). Such a job takes cores and memory of accelerator nodes and strands their accelerators (what
    FGD calls fragmentation); with 7.5 it goes there only when every CPU pool is 7.5 × its best completion late
    (scaled with the carbon weights since round 4 of issue #15, so a clean accelerator pool still loses; was 5).

    Release-profile waits (issue #15): with ``wait_from_releases`` a job whose best-scored pool is busy waits
    for it only if it is still the best once the wait there is the time the pool's running jobs free enough
    node units for it (its release profile, as the reservation computes it) rather than the fluid backlog;
    otherwise it goes on to the next pool (which may fit now).

    Priced holds (issue #15): with ``shift_priced`` a job is held for a greener hour only when the carbon terms
    it saves exceed the completion terms the delay adds, at the score's own weights
    (:func:`huanghe.broker.scoring.priced_start_s`); without it any hour ``shift_min_gain`` cleaner within the
    deadline is taken, whatever the wait (a short job then waits up to a day to save a few grams). On by
    default since it was selected on the tuning family (``builder``, seed 7, loads 0.5 and 1.0, 0.25 h;
    bench/tune_placement.py round 2), over the unpriced rule and over no holds at all.

    Queue-wait prediction (issue #15, round 3; off: not selected on the tuning family): with
    ``wait_for_waiters`` the jobs a cycle leaves waiting for a busy pool delay the later jobs of the cycle there
    (the pool's release profile must free their node units first; :mod:`huanghe.broker.waiters`): a job waits
    for a busy pool only while it still scores best with that delay priced by the completion terms.

    Exchange rate of carbon for time (issue #15, round 4): ``carbon``, ``carbon_abs_per_kg`` and ``stranding`` were
    1.5, 1 and 5 (1 kg of extra carbon weighed as 1 h of later completion). Round 4 selected × 3 on one tuning
    workload (``builder``, seed 7, loads 0.5 and 1.0, 0.25 h); round 5 re-ran the same candidates (× 0.5 to × 4) and
    fixed rule (lowest worst-cell max(JCT, carbon) ratio to the best real baseline) on three seeds (7, 8, 9) and
    0.5 h windows and selected **× 1.5**: 2.25, 1.5 and 7.5 (bench/tune_placement.py,
    docs/bench-broker-policies.md "Round 5").

    Tuned on a workload not used in the evaluation (seed 7, loads 0.7 and 1.2, 6 h; docs/bench-broker-policies.md).
    """

    completion: float = 1.0
    cost: float = 0.3
    carbon: float = 2.25
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
    carbon_abs_per_kg: float = 1.5
    stranding: float = 7.5
    wait_from_releases: bool = False
    shift_priced: bool = True
    wait_for_waiters: bool = False


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
