"""Queue-wait prediction for late binding (issue #15): the jobs a ``huanghe`` cycle leaves **waiting** for a busy
pool are not in that pool's queue, so the pool's ``backlog_s`` (remaining work of its running and queued jobs /
its node units) does not count them, and every later job of the cycle sees the same short wait. On the held-out
``gpu-train`` family this herded thousands of jobs onto the same few busy pools (docs/bench-broker-policies.md,
"Diagnosis (issue #15, round 3)").

:class:`Waiters` keeps, per pool, the work (node units × estimated run, in node-unit-seconds) of the jobs of this
cycle that decided to wait for it, in the cycle's queue order: a later job would start behind them. Its start
there is when the pool's running jobs have freed the waiters' node units and its own (the pool's release profile,
as an EASY reservation computes it); past the profile, ``work / node units`` later (the fluid model of
``backlog_s``). :func:`wait_penalty` prices that
extra wait with the score's own completion terms (relative to the class's best completion, and per hour), so a
job waits for a busy pool only while that pool, with the waiters ahead of it, still scores better than the next
one.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from huanghe.broker.cycle_context import Weights
from huanghe.broker.estimates import Estimates
from huanghe.broker.snapshot import NetworkSnapshot

FloatArray = npt.NDArray[np.float64]


def wait_penalty(extra_s: float, best_completion_s: float, weights: Weights) -> float:
    """Score added by ``extra_s`` seconds of later start (≥ 0), in the units of
    :func:`huanghe.broker.scoring.huanghe_terms`: ``completion × extra / (|best| + completion_floor_s) +
    completion_abs × extra / completion_abs_scale_s``, ``best_completion_s`` being the class's best expected
    completion (s from now) over its feasible pools."""
    if not extra_s > 0:
        return 0.0
    w = weights
    return (
        w.completion * extra_s / (abs(best_completion_s) + w.completion_floor_s)
        + w.completion_abs * extra_s / w.completion_abs_scale_s
    )


def best_completion(
    est: Estimates, feasible: npt.NDArray[np.bool_], k: int, now_s: float, memo: dict[tuple[str, int], object]
) -> float:
    """Row ``k``'s best expected completion (s from ``now_s``: ``start_s − now_s + run_s``) over its feasible
    pools, memoised per cycle in ``memo`` under ``("best", k)``."""
    best = memo.get(("best", k))
    if best is None:
        done = np.where(feasible[k], est.start_s[k] - now_s + est.run_s[k], np.inf)
        best = memo[("best", k)] = float(np.min(done))
    assert isinstance(best, float)
    return best


class Waiters:
    """Per pool, the node units and the work (node-unit-seconds) of the jobs that wait for it so far in this
    cycle, and the wait they add for a later job (:meth:`extra_s`)."""

    def __init__(
        self, snap: NetworkSnapshot, releases: Sequence[tuple[FloatArray, FloatArray]] | None = None
    ) -> None:
        self.work: list[float] = [0.0] * snap.n_pools
        self.units: list[float] = [0.0] * snap.n_pools
        self._total: list[float] = np.maximum(snap.nodes_total.astype(np.float64), 1.0).tolist()
        self._releases = releases
        self._cum: dict[int, FloatArray] = {}

    def add(self, pool: int, units: float, run_s: float) -> None:
        """A job of ``units`` node units and estimated run ``run_s`` (s) waits for ``pool``."""
        if units > 0 and run_s > 0 and np.isfinite(units * run_s):
            self.work[pool] += units * run_s
            self.units[pool] += units

    def fluid_s(self, pool: int) -> float:
        """The waiters' work spread over the pool's node units (s): the fluid model of ``backlog_s``."""
        return self.work[pool] / self._total[pool]

    def extra_s(self, pool: int, need: float, free: float, now_s: float) -> float:
        """Seconds the waiters ahead add to the start of a job of ``need`` node units in ``pool`` (``free`` node
        units free now): with the pool's release profile (end times and node units of its running jobs,
        ascending), the time the releases free the waiters' units and the job's, less the time they free the
        job's alone (two EASY reservations, with and without the waiters); where the profile does not free
        enough for both, or without a profile, the fluid :meth:`fluid_s`."""
        ahead = self.units[pool]
        if ahead <= 0:
            return 0.0
        if self._releases is None:
            return self.fluid_s(pool)
        alone = self._shadow(pool, need - free, now_s)
        behind = self._shadow(pool, ahead + need - free, now_s)
        if alone is None:
            return self.fluid_s(pool)
        if behind is None:
            return self.fluid_s(pool)
        return max(behind - alone, 0.0)

    def _shadow(self, pool: int, units: float, now_s: float) -> float | None:
        """When the pool's running jobs have freed ``units`` node units (now if ≤ 0; None: never)."""
        if units <= 1e-9:
            return now_s
        ends, freed = self._releases[pool] if self._releases is not None else (np.zeros(0), np.zeros(0))
        cum = self._cum.get(pool)
        if cum is None:
            cum = self._cum[pool] = np.cumsum(freed)
        idx = int(np.searchsorted(cum, units - 1e-9))
        return max(float(ends[idx]), now_s) if idx < len(ends) else None


__all__ = ["Waiters", "best_completion", "wait_penalty"]
