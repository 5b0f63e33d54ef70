"""Release-profile waits of ``huanghe`` (issue #15, ``Weights.wait_from_releases``): a job whose best-scored pool
is busy waits for it only while that pool stays the best once its wait comes from when its running jobs free
enough nodes (the release profile), not from the fluid backlog."""

from __future__ import annotations

import numpy as np

from huanghe.broker.batch import JobBatch
from huanghe.broker.policies import HUANGHE, CycleContext, Status, Weights, run_cycle
from huanghe.broker.snapshot import NetworkSnapshot
from huanghe.core.clock import FakeClock
from tests.broker_toy import toy_topology

GANG = {"job_id": "g", "kind": "cpu", "cpus": 64, "nodes": 4, "duration_s": 3600}


def setup(release_at_s: float) -> tuple[NetworkSnapshot, JobBatch, CycleContext, CycleContext]:
    """Carbon weights 0, so speed decides. qd-cpu (fastest for CPU work, 5 nodes) has 2 free nodes and a small fluid backlog (100 s), but its
    3 busy nodes free up only at ``release_at_s``; jn-cpu and zb-cpu are idle."""
    snap = NetworkSnapshot.from_topology(toy_topology(), FakeClock(0.0), carbon_shape="synthetic")
    nodes = snap.nodes_total.copy()
    qd = snap.pool_index("qd-cpu")
    nodes[qd] = 2
    f = nodes.astype(np.float64)
    snap = snap.with_free(nodes, f * snap.cpus_per_node, f * snap.gpus_per_node, f * snap.mem_gb_per_node)
    backlog = np.zeros(snap.n_pools)
    backlog[qd] = 100.0
    snap = snap.with_queue(np.zeros(snap.n_pools, dtype=np.int64), backlog)
    releases = [(np.zeros(0), np.zeros(0))] * snap.n_pools
    releases[qd] = (np.array([release_at_s]), np.array([3.0]))
    jobs = JobBatch.from_records(snap, [GANG])
    w = Weights(carbon=0.0, carbon_abs_per_kg=0.0)
    old = CycleContext(releases=releases, weights=w)
    new = CycleContext(
        releases=releases, weights=Weights(carbon=0.0, carbon_abs_per_kg=0.0, wait_from_releases=True)
    )
    return snap, jobs, old, new


def test_a_pool_that_frees_late_is_not_waited_for() -> None:
    snap, jobs, old, new = setup(release_at_s=20 * 3600.0)
    before = run_cycle(HUANGHE, snap, jobs, old)
    assert before.status[0] == Status.WAITING  # the fluid backlog (100 s) makes qd-cpu look best
    assert "qd-cpu" in before.explanation(0).note
    after = run_cycle(HUANGHE, snap, jobs, new)
    assert after.status[0] == Status.PLACED
    assert snap.pool_ids[int(after.pool[0])] in ("jn-cpu", "zb-cpu")


def test_a_pool_that_frees_soon_is_still_waited_for() -> None:
    snap, jobs, _, new = setup(release_at_s=150.0)
    res = run_cycle(HUANGHE, snap, jobs, new)
    assert res.status[0] == Status.WAITING and "qd-cpu" in res.explanation(0).note


def test_without_a_release_profile_nothing_changes() -> None:
    snap, jobs, old, new = setup(release_at_s=20 * 3600.0)
    a = run_cycle(HUANGHE, snap, jobs, CycleContext(weights=old.weights))
    b = run_cycle(HUANGHE, snap, jobs, CycleContext(weights=new.weights))
    assert a.status == b.status and list(a.pool) == list(b.pool)
