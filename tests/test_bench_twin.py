"""The twin's fidelity (issue #12, deliverable 6): the comparison code, the fake back-end on the injected clock,
and a small workload replayed through the live job path and the simulator (the full run: bench/bench_twin.py)."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from huanghe.backends.protocol import BackendJobSpec
from huanghe.catalog.topology import load_topology
from huanghe.core.clock import FakeClock
from huanghe.domain.enums import JobState
from huanghe.domain.network import Topology
from huanghe.jobs.twin import (
    Replay,
    TwinBackend,
    compare,
    compress,
    head,
    replay_live,
    replay_sim,
    twin_topology,
)
from huanghe.sim.traces.workload_csv import WorkloadTable, load_workload_csv
from huanghe.sim.workload_builder import BuildOptions, build_workload, write_workload
from tests import jobs_testnet as net


def test_compare_counts_same_pools_and_jct_over_jobs_ended_on_both_sides() -> None:
    sim = Replay(
        pool={"a": "p1", "b": "p2", "c": "p1", "d": None},
        submit_s={"a": 0.0, "b": 10.0, "c": 20.0, "d": 0.0},
        end_s={"a": 100.0, "b": 110.0, "c": 220.0, "d": math.nan},
        wall_s=0.0,
    )
    live = Replay(
        pool={"a": "p1", "b": "p1", "c": "p1", "d": None},
        submit_s=dict(sim.submit_s),
        end_s={"a": 100.0, "b": 130.0, "c": math.nan, "d": math.nan},
        wall_s=0.0,
    )
    f = compare(live, sim)
    assert (f.jobs, f.same_pool, f.ended_both) == (4, 3, 2)  # "d" never placed on either side: same
    assert f.same_pool_share == 0.75
    assert f.mean_jct_sim_s == 100.0 and f.mean_jct_live_s == 110.0
    assert f.jct_rel_diff == pytest.approx(0.1) and f.mean_abs_jct_diff_s == 10.0


def test_the_twin_backend_runs_a_job_its_true_time_on_the_injected_clock() -> None:
    clock = FakeClock(100.0)
    be = TwinBackend(clock, {"job-1": 1.5})  # true duration 1.5 × the estimate
    spec = BackendJobSpec(command="true", duration_s=40.0, env={"HUANGHE_PLATFORM_JOB_ID": "job-1"})
    jid = be.submit(spec)
    assert be.next_end_s(100.0) == 160.0
    clock.set(159.0)
    assert be.status(jid).state == JobState.RUNNING
    clock.set(160.0)
    st = be.status(jid)
    assert st.state == JobState.SUCCEEDED and st.started_at == 100.0 and st.ended_at == 160.0
    assert be.next_end_s(160.0) == math.inf


def test_every_pool_of_the_twin_network_is_on_the_fake_backend_without_a_wall_time_cut() -> None:
    topo = twin_topology(load_topology("shandong-mini"))
    pools = [p for _, p in topo.pools()]
    assert len(pools) == len(load_topology("shandong-mini").pools())
    assert {p.backend for p in pools} == {"fake"}
    assert min(p.default_time_limit_s for p in pools) >= 300 * 86_400


@pytest.mark.parametrize("reconcile_first", [False, True])  # the shipped tick, and the attribution variant
def test_a_small_workload_places_and_ends_the_same_live_and_simulated(
    tmp_path: Path, reconcile_first: bool
) -> None:
    topo = load_topology("shandong-mini")
    path = tmp_path / "w.csv"
    write_workload(build_workload(topo, BuildOptions(seed=3, hours=0.25)), path)
    table, _ = load_workload_csv(path, topology=topo)
    table = compress(head(table, 150), 60.0)
    assert len(table) == 150
    sim = replay_sim(topo, table, "huanghe")
    live = replay_live(topo, table, "huanghe", tmp_path / "twin.db", reconcile_first=reconcile_first)
    assert live.states == {"SUCCEEDED": 150}, live.states
    assert sum(sim.states.values()) == 0, sim.states  # nothing unfinished in the simulator
    f = compare(live, sim)
    assert f.ended_both == 150
    assert f.same_pool_share >= 0.99, f.to_dict()
    assert abs(f.jct_rel_diff) <= 0.05, f.to_dict()


def _tiny(tmp_path: Path) -> tuple[Topology, WorkloadTable]:
    """Two 4-node CPU pools. At t=0 four 10-s jobs and four long ones fill both; at t=30 one more whole-node
    job arrives: at the 60 s tick the short jobs have ended (t=10), so it can start at once."""
    topo = net.topology(("fake", {}), ("fake", {}))
    rows = ["job_id,submit_s,duration_s,cpus,gpus,nodes,tenant,mem_gb"]
    rows += [f"short{i},0,10,16,0,1,a,8" for i in range(4)]
    rows += [f"long{i},0,10000,16,0,1,a,8" for i in range(4)]
    rows += ["late,30,100,16,0,1,b,8"]
    (tmp_path / "w.csv").write_text("\n".join(rows) + "\n")
    return topo, load_workload_csv(tmp_path / "w.csv", topology=topo)[0]


def test_reconciling_before_placing_makes_the_live_tick_match_the_simulator(tmp_path: Path) -> None:
    topo, table = _tiny(tmp_path)
    sim = replay_sim(topo, table, "huanghe")
    assert sim.end_s["late"] == 160.0  # started at the 60 s cycle, capacity freed at t=10
    live = replay_live(topo, table, "huanghe", tmp_path / "rf.db", reconcile_first=True)
    f = compare(live, sim)
    assert f.same_pool_share == 1.0 and f.mean_abs_jct_diff_s == pytest.approx(0.0)


def test_the_shipped_live_tick_matches_the_simulator_on_freed_capacity(tmp_path: Path) -> None:
    topo, table = _tiny(tmp_path)
    sim = replay_sim(topo, table, "huanghe")
    live = replay_live(topo, table, "huanghe", tmp_path / "live.db")
    assert live.end_s["late"] == sim.end_s["late"]  # placing before reconciling gave 220 s
