"""A console page whose loads overlap draws the newest answers: a load overtaken by a later one (a save's reload
while an earlier refresh still waits for its answers) must not draw its older data over the newer (HH.latest).

Seen in CI on the Budgets page: the platform admin saved a tenant's budget, the page said "saved", and the card
still showed "unlimited" because an earlier load's answers arrived last. Here that order is forced: the browser's
``fetch`` holds the answers of the earlier load's quota requests until the test saw the save's reload drawn. The
same order on the Storage page (an endpoint's details read again, then its capacity saved) and the Topology page
(the page opened again, then a file imported), and of the Topology page's file choice (a second file chosen while
the first is still read: the first read answers last).
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.console_support import OPERATOR_CENTER, RolePlatform, login, open_view

API = "/api/v1"

# window.fetch, wrapped from the page's start (``_login``): once `window.__hold` is set, GET answers for
# `window.__holdPath` are held until the test calls `window.__release()` (`window.__held` counts those the server
# has answered, still held; `window.__late` those released) while the page sends only GETs: its first other
# request (the save) ends the holding of later ones. The test releases them once the newer load has drawn (an
# observable condition, no fixed delay). `window.__inflight` counts the API requests whose answer has not been
# read yet: a request counts until its body is read (json, text, blob), after which the page's load goes on in
# microtasks (draws, or sends its next request: counted again at once).
HOLD_FETCH = """() => {
  const orig = window.fetch.bind(window);
  let release;
  const gate = new Promise((resolve) => { release = resolve; });
  window.__hold = false; window.__late = 0; window.__held = 0; window.__inflight = 0;
  window.__release = () => { window.__hold = false; release(); };
  window.fetch = async (input, init) => {
    const method = ((init && init.method) || "GET").toUpperCase();
    if (method !== "GET") window.__hold = false;
    const held = window.__hold && String(input).includes(window.__holdPath);
    const counted = String(input).includes("/api/");
    if (counted) window.__inflight += 1;
    let resp;
    try {
      resp = await orig(input, init);
    } catch (err) {
      if (counted) window.__inflight -= 1;
      throw err;
    }
    if (held) { window.__held += 1; await gate; window.__late += 1; }
    if (counted) {
      let read = false;
      const done = () => { if (!read) { read = true; window.__inflight -= 1; } };
      for (const how of ["json", "text", "blob", "arrayBuffer"]) {
        const body = resp[how].bind(resp);
        resp[how] = () => body().finally(done);
      }
    }
    return resp;
  };
}"""


def _login(chromium: Any, p: RolePlatform, **kw: Any) -> Any:
    """The platform admin's page with HOLD_FETCH in place before any script of the console runs (every load is
    counted, the first ones too)."""
    return login(chromium, p, "admin", on_page=lambda pg: pg.add_init_script(f"({HOLD_FETCH})()"), **kw)


def _release_once(page: Any, drawn: str, arg: Any = None) -> None:
    """Once the newer load has drawn (``drawn``, a JS predicate of ``arg``, is true), the held answers of the older
    load go on; returns when they did and no load of the page is running any more."""
    page.wait_for_function(drawn, arg=arg)
    page.evaluate("window.__release()")
    page.wait_for_function("window.__late >= 1 && window.__late === window.__held")
    _idle(page)


def _idle(page: Any) -> None:
    """Wait until no load of the page is running: no API request in flight, its answer's body read or not.
    Checked between the browser's tasks (``raf`` polling: after the microtasks in which a load that read an
    answer draws or sends its next request), so a load between two requests is never taken for finished."""
    page.wait_for_function("window.__inflight === 0", polling="raf")


@pytest.mark.browser
def test_budgets_save_is_not_undone_by_an_older_load(chromium: Any, role_platform: RolePlatform) -> None:
    p = role_platform
    tenant = f"0lt-{uuid.uuid4().hex[:6]}"  # sorts first: on the first page of the budgets table
    with p.client("admin") as c:
        made = c.post(f"{API}/tenants", json={"id": tenant, "name": "加载顺序", "sector": "retail"})
        assert made.status_code == 201, made.text
    page = _login(chromium, p)
    try:
        open_view(page, p, "budgets")
        page.wait_for_selector(f"#budgets-all button[data-tenant='{tenant}']")
        page.click(f"#budgets-all button[data-tenant='{tenant}']")
        page.wait_for_selector(f"#budgets-quota[data-tenant='{tenant}'] #budgets-set")
        _idle(page)  # every load so far has drawn: the form stays until the save's reload
        page.evaluate("path => { window.__holdPath = path; window.__hold = true; }", f"{API}/quotas/{tenant}")
        page.click(f"#budgets-all button[data-tenant='{tenant}']")  # load A: its quota answers held
        page.wait_for_function("window.__held >= 1")  # the server answered A before the save
        page.fill("#budgets-set input[name='budget_cny_per_month']", "2500.5")
        page.click("#budgets-set button[type='submit']")  # the save, then load B
        page.wait_for_selector("#page-budgets .ok-line")
        with p.client("admin") as c:
            assert c.get(f"{API}/quotas/{tenant}").json()["budget_cny_per_month"] == "2500.50"
        # load B drew the saved budget (the tenant's row and card); then A's answers go on from there
        _release_once(
            page,
            "t => [document.querySelector(`#budgets-all button[data-tenant='${t}']`)?.closest('tr'),"
            " document.getElementById('budgets-quota')].every((e) => e && e.innerText.includes('¥2,500.50'))",
            tenant,
        )
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
    page = _login(chromium, p)
    try:
        open_view(page, p, view)
        page.wait_for_selector(f"#{view}-tenant-filter option[value='{tenant}']", state="attached")
        _idle(page)
        page.evaluate("path => { window.__holdPath = path; window.__hold = true; }", f"{API}{path}?")
        page.select_option(f"#{view}-tenant-filter", tenant)  # load A: its list answer held
        page.wait_for_function("window.__held >= 1")  # the server answered A before the save
        for field, value in fills.items():
            page.fill(f"{form} input[name='{field}']", value.format(tenant=tenant, name=name))
        for field, value in selects.items():
            page.select_option(f"{form} select[name='{field}']", value.format(tenant=tenant, name=name))
        page.click(f"{form} button[type='submit']")  # the save (not held), then load B
        page.wait_for_selector(done)
        with p.client("admin") as c:
            listed = c.get(f"{API}{path}", params={"tenant": tenant}).json()["items"]
        assert len(listed) == 1, listed
        shown = f"#{view}-table tr[data-id='{listed[0]['id']}']"
        # load B drew the new row; then A's answer goes on from there
        _release_once(page, "s => document.querySelector(s) !== null", shown)
        assert page.locator(shown).count() == 1
    finally:
        page.context.close()


GIB = 1024**3  # bytes
HOLD = "path => { window.__holdPath = path; window.__hold = true; }"


@pytest.mark.browser
def test_storage_save_is_not_undone_by_an_older_detail_read(
    chromium: Any, role_platform: RolePlatform
) -> None:
    """An endpoint's details are shown; read A of them again waits for its answer (2 GiB); its capacity is saved
    (3 GiB) and the save's re-read B draws it; then A's older answer arrives: 3 GiB must stay shown."""
    p = role_platform
    eid = f"lt-{uuid.uuid4().hex[:8]}"
    body = {"id": eid, "center": OPERATOR_CENTER, "temperature": "warm", "medium": "hdd",
            "url": "http://127.0.0.1:9", "bucket": "hh-console-test", "capacity_bytes": 2 * GIB}  # fmt: skip
    admin = p.client("admin")
    assert admin.post(f"{API}/storage-endpoints", json=body).status_code == 201
    page = _login(chromium, p)
    row = f"#storage-grid tbody tr[data-id='{eid}']"
    capacity = "#storage-detail dd[data-k='storage.col.capacity']"
    try:
        open_view(page, p, "storage")
        page.click(f"{row} button[data-act='show']")
        page.wait_for_function("s => document.querySelector(s)?.innerText === '2.0 GiB'", arg=capacity)
        page.click(f"{row} button[data-act='edit']")
        _idle(page)
        page.evaluate(HOLD, f"{API}/storage-endpoints/{eid}")
        page.click(f"{row} button[data-act='show']")  # read A: its answer (2 GiB) held
        page.wait_for_function("window.__held >= 1")  # the server answered A before the save
        page.fill("#page-storage form.storage-form input[name='capacity_bytes']", "3")
        page.click("#storage-save")  # the save (not held), then read B
        page.wait_for_function(
            "id => document.getElementById('storage-form-status').innerText.includes(id)", arg=eid
        )
        assert admin.get(f"{API}/storage-endpoints/{eid}").json()["capacity_bytes"] == 3 * GIB
        # read B drew 3 GiB (the details and the row); then A's answer goes on from there
        _release_once(
            page,
            "ss => ss.every((s) => document.querySelector(s)?.innerText.includes('3.0 GiB'))",
            [capacity, row],
        )
        assert page.inner_text(capacity) == "3.0 GiB"
        assert "3.0 GiB" in page.inner_text(row)
    finally:
        admin.delete(f"{API}/storage-endpoints/{eid}")
        admin.close()
        page.context.close()


@pytest.mark.browser
def test_topology_import_is_not_undone_by_an_older_read(
    chromium: Any, role_platform: RolePlatform, tmp_path: Path
) -> None:
    """A file (the stored network, its version + 1) is checked; the page is opened again and its read A waits for
    its answer (the version before); the file is imported and the import's re-read B draws the new version; then
    A's older answer arrives: the new version must stay shown. The stored network is put back after."""
    p = role_platform
    ytype = {"content-type": "application/yaml"}
    admin = p.client("admin")
    original = admin.get(f"{API}/topology", params={"format": "yaml"}).text
    doc = yaml.safe_load(original)
    newer = tmp_path / "newer-network.yaml"
    newer.write_text(
        yaml.safe_dump({**doc, "version": doc["version"] + 1}, allow_unicode=True, sort_keys=False)
    )
    page = _login(chromium, p, lang="en")
    try:
        open_view(page, p, "topology")
        page.wait_for_selector("#topology-version")
        assert page.inner_text("#topology-version") == str(doc["version"])
        page.set_input_files("#topology-file", str(newer))
        page.click("#topology-check")  # a dry run: nothing stored
        page.wait_for_selector("#topology-ok")
        _idle(page)
        page.evaluate(HOLD, f"{API}/topology")
        page.evaluate("location.hash = '#topology/again'")  # opened again: read A, its answer held
        page.wait_for_function("window.__held >= 1")  # the server answered A before the import
        page.click("#topology-import")  # the import (not held), then read B
        page.wait_for_function("document.getElementById('topology-ok')?.innerText.startsWith('Imported')")
        assert admin.get(f"{API}/topology").json()["version"] == doc["version"] + 1
        # read B drew the new version; then A's answer goes on from there
        _release_once(
            page,
            "v => document.getElementById('topology-version')?.innerText === v",
            str(doc["version"] + 1),
        )
        assert page.inner_text("#topology-version") == str(doc["version"] + 1)
    finally:
        restored = admin.put(
            f"{API}/topology", params={"mode": "replace"}, content=original.encode(), headers=ytype
        )
        admin.close()
        page.context.close()
    assert restored.status_code == 200, restored.text


