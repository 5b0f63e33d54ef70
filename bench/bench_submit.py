"""Speed of the live job path: HTTP submissions (single and batch) and submit → RUNNING on the local back-end.

Starts `huanghe up` as a subprocess on loopback for each database (a temp SQLite file, and a private
PostgreSQL started with ``tests/infra/postgres.py``), imports the bundled network, and measures:

* ``single``: ``POST /api/v1/jobs`` (one job per request) from ``--conns`` concurrent httpx async clients;
  jobs/s and latency p50/p99 per request;
* ``batch``: ``POST /api/v1/jobs:batch`` with ``--batch-size`` jobs per request; jobs/s and request latency;
* ``floor``: a bare ASGI app on uvicorn (no FastAPI, no database) with the same client: the machine's ceiling;
* ``baseline``: ``GET /healthz`` (one trivial DB query) the same way, the framework's floor on this machine —
  ratios are printed against it;
* ``service``: the same single-job submissions without HTTP, from ``--conns`` threads through the
  group-commit queue the API uses — what the jobs path itself sustains;
* ``to_running`` (SQLite, scheduler on, 0.2 s interval): jobs submitted one after the other; for each, the
  server-side time from acceptance (``submit_s``) to start on the local back-end (``started_s``): p50, p99.

Throughput runs use ``HUANGHE_SCHEDULER_ENABLED=0`` so the host does not fork thousands of jobs while being
measured; ``to_running`` uses the real loop. Load is bounded (``--single``, ``--batches`` and a 120 s cap per
phase). Usage::

    .venv/bin/python bench/bench_submit.py --db sqlite,postgresql --single 3000 --batches 40 --batch-size 1000
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.infra.postgres import PostgresServer, free_port  # noqa: E402

PHASE_CAP_S = 120.0
#: Extra request headers (``--auth``: the admin bearer token).
HEADERS: dict[str, str] = {}
#: ``--auth``: servers start with authentication on (not dev mode).
AUTH = {"on": False}
GOALS = {"single_jobs_per_s": 1000.0, "batch_jobs_per_s": 10000.0, "p99_ms": 100.0, "to_running_p50_s": 1.0}


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    s = sorted(values)
    return s[min(len(s) - 1, int(q * len(s)))]


def start_server(
    tmp: Path,
    db_url: str,
    scheduler: bool,
    *,
    auth: bool | None = None,
    network: str | None = "shandong-mini",
) -> tuple[subprocess.Popen[bytes], str]:
    """``huanghe up`` on ``db_url`` in a new process (its log in ``tmp``), on a free 127.0.0.1 port, once
    ``/healthz`` answers 200 (at most 90 s); its process and base URL. ``auth``: authentication on (default:
    ``--auth`` of this bench); ``network``: imported at start (None: the database's own)."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("HUANGHE_")}
    env.update(
        HUANGHE_DATA_DIR=str(tmp / "data"),
        HUANGHE_DEV_MODE="0" if (AUTH["on"] if auth is None else auth) else "1",
        HUANGHE_SESSION_SECRET="bench-" + "s" * 40,
        HUANGHE_RATE_LIMIT_PER_S="10000000",
        HUANGHE_RATE_LIMIT_BURST="10000000",
        HUANGHE_SCHEDULER_ENABLED="1" if scheduler else "0",
        # no 6 h of simulated telemetry history written at start-up (a one-time transient that would
        # compete with the measured requests for the database); the telemetry loops still run
        HUANGHE_TELEMETRY_GENERATOR_BACKFILL_H="0",
        PYTHONPATH=str(REPO),
    )
    log = (tmp / f"up-{port}.log").open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-c", "from huanghe.cli.main import app; app()", "up", "--port", str(port),
         "--db", db_url, *(["--network", network] if network else []), "--log-level", "warning"],
        stdout=log, stderr=subprocess.STDOUT, env=env, cwd=tmp, start_new_session=True,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError((tmp / f"up-{port}.log").read_text()[-3000:])
        try:
            if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                return proc, url
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    stop(proc)
    raise RuntimeError("server did not start")


BARE_APP = """
import uvicorn
async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    headers = [(b"content-type", b"application/json"), (b"content-length", b"16")]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": b'{"status": "ok"}'})
uvicorn.run(app, host="127.0.0.1", port=%d, log_level="warning")
"""


