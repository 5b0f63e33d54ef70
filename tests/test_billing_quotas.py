"""Metering (node-hours, GPU-hours, cost in fen, energy, carbon), metering jobs of the jobs table, quotas
and budgets enforced at job submission (403 with the limit named), tenant isolation of jobs and usage."""

from __future__ import annotations

import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update

from huanghe.api.app import create_app
from huanghe.billing import service as billing
from huanghe.network.models import CenterRow
from huanghe.settings import Settings
from tests.security_support import World, world

API = "/api/v1"


@pytest.fixture
def w(tmp_path: Path) -> Iterator[World]:
    with world(f"sqlite:///{tmp_path / 'b.db'}") as wd:
        yield wd


def test_meter_job_figures(w: World) -> None:
    with w.session() as s:
        u = billing.meter_job(s, job_id="j1", tenant_id="ta", pool_id="qd-ai-910b", started_s=0.0,
                              ended_s=5400.0, nodes=2)  # fmt: skip
        center = s.get(CenterRow, "qd-ai")
        assert center is not None
        s.commit()
        again = billing.meter_job(
            s, job_id="j1", tenant_id="ta", pool_id="qd-ai-910b", started_s=0.0, ended_s=9e9
        )
    assert u.node_hours == 3.0 and u.gpu_hours == 24.0  # 2 nodes × 1.5 h, 8 GPUs per node
    assert u.price_cny_per_node_hour == Decimal("120.00") and u.cost_cny == Decimal("360.00")
    assert u.energy_kwh == pytest.approx(5.5 * 3.0 * 1.3)
    assert u.carbon_kg == pytest.approx(5.5 * 3.0 * 1.3 * center.grid_emission_kg_per_kwh * 0.75)
    assert u.month == "1970-01" and u.operator == "telecom" and again == u


def test_cost_rounds_half_up_to_the_fen(w: World) -> None:
    with w.session() as s:
        # 6.4 CNY/node-h for 1 s = 0.17777… fen → 0 fen; for 10 s = 1.777… → 2 fen
        one = billing.meter_job(s, job_id="a", tenant_id="ta", pool_id="jn-sc-cpu", started_s=0, ended_s=1)
        ten = billing.meter_job(s, job_id="b", tenant_id="ta", pool_id="jn-sc-cpu", started_s=0, ended_s=10)
    assert one.cost_cny == Decimal("0.00") and ten.cost_cny == Decimal("0.02")


def _job(tenant: str, **extra: object) -> dict[str, object]:
    return {"command": "echo hi", "tenant": tenant, "cpus": 1, **extra}


def test_jobs_are_isolated_between_tenants(w: World) -> None:
    r = w.client.post(f"{API}/jobs", json=_job("ta"), headers=w.h("tenant_user"))
    assert r.status_code == 201, r.text
    job_id = r.json()["id"]
    assert w.client.get(f"{API}/jobs/{job_id}", headers=w.h("tenant_user")).status_code == 200
    for path in (f"/jobs/{job_id}", f"/jobs/{job_id}/events", f"/jobs/{job_id}/logs"):
        other = w.client.get(f"{API}{path}", headers=w.h("tenant_user_b"))
        assert other.status_code == 404 and "echo" not in other.text, path
    assert w.client.post(f"{API}/jobs/{job_id}:cancel", headers=w.h("tenant_user_b")).status_code == 404
    listed = w.client.get(f"{API}/jobs?tenant=ta", headers=w.h("tenant_user_b")).json()
    assert all(j.get("tenant") == "tb" for j in listed["items"]) and job_id not in str(listed)
    assert w.client.post(f"{API}/jobs", json=_job("tb"), headers=w.h("tenant_user")).status_code == 403
    batch = {"jobs": [_job("ta"), _job("tb")]}
    assert w.client.post(f"{API}/jobs:batch", json=batch, headers=w.h("tenant_user")).status_code == 403
    assert w.client.get(f"{API}/jobs/{job_id}", headers=w.h("regulator")).status_code == 200


