"""SIGKILL `huanghe up` during a submission storm: no acknowledged job is lost, no job runs twice.

Each job appends its platform id (``$HUANGHE_PLATFORM_JOB_ID``) to one file; after the restart every
acknowledged id must be stored and finish, and every id that ran must appear exactly once in the file.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from pathlib import Path

import httpx
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

from huanghe.audit import service as audit
from tests import jobs_server as srv
from tests import jobs_testnet as net

THREADS = 4
PER_THREAD_MAX = 1000  # bounded storm
KILL_AFTER_ACKS = 80  # SIGKILL once this many submissions were acknowledged (the storm still going)
KILL_DEADLINE_S = 15.0


def _runs(root: Path) -> list[str]:
    """The platform job id of every run, read from each local job's work directory (one file per run)."""
    return [j for f in sorted(root.glob("*/local-*/work/ran.txt")) for j in f.read_text().split()]


def test_sigkill_mid_storm_loses_nothing_and_runs_nothing_twice(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'crash.db'}"
    net.prepare_db(url, net.topology(net.local(tmp_path / "jn"), net.local(tmp_path / "qd")))
    # each run records itself in its own work directory (a sandboxed local job can write nowhere else)
    command = 'echo "$HUANGHE_PLATFORM_JOB_ID" > ran.txt'
    server = srv.start(tmp_path, url)
    acked: list[str] = []
    errors: list[str] = []
    lock = threading.Lock()
    stop = threading.Event()

    def storm(k: int) -> None:
        with httpx.Client(base_url=server.url, timeout=5) as c:
            for i in range(PER_THREAD_MAX):
                if stop.is_set():
                    return
                try:
                    r = c.post("/api/v1/jobs", json={"command": command, "name": f"s{k}-{i}"})
                except httpx.TransportError:
                    return  # the server died under us: this one was not acknowledged
                if 200 <= r.status_code < 300:
                    with lock:
                        acked.append(r.json()["id"])
                else:
                    errors.append(f"{r.status_code} {r.text[:200]}")

    threads = [threading.Thread(target=storm, args=(k,)) for k in range(THREADS)]
    for t in threads:
        t.start()
    deadline_kill = time.monotonic() + KILL_DEADLINE_S
    while len(acked) < KILL_AFTER_ACKS and time.monotonic() < deadline_kill:
        time.sleep(0.01)
    server.kill()  # SIGKILL by PID, mid-storm
    stop.set()
    for t in threads:
        t.join(30)
    assert not errors, errors[:3]
    n_acked = len(acked)
    assert 20 < n_acked < THREADS * PER_THREAD_MAX, f"storm was not cut: {n_acked} acknowledged"
    lines_at_kill = len(_runs(tmp_path))

    server = srv.start(tmp_path, url, name="restart", port=int(server.url.rsplit(":", 1)[1]))
    try:
        deadline = time.monotonic() + 60
        with httpx.Client(base_url=server.url, timeout=10) as c:
            final = srv.final_jobs(c, acked, deadline)
            total = c.get("/api/v1/jobs", params={"limit": 1}).json()["total"]
            # stored but unacknowledged (answer lost in the kill) jobs must finish too before we count lines
            srv.wait_none_active(c, deadline)
        states = Counter(job["state"] for job in final.values())
        not_ok = [
            f"{jid}: {j['state']} {j['message']}" for jid, j in final.items() if j["state"] != "SUCCEEDED"
        ]
    finally:
        server.stop()
    time.sleep(0.2)
    counts = Counter(_runs(tmp_path))
    twice = {j: n for j, n in counts.items() if n > 1}
    print(
        f"crash storm: {n_acked} acknowledged, {total} stored, {lines_at_kill} had run at the kill, "
        f"final states {dict(states)}, {sum(counts.values())} runs recorded"
    )
    assert not twice, f"jobs ran twice: {list(twice.items())[:5]}"
    assert total >= n_acked
    assert states["SUCCEEDED"] == n_acked, (states, not_ok)
    assert all(counts[j] == 1 for j in acked)
    assert sum(counts.values()) == total  # every stored job (acknowledged or not) ran exactly once
    # each stored submission has its audit record (committed in the same transaction), the chain is whole
    engine = create_engine(url)
    try:
        with Session(engine) as s:
            assert audit.verify(s).ok
            recorded = s.scalar(
                text("SELECT COUNT(*) FROM audit_log WHERE subject = '/api/v1/jobs' AND payload LIKE :p"),
                {"p": '%"status":201%'},
            )
    finally:
        engine.dispose()
    assert recorded == total, (recorded, total)
