"""The job list's server side (GET /jobs: text search, time window, orders, on the indexes of migration
0012_job_list) and the scheduling report of a waiting job (GET /jobs/{id} ``waiting``), on the real app and a
SQLite file. Tenant isolation of the list is checked with authentication on in tests/test_console_enterprise.py."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from huanghe.core.clock import WallClock
from huanghe.jobs.backend_cache import BackendCache
from huanghe.jobs.dispatch_context import DispatchContext, TickReport
from huanghe.jobs.models import CenterHealthRow, JobRow
from huanghe.jobs.placing import Placer
from huanghe.jobs.queries import list_jobs
from huanghe.jobs.schemas import JobSubmit
from huanghe.jobs.settings import DispatchSettings
from huanghe.jobs.submitting import submit_jobs
from huanghe.store.db import make_engine
from tests.test_jobs_api import make_client


@pytest.fixture
def idle(tmp_path: Path) -> Iterator[TestClient]:
    """The API without a scheduler loop: jobs stay PENDING."""
    with make_client(tmp_path, scheduler=False) as c:
        yield c


def _ids(c: TestClient, **params: object) -> list[str]:
    r = c.get("/api/v1/jobs", params={"limit": 1000, **params})
    assert r.status_code == 200, r.text
    return [j["id"] for j in r.json()["items"]]


def test_search_window_and_orders(idle: TestClient) -> None:
    specs = [
        {"command": "python train.py --epochs 3", "name": "train-a"},
        {"command": "echo 100%_done", "name": "pct"},
        {"command": "echo plain", "name": "Nightly-ETL"},
        {"script": "#!/bin/sh\necho from-script\n", "name": "scripted"},
    ]
    ids = []
    for spec in specs:
        ids.append(idle.post("/api/v1/jobs", json=spec).json()["id"])
        time.sleep(0.01)  # distinct submission times
    train, pct, etl, scripted = ids
    assert _ids(idle) == ids[::-1]  # newest first
    assert _ids(idle, sort="submit_s") == ids
    assert _ids(idle, q="TRAIN.PY") == [train]  # the command, ASCII case ignored
    assert _ids(idle, q="nightly") == [etl]  # the name
    assert _ids(idle, q=pct[-8:]) == [pct]  # the id
    assert _ids(idle, q="100%_") == [pct]  # % and _ are text, not wildcards
    assert _ids(idle, q="0%_d") == [pct] and _ids(idle, q="%") == [pct] == _ids(idle, q="_")
    assert _ids(idle, q="from-script") == []  # a script's text is not searched (id, name, command only)
    page = idle.get("/api/v1/jobs", params={"q": "echo", "limit": 1}).json()
    assert page["total"] == 2 and len(page["items"]) == 1
    jobs = {j["id"]: j for j in idle.get("/api/v1/jobs").json()["items"]}
    cut = jobs[pct]["submit_s"]
    assert _ids(idle, submitted_after=cut) == [scripted, etl, pct]
    assert _ids(idle, submitted_before=cut) == [train]
    assert _ids(idle, submitted_after=cut, submitted_before=jobs[scripted]["submit_s"]) == [etl, pct]
    assert idle.post(f"/api/v1/jobs/{etl}:cancel").json()["state"] == "CANCELLED"
    assert _ids(idle, sort="state") == [etl, train, pct, scripted]  # CANCELLED < PENDING, then oldest first
    assert _ids(idle, sort="-state") == [scripted, pct, train, etl]
    assert _ids(idle, sort="state", state="PENDING", q="echo") == [pct]
    # text JSON escapes (quotes, backslashes, Chinese) is found in the command, env values never are
    odd = idle.post(
        "/api/v1/jobs", json={"command": 'echo "训练 a\\b"', "env": {"NOTE": "hunter2", "PLAIN": "训练 x"}}
    ).json()["id"]
    assert _ids(idle, q='"训练 a\\b"') == [odd] == _ids(idle, q="训练")
    assert _ids(idle, q="hunter2") == [] == _ids(idle, q="训练 x") == _ids(idle, q="NOTE")
    assert idle.post(f"/api/v1/jobs/{odd}:cancel").status_code == 200
    for bad, where in (({"sort": "cost"}, "query.sort"), ({"submitted_after": -1}, "query.submitted_after"),
                       ({"q": "x" * 101}, "query.q"), ({"state": "DONE"}, "query.state")):  # fmt: skip
        r = idle.get("/api/v1/jobs", params=bad)
        assert r.status_code == 422 and r.json()["detail"][0]["path"] == where, r.text


def test_list_orders_read_an_index(idle: TestClient) -> None:
    """The list's orders and filters are answered from an index, not by sorting the table (SQLite's plan)."""
    url = str(idle.app.state.engine.url)  # type: ignore[attr-defined]
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            for where, order in (
                ("tenant_id = 'acme'", "submit_s DESC, id DESC"),
                ("tenant_id = 'acme' AND state = 'FAILED'", "submit_s DESC, id DESC"),
                ("tenant_id = 'acme'", "state DESC, submit_s DESC, id DESC"),
                ("state = 'FAILED'", "submit_s DESC, id DESC"),
                ("1 = 1", "submit_s ASC, id ASC"),
            ):
                plan = conn.exec_driver_sql(
                    f"EXPLAIN QUERY PLAN SELECT * FROM jobs WHERE {where} ORDER BY {order} LIMIT 50"
                ).all()
                text = " ".join(str(row[-1]) for row in plan)
                assert "TEMP B-TREE" not in text and "INDEX ix_jobs_" in text, (where, order, text)
    finally:
        engine.dispose()


def test_waiting_report_says_why_and_until_when(idle: TestClient) -> None:
    low = idle.post("/api/v1/jobs", json={"command": "echo low", "priority": -5}).json()["id"]
    first = idle.post("/api/v1/jobs", json={"command": "echo first"}).json()["id"]
    second = idle.post("/api/v1/jobs", json={"command": "echo second"}).json()["id"]
    before = time.time()
    report = idle.get(f"/api/v1/jobs/{low}").json()["waiting"]
    assert report["state"] == "PENDING" and report["queue_length"] == 3
    assert report["queue_position"] == 3  # a lower priority waits behind both
    assert idle.get(f"/api/v1/jobs/{first}").json()["waiting"]["queue_position"] == 1
    assert idle.get(f"/api/v1/jobs/{second}").json()["waiting"]["queue_position"] == 2
    assert before <= report["next_decision_s"] <= time.time() + 1.0  # one tick of the default 0.2 s
    assert report["explanation"] is None and report["est_start_s"] is None  # not looked at yet

    # every center unhealthy: the broker looks at the jobs and leaves them PENDING with its explanation
    app = idle.app
    sf = app.state.session_factory  # type: ignore[attr-defined]
    with sf() as s:
        centers = {str(r.center_id) for r in s.scalars(select(JobRow))} | {"jn-sc", "qd-ai"}
        now = time.time()
        for c in centers:
            s.merge(CenterHealthRow(center_id=c, healthy=False, checked_s=now, failures=5, message="down"))
        s.commit()
    ctx = DispatchContext(sf, DispatchSettings(), BackendCache(), WallClock())
    with sf() as s:
        ctx.topology(s, time.time())
    Placer(ctx).place(TickReport())
    job = idle.get(f"/api/v1/jobs/{first}").json()
    w = job["waiting"]
    assert job["state"] == "PENDING" and w["queue_position"] == 1
    assert "unhealthy" in w["reason"] and w["checked_s"] is not None
    removed = {r["reason"]: r["count"] for r in w["explanation"]["removed"]}
    assert removed.get("unhealthy", 0) >= 1 and w["note"] == w["explanation"]["note"]

    # placed: the placement's estimated start says until when; a terminal job has no report
    with sf() as s:
        s.query(CenterHealthRow).delete()
        s.commit()
    Placer(ctx).place(TickReport())
    job = idle.get(f"/api/v1/jobs/{first}").json()
    assert job["state"] == "PLACED" and job["waiting"]["queue_position"] is None
    assert job["waiting"]["est_start_s"] == job["placement"]["est_start_s"] is not None
    idle.post(f"/api/v1/jobs/{first}:cancel")
    assert idle.get(f"/api/v1/jobs/{first}").json()["waiting"] is None


def test_search_on_both_databases(session_factory: sessionmaker[Session]) -> None:
    """The same answers from SQLite (LIKE, the JSON prefilter) and PostgreSQL (ILIKE): case, wildcards as
    text, quotes and Chinese in the command, env values never searched."""
    specs = [
        JobSubmit(command="python Train.py --epochs 3", name="train-a"),
        JobSubmit(command="echo 100%_done", name="pct"),
        JobSubmit(command='echo "训练 a\\b"', env={"NOTE": "hunter2"}),
    ]
    with session_factory() as s:
        items, _ = submit_jobs(s, specs)
        train, pct, odd = (str(i["id"]) for i in items)

        def found(q: str) -> set[str]:
            return {j["id"] for j in list_jobs(s, q=q, limit=100)["items"]}

        assert found("train.PY") == {train} and found("TRAIN-A") == {train}
        assert found("%_") == {pct} and found("_") == {pct} and found("%") == {pct}
        assert found('"训练 a\\b"') == {odd} == found("训练")
        assert found("hunter2") == set() == found("NOTE")
        assert found(odd[-6:]) == {odd}
