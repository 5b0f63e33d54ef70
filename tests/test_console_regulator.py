"""The regulator's console pages in Chromium on the shared role platform (authentication on): Audit (verify the
hash chain, search the trail, export it), Projects (a project an operator filed, reviewed and approved with a
comment; its progress), Programmes (vouchers issued and redeemed per sector and per city) and Alerts (open →
acknowledged → resolved in the page; an operator sees its own centers' alerts only). Enterprise users have none
of these pages and the API refuses them. Every page: no missing translation in zh-CN and English, no serious
or critical axe-core violation, a screenshot."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from huanghe.billing import service as billing
from huanghe.regulator import risk
from tests.console_support import (
    OPERATOR_CENTER,
    RolePlatform,
    axe_violations,
    login,
    menu,
    missing_keys,
    open_view,
    screenshot,
    wait_for,
)

PAGES = ("#audit", "#projects", "#programmes", "#alerts")
T0 = datetime(2024, 5, 1, tzinfo=UTC).timestamp()  # usage of the platform's own tenants never falls here


def _uid() -> str:
    return uuid.uuid4().hex[:6]


def _shot(page: Any, tmp_path: Path, name: str) -> None:
    """A full-page screenshot from the top (the sticky top bar would otherwise sit mid-image)."""
    page.evaluate("window.scrollTo(0, 0)")
    screenshot(page, tmp_path, name)


def _both_languages_complete(page: Any) -> None:
    """No key missing in zh-CN, then switch to English (the page re-renders): none missing there either."""
    assert missing_keys(page) == []
    page.click("#lang-switch")
    page.wait_for_function("HH.lang === 'en'")
    page.wait_for_timeout(300)
    assert missing_keys(page) == []
    assert axe_violations(page) == []


@pytest.mark.browser
def test_enterprise_users_have_none_of_the_regulator_pages(
    chromium: Any, role_platform: RolePlatform
) -> None:
    refused = ["/api/v1/audit", "/api/v1/audit/verify", "/api/v1/audit/export", "/api/v1/projects",
               "/api/v1/programme-stats", "/api/v1/alerts"]  # fmt: skip
    for role in ("enterprise", "tenant_admin", "rival"):
        with role_platform.client(role) as c:
            assert [c.get(p).status_code for p in refused] == [403] * len(refused), role
    page = login(chromium, role_platform, "enterprise")
    try:
        shown = menu(page)
        assert "#jobs" in shown and not set(PAGES) & set(shown), shown
    finally:
        page.context.close()
    page = login(chromium, role_platform, "operator")
    try:
        op_menu = set(menu(page))
        assert {"#projects", "#alerts"} <= op_menu and not {"#audit", "#programmes"} & op_menu, op_menu
    finally:
        page.context.close()


@pytest.mark.browser
def test_regulator_verifies_searches_and_exports_the_audit_trail(
    chromium: Any, role_platform: RolePlatform, tmp_path: Path
) -> None:
    pid = f"rg-aud-{_uid()}"
    body = {
        "id": pid,
        "name": "审计检索",
        "operator": "inspur",
        "centers": [OPERATOR_CENTER],
        "investment_cny": "1",
    }
    with role_platform.client("operator") as c:
        assert c.post("/api/v1/projects", json=body).status_code == 201
    page = login(chromium, role_platform, "regulator", viewport={"width": 1280, "height": 900})
    try:
        assert set(PAGES) <= set(menu(page))
        open_view(page, role_platform, "audit")
        page.wait_for_selector("#audit-table tbody tr")
        page.click("#audit-verify")
        result = page.wait_for_selector("#audit-verify-result[data-state]")
        assert result.get_attribute("data-state") == "ok", result.inner_text()
        assert "哈希链完整" in result.inner_text()
        page.fill("#audit-search input[name='subject']", pid)
        page.fill("#audit-search input[name='action']", "project.file")
        page.click("#audit-search button[type='submit']")
        wait_for("the search", lambda: page.locator("#audit-table tbody tr").count() == 1
                 and pid in page.inner_text("#audit-table tbody"))  # fmt: skip
        assert "operator:operator#" in page.inner_text("#audit-table tbody")
        page.fill("#audit-search input[name='since']", "2000-01-01T00:00")
        page.fill("#audit-search input[name='until']", "2000-01-02T00:00")
        page.click("#audit-search button[type='submit']")
        page.wait_for_selector("#audit-table tbody tr.empty")
        page.click("#audit-search button[type='reset']")
        wait_for("the whole trail", lambda: page.locator("#audit-table tbody tr:not(.empty)").count() > 1)
        with page.expect_download() as download:
            page.click("#audit-export")
        path = download.value.path()
        text = Path(path).read_text(encoding="utf-8")
        assert download.value.suggested_filename == "huanghe-audit.csv"
        assert text.startswith("seq,at,actor,action,subject,payload,prev_hash,hash") and pid in text
        assert axe_violations(page) == []
        _shot(page, tmp_path, "console-audit-zh.png")
        _both_languages_complete(page)
        assert "The chain is intact" in page.inner_text("#audit-verify-result")
    finally:
        page.context.close()


@pytest.mark.browser
def test_regulator_reviews_and_approves_a_project_the_operator_filed(
    chromium: Any, role_platform: RolePlatform, tmp_path: Path
) -> None:
    pid = f"rg-prj-{_uid()}"
    body = {"id": pid, "name": "济南智算中心二期", "operator": "浪潮 Inspur", "centers": [OPERATOR_CENTER],
            "investment_cny": "350000000.00", "description": "新增 2,000 张加速卡"}  # fmt: skip
    with role_platform.client("operator") as c:
        assert c.post("/api/v1/projects", json=body).status_code == 201
    with role_platform.client("regulator") as c:  # the regulator may not file one
        assert c.post("/api/v1/projects", json={**body, "id": pid + "x"}).status_code == 403
    page = login(chromium, role_platform, "regulator", viewport={"width": 1280, "height": 900})
    try:
        open_view(page, role_platform, "projects")
        page.select_option("#projects-status", "filed")
        page.wait_for_selector(f"#projects-table a[data-id='{pid}']")
        assert page.locator("#projects-file").count() == 0  # no filing form for the regulator
        page.click(f"#projects-table a[data-id='{pid}']")
        page.wait_for_selector(f"#projects-detail[data-id='{pid}'][data-status='filed']")
        assert page.locator("#projects-detail button[data-to='building']").count() == 0
        page.fill("#projects-comment", "材料齐全，符合规划")
        page.click("#projects-detail button[data-to='reviewed']")
        page.wait_for_selector("#projects-detail[data-status='reviewed']")
        page.fill("#projects-comment", "同意立项")
        page.click("#projects-detail button[data-to='approved']")
        page.wait_for_selector("#projects-detail[data-status='approved']")
        history = page.inner_text("#projects-history")
        assert "材料齐全，符合规划" in history and "同意立项" in history and "regulator:regulator#" in history
        assert page.locator("#projects-history tbody tr").count() == 3
        assert (
            page.locator("#projects-detail button[data-to]").count() == 0
        )  # building is the operator's step
        assert axe_violations(page) == []
        _shot(page, tmp_path, "console-projects-zh.png")
        _both_languages_complete(page)
        assert "Approved" in page.inner_text("#projects-detail")
    finally:
        page.context.close()
    with role_platform.client("regulator") as c:
        assert c.get(f"/api/v1/projects/{pid}").json()["status"] == "approved"
    page = login(chromium, role_platform, "operator")  # the operator follows it and takes the next step
    try:
        open_view(page, role_platform, f"projects/{pid}")
        page.wait_for_selector("#projects-detail[data-status='approved']")
        assert page.locator("#projects-detail button[data-to]").all_inner_texts() == ["开工建设"]
        assert page.locator("#projects-file").count() == 0 or page.locator("#projects-detail").count() == 1
    finally:
        page.context.close()


def _programme_with_vouchers(platform: RolePlatform) -> tuple[str, dict[str, str]]:
    """A programme, two new tenants (manufacturing in Jinan, finance in Qingdao) granted vouchers through the
    API, and the first one's bill of May 2024 paid in part by its voucher. Returns (programme, tenant ids)."""
    uid = _uid()
    prog, tenants = f"rg-prog-{uid}", {"manufacturing": f"rg-mf-{uid}", "finance": f"rg-fn-{uid}"}
    body = {"id": prog, "name_zh": "测试算力券", "name_en": "Test vouchers", "authority": "山东省", "basis": "bill",
            "share": "0.5", "fund_cny": "100000"}  # fmt: skip
    with platform.client("admin") as admin, platform.client("regulator") as reg:
        for sector, tid in tenants.items():
            assert (
                admin.post("/api/v1/tenants", json={"id": tid, "name": tid, "sector": sector}).status_code
                == 201
            )
        assert reg.post("/api/v1/programmes", json=body).status_code == 201
        for (sector, tid), (city, basis) in zip(
            tenants.items(), (("jinan", "4000"), ("qingdao", "2000")), strict=True
        ):
            app = {"programme": prog, "tenant": tid, "basis_cny": basis, "city": city}
            r = admin.post("/api/v1/programme-applications", json=app)
            assert r.status_code == 201, r.text
            if sector == "manufacturing":
                done = reg.post(
                    f"/api/v1/programme-applications/{r.json()['id']}/review", json={"decision": "approve"}
                )
                assert done.json()["status"] == "granted", done.text
        pool = f"{OPERATOR_CENTER}-a800"  # a GPU pool of the bundled network
        with platform.app.state.session_factory() as s:
            billing.meter_job(s, job_id=f"rg-job-{uid}", tenant_id=tenants["manufacturing"], pool_id=pool,
                              started_s=T0, ended_s=T0 + 3 * 3600)  # fmt: skip
            s.commit()
        inv = admin.post("/api/v1/invoices", json={"tenant": tenants["manufacturing"], "month": "2024-05"})
        assert inv.status_code == 201 and float(inv.json()["voucher_cny"]) > 0, inv.text
    return prog, tenants


