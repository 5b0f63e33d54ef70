"""What prometheus-client's multiprocess mode costs per request (issue #16): the same app served by
``uvicorn --workers 2`` exactly as ``huanghe up --workers 2`` serves it, with ``PROMETHEUS_MULTIPROC_DIR`` set
(``on``, what ``huanghe up --workers N`` does) and unset (``off``), in alternating order, each run on a fresh
PostgreSQL database; the ratios on / off come from the same command.

Per run: single-job ``POST /api/v1/jobs`` then ``GET /healthz`` (a database round trip, no group commit) from
``--conns`` keep-alive connections (the raw asyncio client of bench/bench_submit.py). Printed per run: requests
per second, p99, the workers' CPU milliseconds per request (user + system, summed over the process tree from
/proc), PostgreSQL's (its live backends only: a connection closed during the phase takes its CPU with it),
its transactions per submission and new connections (pg_stat_database), and how the connections were split
between the two workers (``ss``: each new connection goes to whichever worker accepts first).

Then, in-process and without any server: the microseconds of CPU that :class:`MetricsMiddleware` adds to one
request (its counter and histogram updates) in each mode, timed around an empty ASGI app. With
``--instructions N``: the instructions per request of the whole app served in-process (valgrind), which the
machine's load does not blur.

    .venv/bin/python bench/bench_metrics_mp.py --requests 3000 --conns 32 --rounds 3 --instructions 200
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.bench_replicas import cpu_s_by_tree, kill_group, pg_transactions, wait_healthy  # noqa: E402
from bench.bench_submit import load  # noqa: E402
from tests.infra.postgres import PostgresServer, free_port  # noqa: E402

WORKERS = 2
JOB = {"command": "true", "cpus": 1}


def serve(tmp: Path, db_url: str, *, multiprocess: bool, name: str) -> tuple[subprocess.Popen[bytes], str]:
    """``uvicorn --workers 2`` on ``db_url`` with the environment ``huanghe up --workers 2`` gives its workers;
    ``PROMETHEUS_MULTIPROC_DIR`` (a fresh directory under the data directory, as there) only if ``multiprocess``."""
    port = free_port()
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("HUANGHE_") and k != "PROMETHEUS_MULTIPROC_DIR"
    }
    data = tmp / f"data-{name}"
    env.update(
        HUANGHE_DATA_DIR=str(data), HUANGHE_DEV_MODE="1", HUANGHE_STORAGE_SERVERS="0", HUANGHE_SCHEDULER_ENABLED="0",
        HUANGHE_TELEMETRY_GENERATOR_BACKFILL_H="0", HUANGHE_HOST="127.0.0.1", HUANGHE_PORT=str(port),
        HUANGHE_DATABASE_URL=db_url, HUANGHE_NETWORK="shandong-mini", HUANGHE_MIGRATE_ON_STARTUP="0",
        HUANGHE_SESSION_SECRET="bench-" + "k" * 40, PYTHONPATH=str(REPO),
    )  # fmt: skip
    if multiprocess:
        metrics_dir = data / "metrics" / "bench"
        metrics_dir.mkdir(parents=True)
        env["PROMETHEUS_MULTIPROC_DIR"] = str(metrics_dir)
    log = (tmp / f"{name}.log").open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "huanghe.api.app:create_app", "--factory", "--host", "127.0.0.1",
         "--port", str(port), "--workers", str(WORKERS), "--log-level", "warning"],
        stdout=log, stderr=subprocess.STDOUT, env=env, cwd=tmp, start_new_session=True,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    wait_healthy(proc, url, tmp / f"{name}.log")
    return proc, url


def connection_split(port: int) -> list[int]:
    """Established connections on ``port`` per accepting process (``ss``), largest first."""
    out = subprocess.run(
        ["ss", "-tnpH", "state", "established", f"( sport = :{port} )"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout
    per: dict[str, int] = {}
    for pid in re.findall(r"pid=(\d+)", out):
        per[pid] = per.get(pid, 0) + 1
    return sorted(per.values(), reverse=True)


async def _measured(url: str, n: int, conns: int, make: Any, split: list[list[int]]) -> dict[str, float]:
    """``load`` while sampling, one second in, how the connections are split between the workers."""

    async def sample() -> None:
        await asyncio.sleep(1.0)
        split.append(await asyncio.to_thread(connection_split, int(url.rsplit(":", 1)[1])))

    sampler = asyncio.create_task(sample())
    out = await load(url, n, conns, make, 1)
    sampler.cancel()
    return out


def phase(url: str, roots: set[int], n: int, conns: int, make: Any) -> dict[str, Any]:
    """One measured load: rate, p99, CPU per request of every root's process tree, the connection split."""
    split: list[list[int]] = []
    cpu0 = cpu_s_by_tree(roots)
    out: dict[str, Any] = asyncio.run(_measured(url, n, conns, make, split))
    cpu1 = cpu_s_by_tree(roots)
    done = max(1.0, out["requests"])
    out["cpu_ms"] = {pid: (cpu1[pid] - cpu0[pid]) / done * 1000 for pid in roots}
    out["split"] = split[0] if split else []
    return out