def bare_floor(n: int, conns: int) -> dict[str, float]:
    """The same client against a bare ASGI app on uvicorn (no FastAPI, no DB): what this machine and this
    client can do at all — the ceiling any endpoint here is measured against."""
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-c", BARE_APP % port], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(f"http://127.0.0.1:{port}/", timeout=1)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        return asyncio.run(load(f"http://127.0.0.1:{port}", n, conns, lambda i: ("GET", "/", None), 1))
    finally:
        stop(proc)


def stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        os.kill(proc.pid, signal.SIGTERM)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(5)


async def _exchange(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, request: bytes) -> int:
    """One HTTP/1.1 keep-alive request on an open connection; returns the status code (body read, dropped;
    Content-Length or chunked)."""
    writer.write(request)
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    length = 0
    chunked = False
    for line in head.split(b"\r\n"):
        low = line.lower()
        if low.startswith(b"content-length:"):
            length = int(line[15:])
        elif low.startswith(b"transfer-encoding:") and b"chunked" in low:
            chunked = True
    if chunked:
        while True:
            size = int((await reader.readline()).strip(), 16)
            await reader.readexactly(size + 2)
            if size == 0:
                break
    elif length:
        await reader.readexactly(length)
    return status


def _request_bytes(host: str, method: str, path: str, body: Any) -> bytes:
    payload = b"" if body is None else json.dumps(body).encode()
    head = f"{method} {path} HTTP/1.1\r\nHost: {host}\r\nContent-Length: {len(payload)}\r\n"
    if body is not None:
        head += "Content-Type: application/json\r\n"
    head += "".join(f"{k}: {v}\r\n" for k, v in HEADERS.items())
    return head.encode() + b"\r\n" + payload


async def load(url: str, n_requests: int, conns: int, make: Any, jobs_per_request: int) -> dict[str, float]:
    """Send ``n_requests`` (``make(i)`` → (method, path, json)) over ``conns`` keep-alive connections.

    A minimal raw HTTP/1.1 client on asyncio streams (fixed-length bodies only): httpx's async client costs
    more CPU per request than the server under test on this 2-core machine, so it would measure itself.
    """
    host_port = url.split("://", 1)[1]
    host, port = host_port.rsplit(":", 1)
    latencies: list[float] = []
    errors = 0
    counter = iter(range(n_requests))
    cap = time.monotonic() + PHASE_CAP_S
    cache: dict[int, bytes] = {}

    async def worker() -> None:
        nonlocal errors
        reader, writer = await asyncio.open_connection(host, int(port))
        try:
            for i in counter:
                if time.monotonic() > cap:
                    return
                method, path, body = make(i)
                key = id(body)
                req = cache.get(key)
                if req is None:
                    req = cache[key] = _request_bytes(host_port, method, path, body)
                t0 = time.perf_counter()
                status = await asyncio.wait_for(_exchange(reader, writer, req), 30)
                latencies.append(time.perf_counter() - t0)
                if status >= 300:
                    errors += 1
        finally:
            writer.close()

    t0 = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(conns)))
    wall = time.perf_counter() - t0
    done = len(latencies)
    return {
        "requests": done,
        "errors": errors,
        "wall_s": wall,
        "requests_per_s": done / wall,
        "jobs_per_s": done * jobs_per_request / wall,
        "p50_ms": pct(latencies, 0.50) * 1000,
        "p99_ms": pct(latencies, 0.99) * 1000,
    }


def to_running(url: str, n: int) -> dict[str, float]:
    """Submit ``n`` jobs one after the other; server-side seconds from acceptance to start (local back-end)."""
    waits = waits_to_running(url, n, HEADERS)
    return {"jobs": n, "p50_s": statistics.median(waits), "p99_s": pct(waits, 0.99), "max_s": max(waits)}


def waits_to_running(url: str, n: int, headers: dict[str, str] | None = None) -> list[float]:
    """Submit ``n`` one-CPU jobs one after the other, each after the last started; for each the server-side
    seconds from acceptance (``submit_s``) to start (``started_s``). A job that fails, is cancelled or has not
    started within 30 s raises RuntimeError."""
    waits: list[float] = []
    with httpx.Client(base_url=url, timeout=30, headers=headers or {}) as c:
        for i in range(n):
            jid = c.post("/api/v1/jobs", json={"command": f"echo {i}", "cpus": 1}).json()["id"]
            deadline = time.monotonic() + 30
            while True:
                job = c.get(f"/api/v1/jobs/{jid}").json()
                if job["started_s"] is not None:
                    waits.append(job["started_s"] - job["submit_s"])
                    break
                if job["state"] in ("FAILED", "CANCELLED") or time.monotonic() > deadline:
                    raise RuntimeError(f"job {jid}: {job['state']} {job['message']}")
                time.sleep(0.02)
    return waits


