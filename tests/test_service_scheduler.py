"""The scheduler service tick by tick on SQLite: placement, dispatch, reconcile, health and failover, retries,
crash recovery of interrupted dispatches, the SQLite leader lease. FAKE back-ends on a fake clock, except
where the local back-end's files matter."""

from __future__ import annotations

import contextlib
import json
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from huanghe.backends.fake import FakeBackend
from huanghe.backends.local import WRAPPER, LocalBackend
from huanghe.backends.protocol import BackendJobSpec
from huanghe.core.clock import FakeClock
from huanghe.data import service as datasets_svc
from huanghe.jobs import service as svc
from huanghe.jobs.dispatch_context import TickReport
from huanghe.jobs.dispatcher import Dispatcher
from huanghe.jobs.dispatching import backend_spec, dispatch_token
from huanghe.jobs.models import CenterHealthRow, JobRow, PlacementRow
from huanghe.jobs.recovery import claim_settled_s, find_by_token
from huanghe.jobs.settings import DispatchSettings
from huanghe.store.db import make_engine, make_session_factory
from huanghe.store.leader import LeaderElector
from huanghe.tenancy import service as tenancy_svc
from tests import jobs_testnet as net
from tests.scheduler_rig import T0, Rig, finds_by_name


@pytest.fixture
def rig(tmp_path: Path) -> Iterator[Rig]:
    r = Rig(tmp_path)
    yield r
    r.close()


def test_tick_places_dispatches_and_reconciles(rig: Rig) -> None:
    jid = rig.submit(command="echo hi; sleep 3", cpus=4)
    rep = rig.sched.tick()
    assert rep.placed == 1 and rep.dispatched == 1 and rep.health_checked
    row = rig.job(jid)
    assert row.state == "RUNNING" and row.pool_id == "jn-sc-cpu" and row.backend_job_id == "fake-1"
    assert row.dispatch_token == dispatch_token(jid, 1) and row.attempt == 1
    rig.run(4)
    row = rig.job(jid)
    assert row.state == "SUCCEEDED" and row.exit_code == 0
    assert row.started_s == T0 and row.ended_s == T0 + 3
    with rig.sf() as s:
        p = s.scalars(select(PlacementRow).where(PlacementRow.job_id == jid)).one()
    assert p.policy == "earliest-completion" and p.explanation["winner"]["pool"] == "jn-sc-cpu"
    assert p.est_run_s == pytest.approx(60 / 1.1)  # default 60 s estimate on a 1.1× pool


def test_unhealthy_center_gets_no_jobs_and_its_jobs_fail_over(rig: Rig) -> None:
    running = rig.submit(command="sleep 100", cpus=2)
    rig.run(0.5)
    assert rig.job(running).center_id == "jn-sc" and rig.job(running).state == "RUNNING"
    rig.jn.healthy = False
    rig.run(1.0)  # first failed ping: still healthy (unhealthy_after = 2)
    with rig.sf() as s:
        h = s.get(CenterHealthRow, "jn-sc")
        assert h is not None and h.healthy and h.failures == 1
    rig.run(1.5)  # second failed ping
    with rig.sf() as s:
        h = s.get(CenterHealthRow, "jn-sc")
        assert h is not None and not h.healthy and "unhealthy" in h.message
    row = rig.job(running)
    assert row.center_id == "qd-ai" and row.state == "RUNNING" and row.attempt == 2
    assert row.excluded_centers == ["jn-sc"]
    kinds = [e.kind for e in rig.events(running)]
    assert "failover" in kinds
    assert rig.jn.status("fake-1").state.value == "CANCELLED"  # stopped where it was
    fresh = rig.submit(command="true")
    rig.run(0.5)
    assert rig.job(fresh).center_id == "qd-ai"  # jn-sc is faster but masked as unhealthy
    rig.jn.healthy = True
    rig.run(1.5)
    with rig.sf() as s:
        h = s.get(CenterHealthRow, "jn-sc")
        assert h is not None and h.healthy and h.failures == 0
    again = rig.submit(command="true")
    rig.run(0.5)
    assert rig.job(again).center_id == "jn-sc"