def pg_sessions(url: str) -> int:
    """Connections PostgreSQL has accepted so far into the database of ``url`` (pg_stat_database.sessions)."""
    engine = create_engine(url)
    try:
        with engine.connect() as c:
            query = "SELECT sessions FROM pg_stat_database WHERE datname = current_database()"
            return int(c.execute(text(query)).scalar_one())
    finally:
        engine.dispose()


def run(tmp: Path, pg: PostgresServer, *, multiprocess: bool, n: int, conns: int, tag: str) -> dict[str, Any]:
    db = pg.create_database(tag)
    imported = subprocess.run(
        [sys.executable, "-c", "from huanghe.cli.main import app; app()", "topology", "import", "shandong-mini",
         "--db", db], capture_output=True, text=True, cwd=tmp, env={**os.environ, "PYTHONPATH": str(REPO)},
        check=False,
    )  # fmt: skip
    if imported.returncode:
        raise RuntimeError(f"import failed: {imported.stdout[-800:]} {imported.stderr[-2000:]}")
    proc, url = serve(tmp, db, multiprocess=multiprocess, name=tag)
    try:
        post = lambda i: ("POST", "/api/v1/jobs", JOB)  # noqa: E731
        get = lambda i: ("GET", "/healthz", None)  # noqa: E731
        asyncio.run(load(url, min(500, n), conns, post, 1))  # warm-up
        asyncio.run(load(url, min(500, n), conns, get, 1))
        load_before = os.getloadavg()[0]
        tx0, s0 = pg_transactions(db), pg_sessions(db)
        sub = phase(url, {proc.pid, pg.pid}, n, conns, post)
        time.sleep(1.5)  # PostgreSQL publishes a backend's transaction counts within a second
        tx1, s1 = pg_transactions(db), pg_sessions(db)
        read = phase(url, {proc.pid, pg.pid}, n, conns, get)
        time.sleep(1.5)
        s2 = pg_sessions(db)
        return {
            "mode": "on" if multiprocess else "off", "load_before": load_before,
            "submit": {"rate": sub["requests_per_s"], "p99_ms": sub["p99_ms"], "errors": sub["errors"],
                       "cpu_ms": sub["cpu_ms"][proc.pid], "pg_ms": sub["cpu_ms"][pg.pid], "split": sub["split"],
                       "tx": (tx1[0] - tx0[0]) / max(1.0, sub["requests"]), "sessions": s1 - s0},
            "read": {"rate": read["requests_per_s"], "p99_ms": read["p99_ms"], "errors": read["errors"],
                     "cpu_ms": read["cpu_ms"][proc.pid], "pg_ms": read["cpu_ms"][pg.pid], "split": read["split"],
                     "sessions": s2 - s1},
        }  # fmt: skip
    finally:
        kill_group(proc)
        pg.drop_database(tag)


