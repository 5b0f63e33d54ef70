"""The offerings page (pages/offerings.js) in Chromium: an operator creates a draft on its own pool and publishes
it; an enterprise user finds it in the catalogue (published ones only, no buttons); the regulator reads."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest

from tests.console_support import (
    OPERATOR_CENTER,
    RolePlatform,
    axe_violations,
    login,
    menu,
    missing_keys,
    open_view,
    screenshot,
)


@pytest.mark.browser
def test_operator_publishes_and_a_tenant_finds_it(
    chromium: Any, role_platform: RolePlatform, tmp_path: Path
) -> None:
    oid = f"console-{uuid.uuid4().hex[:8]}"
    pool = role_platform.topo.center(OPERATOR_CENTER).pools[0].id
    page = login(chromium, role_platform, "operator", viewport={"width": 1280, "height": 900})
    try:
        assert "#offerings" in menu(page)
        open_view(page, role_platform, "offerings")
        form = page.locator("#offering-form")
        pools = form.locator("select[name='pool'] option").evaluate_all("os => os.map(o => o.value)")
        assert set(pools) == {p.id for p in role_platform.topo.center(OPERATOR_CENTER).pools}  # its own only
        form.locator("input[name='id']").fill(oid)
        form.locator("select[name='pool']").select_option(pool)
        form.locator("input[name='name_zh']").fill("控制台测试产品")
        form.locator("input[name='name_en']").fill("Console test offering")
        form.locator("input[name='price_cny_per_node_hour']").fill("12.5")
        form.locator("button[type='submit']").click()
        page.wait_for_selector("#offerings-msg")
        assert oid in page.inner_text("#offerings-msg")
        page.click(f"button[data-act='publish'][data-offering='{oid}']")
        page.wait_for_selector(f"button[data-act='withdraw'][data-offering='{oid}']")
        with role_platform.client("operator") as c:
            assert c.get(f"/api/v1/offerings/{oid}").json()["state"] == "published"
        assert missing_keys(page) == [] and axe_violations(page) == []
        screenshot(page, tmp_path, "console-offerings-zh.png")
    finally:
        page.context.close()

    page = login(chromium, role_platform, "enterprise", lang="en", viewport={"width": 1280, "height": 900})
    try:
        open_view(page, role_platform, "offerings")
        page.select_option("#page-offerings select[name='state']", "published")
        row = page.locator("#offerings-table tr", has=page.locator(f"a[href='#offerings/{oid}']"))
        row.wait_for()
        assert "Console test offering" in row.inner_text() and "CN¥12.50" in row.inner_text()
        assert page.locator("#offering-form").count() == 0 and row.locator("button").count() == 0
        row.locator("a").click()
        page.wait_for_selector("text=Offering " + oid)
        assert page.locator("#offering-edit").count() == 0
        assert missing_keys(page) == []
    finally:
        page.context.close()
