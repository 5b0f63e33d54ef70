"""Cost of the security layer, in process (TestClient, no network), on a temp SQLite file.

Three apps on the same data, the same requests:

* ``baseline``: ``create_app`` with :func:`huanghe.api.security.install` replaced by a no-op (no auth
  dependency, no middleware, no audit);
* ``dev``: the real app in dev mode (auth off; every mutation still audited in the hash chain);
* ``auth``: authentication on, a bearer token looked up per request (SHA-256 + one indexed query), the policy
  table, audit.

Per app: ``GET /api/v1/regions`` (read) and ``POST /api/v1/tenants`` (write, audited) — requests/s and the
ratio to the baseline. Then ``audit verify`` speed over the records written. Usage::

    .venv/bin/python bench/tenancy_bench.py --reads 2000 --writes 1000
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from unittest import mock

from fastapi.testclient import TestClient

from huanghe.api import security
from huanghe.api.app import create_app
from huanghe.audit import service as audit
from huanghe.catalog.topology import load_topology
from huanghe.domain.tenancy import Role
from huanghe.network import topology_store as topology_store
from huanghe.settings import Settings
from huanghe.store.db import make_session_factory
from huanghe.store.migrate import migrate
from huanghe.tenancy import tokens as auth


def _rate(n: int, fn: Callable[[int], None]) -> float:
    started = time.perf_counter()
    for i in range(n):
        fn(i)
    return n / (time.perf_counter() - started)


def _measure(
    client: TestClient, headers: dict[str, str], prefix: str, reads: int, writes: int
) -> tuple[float, float]:
    def read(_i: int) -> None:
        assert client.get("/api/v1/regions", headers=headers).status_code == 200

    def write(i: int) -> None:
        body = {"id": f"{prefix}{i}", "name": "bench tenant", "sector": "bench"}
        assert client.post("/api/v1/tenants", json=body, headers=headers).status_code == 201

    read(0)
    return _rate(reads, read), _rate(writes, write)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reads", type=int, default=2000)
    parser.add_argument("--writes", type=int, default=1000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'bench.db'}"
        migrate(url)
        factory = make_session_factory(url)
        with factory() as s:
            topology_store.import_topology(s, load_topology("shandong-mini"), replace=False)
            token = auth.create_token(s, auth.TokenCreate(name="bench", role=Role.ADMIN)).token
        results: dict[str, tuple[float, float]] = {}
        common = {
            "database_url": url,
            "migrate_on_startup": False,
            "rate_limit_per_s": 1e9,
            "rate_limit_burst": 10**9,
        }
        with mock.patch.object(security, "install", lambda app: None):
            base_app = create_app(Settings(dev_mode=True, **common))  # type: ignore[arg-type]
        runs = [
            ("baseline", base_app, {}),
            ("dev", create_app(Settings(dev_mode=True, **common)), {}),  # type: ignore[arg-type]
            ("auth", create_app(Settings(dev_mode=False, auth_enabled=True, session_secret="b" * 40, **common)),  # type: ignore[arg-type]
             {"Authorization": f"Bearer {token}"}),
        ]  # fmt: skip
        for name, app, headers in runs:
            client = TestClient(app)  # no lifespan: the scheduler and telemetry loops stay off
            results[name] = _measure(client, headers, f"{name}-", args.reads, args.writes)
            client.close()
            app.state.engine.dispose()
        base_r, base_w = results["baseline"]
        print(f"{'app':10} {'reads/s':>9} {'ratio':>6} {'writes/s':>9} {'ratio':>6}")
        for name, (r, w) in results.items():
            print(f"{name:10} {r:9.0f} {r / base_r:6.2f} {w:9.0f} {w / base_w:6.2f}")
        with factory() as s:
            started = time.perf_counter()
            result = audit.verify(s)
            elapsed = time.perf_counter() - started
        print(
            f"audit verify: {result.checked} records in {elapsed:.3f} s ({result.checked / elapsed:.0f} records/s), ok={result.ok}"
        )
        factory.kw["bind"].dispose()


if __name__ == "__main__":
    main()