MICRO = """
import asyncio, json, os, sys, time
from prometheus_client import values
from huanghe.api.instrumentation import MetricsMiddleware, PlatformMetrics
async def empty(scope, receive, send):
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b""})
async def main(n):
    async def receive(): return {"type": "http.request", "body": b""}
    async def send(m): pass
    scope = {"type": "http", "method": "POST", "path": "/api/v1/jobs", "route": type("R", (), {"path": "/api/v1/jobs"})()}
    bare, timed = empty, MetricsMiddleware(empty, PlatformMetrics(None))
    best = {}
    for name, app in (("bare", bare), ("metrics", timed)) * 3:
        t = time.process_time()
        for _ in range(n):
            await app(scope, receive, send)
        best[name] = min(best.get(name, 1e9), (time.process_time() - t) / n * 1e6)
    print(json.dumps({"mp": bool(values.ValueClass._multiprocess), "us": best["metrics"] - best["bare"]}))
asyncio.run(main(int(sys.argv[1])))
"""


def micro(multiprocess: bool, n: int) -> float:
    """CPU microseconds :class:`MetricsMiddleware` adds to one request (its metric updates), best of 3."""
    env = {k: v for k, v in os.environ.items() if k != "PROMETHEUS_MULTIPROC_DIR"}
    env["PYTHONPATH"] = str(REPO)
    with tempfile.TemporaryDirectory() as d:
        if multiprocess:
            env["PROMETHEUS_MULTIPROC_DIR"] = d
        out = subprocess.run(
            [sys.executable, "-c", MICRO, str(n)], env=env, capture_output=True, text=True, check=True
        ).stdout
    res = json.loads(out.strip().splitlines()[-1])
    assert res["mp"] == multiprocess, res
    return float(res["us"])


INPROCESS = """
import asyncio, os, sys, tempfile
tmp = tempfile.mkdtemp()
os.environ.update(HUANGHE_DATA_DIR=tmp, HUANGHE_DEV_MODE="1", HUANGHE_DATABASE_URL=f"sqlite:///{tmp}/h.db")
from huanghe.api.app import create_app
from huanghe.store.migrate import migrate
app = create_app()
migrate(app.state.engine)
async def call(path):
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET", "scheme": "http",
             "path": path, "raw_path": path.encode(), "query_string": b"", "root_path": "",
             "headers": [(b"host", b"127.0.0.1")], "client": ("127.0.0.1", 1), "server": ("127.0.0.1", 80)}
    async def receive(): return {"type": "http.request", "body": b"", "more_body": False}
    async def send(m): pass
    await app(scope, receive, send)
async def main(n):
    for path in PATHS:
        for _ in range(50 + n):
            await call(path)
asyncio.run(main(int(sys.argv[1])))
"""
#: Requests of the instruction count: a route that reads the database, and a path no route matches.
INSTRUCTION_PATHS = ("/healthz", "/nowhere")


def instructions(multiprocess: bool, n: int) -> int:
    """Instructions (valgrind's callgrind, every thread; the kernel's work is not counted) of a process that
    builds the app on SQLite and serves it in-process 50 + ``n`` requests of each of
    :data:`INSTRUCTION_PATHS`."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k != "PROMETHEUS_MULTIPROC_DIR" and not k.startswith("HUANGHE_")
    }
    env["PYTHONPATH"] = str(REPO)
    with tempfile.TemporaryDirectory() as d:
        if multiprocess:
            env["PROMETHEUS_MULTIPROC_DIR"] = d
        code = INPROCESS.replace("PATHS", repr(INSTRUCTION_PATHS))
        out = subprocess.run(
            ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", sys.executable, "-c", code, str(n)],
            env=env, capture_output=True, text=True, check=True,
        )  # fmt: skip
    found = re.search(r"Collected : (\d+)", out.stderr)
    if found is None:
        raise RuntimeError(out.stderr[-2000:])
    return int(found[1])


def instructions_per_request(n: int) -> dict[str, float]:
    """Instructions per request, multiprocess off and on: the difference of runs with ``n`` + 10 and 10
    requests per path (start-up cancels out), two valgrind runs at a time."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(2) as pool:
        runs = {(m, k): pool.submit(instructions, m == "on", k) for m in ("off", "on") for k in (10, n + 10)}
        return {
            m: (runs[m, n + 10].result() - runs[m, 10].result()) / (n * len(INSTRUCTION_PATHS))
            for m in ("off", "on")
        }


