"""The tenant admin's console pages (issue #17 item 3) and the platform admin's and regulator's view of them:
users, tokens, quotas and budgets, vouchers, invoices — on the shared role platform (real server, SQLite,
authentication on) in Chromium; and the invoice export route (PDF, CSV) at the API, a rival tenant refused.

Billable usage is made as the dispatcher makes it (``billing.service.meter_job`` for a finished job) in a month
no test has billed yet, then invoiced through the API by the platform admin, after the regulator issued the
tenant a small voucher for that one pool (so the bill is paid partly by it and the voucher shows a redemption).
"""

from __future__ import annotations

import csv
import io
import re
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from huanghe.billing import service as billing
from tests.console_support import (
    RolePlatform,
    axe_violations,
    login,
    menu,
    missing_keys,
    open_view,
    screenshot,
)

API = "/api/v1"
POOL = "ct-jinan-v100"  # 40 CNY per node-hour: 2 h of a whole node = 80 CNY
PAGES = ("users", "tokens", "budgets", "vouchers", "invoices")


def _free_month(platform: RolePlatform) -> str:
    """A month in which neither acme nor rival has an invoice or metered usage yet."""
    with platform.client("admin") as c:
        for year in range(2020, 2026):
            for m in range(1, 13):
                month = f"{year}-{m:02d}"
                if not any(
                    c.get(f"{API}/{what}", params={"tenant": t, "month": month}).json()["total"]
                    for what in ("invoices", "usage")
                    for t in ("acme", "rival")
                ):
                    return month
    raise AssertionError("no free month")


def _meter(platform: RolePlatform, tenant: str, month: str, hours: float) -> str:
    """A finished job of ``tenant`` on POOL in ``month`` (whole node, ``hours`` long), metered; its id."""
    job_id = f"ta-{tenant}-{uuid.uuid4().hex[:10]}"
    start = datetime.strptime(month + "-15T10:00:00", "%Y-%m-%dT%H:%M:%S").replace(tzinfo=UTC).timestamp()
    with platform.app.state.session_factory() as s:
        billing.meter_job(
            s, job_id=job_id, tenant_id=tenant, pool_id=POOL, started_s=start, ended_s=start + hours * 3600
        )
        s.commit()
    return job_id


@pytest.fixture(scope="module")
def billed(role_platform: RolePlatform) -> Iterator[dict[str, Any]]:
    """acme's and rival's invoices of a fresh month; acme's paid 5 CNY by a voucher of POOL only."""
    p = role_platform
    month = _free_month(p)
    jobs = {t: _meter(p, t, month, 2.0) for t in ("acme", "rival")}
    until = (datetime.now(UTC) + timedelta(days=30)).isoformat()
    with p.client("regulator") as reg, p.client("admin") as adm:
        vouchers = {}
        for t in ("acme", "rival"):
            body = {"tenant": t, "amount_cny": "5.00", "max_share": "0.5", "valid_until": until,
                    "pools": [POOL], "note": f"console test {t}"}  # fmt: skip
            r = reg.post(f"{API}/vouchers", json=body)
            assert r.status_code == 201, r.text
            vouchers[t] = r.json()["id"]
        invoices = {}
        for t in ("acme", "rival"):
            r = adm.post(f"{API}/invoices", json={"tenant": t, "month": month})
            assert r.status_code == 201, r.text
            invoices[t] = r.json()
    yield {"month": month, "jobs": jobs, "vouchers": vouchers, "invoices": invoices}


# ---- the invoice export route and the voucher's redemption, at the API ---------------------------------------