def service_level(db_url: str, n: int, threads: int) -> dict[str, float]:
    """The jobs path without HTTP: ``n`` single-job submissions from ``threads`` threads through the same
    group-commit queue the API uses (``SubmitQueue``), on the database the server used."""
    from concurrent.futures import ThreadPoolExecutor

    from huanghe.jobs.service import JobSubmit, SubmitQueue
    from huanghe.store.db import make_session_factory

    sf = make_session_factory(db_url)
    q = SubmitQueue(sf)
    job = [JobSubmit(command="true", cpus=1)]
    lat: list[float] = []

    def one(_: int) -> None:
        t0 = time.perf_counter()
        q.submit(job).result(timeout=30)
        lat.append(time.perf_counter() - t0)

    try:
        with ThreadPoolExecutor(threads) as ex:
            list(ex.map(one, range(200)))  # warm-up
            lat.clear()
            t0 = time.perf_counter()
            list(ex.map(one, range(n)))
            wall = time.perf_counter() - t0
    finally:
        q.close()
        sf.kw["bind"].dispose()
    return {"requests": n, "jobs_per_s": n / wall, "p50_ms": pct(lat, 0.5) * 1000, "p99_ms": pct(lat, 0.99) * 1000,
            "groups": q.groups, "wall_s": wall}  # fmt: skip


def admin_token(db_url: str) -> str:
    """A new admin API token in the (migrated) database, made the way ``huanghe admin create-token`` does."""
    from huanghe.domain.tenancy import Role
    from huanghe.store.db import make_session_factory
    from huanghe.tenancy import tokens as auth

    sf = make_session_factory(db_url)
    try:
        with sf() as s:
            created = auth.create_token(s, auth.TokenCreate(name="bench", role=Role.ADMIN))
            s.commit()
    finally:
        sf.kw["bind"].dispose()
    return created.token


def bench_db(name: str, db_url: str, tmp: Path, args: argparse.Namespace) -> dict[str, Any]:
    out: dict[str, Any] = {"db": name}
    proc, url = start_server(tmp, db_url, scheduler=False)
    if args.auth:
        HEADERS["Authorization"] = f"Bearer {admin_token(db_url)}"
    try:
        job = {"command": "true", "cpus": 1}
        asyncio.run(load(url, 200, args.conns, lambda i: ("POST", "/api/v1/jobs", job), 1))  # warm-up
        out["baseline"] = asyncio.run(
            load(url, args.single, args.conns, lambda i: ("GET", "/healthz", None), 1)
        )
        out["single"] = asyncio.run(
            load(url, args.single, args.conns, lambda i: ("POST", "/api/v1/jobs", job), 1)
        )
        body = {"jobs": [job] * args.batch_size}
        out["batch"] = asyncio.run(
            load(url, args.batches, min(args.conns, 4), lambda i: ("POST", "/api/v1/jobs:batch", body),
                 args.batch_size)
        )  # fmt: skip
    finally:
        stop(proc)
    out["service"] = service_level(db_url, args.single, args.conns)
    if name == "sqlite" and args.to_running:
        run_tmp = tmp / "run"
        run_tmp.mkdir()
        run_url = f"sqlite:///{run_tmp / 'run.db'}"
        proc, url = start_server(run_tmp, run_url, scheduler=True)
        if args.auth:
            HEADERS["Authorization"] = f"Bearer {admin_token(run_url)}"
        try:
            out["to_running"] = to_running(url, args.to_running)
        finally:
            stop(proc)
    return out


def args_conns(res: dict[str, Any]) -> int:
    return int(res.get("conns", 0))