@pytest.mark.browser
def test_regulator_sees_programme_statistics_per_sector_and_city(
    chromium: Any, role_platform: RolePlatform, tmp_path: Path
) -> None:
    prog, tenants = _programme_with_vouchers(role_platform)
    page = login(chromium, role_platform, "regulator", lang="en", viewport={"width": 1280, "height": 1000})
    try:
        open_view(page, role_platform, "programmes")
        page.wait_for_selector(f"#programmes-pick option[value='{prog}']", state="attached")
        # the finance tenant's application is reviewed in the page
        app_ids = page.eval_on_selector_all(
            "#programmes-apps span[data-app]", "els => els.map(e => e.dataset.app)"
        )
        with role_platform.client("regulator") as c:
            mine = c.get(
                "/api/v1/programme-applications", params={"programme": prog, "status": "submitted"}
            ).json()
        (pending,) = mine["items"]
        assert pending["id"] in app_ids
        page.fill(f"#programmes-apps span[data-app='{pending['id']}'] input.note", "eligible")
        page.click(f"#programmes-apps span[data-app='{pending['id']}'] button[data-act='approve']")
        page.wait_for_selector("#programmes-note:has-text('granted')")
        page.select_option("#programmes-pick", prog)
        wait_for("the programme's statistics", lambda: "vouchers: 2" in page.inner_text("#programmes-stats"))
        sector = page.inner_text("#programmes-by-sector")
        assert "manufacturing" in sector and "finance" in sector
        assert "CN¥2,000.00" in sector and "CN¥1,000.00" in sector  # half of the basis, each
        cities = page.inner_text("#programmes-by-city")
        assert "Jinan" in cities and "Qingdao" in cities
        with role_platform.client("regulator") as c:
            st = c.get("/api/v1/programme-stats", params={"programme": prog}).json()
        assert st["vouchers_issued"] == 2 and st["vouchers_redeemed"] == 1
        redeemed = page.evaluate("v => HH.money(Number(v))", st["redeemed_cny"])
        assert redeemed in page.inner_text("#programmes-by-city") and redeemed in page.inner_text(
            "#programmes-by-provider-city"
        )
        assert missing_keys(page) == [] and axe_violations(page) == []
        _shot(page, tmp_path, "console-programmes-en.png")
        page.click("#lang-switch")
        page.wait_for_function("HH.lang === 'zh-CN'")
        page.wait_for_timeout(300)
        assert missing_keys(page) == [] and "按行业" in page.inner_text("#programmes-stats")
        open_view(page, role_platform, f"programmes/{prog}")
        page.wait_for_selector(f"#programmes-report[data-id='{prog}']")
        assert "资金使用及成效" in page.inner_text("#programmes-report") and missing_keys(page) == []
    finally:
        page.context.close()
    assert tenants


