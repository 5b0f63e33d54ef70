"""The lazy per-class pool order of a cycle is exactly :func:`huanghe.broker.scoring.tie_order`'s, and a cycle
decides the same whether its pools are sorted in full or lazily (prefixes so short that most classes fall
back to a full row, and the default)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from huanghe.broker import pool_order
from huanghe.broker.estimates import estimate
from huanghe.broker.job_classes import job_classes, take_jobs
from huanghe.broker.policies import CHEAPEST, FIRST_ADMIT, HUANGHE, run_cycle
from huanghe.broker.pool_order import LazyPoolOrder
from huanghe.broker.scoring import tie_order
from huanghe.broker.snapshot import NetworkSnapshot
from huanghe.sim.broker_scale import busy_snapshot, network_with_pools, synthetic_queue


@pytest.fixture(scope="module")
def snap() -> NetworkSnapshot:
    return busy_snapshot(network_with_pools(400, 8, centers=200), 8)


@pytest.mark.parametrize("prefix", [1, 3, 20, 64])
def test_lazy_order_equals_tie_order_with_ties_nan_and_inf(snap: NetworkSnapshot, prefix: int) -> None:
    batch, _ = synthetic_queue(snap, 3000, 9)
    reps = take_jobs(batch, job_classes(batch)[0])
    est = estimate(snap, reps)
    rng = np.random.default_rng(prefix)
    scores = np.round(rng.uniform(0, 3, est.cost_cny.shape), 1)  # many ties: cost, carbon, id decide
    scores[rng.random(scores.shape) < 0.3] = np.inf
    cost = est.cost_cny.copy()
    cost[rng.random(cost.shape) < 0.05] = np.nan
    est = dataclasses.replace(est, cost_cny=cost)
    full = tie_order(snap, est, scores)
    lazy = LazyPoolOrder(snap, est, scores, prefix=prefix)
    for k in range(scores.shape[0]):
        assert [lazy.at(k, i) for i in range(scores.shape[1])] == full[k].tolist()


@pytest.mark.parametrize("policy", [HUANGHE, FIRST_ADMIT, CHEAPEST])
def test_cycle_decides_the_same_lazily(
    snap: NetworkSnapshot, policy: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    batch, ctx = synthetic_queue(snap, 30_000, 10)
    results = []
    for prefix in (10**9, 2, pool_order.PREFIX):  # full tie_order, lazy with many fall-backs, default
        monkeypatch.setattr(pool_order, "PREFIX", prefix)
        results.append(run_cycle(policy, snap, batch, ctx))
    ref = results[0]
    assert sum(s.value == "placed" for s in ref.status) > 100
    for r in results[1:]:
        assert r.status == ref.status and np.array_equal(r.pool, ref.pool)
        assert np.array_equal(r.hold_until_s, ref.hold_until_s, equal_nan=True) and r.notes == ref.notes
