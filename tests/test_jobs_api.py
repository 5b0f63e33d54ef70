"""Jobs REST API on the real app (SQLite file, local back-end): submit, batch, list, show, cancel, logs,
events, idempotency, errors with field paths."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from huanghe.api.app import create_app
from huanghe.jobs.settings import DispatchSettings
from huanghe.settings import Settings
from tests import jobs_testnet as net

TERMINAL = {"SUCCEEDED", "FAILED", "CANCELLED"}


def make_client(tmp_path: Path, *, scheduler: bool = True) -> TestClient:
    url = f"sqlite:///{tmp_path / 'jobs.db'}"
    net.prepare_db(url, net.topology(net.local(tmp_path / "jn"), net.local(tmp_path / "qd")))
    app = create_app(Settings(database_url=url, migrate_on_startup=False))
    app.state.scheduler_settings = DispatchSettings(
        enabled=scheduler, interval_s=0.05, health_interval_s=0.5, lease_ttl_s=2
    )
    return TestClient(app)


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    with make_client(tmp_path) as c:
        yield c


@pytest.fixture
def idle_client(tmp_path: Path) -> Iterator[TestClient]:
    """The API without a scheduler loop: jobs stay PENDING."""
    with make_client(tmp_path, scheduler=False) as c:
        yield c


def wait_for(c: TestClient, job_id: str, states: set[str], timeout_s: float = 15.0) -> dict[str, Any]:
    return net.wait_state(c.get, job_id, states, timeout_s)


def test_submit_runs_and_shows_history_placement_cost_logs(client: TestClient, tmp_path: Path) -> None:
    r = client.post("/api/v1/jobs", json={"command": "echo hello from huanghe", "cpus": 2, "name": "hi"})
    assert r.status_code == 201, r.text
    assert r.json()["state"] == "PENDING" and r.json()["name"] == "hi"
    job = wait_for(client, r.json()["id"], TERMINAL)
    assert job["state"] == "SUCCEEDED", job
    assert job["pool"] == "jn-sc-cpu" and job["center"] == "jn-sc"  # faster CPU pool = earliest completion
    assert [h["state"] for h in job["history"]] == ["PENDING", "PLACED", "DISPATCHED", "RUNNING", "SUCCEEDED"]
    assert job["exit_code"] == 0 and job["attempt"] == 1
    assert job["cost_cny"] is not None and job["cost_cny"] >= 0
    # 2 of 16 cores of a 4 CNY/h node
    assert job["price_cny_per_hour"] == pytest.approx(4.0 * 2 / 16)
    why = job["placement"]["explanation"]
    assert why["policy"] == "earliest-completion" and why["winner"]["pool"] == "jn-sc-cpu"
    assert why["runner_up"]["pool"] == "qd-ai-cpu" and why["feasible"] == 2
    logs = client.get(f"/api/v1/jobs/{job['id']}/logs").json()
    assert logs["data"] == "hello from huanghe\n" and logs["terminal"]
    again = client.get(f"/api/v1/jobs/{job['id']}/logs", params={"offset": logs["next_offset"]}).json()
    assert again["data"] == ""
    kinds = [e["kind"] for e in client.get(f"/api/v1/jobs/{job['id']}/events").json()["items"]]
    assert "dispatched" in kinds and kinds.count("state") == 5
    assert len(list((tmp_path / "jn").glob("local-*"))) == 1 and not list((tmp_path / "qd").glob("local-*"))


def test_failing_program_is_failed_not_retried(client: TestClient) -> None:
    jid = client.post("/api/v1/jobs", json={"command": "echo oops; exit 3"}).json()["id"]
    job = wait_for(client, jid, TERMINAL)
    assert job["state"] == "FAILED" and job["exit_code"] == 3 and job["attempt"] == 1


def test_batch_submission_all_succeed(client: TestClient) -> None:
    jobs = [{"command": f"echo job {i}", "cpus": 1} for i in range(30)]
    r = client.post("/api/v1/jobs:batch", json={"jobs": jobs})
    assert r.status_code == 201, r.text
    ids = [j["id"] for j in r.json()["items"]]
    assert r.json()["count"] == 30 and len(set(ids)) == 30
    for k, jid in enumerate(ids):
        job = wait_for(client, jid, TERMINAL, timeout_s=30)
        assert job["state"] == "SUCCEEDED"
        assert client.get(f"/api/v1/jobs/{jid}/logs").json()["data"] == f"job {k}\n"


def test_idempotency_key_never_makes_a_second_job(idle_client: TestClient) -> None:
    c = idle_client
    h = {"Idempotency-Key": "order-42"}
    first = c.post("/api/v1/jobs", json={"command": "true"}, headers=h)
    second = c.post("/api/v1/jobs", json={"command": "true"}, headers=h)
    assert first.status_code == 201 and second.status_code == 200
    assert first.json()["id"] == second.json()["id"]
    assert c.get("/api/v1/jobs").json()["total"] == 1
    hb = {"Idempotency-Key": "batch-7"}
    b1 = c.post("/api/v1/jobs:batch", json={"jobs": [{"command": "true"}] * 3}, headers=hb)
    b2 = c.post("/api/v1/jobs:batch", json={"jobs": [{"command": "true"}] * 3}, headers=hb)
    assert b1.status_code == 201 and b2.status_code == 200
    assert [j["id"] for j in b1.json()["items"]] == [j["id"] for j in b2.json()["items"]]
    assert c.get("/api/v1/jobs").json()["total"] == 4
    # without a key, the same body makes a new job
    c.post("/api/v1/jobs", json={"command": "true"})
    assert c.get("/api/v1/jobs").json()["total"] == 5
    bad = c.post("/api/v1/jobs", json={"command": "true"}, headers={"Idempotency-Key": "x" * 201})
    assert bad.status_code == 422 and "Idempotency-Key" in bad.json()["detail"][0]["path"]


@pytest.mark.parametrize(
    ("body", "path", "words"),
    [
        ({"command": "a", "script": "b"}, "body", "exactly one of command and script"),
        ({}, "body", "exactly one of command and script"),
        ({"command": "true", "cpus": -1}, "body.cpus", ""),
        ({"command": "true", "nodes": 0}, "body.nodes", ""),
        ({"command": "true", "kind": "quantum"}, "body.kind", ""),
        ({"command": "true", "user_city": "atlantis"}, "body.user_city", "unknown city"),
        ({"command": "true", "datasets": ["nope"]}, "body.datasets[0]", "unknown dataset"),
        ({"command": "true", "tenant": "ghost"}, "body.tenant", "unknown tenant"),
        ({"command": "true", "surprise": 1}, "body.surprise", ""),
    ],
)
def test_bad_submission_is_4xx_with_field_path(
    idle_client: TestClient, body: dict[str, Any], path: str, words: str
) -> None:
    r = idle_client.post("/api/v1/jobs", json=body)
    assert r.status_code == 422, r.text
    paths = [d["path"] for d in r.json()["detail"]]
    assert path in paths, r.json()
    assert words in " ".join(d["message"] for d in r.json()["detail"])


def test_bad_batch_names_the_job_index(idle_client: TestClient) -> None:
    r = idle_client.post(
        "/api/v1/jobs:batch", json={"jobs": [{"command": "true"}, {"command": "true", "mem_gb": -2}]}
    )
    assert r.status_code == 422 and r.json()["detail"][0]["path"] == "body.jobs[1].mem_gb"
    r = idle_client.post(
        "/api/v1/jobs:batch", json={"jobs": [{"command": "true"}, {"command": "x", "user_city": "x"}]}
    )
    assert r.status_code == 422 and r.json()["detail"][0]["path"] == "body.jobs[1].user_city"
    assert idle_client.post("/api/v1/jobs:batch", json={"jobs": []}).status_code == 422
    assert idle_client.post("/api/v1/jobs:batch", content=b"{not json").status_code == 422
    assert idle_client.get("/api/v1/jobs").json()["total"] == 0  # nothing half-stored


def test_list_filters_pagination_and_not_found(idle_client: TestClient) -> None:
    c = idle_client
    ids = [c.post("/api/v1/jobs", json={"command": f"echo {i}"}).json()["id"] for i in range(5)]
    page = c.get("/api/v1/jobs", params={"limit": 2, "offset": 1}).json()
    assert set(page) == {"items", "total", "limit", "offset"}
    assert page["total"] == 5 and page["limit"] == 2 and page["offset"] == 1
    assert [j["id"] for j in page["items"]] == list(reversed(ids))[1:3]  # newest first
    assert c.get("/api/v1/jobs", params={"state": "pending"}).json()["total"] == 5
    assert c.get("/api/v1/jobs", params={"state": "RUNNING"}).json()["total"] == 0
    assert c.get("/api/v1/jobs", params={"pool": "jn-sc-cpu"}).json()["total"] == 0
    bad = c.get("/api/v1/jobs", params={"state": "sleeping"})
    assert bad.status_code == 422 and bad.json()["detail"][0]["path"] == "query.state"
    assert c.get("/api/v1/jobs", params={"limit": 0}).status_code == 422
    assert c.get("/api/v1/jobs/nope").status_code == 404
    assert c.post("/api/v1/jobs/nope:cancel").status_code == 404
    assert c.get("/api/v1/jobs/nope/logs").status_code == 404
    logs = c.get(f"/api/v1/jobs/{ids[0]}/logs").json()
    assert logs["data"] == "" and "not dispatched" in logs["message"]


def test_cancel_pending_is_immediate_and_idempotent(idle_client: TestClient) -> None:
    jid = idle_client.post("/api/v1/jobs", json={"command": "true"}).json()["id"]
    r = idle_client.post(f"/api/v1/jobs/{jid}:cancel")
    assert r.status_code == 200 and r.json()["state"] == "CANCELLED"
    again = idle_client.post(f"/api/v1/jobs/{jid}:cancel").json()
    assert again["state"] == "CANCELLED"
    hist = idle_client.get(f"/api/v1/jobs/{jid}").json()["history"]
    assert [h["state"] for h in hist] == ["PENDING", "CANCELLED"]


def test_cancel_running_stops_it_and_terminal_stays(client: TestClient, tmp_path: Path) -> None:
    # the job can write only its own work directory (sandbox): the marker would appear there
    jid = client.post("/api/v1/jobs", json={"command": "sleep 30; touch after-sleep"}).json()["id"]
    wait_for(client, jid, {"RUNNING"})
    r = client.post(f"/api/v1/jobs/{jid}:cancel")
    assert r.status_code == 200 and r.json()["cancel_requested"]
    job = wait_for(client, jid, TERMINAL, timeout_s=15)
    assert job["state"] == "CANCELLED"
    assert "cancel_requested" in [e["kind"] for e in client.get(f"/api/v1/jobs/{jid}/events").json()["items"]]
    done = client.post("/api/v1/jobs", json={"command": "true"}).json()["id"]
    wait_for(client, done, TERMINAL)
    assert client.post(f"/api/v1/jobs/{done}:cancel").json()["state"] == "SUCCEEDED"
    assert not list(tmp_path.glob("*/local-*/work/after-sleep"))
    assert list(tmp_path.glob("*/local-*/work"))  # (where it would be)


def test_unplaceable_job_fails_with_explanation(client: TestClient) -> None:
    jid = client.post("/api/v1/jobs", json={"command": "true", "accelerator": "H100"}).json()["id"]
    job = wait_for(client, jid, TERMINAL)
    assert job["state"] == "FAILED" and "accelerator: 2" in job["message"]
    unplaced = [
        e for e in client.get(f"/api/v1/jobs/{jid}/events").json()["items"] if e["kind"] == "unplaced"
    ]
    assert unplaced and unplaced[0]["data"]["removed"][0]["reason"] == "accelerator"


def test_scheduler_endpoint_and_center_health(client: TestClient) -> None:
    deadline = time.monotonic() + 10
    while True:
        info = client.get("/api/v1/scheduler").json()
        health = client.get("/api/v1/health/centers").json()["items"]
        if info["leading"] and len(health) == 2:
            break
        assert time.monotonic() < deadline, (info, health)
        time.sleep(0.05)
    assert info["interval_s"] == 0.05 and info["lease"]["holder"] == info["holder"]
    assert {h["center"] for h in health} == {"jn-sc", "qd-ai"} and all(h["healthy"] for h in health)
