"""The test servers never lose their port to another process (tests/infra/ports.py and its users).

Each test makes the port a helper picks collide (another process holds it: a fake answering like the real
server, so that a health check that only asks "does something answer?" is fooled, or a bound socket that is
not listening, so that the daemon's bind fails and only its log tells) and checks that the helper still
starts its OWN server (by PID on the listening socket) and talks to it.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.infra import ports
from tests.infra.ports import (
    ThreadedUvicorn,
    free_port,
    listening_pids,
    port_owner,
    process_tree,
    refused_url,
)

#: What the impostor answers to every request: a healthy /healthz, a Slurm REST ping, a Ray node list.
IMPOSTOR_BODY = json.dumps(
    {
        "status": "ok",
        "database": "ok",
        "pings": [{"ping": "UP"}],
        "data": {"result": {"result": [{"state": "ALIVE"}]}},
    }
).encode()


async def _impostor(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """An ASGI app answering 200 and :data:`IMPOSTOR_BODY` to everything."""
    if scope["type"] != "http":
        return
    await send(
        {"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"application/json")]}
    )
    await send({"type": "http.response.body", "body": IMPOSTOR_BODY})


@pytest.fixture
def impostor() -> Iterator[ThreadedUvicorn]:
    """Another process's server (here: a thread of the test process) on a port a helper is about to pick."""
    with ThreadedUvicorn(_impostor, lifespan="off") as server:
        assert httpx.get(server.url + "/healthz", timeout=5).status_code == 200
        yield server


@pytest.fixture
def bound_port() -> Iterator[int]:
    """A port bound (not listening) by the test: a daemon told to listen there fails with EADDRINUSE."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield int(sock.getsockname()[1])


def colliding(taken: dict[int, int]) -> tuple[Callable[[], int], list[int]]:
    """A ``free_port`` that returns ``taken[n]`` on its n-th call (1-based) and a free port otherwise; the list
    records every port it returned."""
    handed: list[int] = []

    def pick() -> int:
        handed.append(taken.get(len(handed) + 1) or free_port())
        return handed[-1]

    return pick, handed


def _own(port: int, pid: int) -> None:
    assert port_owner(port, pid) == "ours", f"port {port} is not held by {pid}'s processes"


# ---- in-process uvicorn: the socket is bound before the server starts ----------------------------------------


def test_threaded_uvicorn_holds_its_port_before_it_starts() -> None:
    server = ThreadedUvicorn(_impostor, lifespan="off")
    try:
        with socket.socket() as rival, pytest.raises(OSError):  # nobody can take it between pick and start
            rival.bind(("127.0.0.1", server.port))
        server.start()
        assert httpx.get(server.url, timeout=5).content == IMPOSTOR_BODY
        assert listening_pids(server.port) == {os.getpid()}
    finally:
        server.stop()


def test_console_server_is_the_bound_first_server() -> None:
    from tests.test_console_web import _Server

    assert _Server is ThreadedUvicorn  # console_support, the console pages and enterprise tests use it


def test_refused_url_refuses_and_keeps_its_port() -> None:
    with refused_url("/x") as url:
        port = int(url.rsplit(":", 1)[1].split("/")[0])
        with pytest.raises(httpx.ConnectError):
            httpx.get(url, timeout=5)
        with socket.socket() as rival, pytest.raises(OSError):
            rival.bind(("127.0.0.1", port))


def test_wait_listening_tells_a_foreign_listener_from_a_lost_bind(impostor: ThreadedUvicorn) -> None:
    daemon = subprocess.Popen(["sleep", "60"])  # a "daemon" that never listens on the impostor's port
    try:
        assert process_tree(daemon.pid) == {daemon.pid}
        with pytest.raises(ports.PortTakenError, match="taken by another process"):
            ports.wait_listening(
                daemon.pid, [impostor.port], alive=lambda: True, log=str, timeout_s=5, what="x"
            )
        with refused_url() as url:  # nobody listens: the daemon's end and its log decide
            port = int(url.rsplit(":", 1)[1])
            with pytest.raises(ports.PortTakenError, match="taken before it bound it"):
                ports.wait_listening(daemon.pid, [port], alive=lambda: False, what="x", timeout_s=5,
                                     log=lambda: "FATAL: could not bind: Address already in use")  # fmt: skip
            with pytest.raises(RuntimeError, match="exited before listening") as other:
                ports.wait_listening(daemon.pid, [port], alive=lambda: False, log=lambda: "bad config",
                                     timeout_s=5, what="x")  # fmt: skip
            assert not isinstance(other.value, ports.PortTakenError)  # not retried: a real failure
    finally:
        daemon.kill()
        daemon.wait(timeout=5)


# ---- PostgreSQL ----------------------------------------------------------------------------------------------


@pytest.fixture
def pg_bin() -> Path:
    from tests.infra.postgres import find_pg_bin

    found = find_pg_bin()
    if found is None:
        pytest.skip("PostgreSQL binaries missing (make test-deps)")
    return found


def _data_directory(server: Any) -> str:
    import psycopg

    with psycopg.connect(server.dsn("postgres"), connect_timeout=5) as conn:
        row = conn.execute("SHOW data_directory").fetchone()
    assert row is not None
    return str(row[0])


def test_postgres_start_does_not_take_another_postgres_for_its_own(
    pg_bin: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The port picked first is another (real) PostgreSQL's: the old helper connected to it and called it
    ready while its own postmaster died of EADDRINUSE."""
    from tests.infra import postgres

    other = postgres.PostgresServer.start(pg_bin)
    try:
        pick, handed = colliding({1: other.port})
        monkeypatch.setattr(postgres, "free_port", pick)
        mine = postgres.PostgresServer.start(pg_bin)
        try:
            assert handed[0] == other.port and mine.port != other.port
            assert mine.process.poll() is None
            _own(mine.port, mine.pid)
            assert Path(_data_directory(mine)).resolve() == (mine.root / "data").resolve()
        finally:
            mine.stop()
        assert Path(_data_directory(other)).resolve() == (other.root / "data").resolve()
    finally:
        other.stop()


