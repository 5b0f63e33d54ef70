"""The Vouchers page (``#vouchers``) picks a new voucher's eligible sectors from the `算力+` industries (checkboxes
named in zh-CN and English from ``GET /api/v1/industries``), lists them by name, shows an older voucher's free-text
sector as written and marked "not in the list", and shows the server's 422 naming ``sectors[0]`` when a page is
made to send a sector outside the list. Shared role platform: a tenant of this run only (its own vouchers)."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import update

from huanghe.billing.models import VoucherRow
from tests.console_support import (
    RolePlatform,
    axe_violations,
    login,
    missing_keys,
    open_view,
    screenshot,
    wait_for,
)

API = "/api/v1"


def _row(page: Any, vid: str) -> str:
    return str(page.inner_text(f"#vouchers-table tr[data-id='{vid}']"))


def _issue(page: Any, tenant: str, amount: str, sectors: list[str]) -> None:
    form = "#vouchers-form"
    page.select_option(f"{form} select[name='tenant']", tenant)
    page.fill(f"{form} input[name='amount_cny']", amount)
    for key in sectors:
        page.check(f"#vouchers-sectors input[value='{key}']")
    page.click(f"{form} button[type='submit']")


@pytest.mark.browser
def test_regulator_picks_a_vouchers_sectors_from_the_industries(
    chromium: Any, role_platform: RolePlatform, tmp_path: Path
) -> None:
    p = role_platform
    tenant = f"0vs-{uuid.uuid4().hex[:6]}"
    with p.client("admin") as c:
        assert (
            c.post(f"{API}/tenants", json={"id": tenant, "name": "行业券", "sector": "Banking"}).status_code
            == 201
        )
    with p.client("regulator") as reg:  # an older voucher: its free-text sector kept as written
        body = {
            "tenant": tenant,
            "amount_cny": "3",
            "valid_until": "2099-01-01T00:00:00Z",
            "sectors": ["finance"],
        }
        old = reg.post(f"{API}/vouchers", json=body).json()["id"]
    with p.app.state.session_factory() as s:
        s.execute(update(VoucherRow).where(VoucherRow.id == old).values(sectors=["software"]))
        s.commit()
    page = login(chromium, p, "regulator")
    try:
        open_view(page, p, "vouchers")
        page.wait_for_selector(f"#vouchers-tenant-filter option[value='{tenant}']", state="attached")
        # the filter's load redraws the page, form included: wait for that redraw (the unfiltered list drawn
        # before it may already hold the row), else it can come between typing and sending (seen: the amount gone)
        page.evaluate("document.getElementById('vouchers-form').dataset.drawn = 'before'")
        page.select_option("#vouchers-tenant-filter", tenant)
        page.wait_for_function(
            "id => { const f = document.getElementById('vouchers-form');"
            " return f && !f.dataset.drawn && document.querySelector(`#vouchers-table tr[data-id='${id}']`); }",
            arg=old,
        )
        labels = page.eval_on_selector_all("#vouchers-sectors label", "ls => ls.map(l => l.textContent)")
        assert labels[:3] == ["算力+制造", "算力+农业", "算力+金融"] and labels[-1] == "其他行业", labels
        _issue(page, tenant, "12", ["finance", "ocean"])
        page.wait_for_selector("#page-vouchers .ok-line")
        with p.client("regulator") as reg:
            mine = [
                v
                for v in reg.get(f"{API}/vouchers", params={"tenant": tenant}).json()["items"]
                if v["id"] != old
            ]
        assert len(mine) == 1 and mine[0]["sectors"] == ["finance", "ocean"], mine
        vid = mine[0]["id"]
        page.wait_for_selector(f"#vouchers-table tr[data-id='{vid}']")
        assert "算力+金融、算力+海洋" in _row(page, vid)
        unlisted = page.locator(f"#vouchers-table tr[data-id='{old}'] .sector-unlisted")
        assert (
            unlisted.inner_text() == "software (不在行业目录中)"
            and unlisted.get_attribute("data-sector") == "software"
        )
        page.evaluate("window.scrollTo(0, 0)")
        screenshot(page, tmp_path, "console-voucher-sectors-zh.png")
        assert axe_violations(page) == [] and missing_keys(page) == []
        # a page made to send a sector outside the list: the server's 422 names the item, nothing is issued
        page.eval_on_selector("#vouchers-sectors input[value='culture']", "b => { b.value = 'software'; }")
        _issue(page, tenant, "7", ["software"])
        page.wait_for_selector("#vouchers-form-error .alert")
        shown = page.inner_text("#vouchers-form-error")
        assert "sectors[0]" in shown and "unknown sector 'software'" in shown, shown
        with p.client("regulator") as reg:
            assert reg.get(f"{API}/vouchers", params={"tenant": tenant}).json()["total"] == 2
        # English: the same sectors by their English names, the marked one as written
        page.click("#lang-switch")
        wait_for("the English list", lambda: "Compute + finance, Compute + ocean" in _row(page, vid))
        assert "software (not in the list)" in _row(page, old)
        assert "Compute + ocean" in page.inner_text("#vouchers-sectors")
        open_view(page, p, f"vouchers/{vid}")
        page.wait_for_selector(f"#voucher-detail[data-id='{vid}']")
        assert "Compute + finance, Compute + ocean" in page.inner_text("#voucher-detail")
        assert missing_keys(page) == [] and axe_violations(page) == []
    finally:
        page.context.close()
