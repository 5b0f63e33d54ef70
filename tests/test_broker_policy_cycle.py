"""Placement policies on the hand-checked toy network (tests/broker_toy.py): which pool each picks and why,
temporal shifting, reservations, the engine registry."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

from huanghe.broker.batch import JobBatch
from huanghe.broker.engine import PlacementEngine, policy_names
from huanghe.broker.policies import (
    CHEAPEST,
    FIRST_ADMIT,
    HUANGHE,
    SPREAD,
    CycleContext,
    Status,
    Weights,
    greener_start_s,
    job_classes,
    run_cycle,
)
from huanghe.broker.snapshot import NetworkSnapshot
from huanghe.core.clock import FakeClock
from tests.broker_toy import toy_topology

CPU_JOB: dict[str, Any] = {"job_id": "c", "kind": "cpu", "cpus": 32, "nodes": 1, "duration_s": 3600}


def snap_at(t_s: float = 0.0) -> NetworkSnapshot:
    return NetworkSnapshot.from_topology(toy_topology(), FakeClock(t_s), carbon_shape="synthetic")


def pool_of(snap: NetworkSnapshot, res: Any, j: int = 0) -> str | None:
    p = int(res.pool[j])
    return snap.pool_ids[p] if p >= 0 else None


def with_free_nodes(snap: NetworkSnapshot, free: dict[str, int]) -> NetworkSnapshot:
    nodes = snap.nodes_total.copy()
    for pid, n in free.items():
        nodes[snap.pool_index(pid)] = n
    f = nodes.astype(np.float64)
    return snap.with_free(nodes, f * snap.cpus_per_node, f * snap.gpus_per_node, f * snap.mem_gb_per_node)


def test_each_policy_picks_its_pool_for_a_cpu_job() -> None:
    snap = snap_at()
    jobs = JobBatch.from_records(snap, [CPU_JOB])
    # first-admit: the first pool in topology order that admits it
    assert pool_of(snap, run_cycle(FIRST_ADMIT, snap, jobs)) == "jn-cpu"
    # cheapest per hour: qd-cpu 8 × 0.5 node = 4 CNY/h < jn-cpu 5 < zb-cpu 6 < qd-910b 25 < jn-a100 66.7
    assert pool_of(snap, run_cycle(CHEAPEST, snap, jobs)) == "qd-cpu"
    # huanghe with carbon weight 0.5: qd-cpu runs 1.25x faster (2,880 s) and costs 3.2 CNY; jn-cpu is cleaner
    # (PUE 1.2, 50 % renewable) but 720 s slower: completion excess 720/3480 = 0.21 plus cost 0.3 × 0.56
    # outweighs carbon 0.5 × 0.38
    res = run_cycle(HUANGHE, snap, jobs, CycleContext(weights=Weights(carbon=0.5)))
    assert pool_of(snap, res) == "qd-cpu"
    why = res.explanation(0)
    assert why.winner is not None and why.runner_up is not None
    assert why.runner_up.pool == "jn-cpu"
    assert why.winner.terms["completion"] == 0.0 and why.winner.terms["cost"] == 0.0
    assert why.runner_up.terms["completion"] == pytest.approx(720 / 3480)
    assert why.winner.terms["carbon"] > 0 and why.runner_up.terms["carbon"] == 0.0
    assert why.winner.score < why.runner_up.score
    assert res.status[0] == Status.PLACED


def test_carbon_weight_moves_the_job_to_the_cleaner_center() -> None:
    snap = snap_at()
    jobs = JobBatch.from_records(snap, [CPU_JOB])
    green = CycleContext(weights=Weights(carbon=2.0))
    assert pool_of(snap, run_cycle(HUANGHE, snap, jobs, green)) == "jn-cpu"
    # ... unless only the faster qd-cpu (2,880 s) meets the job's deadline (3,000 s after submit)
    tight = JobBatch.from_records(snap, [{**CPU_JOB, "deadline_s": 3000.0}])
    res = run_cycle(HUANGHE, snap, tight, green)
    assert pool_of(snap, res) == "qd-cpu"
    assert res.explanation(0).runner_up.terms["deadline"] == Weights().deadline_miss  # type: ignore[union-attr]


def test_residency_is_hard_for_huanghe_only() -> None:
    snap = snap_at()
    core = {**CPU_JOB, "job_id": "core", "data_class": "core", "data_center": "jn", "data_gb": 1}
    jobs = JobBatch.from_records(snap, [core])
    res = run_cycle(HUANGHE, snap, jobs)
    assert pool_of(snap, res) == "jn-cpu"  # core data never leaves jn
    removed = {r.reason: r.count for r in res.explanation(0).removed}
    assert removed["data_class"] == 3  # zb-cpu, qd-910b, qd-cpu; jn-a100 is in jn and stays a candidate
    # SkyPilot-like cheapest knows no data class: qd-cpu, a residency violation the simulator reports
    assert pool_of(snap, run_cycle(CHEAPEST, snap, jobs)) == "qd-cpu"


def test_spread_draws_only_free_pools_and_is_seeded() -> None:
    snap = with_free_nodes(snap_at(), {"jn-cpu": 0, "jn-a100": 0, "qd-910b": 0, "qd-cpu": 0})
    jobs = JobBatch.from_records(snap, [CPU_JOB])
    assert pool_of(snap, run_cycle(SPREAD, snap, jobs)) == "zb-cpu"
    many = JobBatch.from_records(snap_at(), [{**CPU_JOB, "job_id": f"c{i}", "cpus": 1} for i in range(200)])
    a = run_cycle(SPREAD, snap_at(), many, CycleContext(seed=3))
    b = run_cycle(SPREAD, snap_at(), many, CycleContext(seed=3))
    assert a.pool.tolist() == b.pool.tolist()
    assert len(set(a.pool.tolist())) >= 3  # spread over several pools


def test_cycle_never_overfills_a_pool() -> None:
    snap = with_free_nodes(snap_at(), {"jn-cpu": 2, "zb-cpu": 1, "qd-cpu": 1, "jn-a100": 0, "qd-910b": 0})
    jobs = JobBatch.from_records(snap, [{**CPU_JOB, "job_id": f"c{i}", "cpus": 64} for i in range(6)])
    for policy in (HUANGHE, FIRST_ADMIT, CHEAPEST, SPREAD):
        res = run_cycle(policy, snap, jobs)
        placed = [pool_of(snap, res, j) for j in range(6) if res.status[j] == Status.PLACED]
        # 64-core jobs fit one per node: jn-cpu 2, qd-cpu 1; zb-cpu nodes have 32 cores only
        assert sorted(p for p in placed if p) == ["jn-cpu", "jn-cpu", "qd-cpu"], policy


def test_job_classes_group_identical_requests() -> None:
    snap = snap_at()
    recs = [{**CPU_JOB, "job_id": f"a{i}"} for i in range(3)] + [{**CPU_JOB, "job_id": "b", "cpus": 8}]
    rep, cls = job_classes(JobBatch.from_records(snap, recs))
    assert len(rep) == 2 and cls[0] == cls[1] == cls[2] != cls[3]


def test_temporal_shifting_holds_for_a_greener_hour_within_the_deadline() -> None:
    snap = snap_at(0.0)  # midnight; the synthetic shape is lowest around noon
    job = {**CPU_JOB, "job_id": "dl", "deadline_s": 24 * 3600.0}
    w = Weights(shift_priced=False)  # the relative threshold alone (priced: test_broker_priced_hold.py)
    ctx = CycleContext(weights=w)
    res = run_cycle(HUANGHE, snap, JobBatch.from_records(snap, [job]), ctx)
    assert res.status[0] == Status.HELD and res.pool[0] < 0
    hold = float(res.hold_until_s[0])
    run_s = 3600 / 1.25  # qd-cpu
    assert 6 * 3600 <= hold <= 24 * 3600 - run_s * (1 + w.shift_margin) - 60
    assert "greener hour" in res.explanation(0).note
    # at the chosen hour the job is placed, not held again
    later = snap_at(hold)
    again = run_cycle(HUANGHE, later, JobBatch.from_records(later, [{**job, "submit_s": 0.0}]), ctx)
    assert again.status[0] == Status.PLACED
    # a deadline with no room to wait: placed now
    tight = {**job, "deadline_s": 1.5 * 3600}
    assert run_cycle(HUANGHE, snap, JobBatch.from_records(snap, [tight]), ctx).status[0] == Status.PLACED


@pytest.mark.parametrize("now_h", [0.0, 5.5, 13.0, 20.25])
@pytest.mark.parametrize("slack_h", [0.5, 3.0, 11.0, 30.0])
def test_greener_start_never_past_the_latest_start(now_h: float, slack_h: float) -> None:
    snap = snap_at()
    now = now_h * 3600
    latest = now + slack_h * 3600
    t = greener_start_s(snap, 0, now, 7200.0, latest, 0.0, 48)
    if t is not None:
        assert now < t <= latest


def test_reservation_keeps_capacity_for_a_blocked_gang_and_backfills_short_jobs() -> None:
    # only zb-cpu (20 nodes) can ever hold the 20-node gang; 10 of its nodes are free, 10 free up at t=1000
    snap = with_free_nodes(snap_at(), {"jn-cpu": 0, "jn-a100": 0, "qd-910b": 0, "qd-cpu": 0, "zb-cpu": 10})
    backlog = np.full(snap.n_pools, 1e6)  # the other pools are jammed for a long time
    backlog[snap.pool_index("zb-cpu")] = 1000.0
    snap = snap.with_queue(np.zeros(snap.n_pools), backlog)
    gang = {"job_id": "gang", "kind": "cpu", "cpus": 32, "nodes": 20, "duration_s": 3600, "submit_s": -100}
    long = {"job_id": "long", "kind": "cpu", "cpus": 32, "nodes": 1, "duration_s": 5000}
    short = {"job_id": "short", "kind": "cpu", "cpus": 32, "nodes": 1, "duration_s": 500}
    jobs = JobBatch.from_records(snap, [gang, long, short])
    releases = [(np.zeros(0), np.zeros(0))] * snap.n_pools
    releases[snap.pool_index("zb-cpu")] = (np.array([1000.0]), np.array([10.0]))
    ctx = CycleContext(releases=releases)
    res = run_cycle(HUANGHE, snap, jobs, ctx)
    assert res.status == [Status.WAITING, Status.WAITING, Status.PLACED]
    assert "reservation" in res.explanation(0).note
    assert pool_of(snap, res, 2) == "zb-cpu"  # ends at 500 s < 1000 s: backfilled
    # first-admit (MultiKueue) has no reservation: the long job takes a node the gang needs
    fa = run_cycle(FIRST_ADMIT, snap, jobs)
    assert fa.status[1] == Status.PLACED


def test_engine_registry_and_decisions() -> None:
    names = policy_names()
    for name in (
        HUANGHE,
        FIRST_ADMIT,
        "earliest-start",
        "earliest-completion",
        CHEAPEST,
        SPREAD,
        "huanghe-batch",
    ):
        assert name in names
    snap = snap_at()
    jobs = JobBatch.from_records(snap, [CPU_JOB, {**CPU_JOB, "job_id": "dl", "deadline_s": 86400.0}])
    unpriced = CycleContext(weights=Weights(shift_priced=False))  # holds the job with a deadline
    decisions = PlacementEngine(HUANGHE).place(snap, jobs, 0.0, unpriced)
    assert decisions[0].pool_id == "jn-cpu" and decisions[0].center_id == "jn"  # default carbon weight 1
    assert decisions[0].est_cost_cny == pytest.approx(5.0)
    assert decisions[1].pool_id is None and "held" in decisions[1].explanation.note
    assert decisions[1].status == "held" and decisions[1].waits and not decisions[0].waits
    assert math.isnan(decisions[1].est_start_s)


def test_dominant_resource_fairness_orders_tenants_and_age_catches_up() -> None:
    # room for one 64-core job only (jn-cpu, 1 node); two identical jobs of tenants 0 and 1
    snap = with_free_nodes(snap_at(), {"jn-cpu": 1, "zb-cpu": 0, "qd-cpu": 0, "jn-a100": 0, "qd-910b": 0})
    jobs = JobBatch.from_records(snap, [{**CPU_JOB, "job_id": f"t{i}", "cpus": 64} for i in range(2)])
    shares = np.array([0.5, 0.1])  # tenant 0 already holds half of a resource, tenant 1 a tenth
    ctx = CycleContext(tenant=np.array([0, 1]), tenant_share=shares)
    res = run_cycle(HUANGHE, snap, jobs, ctx)
    assert res.status == [Status.WAITING, Status.PLACED]
    # first-admit serves in submit order whatever the shares
    assert run_cycle(FIRST_ADMIT, snap, jobs, ctx).status == [Status.PLACED, Status.WAITING]
    # tenant 0's job waited 6 h longer: age (6 h counts as a whole share) outweighs the 0.4 share difference
    old = JobBatch.from_records(
        snap,
        [
            {**CPU_JOB, "job_id": "t0", "cpus": 64, "submit_s": -6 * 3600.0},
            {**CPU_JOB, "job_id": "t1", "cpus": 64},
        ],
    )
    assert run_cycle(HUANGHE, snap, old, ctx).status == [Status.PLACED, Status.WAITING]
