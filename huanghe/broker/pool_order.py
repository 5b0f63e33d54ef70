"""Each class's pools in the order of :func:`huanghe.broker.scoring.tie_order` (score, then estimated cost, then
estimated carbon, then pool id), computed **lazily**: a cycle's greedy pass reads only the first few pools of
each class (it stops at the first pool that fits, or at a busy better pool), so sorting all ``K × P`` pairs
(1,120 classes × 10,000 pools: 1.5 s) is mostly wasted.

:class:`LazyPoolOrder` sorts, per class, only the pools whose score is at most the class's ``prefix``-th
smallest score (ties included), all classes in one ``lexsort`` over those pairs; a class whose pointer goes past
that prefix gets its whole row sorted on demand. The order is exactly ``tie_order``'s: every pool left out of a
prefix has a larger score than every pool in it, so it comes after them in the full order too
(``tests/test_broker_pool_order.py`` checks equality against ``tie_order`` on every policy's scores).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from huanghe.broker.estimates import Estimates
from huanghe.broker.row_chunks import row_slices
from huanghe.broker.scoring import pool_id_rank, tie_order
from huanghe.broker.snapshot import NetworkSnapshot

IntArray = npt.NDArray[np.intp]
FloatArray = npt.NDArray[np.float64]

#: pools sorted up front per class (more only for a class whose pointer gets that far)
PREFIX = 64


class LazyPoolOrder:
    """``at(k, i)``: the ``i``-th pool of class ``k`` in ``tie_order`` order."""

    def __init__(
        self, snap: NetworkSnapshot, est: Estimates, scores: FloatArray, prefix: int | None = None
    ) -> None:
        prefix = PREFIX if prefix is None else prefix  # read at call time (tests vary it)
        n_k, n_p = np.shape(scores)
        self._scores = scores
        self._cost = est.cost_cny
        self._carbon = est.carbon_kg
        self._ids = pool_id_rank(snap)
        self._full: dict[int, list[int]] = {}
        if n_k == 0 or n_p <= 2 * prefix:
            self._prefix: list[list[int]] = tie_order(snap, est, scores).tolist()
            return
        # the prefix-th smallest score of each row; NaN scores compare False and sort last in tie_order anyway
        kth = np.empty(n_k)
        for part in row_slices(n_k, n_p):  # partition a few rows at a time (no (K, P) temporary)
            kth[part] = np.partition(scores[part], prefix - 1, axis=1)[:, prefix - 1]
        rows, cols = np.nonzero(scores <= kth[:, None])
        cost = np.nan_to_num(np.broadcast_to(self._cost, (n_k, n_p))[rows, cols], nan=np.inf)
        carbon = np.nan_to_num(np.broadcast_to(self._carbon, (n_k, n_p))[rows, cols], nan=np.inf)
        order = np.lexsort((self._ids[cols], carbon, cost, scores[rows, cols], rows))
        counts = np.bincount(rows, minlength=n_k)
        self._prefix = [part.tolist() for part in np.split(cols[order], np.cumsum(counts)[:-1])]

    def at(self, k: int, i: int) -> int:
        """Pool index at position ``i`` of class ``k``'s order (``i`` < number of pools)."""
        pre = self._prefix[k]
        if i < len(pre):
            return pre[i]
        full = self._full.get(k)
        if full is None:
            n_p = np.shape(self._scores)[1]
            row = self._scores[k]
            cost = np.nan_to_num(np.broadcast_to(self._cost, np.shape(self._scores))[k], nan=np.inf)
            carbon = np.nan_to_num(np.broadcast_to(self._carbon, np.shape(self._scores))[k], nan=np.inf)
            full = np.lexsort((self._ids[:n_p], carbon, cost, row)).tolist()
            self._full[k] = full
        return full[i]
