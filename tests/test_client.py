"""The typed HTTP client (:mod:`huanghe.client`) against a real `huanghe up` on a free loopback port (the
bundled network, every pool on the local back-end): jobs, alerts, the network, the observatory, health, and
the error family (4xx → RequestRefusedError with the server's detail, no answer → ServerUnreachableError)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from huanghe.client import (
    DEFAULT_URL,
    ClientError,
    HuangheClient,
    InvalidServerUrlError,
    RequestRefusedError,
    ServerFailedError,
    ServerUnreachableError,
    WaitTimeoutError,
)
from tests import jobs_server as srv
from tests.infra.ports import refused_url


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[srv.Server]:
    tmp = tmp_path_factory.mktemp("client")
    s = srv.start(tmp, f"sqlite:///{tmp / 'client.db'}", network="shandong-mini")
    yield s
    s.stop()


@pytest.fixture
def hh(server: srv.Server) -> Iterator[HuangheClient]:
    with HuangheClient(server.url, timeout_s=30) as client:
        yield client


def test_health_and_defaults_from_the_environment(
    server: srv.Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HUANGHE_URL", server.url + "/")
    monkeypatch.setenv("HUANGHE_TOKEN", "hh_token")
    with HuangheClient() as client:
        assert client.url == server.url and client.headers["Authorization"] == "Bearer hh_token"
        health = client.health()
        assert health["status"] == "ok" and health["database"] == "ok" and health["version"]
    monkeypatch.delenv("HUANGHE_URL")
    monkeypatch.delenv("HUANGHE_TOKEN")
    with HuangheClient() as client:
        assert client.url == DEFAULT_URL and "Authorization" not in client.headers
    with HuangheClient(server.url, token="explicit") as client:
        assert client.headers["Authorization"] == "Bearer explicit"


def test_jobs_submit_wait_logs_events_list(hh: HuangheClient) -> None:
    job = hh.submit_job({"command": "echo hello", "cpus": 1, "name": "client-test"}, idempotency_key="k-1")
    assert job["state"] == "PENDING" and job["name"] == "client-test"
    again = hh.submit_job({"command": "echo hello", "cpus": 1, "name": "client-test"}, idempotency_key="k-1")
    assert again["id"] == job["id"]  # same key, same job
    seen: list[str] = []
    done = hh.wait_job(job["id"], timeout_s=60, poll_s=0.1, on_poll=lambda j: seen.append(j["state"]))
    assert done["state"] == "SUCCEEDED" and seen[-1] == "SUCCEEDED"
    assert [h["state"] for h in done["history"]][-1] == "SUCCEEDED"
    assert done["placement"] is not None and done["placement"]["pool"] == done["pool"]
    logs = hh.job_logs(job["id"])
    assert logs["data"] == "hello\n" and logs["next_offset"] == 6 and logs["terminal"] is True
    assert hh.job_logs(job["id"], offset=6)["data"] == ""
    kinds = [e["kind"] for e in hh.job_events(job["id"])["items"]]
    assert "state" in kinds and "dispatched" in kinds
    page = hh.list_jobs(state="SUCCEEDED", limit=10)
    assert job["id"] in [j["id"] for j in page["items"]] and page["limit"] == 10 and page["total"] >= 1
    json.dumps(done)  # the server's JSON, unchanged


def test_wait_timeout_then_cancel(hh: HuangheClient) -> None:
    job = hh.submit_job({"command": "sleep 30", "cpus": 1})
    with pytest.raises(WaitTimeoutError) as caught:
        hh.wait_job(job["id"], timeout_s=0.2, poll_s=0.05)
    assert isinstance(caught.value, TimeoutError) and isinstance(caught.value, ClientError)
    assert caught.value.job["id"] == job["id"] and caught.value.job["state"] not in ("SUCCEEDED", "FAILED")
    hh.cancel_job(job["id"])
    assert hh.wait_job(job["id"], timeout_s=30, poll_s=0.1)["state"] == "CANCELLED"


def test_refused_requests_carry_the_servers_detail(hh: HuangheClient) -> None:
    with pytest.raises(RequestRefusedError) as nf:
        hh.get_job("no-such-job")
    e = nf.value
    assert e.status_code == 404 and e.method == "GET" and e.path == "/api/v1/jobs/no-such-job"
    assert e.detail and "not found" in e.detail[0]["message"]
    assert "not found" in str(e) and e.url == hh.url
    with pytest.raises(RequestRefusedError) as bad:
        hh.list_jobs(state="bogus")
    assert bad.value.status_code == 422 and bad.value.detail[0]["path"] == "query.state"
    assert bad.value.problems()[0].startswith("query.state: ")
    with pytest.raises(RequestRefusedError) as bad_body:
        hh.submit_job({"command": "true", "user_city": "atlantis"})
    assert bad_body.value.status_code == 422
    assert any("user_city" in p["path"] or "user_city" in p["message"] for p in bad_body.value.detail)
    with pytest.raises(ClientError) as alert:
        hh.ack_alert(4242)
    assert alert.value.status_code == 404
    with pytest.raises(RequestRefusedError) as obs:
        hh.index(level="county")
    assert obs.value.status_code == 422 and obs.value.detail[0]["path"] == "query.level"


def test_no_answer_and_bad_urls() -> None:
    with refused_url() as url:  # bound, not listening: refused, and no other process can take the port
        with HuangheClient(url, timeout_s=5) as client, pytest.raises(ServerUnreachableError) as caught:
            client.list_jobs()
        e = caught.value
        assert isinstance(e, ClientError) and e.status_code is None and e.url == url and e.reason
        for bad in ("nope", "ftp://host", "http://"):
            with pytest.raises(InvalidServerUrlError):
                HuangheClient(bad)


def test_server_failures_and_garbled_answers() -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/api/v1/jobs":
            return httpx.Response(503, json={"detail": [{"path": "", "message": "database unavailable"}]})
        if request.url.path == "/api/v1/alerts":
            return httpx.Response(502, text="<html>bad gateway</html>")
        return httpx.Response(200, text="not json")

    with HuangheClient("http://h.invalid", transport=httpx.MockTransport(answer)) as client:
        with pytest.raises(ServerFailedError) as down:
            client.list_jobs()
        assert down.value.status_code == 503 and down.value.problems() == ["database unavailable"]
        with pytest.raises(ServerFailedError) as gateway:
            client.list_alerts()
        assert gateway.value.status_code == 502 and "bad gateway" in gateway.value.detail[0]["message"]
        with pytest.raises(ServerFailedError, match="not JSON"):
            client.get_job("x")


def test_network_reads_and_edits(hh: HuangheClient) -> None:
    centers = hh.centers()
    assert len(centers) == 60 and len(hh.cities()) >= 16 and hh.regions()
    jiaodong = hh.centers(region="jiaodong", tier="edge")
    assert jiaodong and all(c.tier.value == "edge" for c in jiaodong)
    pools = hh.pools(center="qingdao-ai")
    assert pools and {p.center for p in pools} == {"qingdao-ai"}
    assert len(hh.pools()) == sum(len(c.pools) for c in centers)
    before = hh.get_center("qingdao-ai")
    after = hh.update_center("qingdao-ai", {"name_en": "Qingdao AI (renamed)"})
    assert after.name_en == "Qingdao AI (renamed)" and after.energy.pue == before.energy.pue
    assert hh.get_center("qingdao-ai").name_en == "Qingdao AI (renamed)"
    with pytest.raises(RequestRefusedError) as caught:
        hh.get_center("nowhere")
    assert caught.value.status_code == 404
    with pytest.raises(RequestRefusedError) as bad:
        hh.update_center("qingdao-ai", {"energy": {"pue": 0.5}})
    assert bad.value.status_code == 422 and "pue" in str(bad.value)


def test_observatory(hh: HuangheClient, tmp_path: Path) -> None:
    index = hh.index(level="circle")
    assert index["level"] == "circle" and index["rows"][0]["rank"] == 1
    # method 2.0 adds the application dimension
    assert set(index["rows"][0]["dimensions"]) == {
        "compute",
        "storage",
        "network",
        "environment",
        "application",
    }
    yoy = hh.index(level="circle", year=index["year"], compare=index["year"] - 1)
    assert yoy.get("compare_year") == index["year"] - 1 and len(yoy.get("comparison") or []) == 3
    studies = hh.index_sensitivity(samples=20, seed=1)["studies"]
    assert [s["samples"] for s in studies][1] == 20
    targets = hh.targets()
    assert any(t["kpi"] == "standard_racks" for t in targets)
    green = hh.green_list()
    assert {"pue_above_limit", "small_scattered_old", "renewable_ranking", "carbon"} <= set(green)
    assert all(m["overall"] in range(1, 6) for m in hh.maturity())
    capacity = hh.network_capacity(failing=True)
    assert (
        all(p["compliant"] is False for p in capacity["pairs"]) and "share_compliant" in capacity["summary"]
    )
    report = hh.report("storage", "html", lang="en")
    assert report.filename == "huanghe-storage-report.html" and report.media_type.startswith("text/html")
    assert b"<html" in report.content[:2000].lower()


def test_backends_and_what_they_can_run(hh: HuangheClient) -> None:
    backends = {b.name: b for b in hh.backends()}
    assert set(backends) == {"local", "fake", "simulated", "slurm", "ray", "kubernetes"}
    gpus = {b: next(c for c in v.capabilities if c.name == "gpus") for b, v in backends.items()}
    assert gpus["slurm"].supported and not gpus["local"].supported and gpus["local"].reason
