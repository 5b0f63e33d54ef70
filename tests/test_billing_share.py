"""Billing is what was used (issue 12): a job is metered for its dominant share of the pool's node, by the same
function as its estimate, and per job ``jobs show`` cost, the usage row and the invoice line agree to the fen —
on SQLite and on the real PostgreSQL fixture."""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pytest
from sqlalchemy.orm import Session, sessionmaker

from huanghe.backends.fake import FakeBackend
from huanghe.billing import service as billing
from huanghe.broker.batch import JobBatch, node_share
from huanghe.broker.estimates import estimate
from huanghe.broker.snapshot import NetworkSnapshot
from huanghe.core.clock import FakeClock
from huanghe.domain import usage
from huanghe.jobs import service as svc
from huanghe.jobs.backend_cache import BackendCache
from huanghe.jobs.dispatcher import Dispatcher
from huanghe.jobs.settings import DispatchSettings
from huanghe.store.db import make_session_factory
from huanghe.tenancy import service as tenancy_svc
from huanghe.tenancy.schemas import TenantCreate
from tests import jobs_testnet as net

T0 = 1_800_000_000.0  # 2027-01-15 UTC
#: jobs_testnet pools: 16 cores, 64 GB per node, 4.00 CNY per node-hour, 0.5 kW per node; Jinan speed 1.1.
JOBS = [  # (cpus, gpus, mem_gb, nodes, run time s, expected share)
    (2.0, 0.0, 0.0, 1, 3600, 2 / 16),  # cores dominate: 0.50 CNY
    (1.0, 0.0, 32.0, 1, 5400, 0.5),  # memory dominates: 3.00 CNY
    (4.0, 0.0, 8.0, 2, 1800, 0.25),  # two nodes, a quarter each: 1.00 CNY
    (3.0, 0.0, 0.0, 1, 1000, 3 / 16),  # rounding: 0.208333… → 0.21 CNY
]


def test_one_share_function_for_estimates_and_metering() -> None:
    snap = NetworkSnapshot.from_topology(net.topology(("fake", {})), FakeClock(T0))
    recs = [
        {"job_id": f"j{i}", "cpus": c, "gpus": g, "mem_gb": m, "nodes": n, "duration_s": 1.0}
        for i, (c, g, m, n, _, _) in enumerate(JOBS)
    ]
    batch = JobBatch.from_records(snap, recs)
    share = node_share(batch, snap)
    for i, (c, g, m, _, _, expected) in enumerate(JOBS):
        assert usage.node_share(c, g, m, 16.0, 0.0, 64.0) == pytest.approx(expected)
        assert share[i, 0] == pytest.approx(expected)
    assert usage.node_share(17.0, 0.0, 0.0, 16.0, 0.0, 64.0) == np.inf  # larger than the node
    est = estimate(snap, batch)
    run = est.run_s[:, 0]
    np.testing.assert_allclose(
        est.cost_cny[:, 0], batch.nodes * share[:, 0] * run / 3600 * snap.price_cny_per_node_hour[0]
    )


def _run_jobs(sf: sessionmaker[Session]) -> list[str]:
    clock = FakeClock(T0)
    fake = FakeBackend({"cpus": "64", "mem_gb": "256"}, clock=clock)
    dispatcher = Dispatcher(sf, DispatchSettings(), BackendCache(lambda name, settings: fake), clock)
    with sf() as s:
        tenancy_svc.create_tenant(s, TenantCreate(id="ta", name="A"))
        subs = [
            svc.JobSubmit(
                command=f"sleep {t}",
                tenant="ta",
                cpus=c,
                gpus=g,
                mem_gb=m,
                nodes=n,
                duration_s=t * 1.1,
                time_limit_s=t + 60,
            )
            for c, g, m, n, t, _ in JOBS
        ]
        items, _ = svc.submit_jobs(s, subs, clock=clock)
    try:
        for _ in range(20):
            dispatcher.tick()
            clock.advance(600.0)
    finally:
        dispatcher.close()
    return [str(i["id"]) for i in items]


def test_jobs_show_usage_and_invoice_agree_to_the_fen(db_url: str) -> None:
    net.prepare_db(db_url, net.topology(("fake", {})))
    sf = make_session_factory(db_url)
    try:
        ids = _run_jobs(sf)
        with sf() as s:
            used = {u.job_id: u for u in billing.list_usage(s, tenant="ta").items}
            shown = {j: svc.show(s, j, clock=FakeClock(T0 + 1e6)) for j in ids}
            inv = billing.create_invoice(
                s, billing.InvoiceCreate(tenant="ta", month="2027-01"), actor="test", now=T0 + 1e6
            )
        assert set(used) == set(ids)
        total = Decimal(0)
        for job_id, (c, _, m, n, t, share) in zip(ids, JOBS, strict=True):
            job, u = shown[job_id], used[job_id]
            assert job["state"] == "SUCCEEDED" and job["ended_s"] - job["started_s"] == pytest.approx(t)
            expected = (Decimal("4.00") * n * Decimal(repr(share)) * t / 3600).quantize(Decimal("0.01"))
            assert u.cost_cny == expected, (c, m, n, t)  # the share, not the whole node
            assert Decimal(repr(job["cost_cny"])) == u.cost_cny  # jobs show = usage, to the fen
            assert job["est_cost_cny"] == pytest.approx(float(expected), abs=0.005)  # estimate = bill
            assert u.node_hours == pytest.approx(n * share * t / 3600)
            assert u.carbon_kg > 0 and u.gpu_hours == 0.0
            total += u.cost_cny
        # one pool: the invoice line is the sum of the jobs' metered costs, to the fen
        assert [line["amount_cny"] for line in inv.lines] == [str(total)]
        assert inv.total_cny == total and inv.jobs == len(ids)
    finally:
        sf.kw["bind"].dispose()


def test_energy_and_carbon_scale_with_the_share(db_url: str) -> None:
    net.prepare_db(db_url, net.topology(("fake", {})))
    sf = make_session_factory(db_url)
    try:
        with sf() as s:
            whole = billing.meter_job(s, job_id="w", tenant_id="ta", pool_id="jn-sc-cpu", started_s=T0,
                                      ended_s=T0 + 3600)  # fmt: skip
            quarter = billing.meter_job(s, job_id="q", tenant_id="ta", pool_id="jn-sc-cpu", started_s=T0,
                                        ended_s=T0 + 3600, cpus=4, gpus=0, mem_gb=1)  # fmt: skip
            s.commit()
        assert whole.cost_cny == Decimal("4.00") and quarter.cost_cny == Decimal("1.00")
        assert quarter.node_hours == pytest.approx(whole.node_hours / 4)
        assert quarter.energy_kwh == pytest.approx(whole.energy_kwh / 4)
        assert quarter.carbon_kg == pytest.approx(whole.carbon_kg / 4)
    finally:
        sf.kw["bind"].dispose()
