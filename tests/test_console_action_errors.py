"""An action the API refuses keeps its error shown after the reload that follows it (Vouchers: revoke, Alerts: ack,
Users: delete): before, the reload's success cleared the error and the user never saw why the action failed.
Each test makes the action fail for real on the shared role platform (objects of this run only) and asserts the
error is still shown once the reload has drawn, and gone after the next action or on opening the page again."""

from __future__ import annotations

import time
import uuid
from typing import Any

import pytest

from huanghe.telemetry.models import AlertRow
from tests.console_support import RolePlatform, login, missing_keys, open_view

API = "/api/v1"


def _hop(page: Any, view: str) -> None:
    """Open another view of the console in the same page (the hash only: no page load, state kept)."""
    page.evaluate("v => { location.hash = '#' + v; }", view)
    page.wait_for_selector(f"[data-view='{view}']:not([hidden])")


def _tenant(p: RolePlatform, prefix: str) -> str:
    tenant = f"{prefix}-{uuid.uuid4().hex[:6]}"
    with p.client("admin") as c:
        made = c.post(f"{API}/tenants", json={"id": tenant, "name": "操作失败", "sector": "retail"})
        assert made.status_code == 201, made.text
    return tenant


@pytest.mark.browser
def test_a_refused_revoke_stays_shown_after_the_reload(chromium: Any, role_platform: RolePlatform) -> None:
    """The revoke is refused (403: the session's CSRF cookie was overwritten, so the POST no longer carries the
    session's token) while the reload's reads (GET, no CSRF) succeed. The API accepts a second revoke and a revoke
    of an expired voucher (idempotent, tests/test_vouchers_ledger.py), so those cannot be made to fail."""
    p = role_platform
    tenant = _tenant(p, "0ae")
    with p.client("regulator") as reg:
        body = {"tenant": tenant, "amount_cny": "4", "valid_until": "2099-01-01T00:00:00Z"}
        vid = reg.post(f"{API}/vouchers", json=body).json()["id"]
    page = login(chromium, p, "admin")
    try:
        open_view(page, p, "vouchers")
        page.wait_for_selector(f"#vouchers-tenant-filter option[value='{tenant}']", state="attached")
        page.select_option("#vouchers-tenant-filter", tenant)
        row = page.locator(f"#vouchers-table tr[data-id='{vid}']")
        row.locator("button[data-act='revoke']").click()
        page.evaluate("document.cookie = 'huanghe_csrf=stale; path=/; samesite=strict'")
        before = int(page.get_attribute("#page-vouchers", "data-reloads") or 0)
        row.locator("button[data-act='confirm']").click()  # refused, then the reload
        # the page counts an action's reload once it has drawn (a filter load still running never counts)
        page.wait_for_function(f"document.getElementById('page-vouchers').dataset.reloads === '{before + 1}'")
        assert page.locator("#page-vouchers .alert").count() == 1, "the refusal is no longer shown"
        shown = page.inner_text("#page-vouchers .alert")
        assert "权限" in shown or "无权" in shown, shown
        with p.client("regulator") as reg:
            assert reg.get(f"{API}/vouchers/{vid}").json()["revoked"] is False
        assert (
            row.locator("button[data-act='revoke']").count() == 1
        )  # the row was drawn again, the error kept
        assert missing_keys(page) == []
        _hop(page, "audit")
        _hop(page, "vouchers")  # leaving the page and coming back (no page load): gone
        page.wait_for_selector(f"#vouchers-table tr[data-id='{vid}']")
        assert page.locator("#vouchers-action-error").count() == 0
    finally:
        page.context.close()


@pytest.mark.browser
def test_a_refused_ack_stays_shown_after_the_reload(chromium: Any, role_platform: RolePlatform) -> None:
    """The alert is resolved by another user while the page still offers "acknowledge": the ack is refused (409,
    already resolved); the list's reload succeeds and draws it resolved; the refusal stays shown."""
    p = role_platform
    subject = (
        f"test:action-error-{uuid.uuid4().hex[:8]}"  # no rule evaluates it: never resolved automatically
    )
    now_ms = int(time.time() * 1000)
    with p.app.state.session_factory() as s:
        row = AlertRow(rule="utilisation_high", subject=subject, center_id=None, state="open", severity="warning",
                       message="utilisation 97 % ≥ 90 %", value=0.97, threshold=0.9, opened_ms=now_ms,
                       updated_ms=now_ms, resolved_by="")  # fmt: skip
        s.add(row)
        s.commit()
        alert_id = row.id
    page = login(chromium, p, "admin")
    try:
        open_view(page, p, "alerts")
        page.fill("#alerts-filters input[name='subject']", subject)
        page.click("#alerts-filters button[type='submit']")
        ack = f"#alerts-table tr[data-id='{alert_id}'] button[data-act='ack']"
        page.wait_for_selector(ack)
        with p.client("regulator") as reg:  # another user closes it meanwhile
            assert reg.post(f"{API}/alerts/{alert_id}:resolve").status_code == 200
        page.click(ack)
        page.wait_for_selector(f"#alerts-table tr[data-id='{alert_id}'] [data-state='resolved']")
        assert page.locator("#page-alerts .alert").count() == 1, "the refusal is no longer shown"
        shown = page.inner_text("#page-alerts .alert")
        assert "409" in shown and "already resolved" in shown, shown
        assert missing_keys(page) == []
        # another read of the list (a filter change) keeps it; leaving the page and coming back clears it
        with page.expect_response(lambda r: "/api/v1/alerts?" in r.url and "subject=" in r.url):
            page.fill("#alerts-filters input[name='subject']", subject[:-1])
            page.click("#alerts-filters button[type='submit']")
        page.wait_for_selector(f"#alerts-table tr[data-id='{alert_id}']")
        assert "already resolved" in page.inner_text("#page-alerts .alert")
        _hop(page, "audit")
        _hop(page, "alerts")
        page.wait_for_selector("#alerts-table")
        assert page.locator("#alerts-action-error").count() == 0
    finally:
        page.context.close()


@pytest.mark.browser
def test_a_refused_delete_stays_shown_after_the_reload(chromium: Any, role_platform: RolePlatform) -> None:
    """Another admin deletes the user while this page asks to confirm its deletion: the delete is refused (404);
    the reload succeeds (the user is gone from the list); the refusal stays shown."""
    p = role_platform
    tenant = _tenant(p, "0ae")
    user = f"ae-{uuid.uuid4().hex[:6]}"
    with p.client("admin") as c:
        made = c.post(
            f"{API}/users", json={"id": user, "name": "将被删除", "role": "tenant_user", "tenant": tenant}
        )
        assert made.status_code == 201, made.text
    page = login(chromium, p, "admin", lang="en")
    try:
        open_view(page, p, "users")
        page.wait_for_selector(f"#users-tenant-filter option[value='{tenant}']", state="attached")
        page.select_option("#users-tenant-filter", tenant)
        row = f"#users-table tr[data-id='{user}']"
        page.click(f"{row} button[data-act='delete']")
        with p.client("admin") as c:  # another admin deletes it meanwhile
            assert c.delete(f"{API}/users/{user}").status_code == 204
        page.click(f"{row} button[data-act='confirm']")
        page.wait_for_selector(row, state="detached")  # the reload drew the list without it
        assert page.locator("#page-users .alert").count() == 1, "the refusal is no longer shown"
        shown = page.inner_text("#page-users .alert")
        assert "Request failed" in shown and f"user '{user}' not found" in shown, shown
        assert missing_keys(page) == []
    finally:
        page.context.close()
