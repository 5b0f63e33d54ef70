"""Estimates and explanations on the toy network, with hand-computed values and a known carbon signal."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from huanghe.broker.batch import JobBatch
from huanghe.broker.carbon import HOURS_PER_YEAR, CarbonSignal
from huanghe.broker.estimates import estimate, fits_now, run_s, transfer_s
from huanghe.broker.explain import Explanation, explain
from huanghe.broker.filters import apply_filters
from huanghe.broker.snapshot import NetworkSnapshot
from huanghe.catalog.geo import haversine_km
from huanghe.core.clock import FakeClock
from tests.broker_toy import toy_topology

JN_A100, ZB_CPU, QD_910B, QD_CPU = 1, 2, 3, 4


def signal() -> CarbonSignal:
    """jn 0.3 kg/kWh except 0.9 in hour 1; zb 0.6; qd 0.48 (already net of renewables)."""
    h = np.repeat(np.array([[0.3], [0.6], [0.48]]), HOURS_PER_YEAR, axis=1)
    h[0, 1] = 0.9
    return CarbonSignal(h, "test")


@pytest.fixture(scope="module")
def snap() -> NetworkSnapshot:
    return NetworkSnapshot.from_topology(toy_topology(), FakeClock(1800.0), carbon=signal())


@pytest.fixture(scope="module")
def jobs(snap: NetworkSnapshot) -> JobBatch:
    return JobBatch.from_records(
        snap,
        [
            {
                "job_id": "train",
                "kind": "gpu",
                "cpus": 8,
                "gpus": 2,
                "mem_gb": 64,
                "duration_s": 3600,
                "data_gb": 100,
                "data_center": "zb",
                "submit_s": 1800,
                "deadline_s": 1900,
            },
            {"job_id": "batch", "kind": "cpu", "cpus": 32, "nodes": 2, "duration_s": 7200},
        ],
    )


def lat_zb_qd() -> float:
    return 1.5 * haversine_km(118.05, 36.78, 120.33, 36.07) * 0.0049 + 2 * 0.05


def test_transfer_time(snap: NetworkSnapshot, jobs: JobBatch) -> None:
    t = transfer_s(snap, jobs)
    # 100 GB from zb: to jn over 100 Gbps + 0.7 ms; to qd over the 10 Gbps default; local in zb
    assert t[0, JN_A100] == pytest.approx(8.0 + 0.0007)
    assert t[0, QD_910B] == pytest.approx(80.0 + lat_zb_qd() / 1000)
    assert t[0, ZB_CPU] == 0.0
    assert (t[1] == 0).all()  # no input data


def test_run_time_scaled_by_speed(snap: NetworkSnapshot, jobs: JobBatch) -> None:
    r = run_s(snap, jobs)
    assert r[0, JN_A100] == 1800.0 and r[0, QD_910B] == 3600.0
    assert r[1, QD_CPU] == pytest.approx(7200 / 1.25) and r[1, ZB_CPU] == 7200.0


def test_energy_cost_carbon_by_hand(snap: NetworkSnapshot, jobs: JobBatch) -> None:
    e = estimate(snap, jobs)
    # train on jn-a100: share max(8/96, 2/8, 64/1024) = 0.25, 0.5 h at 4 kW, PUE 1.2, 200 CNY/node-h
    assert e.share[0, JN_A100] == 0.25
    assert e.wait_s[0, JN_A100] == 0.0 and e.fits_now[0, JN_A100]
    assert e.start_s[0, JN_A100] == pytest.approx(1808.0007)
    assert e.end_s[0, JN_A100] == pytest.approx(3608.0007)
    assert e.energy_it_kwh[0, JN_A100] == pytest.approx(0.5)
    assert e.energy_facility_kwh[0, JN_A100] == pytest.approx(0.6)
    assert e.cost_cny[0, JN_A100] == pytest.approx(25.0)
    # the run crosses the hour boundary at 3600 s: 1791.9993 s at 0.3 and 8.0007 s at 0.9
    mean = (1791.9993 * 0.3 + 8.0007 * 0.9) / 1800.0
    assert e.carbon_kg[0, JN_A100] == pytest.approx(0.6 * mean)
    # train on qd-910b: 1 h at 5 kW x 0.25, PUE 1.3, 150 CNY/node-h, 0.48 kg/kWh
    assert e.energy_it_kwh[0, QD_910B] == pytest.approx(1.25)
    assert e.cost_cny[0, QD_910B] == pytest.approx(37.5)
    assert e.carbon_kg[0, QD_910B] == pytest.approx(1.625 * 0.48)
    # deadline: 1800 + 1900 = 3700 s; jn ends at 3608, qd at 1800 + 80 + 3600
    assert e.deadline_ok[0, JN_A100] and not e.deadline_ok[0, QD_910B]
    assert e.deadline_ok[1].all()  # no deadline
    # batch (2 nodes x 32 cores): zb-cpu whole nodes for 2 h; qd-cpu half nodes for 1.6 h
    assert e.energy_it_kwh[1, ZB_CPU] == pytest.approx(2 * 1.0 * 2.0 * 0.4)
    assert e.energy_facility_kwh[1, ZB_CPU] == pytest.approx(1.6 * 1.5)
    assert e.cost_cny[1, ZB_CPU] == pytest.approx(24.0)
    assert e.carbon_kg[1, ZB_CPU] == pytest.approx(2.4 * 0.6)
    assert e.energy_it_kwh[1, QD_CPU] == pytest.approx(2 * 0.5 * 1.6 * 0.5)
    assert e.cost_cny[1, QD_CPU] == pytest.approx(12.8)
    assert e.carbon_kg[1, QD_CPU] == pytest.approx(0.8 * 1.3 * 0.48)
    # a pair that cannot run (train on a CPU pool) has no energy figures
    assert math.isnan(e.cost_cny[0, ZB_CPU]) and math.isnan(e.carbon_kg[0, ZB_CPU])


def test_start_time_from_queue(snap: NetworkSnapshot, jobs: JobBatch) -> None:
    busy = (
        snap.with_allocation(JN_A100, nodes=3, cpus=0, gpus=8, mem_gb=0)
        .with_allocation(JN_A100, nodes=1, cpus=0, gpus=7, mem_gb=0)
        .with_queue([0, 0, 0, 2, 0], [0, 600.0, 0, 300.0, 0])
    )
    now = fits_now(busy, jobs)
    assert not now[0, JN_A100] and not now[0, QD_910B]  # 1 GPU left; qd has a queue
    e = estimate(busy, jobs)
    assert e.wait_s[0, JN_A100] == 600.0
    assert e.start_s[0, JN_A100] == pytest.approx(1800 + 600)  # the transfer (8 s) hides behind the wait
    assert e.start_s[0, QD_910B] == pytest.approx(1800 + 300)
    # the 2-node gang needs 2 whole free nodes in zb-cpu
    tight = busy.with_allocation(ZB_CPU, nodes=19, cpus=32, gpus=0, mem_gb=0)
    assert not fits_now(tight, jobs)[1, ZB_CPU] and fits_now(busy, jobs)[1, ZB_CPU]


def test_explanation_contents_and_json(snap: NetworkSnapshot, jobs: JobBatch) -> None:
    s2 = snap.with_health([True, True, False])
    rep = apply_filters(s2, jobs)
    e = estimate(s2, jobs)
    ex = explain(
        s2,
        rep,
        1,
        "batch",
        e.cost_cny[1],
        terms={"cost_term": e.cost_cny[1] / 10},
        estimates=e,
        policy="cheapest",
    )
    assert ex.candidates == 5 and ex.feasible == 3  # jn-cpu, jn-a100, zb-cpu
    assert [(r.reason, r.count, r.pool_ids) for r in ex.removed] == [("unhealthy", 2, ["qd-910b", "qd-cpu"])]
    # jn-cpu: 2 x 0.5 x 2 h x 10 = 20 CNY; zb-cpu: 24; jn-a100: 2 x 1/3 x 2 x 200 = 266.7
    assert ex.winner is not None and ex.runner_up is not None
    assert (ex.winner.pool, ex.winner.center, ex.winner.score) == ("jn-cpu", "jn", pytest.approx(20.0))
    assert (ex.runner_up.pool, ex.runner_up.score) == ("zb-cpu", pytest.approx(24.0))
    assert ex.winner.terms["cost_term"] == pytest.approx(2.0)
    assert ex.winner.terms["run_s"] == 7200.0 and ex.runner_up.terms["energy_it_kwh"] == pytest.approx(1.6)
    data = json.loads(ex.to_json())
    assert data["policy"] == "cheapest" and data["removed"][0]["reason"] == "unhealthy"
    assert Explanation.from_dict(data) == ex


def test_explanation_with_chosen_pool_and_none_feasible(snap: NetworkSnapshot, jobs: JobBatch) -> None:
    rep = apply_filters(snap, jobs)
    scores = np.array([1.0, 2.0, 3.0, math.inf, 0.5])
    ex = explain(snap, rep, 1, "batch", scores, chosen=2)
    assert ex.winner is not None and ex.winner.pool == "zb-cpu"
    assert ex.runner_up is not None and ex.runner_up.pool == "qd-cpu"
    with pytest.raises(ValueError, match="not feasible"):
        explain(snap, rep, 0, "train", scores, chosen=0)  # a GPU job on a CPU pool
    inf = explain(snap, rep, 0, "train", np.full(5, math.inf))
    assert inf.to_dict()["winner"]["score"] is None  # non-finite floats become null in JSON
    empty = explain(
        snap.with_health([False, False, False]),
        apply_filters(snap.with_health([False] * 3), jobs),
        0,
        "t",
        scores,
    )
    assert empty.winner is None and empty.runner_up is None and not empty.placed
    assert "no feasible pool" in empty.note and empty.removed[0].count == 5
