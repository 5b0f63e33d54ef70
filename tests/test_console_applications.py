"""The applications page (pages/applications.js) in Chromium: a tenant admin applies to an open voucher programme
and withdraws the application; a user of the same tenant follows it without the buttons; another tenant does
not see it."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest

from tests.console_support import (
    RolePlatform,
    axe_violations,
    login,
    menu,
    missing_keys,
    open_view,
    screenshot,
)


@pytest.mark.browser
def test_tenant_admin_applies_and_withdraws(
    chromium: Any, role_platform: RolePlatform, tmp_path: Path
) -> None:
    prog = f"console-prog-{uuid.uuid4().hex[:8]}"
    body = {"id": prog, "name_zh": "控制台测试计划", "name_en": "Console test programme", "authority": "山东省",
            "basis": "bill", "share": "0.5", "fund_cny": "100000"}  # fmt: skip
    with role_platform.client("regulator") as reg:
        assert reg.post("/api/v1/programmes", json=body).status_code == 201
    page = login(chromium, role_platform, "tenant_admin", viewport={"width": 1280, "height": 900})
    try:
        assert "#applications" in menu(page)
        open_view(page, role_platform, "applications")
        form = page.locator("#application-form")
        form.locator("select[name='programme']").select_option(prog)
        form.locator("input[name='basis_cny']").fill("3000")
        form.locator("select[name='city']").select_option("jinan")
        form.locator("button[type='submit']").click()
        page.wait_for_selector("#applications-msg")
        app_id = page.inner_text("#applications-msg").split()[-1]
        with role_platform.client("tenant_admin") as c:
            app = c.get(f"/api/v1/programme-applications/{app_id}").json()
        assert app["programme"] == prog and app["tenant"] == "acme" and app["status"] == "submitted"
        row = page.locator("#applications-table tr", has=page.locator(f"a[href='#applications/{app_id}']"))
        assert "待审核" in row.inner_text() and "¥3,000.00" in row.inner_text()
        assert missing_keys(page) == [] and axe_violations(page) == []
        screenshot(page, tmp_path, "console-applications-zh.png")
        row.locator("button[data-act='withdraw']").click()
        page.wait_for_function(
            "id => document.getElementById('applications-msg')?.innerText.includes(id)", arg=app_id
        )
        with role_platform.client("tenant_admin") as c:
            assert c.get(f"/api/v1/programme-applications/{app_id}").json()["status"] == "withdrawn"
    finally:
        page.context.close()

    page = login(chromium, role_platform, "enterprise", lang="en", viewport={"width": 1280, "height": 900})
    try:
        open_view(page, role_platform, f"applications/{app_id}")
        page.wait_for_selector(f"text=Application {app_id}")
        assert (
            "Withdrawn" in page.inner_text("#page-applications")
            and page.locator("#page-applications button").count() == 0
        )
        open_view(page, role_platform, "applications")
        page.wait_for_selector("#applications-table")
        assert page.locator("#application-form").count() == 0 and missing_keys(page) == []
    finally:
        page.context.close()

    page = login(chromium, role_platform, "rival", viewport={"width": 1280, "height": 900})
    try:
        open_view(page, role_platform, "applications")
        page.wait_for_selector("#applications-table")
        assert app_id not in page.inner_text("#applications-table")
    finally:
        page.context.close()


@pytest.mark.browser
def test_programme_sectors_shown_by_their_names(chromium: Any, role_platform: RolePlatform) -> None:
    """A programme's eligible sectors, in the open programmes' table and on the programme's own page: the `算力+`
    industries' names in the current language (GET /api/v1/industries), never the raw keys."""
    uid = uuid.uuid4().hex[:8]
    prog, name, keys = f"console-sect-{uid}", f"行业名称测试 {uid}", ["manufacturing", "finance"]
    body = {"id": prog, "name_zh": name, "name_en": f"Sector names {uid}", "authority": "山东省",
            "basis": "bill", "share": "0.5", "fund_cny": "100000", "sectors": keys}  # fmt: skip
    with role_platform.client("regulator") as reg:
        made = reg.post("/api/v1/programmes", json=body)
        assert made.status_code == 201, made.text
        assert made.json()["sectors"] == keys
        industries = {x["key"]: x for x in reg.get("/api/v1/industries").json()}
    for lang, sep, field, title in (
        ("zh-CN", "、", "name_zh", name),
        ("en", ", ", "name_en", body["name_en"]),
    ):
        want = sep.join(industries[k][field] for k in keys)
        page = login(
            chromium, role_platform, "enterprise", lang=lang, viewport={"width": 1280, "height": 900}
        )
        try:
            open_view(page, role_platform, "applications")
            row = page.locator(
                "#applications-programmes tr", has=page.locator(f"a[href='#applications/p/{prog}']")
            )
            cells = row.locator(".programme-sectors")
            cells.wait_for()
            assert cells.inner_text() == want
            shown = cells.locator("[data-sector]")
            assert shown.evaluate_all("ns => ns.map(n => [n.dataset.sector, n.innerText])") == [
                [k, industries[k][field]] for k in keys
            ]
            assert cells.locator(".sector-unlisted").count() == 0
            if lang == "zh-CN":  # the names hold no latin letters: no key anywhere in the row
                assert not any(k in row.inner_text() for k in keys)
                assert axe_violations(page) == []
            open_view(page, role_platform, f"applications/p/{prog}")
            page.wait_for_selector(f"#page-applications h2:text-is('{title}')")
            assert page.inner_text("#page-applications .programme-sectors") == want
            assert missing_keys(page) == []
        finally:
            page.context.close()
