"""Voucher programmes (算力券项目): the reported presets, application → review → grant, caps per enterprise,
per year and of the fund, redemption through the bill, returns, settlement to providers, the report, tenant
isolation, and the CLI; on SQLite and on the private PostgreSQL where it matters."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from huanghe.billing import ledger, programme_funds, programme_report, vouchers
from huanghe.billing import service as billing
from huanghe.billing.models import VoucherProgrammeRow, VoucherRow
from huanghe.cli.main import app as cli
from huanghe.domain.tenancy import Role
from huanghe.tenancy import tokens as auth
from huanghe.tenancy.models import TenantRow
from tests.security_support import World, world

API = "/api/v1"
T0 = datetime(2026, 3, 1, tzinfo=UTC).timestamp()


def _with_b_admin(wd: World) -> World:
    with wd.session() as s:
        spec = auth.TokenCreate(name="tb-admin", role=Role.TENANT_ADMIN, tenant="tb")
        wd.tokens["tenant_admin_b"] = auth.create_token(s, spec).token
    return wd


@pytest.fixture
def w(tmp_path: Path) -> Iterator[World]:
    with world(f"sqlite:///{tmp_path / 'p.db'}") as wd:
        yield _with_b_admin(wd)


@pytest.fixture
def wdb(db_url: str) -> Iterator[World]:
    """The same world on SQLite and on the private PostgreSQL."""
    with world(db_url) as wd:
        yield _with_b_admin(wd)


def _create(w: World, **body: object) -> dict[str, object]:
    r = w.client.post(f"{API}/programmes", json=body, headers=w.h("regulator"))
    assert r.status_code == 201, r.text
    return dict(r.json())


def _apply(w: World, who: str = "tenant_admin", **body: object) -> dict[str, object]:
    r = w.client.post(f"{API}/programme-applications", json=body, headers=w.h(who))
    assert r.status_code == 201, r.text
    return dict(r.json())


def _review(w: World, app_id: object, **body: object) -> dict[str, object]:
    r = w.client.post(f"{API}/programme-applications/{app_id}/review", json=body, headers=w.h("regulator"))
    assert r.status_code == 200, r.text
    return dict(r.json())


def _custom(w: World, pid: str, **extra: object) -> dict[str, object]:
    body = {"id": pid, "name_zh": "测试", "name_en": "test", "authority": "test", "basis": "bill", "share": "0.5",
            "fund_cny": "1000", **extra}  # fmt: skip
    return _create(w, **body)


def test_the_three_reported_programmes_are_presets_with_sources(w: World) -> None:
    presets = w.client.get(f"{API}/programme-presets", headers=w.h("tenant_user")).json()
    assert {p["key"] for p in presets} == {"shandong-2025", "shanghai-2025", "beijing-2023"}
    for p in presets:
        assert any("FACTS.md §7" in s for s in p["sources"]) and p["assumptions"]
    sd = _create(w, id="sd-2025", preset="shandong-2025")
    assert (sd["label"], sd["basis"], sd["share"], sd["fund_cny"]) == (
        "reported",
        "contract",
        "0.05",
        "30000000.00",
    )
    assert sd["cap_enterprise_cny"] == "5000000.00" and sd["in_province_only"] is True
    sh = _create(w, id="sh-2025", preset="shanghai-2025")
    assert (sh["share"], sh["validity_months"], sh["fund_cny"]) == ("0.3", 12, "600000000.00")
    no_fund = w.client.post(
        f"{API}/programmes", json={"id": "bj", "preset": "beijing-2023"}, headers=w.h("regulator")
    )
    assert no_fund.status_code == 422 and no_fund.json()["detail"][0]["path"] == "body.fund_cny"
    bj = _create(w, id="bj", preset="beijing-2023", fund_cny="10000000")
    assert (
        bj["label"] == "reported"
        and bj["cap_enterprise_year_cny"] == "2000000.00"
        and bj["unaffiliated_only"]
    )
    assert any("not reported: fund_cny" in a for a in bj["assumptions"])  # type: ignore[attr-defined]
    adapted = _create(w, id="sd-10", preset="shandong-2025", share="0.10")
    assert adapted["label"] == "adapted" and any("share" in a for a in adapted["assumptions"])  # type: ignore[attr-defined]
    assert _create(w, id="sd-same", preset="shandong-2025", share="0.050")["label"] == "reported"
    bad = w.client.post(f"{API}/programmes", json={"id": "x", "preset": "mars"}, headers=w.h("regulator"))
    assert bad.status_code == 422 and bad.json()["detail"][0]["path"] == "body.preset"
    dup = w.client.post(
        f"{API}/programmes", json={"id": "sd-2025", "preset": "shandong-2025"}, headers=w.h("admin")
    )
    assert dup.status_code == 409 and "已存在" in dup.text
    for who in ("tenant_admin", "operator", "anon"):
        r = w.client.post(f"{API}/programmes", json={"id": "y", "preset": "shanghai-2025"}, headers=w.h(who))
        assert r.status_code in (401, 403), who
    with w.session() as s:  # the fund is committed: Dr subsidy_fund / Cr programme_fund
        assert ledger.account_balance(s, programme_funds.fund_account("sd-2025")) == 3_000_000_000
        assert ledger.trial_balance(s).balanced


def _meter(s: Session, job: str, pool: str, hours: float, tenant: str = "ta") -> None:
    billing.meter_job(s, job_id=job, tenant_id=tenant, pool_id=pool, started_s=T0, ended_s=T0 + hours * 3600)
    s.commit()


def test_shandong_grant_is_5_percent_of_an_in_province_contract_and_redeems_on_the_bill(wdb: World) -> None:
    w = wdb
    _create(w, id="sd", preset="shandong-2025", opens="2026-01-01T00:00:00Z")
    missing = w.client.post(f"{API}/programme-applications", headers=w.h("tenant_admin"),
                            json={"programme": "sd", "tenant": "ta", "basis_cny": "2000000"})  # fmt: skip
    assert missing.status_code == 422 and missing.json()["detail"][0]["path"] == "body.provider"
    general = w.client.post(f"{API}/programme-applications", headers=w.h("tenant_admin"),
                            json={"programme": "sd", "tenant": "ta", "basis_cny": "2000000", "provider": "enterprise"})  # fmt: skip
    assert general.status_code == 422 and "无符合条件的算力" in general.text  # CPU-only edge center: not AI
    app = _apply(w, programme="sd", tenant="ta", basis_cny="2000000", provider="telecom", city="jinan")
    assert app["status"] == "submitted" and app["granted_cny"] == "0.00"
    granted = _review(w, app["id"], decision="approve", note="ok")
    assert granted["status"] == "granted" and granted["granted_cny"] == "100000.00"  # 5 % of 2 M
    v = w.client.get(f"{API}/vouchers/{granted['voucher']}", headers=w.h("tenant_user")).json()
    assert v["max_share"] == "0.05" and v["centers"] == ["qd-ai"] and v["pools"] == ["qd-ai-910b"]
    again = w.client.post(f"{API}/programme-applications/{app['id']}/review", json={"decision": "reject"},
                          headers=w.h("regulator"))  # fmt: skip
    assert again.status_code == 409 and "已处理" in again.text
    with w.session() as s:
        _meter(s, "j1", "qd-ai-910b", 2.0)  # 240.00 CNY on telecom's AI pool: 5 % = 12.00
        _meter(s, "j2", "jn-sc-cpu", 1.5)  # 9.60 on a CPU pool: not eligible
        inv = billing.create_invoice(s, billing.InvoiceCreate(tenant="ta", month="2026-03"), actor="t")
    assert (inv.voucher_cny, inv.cash_cny) == (Decimal("12.00"), Decimal("237.60"))
    rep = w.client.get(f"{API}/programmes/sd/report", headers=w.h("regulator")).json()
    assert (rep["granted_cny"], rep["redeemed_cny"], rep["compute_bought_cny"]) == (
        "100000.00",
        "12.00",
        "240.00",
    )
    assert rep["enterprises_served"] == 1 and rep["leverage"] == 20.0 and rep["gpu_hours"] > 0
    assert [(c["key"], c["redeemed_cny"]) for c in rep["by_provider_city"]] == [("qingdao", "12.00")]
    assert [(c["key"], c["granted_cny"]) for c in rep["by_enterprise_city"]] == [("jinan", "100000.00")]
    assert [(c["key"], c["enterprises"]) for c in rep["by_industry"]] == [("manufacturing", 1)]
    assert rep["applications"] == {"granted": 1} and "资金使用及成效" in rep["title_zh"]
    st = w.client.post(f"{API}/programmes/sd/settle", headers=w.h("regulator")).json()
    assert [(x["operator"], x["amount_cny"], x["redemptions"]) for x in st] == [("telecom", "12.00", 1)]
    assert (
        w.client.post(f"{API}/programmes/sd/settle", headers=w.h("regulator")).json() == []
    )  # nothing twice
    with w.session() as s:
        tb = ledger.trial_balance(s)
        assert tb.balanced
        assert ledger.account_balance(s, programme_funds.fund_account("sd")) == 3_000_000_000 - 10_000_000
        assert ledger.account_balance(s, programme_funds.disbursed_account("sd")) == 1_200
        assert ledger.account_balance(s, ledger.payable_account("telecom")) == 24_000 - 1_200
        assert (
            ledger.account_balance(s, ledger.voucher_account(str(granted["voucher"]))) == 10_000_000 - 1_200
        )
    assert (
        w.client.get(f"{API}/programmes/sd/report", headers=w.h("regulator")).json()["settled_cny"] == "12.00"
    )
    this_year = datetime.now(UTC).year
    last = w.client.get(f"{API}/programmes/sd/report?year={this_year - 1}", headers=w.h("regulator")).json()
    assert (last["granted_cny"], last["redeemed_cny"], last["enterprises_served"]) == ("0.00", "0.00", 0)
    with w.session() as s:
        ov = programme_report.overview(s, year=this_year)
    assert [(p.id, p.granted_cny, p.redeemed_cny) for p in ov.programmes] == [
        ("sd", Decimal("100000.00"), Decimal("12.00"))
    ]
    assert [(b.key, b.enterprises, b.redeemed_cny) for b in ov.by_industry] == [
        ("manufacturing", 1, Decimal("12.00"))
    ]
    assert [b.key for b in ov.by_provider_city] == ["qingdao"] and ov.enterprises_served == 1


def test_caps_per_enterprise_per_year_and_the_fund(wdb: World) -> None:
    w = wdb
    _custom(w, "p", fund_cny="250", cap_enterprise_cny="180", cap_enterprise_year_cny="100", sectors=["manufacturing", "finance"])  # fmt: skip
    a1 = _apply(w, programme="p", tenant="ta", basis_cny="1000")
    assert _review(w, a1["id"], decision="approve")["granted_cny"] == "100.00"  # year cap binds (share: 500)
    a2 = _apply(w, programme="p", tenant="ta", basis_cny="1000")
    r = w.client.post(
        f"{API}/programme-applications/{a2['id']}/review", json={"decision": "approve"}, headers=w.h("admin")
    )
    assert (
        r.status_code == 409 and r.json()["detail"][0]["path"] == "body.amount_cny" and "年度上限" in r.text
    )
    b1 = _apply(w, "tenant_admin_b", programme="p", tenant="tb", basis_cny="60", requested_cny="25")
    assert _review(w, b1["id"], decision="approve")["granted_cny"] == "25.00"  # asked for less than 30 %
    b2 = _apply(w, "tenant_admin_b", programme="p", tenant="tb", basis_cny="1000")
    assert (
        _review(w, b2["id"], decision="approve", amount_cny="40")["granted_cny"] == "40.00"
    )  # reviewer's amount
    b3 = _apply(w, "tenant_admin_b", programme="p", tenant="tb", basis_cny="1000")
    assert _review(w, b3["id"], decision="approve")["granted_cny"] == "35.00"  # year cap 100 − 65 held
    b4 = _apply(w, "tenant_admin_b", programme="p", tenant="tb", basis_cny="1000")
    assert w.client.post(f"{API}/programme-applications/{b4['id']}/review", json={"decision": "approve"},
                         headers=w.h("regulator")).status_code == 409  # fmt: skip
    prog = w.client.get(f"{API}/programmes/p", headers=w.h("tenant_user")).json()
    assert (prog["remaining_cny"], prog["granted_cny"]) == ("50.00", "200.00")
    # lift the year cap: now the fund binds
    with w.session() as s:
        s.execute(
            update(VoucherProgrammeRow)
            .where(VoucherProgrammeRow.id == "p")
            .values(cap_enterprise_year_fen=None)
        )
        s.commit()
    assert (
        _review(w, a2["id"], decision="approve")["granted_cny"] == "50.00"
    )  # fund left (enterprise cap: 80)
    a3 = _apply(w, programme="p", tenant="ta", basis_cny="1000")
    r = w.client.post(
        f"{API}/programme-applications/{a3['id']}/review",
        json={"decision": "approve"},
        headers=w.h("regulator"),
    )
    assert r.status_code == 409 and "资金余额" in r.text
    # a revoked grant returns what is left to the fund, and the enterprise holds less
    v = w.client.get(f"{API}/programme-applications/{a1['id']}", headers=w.h("tenant_user")).json()["voucher"]
    assert w.client.post(f"{API}/vouchers/{v}/revoke", headers=w.h("regulator")).status_code == 200
    back = w.client.get(f"{API}/programme-applications/{a1['id']}", headers=w.h("tenant_user")).json()
    assert back["returned_cny"] == "100.00"
    assert w.client.get(f"{API}/programmes/p", headers=w.h("admin")).json()["remaining_cny"] == "100.00"
    assert (
        _review(w, a3["id"], decision="approve")["granted_cny"] == "100.00"
    )  # cap 180 − 50 held = 130; fund 100
    with w.session() as s:
        assert ledger.account_balance(s, programme_funds.fund_account("p")) == 0
        assert ledger.trial_balance(s).balanced
        with pytest.raises(IntegrityError):  # the database itself refuses an overdrawn fund
            s.execute(
                update(VoucherProgrammeRow).where(VoucherProgrammeRow.id == "p").values(remaining_fen=-1)
            )
            s.flush()
        s.rollback()
        assert not programme_funds.take(s, "p", 1)


def test_expired_grants_return_to_the_fund(w: World) -> None:
    _custom(w, "p", validity_months=1)
    a = _apply(w, programme="p", tenant="ta", basis_cny="100")
    g = _review(w, a["id"], decision="approve")
    with w.session() as s:
        row = s.get(VoucherRow, str(g["voucher"]))
        assert row is not None
        closed = vouchers.expire(s, by="t", now=row.valid_until_s + 1)
        assert closed == [g["voucher"]]
        assert s.get(VoucherProgrammeRow, "p").remaining_fen == 100_000  # type: ignore[union-attr]
        assert ledger.account_balance(s, programme_funds.fund_account("p")) == 100_000
        assert ledger.account_balance(s, ledger.SUBSIDY_FUND) == -100_000  # not the one-by-one fund
    rep = w.client.get(f"{API}/programmes/p/report", headers=w.h("regulator")).json()
    assert (rep["granted_cny"], rep["returned_cny"], rep["fund_used_share"]) == ("50.00", "50.00", 0.0)


def test_eligibility_sector_size_and_unaffiliated_providers(w: World) -> None:
    _create(w, id="bj", preset="beijing-2023", fund_cny="10000000")
    r = w.client.post(f"{API}/programme-applications", headers=w.h("tenant_admin_b"),
                      json={"programme": "bj", "tenant": "tb", "basis_cny": "1000"})  # fmt: skip
    assert (
        r.status_code == 422 and r.json()["detail"][0]["path"] == "body.tenant" and "行业" in r.text
    )  # finance
    r = w.client.post(f"{API}/programme-applications", headers=w.h("tenant_admin"),
                      json={"programme": "bj", "tenant": "ta", "basis_cny": "1000", "provider": "telecom",
                            "affiliated": ["telecom"]})  # fmt: skip
    assert r.status_code == 422 and r.json()["detail"][0]["path"] == "body.provider" and "关联" in r.text
    a = _apply(w, programme="bj", tenant="ta", basis_cny="10000", affiliated=["telecom"])
    g = _review(w, a["id"], decision="approve")
    assert g["granted_cny"] == "2000.00"  # 20 % (assumed share) of 10,000
    v = w.client.get(f"{API}/vouchers/{g['voucher']}", headers=w.h("regulator")).json()
    assert v["centers"] == ["jn-sc"] and v["pools"] == ["jn-sc-dcu"]  # never the affiliated telecom's qd-ai
    _custom(w, "sme", sme_only=True)
    _apply(w, programme="sme", tenant="ta", basis_cny="10")  # ta is a small or medium enterprise
    with w.session() as s:
        s.execute(update(TenantRow).where(TenantRow.id == "ta").values(is_sme=False))
        s.commit()
    r = w.client.post(f"{API}/programme-applications", headers=w.h("tenant_admin"),
                      json={"programme": "sme", "tenant": "ta", "basis_cny": "10"})  # fmt: skip
    assert r.status_code == 422 and "中小企业" in r.text
    _custom(w, "later", opens="2030-01-01T00:00:00Z")
    r = w.client.post(f"{API}/programme-applications", headers=w.h("tenant_admin"),
                      json={"programme": "later", "tenant": "ta", "basis_cny": "10"})  # fmt: skip
    assert r.status_code == 409 and "申报期" in r.text
    bad = w.client.post(f"{API}/programmes", headers=w.h("regulator"),
                        json={"id": "c", "name_zh": "c", "name_en": "c", "authority": "c", "basis": "bill",
                              "share": "1.5", "fund_cny": "1", "cities": ["mars"]})  # fmt: skip
    assert bad.status_code == 422 and bad.json()["detail"][0]["path"] == "body.share"
    bad = w.client.post(f"{API}/programmes", headers=w.h("regulator"),
                        json={"id": "c", "name_zh": "c", "name_en": "c", "authority": "c", "basis": "bill",
                              "share": "0.5", "fund_cny": "1", "cities": ["jinan", "mars"]})  # fmt: skip
    assert bad.status_code == 422 and bad.json()["detail"][0]["path"] == "body.cities[1]"


def test_bad_input_is_422_naming_the_field(w: World) -> None:
    _custom(w, "p")
    cases = [
        (
            {"programme": "p", "tenant": "ta", "basis_cny": "1", "affiliated": ["x" * 201]},
            "body.affiliated[0]",
        ),
        ({"programme": "p", "tenant": "ta", "basis_cny": "0"}, "body.basis_cny"),
        ({"programme": "p", "tenant": "ta", "basis_cny": "1.001"}, "body.basis_cny"),
        ({"programme": "p", "tenant": "ta", "basis_cny": "1", "city": "mars"}, "body.city"),
        ({"programme": "nope", "tenant": "ta", "basis_cny": "1"}, "body.programme"),
    ]
    for body, path in cases:
        r = w.client.post(f"{API}/programme-applications", json=body, headers=w.h("tenant_admin"))
        assert r.status_code == 422 and r.json()["detail"][0]["path"].startswith(path), (body, r.text)
    a = _apply(w, programme="p", tenant="ta", basis_cny="1")
    r = w.client.post(f"{API}/programme-applications/{a['id']}/review", json={"decision": "maybe"},
                      headers=w.h("regulator"))  # fmt: skip
    assert r.status_code == 422 and r.json()["detail"][0]["path"] == "body.decision"
    r = w.client.post(f"{API}/programmes", headers=w.h("regulator"),
                      json={"id": "q", "preset": "shanghai-2025", "cities": ["Bad City"]})  # fmt: skip
    assert r.status_code == 422 and r.json()["detail"][0]["path"].startswith("body.cities")
    assert w.client.get(f"{API}/programme-applications/pa-nope", headers=w.h("regulator")).status_code == 404
    assert w.client.get(f"{API}/programmes/nope/report", headers=w.h("regulator")).status_code == 404


def test_a_tenant_never_sees_or_acts_on_another_tenants_applications(w: World) -> None:
    _custom(w, "p")
    a = _apply(w, programme="p", tenant="ta", basis_cny="100", note="secret plan")
    for who in ("tenant_user_b", "tenant_admin_b"):
        r = w.client.get(f"{API}/programme-applications/{a['id']}", headers=w.h(who))
        assert r.status_code == 404 and "secret" not in r.text
        listed = w.client.get(f"{API}/programme-applications?tenant=ta", headers=w.h(who)).json()
        assert listed["total"] == 0 and "secret" not in json.dumps(listed)
    assert w.client.get(f"{API}/programme-applications", headers=w.h("tenant_user")).json()["total"] == 1
    r = w.client.post(f"{API}/programme-applications", headers=w.h("tenant_admin_b"),
                      json={"programme": "p", "tenant": "ta", "basis_cny": "100"})  # fmt: skip
    assert r.status_code == 403
    assert w.client.post(f"{API}/programme-applications/{a['id']}/withdraw",
                         headers=w.h("tenant_admin_b")).status_code == 404  # fmt: skip
    assert w.client.post(f"{API}/programme-applications", headers=w.h("tenant_user"),
                         json={"programme": "p", "tenant": "ta", "basis_cny": "1"}).status_code == 403  # fmt: skip
    for who in ("tenant_admin", "tenant_admin_b", "operator"):
        assert w.client.post(f"{API}/programme-applications/{a['id']}/review", json={"decision": "approve"},
                             headers=w.h(who)).status_code == 403, who  # fmt: skip
        assert w.client.get(f"{API}/programmes/p/report", headers=w.h(who)).status_code == 403
    assert w.client.get(f"{API}/programme-applications", headers=w.h("operator")).status_code == 403
    assert w.client.get(f"{API}/programme-applications", headers=w.h("anon")).status_code == 401
    done = w.client.post(f"{API}/programme-applications/{a['id']}/withdraw", headers=w.h("tenant_admin"))
    assert done.status_code == 200 and done.json()["status"] == "withdrawn"
    r = w.client.post(f"{API}/programme-applications/{a['id']}/review", json={"decision": "approve"},
                      headers=w.h("regulator"))  # fmt: skip
    assert r.status_code == 409


def test_cli_programme_flow(w: World) -> None:
    run = CliRunner().invoke
    out = run(cli, ["vouchers", "programme", "presets"])
    assert out.exit_code == 0 and "shandong-2025" in out.stdout and "假设" in out.stdout
    r = run(cli, ["vouchers", "programme", "create", "--id", "sd", "--preset", "shandong-2025", "--opens",
                  "2026-01-01", "--db", w.url, "--json"])  # fmt: skip
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)[0]["label"] == "reported"
    r = run(cli, ["vouchers", "programme", "apply", "--programme", "sd", "--tenant", "ta", "--basis-cny",
                  "100000", "--provider", "telecom", "--db", w.url, "--json"])  # fmt: skip
    assert r.exit_code == 0, r.output
    app_id = json.loads(r.stdout)[0]["id"]
    r = run(
        cli, ["vouchers", "programme", "review", app_id, "--decision", "approve", "--db", w.url, "--json"]
    )
    assert r.exit_code == 0 and json.loads(r.stdout)[0]["granted_cny"] == "5000.00"
    assert app_id in run(cli, ["vouchers", "programme", "applications", "--db", w.url, "--json"]).stdout
    rep = run(cli, ["vouchers", "programme", "report", "sd", "--db", w.url])
    assert rep.exit_code == 0 and "资金使用及成效" in rep.stdout and "5000.00" in rep.stdout
    assert run(cli, ["vouchers", "programme", "settle", "sd", "--db", w.url]).exit_code == 0
    assert "sd" in run(cli, ["vouchers", "programme", "list", "--db", w.url]).stdout
    assert run(cli, ["vouchers", "programme", "close", "sd", "--db", w.url]).exit_code == 0
    ov = run(cli, ["vouchers", "programme", "overview", "--db", w.url, "--json"])
    assert ov.exit_code == 0 and json.loads(ov.stdout)["granted_cny"] == "5000.00"
    bad = run(cli, ["vouchers", "programme", "create", "--id", "x", "--preset", "shandong-2025", "--share", "2",
                    "--db", w.url])  # fmt: skip
    assert bad.exit_code == 2 and "--share" in bad.output
    closed = run(cli, ["vouchers", "programme", "apply", "--programme", "sd", "--tenant", "ta", "--basis-cny", "1",
                       "--provider", "telecom", "--db", w.url])  # fmt: skip
    assert closed.exit_code == 1 and "项目未在申报期" in closed.output
    assert run(cli, ["vouchers", "programme", "show", "nope", "--db", w.url]).exit_code == 1