def _open_alert(platform: RolePlatform) -> int:
    """A utilisation of 97 % pushed by the operator for its center, the rules evaluated: the open alert's id."""
    subject = f"center:{OPERATOR_CENTER}"
    with platform.client("regulator") as reg, platform.client("operator") as op:
        # the simulated history is written first (else its samples, newer than ours, would resolve the alert)
        series = {"metric": "utilisation", "center": OPERATOR_CENTER, "step": "5m"}
        wait_for("simulated telemetry", lambda: reg.get("/api/v1/telemetry", params=series).json()["points"])
        for a in reg.get("/api/v1/alerts", params={"subject": subject, "rule": "utilisation_high"}).json()[
            "items"
        ]:
            if a["subject"] == subject and a["state"] != "resolved":  # left by another test: start afresh
                assert reg.post(f"/api/v1/alerts/{a['id']}:resolve").status_code == 200
        sample = {"center": OPERATOR_CENTER, "metric": "utilisation", "time": datetime.now(UTC).isoformat(),
                  "value": 0.97, "unit": "ratio"}  # fmt: skip
        assert op.post("/api/v1/telemetry", json={"samples": [sample]}).status_code == 201
        platform.app.state.telemetry_runtime.maintain()
        found = reg.get(
            "/api/v1/alerts", params={"state": "open", "rule": "utilisation_high", "subject": subject}
        )
        (alert,) = [a for a in found.json()["items"] if a["subject"] == subject]
        own = op.get("/api/v1/alerts", params={"limit": 1000}).json()["items"]
        assert own and all(a["center"] == OPERATOR_CENTER for a in own)
        return int(alert["id"])


