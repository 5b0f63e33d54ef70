"""The platform admin's Storage page (``#storage``, issue #17): storage endpoints (register, show, edit the
capacity, drain with a reason, delete after a confirmation in the row) and lifecycle (tiering) policies (put,
delete), in Chromium on the shared role platform (authentication on). The other roles have no menu entry and the
API refuses their writes.

The endpoint registered here points at a port nothing listens on (127.0.0.1:9): the API stores it and answers it
unavailable; ids are unique per run, so endpoints and policies other tests made are left alone.
"""

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

API = "/api/v1"
GIB = 1024**3  # bytes
DAY = 86400.0  # seconds
NON_ADMINS = ("enterprise", "tenant_admin", "operator", "regulator")
DESKTOP = {"width": 1280, "height": 900}
FORM = "#page-storage form.storage-form"
PFORM = "#page-storage form.policy-form"


def _uid(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def _row(eid: str) -> str:
    return f"#storage-grid tbody tr[data-id='{eid}']"


@pytest.mark.browser
def test_admin_registers_edits_drains_shows_and_deletes_an_endpoint(
    chromium: Any, role_platform: RolePlatform, tmp_path: Path
) -> None:
    eid, pid = _uid("st-ep"), _uid("st-pol")
    page = login(chromium, role_platform, "admin", viewport=DESKTOP)
    admin = role_platform.client("admin")
    try:
        assert "#storage" in menu(page)
        open_view(page, role_platform, "storage")
        page.wait_for_selector("#storage-grid")
        assert page.inner_text("#page-storage h2") == "存储端点"

        # a bad URL: the API's message next to the url field, nothing stored
        page.fill(f"{FORM} input[name='id']", eid)
        page.fill(f"{FORM} input[name='center']", OPERATOR_CENTER)
        page.select_option(f"{FORM} select[name='temperature']", "warm")
        page.select_option(f"{FORM} select[name='medium']", "hdd")
        page.fill(f"{FORM} input[name='url']", "ftp://nowhere")
        page.fill(f"{FORM} input[name='bucket']", "hh-console-test")
        page.fill(f"{FORM} input[name='capacity_bytes']", "2")
        page.click("#storage-save")
        slot = page.locator(f"{FORM} [data-error-for='url']")
        slot.wait_for(state="visible")
        assert "http" in slot.inner_text()
        assert admin.get(f"{API}/storage-endpoints/{eid}").status_code == 404

        # register: 2 GiB, warm HDD at a port nothing listens on
        page.fill(f"{FORM} input[name='url']", "http://127.0.0.1:9")
        page.click("#storage-save")
        page.wait_for_selector(_row(eid))
        got = admin.get(f"{API}/storage-endpoints/{eid}").json()
        assert (got["center"], got["temperature"], got["medium"]) == (OPERATOR_CENTER, "warm", "hdd")
        assert got["capacity_bytes"] == 2 * GIB and got["connection"]["bucket"] == "hh-console-test"
        assert got["available"] is False and got["drained"] is False
        assert eid in page.inner_text("#storage-form-status")
        cells = page.inner_text(_row(eid))
        assert "2.0 GiB" in cells and "不可用" in cells

        # edit: 3 GiB, drained with a reason
        page.click(f"{_row(eid)} button[data-act='edit']")
        assert page.inner_text("#storage-form-title") == f"编辑存储端点 {eid}"
        page.fill(f"{FORM} input[name='capacity_bytes']", "3")
        page.check(f"{FORM} input[name='drained']")
        page.fill(f"{FORM} input[name='reason']", "磁盘更换 disk swap")
        page.click("#storage-save")
        page.wait_for_function(
            "id => document.getElementById('storage-form-status').innerText.includes(id)", arg=eid
        )
        got = admin.get(f"{API}/storage-endpoints/{eid}").json()
        assert (got["capacity_bytes"], got["drained"]) == (3 * GIB, True)
        assert "磁盘更换 disk swap" in got["reason"]
        page.wait_for_function(
            "id => document.querySelector(`tr[data-id='${id}']`).innerText.includes('3.0')", arg=eid
        )

        # show one: the detail panel with its connection (admin)
        page.click(f"{_row(eid)} button[data-act='show']")
        page.wait_for_selector("#storage-detail-title")
        assert page.inner_text("#storage-detail-title") == f"存储端点 {eid}"
        assert page.inner_text("#storage-detail dd[data-k='storage.d.url']") == "http://127.0.0.1:9"
        assert page.inner_text("#storage-detail dd[data-k='storage.col.capacity']") == "3.0 GiB"

        # a lifecycle policy: put (warm → cold after 45 idle days), then shown
        page.fill(f"{PFORM} input[name='id']", pid)
        page.select_option(f"{PFORM} select[name='from_temperature']", "warm")
        page.select_option(f"{PFORM} select[name='to_temperature']", "cold")
        page.fill(f"{PFORM} input[name='idle_s']", "45")
        page.click("#policy-save")
        page.wait_for_selector(f"#policies-grid tbody tr[data-id='{pid}']")
        pol = next(
            p for p in admin.get(f"{API}/lifecycle-policies?limit=200").json()["items"] if p["id"] == pid
        )
        assert (pol["from_temperature"], pol["to_temperature"], pol["idle_s"]) == ("warm", "cold", 45 * DAY)
        assert pol["tenant"] is None and pol["enabled"] is True

        assert missing_keys(page) == []
        assert axe_violations(page) == []
        screenshot(page, tmp_path, "console-storage-zh.png")

        # English: the same page, every key present
        page.goto(role_platform.url + "/?lang=en#storage")
        page.wait_for_selector(_row(eid))
        assert page.inner_text("#page-storage h2") == "Storage endpoints"
        assert "unavailable" in page.inner_text(_row(eid))
        assert missing_keys(page) == []

        # delete the policy, then the endpoint after the confirmation in its row
        page.click(f"#policies-grid tbody tr[data-id='{pid}'] button[data-act='delete-policy']")
        page.wait_for_selector(f"#policies-grid tbody tr[data-id='{pid}']", state="detached")
        assert pid not in {p["id"] for p in admin.get(f"{API}/lifecycle-policies?limit=200").json()["items"]}
        page.click(f"{_row(eid)} button[data-act='delete']")
        page.click(f"{_row(eid)} button[data-act='cancel-delete']")
        assert admin.get(f"{API}/storage-endpoints/{eid}").status_code == 200
        page.click(f"{_row(eid)} button[data-act='delete']")
        page.click(f"{_row(eid)} button[data-act='confirm-delete']")
        page.wait_for_selector(_row(eid), state="detached")
        assert admin.get(f"{API}/storage-endpoints/{eid}").status_code == 404
        assert eid in page.inner_text("#storage-status")
    finally:
        admin.delete(f"{API}/lifecycle-policies/{pid}")
        admin.delete(f"{API}/storage-endpoints/{eid}")
        admin.close()
        page.context.close()


@pytest.mark.browser
def test_other_roles_have_no_storage_page_and_cannot_write(
    chromium: Any, role_platform: RolePlatform
) -> None:
    eid, pid = _uid("st-no"), _uid("st-nopol")
    body = {"id": eid, "center": OPERATOR_CENTER, "temperature": "hot", "medium": "flash",
            "url": "http://127.0.0.1:9", "bucket": "hh-console-test", "capacity_bytes": GIB}  # fmt: skip
    policy = {"from_temperature": "hot", "to_temperature": "warm", "idle_s": DAY}
    with role_platform.client("admin") as admin:
        assert admin.post(f"{API}/storage-endpoints", json=body).status_code == 201
        try:
            for role in NON_ADMINS:
                page = login(chromium, role_platform, role, viewport=DESKTOP)
                try:
                    assert "#storage" not in menu(page), role
                finally:
                    page.context.close()
                with role_platform.client(role) as c:
                    assert (
                        c.post(f"{API}/storage-endpoints", json={**body, "id": _uid("st-x")}).status_code
                        == 403
                    )
                    assert c.delete(f"{API}/storage-endpoints/{eid}").status_code == 403, role
                    assert c.put(f"{API}/lifecycle-policies/{pid}", json=policy).status_code == 403, role
                    assert c.delete(f"{API}/lifecycle-policies/{pid}").status_code == 403, role
                    if role != "operator":  # an operator may drain its own center's endpoints
                        r = c.patch(f"{API}/storage-endpoints/{eid}", json={"drained": True})
                        assert r.status_code == 403, role
            assert admin.get(f"{API}/storage-endpoints/{eid}").json()["drained"] is False
        finally:
            assert admin.delete(f"{API}/storage-endpoints/{eid}").status_code == 204
