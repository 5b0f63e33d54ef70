"""Replicas on one PostgreSQL (issue #16): submissions/s with 2 workers against 1 worker in the same run, the
p99 latency, and a leader SIGKILL under load (no acknowledged job lost, takeover time of every loop).

* ``one`` / ``two``: `huanghe up --workers 1|2` on a private PostgreSQL (scheduler off, so the host does not
  fork thousands of jobs while measured), single-job ``POST /api/v1/jobs`` from ``--conns`` keep-alive
  connections (the raw asyncio client of bench/bench_submit.py); ratio two / one.
* ``kill``: two replicas (separate `huanghe up` processes, every loop on), a bounded storm against both, the
  scheduler's leader SIGKILLed mid-storm: seconds until every loop (scheduler, data, risk, telemetry) has a
  live leader with a new epoch; every acknowledged job then found, the audit chain intact and holding a
  submission record for each.

    .venv/bin/python bench/bench_replicas.py --requests 4000 --conns 32
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
from sqlalchemy import create_engine, text

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.bench_submit import load  # noqa: E402
from tests.infra.postgres import PostgresServer, free_port  # noqa: E402

LOOPS = ("scheduler", "data", "risk", "telemetry")


def start(
    tmp: Path, db_url: str, *, workers: int, scheduler: bool, name: str
) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("HUANGHE_")}
    env.update(
        HUANGHE_DATA_DIR=str(tmp / f"data-{name}"), HUANGHE_DEV_MODE="1", HUANGHE_STORAGE_SERVERS="0",
        HUANGHE_SCHEDULER_ENABLED="1" if scheduler else "0", HUANGHE_TELEMETRY_GENERATOR_BACKFILL_H="0",
        PYTHONPATH=str(REPO),
    )  # fmt: skip
    log = (tmp / f"{name}.log").open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-c", "from huanghe.cli.main import app; app()", "up", "--port", str(port), "--db", db_url,
         "--network", "shandong-mini", "--log-level", "warning", "--workers", str(workers)],
        stdout=log, stderr=subprocess.STDOUT, env=env, cwd=tmp, start_new_session=True,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    wait_healthy(proc, url, tmp / f"{name}.log")
    return proc, url


def wait_healthy(proc: subprocess.Popen[bytes], url: str, log: Path, timeout_s: float = 120.0) -> None:
    """Return once ``url``/healthz answers 200 (then 2 s more, for every worker to be up); otherwise stop the
    server's process group and raise with the tail of its ``log``."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(log.read_text()[-3000:])
        try:
            if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                time.sleep(2.0)  # every worker up
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    kill_group(proc)
    raise RuntimeError(f"server did not start: {log.read_text()[-3000:]}")


def kill_group(proc: subprocess.Popen[bytes]) -> None:
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(20)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        os.killpg(proc.pid, signal.SIGKILL)


def cpu_s_by_tree(roots: set[int]) -> dict[int, float]:
    """CPU seconds (user + system) used so far by each process of ``roots`` and its live descendants (from
    /proc/PID/stat: field 4 is the parent, 14 and 15 the user and system clock ticks)."""
    tick = os.sysconf("SC_CLK_TCK")
    parent: dict[int, int] = {}
    used: dict[int, float] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue  # the process ended meanwhile
        pid = int(stat.parent.name)
        parent[pid] = int(fields[1])
        used[pid] = (int(fields[11]) + int(fields[12])) / tick
    out = dict.fromkeys(roots, 0.0)
    for pid, cpu in used.items():
        p = pid
        while p > 1 and p not in out:
            p = parent.get(p, 0)
        if p in out:
            out[p] += cpu
    return out


def pg_transactions(url: str) -> tuple[int, int]:
    """Transactions committed and rolled back so far in the database of ``url`` (pg_stat_database)."""
    engine = create_engine(url)
    try:
        with engine.connect() as c:
            row = c.execute(text("SELECT xact_commit, xact_rollback FROM pg_stat_database "
                                 "WHERE datname = current_database()")).one()  # fmt: skip
            return int(row[0]), int(row[1])
    finally:
        engine.dispose()


def inbox_age(url: str, stop_flag: threading.Event, out: dict[str, float]) -> None:
    """Every 50 ms until ``stop_flag``: the age of the oldest audit entry not chained yet (milliseconds since
    its ``at``, which includes the time before its commit); the largest in ``out["inbox_age_max_ms"]``."""
    engine = create_engine(url)
    q = text(
        "SELECT coalesce(extract(epoch FROM clock_timestamp() - min(at)::timestamptz), 0) FROM audit_inbox"
    )
    try:
        with engine.connect() as c:
            while not stop_flag.is_set():
                out["inbox_age_max_ms"] = max(
                    out.get("inbox_age_max_ms", 0.0), float(c.execute(q).scalar_one()) * 1000
                )
                c.rollback()  # one rolled-back transaction per sample: subtracted from the counts
                out["inbox_samples"] = out.get("inbox_samples", 0.0) + 1
                time.sleep(0.05)
    finally:
        engine.dispose()


