"""Replica faults on a real PostgreSQL (issue #16): three `huanghe up` replicas under a bounded submission
storm; the leader of the scheduler is SIGKILLed, then a follower, then both come back. No acknowledged job is
lost or run twice, every background loop (scheduler, data, risk, telemetry) is taken over within 5 s, the audit
chain verifies. And a database outage: requests fail with 503 and ``Retry-After`` (never 500), nothing is
half-written, the service resumes by itself."""

from __future__ import annotations

import itertools
import threading
import time
from collections import Counter
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

from huanghe.audit import service as audit
from tests import jobs_server as srv
from tests import jobs_testnet as net
from tests.infra.postgres import PostgresServer

pytestmark = pytest.mark.postgres
LOOPS = ("scheduler", "data", "risk", "telemetry")
TAKEOVER_S = 5.0
COMMAND = 'echo "$HUANGHE_PLATFORM_JOB_ID" > ran.txt'


def _runs(root: Path) -> list[str]:
    return [j for f in sorted(root.glob("*/local-*/work/ran.txt")) for j in f.read_text().split()]


def _leases(url: str) -> dict[str, tuple[str, int]]:
    """Loop name → (holder's pid, epoch) from the lease rows."""
    engine = create_engine(url)
    try:
        with engine.connect() as c:
            rows = c.execute(text("SELECT name, holder, epoch FROM leader_lease")).all()
    finally:
        engine.dispose()
    return {str(n): (str(h).split(":")[1], int(e)) for n, h, e in rows}


def _wait_leases(
    url: str, alive: set[str], since: dict[str, tuple[str, int]] | None, deadline_s: float
) -> float:
    """Seconds until every loop is held by a live replica (with a newer epoch than ``since`` when its
    holder then was not alive); fails listing the loops without a live leader."""
    t0 = time.monotonic()
    while True:
        leases = _leases(url)
        missing = [
            n for n in LOOPS
            if n not in leases or leases[n][0] not in alive
            or (since is not None and n in since and since[n][0] not in alive and leases[n][1] <= since[n][1])
        ]  # fmt: skip
        if not missing:
            return time.monotonic() - t0
        assert time.monotonic() - t0 < deadline_s, f"loops without a live leader: {missing} ({leases})"
        time.sleep(0.05)


