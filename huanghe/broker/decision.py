"""What the broker answers and the words it answers with: a :class:`Decision` per job, a placement policy's
:class:`Scores`, the :class:`PlacementPolicy` protocol of the engine's generic (score-only) path, and the errors
for placement-policy names (:class:`UnknownPlacementPolicyError`, :class:`DuplicatePlacementPolicyError`).

Pure value types; the engine (:mod:`huanghe.broker.engine`) and the whole-cycle policies
(:mod:`huanghe.broker.cycle`) both build their answers here, so neither imports the other.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np
import numpy.typing as npt

from huanghe.broker.batch import JobBatch
from huanghe.broker.estimates import Estimates
from huanghe.broker.explain import Explanation
from huanghe.broker.filters import FilterReport
from huanghe.broker.snapshot import NetworkSnapshot
from huanghe.core.registry import DuplicateNameError, UnknownNameError

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class Decision:
    """Where one job goes and why. Times are on the snapshot's clock (seconds), money CNY, carbon kg.

    ``pool_id``/``center_id`` are None when no pool is feasible (then the estimates are NaN).
    ``price_cny_per_hour`` is what the job costs per hour of run time in the chosen pool (nodes × node share ×
    the pool's node-hour price).
    """

    job_id: str
    pool_id: str | None
    center_id: str | None
    est_start_s: float
    est_run_s: float
    est_cost_cny: float
    est_carbon_kg: float
    price_cny_per_hour: float
    explanation: Explanation
    #: a whole-cycle policy's verdict (``huanghe.broker.cycle_context.Status``: placed, queued, held, waiting,
    #: infeasible); empty for the generic path, where ``pool_id`` alone tells
    status: str = ""

    @property
    def placed(self) -> bool:
        return self.pool_id is not None

    @property
    def waits(self) -> bool:
        """Not placed this cycle, to be asked again next cycle (held for a greener hour or waiting for capacity
        or a busy better pool); the explanation's note says which."""
        return self.status in ("held", "waiting")


@dataclass(frozen=True, eq=False)
class Scores:
    """A policy's verdict for a batch: ``total`` (J, P), lower is better; ``terms`` name → (J, P) parts of it
    (shown in explanations)."""

    total: FloatArray
    terms: Mapping[str, FloatArray] = field(default_factory=dict)


class PlacementPolicy(Protocol):
    """A placement policy: a name and a scoring function over the feasible pairs."""

    name: str

    def score(
        self, snap: NetworkSnapshot, jobs: JobBatch, report: FilterReport, est: Estimates
    ) -> Scores: ...


class DuplicatePlacementPolicyError(DuplicateNameError):
    """Two entries of the placement-policy list share a name."""


class UnknownPlacementPolicyError(UnknownNameError, KeyError):
    """No placement policy of that name (a :class:`KeyError` too, as it always was)."""


def make_decision(
    snap: NetworkSnapshot,
    est: Estimates,
    row: int,
    chosen: int | None,
    job_id: str,
    nodes: int,
    why: Explanation,
    status: str = "",
) -> Decision:
    """The :class:`Decision` for estimate row ``row`` placed in pool ``chosen`` (None: not placed)."""
    if chosen is None:
        nan = math.nan
        return Decision(job_id, None, None, nan, nan, nan, nan, nan, why, status)
    share = float(est.share[row, chosen])
    price = float(snap.price_cny_per_node_hour[chosen]) * nodes * share
    return Decision(
        job_id=job_id,
        pool_id=snap.pool_ids[chosen],
        center_id=snap.center_ids[int(snap.pool_center[chosen])],
        est_start_s=float(est.start_s[row, chosen]),
        est_run_s=float(est.run_s[row, chosen]),
        est_cost_cny=float(est.cost_cny[row, chosen]),
        est_carbon_kg=float(est.carbon_kg[row, chosen]),
        price_cny_per_hour=price,
        explanation=why,
        status=status,
    )
