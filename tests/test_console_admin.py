"""The platform admin's console pages (issue #17 item 6): Tenants and Topology, in Chromium on the shared role
platform (authentication on), and the API additions they use: ``PUT /api/v1/topology?dry_run=true`` (every check
of an import, nothing stored) and a tenant delete refused while jobs name the tenant.

The shared platform's network must stay ``shandong-mini`` exactly as it was (other console tests read it): the
module's guard compares it before and after, and puts it back if a test changed it.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from fastapi.testclient import TestClient

from huanghe.api.app import create_app
from huanghe.catalog.topology import loads_topology
from huanghe.settings import Settings
from tests.console_support import (
    RolePlatform,
    axe_violations,
    login,
    menu,
    missing_keys,
    open_view,
    screenshot,
    wait_for,
)

API = "/api/v1"
NON_ADMINS = ("enterprise", "tenant_admin", "operator", "regulator")
DESKTOP = {"width": 1280, "height": 900}


def _uid(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def _detail(r: Any) -> list[tuple[str, str]]:
    return [(d["path"], d["message"]) for d in r.json()["detail"]]


# ---- API: dry run, delete refusals (no browser) ------------------------------------------------------------


@pytest.fixture
def any_client(db_url: str) -> Iterator[TestClient]:
    """An app (authentication off) on a fresh SQLite or PostgreSQL database."""
    with TestClient(create_app(Settings(database_url=db_url, migrate_on_startup=True))) as client:
        yield client


def test_dry_run_checks_everything_and_stores_nothing(
    any_client: TestClient, mini_network_path: Path
) -> None:
    client = any_client
    text = mini_network_path.read_text(encoding="utf-8")
    ytype = {"content-type": "application/yaml"}
    r = client.put(f"{API}/topology?dry_run=true", content=text, headers=ytype)
    assert r.status_code == 200, r.text
    assert r.json() == {
        "name": "mini", "mode": "replace", "regions": 2, "cities": 3, "centers": 3, "pools": 3, "links": 2,
    }  # fmt: skip
    assert client.get(f"{API}/topology").status_code == 404  # nothing stored
    assert client.put(f"{API}/topology", content=text, headers=ytype).json() == r.json()
    stored = client.get(f"{API}/topology").json()

    doc = yaml.safe_load(text)
    smaller = {**doc, "centers": doc["centers"][:2], "links": doc["links"][:1]}
    r = client.put(f"{API}/topology?dry_run=true", json=smaller)
    pools = sum(len(c["pools"]) for c in smaller["centers"])
    assert r.status_code == 200 and (r.json()["centers"], r.json()["pools"]) == (2, pools)
    assert client.put(f"{API}/topology?dry_run=true&mode=merge", json=smaller).json()["mode"] == "merge"
    assert client.get(f"{API}/topology").json() == stored  # neither dry run changed anything

    # an invalid document: the same errors as a real import, at their paths
    doc = yaml.safe_load(text)
    doc["centers"][1]["pools"][0]["gpus_per_node"] = -1
    doc["centers"][0]["city"] = "atlantis"
    dry = client.put(f"{API}/topology?dry_run=true", json=doc)
    real = client.put(f"{API}/topology", json=doc)
    assert dry.status_code == real.status_code == 422
    assert _detail(dry) == _detail(real)
    assert ("body.centers[1].pools[0].gpus_per_node", "must be >= 0") in _detail(dry)
    # the database's own refusals too (a center holding a dataset would be removed): 409, nothing stored
    client.post(f"{API}/tenants", json={"id": "t", "name": "T"})
    center = stored["centers"][2]["id"]
    ds = {"id": "d", "tenant": "t", "name": "d", "center": center, "size_gb": 1}
    assert client.post(f"{API}/datasets", json=ds).status_code == 201
    r = client.put(f"{API}/topology?dry_run=true", json=smaller)
    assert r.status_code == 409 and "'d'" in _detail(r)[0][1]
    assert client.get(f"{API}/topology").json() == stored
    assert client.put(f"{API}/topology?dry_run=maybe", content=text).status_code == 422


def test_tenant_delete_refused_while_users_or_jobs_name_it(role_platform: RolePlatform) -> None:
    tid = _uid("refuse")
    with role_platform.client("admin") as admin:
        assert admin.post(f"{API}/tenants", json={"id": tid, "name": "Refuse"}).status_code == 201
        user = {"id": _uid("u"), "name": "U", "tenant": tid}
        assert admin.post(f"{API}/users", json=user).status_code == 201
        r = admin.delete(f"{API}/tenants/{tid}")
        assert r.status_code == 409 and "1 users" in r.json()["detail"][0]["message"]
        assert admin.delete(f"{API}/users/{user['id']}").status_code == 204
        job = admin.post(f"{API}/jobs", json={"command": "true", "tenant": tid, "cpus": 1})
        assert job.status_code == 201, job.text
        r = admin.delete(f"{API}/tenants/{tid}")
        assert r.status_code == 409, r.text
        assert f"tenant {tid!r} is still used by 1 jobs" in r.json()["detail"][0]["message"]
        assert admin.get(f"{API}/tenants/{tid}").status_code == 200


def test_non_admins_are_refused_the_admin_calls(role_platform: RolePlatform) -> None:
    text = ""
    with role_platform.client("admin") as admin:
        text = admin.get(f"{API}/topology?format=yaml").text
    for role in (*NON_ADMINS, "rival"):
        with role_platform.client(role) as c:
            caps = set(c.get(f"{API}/auth/capabilities").json()["routes"])
            assert not caps & {f"POST {API}/tenants", f"PUT {API}/topology", f"GET {API}/secrets"}, role
            calls = [
                c.post(f"{API}/tenants", json={"id": _uid("x"), "name": "X"}),
                c.patch(f"{API}/tenants/acme", json={"name": "Hijacked"}),
                c.delete(f"{API}/tenants/rival"),
                c.put(
                    f"{API}/topology?dry_run=true", content=text, headers={"content-type": "application/yaml"}
                ),
                c.put(f"{API}/topology", content=text, headers={"content-type": "application/yaml"}),
                c.get(f"{API}/secrets"),
                c.put(f"{API}/secrets/{_uid('s')}", json={"value": "x"}),
            ]
            assert [r.status_code for r in calls] == [403] * len(calls), (role, [r.text for r in calls])
    with role_platform.client("admin") as admin:
        assert admin.get(f"{API}/tenants/acme").json()["name"] == "示例制造 Acme"


# ---- in Chromium -------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def original(role_platform: RolePlatform) -> Iterator[dict[str, Any]]:
    """The shared network before this module; after it, the same (put back and reported if it was not)."""
    with role_platform.client("admin") as admin:
        before = admin.get(f"{API}/topology").json()
        yaml_text = admin.get(f"{API}/topology?format=yaml").text
    assert before["name"] == "shandong-mini"
    yield {"json": before, "yaml": yaml_text}
    with role_platform.client("admin") as admin:
        after = admin.get(f"{API}/topology").json()
        if after != before:
            admin.put(f"{API}/topology", json=before)
        assert after == before, "the shared platform's topology changed"


def _check_page(page: Any) -> None:
    assert missing_keys(page) == []
    assert axe_violations(page) == []


@pytest.mark.browser
def test_admin_creates_edits_and_deletes_tenants(
    chromium: Any, role_platform: RolePlatform, tmp_path: Path
) -> None:
    tid, busy = _uid("adm"), _uid("busy")
    page = login(chromium, role_platform, "admin", viewport=DESKTOP)
    admin = role_platform.client("admin")
    try:
        assert {"#tenants", "#topology"} <= set(menu(page))
        open_view(page, role_platform, "tenants")
        page.wait_for_selector("#tenants-grid tbody tr[data-id='acme']")
        assert page.inner_text("#page-tenants h2") == "租户"
        total = admin.get(f"{API}/tenants").json()["total"]
        assert page.inner_text("#tenants-count") == f"共 {total} 个租户"

        # a bad id: the API's message next to the id field, nothing created
        form = "#page-tenants form.tenant-form"
        page.fill(f"{form} input[name='id']", "Bad ID!")
        page.fill(f"{form} input[name='name']", "坏编号")
        page.click("#tenant-save")
        slot = page.locator(f"{form} [data-error-for='id']")
        slot.wait_for(state="visible")
        api = admin.post(f"{API}/tenants", json={"id": "Bad ID!", "name": "x"})
        assert api.status_code == 422 and slot.inner_text() == api.json()["detail"][0]["message"]

        # create (not an SME), then a second one with a user
        page.fill(f"{form} input[name='id']", tid)
        page.fill(f"{form} input[name='name']", "黄河测试 Admin")
        page.fill(f"{form} input[name='sector']", "energy")
        page.uncheck(f"{form} input[name='is_sme']")
        page.click("#tenant-save")
        page.wait_for_function(
            "id => document.getElementById('tenant-form-status').innerText.includes(id)", arg=tid
        )
        assert admin.get(f"{API}/tenants/{tid}").json() == {
            "id": tid, "name": "黄河测试 Admin", "sector": "energy", "is_sme": False,
        }  # fmt: skip
        assert page.inner_text(f"{form} [data-error-for='id']") == ""
        assert admin.post(f"{API}/tenants", json={"id": busy, "name": "Busy"}).status_code == 201
        assert (
            admin.post(f"{API}/users", json={"id": _uid("u"), "name": "U", "tenant": busy}).status_code == 201
        )

        # the same id again: the API's 409 (path body.id) next to the id field
        page.fill(f"{form} input[name='id']", tid)
        page.fill(f"{form} input[name='name']", "again")
        page.click("#tenant-save")
        slot.wait_for(state="visible")
        assert slot.inner_text() == f"tenant {tid!r} already exists"

        # the list filtered by sector shows the new tenant with its counts
        page.fill("#tenant-sector-filter", "energy")
        page.press("#tenant-sector-filter", "Enter")
        row = page.locator(f"#tenants-grid tr[data-id='{tid}']")
        row.wait_for()
        page.wait_for_function("() => !document.getElementById('tenants-grid').innerText.includes('acme')")
        wait_for("counts", lambda: row.locator("td").nth(4).inner_text() == "0")
        assert [row.locator("td").nth(i).inner_text() for i in range(6)] == [
            tid, "黄河测试 Admin", "energy", "否", "0", "0",
        ]  # fmt: skip

        # edit: the id stays, the rest changes
        row.locator("button[data-act='edit']").click()
        assert page.inner_text("#tenant-form-title") == f"编辑租户 {tid}"
        assert page.get_attribute(f"{form} input[name='id']", "readonly") is not None
        page.fill(f"{form} input[name='name']", "黄河测试 改名")
        page.check(f"{form} input[name='is_sme']")
        page.click("#tenant-save")
        page.wait_for_function(
            "id => document.getElementById('tenant-form-status').innerText.includes(id)", arg=tid
        )
        assert admin.get(f"{API}/tenants/{tid}").json()["name"] == "黄河测试 改名"
        page.wait_for_function(
            "id => document.querySelector(`#tenants-grid tr[data-id='${id}']`).innerText.includes('改名')",
            arg=tid,
        )
        assert page.inner_text("#tenant-form-title") == "新建租户"

        # delete a tenant that still has a user: confirmed, refused with the API's words, still there
        page.fill("#tenant-sector-filter", "")
        page.press("#tenant-sector-filter", "Enter")
        busy_row = page.locator(f"#tenants-grid tr[data-id='{busy}']")
        busy_row.wait_for()
        wait_for("user count", lambda: busy_row.locator("td").nth(4).inner_text() == "1")
        busy_row.locator("button[data-act='delete']").click()
        assert f"确定删除租户 {busy}？" in busy_row.inner_text()
        busy_row.locator("button[data-act='confirm-delete']").click()
        page.wait_for_selector("#tenants-action-error .alert")
        refused = page.inner_text("#tenants-action-error")
        assert "无法删除租户" in refused and "still used by 1 users" in refused
        assert admin.get(f"{API}/tenants/{busy}").status_code == 200
        page.evaluate("window.scrollTo(0, 0)")
        screenshot(page, tmp_path, "console-tenants-zh.png")
        _check_page(page)

        # cancel, then delete for real
        row = page.locator(f"#tenants-grid tr[data-id='{tid}']")
        row.locator("button[data-act='delete']").click()
        row.locator("button[data-act='cancel-delete']").click()
        assert admin.get(f"{API}/tenants/{tid}").status_code == 200
        row.locator("button[data-act='delete']").click()
        row.locator("button[data-act='confirm-delete']").click()
        row.wait_for(state="detached")
        assert admin.get(f"{API}/tenants/{tid}").status_code == 404
        assert f"已删除租户 {tid}" in page.inner_text("#tenants-status")

        page.click("#lang-switch")
        page.wait_for_function("document.querySelector('#page-tenants h2').innerText === 'Tenants'")
        assert "Actions" in page.inner_text("#tenants-grid thead")
        _check_page(page)
    finally:
        admin.close()
        page.context.close()


def _bad(doc_text: str) -> tuple[dict[str, Any], str]:
    """The network with a pool's GPUs per node negative, an unknown field in a center and another center's
    latitude missing: (doc, path of the pool's field)."""
    doc = yaml.safe_load(doc_text)
    ci = next(i for i, c in enumerate(doc["centers"]) if i >= 3 and c["pools"])
    doc["centers"][ci]["pools"][0]["gpus_per_node"] = -1
    doc["centers"][1]["colour"] = "red"
    del doc["centers"][2]["lat"]
    return doc, f"centers[{ci}].pools[0].gpus_per_node"


@pytest.mark.browser
def test_admin_topology_import_errors_and_round_trip(
    chromium: Any, role_platform: RolePlatform, original: dict[str, Any], tmp_path: Path
) -> None:
    page = login(chromium, role_platform, "admin", lang="en", viewport=DESKTOP)
    admin = role_platform.client("admin")
    try:
        open_view(page, role_platform, "topology")
        page.wait_for_selector("#topology-name")
        topo = original["json"]
        assert page.inner_text("#topology-name") == "shandong-mini"
        pools = sum(len(c["pools"]) for c in topo["centers"])
        assert f"{len(topo['centers'])} centers · {pools} pools" in page.inner_text("#topology-counts")

        # export: the YAML file is the API's, and it reads back as the stored network
        with page.expect_download() as dl:
            page.click("#topology-export-yaml")
        exported = tmp_path / "exported.yaml"
        dl.value.save_as(exported)
        assert dl.value.suggested_filename == "shandong-mini.yaml"
        assert exported.read_text(encoding="utf-8") == original["yaml"]
        assert loads_topology(original["yaml"]).model_dump(mode="json") == topo

        # an invalid file: checked, each error at its path with the file's line, nothing stored, no import
        doc, bad_path = _bad(original["yaml"])
        bad = tmp_path / "bad-network.yaml"
        bad.write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False), encoding="utf-8")
        page.set_input_files("#topology-file", str(bad))
        page.click("#topology-check")
        page.wait_for_selector("#topology-errors li")
        ytype = {"content-type": "application/yaml"}
        api = admin.put(f"{API}/topology?dry_run=true", content=bad.read_bytes(), headers=ytype)
        assert api.status_code == 422
        shown = page.eval_on_selector_all(
            "#topology-errors > li",
            "ls => ls.map(l => [l.dataset.path, l.querySelector('.err-message').innerText])",
        )
        assert shown == [[p.removeprefix("body."), m] for p, m in _detail(api)]
        assert [bad_path, "must be >= 0"] in shown and ["centers[1].colour", "unknown field"] in shown
        item = page.locator(f"#topology-errors li[data-path='{bad_path}']")
        assert item.locator("mark.hit").inner_text().endswith("gpus_per_node: -1")
        line = int(item.locator("mark.hit").inner_text().split("│")[0])
        assert bad.read_text(encoding="utf-8").splitlines()[line - 1].strip() == "gpus_per_node: -1"
        assert f"(line {line})" in item.inner_text()
        colour = page.locator("#topology-errors li[data-path='centers[1].colour'] mark.hit").inner_text()
        assert colour.endswith("colour: red")
        missing = page.locator("#topology-errors li[data-path='centers[2].lat'] mark.hit").inner_text()
        assert missing.endswith(
            f"- id: {doc['centers'][2]['id']}"
        )  # a missing field: its object's first line
        assert "nothing was stored" in page.inner_text("#topology-result")
        assert page.is_disabled("#topology-import")
        assert admin.get(f"{API}/topology").json() == topo
        page.evaluate("window.scrollTo(0, 0)")
        screenshot(page, tmp_path, "console-topology-error-en.png")
        _check_page(page)

        # the same errors in a JSON file (indented): located in the JSON text
        bad_json = tmp_path / "bad-network.json"
        bad_json.write_text(json.dumps(doc, indent=2, ensure_ascii=False), encoding="utf-8")
        page.set_input_files("#topology-file", str(bad_json))
        page.click("#topology-check")
        page.wait_for_selector(f"#topology-errors li[data-path='{bad_path}'] mark.hit")
        hit = page.inner_text(f"#topology-errors li[data-path='{bad_path}'] mark.hit")
        assert hit.endswith('"gpus_per_node": -1,')
        unreadable = tmp_path / "broken.json"
        unreadable.write_text('{\n  "name": "x",\n  "regions": [\n', encoding="utf-8")
        page.set_input_files("#topology-file", str(unreadable))
        page.click("#topology-check")
        page.wait_for_selector("#topology-errors li mark.hit")
        assert "invalid JSON" in page.inner_text("#topology-errors")

        # the exported file back in: checked, imported; the network is exactly as before
        page.set_input_files("#topology-file", str(exported))
        page.click("#topology-check")
        page.wait_for_selector("#topology-ok")
        assert page.inner_text("#topology-ok").startswith("The file is valid: it would store")
        assert not page.is_disabled("#topology-import")
        page.select_option("#topology-mode", "merge")
        assert page.is_disabled("#topology-import")  # a check holds for its mode only
        page.select_option("#topology-mode", "replace")
        page.click("#topology-check")
        page.wait_for_selector("#topology-ok")
        page.click("#topology-import")
        page.wait_for_function("document.getElementById('topology-ok')?.innerText.startsWith('Imported')")
        assert admin.get(f"{API}/topology").json() == topo
        assert admin.get(f"{API}/topology?format=yaml").text == original["yaml"]
        _check_page(page)
    finally:
        admin.close()
        page.context.close()


