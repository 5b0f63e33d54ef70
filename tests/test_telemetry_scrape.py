"""Scraping a REAL Prometheus exporter: a prometheus_client exporter process on a loopback port (stopped by
its PID), parsed with prometheus_client's text parser and mapped to our metrics."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from huanghe.catalog.topology import load_topology
from huanghe.network import topology_store as topology_store
from huanghe.network.models import CenterRow
from huanghe.store.db import make_session_factory
from huanghe.store.migrate import migrate
from huanghe.telemetry import scrape
from huanghe.telemetry import service as telemetry
from huanghe.telemetry.models import ExporterRow
from tests.infra.ports import refused_url
from tests.telemetry_support import MINI, T0_MS

EXPORTER = textwrap.dedent(
    """
    import time
    from prometheus_client import CollectorRegistry, Gauge, start_http_server
    reg = CollectorRegistry()
    Gauge("huanghe_pue_ratio", "PUE", registry=reg).set(1.27)
    u = Gauge("huanghe_utilisation_ratio", "util", ["pool"], registry=reg)
    u.labels("jn-sc-cpu").set(0.625)
    u.labels("no-such-pool").set(0.5)  # invalid: dropped, reported
    s = Gauge("huanghe_storage_used_tb", "used", ["medium", "temperature"], registry=reg)
    s.labels("flash", "hot").set(1750)
    g = Gauge("DCGM_FI_DEV_GPU_UTIL", "gpu util %", ["gpu", "pool"], registry=reg)
    g.labels("0", "jn-sc-dcu").set(80)
    g.labels("1", "jn-sc-dcu").set(60)
    w = Gauge("DCGM_FI_DEV_POWER_USAGE", "gpu power W", ["gpu", "pool"], registry=reg)
    w.labels("0", "jn-sc-dcu").set(300)
    w.labels("1", "jn-sc-dcu").set(250)
    Gauge("node_load1", "not mapped", registry=reg).set(3)
    server, _ = start_http_server(0, addr="127.0.0.1", registry=reg)  # the port bound here: nobody can take it
    print("ready", server.server_port, flush=True)
    while True:
        time.sleep(1)
    """
)


@pytest.fixture
def exporter_url() -> Iterator[str]:
    proc = subprocess.Popen([sys.executable, "-c", EXPORTER], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        ready, port = (
            proc.stdout.readline().split()
        )  # the port the exporter bound (port 0: chosen by the kernel)
        assert ready == "ready"
        url = f"http://127.0.0.1:{port}/metrics"
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                if httpx.get(url, timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.05)
        yield url
    finally:
        os.kill(proc.pid, signal.SIGTERM)
        proc.wait(timeout=10)


@pytest.fixture
def factory(tmp_path: Path) -> Iterator[sessionmaker[Session]]:
    url = f"sqlite:///{tmp_path / 's.db'}"
    migrate(url)
    f = make_session_factory(url)
    with f() as s:
        topology_store.import_topology(s, load_topology(str(MINI)))
    yield f
    f.kw["bind"].dispose()


def test_scrape_real_exporter(factory: sessionmaker[Session], exporter_url: str) -> None:
    with refused_url("/metrics") as dead, factory() as s:  # dead: bound, not listening, held by the test
        s.execute(update(CenterRow).where(CenterRow.id == "jn-sc").values(exporters=[exporter_url]))
        s.execute(update(CenterRow).where(CenterRow.id == "qd-ai").values(exporters=[dead]))
        s.commit()
        results = {r.center: r for r in scrape.scrape_all(s, T0_MS, timeout_s=2)}
    ok, down = results["jn-sc"], results["qd-ai"]
    assert ok.stored == 5 and ok.dropped == 1
    assert "no-such-pool" in ok.error
    assert down.stored == 0 and "ConnectError" in down.error
    with factory() as s:

        def latest(metric: str, subject: str = "") -> float:
            series = telemetry.read_series(s, metric=metric, center="jn-sc", subject=subject)
            assert all(p.source == "scrape" for p in series.points)
            return series.points[-1].value  # type: ignore[return-value]

        assert latest("pue") == 1.27
        assert latest("utilisation", "jn-sc-cpu") == 0.625
        assert latest("utilisation", "jn-sc-dcu") == pytest.approx(0.70)  # mean of 80 % and 60 %
        assert latest("it_power_kw", "jn-sc-dcu") == pytest.approx(0.55)  # 300 W + 250 W
        assert latest("storage_used_tb", "flash/hot") == 1750
        rows = {r.center_id: r for r in s.scalars(select(ExporterRow))}
        assert rows["jn-sc"].last_samples == 5 and rows["jn-sc"].last_scrape_ms == T0_MS
        # each exporter is scraped at its own interval (default 60 s)
        assert scrape.scrape_all(s, T0_MS + 30_000, timeout_s=2) == []
        assert {r.center for r in scrape.scrape_all(s, T0_MS + 60_000, timeout_s=2)} == {"jn-sc", "qd-ai"}
        assert rows["qd-ai"].last_error.startswith("ConnectError")
        # the exporter list follows the centers: removing the URL drops the config
        s.execute(update(CenterRow).where(CenterRow.id == "qd-ai").values(exporters=[]))
        s.commit()
        assert scrape.sync_exporters(s) == 1
        assert [r["center"] for r in scrape.exporter_status(s)] == ["jn-sc"]


def test_map_exposition_with_timestamps() -> None:
    text = (
        "# TYPE huanghe_link_latency_ms gauge\n"
        'huanghe_link_latency_ms{peer="qd-ai"} 4.5 1772424000000\n'
        "# TYPE huanghe_facility_power_kw gauge\n"
        "huanghe_facility_power_kw 1200\n"
        "# TYPE something_else gauge\n"
        "something_else 1\n"
    )
    mapped = scrape.map_exposition(text, scrape_ms=123)
    assert [(m.metric, m.subject, m.time_ms, m.value) for m in mapped] == [
        ("facility_power_kw", "", 123, 1200.0),
        ("link_latency_ms", "qd-ai", 1_772_424_000_000, 4.5),
    ]
