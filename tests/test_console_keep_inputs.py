"""A reload the user did not start by submitting a form never wipes what they typed into it (``HH.keepInputs``).

Vouchers (regulator): typed into the issue form, then the list's tenant filter changed (a reload that redraws the
whole page, form included): the typed values and the ticked sector are still there, untouched fields show the new
draw's values (the share, the tenant that follows the filter); a reload while the caret is in a field keeps the focus and the caret; a successful
issue resets the form. Users (platform admin): the same for the create form under a role-filter reload. Budgets
(platform admin): a tenant's typed limits stay across that tenant's reload and never show in another tenant's form.
Pools (operator): a language switch (the page drawn anew) keeps the typed drain reason and pool change.
Shared role platform: tenants of this run only; the user created is this run's; no quota is saved."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from tests.console_support import OPERATOR_CENTER, RolePlatform, login, open_view

API = "/api/v1"


def _redrawn(page: Any, form: str, change: Any) -> None:
    """Mark the drawn form, run ``change`` (which starts a reload), wait until the form was drawn anew."""
    page.evaluate(f"document.getElementById('{form}').dataset.drawn = 'before'")
    change()
    page.wait_for_function(
        f"() => {{ const f = document.getElementById('{form}'); return f && !f.dataset.drawn; }}"
    )


def _values(page: Any, form: str) -> dict[str, Any]:
    return dict(
        page.evaluate(
            "id => Object.fromEntries([...document.getElementById(id).elements].filter(e => e.name)"
            ".map(e => [e.type === 'checkbox' ? `${e.name}=${e.value}` : e.name,"
            " e.type === 'checkbox' ? e.checked : e.value]))",
            form,
        )
    )


def _open(chromium: Any, p: RolePlatform, role: str, view: str, prefix: str) -> tuple[Any, str]:
    """A tenant of this run (made by the admin), and ``role``'s page showing ``view`` once it lists the tenant."""
    tenant = f"{prefix}-{uuid.uuid4().hex[:6]}"
    with p.client("admin") as c:
        assert c.post(f"{API}/tenants", json={"id": tenant, "name": "留字"}).status_code == 201
    page = login(chromium, p, role)
    open_view(page, p, view)
    page.wait_for_selector(f"#{view}-tenant-filter option[value='{tenant}']", state="attached")
    return page, tenant


def _num(value: Any) -> float:
    """A limit as a number: none (null, an empty field) is 0 here (the test compares shown with held)."""
    return 0.0 if value in (None, "") else float(value)


@pytest.mark.browser
def test_a_vouchers_reload_keeps_the_issue_form_until_it_is_sent(
    chromium: Any, role_platform: RolePlatform
) -> None:
    p = role_platform
    page, tenant = _open(chromium, p, "regulator", "vouchers", "0ki")
    try:
        form = "#vouchers-form"
        page.fill(f"{form} input[name='amount_cny']", "17.5")
        page.fill(f"{form} input[name='centers']", "inspur-jinan")
        page.check("#vouchers-sectors input[value='finance']")
        page.fill(f"{form} input[name='note']", "typed, not sent")
        # the user changes the list's filter: the page reloads and redraws, the issue form included
        _redrawn(page, "vouchers-form", lambda: page.select_option("#vouchers-tenant-filter", tenant))
        got = _values(page, "vouchers-form")
        assert got["amount_cny"] == "17.5" and got["note"] == "typed, not sent", got
        assert got["centers"] == "inspur-jinan" and got["sectors=finance"] is True, got
        assert got["sectors=ocean"] is False and got["max_share"] == "50", got  # untouched: as drawn
        assert got["tenant"] == tenant, got  # untouched: the new draw's default, the filter's tenant
        # a reload while the caret is inside the note (nothing typed by the user started it): focus and caret kept
        page.focus(f"{form} input[name='note']")
        page.evaluate("document.querySelector(\"#vouchers-form input[name='note']\").setSelectionRange(3, 5)")
        reload = (
            "() => { const s = document.getElementById('vouchers-tenant-filter');"
            " s.dispatchEvent(new Event('change', { bubbles: true })); }"
        )
        _redrawn(page, "vouchers-form", lambda: page.evaluate(reload))
        caret = page.evaluate(
            "() => { const a = document.activeElement;"
            " return [a.form && a.form.id, a.name, a.selectionStart, a.selectionEnd, a.value]; }"
        )
        assert caret == ["vouchers-form", "note", 3, 5, "typed, not sent"], caret
        # sent: the voucher is issued as typed, and the redraw after it shows the form afresh
        _redrawn(page, "vouchers-form", lambda: page.click(f"{form} button[type='submit']"))
        page.wait_for_selector("#page-vouchers .ok-line")
        with p.client("regulator") as reg:
            mine = reg.get(f"{API}/vouchers", params={"tenant": tenant}).json()["items"]
        assert len(mine) == 1, mine
        assert (mine[0]["amount_cny"], mine[0]["note"], mine[0]["sectors"], mine[0]["centers"]) == (
            "17.50",
            "typed, not sent",
            ["finance"],
            ["inspur-jinan"],
        ), mine
        page.wait_for_selector(f"#vouchers-table tr[data-id='{mine[0]['id']}']")
        got = _values(page, "vouchers-form")
        assert got["amount_cny"] == "" and got["note"] == "" and got["centers"] == "", got
        assert got["sectors=finance"] is False and got["max_share"] == "50", got
        # and a reload after the reset does not bring the sent values back
        _redrawn(page, "vouchers-form", lambda: page.select_option("#vouchers-tenant-filter", ""))
        got = _values(page, "vouchers-form")
        assert got["amount_cny"] == "" and got["note"] == "" and got["sectors=finance"] is False, got
    finally:
        page.context.close()