def test_invoice_export_pdf_and_csv_own_tenant_only(
    role_platform: RolePlatform, billed: dict[str, Any]
) -> None:
    acme, rival = billed["invoices"]["acme"], billed["invoices"]["rival"]
    assert acme["total_cny"] == "80.00" and acme["voucher_cny"] == "5.00" and acme["cash_cny"] == "75.00"
    path = f"{API}/invoices/{acme['id']}/export"
    with role_platform.client("tenant_admin") as c:
        pdf = c.get(path, params={"format": "pdf"})
        assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
        assert pdf.content.startswith(b"%PDF") and len(pdf.content) > 2000
        assert f'filename="invoice-{acme["id"]}.pdf"' in pdf.headers["content-disposition"]
        text = c.get(path, params={"format": "csv", "lang": "en"})
        assert text.status_code == 200 and text.headers["content-type"].startswith("text/csv")
        rows = list(csv.reader(io.StringIO(text.content.decode("utf-8-sig"))))
        head = {r[0]: r[1] for r in rows[:8]}
        assert (
            head["Invoice"] == str(acme["id"])
            and head["Tenant"] == "acme"
            and head["Month (UTC)"] == billed["month"]
        )
        assert head["Total (CNY)"] == "80.00" and head["Paid by vouchers (CNY)"] == "5.00"
        jobs = rows[rows.index([]) + 2 :]
        assert (
            [r[0] for r in jobs] == [billed["jobs"]["acme"]] and jobs[0][1] == POOL and jobs[0][9] == "80.00"
        )
        zh = c.get(path, params={"format": "csv"}).content.decode("utf-8-sig")
        assert "应付合计（元）,80.00" in zh and "算力券抵扣（元）,5.00" in zh
        # another tenant's invoice: 404 like an absent one, whatever the format; the list leaves it out
        for fmt in ("pdf", "csv"):
            r = c.get(f"{API}/invoices/{rival['id']}/export", params={"format": fmt})
            assert (
                r.status_code == 404
                and r.json()["detail"][0]["message"] == f"invoice '{rival['id']}' not found"
            )
        assert c.get(f"{API}/invoices/{rival['id']}").status_code == 404
        assert rival["id"] not in [
            i["id"] for i in c.get(f"{API}/invoices", params={"tenant": "rival"}).json()["items"]
        ]
        bad = c.get(path, params={"format": "docx"})
        assert bad.status_code == 422 and bad.json()["detail"][0]["path"] == "format"
        assert c.get(path, params={"lang": "fr"}).json()["detail"][0]["path"] == "lang"
        assert c.get(f"{API}/invoices/999999/export").status_code == 404
    with role_platform.client("rival") as c:
        assert c.get(path).status_code == 404
        own = c.get(f"{API}/invoices/{rival['id']}/export", params={"format": "csv"})
        assert own.status_code == 200 and billed["jobs"]["acme"] not in own.text
    with role_platform.client("operator") as c:
        assert c.get(path).status_code == 403
    with role_platform.client("regulator") as c:
        assert c.get(path, params={"format": "csv"}).status_code == 200


def test_voucher_shows_what_it_redeemed(role_platform: RolePlatform, billed: dict[str, Any]) -> None:
    vid = billed["vouchers"]["acme"]
    with role_platform.client("enterprise") as c:
        v = c.get(f"{API}/vouchers/{vid}").json()
        assert v["redeemed_cny"] == "5.00" and v["balance_cny"] == "0.00"
        listed = {x["id"]: x for x in c.get(f"{API}/vouchers").json()["items"]}
        assert listed[vid]["redeemed_cny"] == "5.00" and billed["vouchers"]["rival"] not in listed
        assert c.get(f"{API}/vouchers/{billed['vouchers']['rival']}").status_code == 404
    with role_platform.client("regulator") as c:  # revoking returns nothing more and redeemed stays
        fresh = c.post(f"{API}/vouchers", json={"tenant": "rival", "amount_cny": "3.00", "pools": [POOL],
                                                 "valid_until": "2099-01-01T00:00:00Z"}).json()  # fmt: skip
        gone = c.post(f"{API}/vouchers/{fresh['id']}/revoke").json()
        assert gone["redeemed_cny"] == "0.00" and gone["revoked"]


def test_tenant_admin_gives_tenant_roles_only(role_platform: RolePlatform) -> None:
    uid = f"ci-role-{uuid.uuid4().hex[:6]}"
    with role_platform.client("tenant_admin") as c:
        for role in ("admin", "regulator", "operator"):
            r = c.post(f"{API}/users", json={"id": uid, "name": "x", "tenant": "acme", "role": role})
            assert r.status_code == 403 and "role" in r.json()["detail"][0]["message"], r.text
        assert c.post(f"{API}/users", json={"id": uid, "name": "x", "tenant": "acme"}).status_code == 201
        assert c.patch(f"{API}/users/{uid}", json={"role": "admin"}).status_code == 403
        assert c.patch(f"{API}/users/{uid}", json={"role": "tenant_admin"}).json()["role"] == "tenant_admin"
        # another tenant's user: 404, like an absent one
        assert c.patch(f"{API}/users/rival-user", json={"name": "mine"}).status_code == 404
        assert c.delete(f"{API}/users/{uid}").status_code == 204
    with role_platform.client("admin") as c:  # the platform admin still gives any role
        assert c.post(f"{API}/users", json={"id": uid, "name": "x", "role": "regulator"}).status_code == 201
        assert c.delete(f"{API}/users/{uid}").status_code == 204


