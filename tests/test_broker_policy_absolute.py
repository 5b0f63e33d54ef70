"""The absolute terms of the ``huanghe`` score (per hour of later completion, per kg of extra carbon): a long
job takes the faster pool, a short one the cleaner pool; with only the relative terms both go to the cleaner."""

from __future__ import annotations

import pytest

from huanghe.broker.batch import JobBatch
from huanghe.broker.policies import HUANGHE, CycleContext, Status, Weights, run_cycle
from huanghe.broker.snapshot import NetworkSnapshot
from huanghe.core.clock import FakeClock
from tests.broker_toy import toy_topology

T0 = 1_000.0
DAY_S = 86_400.0


def placed_pool(weights: Weights, duration_s: float) -> str:
    """Pool of one 8-core job when only jn-cpu (speed 1, cleaner) and qd-cpu (speed 1.25) are left."""
    snap = NetworkSnapshot.from_topology(toy_topology(), FakeClock(T0))
    snap = snap.with_health([c != "zb" for c in snap.center_ids])
    jobs = JobBatch.from_records(snap, [{"job_id": "a", "cpus": 8, "duration_s": duration_s}])
    res = run_cycle(HUANGHE, snap, jobs, CycleContext(weights=weights))
    assert res.status[0] == Status.PLACED
    return snap.pool_ids[int(res.pool[0])]


def test_toy_pools_trade_speed_for_carbon() -> None:
    snap = NetworkSnapshot.from_topology(toy_topology(), FakeClock(T0))
    jobs = JobBatch.from_records(snap, [{"job_id": "a", "cpus": 8, "duration_s": 3 * DAY_S}])
    res = run_cycle(HUANGHE, snap, jobs)
    jn, qd = snap.pool_ids.index("jn-cpu"), snap.pool_ids.index("qd-cpu")
    assert res.estimates.run_s[0, qd] < res.estimates.run_s[0, jn]
    assert res.estimates.carbon_kg[0, jn] < res.estimates.carbon_kg[0, qd]


@pytest.mark.parametrize(("duration_s", "pool"), [(60.0, "jn-cpu"), (3 * DAY_S, "qd-cpu")])
def test_default_weights_give_long_jobs_the_fast_pool(duration_s: float, pool: str) -> None:
    assert placed_pool(Weights(), duration_s) == pool


def test_relative_terms_alone_send_the_long_job_to_the_clean_pool() -> None:
    relative_only = Weights(completion_abs=0.0, carbon_abs_per_kg=0.0)
    assert placed_pool(relative_only, 3 * DAY_S) == "jn-cpu"
