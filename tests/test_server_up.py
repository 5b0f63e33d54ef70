"""`huanghe up` as a real subprocess on a free port with a temp SQLite DB; `huanghe topology import`."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from huanghe.catalog.topology import load_topology
from huanghe.cli.main import app
from huanghe.network import service as network_svc
from huanghe.network import topology_store as topology_store
from huanghe.store.db import make_session_factory
from tests.infra.ports import run_on_free_port, spawn_on_free_port

REPO = Path(__file__).resolve().parents[1]
SERVE_DEADLINE_S = 60.0


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-c", "from huanghe.cli.main import app; app()", *args]


def _env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HUANGHE_")}
    env["HUANGHE_DATA_DIR"] = str(tmp_path / "data")
    env["HUANGHE_DEV_MODE"] = "1"  # local launcher: no auth, no session secret needed
    env["PYTHONPATH"] = str(REPO)
    return env


def test_up_serves_health_and_centers(tmp_path: Path, mini_network_path: Path) -> None:
    db = tmp_path / "db" / "huanghe.db"
    started = time.monotonic()

    def spawn(port: int) -> subprocess.Popen[bytes]:
        with open(tmp_path / "up.log", "ab") as log:
            return subprocess.Popen(
                _cli("up", "--port", str(port), "--db", f"sqlite:///{db}", "--network", str(mini_network_path)),
                stdout=log, stderr=subprocess.STDOUT, cwd=tmp_path, env=_env(tmp_path), start_new_session=True,
            )  # fmt: skip

    # a free port, chosen again if another process takes it first; returns once this `up` (by PID) listens there
    proc, port = spawn_on_free_port(spawn, tmp_path / "up.log", what="huanghe up", timeout_s=SERVE_DEADLINE_S)
    base = f"http://127.0.0.1:{port}"
    try:
        health = None
        while time.monotonic() - started < SERVE_DEADLINE_S:
            assert proc.poll() is None, (tmp_path / "up.log").read_text()
            try:
                health = httpx.get(f"{base}/healthz", timeout=2)
                break
            except httpx.TransportError:
                time.sleep(0.1)
        elapsed = time.monotonic() - started
        assert health is not None, f"not serving after {SERVE_DEADLINE_S} s"
        print(f"huanghe up: serving /healthz after {elapsed:.2f} s")
        assert elapsed < SERVE_DEADLINE_S
        assert health.json()["status"] == "ok" and health.json()["database"] == "ok"
        centers = httpx.get(f"{base}/api/v1/centers", timeout=5).json()
        assert centers["total"] == 3 and [c["id"] for c in centers["items"]] == ["jn-sc", "qd-ai", "yt-edge"]
        assert httpx.get(f"{base}/docs", timeout=5).status_code == 200
    finally:
        os.kill(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(timeout=5)
    out = (tmp_path / "up.log").read_text()
    assert f"Huanghe serving on http://127.0.0.1:{port}" in out
    assert "imported network mini" in out
    assert db.exists()


runner = CliRunner()


def test_up_with_bad_network_exits_with_message(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\nregions: []\ncities: []\n")
    args = ["--db", f"sqlite:///{tmp_path / 'x.db'}", "--network", str(bad)]
    r = run_on_free_port(
        lambda port: runner.invoke(app, ["up", "--port", str(port), *args]), lambda r: r.output
    )
    assert r.exit_code == 1
    assert "regions: " in r.output and "invalid topology" in r.output


def test_up_with_bad_db_url_exits_with_message(tmp_path: Path) -> None:
    r = run_on_free_port(lambda port: runner.invoke(app, ["up", "--port", str(port), "--db", "nosuchdb://x"]),
                         lambda r: r.output)  # fmt: skip
    assert r.exit_code == 1
    assert "cannot open or migrate the database" in r.output


def test_topology_import_merge_and_replace(tmp_path: Path, mini_network_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'imp.db'}"
    r = runner.invoke(app, ["topology", "import", str(mini_network_path), "--db", url, "--json"])
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout) == {
        "name": "mini", "mode": "merge", "regions": 2, "cities": 3, "centers": 3, "pools": 3, "links": 2,
    }  # fmt: skip
    factory = make_session_factory(url)
    with factory() as s:
        assert topology_store.export_topology(s) == load_topology(mini_network_path)
    smaller = tmp_path / "small.yaml"
    text = mini_network_path.read_text().split("  - id: qd-ai\n")[0]
    smaller.write_text(text + "links: []\n")
    r = runner.invoke(app, ["topology", "import", str(smaller), "--db", url, "--replace"])
    assert r.exit_code == 0, r.output
    assert "(replace)" in r.stdout and "1 centers" in r.stdout
    with factory() as s:
        assert network_svc.count_centers(s) == 1
    factory.kw["bind"].dispose()


def test_topology_import_bad_file(tmp_path: Path, mini_network_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(mini_network_path.read_text().replace("nodes: 64", "nodes: -64"))
    r = runner.invoke(app, ["topology", "import", str(bad), "--db", f"sqlite:///{tmp_path / 'b.db'}"])
    assert r.exit_code == 1
    assert "centers[1].pools[0].nodes: must be >= 0" in r.output


@pytest.mark.postgres
def test_topology_import_into_postgres(fresh_postgres_url: str, mini_network_path: Path) -> None:
    r = runner.invoke(app, ["topology", "import", str(mini_network_path), "--db", fresh_postgres_url])
    assert r.exit_code == 0, r.output
    assert "imported mini into postgresql+psycopg://postgres@127.0.0.1" in r.stdout and "(merge)" in r.stdout
