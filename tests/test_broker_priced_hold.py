"""Priced temporal shifting (issue #15, ``Weights.shift_priced``): a job is held for a greener hour only when the
carbon terms it saves outweigh the completion terms the wait adds, at the score's own weights. Toy network of
tests/broker_toy.py with the synthetic solar shape (lowest around noon); ``t = 0`` is midnight."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from huanghe.broker.batch import JobBatch
from huanghe.broker.policies import HUANGHE, CycleContext, Status, Weights, greener_start_s, run_cycle
from huanghe.broker.scoring import priced_start_s
from huanghe.broker.snapshot import NetworkSnapshot
from huanghe.core.clock import FakeClock
from tests.broker_toy import toy_topology

#: one hour on one 32-core node, may finish up to a day after submission (the held-out families' deadlines)
JOB: dict[str, Any] = {
    "job_id": "dl",
    "kind": "cpu",
    "cpus": 32,
    "nodes": 1,
    "duration_s": 3600,
    "deadline_s": 24 * 3600.0,
}


def snap_at(t_s: float = 0.0) -> NetworkSnapshot:
    return NetworkSnapshot.from_topology(toy_topology(), FakeClock(t_s), carbon_shape="synthetic")


def test_short_job_is_not_held_half_a_day_for_a_few_grams() -> None:
    snap = snap_at(0.0)
    jobs = JobBatch.from_records(snap, [JOB])
    # the relative threshold alone holds it until late morning (the gpu-train 5 x bound of issue #15)
    unpriced = run_cycle(HUANGHE, snap, jobs, CycleContext(weights=Weights(shift_priced=False)))
    assert unpriced.status[0] == Status.HELD and unpriced.hold_until_s[0] >= 6 * 3600
    # priced (the default): ~0.1 kg saved against 6+ hours of waiting for a 1-hour job -> it starts now
    assert Weights().shift_priced
    res = run_cycle(HUANGHE, snap, jobs)
    assert res.status[0] == Status.PLACED and res.pool[0] >= 0
    k, p = int(res.class_of[0]), int(res.pool[0])
    saved_kg = float(res.estimates.carbon_kg[k, p]) * 0.5  # at most half of its carbon could be saved
    assert saved_kg < 1.0  # far below the 6 units (hours x completion_abs) the wait would add


def test_held_when_the_carbon_saved_is_worth_the_wait() -> None:
    snap = snap_at(0.0)
    jobs = JobBatch.from_records(snap, [JOB])
    # a kilogram priced at 1,000 units: the same job is worth holding, within its deadline
    w = Weights(shift_priced=True, carbon_abs_per_kg=1000.0)
    res = run_cycle(HUANGHE, snap, jobs, CycleContext(weights=w))
    assert res.status[0] == Status.HELD and res.pool[0] < 0
    hold = float(res.hold_until_s[0])
    assert 0 < hold <= 24 * 3600 - 3600 * (1 + w.shift_margin) - 60
    assert "greener hour" in res.explanation(0).note


@pytest.mark.parametrize("now_h", [0.0, 5.5, 13.0, 20.25])
def test_priced_start_between_never_and_the_greenest_hour(now_h: float) -> None:
    snap = snap_at()
    now, latest, run = now_h * 3600, now_h * 3600 + 20 * 3600, 7200.0
    free_wait = Weights(completion=0.0, completion_abs=0.0, shift_min_gain=0.05)
    greenest = greener_start_s(snap, 0, now, run, latest, 0.05, 48)
    # waiting costs nothing: the greenest hour (or none when no hour is 5 % cleaner)
    assert priced_start_s(snap, 0, now, run, latest, 100.0, run, 10.0, free_wait) == greenest
    # waiting costs a lot per hour: never held
    dear = Weights(completion_abs=1e6, shift_min_gain=0.05)
    assert priced_start_s(snap, 0, now, run, latest, 100.0, run, 10.0, dear) is None
    # in between: a start within (now, latest], no later than needed to be worth it
    mid = Weights(shift_min_gain=0.05, carbon_abs_per_kg=10.0)
    t = priced_start_s(snap, 0, now, run, latest, 100.0, run, 10.0, mid)
    if t is not None:
        assert now < t <= latest
        span = np.array([now, t])
        mean = snap.carbon.mean_intensity_kg_per_kwh(np.zeros(2, np.int64), span, span + run)
        assert mean[1] <= mean[0] * 0.95


def test_priced_start_may_settle_for_an_earlier_hour_than_the_greenest() -> None:
    snap = snap_at()
    now, latest, run = 5.5 * 3600, 25.5 * 3600, 7200.0
    greenest = greener_start_s(snap, 0, now, run, latest, 0.05, 48)
    w = Weights(shift_min_gain=0.05, carbon_abs_per_kg=0.3)
    t = priced_start_s(snap, 0, now, run, latest, 100.0, run, 10.0, w)
    # the last hours of the dip save too little more carbon for the extra wait
    assert greenest is not None and t is not None and now < t < greenest
