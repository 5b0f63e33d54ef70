"""Staging on Slurm on this host (issue #13, deliverable 7): a job placed on a Slurm pool where its input is not
gets the input staged by a rule and copied into its working directory, Slurm runs it there (``--chdir``), and
its output is stored back as a dataset of its tenant. Real slurmctld/slurmd/slurmrestd, two SeaweedFS servers,
the app with its loops (tests/test_data_jobs_e2e.py has the 1 GB version on the local back-end)."""

from __future__ import annotations

import hashlib
import time
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from fastapi.testclient import TestClient

from huanghe.api.app import create_app
from huanghe.jobs.settings import DispatchSettings
from huanghe.settings import Settings
from tests import jobs_testnet as net
from tests.infra.seaweed import SeaweedServer
from tests.infra.slurm import SlurmCluster
from tests.test_data_jobs_e2e import _seed

API = "/api/v1"
SIZE = 5_000_000


def test_staged_job_runs_on_slurm_and_stores_its_output(
    slurm_cluster: SlurmCluster, seaweed_servers: list[SeaweedServer], tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    monkeypatch.setenv("HUANGHE_SECRET_KEY", Fernet.generate_key().decode())
    # jobs run as the cluster's unprivileged user: the staging root must be reachable by it (not under the 0700
    # pytest directory); the cluster's job directory is world-traversable
    monkeypatch.setenv("HUANGHE_STAGING_ROOT", str(slurm_cluster.job_dir / f"staging-{tmp_path.name}"))
    monkeypatch.setenv("HUANGHE_DATA_LOOP_INTERVAL_S", "0.3")
    monkeypatch.setenv("HUANGHE_TRANSFERS_INTERVAL_S", "0.2")
    url = f"sqlite:///{tmp_path / 'sl.db'}"
    slurm = {**slurm_cluster.rest_settings(), "timeout_s": "3", "health_timeout_s": "2"}
    net.prepare_db(url, net.topology(("slurm", slurm), net.local(tmp_path / "qd")))
    sha, _ = _seed(url, seaweed_servers, tmp_path, SIZE)
    app = create_app(Settings(database_url=url, migrate_on_startup=False))
    app.state.scheduler_settings = DispatchSettings(interval_s=0.1, health_interval_s=1.0, lease_ttl_s=5)
    with TestClient(app) as c:
        r = c.post(f"{API}/jobs", json={
            "tenant": "ta", "command": "sha256sum inputs/big/input.bin > out.txt", "datasets": ["big"],
            "outputs": ["out.txt"], "output_dataset": "sums", "duration_s": 3600, "time_limit_s": 600,
        })  # fmt: skip
        assert r.status_code == 201, r.text
        jid = r.json()["id"]
        deadline = time.monotonic() + 180
        while True:
            job = c.get(f"{API}/jobs/{jid}").json()
            if job["state"] in net.TERMINAL and ("outputs" in job["message"] or job["state"] != "SUCCEEDED"):
                break
            assert time.monotonic() < deadline, job
            time.sleep(0.2)
        events = [(e["kind"], e["message"]) for e in c.get(f"{API}/jobs/{jid}/events").json()["items"]]
        assert job["state"] == "SUCCEEDED" and job["backend"] == "slurm", (job["message"], events)
        assert (
            job["center"] == "jn-sc" and job["placement"]["explanation"]["winner"]["data"]["from"] == "qd-ai"
        )
        expected = f"{sha}  inputs/big/input.bin\n".encode()
        got = c.get(f"{API}/datasets/sums/files/out.txt/content")
        assert got.status_code == 200 and got.content == expected
        assert "sums" in job["message"] and hashlib.sha256(expected).hexdigest()
