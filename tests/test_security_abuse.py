"""Abuse limits and hostile input: rate limit per token (429 + Retry-After), body size (413), bounded pages,
SQL-ish and path-traversal strings in filters and ids, secrets never in logs or error bodies, console login
with a session cookie and CSRF double submit."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest

from tests.security_support import SECRET, World, world

API = "/api/v1"
HOSTILE = [
    "' OR '1'='1", "1; DROP TABLE audit_log; --", "ta' --", "%27%20OR%201=1", "../../etc/passwd",
    "..%2F..%2Fetc%2Fpasswd", "\x00", "ta\" OR \"\"=\"", "<script>alert(1)</script>", "*", "%", "ta%",
]  # fmt: skip


@pytest.fixture
def w(tmp_path: Path) -> Iterator[World]:
    with world(f"sqlite:///{tmp_path / 'x.db'}") as wd:
        yield wd


def test_rate_limit_per_token_with_retry_after(tmp_path: Path) -> None:
    with world(f"sqlite:///{tmp_path / 'r.db'}", rate_limit_per_s=2.0, rate_limit_burst=5) as w:
        _check_rate_limit(w)


def _check_rate_limit(w: World) -> None:
    codes = [w.client.get(f"{API}/centers", headers=w.h("tenant_user")).status_code for _ in range(8)]
    assert codes[:5] == [200] * 5 and 429 in codes[5:]
    r = w.client.get(f"{API}/centers", headers=w.h("tenant_user"))
    assert r.status_code == 429 and int(r.headers["retry-after"]) >= 1
    assert r.json()["detail"][0]["message"].startswith("too many requests")
    assert w.client.get(f"{API}/centers", headers=w.h("regulator")).status_code == 200  # another bucket


def test_body_too_large_is_413(tmp_path: Path) -> None:
    with world(f"sqlite:///{tmp_path / 'y.db'}", max_body_bytes=4096) as w:
        big = {"id": "big", "name": "x" * 10_000}
        r = w.client.post(f"{API}/tenants", json=big, headers=w.h("admin"))
        assert r.status_code == 413 and "larger than 4096" in r.text

        def chunks() -> Iterator[bytes]:  # no Content-Length: streamed
            yield b'{"id": "big", "name": "'
            for _ in range(10):
                yield b"x" * 1000
            yield b'"}'

        r = w.client.post(
            f"{API}/tenants", content=chunks(), headers={**w.h("admin"), "Content-Type": "application/json"}
        )
        assert r.status_code == 413
        assert w.client.get(f"{API}/tenants/big", headers=w.h("admin")).status_code == 404


@pytest.mark.parametrize("limit", ["0", "1001", "-1", "abc", "1e9"])
def test_page_sizes_are_bounded(tmp_path: Path, limit: str) -> None:
    with world(f"sqlite:///{tmp_path / 'z.db'}") as w:
        for path in ("centers", "datasets", "vouchers", "audit", "jobs", "usage", "projects"):
            r = w.client.get(f"{API}/{path}?limit={limit}", headers=w.h("admin"))
            assert r.status_code == 422 and r.json()["detail"][0]["path"] == "query.limit", (path, r.text)


def test_hostile_strings_in_filters_and_ids(w: World) -> None:
    for bad in HOSTILE:
        for path, params in [
            ("datasets", {"tenant": bad}), ("jobs", {"tenant": bad}), ("vouchers", {"tenant": bad}),
            ("audit", {"action": bad}), ("users", {"role": bad}), ("tenants", {"sector": bad}),
        ]:  # fmt: skip
            r = w.client.get(f"{API}/{path}", params=params, headers=w.h("admin"))
            assert r.status_code in (200, 422), (path, bad, r.status_code, r.text)
            if r.status_code == 200:
                assert r.json()["total"] == 0, (path, bad)
        for route in ("datasets", "vouchers", "projects", "jobs", "invoices", "tenants"):
            r = w.client.get(f"{API}/{route}/{quote(bad, safe='')}", headers=w.h("admin"))
            assert r.status_code in (404, 422), (route, bad, r.status_code)
    with w.session() as s:  # nothing was dropped
        from huanghe.audit import service as audit

        assert audit.verify(s).ok


@pytest.mark.parametrize(
    "path",
    ["/static/../huanghe/settings.py", "/static/%2e%2e/%2e%2e/pyproject.toml", "/static/..%2F..%2Fpyproject.toml",
     "/api/v1/../../etc/passwd", "/static//etc/passwd"],
)  # fmt: skip
def test_path_traversal_finds_nothing(w: World, path: str) -> None:
    r = w.client.get(path, headers=w.h("admin"))
    assert r.status_code in (400, 401, 403, 404), (path, r.status_code)
    assert "BaseSettings" not in r.text and "[project]" not in r.text and "root:" not in r.text


def test_no_token_or_secret_in_logs_or_error_bodies(w: World, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    token = w.tokens["tenant_user"]
    bodies = []
    bodies.append(w.client.get(f"{API}/tenants", headers=w.h("tenant_user")).text)  # 403
    bodies.append(w.client.get(f"{API}/tenants", headers={"Authorization": f"Bearer {token}x"}).text)  # 401
    bodies.append(w.client.post(f"{API}/datasets", json={"id": token}, headers=w.h("tenant_user")).text)
    bodies.append(w.client.get(f"{API}/audit/export?format=json", headers=w.h("admin")).text)
    r = w.client.post(f"{API}/auth/tokens", json={"name": "n", "role": "admin"}, headers=w.h("admin"))
    fresh = r.json()["token"]
    bodies.append(w.client.get(f"{API}/auth/tokens", headers=w.h("admin")).text)
    everything = "\n".join(bodies) + "\n".join(rec.getMessage() + str(rec.args) for rec in caplog.records)
    for secret in (token, fresh, SECRET, *w.tokens.values()):
        assert secret not in everything
        assert secret[10:30] not in everything  # not even a fragment past the shown prefix


def test_console_login_session_and_csrf(w: World) -> None:
    c = w.client
    page = c.get("/login")
    assert page.status_code == 200 and "API 令牌" in page.text
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert csrf is not None
    bad = c.post("/login", data={"token": "hh_wrong", "csrf": csrf.group(1)}, follow_redirects=False)
    assert bad.status_code == 401 and "hh_wrong" not in bad.text
    forged = c.post(
        "/login", data={"token": w.tokens["tenant_admin"], "csrf": "forged"}, follow_redirects=False
    )
    assert forged.status_code == 403
    page = c.get("/login")
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert csrf is not None
    ok = c.post(
        "/login", data={"token": w.tokens["tenant_admin"], "csrf": csrf.group(1)}, follow_redirects=False
    )
    assert ok.status_code == 303 and "huanghe_session" in ok.headers.get("set-cookie", "")
    assert (
        "httponly" in ok.headers["set-cookie"].lower()
        and "samesite=strict" in ok.headers["set-cookie"].lower()
    )
    assert c.get(f"{API}/auth/whoami").json()["role"] == "tenant_admin"  # the cookie authenticates
    logins = c.get(f"{API}/audit?action=http.post", headers=w.h("admin")).json()["items"]
    assert [x["actor"] for x in logins if x["subject"] == "/login"] == ["tenant_admin:ta-admin#4"]
    body = {"id": "ds-new", "tenant": "ta", "name": "n", "center": "jn-sc", "size_gb": 1}
    no_csrf = c.post(f"{API}/datasets", json=body)
    assert no_csrf.status_code == 403 and "CSRF" in no_csrf.text
    session_csrf = c.cookies.get("huanghe_csrf")
    assert session_csrf
    assert c.post(f"{API}/datasets", json=body, headers={"X-CSRF-Token": session_csrf}).status_code == 201
    tampered = c.cookies.get("huanghe_session", "")[:-2] + "00"
    c.cookies.set("huanghe_session", tampered)
    assert c.get(f"{API}/auth/whoami").status_code == 401
    c.cookies.clear()
    assert c.get(f"{API}/auth/whoami").status_code == 401


def test_backend_secrets_are_masked_for_everyone_but_admins(
    w: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    # issue #11 changed this: settings are hidden below admin (not only secret-like values), and a pool names
    # an encrypted secret instead of holding a literal token or a host file
    from cryptography.fernet import Fernet

    monkeypatch.setenv("HUANGHE_SECRET_KEY", Fernet.generate_key().decode())
    secret = "jwt-" + "z" * 40
    put = w.client.put(f"{API}/secrets/slurm-jn", json={"value": secret}, headers=w.h("admin"))
    assert put.status_code == 200 and secret not in put.text
    settings = {"backend_settings": {"token_secret": "slurm-jn", "partition": "gpu"}}
    assert w.client.patch(f"{API}/pools/jn-sc-dcu", json=settings, headers=w.h("admin")).status_code == 200
    for who in ("anon", "tenant_user", "operator", "regulator"):
        for path in (
            "/pools/jn-sc-dcu",
            "/pools",
            "/centers/jn-sc",
            "/centers",
            "/topology",
            "/topology?format=yaml",
        ):
            r = w.client.get(f"{API}{path}", headers=w.h(who))
            assert r.status_code == 200, (who, path)
            assert secret not in r.text and "slurm-jn" not in r.text, (who, path)
            if path == "/pools/jn-sc-dcu":
                assert r.json()["backend_settings"] == {} and r.json()["backend"] == "slurm"
    admin = w.client.get(f"{API}/pools/jn-sc-dcu", headers=w.h("admin")).json()
    assert admin["backend_settings"] == {"token_secret": "slurm-jn", "partition": "gpu"}
