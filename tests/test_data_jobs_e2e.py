"""Jobs and data together, end to end (issue #13 acceptance): a job reading a 1 GB dataset stored on another
center is placed with the data term in its explanation, its input is staged by a rule (a real transfer between
two SeaweedFS servers, checksum-verified), it runs sandboxed on the local back-end with the file in its working
directory, and its output is stored back as a dataset of its tenant, downloadable with the right checksum.

Real components: the app (SQLite) with its dispatcher, data loop and transfer loop; two SeaweedFS servers;
the local back-end. Endpoints: ``jn-sc-hot`` on server 0, ``qd-ai-hot`` on server 1.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography.fernet import Fernet
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy import select

from huanghe.api.app import create_app
from huanghe.backends.local import LocalBackend
from huanghe.data.files import refresh_dataset
from huanghe.data.models import (
    DataFileRow,
    DatasetRow,
    FileReplicaRow,
    ReplicationRuleRow,
    StorageEndpointRow,
    TransferRow,
)
from huanghe.data.objects import EndpointAccess, ObjectStore
from huanghe.jobs.settings import DispatchSettings
from huanghe.network.models import CenterRow
from huanghe.network.schemas import SecretPut
from huanghe.network.secrets import put_secret
from huanghe.settings import Settings
from huanghe.store.db import make_session_factory
from huanghe.tenancy import service as tenancy_svc
from huanghe.tenancy.schemas import TenantCreate
from tests import jobs_testnet as net
from tests.infra.seaweed import SeaweedServer, unique_bucket

API = "/api/v1"
GB = 10**9
#: endpoint id → (center, server index)
ENDPOINTS = {"jn-sc-hot": ("jn-sc", 0), "qd-ai-hot": ("qd-ai", 1)}


def _big_file(path: Path, size: int) -> str:
    """``size`` bytes (a random 4 MiB block with a counter per block, fast to write); its SHA-256."""
    block = os.urandom(4 * 1024 * 1024)
    h = hashlib.sha256()
    with path.open("wb") as out:
        written, i = 0, 0
        while written < size:
            chunk = (i.to_bytes(8, "big") + block[8:])[: size - written]
            out.write(chunk)
            h.update(chunk)
            written += len(chunk)
            i += 1
    return h.hexdigest()


def _seed(url: str, servers: list[SeaweedServer], tmp: Path, size: int) -> tuple[str, dict[str, ObjectStore]]:
    """Tenant ``ta``, the two endpoints, dataset ``big`` (file ``input.bin`` of ``size`` bytes on qd-ai-hot
    only, verified). Returns the file's SHA-256 and the stores."""
    sf = make_session_factory(url)
    stores: dict[str, ObjectStore] = {}
    try:
        with sf() as s:
            for c in s.query(CenterRow):
                c.allowed_data_classes = ["general", "important", "core"]
            tenancy_svc.create_tenant(s, TenantCreate(id="ta", name="Tenant A", sector="manufacturing"))
            for i, srv in enumerate(servers):
                put_secret(s, f"weed{i}-access", SecretPut(value=SecretStr(srv.access_key)))
                put_secret(s, f"weed{i}-secret", SecretPut(value=SecretStr(srv.secret_key)))
            for eid, (center, i) in ENDPOINTS.items():
                srv = servers[i]
                bucket = unique_bucket("dj")
                stores[eid] = ObjectStore(EndpointAccess(srv.s3_url, bucket, srv.access_key, srv.secret_key))
                stores[eid].ensure_bucket()
                s.add(StorageEndpointRow(
                    id=eid, center_id=center, temperature="hot", medium="flash", url=srv.s3_url, bucket=bucket,
                    access_key_secret=f"weed{i}-access", secret_key_secret=f"weed{i}-secret",
                    capacity_bytes=50 * GB, used_bytes=0, available=True, reason="", attributes={}, created_s=0.0,
                ))  # fmt: skip
            s.add(DatasetRow(id="big", tenant_id="ta", name="big", center_id="qd-ai", size_gb=0.0,
                             data_class="general", temperature="hot", replicas=[], allowed_centers=[]))  # fmt: skip
            s.commit()
            src = tmp / "input.bin"
            sha = _big_file(src, size)
            key = "qd-ai-hot/big/input.bin"
            info = stores["qd-ai-hot"].put_file(key, src)
            assert info.sha256 == sha and info.size_bytes == size
            src.unlink()
            now = time.time()
            f = DataFileRow(dataset_id="big", name="input.bin", size_bytes=size, sha256=sha, state="available",
                            created_s=now, accessed_s=now)  # fmt: skip
            s.add(f)
            s.flush()
            s.add(FileReplicaRow(file_id=f.id, endpoint_id="qd-ai-hot", state="available", object_key=key,
                                 size_bytes=size, lock_count=0, created_s=now, accessed_s=now, verified_s=now))  # fmt: skip
            ep = s.get(StorageEndpointRow, "qd-ai-hot")
            assert ep is not None
            ep.used_bytes = size
            s.flush()
            refresh_dataset(s, "big")
            s.commit()
    finally:
        sf.kw["bind"].dispose()
    return sha, stores


