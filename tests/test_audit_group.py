"""Group-committed audit records: :func:`record_many` and :class:`AuditWriter` keep the chain verifiable; the API
answers a mutation only after its record is committed; a job submission's record is committed in the SAME
transaction as the job (both or neither)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator, MutableMapping
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session, sessionmaker

from huanghe.api.middleware import SecurityMiddleware
from huanghe.audit import service as audit
from huanghe.audit.models import AuditRow
from huanghe.jobs import submitting as jobs_svc
from huanghe.jobs.models import JobRow
from huanghe.settings import Settings
from tests.test_jobs_api import make_client


def test_record_many_chains_with_record(session_factory: sessionmaker[Session]) -> None:
    with session_factory() as s:
        audit.record(s, "a", "one", "x", {"i": 1})
        seqs = audit.record_many(
            s, [audit.Entry("b", "two", "y", {"i": i}, 1_700_000_000.0) for i in range(3)]
        )
        audit.record(s, "c", "three", "z", {"i": 9})
        s.commit()
        assert seqs == [2, 3, 4]
        assert audit.verify(s).ok and audit.verify(s).checked == 5
        rows = list(s.scalars(select(AuditRow).order_by(AuditRow.seq)))
        assert [r.prev_hash for r in rows[1:]] == [r.hash for r in rows[:-1]]
        assert rows[1].at == "2023-11-14T22:13:20.000000Z"
    assert audit.record_many(session_factory(), []) == []


def test_writer_groups_concurrent_records_in_order(session_factory: sessionmaker[Session]) -> None:
    writer = audit.AuditWriter(session_factory)
    try:
        with ThreadPoolExecutor(16) as ex:
            futures = list(
                ex.map(lambda i: writer.submit(audit.Entry("w", "race", str(i), {"i": i})), range(300))
            )
        seqs = sorted(f.result(timeout=30) for f in futures)
    finally:
        writer.close()
    assert seqs == list(range(1, 301))
    assert writer.records == 300 and 1 <= writer.groups <= 300
    with session_factory() as s:
        result = audit.verify(s)
        assert result.ok and result.checked == 300, result
        subjects = {r.seq: r.subject for r in s.scalars(select(AuditRow))}
    for f in futures:  # each future names the record holding its own entry
        assert subjects[f.result()] == str(next(i for i, g in enumerate(futures) if g is f))


def test_writer_error_reaches_every_caller(session_factory: sessionmaker[Session]) -> None:
    writer = audit.AuditWriter(session_factory)
    try:
        bad = writer.submit(audit.Entry("w", "bad", "s", {"not json": object()}))  # canonical() stringifies
        assert bad.result(timeout=10) == 1
        broken = audit.AuditWriter(lambda: (_ for _ in ()).throw(RuntimeError("db down")))  # type: ignore[arg-type]
        with pytest.raises(RuntimeError, match="db down"):
            broken.submit(audit.Entry("w", "x", "s", {})).result(timeout=10)
        broken.close()
    finally:
        writer.close()


class _SlowWriter:
    """Stands in for the app's AuditWriter: records are committed only when the test says so."""

    def __init__(self) -> None:
        self.entries: list[audit.Entry] = []
        self.futures: list[Future[int]] = []

    def submit(self, entry: audit.Entry) -> Future[int]:
        self.entries.append(entry)
        self.futures.append(Future())
        return self.futures[-1]