def test_postgres_start_retries_when_its_bind_fails(
    pg_bin: Path, bound_port: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.infra import postgres

    pick, handed = colliding({1: bound_port})
    monkeypatch.setattr(postgres, "free_port", pick)
    server = postgres.PostgresServer.start(pg_bin)
    try:
        assert handed[0] == bound_port and server.port == handed[1]
        assert "Address already in use" in server.log_file.read_text()  # the first start's own words
        _own(server.port, server.pid)
        assert Path(_data_directory(server)).resolve() == (server.root / "data").resolve()
    finally:
        server.stop()


def test_postgres_restore_refuses_a_taken_port_then_restores(pg_bin: Path) -> None:
    from tests.infra import postgres

    server = postgres.PostgresServer.start(pg_bin)
    try:
        server.cut()
        with socket.socket() as rival:
            rival.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            rival.bind(("127.0.0.1", server.port))
            rival.listen()
            with pytest.raises(postgres.PostgresUnavailableError, match=f"on its port {server.port}"):
                server.restore()
        server.restore()
        _own(server.port, server.pid)
        assert Path(_data_directory(server)).resolve() == (server.root / "data").resolve()
    finally:
        server.stop()


# ---- huanghe up (tests/jobs_server.py) -----------------------------------------------------------------------


def test_up_is_started_again_when_its_port_answers_for_someone_else(
    tmp_path: Path, impostor: ThreadedUvicorn, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The old helper saw the impostor's 200 on /healthz and returned a server whose process had exited."""
    from tests import jobs_server as srv

    pick, handed = colliding({1: impostor.port})
    monkeypatch.setattr(ports, "free_port", pick)  # spawn_on_free_port picks there
    server = srv.start(tmp_path, f"sqlite:///{tmp_path / 'up.db'}", HUANGHE_STORAGE_SERVERS="0")
    try:
        port = int(server.url.rsplit(":", 1)[1])
        assert handed[0] == impostor.port and port == handed[1]
        assert server.proc.poll() is None
        _own(port, server.proc.pid)
        assert (
            httpx.get(server.url + "/api/v1/centers", timeout=10).json()["total"] > 0
        )  # the impostor has none
    finally:
        server.stop()


def test_up_on_a_fixed_port_held_by_another_process_fails_clearly(
    tmp_path: Path, impostor: ThreadedUvicorn
) -> None:
    from tests import jobs_server as srv

    with pytest.raises(AssertionError, match=r"exited|held by another process"):
        srv.start(
            tmp_path, f"sqlite:///{tmp_path / 'up.db'}", port=impostor.port, HUANGHE_STORAGE_SERVERS="0"
        )


# ---- Slurm, Ray, Prometheus ----------------------------------------------------------------------------------


def test_slurm_daemons_start_again_on_new_ports(
    impostor: ThreadedUvicorn, bound_port: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """slurmctld's first port is bound by the test (it dies: EADDRINUSE), slurmrestd's first is the impostor's
    (the old helper's REST ping got the impostor's 200 and kept its URL)."""
    from tests.infra import slurm

    # calls: 1 slurmctld (bound) and 2 slurmd; 3 and 4 again after slurmctld died; 5 slurmrestd (impostor)
    pick, handed = colliding({1: bound_port, 5: impostor.port})
    monkeypatch.setattr(slurm, "free_port", pick)
    with slurm.private_slurm() as cluster:
        assert handed[0] == bound_port and handed[4] == impostor.port and len(handed) == 6
        assert "Address already in use" in (cluster.root / "slurmctld.log").read_text()
        conf = cluster.conf.read_text()
        assert f"SlurmctldPort={handed[2]}\n" in conf and f"SlurmdPort={handed[3]}\n" in conf
        _own(handed[2], cluster.procs["slurmctld"].pid)
        _own(handed[3], cluster.procs["slurmd"].pid)
        assert cluster.rest_url == f"http://127.0.0.1:{handed[5]}"
        _own(handed[5], cluster.procs["slurmrestd"].pid)
        r = httpx.get(f"{cluster.rest_url}/slurm/{slurm.REST_VERSION}/ping", timeout=10,
                      headers={"X-SLURM-USER-NAME": slurm.JOB_USER, "X-SLURM-USER-TOKEN": cluster.token()})  # fmt: skip
        assert r.status_code == 200 and r.content != IMPOSTOR_BODY


def test_ray_head_starts_again_when_its_dashboard_port_answers_for_someone_else(
    impostor: ThreadedUvicorn, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The old helper asked the impostor for the node list, saw ALIVE and returned a head whose Ray had died."""
    import shutil

    from tests.infra import ray

    if ray.ray_binary() is None:
        pytest.skip("ray is not installed: pip install 'ray[default]'")
    # calls per start: the dashboard port, the GCS port, the dashboard agent's port; call 1 is the impostor's
    pick, handed = colliding({1: impostor.port})
    monkeypatch.setattr(ray, "free_port", pick)
    head = ray.start_ray(timeout_s=120)
    try:
        assert handed[0] == impostor.port and len(handed) == 6, handed
        assert head.address == f"http://127.0.0.1:{handed[3]}"
        assert head.proc.poll() is None
        _own(handed[3], head.proc.pid)
        _own(handed[4], head.proc.pid)
        nodes = httpx.get(f"{head.address}/api/v0/nodes", timeout=10).json()["data"]["result"]["result"]
        assert nodes and all("node_id" in n for n in nodes)  # a real node list, not the impostor's
    finally:
        head.stop()
        shutil.rmtree(head.temp_dir, ignore_errors=True)


def test_prometheus_starts_again_when_its_port_is_taken(
    tmp_path: Path, impostor: ThreadedUvicorn, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.infra import prometheus

    if prometheus.PROMETHEUS is None:
        pytest.skip("Debian package prometheus not installed")
    config = tmp_path / "prometheus.yml"
    config.write_text("global: {scrape_interval: 1s}\nscrape_configs: []\n")
    pick, handed = colliding({1: impostor.port})
    monkeypatch.setattr(ports, "free_port", pick)  # spawn_on_free_port picks there
    prom = prometheus.start_prometheus(config, tmp_path)
    try:
        assert handed[0] == impostor.port and prom.port == handed[1]
        _own(prom.port, prom.proc.pid)
        r = httpx.get(f"{prom.url}/api/v1/status/buildinfo", timeout=10)
        assert r.status_code == 200 and r.json()["data"]["version"]
    finally:
        prom.stop()


def test_a_failing_up_is_run_again_when_its_port_was_taken(
    impostor: ThreadedUvicorn, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A test of `up`'s failure after it bound its port (here: a bad database URL) saw "cannot listen" instead
    when another process had taken the port."""
    from typer.testing import CliRunner

    from huanghe.cli.main import app

    pick, handed = colliding({1: impostor.port})
    monkeypatch.setattr(ports, "free_port", pick)
    r = ports.run_on_free_port(
        lambda port: CliRunner().invoke(app, ["up", "--port", str(port), "--db", "nosuchdb://x"]),
        lambda r: r.output,
    )
    assert handed[0] == impostor.port and len(handed) == 2
    assert r.exit_code == 1 and "cannot open or migrate the database" in r.output, r.output
