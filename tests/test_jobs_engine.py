"""The placement engine on the toy network: earliest completion, data transfer, capacity used within a batch,
unplaceable jobs, the policy registry."""

from __future__ import annotations

import math

import pytest

from huanghe.broker.batch import JobBatch
from huanghe.broker.engine import (
    POLICIES,
    DuplicatePlacementPolicyError,
    EarliestStart,
    PlacementEngine,
    UnknownPlacementPolicyError,
    build_policy_registry,
    policy_names,
)
from huanghe.broker.snapshot import NetworkSnapshot
from huanghe.core.clock import FakeClock
from tests.broker_toy import toy_topology

T0 = 1_000.0


@pytest.fixture(scope="module")
def snap() -> NetworkSnapshot:
    return NetworkSnapshot.from_topology(toy_topology(), FakeClock(T0))


def test_fastest_pool_completes_first(snap: NetworkSnapshot) -> None:
    jobs = JobBatch.from_records(snap, [{"job_id": "a", "cpus": 8, "duration_s": 1000}])
    (d,) = PlacementEngine().place(snap, jobs, T0)
    assert d.placed and d.pool_id == "qd-cpu" and d.center_id == "qd"  # cpu speed 1.25
    assert d.est_run_s == pytest.approx(800.0) and d.est_start_s == pytest.approx(T0)
    assert d.price_cny_per_hour == pytest.approx(8 * 8 / 64)  # 8 of 64 cores of an 8 CNY/h node
    assert d.est_cost_cny == pytest.approx(d.price_cny_per_hour * 800 / 3600)
    why = d.explanation.to_dict()
    assert why["policy"] == "earliest-completion" and why["winner"]["pool"] == "qd-cpu"
    assert why["winner"]["terms"]["completion_s"] == pytest.approx(800.0)
    assert why["runner_up"] is not None


def test_input_data_far_away_moves_the_job_to_the_data(snap: NetworkSnapshot) -> None:
    rec = {"job_id": "b", "cpus": 8, "duration_s": 1000, "data_gb": 10_000, "data_center": "jn"}
    (d,) = PlacementEngine().place(snap, JobBatch.from_records(snap, [rec]), T0)
    # qd: 10 TB over 40 Gbps = 2000 s + 800 s run; jn: no transfer, 1000 s. Cost breaks the jn tie.
    assert d.pool_id == "jn-cpu"


def test_capacity_taken_by_earlier_jobs_of_the_batch(snap: NetworkSnapshot) -> None:
    recs = [{"job_id": f"w{i}", "cpus": 64, "duration_s": 1000} for i in range(7)]
    decisions = PlacementEngine().place(snap, JobBatch.from_records(snap, recs), T0)
    pools = [d.pool_id for d in decisions]
    assert pools[:5] == ["qd-cpu"] * 5  # qd-cpu has 5 nodes of 64 cores
    assert "qd-cpu" not in pools[5:] and all(p is not None for p in pools)
    assert [d.job_id for d in decisions] == [r["job_id"] for r in recs]  # batch order kept


def test_unplaceable_job_has_no_pool_and_says_why(snap: NetworkSnapshot) -> None:
    recs: list[dict[str, object]] = [{"job_id": "x", "accelerator": "H100"}, {"job_id": "y", "cpus": 1}]
    bad, good = PlacementEngine().place(snap, JobBatch.from_records(snap, recs), T0)
    assert not bad.placed and bad.pool_id is None and math.isnan(bad.est_cost_cny)
    assert bad.explanation.removed[0].reason == "accelerator" and bad.explanation.removed[0].count == 5
    assert good.placed


def test_unhealthy_center_is_avoided(snap: NetworkSnapshot) -> None:
    sick = snap.with_health([c != "qd" for c in snap.center_ids])
    (d,) = PlacementEngine().place(sick, JobBatch.from_records(sick, [{"job_id": "z", "duration_s": 10}]), T0)
    assert d.center_id != "qd"


def test_policy_registry() -> None:
    assert "earliest-start" in policy_names()
    with pytest.raises(DuplicatePlacementPolicyError):
        build_policy_registry([*POLICIES, ("earliest-start", EarliestStart)])
    with pytest.raises(UnknownPlacementPolicyError, match="earliest-start"):
        PlacementEngine("no-such-policy")
