"""The simulator's run-time prediction option (docs/bench-broker-policies.md, "Tried and rejected"): the broker's
view uses each tenant's last two finished runs capped by the request; the pools' own queues keep the request.

Off by default: the same records as before. On: the predictor learns only from jobs that finished (no
look-ahead), the broker's backlog of a pool is smaller when requests overestimate, and a running job that outlives
its prediction is expected to end at its request again.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from huanghe.broker.snapshot import NetworkSnapshot
from huanghe.core.clock import FakeClock
from huanghe.sim.network_jobs import NetworkJobs
from huanghe.sim.network_sim import NetworkSimulation, _Pools, jobs_from_workload, simulate_network
from huanghe.sim.traces.workload_csv import load_workload_csv
from tests.broker_toy import toy_topology

HEADER = "job_id,submit_s,duration_s,estimate_s,cpus,gpus,nodes,tenant\n"


def _workload(path: Path) -> Path:
    """Tenant a asks for 10 × its runs (600 s runs, 6000 s requests); tenant b asks for exactly its runs."""
    rows = [f"a{i},{i * 30},600,6000,8,0,1,a" for i in range(40)]
    rows += [f"b{i},{i * 30 + 15},600,600,8,0,1,b" for i in range(40)]
    path.write_text(HEADER + "\n".join(rows) + "\n", encoding="utf-8")
    return path


@pytest.fixture()
def setup(tmp_path: Path) -> tuple[NetworkSnapshot, NetworkJobs]:
    topo = toy_topology()
    snap = NetworkSnapshot.from_topology(topo, FakeClock(0.0))
    table, _ = load_workload_csv(_workload(tmp_path / "w.csv"), topology=topo)
    return snap, jobs_from_workload(snap, table)


def test_off_by_default_and_the_same_records(setup: tuple[NetworkSnapshot, NetworkJobs]) -> None:
    snap, jobs = setup
    a = simulate_network(snap, jobs, "huanghe", explain=False)
    b = simulate_network(snap, jobs, "huanghe", explain=False, runtime_prediction=False)
    assert np.array_equal(a.start_s, b.start_s) and np.array_equal(a.pool, b.pool)


def test_prediction_learns_from_finished_jobs_only(setup: tuple[NetworkSnapshot, NetworkJobs]) -> None:
    snap, jobs = setup
    sim = NetworkSimulation(snap, jobs, "huanghe", explain=False, runtime_prediction=True)
    a = int(jobs.tenant[0])
    assert sim._estimate_s(0) == 6000.0  # nothing finished yet: the request
    res = sim.run()
    assert res.unfinished["running"] == 0 and np.isfinite(res.end_s).all()
    assert sim._estimate_s(0) == pytest.approx(600.0)  # a's last runs were 600 s: 10 × shorter than asked
    b0 = next(j for j in range(len(res.end_s)) if int(jobs.tenant[j]) != a)
    assert sim._estimate_s(b0) == pytest.approx(600.0)  # never above the request


def _backlog(sim: NetworkSimulation, snap: NetworkSnapshot, t: float) -> float:
    """Pool 0's backlog (s) at ``t`` with two of tenant a's jobs queued and one running (request end 9000 s)."""
    pools = _Pools(snap)
    pools.queue[0].extend([0, 2])
    pools.running[0][4] = (9000.0, 1.0)
    return float(sim._snapshot(t, pools).backlog_s[0])


def test_backlog_uses_predictions_and_outlived_predictions_fall_back(
    setup: tuple[NetworkSnapshot, NetworkJobs],
) -> None:
    snap, jobs = setup
    on = NetworkSimulation(snap, jobs, "huanghe", explain=False, runtime_prediction=True)
    off = NetworkSimulation(snap, jobs, "huanghe", explain=False)
    on._predictor.observe(int(jobs.tenant[0]), 600.0)
    on._view_end[4] = 700.0  # the running job started at 100 s: predicted end 700 s, request end 9000 s
    assert _backlog(on, snap, 100.0) < _backlog(off, snap, 100.0) / 5  # 600 s runs, not 6000 s requests
    assert on._broker_end(4, 9000.0, 100.0) == 700.0
    assert on._broker_end(4, 9000.0, 800.0) == 9000.0  # outlived its prediction: the request again