def test_a_job_ending_just_before_its_center_fails_over_is_not_run_again(rig: Rig) -> None:
    """The failover reads the job as RUNNING from the store (the last reconcile), then acts on the back-end. A
    job that ended between the two looks was "cancelled" (a no-op on an ended job) and re-queued: a job that
    had succeeded ran again elsewhere. Here it ends at T0 + 2 s, the tick of the second failed ping, whose
    failover runs before that tick's reconcile (the last one, at T0 + 1.5 s, saw it running)."""
    jid = rig.submit(command="sleep 2", cpus=2)
    rig.run(0.5)
    assert rig.job(jid).state == "RUNNING" and rig.job(jid).center_id == "jn-sc"
    rig.jn.healthy = False
    rig.run(1.5)  # ticks at T0 + 0.5, 1, 1.5: one failed ping, the job still running
    assert rig.job(jid).state == "RUNNING"
    rig.sched.tick()  # T0 + 2: the second failed ping fails jn-sc over, and the job has just ended
    with rig.sf() as s:
        h = s.get(CenterHealthRow, "jn-sc")
        assert h is not None and not h.healthy
    row = rig.job(jid)
    assert (row.state, row.exit_code, row.attempt, row.center_id) == ("SUCCEEDED", 0, 1, "jn-sc"), row.message
    assert row.ended_s == T0 + 2
    assert "failover" not in [e.kind for e in rig.events(jid)] and not rig.qd._jobs


