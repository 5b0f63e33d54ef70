"""The live loop places on what can run (issue #12): GPU jobs go to a pool whose back-end can run them (the
dev set-up's ``simulated`` back-end, clearly labelled), CPU work stays off accelerator pools while a CPU pool
has room, and a GPU job no back-end can run fails at placement with the back-end's reason."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from fastapi.testclient import TestClient

from huanghe.api.app import create_app
from huanghe.catalog.topology import loads_topology
from huanghe.domain.network import Topology
from huanghe.jobs.settings import DispatchSettings
from huanghe.settings import Settings
from tests import jobs_testnet as net
from tests.test_jobs_api import TERMINAL, wait_for


def _gpu_pool(pid: str, backend: str, settings: dict[str, str]) -> dict[str, Any]:
    """An A100 pool three times as fast as the CPU pool for CPU work (tempting for it) and as cheap per core."""
    return {
        "id": pid, "name": pid, "accelerator": "A100", "accelerator_class": "gpu", "cpu_model": "test",
        "nodes": 2, "cpus_per_node": 64, "gpus_per_node": 8, "mem_gb_per_node": 512,
        "peak_tflops_per_node": {"fp64": 9.7, "fp32": 19.5}, "power_kw_per_node": 0.5,
        "price_cny_per_hour": 16.0, "speed": {"cpu": 3.0, "hpc": 3.0, "gpu": 1.0}, "backend": backend,
        "backend_settings": settings,
    }  # fmt: skip


def _network(tmp_path: Path, gpu_backend: str) -> Topology:
    """Jinan: one CPU pool on local. Qingdao: one A100 pool on ``gpu_backend``."""
    data = yaml.safe_load(net.MINI.read_text())
    for c in data["centers"]:
        if c["id"] == "jn-sc":
            c["pools"] = [net._pool("jn-sc-cpu", 1.0, *net.local(tmp_path / "jn"))]
        elif c["id"] == "qd-ai":
            settings = net.local(tmp_path / "qd")[1] if gpu_backend == "local" else {}
            c["pools"] = [_gpu_pool("qd-ai-a100", gpu_backend, settings)]
        else:
            c["pools"] = []
    return loads_topology(yaml.safe_dump(data, allow_unicode=True))


def _client(tmp_path: Path, gpu_backend: str, policy: str = "huanghe") -> TestClient:
    url = f"sqlite:///{tmp_path / 'jobs.db'}"
    net.prepare_db(url, _network(tmp_path, gpu_backend))
    app = create_app(Settings(database_url=url, migrate_on_startup=False))
    app.state.scheduler_settings = DispatchSettings(
        enabled=True, interval_s=0.05, health_interval_s=0.5, lease_ttl_s=2, policy=policy
    )
    return TestClient(app)


def test_a_gpu_job_runs_simulated_and_labelled_on_the_dev_set_up(tmp_path: Path) -> None:
    with _client(tmp_path, "simulated") as c:
        body = {"command": "nvidia-smi", "gpus": 1, "kind": "gpu", "duration_s": 1, "name": "smi"}
        r = c.post("/api/v1/jobs", json=body)
        assert r.status_code == 201, r.text
        job = wait_for(c, r.json()["id"], TERMINAL)
        assert job["state"] == "SUCCEEDED", job
        assert job["pool"] == "qd-ai-a100" and job["backend"] == "simulated"
        assert "SIMULATED" in job["message"], job["message"]
        # it ran for its estimate (1 s at speed 1), not instantly
        assert job["ended_s"] - job["started_s"] >= 0.9
        logs = c.get(f"/api/v1/jobs/{job['id']}/logs").json()
        assert "SIMULATED run, NOT executed" in logs["data"] and "nvidia-smi" in logs["data"]
        described = c.get("/api/v1/backends/simulated").json()
        assert described["simulated"] is True
        gpus = next(x for x in described["capabilities"] if x["name"] == "gpus")
        assert gpus["supported"] is True
        assert c.get("/api/v1/backends/local").json()["simulated"] is False


def test_a_gpu_job_no_backend_can_run_fails_at_placement_naming_the_backend(tmp_path: Path) -> None:
    with _client(tmp_path, "local") as c:
        r = c.post("/api/v1/jobs", json={"command": "nvidia-smi", "gpus": 1, "kind": "gpu", "name": "smi"})
        job = wait_for(c, r.json()["id"], TERMINAL)
        assert job["state"] == "FAILED", job
        assert "DISPATCHED" not in [h["state"] for h in job["history"]]  # never handed to a back-end
        assert "backend local cannot run gpus" in job["message"], job["message"]


@pytest.mark.parametrize("policy", ["huanghe", "earliest-completion"])  # ours, and the live default
def test_cpu_work_stays_on_the_cpu_pool_while_it_has_room(tmp_path: Path, policy: str) -> None:
    with _client(tmp_path, "simulated", policy) as c:
        r = c.post("/api/v1/jobs", json={"command": "echo hello", "cpus": 1, "name": "hello"})
        job = wait_for(c, r.json()["id"], TERMINAL)
        assert job["state"] == "SUCCEEDED", job
        assert job["pool"] == "jn-sc-cpu" and job["backend"] == "local"
        assert "hello" in c.get(f"/api/v1/jobs/{job['id']}/logs").json()["data"]
        # 8 more one-core jobs (the CPU pool has 64 cores): none takes the faster A100 nodes
        ids = [
            c.post("/api/v1/jobs", json={"command": "true", "cpus": 1, "name": f"c{i}"}).json()["id"]
            for i in range(8)
        ]
        pools = {wait_for(c, i, TERMINAL)["pool"] for i in ids}
        assert pools == {"jn-sc-cpu"}, pools


# ------------------------------------------------------------------------------ one call, one context
T0 = 1_000_000.0
#: (id, tenant, priority, cpus, mem_gb, duration_s, submit_s, pool or None, started_s)
RUNNING = [
    ("r1", "a", 0, 16, 64, 1000.0, T0 - 900, "jn-sc-cpu", T0 - 100),
    ("r2", "a", 0, 16, 64, 2000.0, T0 - 800, "jn-sc-cpu", T0 - 50),
    ("r3", "a", 0, 16, 64, 4000.0, T0 - 700, "qd-ai-cpu", T0 - 600),
    ("r4", "b", 0, 16, 64, 9000.0, T0 - 600, "qd-ai-cpu", T0 - 500),
]
QUEUE = [
    ("p1", "a", 0, 16, 64, 3000.0, T0 - 40, None, None),
    ("p2", "b", 0, 16, 64, 3000.0, T0 - 30, None, None),
    ("p3", "b", 0, 8, 32, 100.0, T0 - 20, None, None),
    ("p4", "c", 3, 16, 64, 600.0, T0 - 10, None, None),
    ("p5", "a", 0, 16, 64, 5000.0, T0 - 5, None, None),
    ("p6", "c", 0, 4, 16, 50.0, T0 - 1, None, None),
]


def _live_decisions(tmp_path: Path, topo: Topology, interval_s: float) -> dict[str, str | None]:
    """One placement tick of the live loop on a store holding RUNNING and QUEUE: job id → pool (None)."""
    from huanghe.core.clock import FakeClock
    from huanghe.jobs.backend_cache import BackendCache
    from huanghe.jobs.dispatch_context import DispatchContext, TickReport
    from huanghe.jobs.models import JobRow
    from huanghe.jobs.placing import Placer
    from huanghe.store.db import make_session_factory

    url = f"sqlite:///{tmp_path / 'same.db'}"
    net.prepare_db(url, topo)
    sf = make_session_factory(url)
    try:
        with sf() as s:
            for jid, tenant, prio, cpus, mem, dur, sub, pool, started in RUNNING + QUEUE:
                spec = {"command": "true", "cpus": cpus, "mem_gb": mem, "duration_s": dur, "name": jid}
                s.add(JobRow(
                    id=jid, name=jid, tenant_id=tenant, spec=spec, priority=prio, cpus=cpus, gpus=0.0,
                    mem_gb=mem, nodes=1, state="RUNNING" if pool else "PENDING", pool_id=pool,
                    submit_s=sub, updated_s=sub, started_s=started,
                ))  # fmt: skip
            s.commit()
        settings = DispatchSettings(enabled=False, interval_s=interval_s, policy="huanghe")
        ctx = DispatchContext(sf, settings, BackendCache(), FakeClock(T0))
        with sf() as s:
            assert ctx.topology(s, T0) is not None
        Placer(ctx).place(TickReport())
        with sf() as s:
            return {r.id: r.pool_id for r in s.query(JobRow).filter(JobRow.id.like("p%"))}
    finally:
        sf.kw["bind"].dispose()


def _sim_decisions(topo: Topology, interval_s: float) -> dict[str, str | None]:
    """One broker cycle of the simulator in the same state: job id → pool bound this cycle (None)."""
    import numpy as np

    from huanghe.backends.describe import missing_by_backend
    from huanghe.broker.batch import JobBatch
    from huanghe.broker.snapshot import NetworkSnapshot
    from huanghe.core.clock import FakeClock
    from huanghe.sim.network_jobs import NetworkJobs
    from huanghe.sim.network_sim import NetworkSimulation, _Pools

    rows = RUNNING + QUEUE
    snap = NetworkSnapshot.from_topology(topo, FakeClock(0.0), backend_missing=missing_by_backend())
    records = [
        {"job_id": j, "cpus": c, "mem_gb": m, "duration_s": d, "submit_s": sub}
        for j, _, _, c, m, d, sub, _, _ in rows
    ]
    tenants = ("a", "b", "c")
    jobs = NetworkJobs(
        batch=JobBatch.from_records(snap, records),
        duration_s=np.array([r[5] for r in rows]),
        tenant=np.array([tenants.index(r[1]) for r in rows]),
        tenants=tenants,
        priority=np.array([r[2] for r in rows]),
        deadline_abs_s=np.full(len(rows), np.nan),
    )
    sim = NetworkSimulation(snap, jobs, "huanghe", cycle_s=interval_s)
    pools = _Pools(snap)
    for j, (_, _, _, _, _, dur, _, pool, started) in enumerate(RUNNING):
        p = snap.pool_index(str(pool))
        u = sim._units(j, p)
        pools.free[p] -= u
        pools.running[p][j] = (float(started) + dur / float(snap.speed[p, int(jobs.batch.kind[j])]), u)
    bound: dict[str, str | None] = {q[0]: None for q in QUEUE}

    def bind(j: int, p: int, t: float) -> None:
        bound[rows[j][0]] = snap.pool_ids[p]

    pending = list(range(len(RUNNING), len(rows)))
    sim._cycle(T0, pending, {}, set(), pools, bind, [None] * len(rows))
    return bound


def test_the_live_loop_and_the_simulator_decide_the_same_for_the_same_state(tmp_path: Path) -> None:
    topo = net.topology(net.local(tmp_path / "jn"), net.local(tmp_path / "qd"))
    live = _live_decisions(tmp_path, topo, 0.2)
    sim = _sim_decisions(topo, 0.2)
    assert live == sim
    # the state is tight: fair share and priority decide who gets the 4 free nodes, and someone waits
    assert None in live.values() and any(v is not None for v in live.values())
    assert live["p4"] is not None  # priority 3 first
