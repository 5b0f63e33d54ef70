"""A real single-node Ray head (with the dashboard's Jobs API) for the back-end tests.

Started once per session (~1.7 GB RAM idle) with ``ray start --head --block`` on loopback, a short private
``--temp-dir`` and private ports; stopped by killing that PID (Ray then stops its own children). Skipped
when ``ray`` is not installed (``pip install 'ray[default]'``, part of the dev extra).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.infra.ports import (
    PortTakenError,
    free_port,
    kill_processes,
    process_starts,
    start_with_retry,
    wait_listening,
)


@dataclass
class RayHead:
    """A running Ray head: Jobs API ``address`` (http://127.0.0.1:PORT), its temp dir and process;
    ``gcs_address`` (127.0.0.1:PORT) is what a driver joins with ``ray.init(address=...)``."""

    address: str
    temp_dir: Path
    proc: subprocess.Popen[bytes]
    gcs_address: str = ""

    def stop(self) -> None:
        """Stop by PID: SIGTERM to ``ray start --block`` (it tears the node down), SIGKILL after 15 s; then
        SIGKILL whatever of its process tree (as it was before the SIGTERM) is left (a head whose GCS died
        leaves its raylet and dashboard behind)."""
        tree = process_starts(self.proc.pid) if self.proc.poll() is None else {}
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
        kill_processes(tree)


def ray_binary() -> str | None:
    exe = Path(sys.executable).with_name("ray")
    return str(exe) if exe.exists() else shutil.which("ray")


def start_ray(timeout_s: float = 60.0) -> RayHead:
    """Start the head on free ports (chosen again, up to 3 starts, when another process takes one first) and
    wait until its own processes (by PID) listen on the GCS and dashboard ports and the dashboard reports the
    node ALIVE (``/api/v0/nodes``)."""
    exe = ray_binary()
    if exe is None:
        raise RuntimeError("ray is not installed: pip install 'ray[default]'")
    return start_with_retry(lambda: _start_head(exe, timeout_s))


def _ray_logs(temp_dir: Path) -> str:
    """What ``ray start`` and the GCS wrote (where a port lost to another process shows)."""
    logs = [temp_dir / "ray-start.log", *sorted(temp_dir.glob("session_latest/logs/gcs_server.*"))]
    return "".join(p.read_text(errors="replace") for p in logs if p.is_file())


def _start_head(exe: str, timeout_s: float) -> RayHead:
    temp_dir = Path(tempfile.mkdtemp(prefix="hhray", dir="/tmp"))
    dash = free_port()
    gcs = free_port()
    # the dashboard agent's HTTP port (Ray's default 52365 is fixed: a head started second in another checkout
    # had no job agent, and every submit answered "No available agent to submit job")
    agent = free_port()
    env = {
        **os.environ,
        "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0",
        "RAY_USAGE_STATS_ENABLED": "0",
        "RAY_DISABLE_DOCKER_CPU_WARNING": "1",
        "RAY_AUTH_MODE": "disabled",  # a token in ~/.ray/auth_token would otherwise turn on auth (401s)
    }
    with (temp_dir / "ray-start.log").open("wb") as log:
        proc = subprocess.Popen(
            [exe, "start", "--head", "--block", "--node-ip-address=127.0.0.1", "--dashboard-host=127.0.0.1",
             f"--dashboard-port={dash}", f"--port={gcs}", f"--dashboard-agent-listen-port={agent}", "--num-cpus=2",
             "--include-dashboard=true", "--disable-usage-stats", f"--temp-dir={temp_dir}"],
            env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
    head = RayHead(f"http://127.0.0.1:{dash}", temp_dir, proc, gcs_address=f"127.0.0.1:{gcs}")
    deadline = time.monotonic() + timeout_s
    try:
        wait_listening(proc.pid, [gcs, dash, agent], alive=lambda: proc.poll() is None,
                       log=lambda: _ray_logs(temp_dir), timeout_s=timeout_s, what="ray head",
                       log_while_alive=True)  # fmt: skip
    except (PortTakenError, RuntimeError):
        head.stop()
        shutil.rmtree(temp_dir, ignore_errors=True)
        raise
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            break
        with contextlib.suppress(httpx.HTTPError, ValueError, KeyError):
            r = httpx.get(f"{head.address}/api/v0/nodes", timeout=2)
            if r.status_code == 200 and any(
                n.get("state") == "ALIVE" for n in r.json()["data"]["result"]["result"]
            ):
                return head
        time.sleep(0.2)
    head.stop()
    tail = (temp_dir / "ray-start.log").read_text(errors="replace")[-2000:]
    shutil.rmtree(temp_dir, ignore_errors=True)
    raise RuntimeError(f"Ray head not ready after {timeout_s} s\n{tail}")


@pytest.fixture(scope="session")
def ray_cluster() -> Iterator[RayHead]:
    """A private Ray head for the whole session, stopped by PID at the end."""
    if ray_binary() is None:
        pytest.skip("ray is not installed: pip install 'ray[default]'")
    head = start_ray()
    try:
        yield head
    finally:
        head.stop()
        with contextlib.suppress(OSError):
            shutil.rmtree(head.temp_dir)