def test_finished_jobs_of_the_jobs_table_are_metered(w: World) -> None:
    from huanghe.jobs.models import JobRow

    job_id = w.client.post(f"{API}/jobs", json=_job("ta"), headers=w.h("tenant_user")).json()["id"]
    with w.session() as s:
        s.execute(update(JobRow).where(JobRow.id == job_id).values(
            state="SUCCEEDED", pool_id="jn-sc-cpu", center_id="jn-sc", started_s=1000.0, ended_s=4600.0, nodes=1))  # fmt: skip
        s.commit()
    r = w.client.post(f"{API}/billing/meter", headers=w.h("admin"))
    assert r.json() == {"metered": 1}
    assert w.client.post(f"{API}/billing/meter", headers=w.h("admin")).json() == {"metered": 0}
    usage = w.client.get(f"{API}/usage", headers=w.h("tenant_user")).json()
    # issue 12: billed its share (1 of 64 cores) of the 6.40 CNY node-hour, not the whole node
    assert usage["total"] == 1 and usage["items"][0]["cost_cny"] == "0.10"
    assert w.client.get(f"{API}/usage", headers=w.h("tenant_user_b")).json()["total"] == 0


def test_quota_and_budget_refuse_submissions(w: World) -> None:
    r = w.client.put(f"{API}/quotas/ta", json={"gpu_hours_per_month": 10, "budget_cny_per_month": "100"},
                     headers=w.h("admin"))  # fmt: skip
    assert r.status_code == 200, r.text
    ok = w.client.post(f"{API}/jobs", json=_job("ta", gpus=1, duration_s=3600), headers=w.h("tenant_user"))
    assert ok.status_code == 201, ok.text
    big = w.client.post(
        f"{API}/jobs", json=_job("ta", gpus=4, duration_s=3 * 3600), headers=w.h("tenant_user")
    )
    assert (
        big.status_code == 403
        and "GPU-hour quota" in big.text
        and big.json()["detail"][0]["path"] == "body.gpus"
    )
    dear = _job("ta", duration_s=2 * 3600, max_price_cny_per_hour=60)
    r = w.client.post(f"{API}/jobs", json=dear, headers=w.h("tenant_user"))
    assert r.status_code == 403 and "budget" in r.text
    batch = {"jobs": [_job("ta", gpus=1, duration_s=3 * 3600)] * 4}  # 12 GPU-h together
    assert w.client.post(f"{API}/jobs:batch", json=batch, headers=w.h("tenant_user")).status_code == 403
    with w.session() as s:  # usage already metered this month counts
        now = time.time()
        billing.meter_job(
            s, job_id="used", tenant_id="ta", pool_id="qd-ai-910b", started_s=now - 7200, ended_s=now
        )
        s.commit()
    q = w.client.get(f"{API}/quotas/ta", headers=w.h("tenant_user")).json()
    assert q["used_gpu_hours"] == pytest.approx(16.0) and q["gpu_hours_per_month"] == 10
    r = w.client.post(f"{API}/jobs", json=_job("ta"), headers=w.h("tenant_user"))
    assert r.status_code == 403  # already over: even a job without estimates
    assert w.client.post(f"{API}/jobs", json=_job("tb"), headers=w.h("tenant_user_b")).status_code == 201
    assert w.client.get(f"{API}/quotas/ta", headers=w.h("tenant_user_b")).status_code == 404


def test_quota_applies_with_authentication_off(tmp_path: Path) -> None:
    with world(f"sqlite:///{tmp_path / 'q.db'}") as wd:
        wd.client.put(f"{API}/quotas/ta", json={"gpu_hours_per_month": 1}, headers=wd.h("admin"))
    app = create_app(
        Settings(database_url=f"sqlite:///{tmp_path / 'q.db'}", dev_mode=True, migrate_on_startup=False)
    )
    client = TestClient(app)
    try:
        r = client.post(f"{API}/jobs", json=_job("ta", gpus=2, duration_s=3600))
        assert r.status_code == 403 and "quota" in r.text
        assert client.post(f"{API}/jobs", json=_job("tb", gpus=2, duration_s=3600)).status_code == 201
    finally:
        client.close()
        app.state.engine.dispose()