@pytest.mark.postgres
def test_a_cancel_crossing_a_requeue_is_not_left_pending(
    tmp_path: Path, fresh_postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The user's cancel reads the job RUNNING, then asks its back-end to stop it (``cancel_requested``). A
    re-queue between the two (its back-end lost it) left it PENDING with its cancel requested, which the placer
    skips: never placed, never ended. Here the dispatcher re-queues it exactly then: during the cancel's read."""
    rig = Rig(tmp_path, fresh_postgres_url)
    try:
        jid = rig.submit(command="sleep 100")
        rig.run(0.5)
        rig.jn._jobs.pop(rig.job(jid).backend_job_id or "")  # the back-end forgot it
        with rig.sf() as s:
            read = s.refresh

            def requeued_meanwhile(obj: Any, *args: Any, **kw: Any) -> None:
                read(obj, *args, **kw)
                monkeypatch.setattr(s, "refresh", read)  # once
                rig.sched._follower.reconcile(TickReport())
                assert rig.job(jid).state == "PENDING"

            monkeypatch.setattr(s, "refresh", requeued_meanwhile)
            assert svc.cancel(s, jid, clock=rig.clock)["cancel_requested"]
        assert (rig.job(jid).state, rig.job(jid).cancel_requested) == ("PENDING", True)
        rig.run(0.5)
        row = rig.job(jid)
        assert row.state == "CANCELLED" and row.attempt == 1, row.message
        assert not rig.qd._jobs
    finally:
        rig.close()


def test_failover_is_bounded_by_max_attempts(rig: Rig) -> None:
    jid = rig.submit(command="sleep 100", max_attempts=1)
    rig.run(0.5)
    rig.jn.healthy = False
    rig.run(3)
    row = rig.job(jid)
    assert row.state == "FAILED" and "attempt" in row.message and row.attempt == 1


def test_lost_job_is_retried_elsewhere_but_program_failure_is_not(rig: Rig) -> None:
    lost = rig.submit(command="sleep 100")
    bad = rig.submit(command="sleep 0.5; exit 3")
    rig.run(0.5)
    assert rig.job(lost).pool_id == "jn-sc-cpu"
    rig.jn._jobs.pop(rig.job(lost).backend_job_id or "")  # the back-end forgot it (node reinstalled ...)
    rig.run(1)
    row = rig.job(lost)
    assert row.state == "RUNNING" and row.center_id == "qd-ai" and row.attempt == 2
    assert any(e.kind == "retry" and "lost" in e.message for e in rig.events(lost))
    failed = rig.job(bad)
    assert failed.state == "FAILED" and failed.exit_code == 3 and failed.attempt == 1


def test_cancel_dispatched_job_through_backend(rig: Rig) -> None:
    jid = rig.submit(command="sleep 100")
    rig.run(0.5)
    with rig.sf() as s:
        assert svc.cancel(s, jid, clock=rig.clock)["cancel_requested"]
    rig.run(1)
    rig.sched._executor.shutdown(wait=True)
    rig.sched.tick()
    assert rig.job(jid).state == "CANCELLED"


def test_waiting_when_every_center_is_down(rig: Rig) -> None:
    rig.jn.healthy = rig.qd.healthy = False
    rig.run(2)
    jid = rig.submit(command="true")
    rig.run(0.5)
    row = rig.job(jid)
    assert row.state == "PENDING" and "unhealthy" in row.message
    rig.jn.healthy = rig.qd.healthy = True
    rig.run(2)
    assert rig.job(jid).state in ("RUNNING", "SUCCEEDED")


def _stage_interrupted(rig: Rig, job_id: str, pool: str, center: str, age_s: float | None = None) -> str:
    """Leave a job as a crash in the middle of dispatch would: DISPATCHED, token set, no back-end id, claimed
    ``age_s`` ago (default: long enough that no submit can still be in flight)."""
    token = dispatch_token(job_id, 1)
    with rig.sf() as s:
        row = s.get(JobRow, job_id)
        assert row is not None
        row.state, row.pool_id, row.center_id, row.attempt, row.dispatch_token = (
            "DISPATCHED", pool, center, 1, token,
        )  # fmt: skip
        row.updated_s -= claim_settled_s(DispatchSettings()) + 1 if age_s is None else age_s
        s.commit()
    return token


def test_recovery_of_an_interrupted_dispatch_without_lookup_never_reruns(rig: Rig) -> None:
    jid = rig.submit(command="true")
    _stage_interrupted(rig, jid, "jn-sc-cpu", "jn-sc")
    assert rig.sched.recover() == 1
    row = rig.job(jid)
    assert row.state == "FAILED" and "at most once" in row.message
    assert not rig.jn._jobs  # nothing submitted


@contextlib.contextmanager
def _takeover_during_a_submit(
    rig: Rig, monkeypatch: pytest.MonkeyPatch, job_id: str
) -> Iterator[tuple[Dispatcher, threading.Event, threading.Thread]]:
    """The leader A ticks, claims ``job_id`` (DISPATCHED + token) and waits inside the Jinan back-end's submit;
    A's lease runs out and B leads. Yields (B, the event that lets A's submit go on, A's thread)."""
    finds_by_name(monkeypatch, rig.jn, rig.qd)
    submit, entered, release = rig.jn.submit, threading.Event(), threading.Event()

    def in_flight(spec: BackendJobSpec) -> str:
        entered.set()
        assert release.wait(20), "never released"
        return submit(spec)

    monkeypatch.setattr(rig.jn, "submit", in_flight)
    a = threading.Thread(target=rig.sched.tick, daemon=True)
    a.start()
    b = Dispatcher(rig.sf, rig.sched.settings, rig.sched.backends, rig.clock)
    try:
        assert entered.wait(20), "A never reached the back-end"
        assert rig.job(job_id).backend_job_id is None
        rig.clock.advance(rig.sched.settings.lease_ttl_s + 0.5)  # A's lease ran out: B leads
        monkeypatch.setattr(rig.jn, "submit", submit)
        yield b, release, a
    finally:
        release.set()
        b.close()


def test_a_takeover_leaves_alone_a_claim_whose_submit_may_be_in_flight(
    rig: Rig, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The deposed leader A has claimed the job (DISPATCHED + token) and is inside the back-end's submit when
    the new leader B recovers. The back-end, asked by name, says "certainly not found" (the submit has not
    created the job yet): B re-placed and dispatched the job, and A's submit created it too: it ran twice.
    Here A's submit waits inside the back-end until B's recovery and a tick of B are done."""
    jid = rig.submit(command="sleep 100")
    with _takeover_during_a_submit(rig, monkeypatch, jid) as (b, release, a):
        assert b.recover() == 0
        b.tick()
        row = rig.job(jid)
        assert (row.state, row.backend_job_id, row.attempt) == ("DISPATCHED", None, 1), row.message
        release.set()
        a.join(20)
        assert not a.is_alive()
        b.tick()
        assert rig.job(jid).state == "RUNNING" and len(rig.jn._jobs) + len(rig.qd._jobs) == 1


def test_a_cancel_waits_for_a_claim_whose_submit_may_be_in_flight(
    rig: Rig, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The user cancels while the deposed leader A is inside the back-end's submit. The new leader B's
    follower, finding no job of that name, ended it CANCELLED at once; A's submit then created the job, which
    ran, unseen and unbilled. Now B waits while the claim may still be in flight, then finds A's job by its
    name and cancels it on its back-end."""
    jid = rig.submit(command="sleep 100")
    with _takeover_during_a_submit(rig, monkeypatch, jid) as (b, release, a):
        with rig.sf() as s:
            assert svc.cancel(s, jid, clock=rig.clock)["cancel_requested"]
        b.tick()
        row = rig.job(jid)
        assert (row.state, row.backend_job_id) == ("DISPATCHED", None), row.message
        release.set()
        a.join(20)
        assert not a.is_alive()
        b.tick()  # A's job is found by name (or recorded by A) and cancelled on its back-end
        b._executor.shutdown(wait=True)
        b.tick()
        row = rig.job(jid)
        assert row.state == "CANCELLED" and row.backend_job_id is not None, row.message
        assert rig.jn.status(row.backend_job_id).state.value == "CANCELLED"


def test_a_claim_older_than_any_submit_is_resolved_on_a_later_tick(
    rig: Rig, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A claim the takeover left (younger than ``max_submit_s`` + ``lease_ttl_s``) is resolved on the first
    tick after it is older: no submit can be in flight any more, so "certainly not found" means never
    submitted, and the job is dispatched again, once."""
    finds_by_name(monkeypatch, rig.jn, rig.qd)
    jid = rig.submit(command="sleep 100")
    _stage_interrupted(rig, jid, "jn-sc-cpu", "jn-sc", age_s=0.0)
    settled_s = claim_settled_s(rig.sched.settings)
    rig.clock.advance(rig.sched.settings.lease_ttl_s)
    assert rig.sched.recover() == 0
    rig.run(settled_s - rig.sched.settings.lease_ttl_s - 1, step=1.0)
    row = rig.job(jid)
    assert (row.state, row.backend_job_id, row.dispatch_token) == ("DISPATCHED", None, dispatch_token(jid, 1))
    assert not rig.jn._jobs and not rig.qd._jobs
    rig.clock.set(T0 + settled_s + 0.5)
    rig.sched.tick()
    row = rig.job(jid)
    assert (row.state, row.attempt, row.backend_job_id) == ("RUNNING", 1, "fake-1"), row.message
    assert len(rig.jn._jobs) + len(rig.qd._jobs) == 1 and "dispatch interrupted" in str(
        [e.message for e in rig.events(jid)]
    )


def test_local_find_by_token(tmp_path: Path) -> None:
    be = LocalBackend({"root": str(tmp_path / "jobs")})
    assert find_by_token(be, "hh-x-1") == (None, True)  # no root yet: certainly never submitted
    bid = be.submit(BackendJobSpec(name="hh-x-1", command=": huanghe-dispatch-token=hh-x-1; true"))
    assert find_by_token(be, "hh-x-1") == (bid, True)
    assert find_by_token(be, "hh-x-10") == (None, True)
    # crash between job.sh and state.json: no process, no exit code → it never started
    d = tmp_path / "jobs" / "local-deadbeef0000"
    d.mkdir()
    (d / "job.sh").write_text("#!/bin/sh\n: huanghe-dispatch-token=hh-y-2; echo hi\n")
    assert find_by_token(be, "hh-y-2") == (None, True)
    # ... but it had run to the end: adopted, and the back-end can read its state
    (d / "exit_code").write_text("0 1800000000.5\n")
    assert find_by_token(be, "hh-y-2") == ("local-deadbeef0000", True)
    assert be.status("local-deadbeef0000").state.value == "SUCCEEDED"
    # ... or its wrapper is still running: adopted with its pid, then it can be cancelled
    e = tmp_path / "jobs" / "local-cafe00000000"
    e.mkdir()
    (e / "job.sh").write_text("#!/bin/sh\n: huanghe-dispatch-token=hh-z-3; sleep 30\n")
    (e / "wrapper.sh").write_text(WRAPPER)
    e.joinpath("job.sh").chmod(0o755)
    proc = subprocess.Popen(["/bin/sh", str(e / "wrapper.sh"), str(e), str(tmp_path)], start_new_session=True)
    try:
        deadline = time.monotonic() + 5
        while find_by_token(be, "hh-z-3")[0] is None:
            assert time.monotonic() < deadline
            time.sleep(0.02)
        assert be.status("local-cafe00000000").state.value == "RUNNING"
        be.cancel("local-cafe00000000")
        assert be.status("local-cafe00000000").state.value == "CANCELLED"
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(5)
    assert find_by_token(FakeBackend(), "hh-x-1") == (None, False)
    be.close()


def test_recovery_adopts_a_found_job_and_redispatches_a_missing_one(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'r.db'}"
    net.prepare_db(url, net.topology(net.local(tmp_path / "jn"), net.local(tmp_path / "qd")))
    sf = make_session_factory(url)
    sched = Dispatcher(sf, DispatchSettings())
    with sf() as s:  # each run records itself in its work directory (a sandboxed job can write nowhere else)
        items, _ = svc.submit_jobs(s, [svc.JobSubmit(command=f"echo {i} > ran.txt") for i in range(2)])
    found, missing = (str(i["id"]) for i in items)
    rig = type("R", (), {"sf": sf})
    tok = _stage_interrupted(rig, found, "jn-sc-cpu", "jn-sc")  # type: ignore[arg-type]
    _stage_interrupted(rig, missing, "jn-sc-cpu", "jn-sc")  # type: ignore[arg-type]
    with sf() as s:
        row = s.get(JobRow, found)
        assert row is not None
        spec = backend_spec(row, tok)
    # the crashed process had already submitted `found`
    bid = LocalBackend({"root": str(tmp_path / "jn"), "kill_grace_s": "1"}).submit(spec)
    assert sched.recover() == 2
    assert _row(sf, found).backend_job_id == bid and _row(sf, found).state == "DISPATCHED"
    assert _row(sf, missing).state == "PLACED" and _row(sf, missing).attempt == 0
    deadline = time.monotonic() + 10
    while {_row(sf, found).state, _row(sf, missing).state} != {"SUCCEEDED"}:
        sched.tick()
        assert time.monotonic() < deadline
        time.sleep(0.05)
    ran = [w for f in tmp_path.glob("*/local-*/work/ran.txt") for w in f.read_text().split()]
    assert sorted(ran) == ["0", "1"]  # each ran exactly once
    sched.close()
    sf.kw["bind"].dispose()


def _row(sf: sessionmaker[Session], job_id: str) -> JobRow:
    with sf() as s:
        row = s.get(JobRow, job_id)
        assert row is not None
        return row


def test_sqlite_lease_single_leader_and_takeover(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'l.db'}"
    net.prepare_db(url, net.topology(("fake", {})))
    engine = make_engine(url)
    clock = FakeClock(T0)
    a = LeaderElector(engine, ttl_s=3.0, clock=clock)
    b = LeaderElector(engine, ttl_s=3.0, clock=clock)
    assert a.try_acquire() and not b.try_acquire()
    clock.advance(2.0)
    assert a.try_acquire() and not b.try_acquire()  # renewed
    clock.advance(3.5)  # a stopped renewing (died)
    assert b.try_acquire() and not a.try_acquire()
    b.release()
    assert a.try_acquire()
    engine.dispose()


def test_backend_spec_marks_command_and_script() -> None:
    row = JobRow(id="j1", spec={"command": "echo hi", "cpus": 2, "env": {"A": "1"}})
    spec = backend_spec(row, "hh-j1-1")
    assert spec.command == ": huanghe-dispatch-token=hh-j1-1; echo hi" and spec.name == "hh-j1-1"
    assert spec.cpus == 2 and spec.env["A"] == "1" and spec.env["HUANGHE_PLATFORM_JOB_ID"] == "j1"
    row = JobRow(id="j2", spec={"script": "#!/bin/bash\necho $BASH_VERSION\n"})
    s2 = backend_spec(row, "hh-j2-1")
    assert s2.script == "#!/bin/bash\n: huanghe-dispatch-token=hh-j2-1\necho $BASH_VERSION\n"
    assert json.dumps(dict(s2.env))


def test_input_dataset_pulls_the_job_to_its_data_and_tenant_filter(rig: Rig) -> None:
    pass
    from huanghe.data.schemas import DatasetCreate
    from huanghe.tenancy.schemas import TenantCreate

    with rig.sf() as s:
        tenancy_svc.create_tenant(s, TenantCreate(id="acme", name="Acme"))
        datasets_svc.create_dataset(
            s, DatasetCreate(id="scans", tenant="acme", name="scans", center="qd-ai", size_gb=20_000)
        )
    near_data = rig.submit(command="true", datasets=["scans"], tenant="acme", duration_s=100)
    plain = rig.submit(command="true", duration_s=100)
    rig.run(0.5)
    assert rig.job(near_data).center_id == "qd-ai"  # 20 TB would take longer to move than the 1.1x gains
    assert rig.job(plain).center_id == "jn-sc"
    with rig.sf() as s:
        page = svc.list_jobs(s, tenant="acme")
        assert [j["id"] for j in page["items"]] == [near_data]
        assert svc.list_jobs(s, center="jn-sc")["total"] == 1