def test_tenant_admin_tokens_of_own_tenant_only(role_platform: RolePlatform) -> None:
    """What the Tokens page relies on: a tenant admin lists, makes and revokes its own tenant's tokens only."""
    with role_platform.client("admin") as c:
        rival_ids = [t["id"] for t in c.get(f"{API}/auth/tokens", params={"tenant": "rival"}).json()["items"]]
    assert rival_ids
    with role_platform.client("tenant_admin") as c:
        listed = c.get(f"{API}/auth/tokens", params={"tenant": "rival"}).json()["items"]
        assert listed and {t["tenant"] for t in listed} == {"acme"}  # ?tenant=rival is overridden
        for token_id in rival_ids:
            assert c.delete(f"{API}/auth/tokens/{token_id}").status_code == 404
        other = c.post(f"{API}/auth/tokens", json={"name": "x", "role": "tenant_user", "tenant": "rival"})
        assert other.status_code == 403 and "tenant" in other.json()["detail"][0]["message"]
        high = c.post(f"{API}/auth/tokens", json={"name": "x", "role": "admin"})
        assert high.status_code in (403, 422), high.text
    with role_platform.client("rival") as c:  # the rival's token still works
        assert c.get(f"{API}/auth/whoami").json()["tenant"] == "rival"


# ---- in Chromium ----------------------------------------------------------------------------------------------


def _check(page: Any, problems: list[str], where: str) -> None:
    problems += [f"{where}: missing {k}" for k in missing_keys(page)]
    problems += [f"{where}: axe {v}" for v in axe_violations(page)]


def _text(page: Any, selector: str) -> str:
    return str(page.inner_text(selector))