def report(res: dict[str, Any]) -> None:
    b, s, k = res["baseline"], res["single"], res["batch"]
    print(f"\n== {res['db']}{' (auth on: admin bearer token)' if res.get('auth') else ''} ==")
    print(
        f"baseline GET /healthz : {b['requests_per_s']:8.0f} req/s  p50 {b['p50_ms']:.1f} ms  p99 {b['p99_ms']:.1f} ms"
    )
    for label, r in (("single POST /jobs", s), (f"batch ({res['batch_size']}/req)", k)):
        print(
            f"{label:<22}: {r['jobs_per_s']:8.0f} jobs/s ({r['requests_per_s']:.0f} req/s, "
            f"{r['jobs_per_s'] / b['requests_per_s']:.2f}x baseline req/s)  p50 {r['p50_ms']:.1f} ms  "
            f"p99 {r['p99_ms']:.1f} ms  errors {r['errors']}  ({r['requests']} requests in {r['wall_s']:.1f} s)"
        )
    print(
        f"goals: single {s['jobs_per_s']:.0f}/{GOALS['single_jobs_per_s']:.0f} jobs/s "
        f"({'met' if s['jobs_per_s'] >= GOALS['single_jobs_per_s'] else 'NOT met'}), "
        f"batch {k['jobs_per_s']:.0f}/{GOALS['batch_jobs_per_s']:.0f} jobs/s "
        f"({'met' if k['jobs_per_s'] >= GOALS['batch_jobs_per_s'] else 'NOT met'}), "
        f"single p99 {s['p99_ms']:.1f}/{GOALS['p99_ms']:.0f} ms "
        f"({'met' if s['p99_ms'] < GOALS['p99_ms'] else 'NOT met'})"
    )
    v = res["service"]
    print(
        f"service level (no HTTP, {args_conns(res)} threads, group commit): {v['jobs_per_s']:8.0f} jobs/s  "
        f"p50 {v['p50_ms']:.1f} ms  p99 {v['p99_ms']:.1f} ms  ({v['requests']} jobs in {v['groups']} commits)"
    )
    if "to_running" in res:
        t = res["to_running"]
        print(
            f"submit → RUNNING (local back-end, {t['jobs']} jobs): p50 {t['p50_s'] * 1000:.0f} ms  "
            f"p99 {t['p99_s'] * 1000:.0f} ms  max {t['max_s'] * 1000:.0f} ms  "
            f"({'met' if t['p50_s'] < GOALS['to_running_p50_s'] else 'NOT met'} p50 < 1 s)"
        )


def main() -> None:
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--db", default="sqlite,postgresql", help="comma list: sqlite, postgresql")
    ap.add_argument("--single", type=int, default=3000, help="single-job requests (and /healthz requests)")
    ap.add_argument("--batches", type=int, default=40, help="batch requests")
    ap.add_argument("--batch-size", type=int, default=1000, help="jobs per batch request")
    ap.add_argument("--conns", type=int, default=32, help="concurrent client connections")
    ap.add_argument("--to-running", type=int, default=30, help="jobs for submit → RUNNING (0 = skip)")
    ap.add_argument(
        "--auth", action="store_true", help="authentication on (not dev mode): requests carry an admin token"
    )
    ap.add_argument("--json", type=Path, help="also write the results as JSON here")
    args = ap.parse_args()
    AUTH["on"] = args.auth
    results: list[dict[str, Any]] = []
    floor = bare_floor(args.single, args.conns)
    print(
        f"floor: bare ASGI app on uvicorn, same client: {floor['requests_per_s']:.0f} req/s  "
        f"p50 {floor['p50_ms']:.1f} ms  p99 {floor['p99_ms']:.1f} ms  (load average {os.getloadavg()[0]:.1f})"
    )
    with tempfile.TemporaryDirectory(prefix="hhbench-") as d:
        tmp = Path(d)
        for name in [x.strip() for x in args.db.split(",") if x.strip()]:
            sub = tmp / name
            sub.mkdir()
            if name == "sqlite":
                res = bench_db(name, f"sqlite:///{sub / 'bench.db'}", sub, args)
            elif name == "postgresql":
                pg = PostgresServer.start()
                try:
                    res = bench_db(name, pg.create_database("bench"), sub, args)
                finally:
                    pg.stop()
            else:
                raise SystemExit(f"unknown --db {name!r}")
            res["batch_size"] = args.batch_size
            res["conns"] = args.conns
            res["auth"] = args.auth
            report(res)
            results.append(res)
    if args.json:
        args.json.write_text(json.dumps({"floor": floor, "results": results}, indent=2))


if __name__ == "__main__":
    main()
