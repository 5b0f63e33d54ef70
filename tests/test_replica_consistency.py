"""What replicas share on one real PostgreSQL (two apps in one process stand for two replicas: each has its
own token cache and its own buckets): a token revoked on one replica is refused on the other at once (LISTEN /
NOTIFY, not after the cache's time to live); the rate limit is one budget for both, not one each; and
``huanghe up --workers N`` refuses SQLite with a message naming PostgreSQL."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from huanghe.api.app import create_app
from huanghe.domain.tenancy import Role
from huanghe.store.migrate import migrate
from huanghe.tenancy import tokens as auth
from tests.security_support import secure_settings, seed

API = "/api/v1"
pytestmark = pytest.mark.postgres


def _replicas(url: str, **overrides: object) -> tuple[TestClient, TestClient, dict[str, str]]:
    migrate(url)
    a, b = create_app(secure_settings(url, **overrides)), create_app(secure_settings(url, **overrides))
    with a.state.session_factory() as s:
        tokens = seed(s)
    return TestClient(a, raise_server_exceptions=False), TestClient(b, raise_server_exceptions=False), tokens


def test_a_token_revoked_on_one_replica_is_refused_on_the_other_at_once(fresh_postgres_url: str) -> None:
    ca, cb, tokens = _replicas(fresh_postgres_url)
    apps = [ca.app, cb.app]
    try:
        for app in apps:
            app.state.cache_bus.start()  # type: ignore[attr-defined]
            assert app.state.cache_bus.listening.wait(10)  # type: ignore[attr-defined]
        with ca.app.state.session_factory() as s:  # type: ignore[attr-defined]
            made = auth.create_token(s, auth.TokenCreate(name="short", role=Role.TENANT_USER, tenant="ta"))
        h = {"Authorization": f"Bearer {made.token}"}
        assert cb.get(f"{API}/jobs", headers=h).status_code == 200  # now cached on B
        admin = {"Authorization": f"Bearer {tokens['admin']}"}
        assert ca.delete(f"{API}/auth/tokens/{made.id}", headers=admin).status_code == 200
        t0 = time.monotonic()
        while cb.get(f"{API}/jobs", headers=h).status_code != 401:
            assert time.monotonic() - t0 < 1.0, "replica B still accepts the revoked token"
            time.sleep(0.02)
    finally:
        for app in apps:
            app.state.cache_bus.stop()  # type: ignore[attr-defined]
        ca.close()
        cb.close()
        for app in apps:
            app.state.engine.dispose()  # type: ignore[attr-defined]


def test_the_rate_limit_is_one_budget_for_every_replica(fresh_postgres_url: str) -> None:
    ca, cb, tokens = _replicas(fresh_postgres_url, rate_limit_per_s=0.5, rate_limit_burst=12)
    h = {"Authorization": f"Bearer {tokens['tenant_user']}"}
    try:
        allowed = 0
        for i in range(40):
            r = (ca if i % 2 else cb).get(f"{API}/jobs", headers=h)
            assert r.status_code in (200, 429), r.text
            if r.status_code == 429:
                assert int(r.headers["Retry-After"]) >= 1
            allowed += r.status_code == 200
        assert 10 <= allowed <= 13, allowed  # one bucket of 12 (+ at most one refilled), not 12 per replica
    finally:
        ca.close()
        cb.close()
        for c in (ca, cb):
            c.app.state.engine.dispose()  # type: ignore[attr-defined]


@pytest.mark.parametrize("db", ["sqlite"])
def test_workers_need_postgresql(tmp_path: Path, db: str) -> None:
    env = {"PATH": "/usr/bin:/bin", "HUANGHE_DEV_MODE": "1", "HUANGHE_DATA_DIR": str(tmp_path)}
    r = subprocess.run(
        [sys.executable, "-m", "huanghe", "up", "--workers", "2", "--db", f"sqlite:///{tmp_path / 'x.db'}"],
        capture_output=True, text=True, env=env, cwd=Path(__file__).resolve().parents[1], timeout=60,
    )  # fmt: skip
    assert r.returncode == 2 and "PostgreSQL" in r.stderr and "Traceback" not in r.stderr, r.stderr
