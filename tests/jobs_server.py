"""Start and stop `huanghe up` as a subprocess for the jobs end-to-end, crash and leader tests (by PID)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import yaml

from huanghe.catalog.topology import resolve
from tests.infra.ports import free_port, port_owner, spawn_on_free_port

__all__ = ["Server", "cli", "env", "free_port", "start", "wait_serving", "wait_terminal"]
from tests.jobs_testnet import LOCAL_ACCOUNT_TIMEOUT_S, TERMINAL, wait_state

REPO = Path(__file__).resolve().parents[1]
SERVE_DEADLINE_S = 60.0
#: A dispatch a kill interrupted is resolved after a restart once no submit can still be in flight
#: (``max_submit_s`` + the lease TTL, huanghe/jobs/recovery.py): soon here. The dispatcher refuses a back-end whose
#: submit bound exceeds it, so the test networks' local pools wait at most LOCAL_ACCOUNT_TIMEOUT_S for a tenant's
#: account (their bound: that + the back-end's allowance for files and process, 10 s).
MAX_SUBMIT_S = "20"


def cli(*args: str) -> list[str]:
    return [sys.executable, "-c", "from huanghe.cli.main import app; app()", *args]


def env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """A clean environment: no HUANGHE_* from outside, data dir under ``tmp_path``, fast scheduler."""
    out = {k: v for k, v in os.environ.items() if not k.startswith("HUANGHE_")}
    out["HUANGHE_DATA_DIR"] = str(tmp_path / "data")
    out["PYTHONPATH"] = str(REPO)
    out["HUANGHE_SCHEDULER_INTERVAL_S"] = "0.05"
    out["HUANGHE_SCHEDULER_MAX_SUBMIT_S"] = MAX_SUBMIT_S  # see MAX_SUBMIT_S
    out["HUANGHE_DEV_MODE"] = "1"  # no authentication in these tests
    out["HUANGHE_RATE_LIMIT_PER_S"] = "1000000"  # the storm must not be throttled
    out["HUANGHE_RATE_LIMIT_BURST"] = "1000000"
    out["HUANGHE_STORAGE_SERVERS"] = "0"  # no dev storage: a SIGKILLed `up` cannot stop its servers
    out.update(extra)
    return out


@dataclass
class Server:
    proc: subprocess.Popen[bytes]
    url: str
    log: Path

    def kill(self, sig: signal.Signals = signal.SIGKILL) -> None:
        """Send ``sig`` to the server (its PID only) and wait for it to end."""
        if self.proc.poll() is None:
            os.kill(self.proc.pid, sig)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.kill(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=5)

    def stop(self) -> None:
        self.kill(signal.SIGTERM)


def network_file(tmp_path: Path, network: str) -> Path:
    """The bundled ``network`` (or file) with every local pool's account wait set to LOCAL_ACCOUNT_TIMEOUT_S, so
    its submit bound stays under MAX_SUBMIT_S (written under ``tmp_path``)."""
    data = yaml.safe_load(resolve(network)[1])
    for center in data.get("centers") or []:
        for pool in center.get("pools") or []:
            if pool.get("backend", "local") == "local":
                settings = pool.get("backend_settings") or {}
                pool["backend_settings"] = {"account_timeout_s": LOCAL_ACCOUNT_TIMEOUT_S, **settings}
    path = tmp_path / f"network-{Path(network).stem}.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def start(
    tmp_path: Path, db_url: str, *, name: str = "up", port: int | None = None, network: str | None = "shandong-mini",
    wait: bool = True, workers: int = 1, **extra_env: str,
) -> Server:  # fmt: skip
    """`huanghe up` on ``db_url`` (``--workers N`` when ``workers`` > 1: PostgreSQL); returns once /healthz
    answers (unless ``wait`` is False). ``network`` defaults to the small ``shandong-mini`` (fast start-up); None =
    the server's default (the calibrated ``shandong``).

    Without ``port``, a free port is chosen, and chosen again (up to 3 starts) when another process takes it
    before `up` binds it; either way the start only counts once `up` itself (by PID) listens on the port."""
    args = [
        "--db",
        db_url,
        "--log-level",
        "warning",
        "--network",
        str(network_file(tmp_path, network or "shandong")),
    ]
    if workers > 1:
        args += ["--workers", str(workers)]
    log = tmp_path / f"{name}.log"

    def spawn(chosen: int) -> subprocess.Popen[bytes]:
        with open(log, "ab") as out:
            return subprocess.Popen(
                cli("up", "--port", str(chosen), *args), stdout=out, stderr=subprocess.STDOUT, cwd=tmp_path,
                env=env(tmp_path, **extra_env), start_new_session=True,
            )  # fmt: skip

    if port is None:  # `up` binds first thing: a port lost to another process shows at once, tried again
        proc, port = spawn_on_free_port(spawn, log, what="huanghe up", timeout_s=SERVE_DEADLINE_S)
    else:
        proc = spawn(port)
    server = Server(proc, f"http://127.0.0.1:{port}", log)
    if wait:
        wait_serving(server)
    return server


def wait_serving(server: Server, deadline_s: float = SERVE_DEADLINE_S) -> float:
    """Seconds until /healthz answered from this server's own process (the PID listening on its port); fails
    with the server log if it died, another process holds its port, or it took too long."""
    t0 = time.monotonic()
    port = int(server.url.rsplit(":", 1)[1])
    while time.monotonic() - t0 < deadline_s:
        if server.proc.poll() is not None:
            raise AssertionError(f"server exited: {server.log.read_text()[-3000:]}")
        owner = port_owner(port, server.proc.pid)
        if owner == "foreign":
            server.kill()
            raise AssertionError(
                f"port {port} is held by another process, not by huanghe up {server.proc.pid}"
            )
        try:
            if owner == "ours" and httpx.get(f"{server.url}/healthz", timeout=2).status_code == 200:
                return time.monotonic() - t0
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    server.kill()
    raise AssertionError(f"not serving after {deadline_s} s: {server.log.read_text()[-3000:]}")


def wait_terminal(url: str, job_id: str, timeout_s: float = 30.0) -> dict[str, object]:
    return wait_state(lambda path: httpx.get(url + path, timeout=10), job_id, timeout_s=timeout_s)


def final_jobs(c: httpx.Client, job_ids: Iterable[str], deadline: float) -> dict[str, dict[str, Any]]:
    """Each job of ``job_ids`` as it ended (SUCCEEDED, FAILED or CANCELLED), polled every 0.05 s through ``c``;
    fails when one is unknown (an acknowledged job lost) or has not ended by ``deadline`` (``time.monotonic``
    seconds)."""
    final: dict[str, dict[str, Any]] = {}
    for jid in job_ids:
        while True:
            r = c.get(f"/api/v1/jobs/{jid}")
            assert r.status_code == 200, f"acknowledged job {jid} lost: {r.text}"
            job: dict[str, Any] = r.json()
            if job["state"] in TERMINAL:
                final[jid] = job
                break
            assert time.monotonic() < deadline, f"{jid} stuck in {job['state']}"
            time.sleep(0.05)
    return final


def wait_none_active(c: httpx.Client, deadline: float) -> None:
    """Until no job is PENDING or RUNNING (those stored but never acknowledged finish too), polled every 0.1 s;
    fails after ``deadline`` (``time.monotonic`` seconds)."""
    while (
        c.get("/api/v1/jobs", params={"state": "PENDING", "limit": 1}).json()["total"]
        or c.get("/api/v1/jobs", params={"state": "RUNNING", "limit": 1}).json()["total"]
    ):
        assert time.monotonic() < deadline
        time.sleep(0.1)
