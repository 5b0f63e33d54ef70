"""The ``huanghe`` queue policy: its order on hand-made queues, determinism, starvation bound."""

from __future__ import annotations

import math

import numpy as np
import pytest

from huanghe.broker.cluster_queue import RLSCHEDULER_RULES, STANDARD_RULES, EngineRules
from huanghe.broker.queue import Backfill, HuangheOrder, QueuePolicy, get_policy
from huanghe.broker.queue_types import JobTable
from huanghe.sim.rlscheduler import TRACES, load_trace
from huanghe.sim.simulation import simulate
from huanghe.sim.workload import Workload

DAY_S = 86400.0
# the shape tested below: the round-2 order (request-based, n^0.75, promotion at slowdown 3); the
# shipped order adds a run-time prediction and other exponents (tests/test_queue_huanghe_predict.py)
ROUND2 = HuangheOrder(predict=False, procs_power=0.75, xf_power=0.1, promote_xf=3.0)


def table(submit: list[float], estimate: list[float], procs: list[int]) -> JobTable:
    n = len(submit)
    return JobTable(submit_s=submit, estimate_s=estimate, procs=procs, owner=[0] * n, priority=[0] * n)


def order_at(jobs: JobTable, now: float, order: HuangheOrder | None = None) -> list[int]:
    key_at = (order or ROUND2).make_key(jobs)
    return sorted(range(len(jobs)), key=key_at(now, {}))


def test_policy_is_registered_with_easy_backfill() -> None:
    policy = get_policy("huanghe")
    assert isinstance(policy.order, HuangheOrder) and policy.order.dynamic and policy.order.predict
    assert policy.backfill is Backfill.EASY


def test_fresh_jobs_smallest_estimated_area_first() -> None:
    # e · n^0.75 (e floored at 60 s): 600·16^0.75 = 4800; 3600·1 = 3600; 60·81^0.75 = 1620 (10 s → 60 s)
    jobs = table([0.0, 0.0, 0.0], [600.0, 3600.0, 10.0], [16, 1, 81])
    assert order_at(jobs, 0.0) == [2, 1, 0]


def test_width_weighs_less_than_length() -> None:
    # same area 6400 core·s: 100 cores × 64 s vs 1 core × 6400 s → the wide short job first
    jobs = table([0.0, 0.0], [6400.0, 64.0], [1, 100])
    assert order_at(jobs, 0.0) == [1, 0]
    # but 16 cores × 1000 s (16^0.75·1000 = 8000) goes after 1 core × 6400 s
    jobs = table([0.0, 0.0], [6400.0, 1000.0], [1, 16])
    assert order_at(jobs, 0.0) == [0, 1]


def test_slowdown_three_promotes_and_largest_slowdown_goes_first() -> None:
    now = 3000.0
    # job 0: 64 cores, estimate 100 s, waited 250 s → xf 3.5 (promoted); job 1: estimate 1000 s,
    # waited 2500 s → xf 3.5 (promoted); job 2: 1 core, 1 s, just arrived (area 60, not promoted)
    jobs = table([2750.0, 500.0, 3000.0], [100.0, 1000.0, 1.0], [64, 1, 1])
    assert order_at(jobs, now) == [0, 1, 2]  # equal xf: job index; the promoted jobs before the small one
    # job 1 has waited longer (xf 4 > 3.5): first
    jobs = table([2750.0, 0.0, 3000.0], [100.0, 1000.0, 1.0], [64, 1, 1])
    assert order_at(jobs, now) == [1, 0, 2]
    # job 0 having waited only 100 s (xf 2) is ranked by area, after the small fresh job
    jobs = table([2900.0, 0.0, 3000.0], [100.0, 1000.0, 1.0], [64, 1, 1])
    assert order_at(jobs, now) == [1, 2, 0]


