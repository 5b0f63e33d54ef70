"""The live scheduler loop runs the broker's cycle policies through the same engine registry."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from huanghe.api.app import create_app
from huanghe.jobs.settings import DispatchSettings
from huanghe.settings import Settings
from tests import jobs_testnet as net
from tests.test_jobs_api import TERMINAL, wait_for


def test_live_loop_places_and_runs_with_the_huanghe_policy(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'jobs.db'}"
    net.prepare_db(url, net.topology(net.local(tmp_path / "jn"), net.local(tmp_path / "qd")))
    app = create_app(Settings(database_url=url, migrate_on_startup=False))
    app.state.scheduler_settings = DispatchSettings(
        enabled=True, interval_s=0.05, health_interval_s=0.5, lease_ttl_s=2, policy="huanghe"
    )
    with TestClient(app) as c:
        r = c.post("/api/v1/jobs", json={"command": "echo broker", "cpus": 2, "name": "b"})
        assert r.status_code == 201, r.text
        job = wait_for(c, r.json()["id"], TERMINAL)
        assert job["state"] == "SUCCEEDED", job
        why = job["placement"]["explanation"]
        assert why["policy"] == "huanghe"
        assert {"completion", "cost", "carbon", "transfer"} <= set(why["winner"]["terms"])
