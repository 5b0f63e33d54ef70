"""The live loop places on what can run (issue #12): GPU jobs go to a pool whose back-end can run them (the
dev set-up's ``simulated`` back-end, clearly labelled), CPU work stays off accelerator pools while a CPU pool
has room, and a GPU job no back-end can run fails at placement with the back-end's reason."""

from __future__ import annotations

from pathlib import Path
from typing import Any

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


def test_cpu_work_stays_on_the_cpu_pool_while_it_has_room(tmp_path: Path) -> None:
    with _client(tmp_path, "simulated") as c:
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
