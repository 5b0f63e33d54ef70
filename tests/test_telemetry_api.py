"""Push and read telemetry over the API: validation (4xx with paths, never 500), all-or-nothing batches,
raw and rolled-up reads, /metrics."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from tests.telemetry_support import T0_MS, Clock, app_client, sample

URL = "/api/v1/telemetry"


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    with app_client(f"sqlite:///{tmp_path / 't.db'}") as c:
        yield c


def _paths(r: httpx.Response) -> list[str]:
    return [d["path"] for d in r.json()["detail"]]


def test_push_and_read_back(client: TestClient) -> None:
    batch = [
        sample("jn-sc", "pue", 1.31, "ratio"),
        sample("jn-sc", "utilisation", 0.5, "ratio", pool="jn-sc-cpu"),
        sample("jn-sc", "storage_used_tb", 1600.0, "TB", tier="flash/hot"),
        sample("jn-sc", "link_latency_ms", 4.4, "ms", peer="qd-ai"),
        sample("qd-ai", "it_power_kw", 800.0, "kW", T0_MS - 60_000),
    ]
    r = client.post(URL, json={"samples": batch})
    assert r.status_code == 201, r.text
    assert r.json() == {"accepted": 5}
    r = client.get(URL, params={"metric": "pue", "center": "jn-sc"})
    assert r.status_code == 200
    body = r.json()
    assert body["unit"] == "ratio" and body["simulated"] is False and body["step"] == "raw"
    assert [(p["center"], p["value"], p["source"]) for p in body["points"]] == [("jn-sc", 1.31, "push")]
    r = client.get(URL, params={"metric": "utilisation", "pool": "jn-sc-cpu"})
    assert [p["subject"] for p in r.json()["points"]] == ["jn-sc-cpu"]
    r = client.get(URL, params={"metric": "it_power_kw", "from": "2026-03-02T03:59:30Z"})
    assert r.json()["points"] == []


def test_bad_batch_is_refused_whole_with_every_error(client: TestClient) -> None:
    batch = [
        sample("jn-sc", "pue", 1.3, "ratio"),  # fine, but the batch is refused
        sample("nowhere", "pue", 1.3, "kW"),  # unknown center + wrong unit
        sample(
            "jn-sc", "utilisation", 1.7, "ratio", pool="qd-ai-910b"
        ),  # out of range + pool of another center
        sample("jn-sc", "pue", 1.3, "ratio", T0_MS + 3_600_000),  # an hour in the future
        sample("jn-sc", "no_such_metric", 1.0, "x"),
        sample("jn-sc", "storage_used_tb", 5.0, "TB"),  # tier missing
        sample("jn-sc", "link_latency_ms", 1.0, "ms", peer="jn-sc"),  # a center is not its own peer
        {
            "center": "jn-sc",
            "metric": "pue",
            "value": "high",
            "unit": "ratio",
        },  # malformed: no time, bad value
    ]
    r = client.post(URL, json={"samples": batch})
    assert r.status_code == 422
    paths = _paths(r)
    assert paths == [  # in the order of the samples
        "body.samples[1].unit",
        "body.samples[1].center",
        "body.samples[2].pool",
        "body.samples[2].value",
        "body.samples[3].time",
        "body.samples[4].metric",
        "body.samples[5].tier",
        "body.samples[6].peer",
        "body.samples[7].time",
        "body.samples[7].value",
    ]
    assert client.get(URL, params={"metric": "pue"}).json()["points"] == []  # nothing stored


def test_nan_and_infinity_are_refused(client: TestClient) -> None:
    raw = '{"samples": [{"center": "jn-sc", "metric": "pue", "time": "2026-03-02T04:00:00Z", "value": NaN,' \
          ' "unit": "ratio"}, {"center": "jn-sc", "metric": "it_power_kw", "time": "2026-03-02T04:00:00Z",' \
          ' "value": Infinity, "unit": "kW"}]}'  # fmt: skip
    r = client.post(URL, content=raw, headers={"content-type": "application/json"})
    assert r.status_code == 422
    assert _paths(r) == ["body.samples[0].value", "body.samples[1].value"]
    assert all("finite" in d["message"] for d in r.json()["detail"])


@pytest.mark.parametrize(
    ("body", "path"),
    [
        ({}, "body.samples"),
        ({"samples": []}, "body.samples"),
        ({"samples": "x"}, "body.samples"),
        ([1, 2], ""),
        ({"samples": [{"center": "jn-sc"}], "extra": 1}, "body.extra"),
    ],
)
def test_malformed_bodies(client: TestClient, body: object, path: str) -> None:
    r = client.post(URL, json=body)
    assert r.status_code == 422
    assert path in _paths(r)


def test_invalid_json_and_batch_limit(client: TestClient) -> None:
    r = client.post(URL, content=b"{not json", headers={"content-type": "application/json"})
    assert r.status_code == 422 and _paths(r) == ["body"]
    client.app.state.telemetry_settings.max_batch = 2  # type: ignore[attr-defined]
    r = client.post(URL, json={"samples": [sample("jn-sc", "pue", 1.3, "ratio")] * 3})
    assert r.status_code == 422 and "at most 2" in r.json()["detail"][0]["message"]


@pytest.mark.parametrize(
    ("params", "path"),
    [
        ({"metric": "nope"}, "query.metric"),
        ({"metric": "pue", "step": "7m"}, "query.step"),
        ({"metric": "pue", "from": "2026-03-02T05:00:00Z", "to": "2026-03-02T04:00:00Z"}, "query.from"),
        ({"metric": "pue", "from": "yesterday"}, "query.from"),
        ({"metric": "pue", "limit": "0"}, "query.limit"),
        ({}, "query.metric"),
    ],
)
def test_read_validation(client: TestClient, params: dict[str, str], path: str) -> None:
    r = client.get(URL, params=params)
    assert r.status_code == 422, r.text
    assert path in _paths(r)


def test_rollups_read_and_metric_catalogue(db_url: str) -> None:
    """On SQLite and PostgreSQL."""
    clock = Clock()
    with app_client(db_url, clock=clock) as client:
        values = [1.2, 1.4, 1.3]
        batch = [sample("jn-sc", "pue", v, "ratio", T0_MS + i * 60_000) for i, v in enumerate(values)]
        assert client.post(URL, json={"samples": batch}).status_code == 201
        clock.now_ms = T0_MS + 10 * 60_000
        runtime_maintain(client)
        r = client.get(URL, params={"metric": "pue", "step": "5m"})
        (point,) = r.json()["points"]
        assert point["count"] == 3 and point["min"] == 1.2 and point["max"] == 1.4
        assert point["mean"] == pytest.approx(1.3)
        (hour,) = client.get(URL, params={"metric": "pue", "step": "1h"}).json()["points"]
        assert hour["count"] == 3 and hour["mean"] == pytest.approx(1.3)
        names = {m["name"]: m["unit"] for m in client.get(f"{URL}/metrics").json()}
        assert names["pue"] == "ratio" and names["it_power_kw"] == "kW" and names["storage_used_tb"] == "TB"


def runtime_maintain(client: TestClient) -> dict:
    from huanghe.telemetry.runtime import TelemetryRuntime

    app = client.app
    rt = TelemetryRuntime(app.state.session_factory, app.state.telemetry_settings, app.state.clock)  # type: ignore[attr-defined]
    return rt.maintain()


def test_metrics_endpoint(client: TestClient) -> None:
    client.post(
        URL, json={"samples": [sample("jn-sc", "pue", 1.3, "ratio"), sample("qd-ai", "pue", 1.3, "ratio")]}
    )
    client.get("/api/v1/centers/jn-sc")
    client.get("/api/v1/centers/qd-ai")
    r = client.get("/metrics")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain")
    text = r.text
    assert 'huanghe_telemetry_samples_ingested_total{source="push"} 2.0' in text
    assert (
        'huanghe_http_requests_total{method="GET",route="/api/v1/centers/{item_id}",status="200"} 2.0' in text
    )
    assert "huanghe_http_request_duration_seconds_bucket" in text
    assert 'huanghe_alerts{state="open"} 0.0' in text
    assert "huanghe_jobs{" not in text  # no job yet
    from huanghe.jobs.models import JobRow

    with client.app.state.session_factory() as s:  # type: ignore[attr-defined]
        for ident, state in (("a", "RUNNING"), ("b", "RUNNING"), ("c", "PENDING")):
            s.add(JobRow(id=ident, name=ident, spec={}, cpus=1, gpus=0, mem_gb=1, nodes=1, state=state,
                         submit_s=0.0, updated_s=0.0))  # fmt: skip
        s.commit()
    text = client.get("/metrics").text
    assert 'huanghe_jobs{state="running"} 2.0' in text and 'huanghe_jobs{state="pending"} 1.0' in text


def test_exporters_listed_before_the_first_scrape(client: TestClient) -> None:
    r = client.get(f"{URL}/exporters")
    assert r.status_code == 200
    assert r.json() == [
        {"center": "jn-sc", "url": "http://127.0.0.1:9100/metrics", "interval_s": None, "enabled": True,
         "last_scrape": None, "last_samples": 0, "last_error": ""}
    ]  # fmt: skip


def test_openapi_documents_the_push_body(client: TestClient) -> None:
    doc = client.get("/openapi.json").json()
    body = doc["paths"]["/api/v1/telemetry"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    item = body["properties"]["samples"]["items"]
    assert {"center", "metric", "time", "value", "unit"} <= set(item["required"])
    assert "$ref" not in str(body)  # self-contained: no dangling references
