"""Lifecycle without zombies (issue 12): a dispatch error fails the job (or re-places it once when the back-end is
unavailable) with the error in its events; cancel ends a job in every state, DISPATCHED included; a job stuck in
a transitional state past ``stuck_after_s`` is reconciled. The real dispatcher, the FAKE back-end, a FakeClock."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from huanghe.backends.fake import FakeBackend
from huanghe.backends.protocol import Backend, BackendJobSpec, BackendJobStatus, BackendUnavailableError
from huanghe.billing.models import UsageRow
from huanghe.core.clock import FakeClock
from huanghe.jobs import recovery
from huanghe.jobs import service as svc
from huanghe.jobs.backend_cache import BackendCache
from huanghe.jobs.dispatch_context import TickReport
from huanghe.jobs.dispatcher import Dispatcher
from huanghe.jobs.dispatching import backend_spec
from huanghe.jobs.models import JobRow
from huanghe.jobs.placing import Placer
from huanghe.jobs.settings import DispatchSettings
from huanghe.network.models import PoolRow
from huanghe.store.db import make_session_factory
from huanghe.tenancy import service as tenancy_svc
from huanghe.tenancy.schemas import TenantCreate
from tests import jobs_testnet as net
from tests.security_support import World, world

T0 = 1_800_000_000.0


class BrokenFakeBackend(FakeBackend):
    """The fake back-end whose submit raises ``error`` (what ``local`` raised for a job with PATH=/nonexistent:
    FileNotFoundError 'nice')."""

    def __init__(self, error: BaseException, clock: FakeClock) -> None:
        super().__init__({}, clock=clock)
        self.error = error
        self.submits = 0

    def submit(self, spec: BackendJobSpec) -> str:
        self.submits += 1
        raise self.error


class LaggingFakeBackend(FakeBackend):
    """The fake back-end on a host whose clock is ``lag_s`` behind ours that reports no start time (as a
    back-end that only reports ends in whole seconds can make its end precede the start we observed)."""

    def __init__(self, clock: FakeClock, lag_s: float) -> None:
        super().__init__({"queue_s": "0"}, clock=clock)
        self.lag_s = lag_s

    def status(self, job_id: str) -> BackendJobStatus:
        st = super().status(job_id)
        ended = None if st.ended_at is None else st.ended_at - self.lag_s
        return replace(st, started_at=None, ended_at=ended)


@dataclass
class Rig:
    sf: sessionmaker[Session]
    clock: FakeClock
    dispatcher: Dispatcher

    def submit(self, command: str = "sleep 100") -> str:
        with self.sf() as s:
            items, _ = svc.submit_jobs(s, [svc.JobSubmit(command=command, tenant="ta")], clock=self.clock)
        return str(items[0]["id"])

    def run(self, ticks: int = 1, dt_s: float = 1.0) -> None:
        for _ in range(ticks):
            self.dispatcher.tick()
            self.clock.advance(dt_s)

    def place(self) -> None:
        """Only the placement step of a tick (what a loop that dies before dispatching leaves: PLACED)."""
        with self.sf() as s:
            self.dispatcher.ctx.topology(s, self.clock.now_s())
        Placer(self.dispatcher.ctx).place(TickReport())

    def job(self, job_id: str) -> dict[str, Any]:
        with self.sf() as s:
            return svc.show(s, job_id, clock=self.clock)

    def events(self, job_id: str) -> list[dict[str, Any]]:
        with self.sf() as s:
            return svc.events(s, job_id)

    def cancel(self, job_id: str) -> dict[str, Any]:
        with self.sf() as s:
            return svc.cancel(s, job_id, clock=self.clock)

    def active(self) -> int:
        with self.sf() as s:
            states = ("PLACED", "DISPATCHED", "RUNNING")
            return len(list(s.scalars(select(JobRow.id).where(JobRow.state.in_(states)))))


def _rig(tmp_path: Path, backend: Backend | None, clock: FakeClock, two_pools: bool = False) -> Iterator[Rig]:
    url = f"sqlite:///{tmp_path / 'l.db'}"
    net.prepare_db(url, net.topology(("fake", {}), ("fake", {}) if two_pools else None))
    sf = make_session_factory(url)
    be = backend or FakeBackend({"queue_s": "0"}, clock=clock)

    def factory(name: str, settings: Mapping[str, str]) -> Backend:
        return be

    dispatcher = Dispatcher(sf, DispatchSettings(stuck_after_s=300.0), BackendCache(factory), clock)
    with sf() as s:
        tenancy_svc.create_tenant(s, TenantCreate(id="ta", name="A"))
    try:
        yield Rig(sf, clock, dispatcher)
    finally:
        dispatcher.close()
        sf.kw["bind"].dispose()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(T0)


@pytest.fixture
def rig(tmp_path: Path, clock: FakeClock) -> Iterator[Rig]:
    yield from _rig(tmp_path, None, clock)


def test_a_dispatch_error_fails_the_job_with_the_error_in_its_events(
    tmp_path: Path, clock: FakeClock
) -> None:
    be = BrokenFakeBackend(FileNotFoundError(2, "No such file or directory", "nice"), clock)
    for r in _rig(tmp_path, be, clock):
        job_id = r.submit("env")
        r.run(3)  # before: the FileNotFoundError escaped the tick and the job stayed DISPATCHED forever
        job = r.job(job_id)
        assert job["state"] == "FAILED" and "FileNotFoundError" in job["message"] and "nice" in job["message"]
        errors = [e for e in r.events(job_id) if e["kind"] == "dispatch_error"]
        assert len(errors) == 1 and errors[0]["data"]["error"] == "FileNotFoundError"
        assert be.submits == 1 and r.active() == 0  # not retried, no capacity held


def test_an_unavailable_back_end_re_places_the_job_once(tmp_path: Path, clock: FakeClock) -> None:
    be = BrokenFakeBackend(BackendUnavailableError("connection refused"), clock)
    for r in _rig(tmp_path, be, clock, two_pools=True):
        job_id = r.submit()
        r.run(6)
        job = r.job(job_id)
        assert job["state"] == "FAILED" and "unavailable" in job["message"]
        kinds = [e["kind"] for e in r.events(job_id)]
        assert kinds.count("dispatch_unavailable") == 1 and kinds.count("dispatch_error") == 1
        assert [p["pool"] for p in job["placements"]] == ["jn-sc-cpu", "qd-ai-cpu"]  # re-placed elsewhere
        assert be.submits == 2 and r.active() == 0


def _to_state(r: Rig, job_id: str, state: str) -> None:
    """Drive a fresh job to ``state`` through the real loop (the fake starts a job after ``queue_s``)."""
    if state == "PENDING":
        return
    if state == "PLACED":
        r.place()
    elif state == "DISPATCHED_NO_ID":  # what a crash between the claim and the back-end's answer leaves
        r.place()
        with r.sf() as s:
            row = s.get(JobRow, job_id)
            assert row is not None
            row.state, row.dispatch_token, row.attempt = "DISPATCHED", f"hh-{job_id}-1", 1
            s.commit()
        state = "DISPATCHED"
    else:
        r.run(1, dt_s=0.0)
        if state == "RUNNING":
            r.clock.advance(20.0)
            r.run(1, dt_s=0.0)
    assert r.job(job_id)["state"] == state


@pytest.mark.parametrize("state", ["PENDING", "PLACED", "DISPATCHED", "DISPATCHED_NO_ID", "RUNNING"])
def test_cancel_ends_a_job_in_every_state(tmp_path: Path, clock: FakeClock, state: str) -> None:
    be = FakeBackend({"queue_s": "10"}, clock=clock)  # DISPATCHED (queued in the back-end) for 10 s
    for r in _rig(tmp_path, be, clock):
        job_id = r.submit()
        _to_state(r, job_id, state)
        r.cancel(job_id)
        for _ in range(50):
            if r.job(job_id)["state"] == "CANCELLED":
                break
            r.run(1, dt_s=0.1)
            r.dispatcher._executor.submit(lambda: None).result()  # the background back-end cancel is done
        job = r.job(job_id)
        assert job["state"] == "CANCELLED", (state, job["message"])
        assert r.active() == 0
        bid = job["backend_job_id"]
        if bid is not None:  # it reached the back-end: cancelled there too
            assert be._jobs[bid].cancelled_at is not None
        else:
            assert state in ("PENDING", "PLACED", "DISPATCHED_NO_ID") and not be._jobs
        assert r.cancel(job_id)["state"] == "CANCELLED"  # idempotent once terminal


def test_a_job_stuck_placed_is_placed_again_once_then_failed(rig: Rig) -> None:
    job_id = rig.submit()
    rig.place()
    assert rig.job(job_id)["state"] == "PLACED"
    rig.clock.advance(299.0)
    assert recovery.reconcile_stuck(rig.dispatcher.ctx, TickReport()) == 0  # not yet past the limit
    rig.clock.advance(2.0)
    assert recovery.reconcile_stuck(rig.dispatcher.ctx, TickReport()) == 1
    assert rig.job(job_id)["state"] == "PENDING" and rig.active() == 0
    rig.place()
    rig.clock.advance(301.0)
    recovery.reconcile_stuck(rig.dispatcher.ctx, TickReport())
    job = rig.job(job_id)
    assert job["state"] == "FAILED" and "stuck PLACED" in job["message"]
    stuck = [e for e in rig.events(job_id) if e["kind"] == "stuck"]
    assert len(stuck) == 2 and stuck[0]["data"]["limit_s"] == 300.0


class FindingFakeBackend(FakeBackend):
    """The fake back-end that can tell, after a crash, that a dispatch never reached it."""

    def find_by_name(self, name: str) -> tuple[str | None, bool]:
        return None, True


class RememberingFakeBackend(FakeBackend):
    """The fake back-end that finds its jobs by name (as ``local``, Slurm and Ray do after a crash)."""

    def find_by_name(self, name: str) -> tuple[str | None, bool]:
        found = [j for j, job in self._jobs.items() if job.spec.name == name]
        return (found[0] if found else None), True


def test_cancel_of_a_dispatch_that_reached_the_back_end_without_its_id_stops_it_there(
    tmp_path: Path, clock: FakeClock
) -> None:
    be = RememberingFakeBackend({"queue_s": "0"}, clock=clock)
    for r in _rig(tmp_path, be, clock):
        job_id = r.submit()
        _to_state(r, job_id, "DISPATCHED_NO_ID")
        with r.sf() as s:  # the back-end got the job, the crash came before its id was stored
            row = s.get(JobRow, job_id)
            assert row is not None and row.dispatch_token is not None
            bid = be.submit(backend_spec(row, row.dispatch_token))
        r.cancel(job_id)
        for _ in range(20):
            r.run(1, dt_s=0.1)
            r.dispatcher._executor.submit(lambda: None).result()
            if r.job(job_id)["state"] == "CANCELLED":
                break
        job = r.job(job_id)
        assert job["state"] == "CANCELLED" and job["backend_job_id"] == bid
        assert be._jobs[bid].cancelled_at is not None  # stopped on the back-end, not only in the database


@pytest.mark.parametrize("certain", [False, True])
def test_a_job_stuck_dispatched_without_a_back_end_id_is_reconciled(
    tmp_path: Path, clock: FakeClock, certain: bool
) -> None:
    be = (FindingFakeBackend if certain else FakeBackend)({"queue_s": "0"}, clock=clock)
    for r in _rig(tmp_path, be, clock):
        job_id = r.submit()
        _to_state(r, job_id, "DISPATCHED_NO_ID")
        r.run(1, dt_s=200.0)
        assert r.job(job_id)["state"] == "DISPATCHED"  # within the limit: left alone
        r.run(1, dt_s=0.0)  # 200 s < 300 s
        r.clock.advance(101.0)
        r.run(3)
        job = r.job(job_id)
        kinds = [e["kind"] for e in r.events(job_id)]
        assert "stuck" in kinds
        if certain:  # provably never submitted: dispatched again, and it runs
            assert job["state"] in ("DISPATCHED", "RUNNING") and job["backend_job_id"] is not None
        else:  # the fake cannot tell: FAILED, never run twice
            assert job["state"] == "FAILED" and r.active() == 0 and not be._jobs


# --- wall times: every pool has a default and a maximum (Slurm DefaultTime / MaxTime) --------------------------
API = "/api/v1"


@pytest.fixture
def w(tmp_path: Path) -> Iterator[World]:
    with world(f"sqlite:///{tmp_path / 'w.db'}") as wd:
        yield wd


def test_pools_have_a_default_and_a_maximum_wall_time() -> None:
    pool = net.topology(("fake", {})).centers[0].pools[0]
    assert (pool.default_time_limit_s, pool.max_time_limit_s) == (3600.0, 7 * 86400.0)
    with pytest.raises(ValidationError, match="default_time_limit_s"):
        pool.model_validate({**pool.model_dump(), "default_time_limit_s": 10.0, "max_time_limit_s": 5.0})


def test_admission_refuses_more_than_any_pool_allows(w: World) -> None:
    job = {"command": "true", "tenant": "ta"}
    ok = w.client.post(f"{API}/jobs", json={**job, "time_limit_s": 7 * 86400}, headers=w.h("tenant_user"))
    assert ok.status_code == 201, ok.text
    for field_name in ("time_limit_s", "duration_s"):
        r = w.client.post(f"{API}/jobs", json={**job, field_name: 8 * 86400}, headers=w.h("tenant_user"))
        assert r.status_code == 422 and r.json()["detail"][0]["path"] == f"body.{field_name}", r.text
        assert "max_time_limit_s" in r.text
    batch = {"jobs": [job, {**job, "time_limit_s": 30 * 86400}]}
    r = w.client.post(f"{API}/jobs:batch", json=batch, headers=w.h("tenant_user"))
    assert r.status_code == 422 and r.json()["detail"][0]["path"] == "body.jobs[1].time_limit_s", r.text
    patch = w.client.patch(
        f"{API}/pools/jn-sc-cpu", json={"max_time_limit_s": 31 * 86400}, headers=w.h("admin")
    )
    assert patch.status_code == 200 and patch.json()["max_time_limit_s"] == 31 * 86400, patch.text
    assert w.client.post(f"{API}/jobs:batch", json=batch, headers=w.h("tenant_user")).status_code == 201
    bad = w.client.patch(
        f"{API}/pools/jn-sc-cpu", json={"default_time_limit_s": 40 * 86400}, headers=w.h("admin")
    )
    assert bad.status_code == 422 and "default_time_limit_s" in bad.text


def test_gpu_hour_quota_is_not_bypassed_by_leaving_out_duration(w: World) -> None:
    r = w.client.put(f"{API}/quotas/ta", json={"gpu_hours_per_month": 1}, headers=w.h("admin"))
    assert r.status_code == 200, r.text
    big = w.client.post(
        f"{API}/jobs", json={"command": "true", "tenant": "ta", "gpus": 8}, headers=w.h("tenant_user")
    )
    # before: accepted (no duration_s, no estimate); now 8 GPUs × the 1 h default wall time > 1 GPU-h
    assert big.status_code == 403 and big.json()["detail"][0]["path"] == "body.gpus", big.text
    short = {"command": "true", "tenant": "ta", "gpus": 1, "time_limit_s": 1800}
    assert w.client.post(f"{API}/jobs", json=short, headers=w.h("tenant_user")).status_code == 201


def test_budget_is_not_bypassed_by_leaving_out_max_price(w: World) -> None:
    r = w.client.put(f"{API}/quotas/ta", json={"budget_cny_per_month": "10"}, headers=w.h("admin"))
    assert r.status_code == 200, r.text
    whole_node = {"command": "true", "tenant": "ta", "cpus": 192}  # a whole qd-ai-910b node, 120 CNY/h
    dear = w.client.post(f"{API}/jobs", json=whole_node, headers=w.h("tenant_user"))
    # before: accepted (no max_price, no estimate); now 120 CNY × 1 h default > 10 CNY
    assert dear.status_code == 403 and dear.json()["detail"][0]["path"] == "body.max_price_cny_per_hour", (
        dear.text
    )
    small = {"command": "true", "tenant": "ta", "cpus": 1}  # 1/192 of that node: 0.63 CNY for the hour
    assert w.client.post(f"{API}/jobs", json=small, headers=w.h("tenant_user")).status_code == 201


def test_the_pool_default_is_the_back_end_time_limit_and_its_maximum_is_enforced(
    tmp_path: Path, clock: FakeClock
) -> None:
    be = FakeBackend({"queue_s": "0"}, clock=clock)
    for r in _rig(tmp_path, be, clock):
        plain = r.submit("sleep 5000")
        with r.sf() as s:
            items, _ = svc.submit_jobs(
                s, [svc.JobSubmit(command="sleep 10", tenant="ta", time_limit_s=7200)], clock=clock
            )
            long_job = str(items[0]["id"])
            for pool in s.scalars(select(PoolRow)):  # an admin shortens the pools after the job was admitted
                pool.max_time_limit_s = 3600.0
            s.commit()
        r.run(10, dt_s=600.0)
        job = r.job(plain)
        assert be._jobs[job["backend_job_id"]].spec.time_limit_s == 3600.0  # the pool's DefaultTime
        assert job["state"] == "FAILED" and job["exit_code"] == 124  # killed at the limit, like Slurm
        job = r.job(long_job)
        assert (
            job["state"] == "FAILED"
            and "longest time limit" in job["message"]
            and job["backend_job_id"] is None
        )


def test_a_job_whose_back_end_end_precedes_our_start_is_metered_for_zero_seconds(
    tmp_path: Path, clock: FakeClock
) -> None:
    """The start is our clock when we first saw it running; the end is the back-end's, 5 s behind: the job ends
    at its start and is billed for zero seconds (before: metering refused it and the job was never billed)."""
    for r in _rig(tmp_path, LaggingFakeBackend(clock, lag_s=5.0), clock):
        job_id = r.submit("sleep 2")
        r.run(6)
        with r.sf() as s:
            row = s.get(JobRow, job_id)
            assert row is not None and row.state == "SUCCEEDED"
            assert row.started_s is not None and row.ended_s == row.started_s
            usage = s.scalars(select(UsageRow).where(UsageRow.job_id == job_id)).one()
            assert usage.started_s == usage.ended_s == row.started_s and usage.cost_fen == 0