@pytest.mark.browser
def test_topology_page_in_chinese_sets_a_credential(
    chromium: Any, role_platform: RolePlatform, original: dict[str, Any], tmp_path: Path
) -> None:
    name, value = _uid("cred"), "s3cret-" + uuid.uuid4().hex
    page = login(chromium, role_platform, "admin", viewport=DESKTOP)
    admin = role_platform.client("admin")
    try:
        open_view(page, role_platform, "topology")
        page.wait_for_selector("#topology-name")
        assert page.inner_text("#page-topology h2") == "网络拓扑"
        assert "个算力中心" in page.inner_text("#topology-counts")
        form = "#topology-secrets form"
        page.fill(f"{form} input[name='name']", name)
        page.fill(f"{form} input[name='description']", "测试用 Slurm 令牌")
        page.fill(f"{form} input[name='value']", value)
        page.click(f"{form} button[type='submit']")
        page.wait_for_selector(f"#secrets-grid td:text-is('{name}')")
        assert f"已保存凭据 {name}" in page.inner_text("#secret-status")
        assert page.input_value(f"{form} input[name='value']") == ""
        assert value not in page.content()
        got = admin.get(f"{API}/secrets/{name}").json()
        assert got["description"] == "测试用 Slurm 令牌" and value not in json.dumps(got)
        # a bad name: the API's answer under the form
        page.fill(f"{form} input[name='name']", "Bad Name")
        page.fill(f"{form} input[name='value']", "x")
        page.click(f"{form} button[type='submit']")
        page.wait_for_selector("#secret-error .alert, #topology-secrets [data-error-for='name']:not(:empty)")
        page.evaluate("window.scrollTo(0, 0)")
        screenshot(page, tmp_path, "console-topology-zh.png")
        _check_page(page)

        # delete: a second click confirms
        button = page.locator(f"#secrets-grid button[data-act='delete'][data-name='{name}']")
        button.click()
        assert button.inner_text() == "确认删除" and admin.get(f"{API}/secrets/{name}").status_code == 200
        button.click()
        button.wait_for(state="detached")
        assert admin.get(f"{API}/secrets/{name}").status_code == 404
    finally:
        admin.close()
        page.context.close()


@pytest.mark.browser
@pytest.mark.parametrize("role", NON_ADMINS)
def test_non_admins_do_not_see_the_admin_pages(chromium: Any, role_platform: RolePlatform, role: str) -> None:
    page = login(chromium, role_platform, role)
    try:
        entries = set(menu(page))
        assert "#overview" in entries and not entries & {"#tenants", "#topology"}, entries
        page.goto(f"{role_platform.url}/#topology")  # opened by its address: the API still refuses the import
        page.wait_for_selector("[data-view='topology']:not([hidden]) #topology-summary")
        assert page.locator("#topology-secrets").count() == 0  # no credentials section without the right
        assert missing_keys(page) == []
    finally:
        page.context.close()
