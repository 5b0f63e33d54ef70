"""Queue-wait prediction of ``huanghe`` (issue #15, ``Weights.wait_for_waiters``, :mod:`huanghe.broker.waiters`):
the jobs a cycle leaves waiting for a busy pool count in that pool's wait for the later jobs of the cycle, so a
later job goes to the next pool once the waiters ahead make it better, and comes back to the busy pool when
waiting there is still best."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pytest

from huanghe.broker.batch import JobBatch
from huanghe.broker.policies import HUANGHE, CycleContext, CycleResult, Status, Weights, run_cycle
from huanghe.broker.snapshot import NetworkSnapshot
from huanghe.broker.waiters import Waiters, wait_penalty
from huanghe.core.clock import FakeClock
from tests.broker_toy import toy_topology


def speed_only(wait_for_waiters: bool) -> Weights:
    """Carbon weights 0, so speed decides: qd-cpu (speed 1.25 for CPU work) is every CPU job's best pool."""
    return Weights(carbon=0.0, carbon_abs_per_kg=0.0, wait_for_waiters=wait_for_waiters)


def busy(backlogs: dict[str, float]) -> NetworkSnapshot:
    """The toy network at t = 0 with the named pools full (no free node) and the given fluid backlog (s)."""
    snap = NetworkSnapshot.from_topology(toy_topology(), FakeClock(0.0), carbon_shape="synthetic")
    nodes = snap.nodes_total.copy()
    backlog = np.zeros(snap.n_pools)
    for name, b in backlogs.items():
        p = snap.pool_index(name)
        nodes[p] = 0
        backlog[p] = b
    f = nodes.astype(np.float64)
    snap = snap.with_free(nodes, f * snap.cpus_per_node, f * snap.gpus_per_node, f * snap.mem_gb_per_node)
    return snap.with_queue(np.zeros(snap.n_pools, dtype=np.int64), backlog)


def cpu(job_id: str, nodes: int, duration_s: float, submit_s: float, **extra: Any) -> dict[str, Any]:
    return {"job_id": job_id, "kind": "cpu", "cpus": 64, "nodes": nodes, "duration_s": duration_s,
            "submit_s": submit_s, **extra}  # fmt: skip


def cycle(snap: NetworkSnapshot, records: Sequence[dict[str, Any]], waiters: bool) -> CycleResult:
    jobs = JobBatch.from_records(snap, records)
    return run_cycle(HUANGHE, snap, jobs, CycleContext(weights=speed_only(waiters)))


def where(res: CycleResult, j: int) -> str | None:
    p = int(res.pool[j])
    return res.snapshot.pool_ids[p] if p >= 0 else None


def test_a_later_job_goes_around_the_jobs_waiting_for_a_busy_pool() -> None:
    snap = busy({"qd-cpu": 100.0})
    records = [cpu("a", 4, 3600, 0), cpu("b", 2, 1800, 1)]
    before = cycle(snap, records, waiters=False)
    assert before.status == [Status.WAITING, Status.WAITING]  # both wait for qd-cpu's 100 s backlog
    after = cycle(snap, records, waiters=True)
    assert after.status[0] == Status.WAITING and "qd-cpu" in after.explanation(0).note
    # a's 4 nodes × 2,880 s on qd-cpu's 5 nodes put b 2,304 s further back: the idle jn-cpu is better now
    assert after.status[1] == Status.PLACED and where(after, 1) == "jn-cpu"


def test_a_short_job_ahead_does_not_move_it() -> None:
    res = cycle(busy({"qd-cpu": 100.0}), [cpu("a", 1, 600, 0), cpu("b", 2, 1800, 1)], waiters=True)
    assert res.status == [Status.WAITING, Status.WAITING]  # 96 s more wait: qd-cpu stays best for b
    assert "waits for 等待 qd-cpu behind 1 node units" in res.explanation(1).note


@pytest.mark.parametrize(("waiting", "moves"), [(1, False), (4, True)])
def test_every_waiting_job_of_a_class_counts(waiting: int, moves: bool) -> None:
    """Jobs of one class after the first that waits are not scored again this cycle; they still wait for the
    same pool, ahead of later jobs: one such job (288 s more) leaves b at qd-cpu, four (1,152 s) move it."""
    records = [cpu(f"a{i}", 1, 1800, i) for i in range(waiting)] + [cpu("b", 1, 3600, 10)]
    res = cycle(busy({"qd-cpu": 100.0}), records, waiters=True)
    assert all(s == Status.WAITING for s in res.status[:waiting])
    assert (res.status[-1] == Status.PLACED and where(res, waiting) == "jn-cpu") is moves


