"""Staging when things go wrong, driven step by step (the dispatcher's tick, the rule engine, the transfer
service), on real SeaweedFS and the local back-end:

* the copy brought to the job's center is corrupted before the stage-in: the stage-in detects the checksum
  mismatch (the replica is marked bad, the job does not start), the repairer copies it again, the stage-in is
  retried and the job runs on the good bytes;
* the outputs do not fit the tenant's quota: the job stays SUCCEEDED and its ``outputs_failed`` event and
  message say why; nothing is stored.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from huanghe.core.clock import WallClock
from huanghe.data import rule_engine
from huanghe.data.models import DataFileRow, DataQuotaRow, FileReplicaRow
from huanghe.data.objects import ObjectStore
from huanghe.data.transfers import TransferService, TransferSettings
from huanghe.jobs.dispatcher import Dispatcher
from huanghe.jobs.models import JobEventRow, JobRow
from huanghe.jobs.schemas import JobSubmit
from huanghe.jobs.settings import DispatchSettings
from huanghe.jobs.submitting import prepare, write
from huanghe.store.db import make_session_factory
from tests import jobs_testnet as net
from tests.infra.seaweed import SeaweedServer
from tests.test_data_jobs_e2e import _seed

SIZE = 3_000_000


World = tuple[sessionmaker[Session], Dispatcher, TransferService, dict[str, ObjectStore], str]


@pytest.fixture
def world(
    tmp_path: Path, seaweed_servers: list[SeaweedServer], monkeypatch: pytest.MonkeyPatch
) -> Iterator[World]:
    monkeypatch.setenv("HUANGHE_SECRET_KEY", Fernet.generate_key().decode())
    monkeypatch.setenv("HUANGHE_STAGING_ROOT", str(tmp_path / "job-data"))
    url = f"sqlite:///{tmp_path / 'st.db'}"
    net.prepare_db(url, net.topology(net.local(tmp_path / "jn"), net.local(tmp_path / "qd")))
    sha, stores = _seed(url, seaweed_servers, tmp_path, SIZE)
    sf = make_session_factory(url)
    disp = Dispatcher(sf, DispatchSettings(interval_s=0.1, status_interval_s=0.0))
    svc = TransferService(sf, TransferSettings(retry_delay_s=0.0))
    try:
        yield sf, disp, svc, stores, sha
    finally:
        svc.close(wait_s=30)
        disp.close()
        sf.kw["bind"].dispose()


def submit(sf: sessionmaker[Session], **spec: object) -> str:
    with sf() as s:
        prep = prepare(s, [JobSubmit.model_validate({"tenant": "ta", "duration_s": 3600, **spec})], None, False,
                       WallClock())  # fmt: skip
        assert not isinstance(prep, tuple)
        write(s, [prep])
        return str(prep.rows[0]["id"])


def until(step: Callable[[], object], ok: Callable[[], bool], timeout_s: float = 120.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not ok():
        assert time.monotonic() < deadline, "timed out"
        step()
        time.sleep(0.1)


def job(sf: sessionmaker[Session], jid: str) -> JobRow:
    with sf() as s:
        r = s.get(JobRow, jid)
        assert r is not None
        return r


def events(sf: sessionmaker[Session], jid: str, kind: str) -> list[JobEventRow]:
    with sf() as s:
        return list(s.scalars(select(JobEventRow).where(JobEventRow.job_id == jid, JobEventRow.kind == kind)))


def test_corrupted_staged_copy_is_detected_repaired_and_the_job_runs_on_good_bytes(world: World) -> None:
    sf, disp, svc, stores, sha = world
    jid = submit(sf, command="sha256sum inputs/big/input.bin", datasets=["big"])
    disp.tick()  # placed on jn-sc (faster), no copy there: a staging rule
    disp.tick()
    assert job(sf, jid).state == "PLACED" and job(sf, jid).center_id == "jn-sc"
    assert events(sf, jid, "staging")
    svc.run_until_idle()  # the staging transfer brings the file to jn-sc-hot, verified
    with sf() as s:
        f = s.scalars(select(DataFileRow)).one()
        assert s.get(FileReplicaRow, (f.id, "jn-sc-hot")).state == "available"  # type: ignore[union-attr]
    # the copy at the job's center rots before the stage-in reads it
    stores["jn-sc-hot"].client.put_object(Bucket=stores["jn-sc-hot"].access.bucket, Key="jn-sc-hot/big/input.bin",
                                          Body=b"y" * SIZE)  # fmt: skip
    until(disp.tick, lambda: bool(events(sf, jid, "staging_failed")))
    assert "checksum mismatch" in events(sf, jid, "staging_failed")[0].message
    assert job(sf, jid).state == "PLACED"  # never started on bad bytes
    with sf() as s:
        assert s.get(FileReplicaRow, (f.id, "jn-sc-hot")).state == "bad"  # type: ignore[union-attr]
        rule_engine.repair(s, time.time())
        rule_engine.evaluate(s, time.time())
        s.commit()
    svc.run_until_idle()
    with sf() as s:
        rule_engine.evaluate(s, time.time())
        s.commit()
    until(disp.tick, lambda: job(sf, jid).state in ("SUCCEEDED", "FAILED"))
    assert job(sf, jid).state == "SUCCEEDED"
    staged = events(sf, jid, "inputs_staged")
    assert len(staged) == 1 and staged[0].data is not None and staged[0].data["files"][0]["sha256"] == sha


def test_outputs_over_the_quota_are_refused_with_the_reason(world: World) -> None:
    sf, disp, _svc, _stores, _sha = world
    with sf() as s:
        s.add(DataQuotaRow(tenant_id="ta", endpoint_id="jn-sc-hot", limit_bytes=10))
        s.commit()
    jid = submit(sf, command="head -c 1000 /dev/zero > out.bin", outputs=["out.bin"], output_dataset="res")
    until(disp.tick, lambda: bool(events(sf, jid, "outputs_failed") or events(sf, jid, "outputs")))
    r = job(sf, jid)
    assert r.state == "SUCCEEDED" and "outputs NOT stored" in r.message and "quota" in r.message
    (ev,) = events(sf, jid, "outputs_failed")
    assert ev.data is not None and ev.data["dataset"] == "res" and "quota" in ev.data["reason"]
    assert not events(sf, jid, "outputs")
    with sf() as s:
        assert s.scalars(select(DataFileRow).where(DataFileRow.dataset_id == "res")).all() == []
