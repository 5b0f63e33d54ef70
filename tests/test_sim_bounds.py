"""Lower bounds (huanghe/sim/bounds.py) and the simulator's data transfers: the bounds are below every policy's
result on small workloads, exact for a lone job, and the range minimum matches brute force."""

from __future__ import annotations

import csv
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from huanghe.broker.policies import BROKER_POLICIES, EARLIEST_COMPLETION, EARLIEST_START, HUANGHE
from huanghe.broker.snapshot import NetworkSnapshot
from huanghe.core.clock import FakeClock
from huanghe.sim.bounds import lower_bounds, window_min_intensity
from huanghe.sim.network_jobs import NetworkJobs
from huanghe.sim.network_result import NetworkSimResult
from huanghe.sim.network_sim import jobs_from_workload, simulate_network
from huanghe.sim.traces.workload_csv import load_workload_csv
from tests.broker_toy import toy_topology

HEADER = ["job_id", "submit_s", "duration_s", "estimate_s", "cpus", "gpus", "nodes", "tenant", "deadline_s",
          "data_center", "data_gb", "data_class", "user_city", "latency_slo_ms", "kind"]  # fmt: skip
#: policies that keep every rule (residency, latency): the rules-"all" bound applies to them
RULE_KEEPING = (HUANGHE, EARLIEST_START, EARLIEST_COMPLETION)


def snap() -> NetworkSnapshot:
    return NetworkSnapshot.from_topology(toy_topology(), FakeClock(0.0), carbon_shape="synthetic")


def load_jobs(tmp: Path, rows: list[dict[str, Any]]) -> NetworkJobs:
    path = tmp / "w.csv"
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=HEADER)
        w.writeheader()
        for r in rows:
            w.writerow({k: r.get(k, "") for k in HEADER})
    table, _ = load_workload_csv(path, topology=toy_topology())
    return jobs_from_workload(snap(), table)


def random_rows(n: int, seed: int) -> list[dict[str, Any]]:
    """CPU and GPU jobs, a third with a deadline, half with input data on one of the three centers, some
    inference jobs with an SLO; estimates above the true run time."""
    rng = np.random.default_rng(seed)
    rows: list[dict[str, Any]] = []
    for i in range(n):
        gpu = rng.random() < 0.3
        sub = float(np.round(rng.uniform(0, 6 * 3600), 1))
        dur = float(np.round(rng.lognormal(7.5, 1.0), 1)) + 60
        row: dict[str, Any] = {
            "job_id": f"j{i}",
            "submit_s": sub,
            "duration_s": dur,
            "estimate_s": round(dur * float(rng.uniform(1.0, 2.0)), 1),
            "cpus": 8 if gpu else int(rng.choice([8, 16, 32])),
            "gpus": int(rng.choice([1, 2, 8])) if gpu else 0,
            "nodes": int(rng.choice([1, 1, 1, 2, 4])),
            "tenant": f"t{int(rng.integers(4))}",
        }
        if rng.random() < 0.3:
            row["deadline_s"] = sub + dur * 3 + 6 * 3600
        if rng.random() < 0.5:
            row.update(
                data_center=str(rng.choice(["jn", "zb", "qd"])), data_gb=float(rng.choice([5, 200, 2000]))
            )
            if row["data_center"] == "jn" and rng.random() < 0.5:
                row["data_class"] = "important"
        if gpu and rng.random() < 0.2:
            row.update(kind="inference", user_city="jinan", latency_slo_ms=3, gpus=1, nodes=1)
        rows.append(row)
    return rows


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> NetworkJobs:
    return load_jobs(tmp_path_factory.mktemp("b"), random_rows(150, 3))


@pytest.fixture(scope="module")
def results(small: NetworkJobs) -> dict[str, NetworkSimResult]:
    s = snap()
    return {p: simulate_network(s, small, p, seed=1, explain=False, transfers=True) for p in BROKER_POLICIES}


def test_every_job_ends(results: dict[str, NetworkSimResult]) -> None:
    for name, res in results.items():
        assert sum(res.unfinished.values()) == 0, name


def test_jct_bound_below_every_policy_per_job(
    small: NetworkJobs, results: dict[str, NetworkSimResult]
) -> None:
    s = snap()
    rules = lower_bounds(s, small, rules="all").jct_s
    hard = lower_bounds(s, small, rules="hard").jct_s
    assert np.all(hard <= rules + 1e-9) and np.isfinite(rules).all()
    for name, res in results.items():
        jct = res.end_s - small.batch.submit_s
        assert np.all(jct >= hard - 1e-6), name
        if name in RULE_KEEPING:
            assert np.all(jct >= rules - 1e-6), name
            assert jct.mean() >= rules.mean()
    # the bound is not vacuous: many jobs end within one broker cycle (60 s) of it
    jct = results[EARLIEST_COMPLETION].end_s - small.batch.submit_s
    assert ((jct - rules) <= 60.0 + 1e-6).mean() > 0.3