def throughput(tmp: Path, pg: PostgresServer, workers: int, n: int, conns: int) -> dict[str, float]:
    """Submissions/s and latencies of ``workers`` workers, with the CPU milliseconds per submission spent by
    the workers, PostgreSQL and this load generator during the measured phase, and the largest age of an
    unchained audit entry seen meanwhile (the window of the audit inbox, :mod:`huanghe.audit.chain`)."""
    from bench.bench_metrics_mp import connection_split, pg_sessions  # late: that module imports this one

    url = pg.create_database(f"w{workers}")
    proc, base = start(tmp, url, workers=workers, scheduler=False, name=f"w{workers}")
    try:
        body = {"command": "true", "cpus": 1}
        asyncio.run(load(base, min(500, n), conns, lambda i: ("POST", "/api/v1/jobs", body), 1))  # warm-up
        groups = {proc.pid, pg.pid}
        ages: dict[str, float] = {}
        sampling = threading.Event()
        sampler = threading.Thread(target=inbox_age, args=(url, sampling, ages))
        commits0, cpu0, own0 = pg_transactions(url), cpu_s_by_tree(groups), time.process_time()
        sessions0, split = pg_sessions(url), []
        splitter = threading.Timer(1.0, lambda: split.append(connection_split(int(base.rsplit(":", 1)[1]))))
        sampler.start()
        splitter.start()
        out = asyncio.run(load(base, n, conns, lambda i: ("POST", "/api/v1/jobs", body), 1))
        cpu1, own1 = cpu_s_by_tree(groups), time.process_time()
        splitter.cancel()
        out["new_pg_connections"] = pg_sessions(url) - sessions0  # the bench's own 2 included
        held = split[0] if split else []
        out["conns_busiest"], out["conns_seen"] = max(held, default=0), sum(held)
        sampling.set()
        sampler.join(10)
        out["inbox_age_max_ms"] = ages.get("inbox_age_max_ms", float("nan"))
        time.sleep(1.5)  # PostgreSQL publishes a backend's transaction counts within a second
        commits1 = pg_transactions(url)
        done = max(1.0, out["requests"])
        out["transactions"] = (commits1[0] - commits0[0]) / done
        out["rollbacks"] = (commits1[1] - commits0[1] - ages.get("inbox_samples", 0.0)) / done
        out["cpu_ms_workers"] = (cpu1[proc.pid] - cpu0[proc.pid]) / done * 1000
        out["cpu_ms_postgres"] = (cpu1[pg.pid] - cpu0[pg.pid]) / done * 1000
        out["cpu_ms_client"] = (own1 - own0) / done * 1000
        return out
    finally:
        kill_group(proc)


def cpu_line(name: str, r: dict[str, float]) -> str:
    total = r["cpu_ms_workers"] + r["cpu_ms_postgres"] + r["cpu_ms_client"]
    return (f"{name}: CPU per submission {total:.2f} ms = workers {r['cpu_ms_workers']:.2f} + PostgreSQL "
            f"{r['cpu_ms_postgres']:.2f} + load generator {r['cpu_ms_client']:.2f}; 2 cores allow at most "
            f"{2000 / total:.0f}/s; database transactions per submission {r['transactions']:.2f} committed, "
            f"{r['rollbacks']:.2f} rolled back; oldest unchained audit entry seen {r['inbox_age_max_ms']:.0f} ms; "
            f"keep-alive connections 1 s in: {r['conns_busiest']:.0f} of {r['conns_seen']:.0f} on the busiest "
            f"worker; new PostgreSQL connections during the storm "
            f"{r['new_pg_connections']:.0f} (2 of them the bench's)")  # fmt: skip


def leases(url: str) -> dict[str, tuple[str, int]]:
    engine = create_engine(url)
    try:
        with engine.connect() as c:
            return {str(n): (str(h).split(":")[1], int(e))
                    for n, h, e in c.execute(text("SELECT name, holder, epoch FROM leader_lease"))}  # fmt: skip
    finally:
        engine.dispose()


