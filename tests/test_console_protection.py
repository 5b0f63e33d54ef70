"""The protection page (pages/protection.js) in Chromium: the regulator registers an important dataset of a tenant
in the catalog with its allowed centers; the operator has no such page; tenants neither."""

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
def test_regulator_registers_an_important_dataset(
    chromium: Any, role_platform: RolePlatform, tmp_path: Path
) -> None:
    ds = f"console-important-{uuid.uuid4().hex[:8]}"
    body = {"id": ds, "tenant": "acme", "name": "重要数据", "center": OPERATOR_CENTER, "size_gb": 1,
            "data_class": "important"}  # fmt: skip
    with role_platform.client("tenant_admin") as c:
        r = c.post("/api/v1/datasets", json=body)
        assert r.status_code == 201, r.text
    allowed = next(c.id for c in role_platform.topo.centers if c.id != OPERATOR_CENTER)
    page = login(chromium, role_platform, "regulator", viewport={"width": 1280, "height": 900})
    try:
        assert "#protection" in menu(page)
        open_view(page, role_platform, "protection")
        form = page.locator("#protection-form")
        form.locator("input[name='dataset']").fill(ds)
        form.locator("input[name='owner']").fill("示例制造 Acme")
        form.locator("select[name='allowed_centers']").select_option([allowed])
        form.locator("textarea[name='purpose']").fill("模型训练")
        form.locator("button[type='submit']").click()
        page.wait_for_selector("#protection-msg")
        row = page.locator("#protection-table tr", has_text=ds)
        assert "重要数据" in row.inner_text() and "模型训练" in row.inner_text()
        with role_platform.client("regulator") as c:
            entry = next(
                e
                for e in c.get("/api/v1/protection", params={"limit": 500}).json()["items"]
                if e["dataset"] == ds
            )
        assert entry["allowed_centers"] == [allowed] and entry["location"] == OPERATOR_CENTER
        assert missing_keys(page) == [] and axe_violations(page) == []
        screenshot(page, tmp_path, "console-protection-zh.png")
    finally:
        page.context.close()
    for role in ("operator", "enterprise"):
        page = login(chromium, role_platform, role)
        try:
            assert "#protection" not in menu(page)
        finally:
            page.context.close()
