"""Connection settings written through the API (issue #11): URLs validated (scheme, no link-local, metadata or
unspecified addresses, loopback only when the admin allows it), no literal credential, files only from the
credentials directory, exporters checked alike; back-end errors name no URL, path or token."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from huanghe.network import secrets
from huanghe.network.connection_rules import url_problem
from tests.security_support import World, world

API = "/api/v1"


@pytest.fixture
def w(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    monkeypatch.setenv(secrets.KEY_ENV, Fernet.generate_key().decode())
    monkeypatch.delenv("HUANGHE_BACKEND_ALLOW_LOOPBACK", raising=False)
    monkeypatch.delenv("HUANGHE_CREDENTIALS_DIR", raising=False)
    with world(f"sqlite:///{tmp_path / 'u.db'}") as wd:
        yield wd


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("ftp://slurm.example.org", "scheme"),
        ("file:///etc/passwd", "scheme"),
        ("http://169.254.169.254/latest/meta-data", "metadata"),
        ("http://169.254.10.1:6820", "link-local"),
        ("http://[fe80::1]:6820", "link-local"),
        ("http://metadata.google.internal", "metadata"),
        ("http://100.100.100.200/latest", "metadata"),
        ("http://[::ffff:169.254.169.254]/", "metadata"),
        ("http://127.0.0.1:6820", "loopback"),
        ("http://localhost:6820", "loopback"),
        ("http://[::1]:6820", "loopback"),
        ("http://0.0.0.0:6820", "unspecified"),
        ("http://admin:pw@slurm.example.org", "user"),
        ("http://slurm.example.org:99999", "not a URL"),
        ("slurm.example.org:6820", "scheme"),
    ],
)
def test_bad_connection_urls_are_422_naming_the_field(w: World, url: str, words: str) -> None:
    r = w.client.patch(
        f"{API}/pools/jn-sc-dcu", json={"backend_settings": {"rest_url": url}}, headers=w.h("admin")
    )
    assert r.status_code == 422, r.text
    detail = r.json()["detail"][0]
    assert detail["path"] == "body.backend_settings.rest_url" and words in detail["message"]


def test_literal_credentials_and_files_are_refused_from_the_api(
    w: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for key in ("token", "auth_token", "password", "api_key"):
        r = w.client.patch(
            f"{API}/pools/jn-sc-dcu", json={"backend_settings": {key: "s3cret-v"}}, headers=w.h("admin")
        )
        assert r.status_code == 422 and r.json()["detail"][0]["path"] == f"body.backend_settings.{key}"
        assert "s3cret-v" not in r.text
    r = w.client.patch(f"{API}/pools/jn-sc-dcu", json={"backend_settings": {"token_file": "/etc/shadow"}},
                       headers=w.h("admin"))  # fmt: skip
    assert r.status_code == 422 and r.json()["detail"][0]["path"] == "body.backend_settings.token_file"
    creds = tmp_path / "creds"
    creds.mkdir()
    (creds / "jwt").write_text("t")
    monkeypatch.setenv("HUANGHE_CREDENTIALS_DIR", str(creds))
    for outside in ("/etc/shadow", str(creds / ".." / "c.db")):
        r = w.client.patch(f"{API}/pools/jn-sc-dcu", json={"backend_settings": {"token_file": outside}},
                           headers=w.h("admin"))  # fmt: skip
        assert r.status_code == 422, outside
    inside = {"backend_settings": {"token_file": str(creds / "jwt"), "partition": "gpu"}}
    assert w.client.patch(f"{API}/pools/jn-sc-dcu", json=inside, headers=w.h("admin")).status_code == 200
    good = {"backend_settings": {"rest_url": "https://slurm.example.org:6820", "partition": "gpu"}}
    assert w.client.patch(f"{API}/pools/jn-sc-dcu", json=good, headers=w.h("admin")).status_code == 200


def test_url_rule_allows_loopback_only_when_told() -> None:
    assert url_problem("http://127.0.0.1:6820", allow_loopback=True) is None
    assert url_problem("https://slurm-head.example.org:6820", allow_loopback=False) is None
    assert url_problem("http://127.0.0.1:6820", allow_loopback=False)
    assert url_problem("http://169.254.169.254", allow_loopback=True)  # metadata never


def test_exporter_urls_are_checked_like_connection_urls(w: World) -> None:
    """An operator lists its own exporters, but cannot make the platform scrape metadata or loopback."""
    for url in ("http://169.254.169.254/latest/meta-data/", "http://127.0.0.1:9100/metrics", "gopher://x"):
        body = {"exporters": ["https://exporter.example.org/metrics", url]}
        r = w.client.patch(f"{API}/centers/qd-ai", json=body, headers=w.h("operator"))
        assert r.status_code == 422 and r.json()["detail"][0]["path"] == "body.exporters[1]", r.text
    ok = {"exporters": ["https://exporter.example.org/metrics"]}
    assert w.client.patch(f"{API}/centers/qd-ai", json=ok, headers=w.h("operator")).status_code == 200


def test_back_end_errors_name_no_connection_detail(tmp_path: Path) -> None:
    """Health messages reach every role (``GET /health/centers``) and job events: no URL, no file path."""
    from huanghe.backends.registry import create_backend
    from tests.infra.ports import refused_url

    with refused_url() as url:  # bound, not listening: refused, and no other process can take the port
        missing = str(tmp_path / "no-such-jwt")
        for settings in ({"token_file": missing}, {"token": "tok-value"}):
            b = create_backend(
                "slurm", {"rest_url": url, "user": "u", "cli": "never", "health_timeout_s": "1", **settings}
            )
            try:
                message = b.health().message
            finally:
                b.close()
            assert message and url not in message and missing not in message and "tok-value" not in message
        ray = create_backend("ray", {"address": url, "timeout_s": "1"})
        try:
            message = ray.health().message
        finally:
            ray.close()
        assert message and url not in message
