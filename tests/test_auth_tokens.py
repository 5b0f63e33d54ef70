"""API tokens: shown once, stored hashed, scoped, expiring, revocable; the CLI's first admin token."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from huanghe.cli.main import app as cli
from huanghe.core.errors import InvalidError
from huanghe.domain.tenancy import Role
from huanghe.store.db import make_session_factory
from huanghe.tenancy import tokens as auth
from huanghe.tenancy.models import ApiTokenRow
from tests.security_support import world

API = "/api/v1"


def test_token_is_random_shown_once_and_stored_as_sha256(tmp_path: Path) -> None:
    with world(f"sqlite:///{tmp_path / 'a.db'}") as w:
        r = w.client.post(
            f"{API}/auth/tokens", json={"name": "ci", "role": "regulator"}, headers=w.h("admin")
        )
        assert r.status_code == 201, r.text
        token = r.json()["token"]
        assert token.startswith("hh_") and len(token) >= 40
        with w.session() as s:
            row = s.scalars(select(ApiTokenRow).where(ApiTokenRow.name == "ci")).one()
            assert row.token_hash == hashlib.sha256(token.encode()).hexdigest()
            assert token not in repr([getattr(row, c.key) for c in ApiTokenRow.__table__.columns])
        listed = w.client.get(f"{API}/auth/tokens", headers=w.h("admin")).json()["items"]
        assert all("token" not in t for t in listed) and token not in str(listed)
        me = w.client.get(f"{API}/auth/whoami", headers={"Authorization": f"Bearer {token}"}).json()
        assert me["role"] == "regulator" and me["name"] == "ci"
        second = w.client.post(
            f"{API}/auth/tokens", json={"name": "ci", "role": "regulator"}, headers=w.h("admin")
        )
        assert second.json()["token"] != token


def test_revoked_and_expired_tokens_stop_working(tmp_path: Path) -> None:
    with world(f"sqlite:///{tmp_path / 'a.db'}") as w:
        r = w.client.post(f"{API}/auth/tokens", json={"name": "tmp", "role": "admin"}, headers=w.h("admin"))
        tid, token = r.json()["id"], r.json()["token"]
        h = {"Authorization": f"Bearer {token}"}
        assert w.client.get(f"{API}/tenants", headers=h).status_code == 200
        assert (
            w.client.delete(f"{API}/auth/tokens/{tid}", headers=w.h("admin")).json()["revoked_s"] is not None
        )
        r = w.client.get(f"{API}/tenants", headers=h)
        assert r.status_code == 401 and "revoked" in r.text and token not in r.text
        with w.session() as s:
            created = auth.create_token(
                s, auth.TokenCreate(name="short", role=Role.ADMIN, expires_in_s=60), now=1000.0
            )
            assert auth.authenticate(s, created.token, now=1059.0) is not None
            assert auth.authenticate(s, created.token, now=1061.0) is None
            assert (
                auth.authenticate(s, "hh_" + "x" * 43) is None and auth.authenticate(s, "not-a-token") is None
            )


def test_token_bindings_are_validated(tmp_path: Path) -> None:
    with world(f"sqlite:///{tmp_path / 'a.db'}") as w, w.session() as s:
        with pytest.raises(InvalidError, match="tenant"):
            auth.create_token(s, auth.TokenCreate(name="x", role=Role.TENANT_USER))
        with pytest.raises(InvalidError, match="centers"):
            auth.create_token(s, auth.TokenCreate(name="x", role=Role.OPERATOR))
        with pytest.raises(InvalidError, match="unknown center"):
            auth.create_token(s, auth.TokenCreate(name="x", role=Role.OPERATOR, centers=["nope"]))
        with pytest.raises(InvalidError, match="only tenant roles"):
            auth.create_token(s, auth.TokenCreate(name="x", role=Role.ADMIN, tenant="ta"))
        # a tenant admin creates tokens for its own tenant only, and only tenant roles
        r = w.client.post(f"{API}/auth/tokens", json={"name": "u", "role": "tenant_user", "tenant": "ta"},
                          headers=w.h("tenant_admin"))  # fmt: skip
        assert r.status_code == 201
        r = w.client.post(f"{API}/auth/tokens", json={"name": "u", "role": "tenant_user", "tenant": "tb"},
                          headers=w.h("tenant_admin"))  # fmt: skip
        assert r.status_code == 403
        r = w.client.post(f"{API}/auth/tokens", json={"name": "u", "role": "admin", "tenant": "ta"},
                          headers=w.h("tenant_admin"))  # fmt: skip
        assert r.status_code == 422 and "tenant admin" in r.text
        listed = w.client.get(f"{API}/auth/tokens?tenant=tb", headers=w.h("tenant_admin")).json()["items"]
        assert listed and {t["tenant"] for t in listed} == {"ta"}


def test_cli_creates_the_first_admin_token_against_a_fresh_database(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    runner = CliRunner()
    r = runner.invoke(cli, ["admin", "create-token", "--role", "admin", "--name", "first", "--db", url])
    assert r.exit_code == 0, r.output
    token = r.stdout.strip().splitlines()[0]
    factory = make_session_factory(url)
    try:
        with factory() as s:
            p = auth.authenticate(s, token)
            assert p is not None and p.role is Role.ADMIN and p.name == "first"
    finally:
        factory.kw["bind"].dispose()
    listed = runner.invoke(cli, ["admin", "list-tokens", "--db", url, "--json"])
    assert listed.exit_code == 0 and token not in listed.stdout and '"first"' in listed.stdout
    bad = runner.invoke(cli, ["admin", "create-token", "--role", "tenant_user", "--db", url])
    assert bad.exit_code == 1 and "tenant" in bad.output and "Traceback" not in bad.output
    assert runner.invoke(cli, ["admin", "revoke-token", "1", "--db", url]).exit_code == 0
    verify = runner.invoke(cli, ["audit", "verify", "--db", url])
    assert verify.exit_code == 0 and "2 records" in verify.stdout


def test_up_refuses_to_start_without_a_session_secret(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("HUANGHE_DEV_MODE", raising=False)
    monkeypatch.delenv("HUANGHE_SESSION_SECRET", raising=False)
    r = CliRunner().invoke(cli, ["up", "--db", f"sqlite:///{tmp_path / 'u.db'}"])
    assert r.exit_code == 2 and "HUANGHE_SESSION_SECRET" in r.output and "Traceback" not in r.output


def test_served_platform_with_authentication_on(tmp_path: Path) -> None:
    """`huanghe up` outside dev mode (a real server by PID), the first admin token made by the CLI."""
    import os
    import signal
    import subprocess
    import sys
    import time

    import httpx

    from tests.infra.ports import spawn_on_free_port

    db = f"sqlite:///{tmp_path / 'srv.db'}"
    r = CliRunner().invoke(cli, ["admin", "create-token", "--role", "admin", "--db", db])
    token = r.stdout.strip().splitlines()[0]
    env = {k: v for k, v in os.environ.items() if not k.startswith("HUANGHE_")}
    env.update(HUANGHE_DATA_DIR=str(tmp_path / "data"), HUANGHE_SESSION_SECRET="e2e-" + "q" * 40,
               PYTHONPATH=str(Path(__file__).resolve().parents[1]), HUANGHE_SCHEDULER_ENABLED="0")  # fmt: skip

    def spawn(port: int) -> subprocess.Popen[bytes]:
        with open(tmp_path / "up.log", "ab") as log:
            return subprocess.Popen(
                [sys.executable, "-c", "from huanghe.cli.main import app; app()", "up", "--port", str(port), "--db",
                 db, "--network", str(Path(__file__).parent / "data" / "mini_network.yaml")],
                stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True,
            )  # fmt: skip

    # a free port, chosen again if another process takes it first; returns once this `up` (by PID) listens there
    proc, port = spawn_on_free_port(spawn, tmp_path / "up.log", what="huanghe up")
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert proc.poll() is None, (tmp_path / "up.log").read_text()
            try:
                httpx.get(f"{base}/healthz", timeout=2)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, "server not up"
                time.sleep(0.1)
        assert httpx.get(f"{base}/api/v1/centers").status_code == 200  # public map data
        assert httpx.get(f"{base}/api/v1/tenants").status_code == 401
        ok = httpx.get(f"{base}/api/v1/tenants", headers={"Authorization": f"Bearer {token}"})
        assert ok.status_code == 200
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(20)
    assert token not in (tmp_path / "up.log").read_text()