def test_three_replicas_survive_leader_and_follower_kills(tmp_path: Path, fresh_postgres_url: str) -> None:
    url = fresh_postgres_url
    net.prepare_db(url, net.topology(net.local(tmp_path / "jn"), net.local(tmp_path / "qd")))
    reps = [srv.start(tmp_path, url, name=f"r{i}", HUANGHE_TELEMETRY_BACKGROUND="1") for i in range(3)]
    pids = {str(r.proc.pid): r for r in reps}
    acked: list[str] = []
    errors: list[str] = []
    lock = threading.Lock()
    stop = threading.Event()

    def storm(k: int) -> None:
        urls = itertools.cycle([r.url for r in reps])
        for i in range(400):
            if stop.is_set():
                return
            base = next(urls)
            try:
                r = httpx.post(
                    f"{base}/api/v1/jobs", json={"command": COMMAND, "name": f"s{k}-{i}"}, timeout=5
                )
            except httpx.TransportError:
                continue  # that replica is down: not acknowledged, try the next one
            if 200 <= r.status_code < 300:
                with lock:
                    acked.append(r.json()["id"])
            else:
                errors.append(f"{r.status_code} {r.text[:200]}")

    try:
        _wait_leases(url, set(pids), None, 20.0)
        threads = [threading.Thread(target=storm, args=(k,)) for k in range(3)]
        for t in threads:
            t.start()
        while len(acked) < 60:
            time.sleep(0.01)
        before = _leases(url)
        leader = pids[before["scheduler"][0]]
        leader.kill()  # SIGKILL the scheduler's leader mid-storm
        alive = {p for p, r in pids.items() if r is not leader}
        took = _wait_leases(url, alive, before, TAKEOVER_S)
        print(f"takeover of every loop after the leader's SIGKILL: {took:.2f} s")
        while len(acked) < 120:
            time.sleep(0.01)
        follower = next(r for p, r in pids.items() if p in alive)
        before = _leases(url)
        follower.kill()  # then a follower (or a leader of another loop)
        alive.discard(str(follower.proc.pid))
        _wait_leases(url, alive, before, TAKEOVER_S)
        stop.set()
        for t in threads:
            t.join(60)
        # both come back
        for dead in (leader, follower):
            back = srv.start(tmp_path, url, name=f"back-{dead.proc.pid}", HUANGHE_TELEMETRY_BACKGROUND="1")
            reps.append(back)
        assert not errors, errors[:3]
        survivor = reps[-1]
        deadline = time.monotonic() + 120
        with httpx.Client(base_url=survivor.url, timeout=10) as c:
            states = Counter(job["state"] for job in srv.final_jobs(c, acked, deadline).values())
            srv.wait_none_active(c, deadline)
            total = c.get("/api/v1/jobs", params={"limit": 1}).json()["total"]
    finally:
        stop.set()
        for rep in reps:
            rep.stop()
    counts = Counter(_runs(tmp_path))
    assert states["SUCCEEDED"] == len(acked), states
    assert not {j: n for j, n in counts.items() if n > 1}, "a job ran twice"
    assert all(counts[j] == 1 for j in acked)
    assert sum(counts.values()) == total
    engine = create_engine(url)
    try:
        with Session(engine) as s:
            assert audit.verify(s).ok
    finally:
        engine.dispose()
    print(f"replicas: {len(acked)} acknowledged, {total} stored, all ran once")


def test_database_outage_answers_503_and_recovers(tmp_path: Path) -> None:
    pg = PostgresServer.start()
    server = None
    try:
        url = pg.create_database("outage")
        net.prepare_db(url, net.topology(net.local(tmp_path / "jn")))
        server = srv.start(tmp_path, url, name="o", HUANGHE_STORAGE_SERVERS="0")
        jid = httpx.post(f"{server.url}/api/v1/jobs", json={"command": "echo before"}, timeout=10).json()[
            "id"
        ]
        assert srv.wait_terminal(server.url, jid)["state"] == "SUCCEEDED"
        pg.cut()
        refused = 0
        t_end = time.monotonic() + 3.0
        while time.monotonic() < t_end:
            for method, path, body in (
                ("POST", "/api/v1/jobs", {"command": "echo during"}),
                ("GET", "/api/v1/jobs", None),
            ):
                r = httpx.request(method, f"{server.url}{path}", json=body, timeout=30)
                assert r.status_code == 503, (method, r.status_code, r.text[:300])
                assert int(r.headers["Retry-After"]) >= 1 and "Traceback" not in r.text
                refused += 1
            time.sleep(0.2)
        assert httpx.get(f"{server.url}/healthz", timeout=30).status_code == 503
        pg.restore()
        t0 = time.monotonic()
        while True:
            r = httpx.get(f"{server.url}/api/v1/jobs", timeout=30)
            if r.status_code == 200:
                break
            assert r.status_code == 503 and time.monotonic() - t0 < 30, r.text
            time.sleep(0.2)
        print(
            f"database outage: {refused} requests answered 503; service back {time.monotonic() - t0:.2f} s after"
        )
        page = r.json()
        assert page["total"] == 1  # nothing of the refused submissions was stored
        jid = httpx.post(f"{server.url}/api/v1/jobs", json={"command": "echo after"}, timeout=10).json()["id"]
        assert srv.wait_terminal(server.url, jid, timeout_s=60)["state"] == "SUCCEEDED"
        engine = create_engine(url)
        try:
            with Session(engine) as s:
                assert audit.verify(s).ok
        finally:
            engine.dispose()
    finally:
        if server is not None:
            server.stop()
        pg.stop()