def test_starvation_bound_overrides_everything_oldest_first() -> None:
    # two wide jobs with 30-day estimates (their slowdown stays < 3) and a tiny job
    jobs = table([0.0, 1.0, 14 * DAY_S - 10.0], [30 * DAY_S, 30 * DAY_S, 10.0], [128, 64, 1])
    # at 14 days job 0 reaches the bound and goes first; job 1 (1 s short of it) ranks by area, last
    assert order_at(jobs, 14 * DAY_S) == [0, 2, 1]
    # a day later both are past the bound: oldest first, before the tiny job (now promoted by slowdown)
    assert order_at(jobs, 15 * DAY_S) == [0, 1, 2]


def test_key_is_deterministic_and_total() -> None:
    rng = np.random.default_rng(7)
    n = 200
    jobs = table(
        sorted(rng.uniform(0, 1e5, n).tolist()),
        rng.uniform(1, 1e5, n).tolist(),
        rng.integers(1, 256, n).tolist(),
    )
    a, b = order_at(jobs, 2e5), order_at(jobs, 2e5)
    assert a == b and sorted(a) == list(range(n))


def stream_with_wide_job(n_small: int = 400) -> Workload:
    """4 cores, 100-s jobs: four 1-core jobs at t=0, then at t=1 a wide 4-core job among a stream of
    1-core jobs arriving every 20 s (faster than the machine serves them: the queue keeps growing)."""
    submit = [0.0] * 4 + [1.0] + [1.0 + 20.0 * k for k in range(n_small)]
    procs = [1] * 4 + [4] + [1] * n_small
    run = [100.0] * len(submit)
    return Workload.from_columns(submit_s=submit, run_s=run, estimate_s=run, procs=procs)


@pytest.mark.parametrize("rules", [STANDARD_RULES, RLSCHEDULER_RULES], ids=["standard", "rlscheduler"])
def test_wide_job_is_not_starved(rules: EngineRules) -> None:
    wl = stream_with_wide_job()
    wide = 4
    # area alone (no promotion, no bound) starves the wide job behind the whole stream
    pure = QueuePolicy(
        "area-only",
        HuangheOrder(predict=False, promote_xf=math.inf, starvation_s=math.inf, xf_power=0.0),
        Backfill.EASY,
    )
    assert simulate(wl, 4, pure, rules=rules).wait_s[wide] > 5000.0
    # round 2 promotes it when its slowdown reaches 3 (waited 200 s); then at most one committed head
    # and one drain (100 s each) before it starts
    assert simulate(wl, 4, QueuePolicy("r2", ROUND2, Backfill.EASY), rules=rules).wait_s[wide] <= 400.0
    # the shipped order promotes at slowdown 20 (waited 1,900 s): the same bound, later
    assert simulate(wl, 4, "huanghe", rules=rules).wait_s[wide] <= 1900.0 + 2 * 100.0
    # the hard bound alone (promotion off) caps the wait too: 1,000 s + at most two runs
    bound_only = QueuePolicy(
        "bound", HuangheOrder(predict=False, promote_xf=math.inf, starvation_s=1000.0), Backfill.EASY
    )
    assert simulate(wl, 4, bound_only, rules=rules).wait_s[wide] <= 1000.0 + 2 * 100.0


@pytest.fixture(scope="module")
def lublin_sequence() -> Workload:
    """One 1,024-job Lublin sequence as the reproduction samples them (start 2,000)."""
    if not TRACES["lublin"].path.exists():
        pytest.skip("shared traces not available")
    return load_trace("lublin")[1].take(slice(2000, 3024))


def test_deterministic_and_better_than_fcfs_easy_under_both_mechanics(lublin_sequence: Workload) -> None:
    for rules in (STANDARD_RULES, RLSCHEDULER_RULES):
        a = simulate(lublin_sequence, 256, "huanghe", rules=rules)
        b = simulate(lublin_sequence, 256, "huanghe", rules=rules)
        assert np.array_equal(a.start_s, b.start_s) and not np.isnan(a.start_s).any()
        fcfs = simulate(lublin_sequence, 256, "fcfs-easy", rules=rules)
        assert a.summary().mean_bsld < fcfs.summary().mean_bsld
        assert float(np.max(a.wait_s)) < 14 * DAY_S
