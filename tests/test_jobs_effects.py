"""Effects are explicit: the dispatcher meters finished jobs and audits its placements itself, in its own
transactions, with no API app in the process and no session hooks anywhere."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from huanghe.billing.models import UsageRow
from huanghe.core.clock import FakeClock
from huanghe.domain.enums import JobState
from huanghe.jobs import service as svc
from huanghe.jobs.models import JobRow
from huanghe.jobs.transitions import set_state
from huanghe.paths import PROJECT_ROOT
from huanghe.store.db import make_session_factory
from huanghe.tenancy import service as tenancy_svc
from huanghe.tenancy.schemas import TenantCreate
from tests import jobs_testnet as net

T0 = 1_800_000_000.0

#: Runs in a fresh interpreter, so no API app can have been created in its process.
SCRIPT = """
import sys
from sqlalchemy import select
from huanghe.audit import service as audit
from huanghe.audit.models import AuditRow
from huanghe.backends.fake import FakeBackend
from huanghe.billing.models import UsageRow
from huanghe.core.clock import FakeClock
from huanghe.jobs import service as svc
from huanghe.jobs.backend_cache import BackendCache
from huanghe.jobs.dispatcher import Dispatcher
from huanghe.jobs.settings import DispatchSettings
from huanghe.store.db import make_session_factory
from huanghe.tenancy import service as tenancy_svc
from huanghe.tenancy.schemas import TenantCreate
from tests import jobs_testnet as net

url = sys.argv[1]
net.prepare_db(url, net.topology(("fake", {"cpus": "64"})))
sf = make_session_factory(url)
clock = FakeClock(1_800_000_000.0)
fake = FakeBackend({"cpus": "64", "duration_s": "10"}, clock=clock)
dispatcher = Dispatcher(sf, DispatchSettings(), BackendCache(lambda name, settings: fake), clock)
with sf() as s:
    tenancy_svc.create_tenant(s, TenantCreate(id="ta", name="A"))
    items, _ = svc.submit_jobs(s, [svc.JobSubmit(command="sleep 2", tenant="ta")], clock=clock)
for _ in range(8):
    dispatcher.tick()
    clock.advance(0.5)
dispatcher.close()
assert not [m for m in sys.modules if m.startswith("huanghe.api")], "an API module was imported"
with sf() as s:
    assert not list(s.dispatch.before_flush), "a session hook is installed"
    placements = [r.subject for r in s.scalars(select(AuditRow).where(AuditRow.action == "placement"))]
    usage = list(s.scalars(select(UsageRow).where(UsageRow.tenant_id == "ta")))
    total = len(usage)
    assert audit.verify(s).ok
print(placements == [items[0]["id"]], total, usage[0].node_hours * 3600 if usage else None)
"""


def test_dispatcher_meters_and_audits_without_an_api_app(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'e.db'}"
    run = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(SCRIPT), url],
        cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr[-3000:]
    placed_and_audited, metered, seconds = run.stdout.split()
    # issue 12: billed node-hours are the job's share (1 of 16 cores) × 2 s
    assert placed_and_audited == "True" and metered == "1" and float(seconds) == pytest.approx(2.0 / 16)


def _job(sf: sessionmaker[Session], tenant: str | None) -> str:
    with sf() as s:
        items, _ = svc.submit_jobs(s, [svc.JobSubmit(command="true", tenant=tenant)], clock=FakeClock(T0))
    return str(items[0]["id"])


def _usage(s: Session) -> set[str]:
    return set(s.scalars(select(UsageRow.job_id)))


def test_set_state_meters_exactly_the_jobs_that_ran(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'm.db'}"
    net.prepare_db(url, net.topology(("fake", {})))
    sf = make_session_factory(url)
    try:
        with sf() as s:
            tenancy_svc.create_tenant(s, TenantCreate(id="ta", name="A"))
        ran, never_started, no_tenant, gone_pool = (_job(sf, t) for t in ("ta", "ta", None, "ta"))
        with sf() as s:
            for job_id, pool, started in (
                (ran, "jn-sc-cpu", T0), (never_started, "jn-sc-cpu", None), (no_tenant, "jn-sc-cpu", T0),
                (gone_pool, "no-such-pool", T0),
            ):  # fmt: skip
                row = s.get(JobRow, job_id)
                assert row is not None
                row.pool_id, row.started_s = pool, started
                set_state(s, row, JobState.RUNNING, "running", T0)
            s.commit()
            assert _usage(s) == set()  # running: nothing to meter yet
            for job_id in (ran, never_started, no_tenant, gone_pool):
                row = s.get(JobRow, job_id)
                assert row is not None
                set_state(s, row, JobState.SUCCEEDED, "done", T0 + 1800)  # a refused one is only logged
            s.commit()
            assert _usage(s) == {ran}
            # issue 12: billed node-hours are the job's share of the node (1 of 16 cores) × 0.5 h
            assert s.scalars(select(UsageRow.node_hours)).one() == pytest.approx(0.5 / 16)
            row = s.get(JobRow, ran)
            assert row is not None
            set_state(s, row, JobState.SUCCEEDED, "again", T0 + 3600)  # metering is idempotent per job
            s.commit()
            assert _usage(s) == {ran}
    finally:
        sf.kw["bind"].dispose()


def test_cancelling_a_waiting_job_meters_and_audits_nothing(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'c.db'}"
    net.prepare_db(url, net.topology(("fake", {})))
    sf = make_session_factory(url)
    try:
        with sf() as s:
            tenancy_svc.create_tenant(s, TenantCreate(id="ta", name="A"))
        job_id = _job(sf, "ta")
        with sf() as s:
            out = svc.cancel(s, job_id, clock=FakeClock(T0 + 5))
            assert out["state"] == "CANCELLED" and out["ended_s"] == T0 + 5
            assert _usage(s) == set()
    finally:
        sf.kw["bind"].dispose()
