"""The telemetry loops inside the app (``huanghe up`` runs them): start-up backfill, simulated ticks marked
``simulated`` in the API, maintenance (rollups, alerts), counters in /metrics; off with the setting."""

from __future__ import annotations

import time
from pathlib import Path

from fastapi.testclient import TestClient
from typer.testing import CliRunner

from huanghe.api.app import create_app
from huanghe.settings import Settings
from huanghe.telemetry.settings import TelemetrySettings
from tests.telemetry_support import MINI, T0_MS, Clock


def _app(db: str, background: bool) -> TestClient:
    app = create_app(Settings(database_url=db, dev_mode=True))
    if hasattr(app.state, "scheduler_settings"):
        app.state.scheduler_settings.enabled = False
    app.state.telemetry_settings = TelemetrySettings(
        background=background, generator_interval_s=0.2, generator_backfill_h=1.0, scrape=False,
        maintenance_interval_s=0.2, seed=5,
    )  # fmt: skip
    app.state.clock = Clock(T0_MS)
    return TestClient(app)


def _import_mini(db: str) -> None:
    from huanghe.cli.main import app as cli

    r = CliRunner().invoke(cli, ["topology", "import", str(MINI), "--db", db])
    assert r.exit_code == 0, r.output


def test_loops_fill_the_database(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'bg.db'}"
    _import_mini(db)
    with _app(db, background=True) as client:
        deadline = time.monotonic() + 20
        points: list = []
        while time.monotonic() < deadline:
            body = client.get(
                "/api/v1/telemetry", params={"metric": "pue", "center": "jn-sc", "limit": 100}
            ).json()
            points = body["points"]
            rolled = client.get("/api/v1/telemetry", params={"metric": "pue", "step": "5m"}).json()["points"]
            if len(points) >= 13 and rolled:
                break
            time.sleep(0.1)
        assert body["simulated"] is True and all(p["source"] == "simulated" for p in points)
        # 1 h of 5-minute backfill (12 ticks) before "now", then ticks at "now" (fixed clock)
        assert len(points) >= 13
        assert points[0]["time"].startswith("2026-03-02T03:00") and points[-1]["time"].startswith(
            "2026-03-02T04:00"
        )
        assert all(1.0 <= p["value"] < 2.0 for p in points)
        metrics = client.get("/metrics").text
        line = next(
            x
            for x in metrics.splitlines()
            if x.startswith('huanghe_telemetry_samples_ingested_total{source="simulated"}')
        )
        assert float(line.split()[-1]) > 100


def test_loops_off(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'off.db'}"
    _import_mini(db)
    with _app(db, background=False) as client:
        time.sleep(0.5)
        assert client.get("/api/v1/telemetry", params={"metric": "pue"}).json()["points"] == []
        assert client.app.state.telemetry_runtime is None  # type: ignore[attr-defined]


def test_generate_command(tmp_path: Path) -> None:
    import json

    from huanghe.cli.main import app as cli

    out = tmp_path / "hist.json"
    r = CliRunner().invoke(cli, ["telemetry", "generate", "--hours", "1", "--network", str(MINI), "--out", str(out),
                                 "--end", "2026-03-02T04:00:00Z", "--seed", "3"])  # fmt: skip
    assert r.exit_code == 0, r.output
    batch = json.loads(out.read_text())
    assert batch["samples"] and {s["source"] for s in batch["samples"]} == {"simulated"}
    assert {"pool", "tier", "peer"} <= {k for s in batch["samples"] for k in s}
    # the file is a valid push: the API accepts it whole
    db = f"sqlite:///{tmp_path / 'push.db'}"
    _import_mini(db)
    with _app(db, background=False) as client:
        r = client.post("/api/v1/telemetry", json=batch)
        assert r.status_code == 201, r.text[:500]
        assert r.json()["accepted"] == len(batch["samples"])
    # into a database directly, then refused cleanly without a network
    r = CliRunner().invoke(
        cli, ["telemetry", "generate", "--hours", "0.5", "--db", db, "--end", "2026-03-02T04:00:00Z"]
    )
    assert r.exit_code == 0 and "stored" in r.output
    r = CliRunner().invoke(
        cli, ["telemetry", "generate", "--hours", "1", "--db", f"sqlite:///{tmp_path / 'none.db'}"]
    )
    assert r.exit_code == 1 and "no network" in r.output
    r = CliRunner().invoke(cli, ["telemetry", "generate", "--out", str(tmp_path / "x.csv")])
    assert r.exit_code == 2 and "--out" in r.output
    r = CliRunner().invoke(cli, ["telemetry", "generate"])
    assert r.exit_code == 2 and "exactly one" in r.output


def test_shutdown_stops_a_long_backfill(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'long.db'}"
    _import_mini(db)
    client = _app(db, background=True)
    client.app.state.telemetry_settings.generator_backfill_h = 24 * 365  # type: ignore[attr-defined]
    with client:
        time.sleep(0.3)
        started = time.monotonic()
    assert time.monotonic() - started < 5  # the backfill stopped between ticks, the app closed
    from huanghe.store.db import make_session_factory
    from huanghe.telemetry import service as telemetry

    factory = make_session_factory(db)
    with factory() as s:
        stored = telemetry.count_samples(s, "simulated")
    factory.kw["bind"].dispose()
    assert 0 < stored < 365 * 24 * 12 * 30  # some history, far from a year of it
