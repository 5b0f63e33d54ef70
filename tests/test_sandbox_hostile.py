"""Hostile tenants on the local back-end (issue 11): tenant A's job attacks, tenant B's job is the victim.

Every job here is real: bubblewrap, real accounts, real rlimits (no mock). Each attack must fail for the
attacker, and no secret of the victim or of the platform may appear in the attacker's output. The last test
runs the same attack with ``sandbox=none`` and shows it succeeds there: what these tests catch.
"""

from __future__ import annotations

import os
import secrets
import socket
import sqlite3
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from huanghe.backends.local import LocalBackend
from huanghe.backends.local_accounts import account_name
from huanghe.backends.protocol import BackendJobSpec, wait_terminal
from huanghe.backends.sandbox import sandbox_problem
from huanghe.domain.enums import JobState

pytestmark = pytest.mark.skipif(
    sandbox_problem() is not None, reason=f"the bubblewrap sandbox is unavailable here: {sandbox_problem()}"
)


@dataclass
class Platform:
    """A platform's data directory with the things a tenant must never see, a victim job, and a TCP server."""

    data: Path
    backend: LocalBackend
    secrets: dict[str, str]
    victim: str
    victim_dir: Path
    port: int
    accepted: list[bool]


def _wait_running(b: LocalBackend, job: str, marker: Path) -> None:
    deadline = time.monotonic() + 15
    while not marker.exists():
        assert b.status(job).state is JobState.RUNNING, b.logs(job)
        assert time.monotonic() < deadline, "victim did not start"
        time.sleep(0.05)


@pytest.fixture()
def platform(tmp_path: Path) -> Iterator[Platform]:
    data = tmp_path / "data"
    (data / "logs").mkdir(parents=True)
    s = {k: f"{k}-{secrets.token_hex(8)}" for k in ("session", "db", "log", "env", "file", "out")}
    (data / "secret.env").write_text(f"HUANGHE_SESSION_SECRET={s['session']}\n")
    con = sqlite3.connect(data / "huanghe.db")
    con.execute("create table t (v text)")
    con.execute("insert into t values (?)", (s["db"],))
    con.commit()
    con.close()
    (data / "logs" / "server.log").write_text(f"login token {s['log']}\n")
    os.environ["HUANGHE_SESSION_SECRET"] = s["session"]
    srv = socket.create_server(("127.0.0.1", 0))
    srv.settimeout(0.2)
    accepted: list[bool] = []
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = srv.accept()
            except TimeoutError:
                continue
            accepted.append(True)
            conn.sendall(b"loopback-service-secret\n")
            conn.close()

    th = threading.Thread(target=serve, daemon=True)
    th.start()
    b = LocalBackend({"root": str(data / "local-jobs"), "kill_grace_s": "1"})
    victim = b.submit(
        BackendJobSpec(
            command=f"echo {s['out']}; echo {s['file']} > victim.txt; touch started; sleep 60",
            env={"VICTIM_SECRET": s["env"]},
            tenant="tenant-b",
        )
    )
    vdir = data / "local-jobs" / victim
    _wait_running(b, victim, vdir / "work" / "started")
    try:
        yield Platform(data, b, s, victim, vdir, srv.getsockname()[1], accepted)
    finally:
        b.cancel(victim)
        stop.set()
        th.join()
        srv.close()
        del os.environ["HUANGHE_SESSION_SECRET"]


def _attack_script(p: Platform) -> str:
    """Shell that tries every read, connection and write an attacker would, printing what it got."""
    targets = [
        p.victim_dir / "output.log", p.victim_dir / "work" / "victim.txt", p.victim_dir / "env.sh",
        p.data / "secret.env", p.data / "huanghe.db", p.data / "logs" / "server.log",
    ]  # fmt: skip
    reads = "\n".join(f"cat '{t}' 2>&1; ls -la '{t.parent}' 2>&1" for t in targets)
    return f"""
{reads}
for f in /proc/[0-9]*/environ; do echo "== $f"; tr '\\0' '\\n' < "$f" 2>&1; done
timeout 5 grep -r -a -s -l "{p.secrets["session"][:12]}" / --exclude-dir=proc --exclude-dir=sys --exclude-dir=usr \
  2>/dev/null | head
python3 -c "import socket; s = socket.create_connection(('127.0.0.1', {p.port}), timeout=2); print(s.recv(100))" \\
  && echo CONNECTED || echo connect-failed
for w in /usr/evil /etc/evil /evil /tmp/../evil '{p.data}/evil' '{p.victim_dir}/work/evil'; do
  (echo x > "$w") 2>/dev/null && echo "WROTE $w" || echo "no-write $w"
done
echo "0 1.0" > '{p.data}/local-jobs/'"$HUANGHE_JOB_ID"/exit_code 2>/dev/null && echo FORGED
echo '{{"pid": 1}}' > '{p.data}/local-jobs/'"$HUANGHE_JOB_ID"/state.json 2>/dev/null && echo FORGED-STATE
echo mine > own.txt && echo wrote-own
id -u
exit 3
"""


