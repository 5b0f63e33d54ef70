"""Alerts over the API and the CLI: raised from pushed telemetry, deduplicated, acknowledged, resolved by hand
or automatically; errors are 4xx with paths; the CLI talks to a real server over HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from huanghe.cli.main import app as cli
from huanghe.telemetry.runtime import TelemetryRuntime
from tests.infra.ports import ThreadedUvicorn, refused_url
from tests.telemetry_support import T0_MS, Clock, app_client, sample

MIN = 60_000


def _maintain(client: TestClient) -> dict:
    st = client.app.state  # type: ignore[attr-defined]
    return TelemetryRuntime(st.session_factory, st.telemetry_settings, st.clock).maintain()


def _push(client: TestClient, *samples: dict) -> None:
    r = client.post("/api/v1/telemetry", json={"samples": list(samples)})
    assert r.status_code == 201, r.text


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def client(tmp_path: Path, clock: Clock) -> Iterator[TestClient]:
    with app_client(f"sqlite:///{tmp_path / 'a.db'}", clock=clock) as c:
        yield c


@pytest.fixture
def any_db_client(db_url: str, clock: Clock) -> Iterator[TestClient]:
    """The app on SQLite and on the private PostgreSQL."""
    with app_client(db_url, clock=clock) as c:
        yield c


def test_life_cycle_over_the_api(any_db_client: TestClient, clock: Clock) -> None:
    client = any_db_client
    _push(client, sample("jn-sc", "utilisation", 0.96, "ratio"),
          sample("jn-sc", "storage_used_tb", 1900.0, "TB", tier="flash/hot"))  # fmt: skip
    summary = _maintain(client)["alerts"]
    assert summary["opened"] == 2
    r = client.get("/api/v1/alerts", params={"state": "open"})
    assert r.status_code == 200 and r.json()["total"] == 2
    by_rule = {a["rule"]: a for a in r.json()["items"]}
    util, storage = by_rule["utilisation_high"], by_rule["storage_full"]
    assert util["subject"] == "center:jn-sc" and util["threshold"] == 0.9
    assert storage["subject"] == "storage:jn-sc/flash/hot" and storage["value"] == pytest.approx(0.95)

    clock.now_ms = T0_MS + MIN
    _push(client, sample("jn-sc", "utilisation", 0.97, "ratio", clock.now_ms))
    assert _maintain(client)["alerts"]["opened"] == 0  # still one alert per rule and subject
    assert client.get("/api/v1/alerts").json()["total"] == 2

    r = client.post(f"/api/v1/alerts/{util['id']}:ack")
    assert r.status_code == 200 and r.json()["state"] == "acknowledged"
    assert client.post(f"/api/v1/alerts/{util['id']}:ack").json()["state"] == "acknowledged"  # idempotent
    r = client.post(f"/api/v1/alerts/{storage['id']}:resolve")
    assert r.json()["state"] == "resolved" and r.json()["resolved_by"] == "user"
    r = client.post(f"/api/v1/alerts/{storage['id']}:ack")
    assert r.status_code == 409

    clock.now_ms = T0_MS + 2 * MIN
    _push(client, sample("jn-sc", "utilisation", 0.5, "ratio", clock.now_ms))
    summary = _maintain(client)["alerts"]
    assert summary["resolved"] == 1  # the utilisation cleared → auto-resolved
    # the storage condition still holds (same sample still fresh) → a new alert opens after the manual resolve
    assert summary["opened"] == 1
    got = client.get(f"/api/v1/alerts/{util['id']}").json()
    assert got["state"] == "resolved" and got["resolved_by"] == "auto"
    states = sorted(a["state"] for a in client.get("/api/v1/alerts").json()["items"])
    assert states == ["open", "resolved", "resolved"]
    metrics = client.get("/metrics").text
    assert 'huanghe_alerts{state="open"} 1.0' in metrics and 'huanghe_alerts{state="resolved"} 2.0' in metrics


@pytest.mark.parametrize(
    ("method", "path", "status", "where"),
    [
        ("GET", "/api/v1/alerts?state=bogus", 422, "query.state"),
        ("GET", "/api/v1/alerts/999", 404, ""),
        ("GET", "/api/v1/alerts/abc", 422, "path.alert_id"),
        ("POST", "/api/v1/alerts/0:ack", 422, "path.alert_id"),
        ("POST", "/api/v1/alerts/12:resolve", 404, ""),
        ("POST", "/api/v1/alerts/12:explode", 405, ""),
    ],
)
def test_errors(client: TestClient, method: str, path: str, status: int, where: str) -> None:
    r = client.request(method, path)
    assert r.status_code == status, r.text
    assert where in [d["path"] for d in r.json()["detail"]]


def test_cli_against_a_real_server(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    _push(
        client,
        sample("qd-ai", "pue", 1.2, "ratio", T0_MS - 30 * MIN),
        sample("qd-ai", "utilisation", 0.99, "ratio"),
    )
    _maintain(client)
    with ThreadedUvicorn(client.app, lifespan="off") as server:  # its socket bound before it starts
        monkeypatch.setenv("HUANGHE_URL", f"{server.url}/")
        monkeypatch.setenv("HUANGHE_TOKEN", "test-token")
        runner = CliRunner()
        r = runner.invoke(cli, ["alerts", "list", "--state", "open", "--json"])
        assert r.exit_code == 0, r.output
        import json

        (alert,) = json.loads(r.stdout)
        assert alert["rule"] == "utilisation_high" and alert["subject"] == "center:qd-ai"
        r = runner.invoke(cli, ["alerts", "list"])
        assert r.exit_code == 0 and "utilisation_high" in r.stdout and "center:qd-ai" in r.stdout
        r = runner.invoke(cli, ["alerts", "ack", str(alert["id"])])
        assert r.exit_code == 0 and "acknowledged" in r.stdout
        r = runner.invoke(cli, ["alerts", "resolve", str(alert["id"]), "--json"])
        assert r.exit_code == 0 and json.loads(r.stdout)["state"] == "resolved"
        r = runner.invoke(cli, ["alerts", "ack", str(alert["id"])])
        assert r.exit_code == 1 and "409" in r.output and "already resolved" in r.output
        r = runner.invoke(cli, ["alerts", "ack", "4242"])
        assert r.exit_code == 1 and "404" in r.output
        r = runner.invoke(cli, ["alerts", "list", "--state", "nope"])
        assert r.exit_code == 2 and "--state" in r.output


def test_cli_server_not_reachable(monkeypatch: pytest.MonkeyPatch) -> None:
    with refused_url() as url:  # bound, not listening: refused, and no other process can take the port
        monkeypatch.setenv("HUANGHE_URL", url)
        r = CliRunner().invoke(cli, ["alerts", "list"])
    assert r.exit_code == 3  # one convention for every server command (huanghe.cli.remote), issue #10
    assert "cannot reach the Huanghe server" in r.output and "Traceback" not in r.output
