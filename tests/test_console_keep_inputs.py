"""A reload the user did not start by submitting a form never wipes what they typed into it (``HH.keepInputs``).

Vouchers (regulator): typed into the issue form, then the list's tenant filter changed (a reload that redraws the
whole page, form included): the typed values and the ticked sector are still there, untouched fields show the new
draw's values (the share, the tenant that follows the filter); a reload while the caret is in a field keeps the focus and the caret; a successful
issue resets the form. Users (platform admin): the same for the create form under a role-filter reload. Budgets
(platform admin): a tenant's typed limits stay across that tenant's reload and never show in another tenant's form.
Pools (operator): a language switch (the page drawn anew) keeps the typed drain reason and pool change. Every page
with a form (its role): a value typed into it stays across a language switch and back (the page drawn anew twice).
Datasets (tenant admin) and Center storage (operator): a switch keeps a choice that other fields follow (the data
class and the centers offered for it; the endpoint and its capacity).
Shared role platform: tenants of this run only; the user created is this run's; no quota is saved."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
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


# A page with a form: the role that opens it, a field of the form and what the user types into it (not sent).
TYPED: dict[str, tuple[str, str, str]] = {
    "applications": ("tenant_admin", "#application-form input[name='basis_cny']", "3456"),
    "audit": ("regulator", "#audit-search input[name='subject']", "留字-subject"),
    "datasets": ("tenant_admin", "#ds-register input[name='name']", "留字 数据集"),
    "endpoints": ("operator", "#ep-cap-gib", "42"),
    "invoices": ("admin", "#invoices-create input[name='month']", "2024-03"),
    "offerings": ("operator", "#offering-form textarea[name='description']", "留字 kept across the switch"),
    "pools": ("operator", "#pools-reason", "留字 kept across the switch"),
    "programmes": ("regulator", "#programmes-create input[name='fund_cny']", "1234.5"),
    "projects": ("operator", "#projects-file textarea[name='description']", "留字 kept across the switch"),
    "protection": ("regulator", "#protection-form textarea[name='purpose']", "留字 kept across the switch"),
    "settlement": ("operator", "#settlement-month", "2024-03"),
    "tokens": ("tenant_admin", "#tokens-form input[name='name']", "留字-token"),
    "users": ("admin", "#users-form input[name='name']", "张 留字"),
    "vouchers": ("regulator", "#vouchers-form input[name='note']", "typed, not sent"),
}


@pytest.mark.browser
@pytest.mark.parametrize("view", sorted(TYPED))
def test_a_language_switch_keeps_what_was_typed(
    chromium: Any, role_platform: RolePlatform, view: str
) -> None:
    """Typed into a page's form, then the language switched and back: each switch draws the page anew (the field
    is a new element) and the typed value is still there. ``body[data-lang-drawn]`` counts the switches whose
    redraws (and the restore of what was typed) are done. Nothing is sent."""
    p = role_platform
    role, field, typed = TYPED[view]
    with _form_shown(p, view):
        page = login(chromium, p, role)
        try:
            _switch_and_back(page, p, view, field, typed)
        finally:
            page.context.close()


@contextmanager
def _form_shown(p: RolePlatform, view: str) -> Iterator[None]:
    """What ``view``'s form needs to show: Applications an open programme (it stays: programmes are not deleted),
    Center storage an endpoint of the operator's center (deleted after)."""
    if view == "applications":
        prog = {"id": f"keep-{uuid.uuid4().hex[:8]}", "name_zh": "留字计划", "name_en": "Keep programme",
                "authority": "山东省", "basis": "bill", "share": "0.5", "fund_cny": "100000"}  # fmt: skip
        with p.client("regulator") as reg:
            assert reg.post(f"{API}/programmes", json=prog).status_code == 201
    if view != "endpoints":
        yield
        return
    with _endpoints_made(p, 1):
        yield


@contextmanager
def _endpoints_made(p: RolePlatform, *capacities_gib: int) -> Iterator[list[str]]:
    """Storage endpoints of the operator's center, one per capacity given (GiB); their ids; deleted after."""
    ids = [f"keep-{uuid.uuid4().hex[:8]}" for _ in capacities_gib]
    with p.client("admin") as admin:
        try:
            for eid, gib in zip(ids, capacities_gib, strict=True):
                body = {"id": eid, "center": OPERATOR_CENTER, "temperature": "warm", "medium": "hdd",
                        "url": "http://127.0.0.1:9", "bucket": "hh-console-test", "capacity_bytes": gib * 1024**3}  # fmt: skip
                assert admin.post(f"{API}/storage-endpoints", json=body).status_code == 201
            yield ids
        finally:
            for eid in ids:
                admin.delete(f"{API}/storage-endpoints/{eid}")


def _switch(page: Any, field: str) -> str:
    """Switch the language (the other one) and wait until its redraws and the restore of what was typed are done
    and ``field`` was drawn anew (the mark set on it before is gone); the language now shown."""
    drawn = page.evaluate(
        "s => { document.querySelector(s).dataset.drawn = 'before';"
        " return Number(document.body.dataset.langDrawn || 0); }",
        field,
    )
    page.click("#lang-switch")
    page.wait_for_function(
        "([s, n]) => Number(document.body.dataset.langDrawn || 0) > n"
        " && document.querySelector(s) && !document.querySelector(s).dataset.drawn",
        arg=[field, drawn],
    )
    return str(page.evaluate("HH.lang"))


