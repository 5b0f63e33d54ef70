"""The empowerment evaluation (算力赋能评价) and the industry map (算力产业图谱): figures computed by hand from
metered jobs on the mini network, the sector → `算力+` industry table, voucher allocation, who may read them
(regulator and admin; tenants never), the CLI; on SQLite and PostgreSQL (``db_url``)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from typer.testing import CliRunner

from huanghe.billing import service as billing
from huanghe.billing import vouchers
from huanghe.cli.main import app as cli
from huanghe.jobs.models import JobRow
from huanghe.regulator.empowerment import empowerment
from huanghe.regulator.industries import INDUSTRY_KEYS, industry_of
from huanghe.regulator.industry_map import industry_map
from huanghe.tenancy import service as tenancy_svc
from huanghe.tenancy.schemas import TenantCreate
from tests.security_support import World, world

API = "/api/v1"
MAR = datetime(2026, 3, 2, tzinfo=UTC).timestamp()
JUL = datetime(2026, 7, 2, tzinfo=UTC).timestamp()
LAST_YEAR = datetime(2025, 6, 2, tzinfo=UTC).timestamp()
H = 3600.0


def _populate(w: World) -> None:
    """ta manufacturing, tb finance (seeded), tc 'Marine' (→ ocean), td 'sme' (→ other), te agriculture (no
    usage). Whole nodes, so node-hours = nodes × hours."""
    with w.session() as s:
        for tid, sector in (("tc", "Marine"), ("td", "sme"), ("te", "agriculture")):
            tenancy_svc.create_tenant(s, TenantCreate(id=tid, name=tid, sector=sector))
        meter = billing.meter_job
        meter(s, job_id="j1", tenant_id="ta", pool_id="qd-ai-910b", started_s=MAR, ended_s=MAR + 2 * H)
        meter(
            s, job_id="j2", tenant_id="ta", pool_id="jn-sc-cpu", started_s=MAR, ended_s=MAR + 10 * H, nodes=3
        )
        meter(s, job_id="j3", tenant_id="tb", pool_id="qd-ai-910b", started_s=JUL, ended_s=JUL + 1 * H)
        meter(s, job_id="j4", tenant_id="tc", pool_id="jn-sc-dcu", started_s=JUL, ended_s=JUL + 4 * H)
        meter(s, job_id="j5", tenant_id="td", pool_id="jn-sc-cpu", started_s=JUL, ended_s=JUL + 1 * H)
        meter(
            s, job_id="j0", tenant_id="ta", pool_id="qd-ai-910b", started_s=LAST_YEAR, ended_s=LAST_YEAR + H
        )
        vouchers.issue(s, vouchers.VoucherCreate(tenant="ta", amount_cny=Decimal("100"),
                       valid_until=datetime(2030, 1, 1, tzinfo=UTC)), issuer="reg", now=MAR)  # fmt: skip
        billing.create_invoice(
            s, billing.InvoiceCreate(tenant="ta", month="2026-03"), actor="t", now=MAR + 86400
        )
        for jid, tenant, state, t in (
            ("s1", "ta", "SUCCEEDED", MAR),
            ("s2", "ta", "FAILED", JUL),
            ("s3", "tb", "SUCCEEDED", LAST_YEAR),
            ("s4", None, "SUCCEEDED", MAR),
        ):
            s.add(JobRow(id=jid, name=jid, tenant_id=tenant, spec={}, cpus=1, gpus=0, mem_gb=0, nodes=1, state=state,
                         submit_s=t, updated_s=t))  # fmt: skip
        s.commit()


@pytest.fixture
def w(db_url: str) -> Iterator[World]:
    with world(db_url) as wd:
        _populate(wd)
        yield wd


def test_sectors_map_onto_the_plans_industries() -> None:
    assert INDUSTRY_KEYS == ("manufacturing", "agriculture", "finance", "energy", "ocean", "transport", "culture",
                             "other")  # fmt: skip
    cases = {"Manufacturing": "manufacturing", "auto": "manufacturing", "banking": "finance", "Marine": "ocean",
             "logistics": "transport", "New Energy": "energy", "文旅": "culture", "智慧农业x": "other",
             "sme": "other", "research": "other", "": "other", "food": "agriculture"}  # fmt: skip
    assert {k: industry_of(k) for k in cases} == cases


def test_figures_by_industry_city_kind_and_month_match_the_metering(w: World) -> None:
    with w.session() as s:
        ev = empowerment(s, 2026)
        usage = {u.job_id: u for u in billing.list_usage(s, limit=100).items}
    pf_910b, pf_cpu, pf_dcu = 2560 * 0.5 / 1000, 2.5 * 2.0 / 1000, 40 * 2.0 / 1000  # PFLOPS per node, FP32-eq
    by = {g.key: g for g in ev.by_industry}
    assert [g.key for g in ev.by_industry] == list(INDUSTRY_KEYS)
    assert by["manufacturing"].jobs == 2 and by["manufacturing"].enterprises == 1
    assert by["manufacturing"].node_hours == pytest.approx(2 + 30)
    assert by["manufacturing"].pflops_hours == pytest.approx(2 * pf_910b + 30 * pf_cpu)
    assert by["ocean"].pflops_hours == pytest.approx(4 * pf_dcu) and by["ocean"].gpu_hours == pytest.approx(
        16
    )
    assert by["other"].jobs == 1 and by["agriculture"].jobs == 0 and ev.sectors_in_other == ["sme"]
    assert by["finance"].spending_cny == usage["j3"].cost_cny
    assert ev.totals.jobs == 5  # j0 ended in 2025
    assert ev.totals.spending_cny == sum((u.cost_cny for k, u in usage.items() if k != "j0"), Decimal(0))
    assert sum(g.pflops_share for g in ev.by_industry) == pytest.approx(1.0)
    cities = {g.key: g for g in ev.by_city}  # the center's city
    assert (
        set(cities) == {"jinan", "qingdao"}
        and cities["qingdao"].jobs == 2
        and cities["qingdao"].name_zh == "青岛"
    )
    kinds = {g.key: g.jobs for g in ev.by_center_kind}
    assert kinds == {"intelligent": 2, "supercomputing": 3}
    months = {m.month: m for m in ev.months}
    assert len(ev.months) == 12 and months["2026-01"].jobs == 0
    assert months["2026-03"].jobs == 2 and months["2026-07"].jobs == 3
    assert months["2026-07"].pflops_hours_by_industry["ocean"] == pytest.approx(4 * pf_dcu)
    assert ev.submitted_by_industry["manufacturing"] == 2 and ev.submitted_by_industry["finance"] == 0
    assert sum(ev.submitted_by_industry.values()) == 2  # s3 was 2025, s4 has no tenant
    with w.session() as s:
        last = empowerment(s, 2025)
        assert last.totals.jobs == 1 and last.submitted_by_industry["finance"] == 1


def test_vouchers_are_allocated_to_the_invoices_lines_by_cost(w: World) -> None:
    with w.session() as s:
        ev = empowerment(s, 2026)
        inv = billing.list_invoices(s, tenant="ta", limit=10).items[0]
        usage = {u.job_id: u for u in billing.list_usage(s, tenant="ta", limit=100).items}
    assert inv.voucher_cny == Decimal("100.00")
    by = {g.key: g for g in ev.by_industry}
    assert by["manufacturing"].voucher_cny == Decimal("100.00") and by["finance"].voucher_cny == Decimal(
        "0.00"
    )
    cost = usage["j1"].cost_cny + usage["j2"].cost_cny
    cities = {g.key: g for g in ev.by_city}
    assert cities["qingdao"].voucher_cny == (Decimal(100) * usage["j1"].cost_cny / cost).quantize(
        Decimal("0.01")
    )
    assert ev.totals.voucher_share == pytest.approx(10000 / int(ev.totals.spending_cny * 100), abs=1e-6)


def test_only_the_regulator_and_admins_read_the_evaluation(w: World) -> None:
    for who in ("regulator", "admin"):
        r = w.client.get(f"{API}/observatory/empowerment", params={"year": 2026}, headers=w.h(who))
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["title_zh"] == "2026 年算力赋能评价" and body["totals"]["jobs"] == 5
    for who in ("tenant_admin", "tenant_user", "operator", "anon"):
        r = w.client.get(f"{API}/observatory/empowerment", params={"year": 2026}, headers=w.h(who))
        assert r.status_code in (401, 403), who
    bad = w.client.get(f"{API}/observatory/empowerment", params={"year": 1900}, headers=w.h("regulator"))
    assert bad.status_code == 422 and "year" in bad.json()["detail"][0]["path"]
    missing = w.client.get(f"{API}/observatory/empowerment", headers=w.h("regulator"))
    assert missing.status_code == 422 and "year" in missing.json()["detail"][0]["path"]


def test_industry_map_places_providers_and_users_by_city_and_industry(w: World) -> None:
    with w.session() as s:
        m = industry_map(s, 2026)
        everything = industry_map(s)
    cities = {c.id: c for c in m.cities}
    assert [c.id for c in cities["qingdao"].centers] == ["qd-ai"] and cities["qingdao"].operators == [
        "telecom"
    ]
    assert set(cities["qingdao"].users) == {"manufacturing", "finance"}
    assert cities["jinan"].users["ocean"].enterprises == 1 and cities["yantai"].users == {}
    ind = {i.key: i for i in m.industries}
    assert ind["agriculture"].enterprises_registered == 1 and ind["agriculture"].enterprises_with_usage == 0
    assert ind["manufacturing"].enterprises_with_usage == 1
    assert {o.name for o in m.operators} >= {"telecom", "institute"}
    assert everything.industries[0].pflops_hours > ind["manufacturing"].pflops_hours  # j0 of 2025 counts too
    for who, code in (("regulator", 200), ("operator", 200), ("tenant_user", 403), ("anon", 401)):
        r = w.client.get(f"{API}/observatory/industry-map", headers=w.h(who))
        assert r.status_code == code, (who, r.text)


def test_cli_prints_the_evaluation_as_a_table_and_as_json(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    with world(url) as wd:
        _populate(wd)
    runner = CliRunner()
    out = runner.invoke(cli, ["empowerment", "--year", "2026", "--db", url, "--json"])
    assert out.exit_code == 0, out.output
    body = json.loads(out.output)
    assert body["totals"]["jobs"] == 5 and body["by_industry"][0]["key"] == "manufacturing"
    table = runner.invoke(cli, ["empowerment", "--year", "2026", "--db", url])
    assert table.exit_code == 0 and "算力+制造" in table.output and "青岛" in table.output
    bad = runner.invoke(cli, ["empowerment", "--year", "1066", "--db", url])
    assert bad.exit_code == 2 and "--year" in bad.output
    mp = runner.invoke(cli, ["industry-map", "--db", url])
    assert mp.exit_code == 0 and json.loads(mp.output)["title_zh"] == "算力产业图谱"
