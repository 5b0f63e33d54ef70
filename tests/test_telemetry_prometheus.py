"""A REAL Prometheus (Debian ``prometheus`` 2.42) scrapes the platform's /metrics on loopback.

Skipped when the ``prometheus`` binary is not installed (``apt-get install prometheus``); the daemon is
started on private ports with a private data directory and stopped by its PID.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import threading
import time
from pathlib import Path

import httpx
import pytest
import uvicorn

from tests.telemetry_support import app_client, sample

PROMETHEUS = shutil.which("prometheus")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.skipif(PROMETHEUS is None, reason="Debian package prometheus not installed")
def test_real_prometheus_scrapes_platform_metrics(tmp_path: Path) -> None:
    with app_client(f"sqlite:///{tmp_path / 'p.db'}") as client:
        client.post("/api/v1/telemetry", json={"samples": [sample("jn-sc", "pue", 1.3, "ratio")]})
        api_port, prom_port = _free_port(), _free_port()
        server = uvicorn.Server(
            uvicorn.Config(client.app, host="127.0.0.1", port=api_port, log_level="warning", lifespan="off")
        )
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        config = tmp_path / "prometheus.yml"
        config.write_text(
            "global: {scrape_interval: 1s, evaluation_interval: 1s}\n"
            "scrape_configs:\n"
            f"  - job_name: huanghe\n    static_configs: [{{targets: ['127.0.0.1:{api_port}']}}]\n"
        )
        proc = subprocess.Popen(
            [str(PROMETHEUS), f"--config.file={config}", f"--storage.tsdb.path={tmp_path / 'tsdb'}",
             f"--web.listen-address=127.0.0.1:{prom_port}"],
            stdout=subprocess.DEVNULL, stderr=(tmp_path / "prometheus.log").open("w"),
        )  # fmt: skip
        try:
            query = f"http://127.0.0.1:{prom_port}/api/v1/query"
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
            assert up and up[0]["value"][1] == "1", (tmp_path / "prometheus.log").read_text()[-2000:]
            assert ingested[0]["metric"]["source"] == "push" and float(ingested[0]["value"][1]) == 1.0
        finally:
            os.kill(proc.pid, signal.SIGTERM)
            proc.wait(timeout=15)
            server.should_exit = True
            thread.join(timeout=10)