# Blob.prototype.text (how the Topology page reads a chosen file), wrapped: the first read answers only once the
# test calls `window.__releaseFirst()`; `window.__reads` counts the reads started, `window.__firstDone` is set
# when the first one answers.
HOLD_FIRST_READ = """() => {
  const orig = Blob.prototype.text;
  let release;
  const gate = new Promise((resolve) => { release = resolve; });
  window.__reads = 0; window.__firstDone = false; window.__releaseFirst = release;
  Blob.prototype.text = async function () {
    window.__reads += 1;
    const first = window.__reads === 1;
    const text = await orig.call(this);
    if (first) { await gate; window.__firstDone = true; }
    return text;
  };
}"""


@pytest.mark.browser
def test_topology_file_choice_is_not_undone_by_an_older_read(
    chromium: Any, role_platform: RolePlatform, tmp_path: Path
) -> None:
    """File A (not a valid network) is chosen and its read waits; file B (the stored network) is chosen and read;
    then A's read answers: B must stay the file the page holds, so that checking it finds it valid (A's text
    would be refused). The read is the browser's own (a local file, no request): held in ``Blob.text``. A dry
    run only: nothing is stored."""
    p = role_platform
    with p.client("admin") as admin:
        doc = yaml.safe_load(admin.get(f"{API}/topology", params={"format": "yaml"}).text)
    older, newer = tmp_path / "older-network.yaml", tmp_path / "newer-network.yaml"
    older.write_text(yaml.safe_dump({**doc, "version": "older"}, allow_unicode=True, sort_keys=False))
    newer.write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False))
    page = login(chromium, p, "admin", lang="en")
    try:
        open_view(page, p, "topology")
        page.wait_for_selector("#topology-version")
        page.evaluate(HOLD_FIRST_READ)
        page.set_input_files("#topology-file", str(older))  # read A: held
        page.wait_for_function("window.__reads === 1")
        assert page.is_disabled("#topology-check")  # A not read yet: no file to check
        page.set_input_files("#topology-file", str(newer))  # read B: answers at once
        page.wait_for_selector("#topology-check:not([disabled])")
        page.evaluate("window.__releaseFirst()")  # A's answer arrives last
        page.wait_for_function("window.__firstDone")
        page.click("#topology-check")
        page.wait_for_function(
            "!document.getElementById('topology-status').textContent"
            " && document.getElementById('topology-result').childElementCount > 0"
        )
        result = page.inner_text("#topology-result")
        assert page.locator("#topology-ok").count() == 1, result
        assert result.startswith("The file is valid"), result
    finally:
        page.context.close()