@pytest.mark.browser
def test_a_users_filter_reload_keeps_the_create_form_until_it_is_sent(
    chromium: Any, role_platform: RolePlatform
) -> None:
    p = role_platform
    uid = f"keep-{uuid.uuid4().hex[:6]}"
    page, tenant = _open(chromium, p, "admin", "users", "0ku")
    try:
        page.fill("#users-form input[name='id']", uid)
        page.fill("#users-form input[name='name']", "张 留字")
        page.select_option("#users-form select[name='tenant']", tenant)
        _redrawn(page, "users-form", lambda: page.select_option("#users-role-filter", "regulator"))
        got = _values(page, "users-form")
        assert (got["id"], got["name"], got["tenant"], got["role"]) == (
            uid,
            "张 留字",
            tenant,
            "tenant_user",
        ), got
        _redrawn(page, "users-form", lambda: page.click("#users-form button[type='submit']"))
        page.wait_for_selector("#page-users .ok-line")
        with p.client("admin") as c:
            made = c.get(f"{API}/users/{uid}").json()
        assert (made["name"], made["tenant"], made["role"]) == ("张 留字", tenant, "tenant_user"), made
        got = _values(page, "users-form")
        assert got["id"] == "" and got["name"] == "", got
    finally:
        page.context.close()


@pytest.mark.browser
def test_budgets_keep_a_tenants_typed_limits_for_that_tenant_only(
    chromium: Any, role_platform: RolePlatform
) -> None:
    """The limits form is one tenant's (the same form id for each): a reload of that tenant keeps what was typed,
    opening another tenant shows that tenant's limits, never the typed ones. Nothing is saved (shared quotas)."""
    p = role_platform
    page = login(chromium, p, "admin")
    try:
        open_view(page, p, "budgets")
        page.wait_for_selector("#budgets-all button[data-tenant]")
        a, b = page.eval_on_selector_all(
            "#budgets-all button[data-tenant]", "bs => bs.map(x => x.dataset.tenant)"
        )[:2]
        page.click(f"#budgets-all button[data-tenant='{a}']")
        page.wait_for_selector(f"#budgets-quota[data-tenant='{a}']")
        with p.client("admin") as c:
            qa, qb = (c.get(f"{API}/quotas/{x}").json() for x in (a, b))
        page.fill("#budgets-set input[name='gpu_hours_per_month']", "123.5")
        # the same tenant read again (its button in the list): the typed limit stays, the untouched one as drawn
        _redrawn(page, "budgets-set", lambda: page.click(f"#budgets-all button[data-tenant='{a}']"))
        got = _values(page, "budgets-set")
        assert got["gpu_hours_per_month"] == "123.5", got
        assert _num(got["budget_cny_per_month"]) == _num(qa["budget_cny_per_month"]), (got, qa)
        # another tenant: its own limits, not what was typed for the first
        page.click(f"#budgets-all button[data-tenant='{b}']")
        page.wait_for_selector(f"#budgets-quota[data-tenant='{b}']")
        got = _values(page, "budgets-set")
        assert got["gpu_hours_per_month"] != "123.5", got
        assert _num(got["gpu_hours_per_month"]) == _num(qb["gpu_hours_per_month"]), (got, qb)
    finally:
        page.context.close()


@pytest.mark.browser
def test_pools_language_switch_keeps_what_was_typed(chromium: Any, role_platform: RolePlatform) -> None:
    """The Pools page is drawn anew in the other language (its ``HH.onLang``): the drain reason and the edit form's
    typed nodes stay, with the pool they were typed for; the untouched price shows that pool's price (the form's
    listener re-applied after the restore), not the first pool's. Nothing is sent."""
    p = role_platform
    page = login(chromium, p, "operator")
    try:
        open_view(page, p, f"pools/{OPERATOR_CENTER}")
        page.wait_for_selector("#pools-edit-pool option >> nth=1", state="attached")
        pools = page.eval_on_selector_all("#pools-edit-pool option", "os => os.map(o => o.value)")
        chosen = pools[1]  # not the first: a fresh draw would select the first pool
        page.select_option("#pools-edit-pool", chosen)
        price = page.input_value("#pools-edit-price")  # the chosen pool's, filled by the form's listener
        page.fill("#pools-edit-nodes", "7")
        page.fill("#pools-reason", "留字 kept across the switch")
        for title in ("My centers and pools", "我的中心与资源池"):  # to English, and back
            page.evaluate("document.getElementById('pools-edit').dataset.drawn = 'before'")
            page.click("#lang-switch")
            page.wait_for_function(
                "t => document.querySelector('#page-pools h2')?.textContent === t"
                " && document.getElementById('pools-edit') && !document.getElementById('pools-edit').dataset.drawn",
                arg=title,
            )
            got = [
                page.input_value(s) for s in ("#pools-edit-pool", "#pools-edit-nodes", "#pools-edit-price")
            ]
            assert got == [chosen, "7", price], (title, got)
            assert page.input_value("#pools-reason") == "留字 kept across the switch", title
    finally:
        page.context.close()
