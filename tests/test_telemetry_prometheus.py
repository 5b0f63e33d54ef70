"""A REAL Prometheus (Debian ``prometheus`` 2.42) scrapes the platform's /metrics on loopback.

Skipped when the ``prometheus`` binary is not installed (``apt-get install prometheus``); the daemon is
started on private ports with a private data directory and stopped by its PID (tests/infra/prometheus.py).
"""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest

from tests.infra.ports import ThreadedUvicorn
from tests.infra.prometheus import PROMETHEUS, start_prometheus
from tests.telemetry_support import app_client, sample


@pytest.mark.skipif(PROMETHEUS is None, reason="Debian package prometheus not installed")
def test_real_prometheus_scrapes_platform_metrics(tmp_path: Path) -> None:
    with (
        app_client(f"sqlite:///{tmp_path / 'p.db'}") as client,
        ThreadedUvicorn(client.app, lifespan="off") as server,  # its socket bound before it starts
    ):
        client.post("/api/v1/telemetry", json={"samples": [sample("jn-sc", "pue", 1.3, "ratio")]})
        config = tmp_path / "prometheus.yml"
        config.write_text(
            "global: {scrape_interval: 1s, evaluation_interval: 1s}\n"
            "scrape_configs:\n"
            f"  - job_name: huanghe\n    static_configs: [{{targets: ['127.0.0.1:{server.port}']}}]\n"
        )
        prom = start_prometheus(config, tmp_path)  # its own port: retried if taken, checked by PID
        try:
            query = f"{prom.url}/api/v1/query"
            ingested: list = []
            up: list = []
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                try:
                    up = httpx.get(query, params={"query": 'up{job="huanghe"}'}, timeout=2).json()["data"][
                        "result"
                    ]
                    ingested = httpx.get(
                        query, params={"query": "huanghe_telemetry_samples_ingested_total"}, timeout=2
                    ).json()["data"]["result"]
                except (httpx.HTTPError, KeyError, ValueError):
                    pass
                if up and up[0]["value"][1] == "1" and ingested:
                    break
                time.sleep(0.3)
            assert up and up[0]["value"][1] == "1", prom.log.read_text()[-2000:]
            assert ingested[0]["metric"]["source"] == "push" and float(ingested[0]["value"][1]) == 1.0
        finally:
            prom.stop()
