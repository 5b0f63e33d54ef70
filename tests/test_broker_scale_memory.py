"""The broker's batch holds no J × C residency matrix when every center is allowed (national scale: 1,000,000
jobs × 5,000 centers would be 5 GB), and a cycle decides exactly as with the matrix spelled out."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from huanghe.broker.job_classes import job_classes, take_jobs
from huanghe.broker.policies import BROKER_POLICIES, run_cycle
from huanghe.broker.snapshot import NetworkSnapshot
from huanghe.sim.broker_scale import busy_snapshot, network_with_pools, synthetic_queue


@pytest.fixture(scope="module")
def snap() -> NetworkSnapshot:
    return busy_snapshot(network_with_pools(300, 4, centers=150), 4)


def test_default_residency_is_one_row_not_j_by_c(snap: NetworkSnapshot) -> None:
    batch, _ = synthetic_queue(snap, 200_000, 5)
    allowed = batch.allowed_centers
    assert allowed.shape == (200_000, snap.n_centers) and allowed.all()
    assert allowed.strides[0] == 0 and not allowed.flags.writeable
    sub = take_jobs(batch, np.arange(0, 200_000, 7))
    assert sub.allowed_centers.shape == (len(sub), snap.n_centers) and sub.allowed_centers.strides[0] == 0


@pytest.mark.parametrize(
    "policy", [p for p in BROKER_POLICIES if p != "earliest-start" and p != "earliest-completion"]
)
def test_cycle_decisions_equal_with_the_matrix_spelled_out(snap: NetworkSnapshot, policy: str) -> None:
    batch, ctx = synthetic_queue(snap, 20_000, 6)
    dense = dataclasses.replace(batch, allowed_centers=np.ones((len(batch), snap.n_centers), np.bool_))
    assert dense.allowed_centers.strides[0] != 0
    a, b = run_cycle(policy, snap, batch, ctx), run_cycle(policy, snap, dense, ctx)
    assert a.status == b.status and np.array_equal(a.pool, b.pool)
    assert np.array_equal(a.hold_until_s, b.hold_until_s, equal_nan=True)
    assert sum(s.value == "placed" for s in a.status) > 0
    ra, ka = job_classes(batch)
    rb, kb = job_classes(dense)
    assert np.array_equal(ra, rb) and np.array_equal(ka, kb)


def test_a_real_residency_row_still_splits_classes(snap: NetworkSnapshot) -> None:
    batch, _ = synthetic_queue(snap, 1000, 7)
    allowed = np.ones((len(batch), snap.n_centers), np.bool_)
    allowed[::2, 0] = False  # every other job may not use center 0
    restricted = dataclasses.replace(batch, allowed_centers=allowed)
    assert len(job_classes(restricted)[0]) > len(job_classes(batch)[0])