def kill_leader(tmp: Path, pg: PostgresServer) -> dict[str, float]:
    url = pg.create_database("kill")
    reps = [start(tmp, url, workers=1, scheduler=True, name=f"k{i}") for i in range(2)]
    acked: list[str] = []
    stop_flag = threading.Event()

    def storm() -> None:
        i = 0
        while not stop_flag.is_set() and i < 2000:
            base = reps[i % 2][1]
            i += 1
            try:
                r = httpx.post(f"{base}/api/v1/jobs", json={"command": "true", "cpus": 1}, timeout=5)
            except httpx.TransportError:
                continue
            if r.status_code < 300:
                acked.append(r.json()["id"])

    try:
        t = threading.Thread(target=storm)
        t.start()
        while len(acked) < 100:
            time.sleep(0.01)
        before = leases(url)
        pid = before["scheduler"][0]
        leader = next(p for p, _ in reps if str(p.pid) == pid)
        os.killpg(leader.pid, signal.SIGKILL)
        t0 = time.monotonic()
        took: dict[str, float] = {}
        while len(took) < len(LOOPS) and time.monotonic() - t0 < 30:
            now = leases(url)
            for name in LOOPS:
                if (
                    name not in took
                    and name in now
                    and now[name][0] != pid
                    and (before.get(name, ("", -1))[0] != pid or now[name][1] > before[name][1])
                ):
                    took[name] = time.monotonic() - t0
            time.sleep(0.02)
        time.sleep(1.0)
        stop_flag.set()
        t.join(30)
        survivor = next(u for p, u in reps if p is not leader)
        lost = sum(
            1 for j in acked if httpx.get(f"{survivor}/api/v1/jobs/{j}", timeout=10).status_code != 200
        )
        chain = httpx.get(
            f"{survivor}/api/v1/audit/verify", timeout=60
        ).json()  # chains what is pending first
        audited = httpx.get(
            f"{survivor}/api/v1/audit",
            params={"action": "http.post", "subject": "/api/v1/jobs", "limit": 1},
            timeout=60,
        )
        return {"acknowledged": len(acked), "lost": lost, "chain_ok": float(chain["ok"]),
                "chain_records": float(chain["checked"]), "submissions_audited": float(audited.json()["total"]),
                **{f"takeover_{k}_s": v for k, v in took.items()}}  # fmt: skip
    finally:
        stop_flag.set()
        for p, _ in reps:
            if p.poll() is None:
                kill_group(p)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--requests", type=int, default=4000)
    ap.add_argument("--conns", type=int, default=32)
    args = ap.parse_args()
    with open("/proc/loadavg") as f:
        print(f"load average before: {f.read().split()[:3]}")
    with tempfile.TemporaryDirectory(prefix="hh-replicas-") as d:
        tmp = Path(d)
        pg = PostgresServer.start()
        try:
            one = throughput(tmp, pg, 1, args.requests, args.conns)
            two = throughput(tmp, pg, 2, args.requests, args.conns)
            print(f"1 worker : {one['jobs_per_s']:.0f} submissions/s, p50 {one['p50_ms']:.1f} ms, p99 {one['p99_ms']:.1f} ms, "
                  f"errors {one['errors']:.0f}")  # fmt: skip
            print(f"2 workers: {two['jobs_per_s']:.0f} submissions/s, p50 {two['p50_ms']:.1f} ms, p99 {two['p99_ms']:.1f} ms, "
                  f"errors {two['errors']:.0f}")  # fmt: skip
            print(cpu_line("1 worker ", one))
            print(cpu_line("2 workers", two))
            ratio = two["jobs_per_s"] / one["jobs_per_s"]
            print(f"ratio 2/1 workers: {ratio:.2f} (goal >= 1.7); p99 goal < 100 ms: "
                  f"{'met' if two['p99_ms'] < 100 else 'NOT met'}")  # fmt: skip
            k = kill_leader(tmp, pg)
            print(f"leader SIGKILL under load: {k['acknowledged']:.0f} acknowledged, {k['lost']:.0f} lost; "
                  + ", ".join(f"{n} {k.get(f'takeover_{n}_s', float('nan')):.2f} s" for n in LOOPS))  # fmt: skip
            print(f"audit chain after the SIGKILL: {'intact' if k['chain_ok'] else 'BROKEN'}, "
                  f"{k['chain_records']:.0f} records, {k['submissions_audited']:.0f} of them job submissions "
                  f"(>= {k['acknowledged']:.0f} acknowledged)")  # fmt: skip
        finally:
            pg.stop()
    with open("/proc/loadavg") as f:
        print(f"load average after: {f.read().split()[:3]}")


if __name__ == "__main__":
    main()