@pytest.mark.browser
def test_tenant_admin_pages(
    chromium: Any, role_platform: RolePlatform, billed: dict[str, Any], tmp_path: Path
) -> None:
    p = role_platform
    page = login(chromium, p, "tenant_admin", permissions=["clipboard-read", "clipboard-write"])
    problems: list[str] = []
    try:
        assert {f"#{n}" for n in PAGES} <= set(menu(page))

        # tokens: created, its secret shown once (copy works), usable; gone after a reload; revoked → refused
        open_view(page, p, "tokens")
        page.wait_for_selector("#tokens-table")
        roles = page.eval_on_selector_all(
            "#tokens-form select[name='role'] option", "os => os.map(o => o.value)"
        )
        assert roles == ["tenant_user", "tenant_admin"]
        name = f"ci-{uuid.uuid4().hex[:8]}"
        page.fill("#tokens-form input[name='name']", name)
        page.fill("#tokens-form input[name='expiry_days']", "7")
        page.click("#tokens-form button[type='submit']")
        page.wait_for_selector("#token-secret")
        secret = page.input_value("#token-secret")
        assert secret.startswith("hh_") and "关闭或刷新页面后将无法再次查看" in _text(
            page, "#token-secret-box"
        )
        page.click("#token-copy")
        page.wait_for_function("document.getElementById('token-copy-status').innerText === '已复制'")
        assert page.evaluate("navigator.clipboard.readText()") == secret
        row = page.locator("#tokens-table tr", has_text=name)
        assert secret[:10] in row.inner_text() and secret not in _text(page, "#tokens-table")
        me = page.evaluate("HH.whoami.token_id")
        own = page.locator(f"#tokens-table tr[data-id='{me}']")
        assert "当前会话" in own.inner_text() and own.locator("button").count() == 0  # never revoke yourself
        assert "rival" not in _text(page, "#tokens-table")
        _check(page, problems, "tokens zh")
        page.evaluate("window.scrollTo(0, 0)")
        screenshot(page, tmp_path, "console-tokens-zh.png")
        with p.client("tenant_admin") as c:
            who = c.get(f"{API}/auth/whoami", headers={"Authorization": f"Bearer {secret}"})
            assert (
                who.status_code == 200
                and who.json()["tenant"] == "acme"
                and who.json()["role"] == "tenant_user"
            )
        page.reload()
        page.wait_for_selector("#tokens-table")
        assert page.locator("#token-secret").count() == 0 and secret not in page.content()
        row = page.locator("#tokens-table tr", has_text=name)
        row.locator("button[data-act='revoke']").click()
        row.locator("button[data-act='confirm']").click()
        page.wait_for_function("n => [...document.querySelectorAll('#tokens-table tr')].some("
                               "r => r.innerText.includes(n) && r.innerText.includes('已吊销'))", arg=name)  # fmt: skip
        with p.client("tenant_admin") as c:
            refused = c.get(f"{API}/auth/whoami", headers={"Authorization": f"Bearer {secret}"})
            assert refused.status_code == 401

        # users: own tenant only; create, change the role, delete (confirmed in the row)
        open_view(page, p, "users")
        page.wait_for_selector("#users-table")
        listed = _text(page, "#users-table")
        assert "acme-admin" in listed and "acme-user" in listed and "rival-user" not in listed
        assert page.input_value("#users-form input[name='tenant']") == "acme"
        uid = f"ci-user-{uuid.uuid4().hex[:6]}"
        page.fill("#users-form input[name='id']", uid)
        page.fill("#users-form input[name='name']", "测试用户")
        page.click("#users-form button[type='submit']")
        page.wait_for_selector(f"#users-table tr[data-id='{uid}']")
        _check(page, problems, "users zh")
        page.evaluate("window.scrollTo(0, 0)")
        screenshot(page, tmp_path, "console-users-zh.png")
        page.fill("#users-form input[name='id']", "Bad Id!")
        page.fill("#users-form input[name='name']", "x")
        page.click("#users-form button[type='submit']")
        page.wait_for_selector("#users-form-error .alert")
        assert "id:" in _text(page, "#users-form-error")
        row = page.locator(f"#users-table tr[data-id='{uid}']")
        row.locator("button[data-act='edit']").click()
        row.locator("select[name='role']").select_option("tenant_admin")
        row.locator("button[data-act='save']").click()
        page.wait_for_selector(f"#users-table tr[data-id='{uid}'] button[data-act='edit']")
        with p.client("tenant_admin") as c:
            assert c.get(f"{API}/users/{uid}").json()["role"] == "tenant_admin"
        row.locator("button[data-act='delete']").click()
        row.locator("button[data-act='confirm']").click()
        page.wait_for_selector(f"#users-table tr[data-id='{uid}']", state="detached")
        with p.client("tenant_admin") as c:
            assert c.get(f"{API}/users/{uid}").status_code == 404

        # budgets: this month's quota of acme with its use, as the API answers
        open_view(page, p, "budgets")
        page.wait_for_selector("#budgets-quota[data-tenant='acme']")
        with p.client("tenant_admin") as c:
            quota = c.get(f"{API}/quotas/acme").json()
        assert quota["month"] in _text(page, "#budgets-quota") and page.locator(".budget-card").count() == 2
        assert "示例制造 Acme (acme)" in _text(page, "#budgets-quota")  # the tenant's name, GET /tenants/acme
        assert page.locator("#budgets-set, #budgets-data-set, #budgets-all").count() == 0  # the admin's
        _check(page, problems, "budgets zh")
        screenshot(page, tmp_path, "console-budgets-zh.png")

        # vouchers: acme's with what it redeemed; rival's not shown; no issue or revoke for a tenant
        open_view(page, p, "vouchers")
        vid = billed["vouchers"]["acme"]
        page.wait_for_selector(f"#vouchers-table tr[data-id='{vid}']")
        vrow = _text(page, f"#vouchers-table tr[data-id='{vid}']")
        assert "¥5.00" in vrow and "已用完" in vrow and "50 %" in vrow and POOL in vrow
        assert billed["vouchers"]["rival"] not in _text(page, "#vouchers-table")
        # the totals are the server's over every voucher of acme (GET /vouchers:summary), not the page's
        with p.client("tenant_admin") as c:
            totals = c.get(f"{API}/vouchers:summary").json()
        shown = _text(page, "#vouchers-summary [data-sum='redeemed'] .card-value")
        assert re.sub(r"[^0-9.]", "", shown) == totals["redeemed_cny"] and totals["vouchers"] >= 1
        assert (
            page.locator("#vouchers-form").count() == 0
            and page.locator("#page-vouchers button[data-act='revoke']").count() == 0
        )
        _check(page, problems, "vouchers zh")
        screenshot(page, tmp_path, "console-vouchers-zh.png")
        page.click(f"#vouchers-table a[href='#vouchers/{vid}']")
        page.wait_for_selector(f"#voucher-detail[data-id='{vid}']")
        detail = _text(page, "#voucher-detail")
        assert "发放方" in detail and "regulator:regulator" in detail and "¥5.00" in detail

        # invoices in English: read acme's, download it as PDF and CSV; rival's never listed
        page.click("#lang-switch")
        inv = billed["invoices"]["acme"]
        open_view(page, p, f"invoices/{inv['id']}")
        page.wait_for_selector("#invoice-detail")
        detail = _text(page, "#invoice-detail")
        assert (
            f"Invoice {inv['id']}: acme {billed['month']}" in detail
            and "CN¥80.00" in detail
            and POOL in detail
        )
        assert str(billed["invoices"]["rival"]["id"]) not in [
            r
            for r in page.eval_on_selector_all(
                "#invoices-table tr[data-id]", "rs => rs.map(r => r.dataset.id)"
            )
        ]
        for fmt in ("pdf", "csv"):
            with page.expect_download() as dl:
                page.click(f"#invoice-detail button[data-fmt='{fmt}']")
            body = Path(dl.value.path()).read_bytes()
            assert dl.value.suggested_filename == f"invoice-{inv['id']}-{billed['month']}.{fmt}"
            if fmt == "pdf":
                assert body.startswith(b"%PDF")
            else:
                assert (
                    "Total (CNY),80.00" in body.decode("utf-8-sig")
                    and billed["jobs"]["acme"] in body.decode()
                )
        _check(page, problems, "invoices en")
        page.evaluate("window.scrollTo(0, 0)")
        screenshot(page, tmp_path, "console-invoices-en.png")
        for name in ("users", "tokens", "budgets", "vouchers"):
            open_view(page, p, name)
            page.wait_for_selector(f"#page-{name} .table-wrap, #page-{name} .budget-card")
            problems += [f"{name} en: missing {k}" for k in missing_keys(page)]  # axe: in zh above (same DOM)
        assert problems == [], "\n".join(problems)
    finally:
        page.context.close()


