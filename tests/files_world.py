"""Set-up of the datasets-and-files tests: the security world (authentication on, mini network, tenants
``ta`` / ``tb``, one token per role; tests/security_support.py) plus storage endpoints on the two real
SeaweedFS servers, their keys stored as encrypted secrets.

Endpoints: ``jn-sc-hot`` and ``qd-ai-hot`` on server 0 (one shared bucket), ``yt-edge-hot`` on server 1.
Every center accepts every data class (only the protection rules decide residency).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from cryptography.fernet import Fernet
from pydantic import SecretStr
from typer.testing import CliRunner

from huanghe.cli.main import app as cli
from huanghe.data.models import StorageEndpointRow
from huanghe.data.objects import EndpointAccess, ObjectStore
from huanghe.network.models import CenterRow
from huanghe.network.schemas import SecretPut
from huanghe.network.secrets import put_secret
from tests.infra.ports import ThreadedUvicorn
from tests.infra.seaweed import SeaweedServer, unique_bucket
from tests.security_support import World, world

API = "/api/v1"
#: endpoint id → (center, server index)
ENDPOINTS = {"jn-sc-hot": ("jn-sc", 0), "qd-ai-hot": ("qd-ai", 0), "yt-edge-hot": ("yt-edge", 1)}


@dataclass
class FilesWorld:
    """The app world and one :class:`ObjectStore` per endpoint (to look at or corrupt objects directly)."""

    w: World
    stores: dict[str, ObjectStore] = field(default_factory=dict)

    def call(self, method: str, path: str, who: str = "tenant_user", **kw: Any) -> httpx.Response:
        return self.w.client.request(method, f"{API}{path}", headers={**self.w.h(who), **kw.pop("headers", {})},
                                     **kw)  # fmt: skip

    def register(self, ds: str, who: str = "tenant_user", **body: Any) -> httpx.Response:
        return self.call("POST", "/datasets:register", who, json={"id": ds, **body})

    def put(self, ds: str, name: str, data: bytes, who: str = "tenant_user", **params: str) -> httpx.Response:
        sha = hashlib.sha256(data).hexdigest()
        return self.call("PUT", f"/datasets/{ds}/files/{name}", who, content=data, params=params,
                         headers={"X-Checksum-Sha256": sha})  # fmt: skip

    def keys(self, endpoint: str, prefix: str = "") -> list[str]:
        return list(self.stores[endpoint].keys(f"{endpoint}/{prefix}"))

    def multipart(self, endpoint: str, prefix: str = "") -> list[str]:
        """Keys with an S3 multipart upload still open (parts stored) under ``endpoint/prefix``."""
        store = self.stores[endpoint]
        answer = store.client.list_multipart_uploads(
            Bucket=store.access.bucket, Prefix=f"{endpoint}/{prefix}"
        )
        return [str(u["Key"]) for u in answer.get("Uploads", [])]


@contextmanager
def files_world(
    url: str, servers: list[SeaweedServer], *, capacity_bytes: int = 10**12
) -> Iterator[FilesWorld]:
    """The world on ``url`` with the endpoints of :data:`ENDPOINTS`; needs ``HUANGHE_SECRET_KEY`` set."""
    with world(url) as w:
        fw = FilesWorld(w)
        buckets = [unique_bucket("fw"), unique_bucket("fw")]
        with w.session() as s:
            for c in s.query(CenterRow):
                c.allowed_data_classes = ["general", "important", "core"]
            for i, srv in enumerate(servers):
                put_secret(s, f"weed{i}-access", SecretPut(value=SecretStr(srv.access_key)))
                put_secret(s, f"weed{i}-secret", SecretPut(value=SecretStr(srv.secret_key)))
                ObjectStore(
                    EndpointAccess(srv.s3_url, buckets[i], srv.access_key, srv.secret_key)
                ).ensure_bucket()
            for eid, (center, i) in ENDPOINTS.items():
                s.add(StorageEndpointRow(
                    id=eid, center_id=center, temperature="hot", medium="flash", url=servers[i].s3_url,
                    bucket=buckets[i], access_key_secret=f"weed{i}-access", secret_key_secret=f"weed{i}-secret",
                    capacity_bytes=capacity_bytes, used_bytes=0, available=True, reason="", attributes={},
                    created_s=0.0,
                ))  # fmt: skip
                fw.stores[eid] = ObjectStore(
                    EndpointAccess(
                        servers[i].s3_url, buckets[i], servers[i].access_key, servers[i].secret_key
                    )
                )
            s.commit()
        yield fw


@contextmanager
def served_files_world(
    url: str, servers: list[SeaweedServer], monkeypatch: pytest.MonkeyPatch
) -> Iterator[FilesWorld]:
    """:func:`files_world` on ``url`` with a fresh ``HUANGHE_SECRET_KEY``, served by uvicorn on 127.0.0.1
    (authentication on); ``HUANGHE_URL`` and ``HUANGHE_TOKEN`` (the tenant user's) point the CLI at it."""
    monkeypatch.setenv("HUANGHE_SECRET_KEY", Fernet.generate_key().decode())
    with (
        files_world(url, servers) as fw,
        ThreadedUvicorn(fw.w.app, lifespan="off") as server,  # its socket bound before it starts
    ):
        monkeypatch.setenv("HUANGHE_URL", server.url)
        monkeypatch.setenv("HUANGHE_TOKEN", fw.w.tokens["tenant_user"])
        yield fw


def run_cli(*args: str) -> tuple[int, str]:
    """``huanghe ARGS`` in this process: (exit code, output)."""
    r = CliRunner().invoke(cli, list(args))
    return r.exit_code, r.output
