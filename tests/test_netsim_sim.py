"""Multi-center simulator: determinism, conservation, violations, temporal shifting and reservations end to end."""

from __future__ import annotations

import copy
import csv
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from huanghe.broker.policies import Weights
from huanghe.broker.snapshot import NetworkSnapshot
from huanghe.catalog.topology import parse_topology
from huanghe.core.clock import FakeClock
from huanghe.domain.network import Topology
from huanghe.sim.network_sim import NetworkSimResult, jobs_from_workload, simulate_network
from huanghe.sim.traces.workload_csv import load_workload_csv
from tests.broker_toy import TOY, toy_topology

HEADER = ["job_id", "submit_s", "duration_s", "cpus", "gpus", "nodes", "tenant", "deadline_s",
          "data_center", "data_gb", "data_class", "user_city", "latency_slo_ms", "kind"]  # fmt: skip


def write_csv(path: Path, rows: list[dict[str, object]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=HEADER)
        w.writeheader()
        for r in rows:
            w.writerow({k: r.get(k, "") for k in HEADER})
    return path


def random_rows(n: int, seed: int) -> list[dict[str, object]]:
    rng = np.random.default_rng(seed)
    rows: list[dict[str, object]] = []
    for i in range(n):
        gpu = rng.random() < 0.3
        sub = float(np.round(rng.uniform(0, 4 * 3600), 1))
        dur = float(np.round(rng.lognormal(7.5, 1.0), 1)) + 60
        row: dict[str, object] = {
            "job_id": f"j{i}",
            "submit_s": sub,
            "duration_s": dur,
            "cpus": 8 if gpu else int(rng.choice([8, 16, 32])),
            "gpus": int(rng.choice([1, 2, 8])) if gpu else 0,
            "nodes": int(rng.choice([1, 1, 1, 2, 4])),
            "tenant": f"t{int(rng.integers(4))}",
        }
        if rng.random() < 0.3:
            row["deadline_s"] = sub + dur * 2 + 6 * 3600
        if rng.random() < 0.2:
            row.update(data_center="jn", data_gb=20, data_class=str(rng.choice(["important", "core"])))
        rows.append(row)
    rows.append({"job_id": "huge", "submit_s": 10, "duration_s": 100, "cpus": 1000, "gpus": 0, "nodes": 1})
    return rows


@pytest.fixture(scope="module")
def workload(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_csv(tmp_path_factory.mktemp("wl") / "w.csv", random_rows(120, 7))


def cpu_only_in_zibo() -> Topology:
    """The toy network where only zb-cpu runs CPU jobs (the accelerator pools refuse them, the other CPU
    pools are gone)."""
    data: dict[str, Any] = copy.deepcopy(TOY)
    for center in data["centers"]:
        center["pools"] = [p for p in center["pools"] if p["id"] in ("zb-cpu", "jn-a100", "qd-910b")]
        for p in center["pools"]:
            if "speed" in p:
                p["speed"].update({"cpu": 0.0, "hpc": 0.0})
    return parse_topology(data, "<toy-zb>")


def run(
    workload: Path, policy: str, seed: int = 0, topo: Topology | None = None, weights: Weights | None = None
) -> NetworkSimResult:
    topo = topo or toy_topology()
    snap = NetworkSnapshot.from_topology(topo, FakeClock(0.0), carbon_shape="synthetic")
    table, _ = load_workload_csv(workload, topology=topo)
    return simulate_network(snap, jobs_from_workload(snap, table), policy, seed=seed, weights=weights)


@pytest.mark.parametrize(
    "policy", ["huanghe", "first-admit", "earliest-start", "earliest-completion", "cheapest", "spread"]
)
def test_deterministic_and_conserving(workload: Path, policy: str) -> None:
    a, b = run(workload, policy, seed=3), run(workload, policy, seed=3)
    ra, rb = a.records(), b.records()
    assert ra["start_s"] == rb["start_s"] or np.allclose(ra["start_s"], rb["start_s"], equal_nan=True)
    assert ra["pool"] == rb["pool"]
    ended = int((~np.isnan(a.end_s)).sum())
    assert ended + sum(a.unfinished.values()) == len(a.jobs)
    assert a.unfinished["infeasible"] == 1  # the 1000-core job fits no pool
    assert ended == len(a.jobs) - 1
    s = a.summary()
    assert s["jobs"] == ended
    assert sum(s["jobs_per_center"].values()) == ended
    assert s["cost_cny"] > 0 and s["carbon_kg"] > 0
    # no pool ever holds more node units than it has
    snap = a.snapshot
    ran = ~np.isnan(a.end_s)
    for p in range(snap.n_pools):
        sel = ran & (a.pool == p)
        t = np.concatenate([a.start_s[sel], a.end_s[sel]])
        d = np.concatenate([a.units[sel], -a.units[sel]])
        order = np.lexsort((d, t))  # ends before starts at equal times
        assert np.cumsum(d[order]).max(initial=0.0) <= snap.nodes_total[p] + 1e-6


def test_huanghe_has_no_residency_or_latency_violation(workload: Path) -> None:
    ours = run(workload, "huanghe").summary()["violations"]
    assert ours["residency"] == 0 and ours["latency"] == 0
    cheap = run(workload, "cheapest").summary()["violations"]
    assert cheap["residency"] > 0  # SkyPilot-like cheapest ignores data classes


def test_held_jobs_start_later_but_meet_their_deadline(tmp_path: Path) -> None:
    rows: list[dict[str, object]] = [
        {"job_id": "dl", "submit_s": 0, "duration_s": 3600, "cpus": 32, "gpus": 0, "nodes": 1,
         "deadline_s": 20 * 3600},
        {"job_id": "now", "submit_s": 0, "duration_s": 3600, "cpus": 32, "gpus": 0, "nodes": 1},
    ]  # fmt: skip
    # the relative threshold alone (Weights.shift_priced off): any hour 10 % cleaner is worth the wait
    r = run(write_csv(tmp_path / "d.csv", rows), "huanghe", weights=Weights(shift_priced=False))
    assert r.start_s[1] == 0.0
    assert r.start_s[0] >= 6 * 3600  # held from midnight into the sunny hours
    assert r.end_s[0] <= 20 * 3600
    assert r.summary()["violations"]["deadline"] == 0
    assert r.explanations[0] is not None and r.explanations[0]["winner"] is not None
    # priced (the default): six hours of waiting for a 1-hour job outweigh the grams it saves
    assert run(tmp_path / "d.csv", "huanghe").start_s[0] == 0.0


def test_reservation_lets_a_large_gang_start_despite_a_stream_of_small_jobs(tmp_path: Path) -> None:
    # zb-cpu (20 nodes of 32 cores) is the only pool a 20-node gang fits; 1-node jobs keep arriving there
    rows: list[dict[str, object]] = [
        {"job_id": f"s{i}", "submit_s": 30.0 * i, "duration_s": 3000, "cpus": 32, "gpus": 0, "nodes": 1}
        for i in range(200)
    ]
    rows.insert(1, {"job_id": "gang", "submit_s": 5.0, "duration_s": 600, "cpus": 32, "gpus": 0, "nodes": 20})
    path = write_csv(tmp_path / "g.csv", rows)
    topo = cpu_only_in_zibo()
    ours = run(path, "huanghe", topo=topo)
    fa = run(path, "first-admit", topo=topo)
    gang = 1
    assert ours.snapshot.pool_ids[ours.pool[gang]] == "zb-cpu"
    # with a reservation the gang starts once the nodes running at its arrival are done (~3,000 s)
    assert ours.start_s[gang] <= 3000 + 60
    # MultiKueue-like first-admit keeps admitting small jobs: the gang waits for the stream to end
    assert fa.start_s[gang] > 6000
    assert not np.isnan(ours.end_s).any()
