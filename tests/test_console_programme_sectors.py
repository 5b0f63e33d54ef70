"""The Programmes page (``#programmes``) picks a new programme's eligible sectors from the `算力+` industries
(checkboxes named in zh-CN and English from ``GET /api/v1/industries``), shows them by name in the list
and the programme's report, shows an older programme's free-text sector as written and marked "not in the list",
and shows the server's 422 when a page is made to send a sector outside the list. Shared role platform:
programme ids of this run only, small funds, no application (the statistics other tests read stay as they
are)."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import update

from huanghe.billing.models import VoucherProgrammeRow
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


def _row(page: Any, pid: str) -> str:
    return str(page.inner_text(f"#programmes-table tr:has(td:text-is('{pid}'))"))


def _create(page: Any, pid: str, sectors: list[str]) -> None:
    form = "#programmes-create"
    page.fill(f"{form} input[name='id']", pid)
    page.select_option(f"{form} select[name='preset']", "shanghai-2025")
    page.fill(f"{form} input[name='fund_cny']", "1000")
    for key in sectors:
        page.check(f"#programmes-sectors input[value='{key}']")
    page.click(f"{form} button[type='submit']")


@pytest.mark.browser
def test_regulator_picks_sectors_from_the_industries(
    chromium: Any, role_platform: RolePlatform, tmp_path: Path
) -> None:
    uid = uuid.uuid4().hex[:8]
    pid, old, bad = f"ps-{uid}", f"ps-old-{uid}", f"ps-bad-{uid}"
    with role_platform.client("regulator") as reg:  # an older programme: its free-text sector kept as written
        body = {"id": old, "preset": "shanghai-2025", "fund_cny": "1000", "sectors": ["finance"]}
        assert reg.post(f"{API}/programmes", json=body).status_code == 201
    with role_platform.app.state.session_factory() as s:
        s.execute(
            update(VoucherProgrammeRow).where(VoucherProgrammeRow.id == old).values(sectors=["software"])
        )
        s.commit()
    page = login(chromium, role_platform, "regulator")
    try:
        open_view(page, role_platform, "programmes")
        page.wait_for_selector("#programmes-sectors input[value='ocean']")
        labels = page.eval_on_selector_all("#programmes-sectors label", "ls => ls.map(l => l.textContent)")
        assert labels[:3] == ["算力+制造", "算力+农业", "算力+金融"] and labels[-1] == "其他行业", labels
        _create(page, pid, ["finance", "ocean"])
        page.wait_for_selector(f"#programmes-note:has-text('{pid}')")
        with role_platform.client("regulator") as reg:
            assert reg.get(f"{API}/programmes/{pid}").json()["sectors"] == ["finance", "ocean"]
        assert "算力+金融、算力+海洋" in _row(page, pid)
        unlisted = page.locator(f"#programmes-table tr:has(td:text-is('{old}')) .sector-unlisted")
        assert (
            unlisted.inner_text() == "software (不在行业目录中)"
            and unlisted.get_attribute("data-sector") == "software"
        )
        # a full-page shot taken scrolled draws the sticky header midway
        page.evaluate("window.scrollTo(0, 0)")
        screenshot(page, tmp_path, "console-programme-sectors-zh.png")
        assert axe_violations(page) == [] and missing_keys(page) == []
        # a page made to send a sector outside the list: the server's 422 names the field, nothing is created
        page.eval_on_selector("#programmes-sectors input[value='culture']", "b => { b.value = 'software'; }")
        _create(page, bad, ["software"])
        page.wait_for_selector("#page-programmes .alert")
        shown = page.inner_text("#page-programmes .alert")
        assert "422" in shown and "unknown sector 'software'" in shown, shown
        with role_platform.client("regulator") as reg:
            assert reg.get(f"{API}/programmes/{bad}").status_code == 404
        # English: the same sectors by their English names, the marked one as written
        page.click("#lang-switch")
        wait_for("the English list", lambda: "Compute + finance, Compute + ocean" in _row(page, pid))
        assert "software (not in the list)" in _row(page, old)
        assert "Compute + ocean" in page.inner_text("#programmes-sectors")
        open_view(page, role_platform, f"programmes/{pid}")
        page.wait_for_selector(f"#programmes-report[data-id='{pid}']")
        assert "Compute + finance, Compute + ocean" in page.inner_text("#programmes-report")
        assert missing_keys(page) == [] and axe_violations(page) == []
    finally:
        page.context.close()


@pytest.mark.browser
def test_tenants_cannot_create_programmes(role_platform: RolePlatform) -> None:
    body = {"id": f"ps-t-{uuid.uuid4().hex[:8]}", "preset": "shanghai-2025", "fund_cny": "1000",
            "sectors": ["finance"]}  # fmt: skip
    for role in ("enterprise", "tenant_admin", "rival", "operator"):
        with role_platform.client(role) as c:
            assert c.post(f"{API}/programmes", json=body).status_code == 403, role
