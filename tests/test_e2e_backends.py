"""End to end on real systems: a job submitted over the API is placed on a Slurm-backed (or Ray-backed) pool,
runs there, SUCCEEDS with its output in the logs; cancel on Slurm; failover when the Slurm daemons are stopped
mid-run (re-placed on the local pool of another center, succeeds, recorded)."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from huanghe.api.app import create_app
from huanghe.jobs.settings import DispatchSettings
from huanghe.settings import Settings
from tests import jobs_testnet as net
from tests.infra.ray import RayHead
from tests.infra.slurm import SlurmCluster, private_slurm

TERMINAL = {"SUCCEEDED", "FAILED", "CANCELLED"}


@contextlib.contextmanager
def api(tmp_path: Path, jinan: tuple[str, dict[str, str]]) -> Iterator[TestClient]:
    """The real app on SQLite with ``jn-sc-cpu`` on the given back-end and ``qd-ai-cpu`` on the local one."""
    url = f"sqlite:///{tmp_path / 'e2e.db'}"
    net.prepare_db(url, net.topology(jinan, net.local(tmp_path / "qd")))
    app = create_app(Settings(database_url=url, migrate_on_startup=False))
    app.state.scheduler_settings = DispatchSettings(
        interval_s=0.1, health_interval_s=0.5, unhealthy_after=2, lease_ttl_s=5
    )
    with TestClient(app) as c:
        yield c


def wait(c: TestClient, job_id: str, states: set[str], timeout_s: float = 60) -> dict[str, Any]:
    return net.wait_state(c.get, job_id, states, timeout_s)


def logs_with(c: TestClient, job_id: str, text: str, timeout_s: float = 15) -> str:
    """The job's output once it contains ``text`` (Ray and Slurm may write the last lines a moment after the
    job ended)."""
    deadline = time.monotonic() + timeout_s
    while True:
        data: str = c.get(f"/api/v1/jobs/{job_id}/logs").json()["data"]
        if text in data or time.monotonic() > deadline:
            return data
        time.sleep(0.2)


def slurm_settings(cluster: SlurmCluster) -> dict[str, str]:
    return {**cluster.rest_settings(), "timeout_s": "3", "health_timeout_s": "2"}


def test_slurm_pool_runs_the_job_and_cancel_works(slurm_cluster: SlurmCluster, tmp_path: Path) -> None:
    with api(tmp_path, ("slurm", slurm_settings(slurm_cluster))) as c:
        jid = c.post("/api/v1/jobs", json={"command": "echo hello from slurm; hostname >/dev/null"}).json()[
            "id"
        ]
        job = wait(c, jid, TERMINAL)
        assert job["state"] == "SUCCEEDED", job
        assert job["pool"] == "jn-sc-cpu" and job["backend"] == "slurm" and job["backend_job_id"].isdigit()
        assert "hello from slurm" in logs_with(c, jid, "hello from slurm")
        long = c.post("/api/v1/jobs", json={"command": "sleep 60"}).json()["id"]
        wait(c, long, {"RUNNING"})
        c.post(f"/api/v1/jobs/{long}:cancel")
        assert wait(c, long, TERMINAL, 30)["state"] == "CANCELLED"


def test_ray_pool_runs_the_job(ray_cluster: RayHead, tmp_path: Path) -> None:
    with api(tmp_path, ("ray", {"address": ray_cluster.address})) as c:
        jid = c.post("/api/v1/jobs", json={"command": "echo hello from ray"}).json()["id"]
        job = wait(c, jid, TERMINAL, 90)
        assert job["state"] == "SUCCEEDED", job
        assert job["pool"] == "jn-sc-cpu" and job["backend"] == "ray"
        assert "hello from ray" in logs_with(c, jid, "hello from ray")


def test_failover_when_slurm_daemons_stop_mid_run(tmp_path: Path) -> None:
    # a private Slurm (own temp dir): its daemons are stopped on purpose
    with private_slurm() as cluster, api(tmp_path, ("slurm", slurm_settings(cluster))) as c:
        jid = c.post("/api/v1/jobs", json={"command": "sleep 3; echo finished"}).json()["id"]
        job = wait(c, jid, {"RUNNING"})
        assert job["center"] == "jn-sc" and job["backend"] == "slurm"
        cluster.stop_all()  # slurmrestd, slurmd, slurmctld, munged (by PID)
        job = wait(c, jid, TERMINAL, 60)
        assert job["state"] == "SUCCEEDED", job
        assert job["center"] == "qd-ai" and job["backend"] == "local" and job["attempt"] == 2
        assert job["excluded_centers"] == ["jn-sc"]
        assert logs_with(c, jid, "finished") == "finished\n"
        events = c.get(f"/api/v1/jobs/{jid}/events").json()["items"]
        failover = [e for e in events if e["kind"] == "failover"]
        assert failover and failover[0]["data"]["from_center"] == "jn-sc"
        health = {h["center"]: h for h in c.get("/api/v1/health/centers").json()["items"]}
        assert not health["jn-sc"]["healthy"] and health["qd-ai"]["healthy"]
        assert len(c.get("/api/v1/jobs/" + jid).json()["placements"]) == 2
