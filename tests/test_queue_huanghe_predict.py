"""Run-time prediction in the ``huanghe`` order: the predictor, the engine's finish hook, no look-ahead."""

from __future__ import annotations

import numpy as np
import pytest

from huanghe.broker.cluster_queue import RLSCHEDULER_RULES, STANDARD_RULES, EngineRules
from huanghe.broker.queue import Backfill, BoundOrder, HuangheOrder, QueuePolicy
from huanghe.broker.queue_types import JobTable
from huanghe.broker.runtime_predict import UserRuntimePredictor
from huanghe.sim.simulation import simulate
from huanghe.sim.workload import Workload

PRED = HuangheOrder(predict=True, predict_in_xf=False, promote_xf=5.0, procs_power=1.0, xf_power=0.5)


def test_predictor_mean_of_last_two_capped_by_request() -> None:
    p = UserRuntimePredictor()
    assert p.predict(7, 3600.0) == 3600.0  # no history: the request
    p.observe(7, 100.0)
    assert p.predict(7, 3600.0) == 100.0
    p.observe(7, 300.0)
    p.observe(7, 500.0)  # the oldest (100 s) falls out of the window
    assert p.predict(7, 3600.0) == 400.0
    assert p.predict(7, 250.0) == 250.0  # never above the request
    assert p.predict(8, 3600.0) == 3600.0  # other users unaffected
    p.observe(-1, 5.0)  # unknown user: no history
    assert p.predict(-1, 3600.0) == 3600.0
    with pytest.raises(ValueError, match="history"):
        UserRuntimePredictor(history=0)


def table(submit: list[float], estimate: list[float], procs: list[int], owner: list[int]) -> JobTable:
    return JobTable(
        submit_s=submit, estimate_s=estimate, procs=procs, owner=owner, priority=[0] * len(submit)
    )


def test_prediction_reorders_a_hand_made_queue() -> None:
    # user 0 asks 10 h for 8 cores, user 1 asks 1,000 s for 8 cores; both just arrived
    jobs = table([0.0, 0.0], [36_000.0, 1_000.0], [8, 8], [0, 1])
    pred = UserRuntimePredictor()
    key_at = PRED.make_key(jobs, pred)
    assert sorted(range(2), key=key_at(0.0, {})) == [1, 0]  # no history: by request, user 1 first
    pred.observe(0, 100.0)
    pred.observe(0, 300.0)  # user 0's jobs really run ~200 s
    assert sorted(range(2), key=key_at(0.0, {})) == [0, 1]
    # the prediction changes the area, not the promotion: with the request-based slowdown (promotion
    # at 5) user 1's job, after 4,000 s of waiting (slowdown 5), goes first again
    jobs = table([4_000.0, 0.0], [36_000.0, 1_000.0], [8, 8], [0, 1])
    key_at = PRED.make_key(jobs, pred)
    assert sorted(range(2), key=key_at(4_000.0, {})) == [1, 0]


def test_bind_gives_a_finish_hook_only_when_predicting() -> None:
    jobs = table([0.0], [100.0], [1], [3])
    assert HuangheOrder(predict=False).bind(jobs).on_finish is None
    bound = HuangheOrder().bind(jobs)  # the shipped order predicts
    assert bound.on_finish is not None and bound.key_at is not None


class SpyOrder(HuangheOrder):
    """The predicting order, recording what the finish hook was told and when keys were asked."""

    def bind(self, jobs: JobTable, seed: int = 0) -> BoundOrder:
        bound = super().bind(jobs, seed)
        assert bound.on_finish is not None and bound.key_at is not None
        hook, key_at = bound.on_finish, bound.key_at
        self.told: list[tuple[int, float]] = []
        self.asked: list[tuple[float, int]] = []  # (now, how many ends told so far)

        def on_finish(j: int, run_s: float) -> None:
            self.told.append((j, run_s))
            hook(j, run_s)

        def spy_key_at(now: float, shares: object) -> object:
            self.asked.append((now, len(self.told)))
            return key_at(now, shares)  # type: ignore[arg-type]

        return BoundOrder(None, spy_key_at, on_finish=on_finish)  # type: ignore[arg-type]


