"""What the local back-end's sandbox costs: start latency, sandboxed (``sandbox=bwrap``) vs ``sandbox=none``.

Two measurements, each for both modes in the same command:

* ``backend``: :class:`~huanghe.backends.local.LocalBackend` directly; for each of ``--jobs`` jobs (tenants
  taken in turn from ``--tenants``, accounts already created), seconds from calling ``submit`` to the job's
  first command running (it writes ``date +%s.%N`` into its work directory): p50, p95, max;
* ``platform``: ``huanghe up`` (SQLite, dev mode, scheduler on) on the bundled network reduced to its local
  pools (its simulated accelerator pools removed), every one set to the mode; jobs submitted one after the other over HTTP; server-side seconds from acceptance
  (``submit_s``) to start (``started_s``): p50, p95, max (the issue-11 goal: p50 < 1 s sandboxed).

The first job of a new tenant also creates its account (``useradd``): that one-time cost is printed apart.
Needs root and bubblewrap (``make test-deps``). Usage::

    .venv/bin/python bench/bench_sandbox.py --jobs 40 --platform-jobs 30
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from bench_submit import pct, start_server, stop, waits_to_running  # noqa: E402

from huanghe.backends.local import LocalBackend  # noqa: E402
from huanghe.backends.local_accounts import account_name  # noqa: E402
from huanghe.backends.protocol import BackendJobSpec, wait_terminal  # noqa: E402
from huanghe.backends.sandbox import sandbox_problem  # noqa: E402

MODES = ("bwrap", "none")


def _summary(waits: list[float]) -> dict[str, float]:
    return {
        "jobs": len(waits),
        "p50_s": statistics.median(waits),
        "p95_s": pct(waits, 0.95),
        "max_s": max(waits),
    }


def backend_latency(tmp: Path, mode: str, n: int, tenants: list[str]) -> dict[str, float]:
    """Seconds from ``submit`` to the job's first command, ``n`` jobs one after the other."""
    b = LocalBackend({"root": str(tmp / f"jobs-{mode}"), "sandbox": mode})
    waits: list[float] = []
    for i in range(n):
        t0 = time.time()
        job = b.submit(BackendJobSpec(command="date +%s.%N > started", tenant=tenants[i % len(tenants)]))
        wait_terminal(b, job, 30, poll_s=0.01)
        waits.append(float((b.root / job / "work" / "started").read_text()) - t0)
    return _summary(waits)


def account_creation_s(tmp: Path) -> float:
    """Seconds of the first job of a brand-new tenant (its account is created), submit to first command.
    The account is removed afterwards (``userdel``), so runs do not pile accounts up."""
    tenant = f"bench-{uuid.uuid4().hex[:8]}"
    try:
        return backend_latency(tmp, "bwrap", 1, [tenant])["p50_s"]
    finally:
        subprocess.run(["userdel", account_name(tenant)], capture_output=True, check=False)


def platform_latency(tmp: Path, mode: str, n: int) -> dict[str, float]:
    """Submit → RUNNING through the API with every local pool of the bundled network in ``mode``."""
    from sqlalchemy import delete, select

    from huanghe.catalog.topology import load_topology
    from huanghe.network import topology_store
    from huanghe.network.models import PoolRow
    from huanghe.store.db import make_session_factory
    from huanghe.store.migrate import migrate

    work = tmp / f"platform-{mode}"
    work.mkdir()
    url = f"sqlite:///{work / 'bench.db'}"
    migrate(url)
    factory = make_session_factory(url)
    try:
        with factory() as s:
            topology_store.import_topology(s, load_topology("shandong-mini"))
            # only the local pools: the bundled network's accelerator pools are simulated, they would take jobs
            s.execute(delete(PoolRow).where(PoolRow.backend != "local"))
            for row in s.scalars(select(PoolRow).where(PoolRow.backend == "local")):
                row.backend_settings = {**(row.backend_settings or {}), "sandbox": mode}
            s.commit()
    finally:
        factory.kw["bind"].dispose()
    proc, base = start_server(work, url, scheduler=True)
    try:
        res: dict[str, Any] = _summary(waits_to_running(base, n))
    finally:
        stop(proc)
    # proof of the mode: the accounts the jobs ran as (None: unsandboxed)
    states = [json.loads(f.read_text()) for f in (work / "data").glob("**/local-*/state.json")]
    res["accounts"] = sorted({str(st.get("account")) for st in states})
    return res


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--jobs", type=int, default=40, help="jobs per mode, back-end level")
    ap.add_argument("--tenants", type=int, default=4, help="tenants the back-end-level jobs take turns as")
    ap.add_argument("--platform-jobs", type=int, default=30, help="jobs per mode through the API (0: skip)")
    ap.add_argument("--json", type=Path, help="also write the results as JSON here")
    args = ap.parse_args()
    problem = sandbox_problem()
    if problem:
        sys.exit(f"the sandbox is unavailable: {problem}")
    tenants = [f"bench-tenant-{i}" for i in range(args.tenants)]
    out: dict[str, Any] = {"backend": {}, "platform": {}}
    with tempfile.TemporaryDirectory(prefix="hh-bench-sandbox-") as d:
        tmp = Path(d)
        backend_latency(tmp, "bwrap", len(tenants), tenants)  # creates the accounts (not measured)
        for mode in MODES:
            out["backend"][mode] = backend_latency(tmp, mode, args.jobs, tenants)
        out["new_tenant_first_job_s"] = account_creation_s(tmp)
        if args.platform_jobs:
            for mode in MODES:
                out["platform"][mode] = platform_latency(tmp, mode, args.platform_jobs)
    for level, rows in (("back-end: submit → first command", out["backend"]),
                        ("platform: submit → RUNNING", out["platform"])):  # fmt: skip
        for mode, r in rows.items():
            who = f"  ran as {','.join(r['accounts'])}" if "accounts" in r else ""
            print(
                f"{level:34} sandbox={mode:5}  {r['jobs']} jobs  p50 {r['p50_s'] * 1000:.0f} ms  "
                f"p95 {r['p95_s'] * 1000:.0f} ms  max {r['max_s'] * 1000:.0f} ms{who}"
            )
    print(f"first job of a new tenant (account created): {out['new_tenant_first_job_s'] * 1000:.0f} ms")
    if args.json:
        args.json.write_text(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