def test_jobs_are_metered_when_the_scheduler_finishes_them(w: World) -> None:
    from huanghe.domain.enums import JobState
    from huanghe.jobs.models import JobRow
    from huanghe.jobs.transitions import set_state

    job_id = w.client.post(f"{API}/jobs", json=_job("ta"), headers=w.h("tenant_user")).json()["id"]
    with w.session() as s:  # what the dispatcher does when a job starts, then ends (jobs.transitions)
        job = s.get(JobRow, job_id)
        assert job is not None
        job.pool_id, job.center_id, job.started_s, job.ended_s = "jn-sc-cpu", "jn-sc", 0.0, None
        set_state(s, job, JobState.RUNNING, "running", 0.0)
        s.commit()
        assert billing.list_usage(s).total == 0  # not finished: not metered
        job.ended_s = 7200.0
        set_state(s, job, JobState.SUCCEEDED, "succeeded", 7200.0)
        s.commit()
        page = billing.list_usage(s)
        items, total = page.items, page.total
    # issue 12: 2 h of 1 of the node's 64 cores at 6.40 CNY per node-hour (not 12.80, the whole node)
    assert total == 1 and items[0].job_id == job_id and items[0].cost_cny == Decimal("0.20")


def test_idempotency_keys_do_not_leak_across_tenants(w: World) -> None:
    key = {"Idempotency-Key": "k-123"}
    first = w.client.post(f"{API}/jobs", json=_job("ta"), headers={**w.h("tenant_user"), **key})
    again = w.client.post(f"{API}/jobs", json=_job("ta"), headers={**w.h("tenant_user"), **key})
    assert first.status_code == 201 and again.status_code == 200 and again.json()["id"] == first.json()["id"]
    other = w.client.post(f"{API}/jobs", json=_job("tb"), headers={**w.h("tenant_user_b"), **key})
    assert other.status_code == 409 and first.json()["id"] not in other.text


def test_quota_cli_set_and_show(w: World) -> None:
    from typer.testing import CliRunner

    from huanghe.cli.main import app as cli

    runner = CliRunner()
    r = runner.invoke(
        cli, ["quotas", "set", "--tenant", "ta", "--gpu-hours", "5", "--budget-cny", "12.5", "--db", w.url]
    )
    assert r.exit_code == 0, r.output
    shown = runner.invoke(cli, ["quotas", "show", "ta", "--db", w.url, "--json"])
    assert '"budget_cny_per_month": "12.50"' in shown.stdout and '"gpu_hours_per_month": 5.0' in shown.stdout
    bad = runner.invoke(cli, ["quotas", "set", "--tenant", "nobody", "--gpu-hours", "5", "--db", w.url])
    assert bad.exit_code == 1 and "unknown tenant" in bad.output
    trail = w.client.get(f"{API}/audit?action=quota.set", headers=w.h("regulator")).json()
    assert trail["total"] == 1 and trail["items"][0]["actor"].startswith("cli:")


def test_billing_cli_invoice_and_settlement(w: World) -> None:
    import json

    from typer.testing import CliRunner

    from huanghe.cli.main import app as cli

    with w.session() as s:
        billing.meter_job(s, job_id="c1", tenant_id="tb", pool_id="jn-sc-cpu", started_s=1_767_225_600.0,
                          ended_s=1_767_225_600.0 + 3600)  # 2026-01-01, 6.40 CNY  # fmt: skip
        s.commit()
    runner = CliRunner()
    r = runner.invoke(
        cli, ["billing", "invoice", "--tenant", "tb", "--month", "2026-01", "--db", w.url, "--json"]
    )
    assert r.exit_code == 0, r.output
    inv = json.loads(r.stdout)[0]
    assert inv["total_cny"] == "6.40" and inv["cash_cny"] == "6.40"
    again = runner.invoke(cli, ["billing", "invoice", "--tenant", "tb", "--month", "2026-01", "--db", w.url])
    assert again.exit_code == 1 and "already invoiced" in again.output
    bad = runner.invoke(cli, ["billing", "invoice", "--tenant", "tb", "--month", "2026-13", "--db", w.url])
    assert bad.exit_code == 2 and "--month" in bad.output
    st = runner.invoke(cli, ["billing", "settlement", "--month", "2026-01", "--db", w.url, "--json"])
    assert json.loads(st.stdout) == [{"operator": "institute", "month": "2026-01", "jobs": 1, "node_hours": 1.0,
                                      "billed_cny": "6.40", "energy_kwh": pytest.approx(0.75),
                                      "carbon_kg": json.loads(st.stdout)[0]["carbon_kg"]}]  # fmt: skip