@pytest.fixture
def app_client(
    tmp_path: Path, seaweed_servers: list[SeaweedServer], monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[TestClient, str, str]]:
    """The app with the dispatcher, data loop and transfer loop running; yields (client, db url, input SHA)."""
    monkeypatch.setenv("HUANGHE_SECRET_KEY", Fernet.generate_key().decode())
    monkeypatch.setenv("HUANGHE_STAGING_ROOT", str(tmp_path / "job-data"))
    monkeypatch.setenv("HUANGHE_DATA_LOOP_INTERVAL_S", "0.3")
    monkeypatch.setenv("HUANGHE_TRANSFERS_INTERVAL_S", "0.2")
    url = f"sqlite:///{tmp_path / 'dj.db'}"
    net.prepare_db(url, net.topology(net.local(tmp_path / "jn"), net.local(tmp_path / "qd")))
    t0 = time.monotonic()
    sha, _stores = _seed(url, seaweed_servers, tmp_path, GB)
    print(f"\n1 GB input written and uploaded in {time.monotonic() - t0:.1f} s")
    app = create_app(Settings(database_url=url, migrate_on_startup=False))
    app.state.scheduler_settings = DispatchSettings(interval_s=0.1, health_interval_s=1.0, lease_ttl_s=5)
    with TestClient(app) as c:
        yield c, url, sha