def test_carbon_bound_below_every_policy(small: NetworkJobs, results: dict[str, NetworkSimResult]) -> None:
    s = snap()
    strict = lower_bounds(s, small, rules="hard", slack_s=None).carbon_kg
    day = lower_bounds(s, small, rules="hard").carbon_kg
    rules_day = lower_bounds(s, small, rules="all").carbon_kg
    assert np.all(strict <= day + 1e-12) and np.all(day <= rules_day + 1e-12)
    dl = small.deadline_abs_s
    for name, res in results.items():
        met = np.isnan(dl) | (res.end_s <= dl + 1e-9)  # the bound covers schedules that meet deadlines
        assert np.all(res.carbon_kg[met] >= strict[met] * (1 - 1e-9)), name
        waited = res.start_s - small.batch.submit_s
        ok = met & (~np.isnan(dl) | (waited <= 86400.0))
        assert np.all(res.carbon_kg[ok] >= day[ok] * (1 - 1e-9)), name
        if name in RULE_KEEPING:
            assert np.all(res.carbon_kg[ok] >= rules_day[ok] * (1 - 1e-9)), name
        assert res.carbon_kg.sum() >= strict.sum()


def test_lone_job_reaches_the_bound_with_its_transfer(tmp_path: Path) -> None:
    """One CPU job whose 2 TB input sits in Zibo: the bound is min over pools of transfer + run, which the
    simulator (transfers charged) reproduces exactly for earliest-completion at an uncontended start."""
    jobs = load_jobs(tmp_path, [{"job_id": "a", "submit_s": 0, "duration_s": 3600, "cpus": 16, "gpus": 0,
                                 "nodes": 1, "data_center": "zb", "data_gb": 2000}])  # fmt: skip
    s = snap()
    b = lower_bounds(s, jobs)
    speed = s.speed[:, jobs.batch.kind[0]]
    cpu = [p for p in range(s.n_pools) if s.gpus_per_node[p] == 0 and speed[p] > 0]
    by_hand = []
    for p in cpu:
        src, dst = s.center_ids.index("zb"), int(s.pool_center[p])
        xfer = 0.0 if dst == src else 2000 * 8 / s.bandwidth_gbps[src, dst] + s.latency_ms[src, dst] / 1000
        by_hand.append(xfer + 3600 / speed[p])
    assert b.jct_s[0] <= min(by_hand) + 1e-9
    res = simulate_network(s, jobs, EARLIEST_COMPLETION, transfers=True)
    assert math.isclose(float(res.end_s[0]), float(b.jct_s[0]), rel_tol=1e-9)
    no_xfer = lower_bounds(s, jobs, transfers=False)
    assert no_xfer.jct_s[0] <= b.jct_s[0]


def test_transfer_delays_the_start_only_when_charged(tmp_path: Path) -> None:
    """A job pinned (core data) to Jinan's CPU pool with its input in Jinan starts at once; the same job with
    its input in Qingdao (general data, 40 Gbps) starts after the transfer only when transfers are charged."""
    s = snap()
    row = {"job_id": "a", "submit_s": 0, "duration_s": 600, "cpus": 64, "gpus": 0, "nodes": 10,
           "data_center": "qd", "data_gb": 1000}  # fmt: skip
    jobs = load_jobs(tmp_path, [row])
    on = simulate_network(s, jobs, HUANGHE, transfers=True)
    off = simulate_network(s, jobs, HUANGHE, transfers=False)
    p = int(on.pool[0])
    src, dst = s.center_ids.index("qd"), int(s.pool_center[p])
    xfer = 0.0 if src == dst else 1000 * 8 / s.bandwidth_gbps[src, dst] + s.latency_ms[src, dst] / 1000
    assert float(on.start_s[0]) == pytest.approx(xfer)
    assert float(off.start_s[0]) == 0.0


def test_window_min_matches_brute_force() -> None:
    s = snap()
    rng = np.random.default_rng(0)
    start = rng.uniform(0, 400 * 3600, size=300)
    end = start + rng.uniform(0, 90 * 3600, size=300)
    end[::7] = np.nan
    got = window_min_intensity(s, start, end)
    hourly = s.carbon.hourly_kg_per_kwh
    for j in range(300):
        if math.isnan(end[j]):
            want = hourly.min(axis=1)
        else:
            hours = np.arange(int(start[j] // 3600), int(end[j] // 3600) + 1) % hourly.shape[1]
            want = hourly[:, hours].min(axis=1)
        assert np.array_equal(got[j], want), j
    one = window_min_intensity(s, start, end, centers=[1])
    assert np.array_equal(one[:, 0], got[:, 1])


def test_bad_rules_name_the_field(small: NetworkJobs) -> None:
    with pytest.raises(ValueError, match="rules"):
        lower_bounds(snap(), small, rules="some")  # type: ignore[arg-type]
