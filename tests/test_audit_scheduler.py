"""The real dispatcher (FAKE back-end, fake clock), no API app: each placement decision lands in the audit
chain and each finished job is metered, in the dispatcher's own transactions."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import pytest
from sqlalchemy import select

from huanghe.audit import service as audit
from huanghe.audit.models import AuditRow
from huanghe.backends.fake import FakeBackend
from huanghe.backends.protocol import Backend
from huanghe.billing import service as billing
from huanghe.core.clock import FakeClock
from huanghe.jobs import service as svc
from huanghe.jobs.backend_cache import BackendCache
from huanghe.jobs.dispatcher import Dispatcher
from huanghe.jobs.settings import DispatchSettings
from huanghe.store.db import make_session_factory
from huanghe.tenancy import service as tenancy_svc
from huanghe.tenancy.schemas import TenantCreate
from tests import jobs_testnet as net

T0 = 1_800_000_000.0  # 2027-01-15 UTC


def test_placements_are_chained_and_finished_jobs_metered(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 's.db'}"
    net.prepare_db(url, net.topology(("fake", {"cpus": "64"})))
    sf = make_session_factory(url)
    clock = FakeClock(T0)
    fake = FakeBackend({"cpus": "64", "duration_s": "10"}, clock=clock)

    def factory(name: str, settings: Mapping[str, str]) -> Backend:
        return fake

    sched = Dispatcher(sf, DispatchSettings(health_interval_s=1.0), BackendCache(factory), clock)
    try:
        with sf() as s:
            tenancy_svc.create_tenant(s, TenantCreate(id="ta", name="A"))
            items, _ = svc.submit_jobs(
                s, [svc.JobSubmit(command="sleep 3", cpus=2, tenant="ta")], clock=clock
            )
        job_id = str(items[0]["id"])
        for _ in range(12):
            sched.tick()
            clock.advance(0.5)
        with sf() as s:
            audit.catch_up(s)  # placements written to the inbox (PostgreSQL) are chained first, as readers do
            placements = list(s.scalars(select(AuditRow).where(AuditRow.action == "placement")))
            assert [p.subject for p in placements] == [job_id]
            assert audit.verify(s).ok
            page = billing.list_usage(s, tenant="ta")
            usage, total = page.items, page.total
        assert total == 1 and usage[0].job_id == job_id and usage[0].pool == "jn-sc-cpu"
        # issue 12: billed node-hours are the job's share of the node (2 of 16 cores) × 3 s
        assert usage[0].node_hours == pytest.approx(3 / 3600 * 2 / 16) and usage[0].month == "2027-01"
    finally:
        sched.close()
        sf.kw["bind"].dispose()