def _events(c: TestClient, job_id: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = c.get(f"{API}/jobs/{job_id}/events").json()["items"]
    return items


def test_job_with_a_1gb_input_on_another_center_is_staged_runs_and_stores_its_output(
    app_client: tuple[TestClient, str, str], tmp_path: Path
) -> None:
    c, url, sha = app_client
    t0 = time.monotonic()
    r = c.post(f"{API}/jobs", json={
        "tenant": "ta", "command": "sha256sum inputs/big/input.bin > out.txt", "datasets": ["big"],
        "outputs": ["out.txt"], "output_dataset": "big-sums", "duration_s": 3600, "time_limit_s": 900,
    })  # fmt: skip
    assert r.status_code == 201, r.text
    jid = r.json()["id"]
    seen_staging: list[str] = []
    deadline = time.monotonic() + 400
    while True:
        job = c.get(f"{API}/jobs/{jid}").json()
        if (
            job["state"] == "PLACED"
            and "staging inputs" in job["message"]
            and job["message"] not in seen_staging
        ):
            seen_staging.append(job["message"])
        if job["state"] in net.TERMINAL and "outputs" in job["message"]:
            break
        assert time.monotonic() < deadline, job
        time.sleep(0.2)
    took = time.monotonic() - t0
    print(f"submit → output stored: {took:.1f} s; staging message seen: {seen_staging!r}")
    assert job["state"] == "SUCCEEDED", job
    assert seen_staging[0].startswith("staging inputs 0/1 files; big: rule r"), seen_staging
    assert seen_staging[-1].startswith("staging inputs 1/1 files: copying into the job directory"), (
        seen_staging
    )

    # placed where the data is not, with the data term named for the winner and the runner-up
    why = job["placement"]["explanation"]
    assert job["center"] == "jn-sc" and why["winner"]["center"] == "jn-sc"
    assert why["winner"]["data"]["bytes"] == GB and why["winner"]["data"]["from"] == "qd-ai"
    assert why["winner"]["data"]["transfer_s"] == pytest.approx(why["winner"]["terms"]["transfer_s"])
    assert why["winner"]["data"]["transfer_s"] > 0
    assert why["runner_up"]["center"] == "qd-ai" and why["runner_up"]["data"]["bytes"] == 0

    # staged: a staging rule, one verified transfer qd-ai-hot → jn-sc-hot, the inputs verified in the job dir
    sf = make_session_factory(url)
    try:
        with sf() as s:
            rule = s.scalars(
                select(ReplicationRuleRow).where(ReplicationRuleRow.created_by == f"job:{jid}")
            ).one()
            assert (
                rule.origin == "staging" and rule.copies == 1 and rule.expression == "center=jn-sc&tier=hot"
            )
            assert rule.lifetime_s == pytest.approx(900 + 3600)
            (tr,) = s.scalars(select(TransferRow).where(TransferRow.rule_id == rule.id)).all()
            assert (tr.state, tr.source_endpoint_id, tr.dest_endpoint_id, tr.bytes) == (
                "done",
                "qd-ai-hot",
                "jn-sc-hot",
                GB,
            )
            ds = s.get(DatasetRow, "big")
            assert ds is not None and sorted(ds.replicas) == ["jn-sc", "qd-ai"]
            out_ds = s.get(DatasetRow, "big-sums")
            assert out_ds is not None and out_ds.tenant_id == "ta" and out_ds.replicas == ["jn-sc"]
    finally:
        sf.kw["bind"].dispose()
    kinds = {e["kind"]: e for e in _events(c, jid)}
    staged = kinds["inputs_staged"]["data"]
    assert staged["verified"] is True and staged["bytes"] == GB and staged["files"][0]["sha256"] == sha
    assert staged["files"][0]["endpoint"] == "jn-sc-hot"
    print(f"stage-in into the job directory: {staged['seconds']:.1f} s for {staged['bytes']} bytes; "
          f"transfer {tr.duration_s:.1f} s")  # fmt: skip

    # it ran in the staged directory (sandboxed as the tenant's account when bubblewrap is usable)
    state = json.loads((tmp_path / "jn" / job["backend_job_id"] / "state.json").read_text())
    assert state["workdir"] == str(tmp_path / "job-data" / jid / "a1" / "work")
    if LocalBackend({"root": str(tmp_path / "probe")}).sandboxed:
        assert state["account"] and state["account"].startswith("hh-t-ta")
    assert not (tmp_path / "job-data" / jid / "a1" / "work" / "inputs").exists()  # staged inputs removed

    # ran, and its output is a dataset of its tenant on the job's center, downloadable with the right checksum
    expected = f"{sha}  inputs/big/input.bin\n".encode()
    out = kinds["outputs"]["data"]
    assert out["dataset"] == "big-sums" and out["center"] == "jn-sc" and out["endpoints"] == ["jn-sc-hot"]
    assert out["files"] == [{"name": "out.txt", "size_bytes": len(expected),
                             "sha256": hashlib.sha256(expected).hexdigest(), "endpoint": "jn-sc-hot"}]  # fmt: skip
    assert "big-sums" in job["message"] and "jn-sc-hot" in job["message"]
    listed = c.get(f"{API}/datasets/big-sums/files").json()["items"]
    assert [(f["name"], f["sha256"]) for f in listed] == [("out.txt", hashlib.sha256(expected).hexdigest())]
    got = c.get(f"{API}/datasets/big-sums/files/out.txt/content")
    assert got.status_code == 200 and got.content == expected