@pytest.mark.browser
def test_enterprise_user_and_operator_see_what_the_policy_allows(
    chromium: Any, role_platform: RolePlatform, billed: dict[str, Any]
) -> None:
    p = role_platform
    page = login(chromium, p, "enterprise")
    try:
        shown = set(menu(page))
        assert {"#budgets", "#vouchers", "#invoices"} <= shown and not {"#users", "#tokens"} & shown
        open_view(page, p, "invoices")
        page.wait_for_selector("#invoices-table tr[data-id]")
        ids = page.eval_on_selector_all("#invoices-table tr[data-id]", "rs => rs.map(r => r.dataset.id)")
        assert (
            str(billed["invoices"]["acme"]["id"]) in ids and str(billed["invoices"]["rival"]["id"]) not in ids
        )
        assert (
            page.locator("#invoices-create").count() == 0
            and page.locator("#invoices-tenant-filter").count() == 0
            and page.locator("#invoices-ledger").count() == 0
        )
        open_view(page, p, "vouchers")
        page.wait_for_selector(f"#vouchers-table tr[data-id='{billed['vouchers']['acme']}']")
        assert billed["vouchers"]["rival"] not in _text(page, "#vouchers-table")
        open_view(page, p, "users")  # not in the menu; the page says the role may not
        page.wait_for_selector("#page-users .alert.auth")
        problems: list[str] = []
        _check(page, problems, "enterprise")
        assert problems == [], "\n".join(problems)
    finally:
        page.context.close()
    page = login(chromium, p, "operator")
    try:
        assert not {f"#{n}" for n in PAGES} & set(menu(page))
    finally:
        page.context.close()


