"""Two `huanghe up` replicas on one real PostgreSQL: exactly one runs the scheduler loop
(pg_try_advisory_lock); SIGKILL the leader by PID and the other takes over within a bounded time."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest

from tests import jobs_server as srv
from tests import jobs_testnet as net

TAKEOVER_BOUND_S = 5.0

pytestmark = pytest.mark.postgres


def _leading(url: str) -> bool:
    return bool(httpx.get(f"{url}/api/v1/scheduler", timeout=5).json()["leading"])


def test_one_leader_and_takeover_after_sigkill(tmp_path: Path, fresh_postgres_url: str) -> None:
    net.prepare_db(fresh_postgres_url, net.topology(net.local(tmp_path / "jn"), net.local(tmp_path / "qd")))
    a = srv.start(tmp_path, fresh_postgres_url, name="a")
    b = srv.start(tmp_path, fresh_postgres_url, name="b")
    try:
        deadline = time.monotonic() + 10
        while not (_leading(a.url) or _leading(b.url)):
            assert time.monotonic() < deadline, "nobody leads"
            time.sleep(0.05)
        for _ in range(20):  # never two leaders
            assert _leading(a.url) + _leading(b.url) == 1
            time.sleep(0.02)
        leader, follower = (a, b) if _leading(a.url) else (b, a)
        info = httpx.get(f"{follower.url}/api/v1/scheduler", timeout=5).json()
        assert info["lease"]["held"] and not info["leading"]

        leader.kill()  # SIGKILL by PID
        t0 = time.monotonic()
        while not _leading(follower.url):
            assert time.monotonic() - t0 < TAKEOVER_BOUND_S, "no takeover"
            time.sleep(0.02)
        took_s = time.monotonic() - t0
        print(f"takeover after SIGKILL of the leader: {took_s:.2f} s")

        jid = httpx.post(f"{follower.url}/api/v1/jobs", json={"command": "echo after takeover"}).json()["id"]
        job = srv.wait_terminal(follower.url, jid)
        assert job["state"] == "SUCCEEDED"
        logs = httpx.get(f"{follower.url}/api/v1/jobs/{jid}/logs", timeout=5).json()
        assert logs["data"] == "after takeover\n"
    finally:
        a.stop()
        b.stop()
