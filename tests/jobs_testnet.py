"""A two-center test network for the jobs / scheduler tests, with chosen back-ends per pool.

``jn-sc-cpu`` (Jinan, CPU speed 1.1) is the faster pool, so earliest-completion (the live default) puts CPU jobs there first;
``qd-ai-cpu`` (Qingdao, speed 1.0) is where they go when Jinan is excluded or unhealthy.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Collection
from pathlib import Path
from typing import Any

import yaml

from huanghe.catalog.topology import loads_topology
from huanghe.domain.network import Topology
from huanghe.network import topology_store as topology_store
from huanghe.store.db import make_session_factory
from huanghe.store.migrate import migrate

MINI = Path(__file__).parent / "data" / "mini_network.yaml"


def _pool(pid: str, speed: float, backend: str, settings: dict[str, str]) -> dict[str, Any]:
    return {
        "id": pid, "name": pid, "cpu_model": "test", "nodes": 4, "cpus_per_node": 16, "mem_gb_per_node": 64,
        "peak_tflops_per_node": {"fp64": 1.0, "fp32": 2.0}, "power_kw_per_node": 0.5,
        "price_cny_per_hour": 4.0, "speed": {"cpu": speed, "hpc": speed}, "backend": backend,
        "backend_settings": settings,
    }  # fmt: skip


def topology(
    jinan: tuple[str, dict[str, str]], qingdao: tuple[str, dict[str, str]] | None = None
) -> Topology:
    """The mini network with one CPU pool in Jinan and (optionally) one in Qingdao, on the given back-ends."""
    data = yaml.safe_load(MINI.read_text())
    for c in data["centers"]:
        if c["id"] == "jn-sc":
            c["pools"] = [_pool("jn-sc-cpu", 1.1, *jinan)]
        elif c["id"] == "qd-ai":
            c["pools"] = [_pool("qd-ai-cpu", 1.0, *qingdao)] if qingdao else []
    return loads_topology(yaml.safe_dump(data, allow_unicode=True))


#: The test pools' wait for a tenant's account, seconds: it keeps their submit bound (that + the back-end's
#: allowance for files and process, 10 s) under the test servers' ``max_submit_s`` (tests/jobs_server.py).
LOCAL_ACCOUNT_TIMEOUT_S = "10"


def local(root: Path, **extra: str) -> tuple[str, dict[str, str]]:
    """A local back-end pool entry keeping its jobs under ``root``."""
    return "local", {
        "root": str(root),
        "kill_grace_s": "1",
        "account_timeout_s": LOCAL_ACCOUNT_TIMEOUT_S,
        **extra,
    }


def prepare_db(url: str, topo: Topology) -> None:
    """Migrate ``url`` and import ``topo``."""
    migrate(url)
    factory = make_session_factory(url)
    try:
        with factory() as s:
            topology_store.import_topology(s, topo)
    finally:
        factory.kw["bind"].dispose()


TERMINAL = frozenset({"SUCCEEDED", "FAILED", "CANCELLED"})


def wait_state(
    get: Callable[[str], Any], job_id: str, states: Collection[str] = TERMINAL, timeout_s: float = 30.0
) -> dict[str, Any]:
    """Poll ``GET /api/v1/jobs/{id}`` through ``get(path)`` (a TestClient's or a base-URL httpx getter) until
    the job is in one of ``states``; fails with its state and message after ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    while True:
        job: dict[str, Any] = get(f"/api/v1/jobs/{job_id}").json()
        if job["state"] in states:
            return job
        assert time.monotonic() < deadline, f"{job_id} still {job['state']}: {job.get('message')}"
        time.sleep(0.05)