@pytest.mark.browser
def test_regulator_and_admin_see_every_tenant(
    chromium: Any, role_platform: RolePlatform, billed: dict[str, Any]
) -> None:
    p = role_platform
    tenant = f"0ci-{uuid.uuid4().hex[:6]}"  # sorts first: on the first page of tenants
    with p.client("admin") as c:
        made = c.post(f"{API}/tenants", json={"id": tenant, "name": "控制台测试", "sector": "retail"})
        assert made.status_code == 201, made.text
    page = login(chromium, p, "regulator")
    problems: list[str] = []
    try:
        assert {f"#{n}" for n in PAGES} <= set(menu(page))
        open_view(page, p, "users")
        page.wait_for_selector("#users-table")
        listed = _text(page, "#users-table")
        assert "acme-admin" in listed and "rival-user" in listed and page.locator("#users-form").count() == 0
        page.select_option("#users-tenant-filter", "rival")
        page.wait_for_function("!document.getElementById('users-table').innerText.includes('acme-admin')")
        open_view(page, p, "tokens")
        page.wait_for_selector("#tokens-table")
        assert page.locator("#tokens-form").count() == 0 and page.locator("#tokens-table button").count() == 0
        # issue a voucher to the new tenant through the form, then revoke it in its row
        open_view(page, p, "vouchers")
        page.wait_for_selector("#vouchers-form")
        page.select_option("#vouchers-form select[name='tenant']", tenant)
        page.fill("#vouchers-form input[name='amount_cny']", "12.5")
        page.fill("#vouchers-form input[name='max_share']", "40")
        page.click("#vouchers-form button[type='submit']")
        page.wait_for_selector("#page-vouchers .ok-line")
        with p.client("regulator") as c:
            mine = c.get(f"{API}/vouchers", params={"tenant": tenant}).json()["items"]
        assert len(mine) == 1 and mine[0]["amount_cny"] == "12.50" and mine[0]["max_share"] == "0.4"
        row = page.locator(f"#vouchers-table tr[data-id='{mine[0]['id']}']")
        assert "¥12.50" in row.inner_text()
        row.locator("button[data-act='revoke']").click()
        row.locator("button[data-act='confirm']").click()
        page.wait_for_function(
            "id => (document.querySelector(`#vouchers-table tr[data-id='${id}']`) || {}).innerText.includes('已撤销')",
            arg=mine[0]["id"],
        )
        _check(page, problems, "regulator vouchers")
        open_view(page, p, "invoices")
        page.wait_for_selector(f"#invoices-table tr[data-id='{billed['invoices']['rival']['id']}']")
        assert "借贷平衡" in _text(page, "#invoices-ledger")  # the ledger's check, GET /ledger/balances
    finally:
        page.context.close()
    page = login(chromium, p, "admin")
    try:  # the platform admin sets the new tenant's limits from the budgets page
        open_view(page, p, "budgets")
        page.wait_for_selector("#budgets-all")
        page.click(f"#budgets-all button[data-tenant='{tenant}']")
        page.wait_for_selector(f"#budgets-quota[data-tenant='{tenant}']")
        q: dict[str, Any] = {}
        for _ in range(3):  # a late redraw of the form (its data still loading) may clear what was typed
            page.fill("#budgets-set input[name='gpu_hours_per_month']", "100")
            page.fill("#budgets-set input[name='budget_cny_per_month']", "2500.5")
            page.evaluate("document.querySelectorAll('#page-budgets .ok-line').forEach((e) => e.remove())")
            page.click("#budgets-set button[type='submit']")
            page.wait_for_selector("#page-budgets .ok-line")  # the answer to this save, not an earlier one
            with p.client("admin") as c:
                q = c.get(f"{API}/quotas/{tenant}").json()
            if q["gpu_hours_per_month"] == 100:
                break
        assert q["gpu_hours_per_month"] == 100 and q["budget_cny_per_month"] == "2500.50"
        assert "¥2,500.50" in _text(page, "#budgets-quota")
        # a data quota on all endpoints together, then removed (confirmed in its row)
        page.select_option("#budgets-data-set select[name='endpoint']", "*")
        page.fill("#budgets-data-set input[name='limit_gib']", "2")
        page.click("#budgets-data-set button[type='submit']")
        page.wait_for_selector("#budgets-data tr[data-endpoint='*']")
        with p.client("admin") as c:
            dq = c.get(f"{API}/data-quotas", params={"tenant": tenant}).json()["items"]
        assert [(d["endpoint"], d["limit_bytes"]) for d in dq] == [("*", 2 * 1024**3)]
        assert "2 GiB" in _text(page, "#budgets-data")
        _check(page, problems, "admin budgets")
        page.click("#budgets-data tr[data-endpoint='*'] button[data-act='delete']")
        page.click("#budgets-data tr[data-endpoint='*'] button[data-act='confirm']")
        page.wait_for_selector("#budgets-data tr[data-endpoint='*']", state="detached")
        with p.client("admin") as c:
            assert c.get(f"{API}/data-quotas", params={"tenant": tenant}).json()["items"] == []
        open_view(page, p, "tokens")
        roles = page.eval_on_selector_all(
            "#tokens-form select[name='role'] option", "os => os.map(o => o.value)"
        )
        assert set(roles) == {"tenant_user", "tenant_admin", "operator", "regulator", "admin"}
        assert problems == [], "\n".join(problems)
    finally:
        page.context.close()
