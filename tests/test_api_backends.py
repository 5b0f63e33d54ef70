"""``GET /api/v1/backends``: what each back-end can run, with reasons; public, and it shows no pool settings."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from huanghe.backends.describe import capabilities_of
from huanghe.backends.protocol import Capability
from huanghe.backends.registry import backend_names
from tests.security_support import World, world

API = "/api/v1"


@pytest.fixture
def w(tmp_path: Path) -> Iterator[World]:
    with world(f"sqlite:///{tmp_path / 'b.db'}") as wd:
        yield wd


def test_every_registered_backend_is_listed_with_every_capability(w: World) -> None:
    page = w.client.get(f"{API}/backends").json()  # anonymous: public
    assert [b["name"] for b in page["items"]] == backend_names() and page["total"] == len(backend_names())
    for b in page["items"]:
        caps = capabilities_of(b["name"])
        assert [c["name"] for c in b["capabilities"]] == [c.value for c in Capability]
        for c in b["capabilities"]:
            assert c["supported"] == caps.has(c["name"])
            # a capability it lacks always carries the back-end's own reason
            assert (c["reason"] is None) == c["supported"]
            if not c["supported"]:
                assert c["reason"] == caps.missing[Capability(c["name"])]


def test_local_cannot_run_gpus_and_says_why(w: World) -> None:
    r = w.client.get(f"{API}/backends/local")
    assert r.status_code == 200
    gpus = next(c for c in r.json()["capabilities"] if c["name"] == "gpus")
    assert gpus["supported"] is False and gpus["reason"]


def test_unknown_and_malformed_names(w: World) -> None:
    r = w.client.get(f"{API}/backends/no-such")
    assert r.status_code == 404 and "no-such" in r.text
    bad = w.client.get(f"{API}/backends/%00evil")
    assert bad.status_code == 422 and "name" in bad.text
    assert w.client.get(f"{API}/backends?limit=0").status_code == 422
    assert w.client.get(f"{API}/backends?limit=2&offset=1").json()["items"][0]["name"] == backend_names()[1]


def test_no_pool_settings_are_shown(w: World, tmp_path: Path) -> None:
    # a pool with a secret in its settings: the back-end list never carries pool settings
    with w.session() as s:
        from huanghe.network.models import PoolRow

        pool = s.get(PoolRow, "jn-sc-cpu")
        assert pool is not None
        pool.backend_settings = {"token": "s3cr3t-value", "rest_url": "http://10.0.0.1:6820"}
        s.commit()
    for client in (w.client, TestClient(w.client.app)):
        text = client.get(f"{API}/backends").text + client.get(f"{API}/backends/slurm").text
        assert "s3cr3t-value" not in text and "10.0.0.1" not in text
