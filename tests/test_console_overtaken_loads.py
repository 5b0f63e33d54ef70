"""A console page whose loads overlap draws the newest answers: a load overtaken by a later one (a save's reload
while an earlier refresh still waits for its answers) must not draw its older data over the newer (HH.latest).

Seen in CI on the Budgets page: the platform admin saved a tenant's budget, the page said "saved", and the card
still showed "unlimited" because an earlier load's answers arrived last. Here that order is forced: the browser's
``fetch`` holds the answers of the earlier load's quota requests until after the save's reload has drawn.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from tests.console_support import RolePlatform, login, open_view

API = "/api/v1"

# window.fetch, wrapped: once `window.__hold` is set, GET answers for `window.__holdPath` arrive 1.5 s late
# (`window.__late` counts them) until the page sends anything but a GET (the save); `window.__inflight` counts
# requests not answered yet.
HOLD_FETCH = """() => {
  const orig = window.fetch.bind(window);
  window.__hold = false; window.__late = 0; window.__inflight = 0;
  window.fetch = async (input, init) => {
    const method = ((init && init.method) || "GET").toUpperCase();
    if (method !== "GET") window.__hold = false;
    const held = window.__hold && String(input).includes(window.__holdPath);
    window.__inflight += 1;
    try {
      const resp = await orig(input, init);
      if (held) { await new Promise((r) => setTimeout(r, 1500)); window.__late += 1; }
      return resp;
    } finally {
      window.__inflight -= 1;
    }
  };
}"""


def _idle(page: Any) -> None:
    """Wait until no request is in flight, twice 0.3 s apart (a load's next request follows its last answer)."""
    for _ in range(2):
        page.wait_for_function("window.__inflight === 0")
        page.wait_for_timeout(300)
    page.wait_for_function("window.__inflight === 0")


@pytest.mark.browser
def test_budgets_save_is_not_undone_by_an_older_load(chromium: Any, role_platform: RolePlatform) -> None:
    p = role_platform
    tenant = f"0lt-{uuid.uuid4().hex[:6]}"  # sorts first: on the first page of the budgets table
    with p.client("admin") as c:
        made = c.post(f"{API}/tenants", json={"id": tenant, "name": "加载顺序", "sector": "retail"})
        assert made.status_code == 201, made.text
    page = login(chromium, p, "admin")
    try:
        open_view(page, p, "budgets")
        page.evaluate(HOLD_FETCH)
        page.wait_for_selector(f"#budgets-all button[data-tenant='{tenant}']")
        page.click(f"#budgets-all button[data-tenant='{tenant}']")
        page.wait_for_selector(f"#budgets-quota[data-tenant='{tenant}'] #budgets-set")
        _idle(page)  # every load so far has drawn: the form stays until the save's reload
        page.evaluate("path => { window.__holdPath = path; window.__hold = true; }", f"{API}/quotas/{tenant}")
        page.click(f"#budgets-all button[data-tenant='{tenant}']")  # load A: its quota answers come late
        page.fill("#budgets-set input[name='budget_cny_per_month']", "2500.5")
        page.click("#budgets-set button[type='submit']")  # the save, then load B
        page.wait_for_selector("#page-budgets .ok-line")
        with p.client("admin") as c:
            assert c.get(f"{API}/quotas/{tenant}").json()["budget_cny_per_month"] == "2500.50"
        page.wait_for_function("window.__late >= 1")  # the held answers came: load A went on from there
        _idle(page)
        row = page.locator(f"#budgets-all tr:has(button[data-tenant='{tenant}'])")
        assert "¥2,500.50" in row.inner_text()
        assert "¥2,500.50" in page.inner_text("#budgets-quota")
        assert page.locator("#page-budgets .ok-line").count() == 1
    finally:
        page.context.close()


# A list page filtered by tenant, and its form that adds a row for a tenant: the list's path (its GET answers are
# the ones held), the form, the inputs filled and the selects chosen ("{tenant}", "{name}": this test's own), and
# what shows that the save was done.
SAVES: dict[str, tuple[str, str, dict[str, str], dict[str, str], str]] = {
    "vouchers": (
        "/vouchers",
        "#vouchers-form",
        {"amount_cny": "321"},
        {"tenant": "{tenant}"},
        "#page-vouchers .ok-line",
    ),
    "users": (
        "/users",
        "#users-form",
        {"id": "{name}", "name": "加载顺序"},
        {"tenant": "{tenant}"},
        "#page-users .ok-line",
    ),
    "tokens": (
        "/auth/tokens",
        "#tokens-form",
        {"name": "{name}"},
        {"role": "tenant_user", "tenant": "{tenant}"},
        "#token-secret-box",
    ),
}


@pytest.mark.browser
@pytest.mark.parametrize("view", sorted(SAVES))
def test_a_save_is_not_undone_by_an_older_filter_load(
    chromium: Any, role_platform: RolePlatform, view: str
) -> None:
    """Load A (the list filtered to a new tenant) waits for its answer; meanwhile the form adds a row for that
    tenant and load B draws it; then A's older answer (without the row) arrives: the row must stay shown."""
    p = role_platform
    tenant = f"0lt-{uuid.uuid4().hex[:6]}"
    name = f"lt-{uuid.uuid4().hex[:6]}"
    with p.client("admin") as c:
        made = c.post(f"{API}/tenants", json={"id": tenant, "name": "加载顺序", "sector": "retail"})
        assert made.status_code == 201, made.text
    path, form, fills, selects, done = SAVES[view]
    page = login(chromium, p, "admin")
    try:
        open_view(page, p, view)
        page.evaluate(HOLD_FETCH)
        page.wait_for_selector(f"#{view}-tenant-filter option[value='{tenant}']", state="attached")
        _idle(page)
        page.evaluate("path => { window.__holdPath = path; window.__hold = true; }", f"{API}{path}?")
        page.select_option(f"#{view}-tenant-filter", tenant)  # load A: its list answer comes late
        for field, value in fills.items():
            page.fill(f"{form} input[name='{field}']", value.format(tenant=tenant, name=name))
        for field, value in selects.items():
            page.select_option(f"{form} select[name='{field}']", value.format(tenant=tenant, name=name))
        page.click(f"{form} button[type='submit']")  # the save (not held), then load B
        page.wait_for_selector(done)
        page.wait_for_function("window.__late >= 1")  # the held answer came: load A went on from there
        _idle(page)
        with p.client("admin") as c:
            listed = c.get(f"{API}{path}", params={"tenant": tenant}).json()["items"]
        assert len(listed) == 1, listed
        assert page.locator(f"#{view}-table tr[data-id='{listed[0]['id']}']").count() == 1
    finally:
        page.context.close()
