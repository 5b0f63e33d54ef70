"""The operator's Center storage page (pages/endpoints.js, ``#endpoints``): the storage endpoints of its own
centers, drained with a reason and resumed, their capacity changed (``PATCH /api/v1/storage-endpoints/{id}``),
on the shared role platform (authentication on). Another center's endpoint is neither listed nor accepted: the
API answers 403 and the page shows that answer. Attackers first.

The endpoints here point at a port nothing listens on (127.0.0.1:9: stored, answered unavailable), have ids of
their own per run and are deleted at the end; the one in the operator's center is restored before.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.console_support import (
    OPERATOR_CENTER,
    ROLES,
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
OTHER_CENTER = "ct-jinan"  # not the operator's
RUN = uuid.uuid4().hex[:6]
OWN, OTHER = f"console-ope-own-{RUN}", f"console-ope-other-{RUN}"


@pytest.fixture(scope="module")
def endpoints(role_platform: RolePlatform) -> Iterator[dict[str, str]]:
    """One endpoint in the operator's center, one in another center; deleted after."""
    made = {OWN: OPERATOR_CENTER, OTHER: OTHER_CENTER}
    with role_platform.client("admin") as admin:
        for eid, center in made.items():
            body = {"id": eid, "center": center, "temperature": "warm", "medium": "hdd",
                    "url": "http://127.0.0.1:9", "bucket": "hh-console-ope", "capacity_bytes": 2 * GIB}  # fmt: skip
            r = admin.post(f"{API}/storage-endpoints", json=body)
            assert r.status_code == 201, r.text
        try:
            yield made
        finally:
            for eid in made:
                admin.delete(f"{API}/storage-endpoints/{eid}")


def _endpoint(platform: RolePlatform, eid: str) -> dict[str, Any]:
    with platform.client("admin") as admin:
        r = admin.get(f"{API}/storage-endpoints/{eid}")
        assert r.status_code == 200, r.text
        return dict(r.json())


def test_operator_changes_only_its_own_centers_endpoints(
    role_platform: RolePlatform, endpoints: dict[str, str]
) -> None:
    with role_platform.client("operator") as op:
        r = op.patch(f"{API}/storage-endpoints/{OTHER}", json={"drained": True, "reason": "not mine"})
        assert r.status_code == 403 and "not in one of your centers" in r.text, r.text
        r = op.patch(f"{API}/storage-endpoints/{OWN}", json={"url": "http://127.0.0.1:10"})
        assert r.status_code == 403, r.text  # the connection is the admin's
        r = op.patch(f"{API}/storage-endpoints/{OWN}", json={"capacity_bytes": -1})
        assert r.status_code == 422 and "capacity_bytes" in r.text, r.text
    for role in ("enterprise", "regulator"):
        with role_platform.client(role) as c:
            assert c.patch(f"{API}/storage-endpoints/{OWN}", json={"drained": True}).status_code == 403
    assert not _endpoint(role_platform, OTHER)["drained"] and not _endpoint(role_platform, OWN)["drained"]
    assert _endpoint(role_platform, OWN)["capacity_bytes"] == 2 * GIB


@pytest.mark.browser
def test_menu_shows_center_storage_to_operators_only(
    chromium: Any, role_platform: RolePlatform, endpoints: dict[str, str]
) -> None:
    """The admin's one storage entry is Storage, which covers this page (``unless``; tests/test_console_menus.py)."""
    for role in ROLES:
        page = login(chromium, role_platform, role)
        try:
            assert ("#endpoints" in menu(page)) == (role == "operator"), role
            assert ("#storage" in menu(page)) == (role == "admin"), role
        finally:
            page.context.close()


@pytest.mark.browser
def test_operator_drains_resumes_and_sizes_its_endpoint(
    chromium: Any, role_platform: RolePlatform, endpoints: dict[str, str], tmp_path: Path
) -> None:
    page = login(chromium, role_platform, "operator")
    own_button = f"#ep-table button[data-id='{OWN}']"
    try:
        open_view(page, role_platform, "endpoints")
        page.wait_for_selector(own_button)
        shown = page.inner_text("#page-endpoints")
        assert OWN in shown and OTHER not in shown  # another center's endpoint is not offered
        assert "null" not in shown.split()
        assert page.evaluate(
            "c => [...document.querySelectorAll('#ep-table button[data-id]')].every(b => b.closest('tr')"
            ".textContent.includes(c))",
            OPERATOR_CENTER,
        )
        assert missing_keys(page) == [] and axe_violations(page) == []
        # drain with a reason: stored as drained with that reason
        page.fill("#ep-reason", "更换硬盘")
        page.click(f"{own_button}[data-act='drain']")
        page.wait_for_selector(f"{own_button}[data-act='resume']")
        got = _endpoint(role_platform, OWN)
        assert got["drained"] is True and got["reason"] == "更换硬盘"
        assert OWN in page.inner_text("#ep-message") and "更换硬盘" in page.inner_text("#ep-table")
        screenshot(page, tmp_path, "console-operator-endpoints-zh.png")
        # resume: in service again
        page.click(f"{own_button}[data-act='resume']")
        page.wait_for_selector(f"{own_button}[data-act='drain']")
        assert _endpoint(role_platform, OWN)["drained"] is False
        # capacity: 5 GiB stored; a negative one refused by the server, its message at the field
        page.select_option("#ep-cap-endpoint", OWN)
        page.fill("#ep-cap-gib", "5")
        page.click("#ep-capacity button[type='submit']")
        page.wait_for_function("document.getElementById('ep-message').textContent.includes('5.0 GiB')")
        assert _endpoint(role_platform, OWN)["capacity_bytes"] == 5 * GIB
        page.select_option("#ep-cap-endpoint", OWN)
        page.fill("#ep-cap-gib", "-1")
        page.click("#ep-capacity button[type='submit']")
        page.wait_for_function("document.getElementById('ep-cap-error-field').textContent.length > 0")
        assert "0" in page.inner_text("#ep-cap-error-field")
        assert _endpoint(role_platform, OWN)["capacity_bytes"] == 5 * GIB
        # a page made to drain another center's endpoint (its button's id changed): the API's 403 is shown
        page.evaluate(
            "([own, other]) => { document.querySelector(`#ep-table button[data-id='${own}']`).dataset.id = other; }",
            [OWN, OTHER],
        )
        page.click(f"#ep-table button[data-id='{OTHER}']")
        page.wait_for_function("document.getElementById('ep-message').textContent.includes('403')")
        assert "not in one of your centers" in page.inner_text("#ep-message")
        assert _endpoint(role_platform, OTHER)["drained"] is False
        # English, at a phone's width
        page.click("#lang-switch")
        page.wait_for_function(
            "document.querySelector('#page-endpoints h2').textContent.startsWith('Storage')"
        )
        page.set_viewport_size({"width": 390, "height": 844})
        page.wait_for_timeout(200)
        assert page.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth")
        assert missing_keys(page) == [] and axe_violations(page) == []
    finally:
        page.context.close()
        with role_platform.client("admin") as admin:  # restored whatever happened
            admin.patch(f"{API}/storage-endpoints/{OWN}", json={"drained": False, "capacity_bytes": 2 * GIB})