def _risk_alert(platform: RolePlatform) -> int:
    """A security risk alert as the risk loop raises it (refused requests of one principal): its id."""
    now = time.time()
    with platform.app.state.session_factory() as s:
        row, opened = risk.raise_alert(s, "refused_requests", f"token:rg-{_uid()}", "medium",
                                       "12 refused requests in 5 min", events=12, first_s=now - 300, last_s=now,
                                       now=now)  # fmt: skip
        s.commit()
        assert opened
        return int(row.id)


@pytest.mark.browser
def test_alert_life_cycle_in_the_page(chromium: Any, role_platform: RolePlatform, tmp_path: Path) -> None:
    alert_id = _open_alert(role_platform)
    page = login(chromium, role_platform, "operator", viewport={"width": 1280, "height": 900})
    try:
        open_view(page, role_platform, "alerts")
        page.select_option("#alerts-filters select[name='rule']", "utilisation_high")
        row = f"#alerts-table tr[data-id='{alert_id}']"
        page.wait_for_selector(f"{row} [data-state='open']")
        with role_platform.client("operator") as op:
            own = {a["id"] for a in op.get("/api/v1/alerts", params={"limit": 1000}).json()["items"]}
        shown = {
            int(x)
            for x in page.eval_on_selector_all(
                "#alerts-table tr[data-id]", "els => els.map(e => e.dataset.id)"
            )
        }
        assert alert_id in shown and shown <= own  # nothing of another center
        page.click(f"{row} button[data-act='ack']")
        page.wait_for_selector(f"{row} [data-state='acknowledged']")
        assert page.locator(f"{row} button[data-act='ack']").count() == 0
        page.click(f"{row} button[data-act='resolve']")
        wait_for("resolved", lambda: page.locator(f"{row} [data-state='resolved']").count() == 1)
        assert page.locator(f"{row} button").count() == 0
        _both_languages_complete(page)
    finally:
        page.context.close()
    page = login(chromium, role_platform, "regulator", viewport={"width": 1280, "height": 900})
    try:
        open_view(page, role_platform, f"alerts/{alert_id}")
        page.wait_for_selector(f"#alerts-detail[data-id='{alert_id}'][data-state='resolved']")
        page.select_option("#alerts-filters select[name='state']", "resolved")
        page.wait_for_selector(f"#alerts-table tr[data-id='{alert_id}']")
        assert "已解决" in page.inner_text(f"#alerts-table tr[data-id='{alert_id}']")
        risk_id = _risk_alert(role_platform)  # a security risk alert: taken, assigned, resolved with a note
        page.reload()
        page.click(f"#risk-table button[data-risk-open='{risk_id}']")
        page.wait_for_selector(f"#risk-detail[data-id='{risk_id}'][data-state='open']")
        page.click("#risk-detail button[data-risk='ack']")
        page.wait_for_selector(f"#risk-detail[data-id='{risk_id}'][data-state='acknowledged']")
        page.fill("#risk-detail input[name='owner']", "安全值班 duty")
        page.click("#risk-detail button[data-risk='assign']")
        wait_for("assigned", lambda: "安全值班 duty" in page.inner_text("#risk-table"))
        page.fill("#risk-detail textarea[name='note']", "封禁来源地址 blocked the source")
        page.click("#risk-detail button[data-risk='resolve']")
        page.wait_for_selector(f"#risk-detail[data-id='{risk_id}'][data-state='resolved']")
        assert "blocked the source" in page.inner_text("#risk-detail")
        with role_platform.client("regulator") as c:  # every step is in the audit trail
            trail = c.get("/api/v1/audit", params={"subject": str(risk_id), "actor": "regulator:"}).json()[
                "items"
            ]
        steps = [r["action"] for r in trail if r["subject"] == str(risk_id)]
        assert steps == ["risk.ack", "risk.assign", "risk.resolve"], trail
        assert missing_keys(page) == [] and axe_violations(page) == []
        _shot(page, tmp_path, "console-alerts-zh.png")
    finally:
        page.context.close()