def test_answer_waits_for_the_audit_commit() -> None:
    async def inner(scope: Any, receive: Any, send: Any) -> None:
        await receive()
        await send({"type": "http.response.start", "status": 201, "headers": []})
        await send({"type": "http.response.body", "body": b"{}"})

    writer = _SlowWriter()
    state = type("S", (), {"audit_writer": writer})()
    app_obj = type("A", (), {"state": state})()
    mw = SecurityMiddleware(inner, Settings(dev_mode=True))
    sent: list[MutableMapping[str, Any]] = []

    async def run() -> None:
        scope = {"type": "http", "method": "POST", "path": "/api/v1/x", "headers": [], "app": app_obj}

        async def receive() -> dict[str, Any]:
            return {"type": "http.request", "body": b'{"a":1}', "more_body": False}

        async def send(message: MutableMapping[str, Any]) -> None:
            sent.append(message)

        task = asyncio.ensure_future(mw(scope, receive, send))
        for _ in range(50):
            await asyncio.sleep(0.001)
        assert len(writer.entries) == 1 and sent == []  # not answered while the record is not durable
        writer.futures[0].set_result(1)
        await asyncio.wait_for(task, 5)

    asyncio.run(run())
    assert [m["type"] for m in sent] == ["http.response.start", "http.response.body"]
    e = writer.entries[0]
    assert (e.action, e.subject, e.payload["status"], e.actor) == ("http.post", "/api/v1/x", 201, "anonymous")


@pytest.fixture
def idle(tmp_path: Path) -> Iterator[TestClient]:
    with make_client(tmp_path, scheduler=False) as c:
        yield c


def _records(c: TestClient, path: str) -> list[AuditRow]:
    sf = c.app.state.session_factory  # type: ignore[attr-defined]
    with sf() as s:
        audit.catch_up(s)  # entries written to the inbox (PostgreSQL) are chained first, as every reader does
        return list(s.scalars(select(AuditRow).where(AuditRow.subject == path).order_by(AuditRow.seq)))


def test_submission_recorded_once_in_its_transaction(idle: TestClient) -> None:
    r = idle.post("/api/v1/jobs", json={"command": "true", "cpus": 1}, headers={"Idempotency-Key": "k1"})
    assert r.status_code == 201, r.text
    recs = _records(idle, "/api/v1/jobs")
    assert len(recs) == 1 and recs[0].action == "http.post" and '"status":201' in recs[0].payload
    again = idle.post("/api/v1/jobs", json={"command": "true", "cpus": 1}, headers={"Idempotency-Key": "k1"})
    assert again.status_code == 200 and again.json()["id"] == r.json()["id"]
    assert ['"status":200' in x.payload for x in _records(idle, "/api/v1/jobs")] == [False, True]
    b = idle.post("/api/v1/jobs:batch", json={"jobs": [{"command": "true", "cpus": 1}] * 3})
    assert b.status_code == 201 and len(_records(idle, "/api/v1/jobs:batch")) == 1
    assert idle.post("/api/v1/jobs", json={"command": "true", "cpus": -1}).status_code == 422
    assert len(_records(idle, "/api/v1/jobs")) == 2  # refused: not recorded
    with idle.app.state.session_factory() as s:  # type: ignore[attr-defined]
        assert audit.verify(s).ok


def test_job_and_its_record_are_atomic(idle: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    def fail(*_a: Any, **_k: Any) -> list[int]:
        raise RuntimeError("audit chain unavailable")

    monkeypatch.setattr(jobs_svc.audit, "record_many", fail)
    with pytest.raises(RuntimeError, match="audit chain unavailable"):
        idle.post("/api/v1/jobs", json={"command": "true", "cpus": 1})
    with idle.app.state.session_factory() as s:  # type: ignore[attr-defined]
        assert s.scalar(select(func.count()).select_from(JobRow)) == 0  # no job stored without its record
        assert s.scalar(text("SELECT COUNT(*) FROM audit_log WHERE subject = '/api/v1/jobs'")) == 0


def test_concurrent_submissions_share_commits_and_chain(idle: TestClient) -> None:
    errors: list[int] = []

    def one(_: int) -> None:
        r = idle.post("/api/v1/jobs", json={"command": "true", "cpus": 1})
        if r.status_code != 201:
            errors.append(r.status_code)

    threads = [threading.Thread(target=one, args=(i,)) for i in range(40)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert errors == []
    assert len(_records(idle, "/api/v1/jobs")) == 40
    with idle.app.state.session_factory() as s:  # type: ignore[attr-defined]
        assert s.scalar(select(func.count()).select_from(JobRow)) == 40
        assert audit.verify(s).ok