def _switch_and_back(page: Any, p: RolePlatform, view: str, field: str, typed: str) -> None:
    """Open ``view``, type ``typed`` into ``field``, switch to English and back: each switch draws the field anew
    and ``typed`` is still in it."""
    open_view(page, p, view)
    page.wait_for_selector(field)
    page.fill(field, typed)
    for lang in ("en", "zh-CN"):
        assert _switch(page, field) == lang
        assert page.input_value(field) == typed, (view, lang)


@pytest.mark.browser
def test_datasets_language_switch_keeps_the_class_and_its_centers(
    chromium: Any, role_platform: RolePlatform
) -> None:
    """The register form offers the centers of the class chosen (home, allowed: shown for important data). The
    class changed to important and centers picked, then the language switched and back: the form is drawn anew
    for the default class, then (``hh-inputs-kept``) offers the kept class's centers with the picked ones still
    chosen, the allowed field shown. Nothing is sent."""
    p = role_platform
    important = sorted(c.id for c in p.topo.centers if "important" in c.allowed_data_classes)
    home, allowed = important[0], important[1:3]
    form = "#ds-register"
    page = login(chromium, p, "tenant_admin")
    try:
        open_view(page, p, "datasets")
        page.wait_for_selector(f"{form} select[name='center']")
        page.select_option(f"{form} select[name='data_class']", "important")
        page.select_option(f"{form} select[name='center']", home)
        page.select_option(f"{form} select[name='allowed_centers']", allowed)
        page.fill(f"{form} input[name='name']", "留字 数据集")
        for lang in ("en", "zh-CN"):
            assert _switch(page, f"{form} select[name='center']") == lang
            got = page.evaluate(
                """f => { const form = document.querySelector(f), pick = (n) => form.elements[n];
                  const values = (n) => [...pick(n).options].map((o) => o.value).filter(Boolean).sort();
                  return { cls: pick("data_class").value, home: pick("center").value, name: pick("name").value,
                    allowed: [...pick("allowed_centers").selectedOptions].map((o) => o.value).sort(),
                    shown: !pick("allowed_centers").closest("[hidden]"),
                    homes: values("center"), allowable: values("allowed_centers") }; }""",
                form,
            )
            assert got == {
                "cls": "important",
                "home": home,
                "name": "留字 数据集",
                "allowed": allowed,
                "shown": True,
                "homes": important,
                "allowable": important,
            }, (lang, got)
    finally:
        page.context.close()


@pytest.mark.browser
def test_endpoints_language_switch_keeps_the_endpoint_and_shows_its_capacity(
    chromium: Any, role_platform: RolePlatform
) -> None:
    """The capacity form shows the chosen endpoint's capacity; another endpoint chosen (not the first one drawn),
    then the language switched and back: the choice stays and the untouched capacity is that endpoint's (the
    form refilled on ``hh-inputs-kept``), not the first one's. Nothing is sent."""
    p = role_platform
    with _endpoints_made(p, 1, 3) as ids:
        page = login(chromium, p, "operator")
        try:
            open_view(page, p, "endpoints")
            for eid in ids:
                page.wait_for_selector(f"#ep-cap-endpoint option[value='{eid}']", state="attached")
            first = page.input_value("#ep-cap-endpoint")
            chosen = next(eid for eid in ids if eid != first)
            capacity = "3" if chosen == ids[1] else "1"  # GiB, as made
            page.select_option("#ep-cap-endpoint", chosen)
            assert page.input_value("#ep-cap-gib") == capacity
            for lang in ("en", "zh-CN"):
                assert _switch(page, "#ep-cap-gib") == lang
                got = [page.input_value("#ep-cap-endpoint"), page.input_value("#ep-cap-gib")]
                assert got == [chosen, capacity], (lang, got)
        finally:
            page.context.close()


# window.fetch, wrapped: GET answers whose path holds `window.__holdPath` wait until `window.__release()`
# (`window.__held` counts them).
HOLD_UNTIL_RELEASED = """path => {
  const orig = window.fetch.bind(window);
  let release;
  const gate = new Promise((resolve) => { release = resolve; });
  window.__held = 0; window.__release = release;
  window.fetch = async (input, init) => {
    const resp = await orig(input, init);
    if (String(input).includes(path) && !(init && init.method && init.method !== "GET")) {
      window.__held += 1;
      await gate;
    }
    return resp;
  };
}"""


@pytest.mark.browser
def test_what_is_typed_while_the_switch_redraws_is_not_undone(
    chromium: Any, role_platform: RolePlatform
) -> None:
    """Settlement draws its form, then waits for the statement; a month typed into the new form meanwhile stays
    when the switch's restore comes (after the statement): the user's newest value, not the one typed before."""
    p = role_platform
    page = login(chromium, p, "operator")
    try:
        open_view(page, p, "settlement")
        page.wait_for_selector("#settlement-table")
        page.fill("#settlement-month", "2024-03")
        page.evaluate(HOLD_UNTIL_RELEASED, f"{API}/centers/{OPERATOR_CENTER}/statement")
        page.evaluate("document.getElementById('settlement-month').dataset.drawn = 'before'")
        drawn = page.evaluate("Number(document.body.dataset.langDrawn || 0)")
        page.click("#lang-switch")
        page.wait_for_function(
            "() => window.__held >= 1 && !document.getElementById('settlement-month').dataset.drawn"
        )
        page.fill("#settlement-month", "2025-01")  # into the new form, while its statement is held
        page.evaluate("window.__release()")
        page.wait_for_function("n => Number(document.body.dataset.langDrawn || 0) > n", arg=drawn)
        assert page.input_value("#settlement-month") == "2025-01"
    finally:
        page.context.close()