def test_it_comes_back_to_the_busy_pool_when_waiting_there_is_still_best() -> None:
    """qd-cpu has a waiter ahead (a), so b looks at the next pool, jn-cpu (busy, 900 s backlog). With x (all
    10 nodes for 10 h, allowed only in jn) waiting there, jn-cpu is worse than waiting behind a: b waits for
    qd-cpu; without x it waits for jn-cpu (and reserves it)."""
    snap = busy({"qd-cpu": 100.0, "jn-cpu": 900.0})
    a, b = cpu("a", 4, 3600, 0), cpu("b", 1, 3600, 2)
    x = cpu("x", 10, 36000, 1, allowed_centers=["jn"])
    with_x = cycle(snap, [a, x, b], waiters=True)
    assert with_x.status[2] == Status.WAITING
    assert "waits for 等待 qd-cpu" in with_x.explanation(2).note
    without_x = cycle(snap, [a, b], waiters=True)
    assert without_x.status[1] == Status.WAITING
    assert "reservation 预留 on jn-cpu" in without_x.explanation(1).note


def test_wait_penalty_prices_the_wait_with_the_completion_terms() -> None:
    w = Weights(completion=1.0, completion_floor_s=600.0, completion_abs=1.0, completion_abs_scale_s=3600.0)
    assert wait_penalty(0.0, 3000.0, w) == 0.0
    assert wait_penalty(-5.0, 3000.0, w) == 0.0
    assert wait_penalty(3600.0, 3000.0, w) == pytest.approx(3600 / 3600 + 1.0)  # relative 1 + 1 per hour
    assert wait_penalty(1800.0, 0.0, w) == pytest.approx(1800 / 600 + 0.5)


def test_waiters_spread_their_work_over_the_pools_node_units() -> None:
    snap = busy({})
    qd = snap.pool_index("qd-cpu")  # 5 nodes
    w = Waiters(snap)
    assert w.extra_s(qd, 1.0, 0.0, 0.0) == 0.0
    w.add(qd, 2.0, 1000.0)
    w.add(qd, 0.5, 400.0)
    w.add(qd, 1.0, float("inf"))  # an infeasible pair adds nothing
    assert w.units[qd] == 2.5
    assert w.extra_s(qd, 1.0, 0.0, 0.0) == pytest.approx((2000 + 200) / 5)  # no release profile: fluid
    assert w.extra_s(snap.pool_index("jn-cpu"), 1.0, 0.0, 0.0) == 0.0


def test_with_a_release_profile_the_waiters_add_the_delay_of_their_own_units() -> None:
    snap = busy({})
    qd = snap.pool_index("qd-cpu")
    releases = [(np.zeros(0), np.zeros(0))] * snap.n_pools
    releases[qd] = (np.array([500.0, 2000.0, 9000.0]), np.array([1.0, 2.0, 2.0]))
    w = Waiters(snap, releases)
    w.add(qd, 2.0, 1000.0)
    # none free: alone the job starts at the 500 s release, behind 2 units at the 2,000 s one
    assert w.extra_s(qd, 1.0, 0.0, 0.0) == pytest.approx(1500.0)
    # two units free: alone it starts now, behind the waiters at 500 s
    assert w.extra_s(qd, 1.0, 2.0, 0.0) == pytest.approx(500.0)
    assert w.extra_s(qd, 1.0, 5.0, 0.0) == 0.0  # room for the waiters and the job now
    w.add(qd, 4.0, 100.0)  # 6 + 1 units: more than the running jobs free: the waiters' work, fluid
    assert w.extra_s(qd, 1.0, 0.0, 0.0) == pytest.approx((2000 + 400) / 5)


@pytest.mark.parametrize(("release_s", "moves"), [(150.0, False), (20 * 3600.0, True)])
def test_in_a_cycle_the_release_profile_decides_whether_the_waiters_move_it(
    release_s: float, moves: bool
) -> None:
    """a (4 nodes) waits for qd-cpu; alone b (2 nodes) would start at the 100 s release, behind a when qd-cpu's
    running jobs free 6 units: soon (150 s: b still waits for qd-cpu) or in 20 h (b takes the idle jn-cpu)."""
    snap = busy({"qd-cpu": 100.0})
    qd = snap.pool_index("qd-cpu")
    releases = [(np.zeros(0), np.zeros(0))] * snap.n_pools
    releases[qd] = (np.array([100.0, release_s]), np.array([4.0, 2.0]))
    jobs = JobBatch.from_records(snap, [cpu("a", 4, 3600, 0), cpu("b", 2, 1800, 1)])
    ctx = CycleContext(releases=releases, weights=speed_only(True))
    res = run_cycle(HUANGHE, snap, jobs, ctx)
    assert res.status[0] == Status.WAITING
    assert (res.status[1] == Status.PLACED and where(res, 1) == "jn-cpu") is moves
