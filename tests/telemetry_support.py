"""Shared helpers of the telemetry / alerts / observatory-API tests: an app on a fresh database with the mini
network imported, background loops off and a fixed, settable clock."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from fastapi.testclient import TestClient

from huanghe.api.app import create_app
from huanghe.settings import Settings

MINI = Path(__file__).parent / "data" / "mini_network.yaml"
#: 2026-03-02T04:00:00Z (a Monday, 12:00 in Beijing).
T0_MS = 1_772_424_000_000


class Clock:
    """Settable clock in seconds (``app.state.clock``)."""

    def __init__(self, now_ms: int = T0_MS) -> None:
        self.now_ms = now_ms

    def __call__(self) -> float:
        return self.now_ms / 1000


@contextmanager
def app_client(db_url: str, network: Path | None = MINI, clock: Clock | None = None) -> Iterator[TestClient]:
    """A TestClient on ``db_url`` (migrated at start-up), the network imported, telemetry loops off."""
    app = create_app(Settings(database_url=db_url, dev_mode=True))
    app.state.telemetry_settings.background = False
    if hasattr(app.state, "scheduler_settings"):
        app.state.scheduler_settings.enabled = False
    app.state.clock = clock or Clock()
    with TestClient(app) as client:
        if network is not None:
            r = client.put(
                "/api/v1/topology", content=network.read_bytes(), headers={"content-type": "application/yaml"}
            )
            assert r.status_code == 200, r.text
        yield client


def sample(center: str, metric: str, value: float, unit: str, time_ms: int = T0_MS, **extra: object) -> dict:
    from datetime import UTC, datetime

    when = datetime.fromtimestamp(time_ms / 1000, tz=UTC).isoformat()
    return {"center": center, "metric": metric, "time": when, "value": value, "unit": unit, **extra}