def user_workload(n: int = 300, seed: int = 5) -> Workload:
    rng = np.random.default_rng(seed)
    run = rng.choice([30.0, 300.0, 3_000.0], n)
    return Workload.from_columns(
        submit_s=np.cumsum(rng.exponential(60.0, n)),
        run_s=run,
        estimate_s=run * rng.choice([1.0, 5.0, 30.0], n),
        procs=rng.integers(1, 9, n),
        user=rng.integers(0, 6, n),
    )


@pytest.mark.parametrize("rules", [STANDARD_RULES, RLSCHEDULER_RULES], ids=["standard", "rlscheduler"])
def test_hook_reports_true_run_times_of_finished_jobs_only(rules: EngineRules) -> None:
    wl = user_workload()
    spy = SpyOrder(predict=True, predict_in_xf=False, promote_xf=5.0, procs_power=1.0, xf_power=0.5)
    res = simulate(wl, 16, QueuePolicy("spy", spy, Backfill.EASY), rules=rules)
    assert len(spy.told) == len(wl)
    for j, run_s in spy.told:
        assert run_s == pytest.approx(float(wl.run_s[j]))
    # at each decision time, every job the predictor had heard of had already ended
    ends = [float(res.end_s[j]) for j, _ in spy.told]
    for now, known in spy.asked:
        assert all(e <= now for e in ends[:known])


@pytest.mark.parametrize("rules", [STANDARD_RULES, RLSCHEDULER_RULES], ids=["standard", "rlscheduler"])
def test_no_look_ahead_changing_a_run_time_changes_nothing_before_that_job_ends(rules: EngineRules) -> None:
    wl = user_workload()
    policy = QueuePolicy("pred", PRED, Backfill.EASY)
    a = simulate(wl, 16, policy, rules=rules)
    # a long job asking far more than it runs (3,000 s of a 90,000-s request), in mid-trace
    k = next(j for j in range(100, len(wl)) if wl.run_s[j] == 3_000.0 and wl.estimate_s[j] == 90_000.0)
    end_k = float(a.end_s[k])
    run = wl.run_s.copy()
    run[k] = 30_000.0  # same request, a different actual run time (unknown until the job ends)
    changed = Workload.from_columns(
        submit_s=wl.submit_s, run_s=run, estimate_s=wl.estimate_s, procs=wl.procs, user=wl.user
    )
    b = simulate(changed, 16, policy, rules=rules)
    before = a.start_s < end_k
    assert before.sum() >= 50  # a real prefix of the schedule
    assert np.array_equal(a.start_s[before], b.start_s[before])
    assert not np.array_equal(a.start_s, b.start_s)  # the change does matter later on


def test_prediction_changes_the_schedule_and_is_deterministic() -> None:
    wl = user_workload()
    policy = QueuePolicy("pred", PRED, Backfill.EASY)
    a, b = simulate(wl, 16, policy), simulate(wl, 16, policy)
    assert np.array_equal(a.start_s, b.start_s) and not np.isnan(a.start_s).any()
    blind = HuangheOrder(predict=False, predict_in_xf=False, promote_xf=5.0, procs_power=1.0, xf_power=0.5)
    c = simulate(wl, 16, QueuePolicy("blind", blind, Backfill.EASY))
    assert not np.array_equal(a.start_s, c.start_s)
    # without user ids there is no history: the predicting order is the blind one
    anon = Workload.from_columns(
        submit_s=wl.submit_s, run_s=wl.run_s, estimate_s=wl.estimate_s, procs=wl.procs
    )
    d = simulate(anon, 16, policy)
    e = simulate(anon, 16, QueuePolicy("blind", blind, Backfill.EASY))
    assert np.array_equal(d.start_s, e.start_s)