def med(rows: list[dict[str, Any]], kind: str, key: str) -> float:
    return statistics.median(float(r[kind][key]) for r in rows)


def report(rows: list[dict[str, Any]], micro_us: dict[str, float]) -> None:
    for r in rows:
        for kind in ("submit", "read"):
            x = r[kind]
            extra = f", {x['sessions']} new PostgreSQL connections"
            extra += f", {x['tx']:.2f} transactions/submission" if kind == "submit" else ""
            print(f"  {r['mode']:>3} {kind:>6}: {x['rate']:6.0f}/s  p99 {x['p99_ms']:5.0f} ms  workers "
                  f"{x['cpu_ms']:.3f} ms/request  PostgreSQL (live backends) {x['pg_ms']:.3f}  connections {x['split']}{extra}  "
                  f"(load {r['load_before']:.2f} before)")  # fmt: skip
    on = [r for r in rows if r["mode"] == "on"]
    off = [r for r in rows if r["mode"] == "off"]
    print("medians over the runs, multiprocess on / off (ratio):")
    for kind in ("submit", "read"):
        for key, label in (("rate", "requests/s"), ("cpu_ms", "worker CPU ms per request")):
            a, b = med(on, kind, key), med(off, kind, key)
            print(f"  {kind:>6} {label:<26} {a:8.3f} / {b:8.3f}  ({a / b:.3f}; difference {a - b:+.3f})")
    print(f"  MetricsMiddleware alone, CPU µs per request: on {micro_us['on']:.1f}, off {micro_us['off']:.1f} "
          f"(difference {micro_us['on'] - micro_us['off']:+.1f} µs)")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=3000, help="requests per measured phase")
    parser.add_argument("--conns", type=int, default=32, help="keep-alive connections")
    parser.add_argument("--rounds", type=int, default=3, help="pairs of runs (off then on, on then off, ...)")
    parser.add_argument("--micro", type=int, default=20000, help="requests of the in-process timing")
    parser.add_argument("--json", type=Path, help="also write every run's numbers here")
    parser.add_argument("--instructions", type=int, default=0,
                        help="also count the instructions per request with valgrind (N requests per path; ≈10 min)")  # fmt: skip
    args = parser.parse_args()
    print(f"load average before: {os.getloadavg()}", flush=True)
    if args.instructions:
        per = instructions_per_request(args.instructions)
        print(f"instructions per request (valgrind, in-process, {'+'.join(INSTRUCTION_PATHS)}): off "
              f"{per['off']:,.0f}, on {per['on']:,.0f} (on / off {per['on'] / per['off']:.3f})", flush=True)  # fmt: skip
    micro_us = {m: min(micro(m == "on", args.micro) for _ in range(3)) for m in ("off", "on")}
    rows: list[dict[str, Any]] = []
    pg = PostgresServer.start()
    try:
        with tempfile.TemporaryDirectory(prefix="bench-mp-") as d:
            for i in range(args.rounds):
                for mode in ("off", "on") if i % 2 == 0 else ("on", "off"):
                    row = run(Path(d), pg, multiprocess=mode == "on", n=args.requests, conns=args.conns,
                              tag=f"r{i}{mode}")  # fmt: skip
                    rows.append(row)
                    s = row["submit"]
                    print(f"round {i} {mode}: {s['rate']:.0f} submissions/s, {s['cpu_ms']:.3f} ms CPU each, "
                          f"connections {s['split']}", flush=True)  # fmt: skip
    finally:
        pg.stop()
    print(f"load average after: {os.getloadavg()}")
    report(rows, micro_us)
    if args.json:
        args.json.write_text(json.dumps({"runs": rows, "micro_us": micro_us}, indent=1))


if __name__ == "__main__":
    main()