def test_attacker_reads_nothing_reaches_nothing_writes_nothing_forges_nothing(platform: Platform) -> None:
    p, b = platform, platform.backend
    job = b.submit(BackendJobSpec(script=_attack_script(p), tenant="tenant-a"))
    st = wait_terminal(b, job, 60)
    out = b.logs(job)
    for name, value in p.secrets.items():
        assert value not in out, f"the attacker saw the {name} secret:\n{out}"
    assert "loopback-service-secret" not in out and "CONNECTED" not in out and not p.accepted
    assert "connect-failed" in out
    assert "WROTE" not in out and "FORGED" not in out and "wrote-own" in out
    # the exit code is the real one, and the platform's view of the job is intact
    assert st.state is JobState.FAILED and st.exit_code == 3, out
    assert b._state(b.root / job)["id"] == job
    assert not (p.data / "evil").exists() and not (p.victim_dir / "work" / "evil").exists()
    # the attacker ran as its own account: not root, not the victim's, not the server's
    uid = int(out.strip().splitlines()[-1])
    assert uid not in (0, os.getuid())
    victim_owner = (p.victim_dir / "work").stat().st_uid
    assert uid != victim_owner and (b.root / job / "work").stat().st_uid == uid
    assert b._state(b.root / job)["account"] == account_name("tenant-a")
    assert not (b.root / job / "env.sh").exists()  # the declared variables do not stay on disk
    # the victim is untouched and still running
    assert b.status(p.victim).state is JobState.RUNNING
    assert (p.victim_dir / "work" / "victim.txt").read_text().strip() == p.secrets["file"]


def test_fork_bomb_is_bounded_by_the_account_process_limit(tmp_path: Path) -> None:
    b = LocalBackend({"root": str(tmp_path / "jobs"), "max_procs": "40"})
    bomb = (
        'python3 -c "\nimport os, time\nn = 0\ntry:\n    while n < 2000:\n        if os.fork() == 0:\n'
        "            time.sleep(20); os._exit(0)\n        n += 1\nexcept OSError as e:\n    print('stopped', e.errno)\n"
        "print('forks', n, flush=True)\nos._exit(0)\n\""
    )
    job = b.submit(BackendJobSpec(command=bomb, tenant="tenant-bomb", time_limit_s=30))
    t0 = time.monotonic()
    st = wait_terminal(b, job, 40)
    out = b.logs(job)
    assert st.state is JobState.SUCCEEDED, out
    forks = int(out.split("forks")[1].split()[0])
    assert "stopped 11" in out and forks < 40, out  # EAGAIN at the limit
    assert time.monotonic() - t0 < 20  # the sandbox ended with its job: the sleeping children went with it
    name = account_name("tenant-bomb")
    left = [q for q in Path("/proc").iterdir() if q.name.isdigit() and _owner(q) == name]
    assert not left, "processes of the bomb survived its job"


def _owner(proc: Path) -> str | None:
    import pwd

    try:
        return pwd.getpwuid(proc.stat().st_uid).pw_name
    except (OSError, KeyError):
        return None


def test_memory_and_file_size_limits_hold(tmp_path: Path) -> None:
    b = LocalBackend({"root": str(tmp_path / "jobs"), "max_file_gb": "0.001"})  # about 1 MB
    grab = "python3 -c 'b = bytearray(600 * 1024 * 1024); print(len(b))'"
    mem = b.submit(BackendJobSpec(command=grab, mem_gb=0.25, tenant="tenant-a"))
    big = b.submit(BackendJobSpec(command="head -c 5000000 /dev/zero > big; echo rc=$?", tenant="tenant-a"))
    assert wait_terminal(b, mem, 30).state is JobState.FAILED and "MemoryError" in b.logs(mem)
    wait_terminal(b, big, 30)
    assert (b.root / big / "work" / "big").stat().st_size <= 1024**3 * 0.001 + 4096
    assert "rc=0" not in b.logs(big)


def test_without_the_sandbox_the_same_attack_succeeds(platform: Platform) -> None:
    """The control: ``sandbox=none`` (development only) lets a job read the victim's files and the secret."""
    p = platform
    b = LocalBackend({"root": str(p.data / "local-jobs"), "sandbox": "none"})
    job = b.submit(BackendJobSpec(script=_attack_script(p), tenant="tenant-a"))
    ec = b.root / job / "exit_code"
    deadline = time.monotonic() + 60
    while not (ec.exists() and ec.read_text().startswith("3 ")):  # the real code, after the forged one
        assert time.monotonic() < deadline, b.logs(job)
        time.sleep(0.1)
    out = b.logs(job)
    assert p.secrets["file"] in out and p.secrets["session"] in out and p.secrets["env"] in out
    assert "CONNECTED" in out and "FORGED-STATE" in out


def test_cancel_stops_a_job_that_left_its_session(tmp_path: Path) -> None:
    b = LocalBackend({"root": str(tmp_path / "jobs"), "kill_grace_s": "1"})
    job = b.submit(
        BackendJobSpec(
            command="setsid sleep 300 & setsid sh -c 'sleep 300' & touch up; sleep 300", tenant="t-esc"
        )
    )
    _wait_running(b, job, b.root / job / "work" / "up")
    name = account_name("t-esc")
    assert len([q for q in Path("/proc").iterdir() if q.name.isdigit() and _owner(q) == name]) >= 3
    b.cancel(job)
    assert wait_terminal(b, job, 10).state is JobState.CANCELLED
    deadline = time.monotonic() + 5
    while [q for q in Path("/proc").iterdir() if q.name.isdigit() and _owner(q) == name]:
        assert time.monotonic() < deadline, "a process that left the job's session survived the cancel"
        time.sleep(0.05)
