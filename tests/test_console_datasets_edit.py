"""The Datasets page's edit form (pages/datasets_edit.js → ``PATCH /api/v1/datasets/{id}``), a transfer's page
(pages/transfer.js → ``GET /api/v1/transfers/{id}``) and a tenant's tiering policies (``GET
/api/v1/lifecycle-policies``), on the shared role platform (authentication on), attackers first.

Two storage endpoints of their own on the real SeaweedFS servers of ``seaweed_servers``, in centers no other
console test stores data in (Yantai, Dezhou: the other tests' replication rules and uploads never pick them);
the dataset, rule, transfer and policies here have their own ids, and the policies are deleted at the end.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.console_support import (
    RolePlatform,
    axe_violations,
    login,
    missing_keys,
    open_view,
    screenshot,
    wait_for,
)
from tests.infra.seaweed import SeaweedServer, store_on, unique_bucket

API = "/api/v1"
DAY = 86400.0  # seconds
#: endpoint id → center (hot, flash), one per SeaweedFS server
ENDPOINTS = {"console-dse-yt": "yantai-regional", "console-dse-dz": "dezhou-regional"}
DATASET = "acme-console-edit"
RIVAL_DATASET = "rival-console-edit"
PAYLOAD = b"edit me " * 1000  # 8000 bytes, one request
RUN = uuid.uuid4().hex[:6]
#: policy id → (tenant or None for the province's, from, to, idle days, minimum age days)
POLICIES = {
    f"dse-prov-{RUN}": (None, "hot", "warm", 30, 7),
    f"dse-acme-{RUN}": ("acme", "warm", "cold", 90, 0),
    f"dse-rival-{RUN}": ("rival", "hot", "cold", 12, 0),
}


@pytest.fixture(scope="module")
def edited(role_platform: RolePlatform, seaweed_servers: list[SeaweedServer]) -> Iterator[dict[str, Any]]:
    """The endpoints, acme's dataset with one file copied by a rule from Yantai to Dezhou (the transfer done),
    the rival's dataset, and three tiering policies (the province's, acme's, the rival's; deleted after)."""
    with role_platform.client("admin") as admin:
        for i, ((eid, center), srv) in enumerate(zip(ENDPOINTS.items(), seaweed_servers, strict=True)):
            bucket = unique_bucket("console-dse")
            store_on(srv, bucket)
            for kind, value in (("access", srv.access_key), ("secret", srv.secret_key)):
                r = admin.put(f"{API}/secrets/console-dse-{i}-{kind}", json={"value": value})
                assert r.status_code == 200, r.text
            body = {"id": eid, "center": center, "temperature": "hot", "medium": "flash", "url": srv.s3_url,
                    "bucket": bucket, "access_key_secret": f"console-dse-{i}-access",
                    "secret_key_secret": f"console-dse-{i}-secret", "capacity_bytes": 10**11}  # fmt: skip
            r = admin.post(f"{API}/storage-endpoints", json=body)
            assert r.status_code == 201 and r.json()["available"], r.text
        for pid, (tenant, src, dst, idle_d, age_d) in POLICIES.items():
            body = {"tenant": tenant, "from_temperature": src, "to_temperature": dst, "idle_s": idle_d * DAY,
                    "min_age_s": age_d * DAY}  # fmt: skip
            r = admin.put(f"{API}/lifecycle-policies/{pid}", json=body)
            assert r.status_code == 200, r.text
    with role_platform.client("enterprise") as acme, role_platform.client("rival") as rival:
        r = acme.post(
            f"{API}/datasets:register", json={"id": DATASET, "name": "before", "center": "yantai-regional"}
        )
        assert r.status_code == 201, r.text
        r = acme.put(f"{API}/datasets/{DATASET}/files/a.bin", content=PAYLOAD)
        assert r.status_code == 201, r.text
        r = acme.post(
            f"{API}/rules", json={"dataset": DATASET, "copies": 1, "expression": "center=dezhou-regional"}
        )
        assert r.status_code == 201, r.text

        def done() -> Any:
            items = acme.get(f"{API}/transfers?dataset={DATASET}").json()["items"]
            return items[0] if items and items[0]["state"] == "done" else None

        transfer = wait_for("the transfer to Dezhou", done, timeout_s=40)
        r = rival.post(f"{API}/datasets:register", json={"id": RIVAL_DATASET, "center": "yantai-regional"})
        assert r.status_code == 201, r.text
    try:
        yield {"transfer": transfer}
    finally:
        with role_platform.client("admin") as admin:
            for pid in POLICIES:
                admin.delete(f"{API}/lifecycle-policies/{pid}")


# ---- API level: attackers first ------------------------------------------------------------------------------


def test_the_other_tenant_can_neither_edit_nor_read(
    role_platform: RolePlatform, edited: dict[str, Any]
) -> None:
    tid = edited["transfer"]["id"]
    with role_platform.client("rival") as rival, role_platform.client("enterprise") as acme:
        r = rival.patch(f"{API}/datasets/{DATASET}", json={"name": "mine now"})
        unknown = rival.patch(f"{API}/datasets/no-such-ds", json={"name": "x"})
        assert r.status_code == unknown.status_code == 404, r.text
        assert rival.get(f"{API}/transfers/{tid}").status_code == 404
        assert rival.get(f"{API}/transfers/{tid}").text.replace(str(tid), "N") == rival.get(
            f"{API}/transfers/999999"
        ).text.replace("999999", "N")
        # a tenant cannot hand its dataset to another tenant
        r = acme.patch(f"{API}/datasets/{DATASET}", json={"tenant": "rival"})
        assert r.status_code == 403, r.text
        assert acme.get(f"{API}/datasets/{DATASET}").json()["tenant"] == "acme"
        assert acme.get(f"{API}/datasets/{DATASET}").json()["name"] == "before"
        # tiering policies: the province's and its own, never the other tenant's
        for who, own, other in ((acme, "acme", "rival"), (rival, "rival", "acme")):
            seen = {
                p["id"]: p["tenant"] for p in who.get(f"{API}/lifecycle-policies?limit=200").json()["items"]
            }
            assert seen[f"dse-prov-{RUN}"] is None and seen[f"dse-{own}-{RUN}"] == own
            assert f"dse-{other}-{RUN}" not in seen and other not in seen.values()


def test_a_class_change_must_leave_every_copy_lawful(
    role_platform: RolePlatform, edited: dict[str, Any]
) -> None:
    """The dataset is general, home Yantai, its file copied to Dezhou: a change of class that would leave that
    copy (or the home) unlawful is refused at the field changed; a catalogued dataset stays important or core."""
    with role_platform.client("enterprise") as acme, role_platform.client("regulator") as reg:
        r = acme.patch(f"{API}/datasets/{DATASET}", json={"data_class": "core"})
        assert r.status_code == 422 and r.json()["detail"][0]["path"] == "body.data_class", r.text
        assert "home center yantai-regional does not accept core" in r.text
        r = acme.patch(f"{API}/datasets/{DATASET}", json={"data_class": "important"})
        assert r.status_code == 422 and "a copy is held in dezhou-regional" in r.text, r.text
        assert acme.get(f"{API}/datasets/{DATASET}").json()["data_class"] == "general"
        # with Dezhou allowed it may; and back (the browser test starts from general data)
        body = {"data_class": "important", "allowed_centers": ["dezhou-regional"]}
        assert acme.patch(f"{API}/datasets/{DATASET}", json=body).status_code == 200
        r = acme.patch(f"{API}/datasets/{DATASET}", json={"allowed_centers": []})
        assert r.status_code == 422 and r.json()["detail"][0]["path"] == "body.allowed_centers", r.text
        r = acme.patch(f"{API}/datasets/{DATASET}", json={"data_class": "general", "allowed_centers": []})
        assert r.status_code == 200, r.text
        # in the protection catalog: never general again
        cat = f"acme-console-cat-{RUN}"
        r = acme.post(
            f"{API}/datasets:register",
            json={"id": cat, "data_class": "important", "center": "yantai-regional"},
        )
        assert r.status_code == 201, r.text
        r = reg.post(f"{API}/protection", json={"dataset": cat, "owner": "Acme", "purpose": "sensor archive"})
        assert r.status_code == 201, r.text
        r = acme.patch(f"{API}/datasets/{cat}", json={"data_class": "general"})
        assert r.status_code == 422 and "protection catalog" in r.text, r.text
        assert acme.patch(f"{API}/datasets/{cat}", json={"name": "still important"}).status_code == 200


# ---- in Chromium ---------------------------------------------------------------------------------------------


def _shown(page: Any) -> None:
    assert missing_keys(page) == []
    assert axe_violations(page) == []


@pytest.mark.browser
def test_enterprise_edits_its_dataset_and_opens_a_transfer(
    chromium: Any, role_platform: RolePlatform, edited: dict[str, Any], tmp_path: Path
) -> None:
    tid = edited["transfer"]["id"]
    page = login(chromium, role_platform, "enterprise")
    try:
        # tiering policies on the list: the province's and acme's, in words; not the rival's
        open_view(page, role_platform, "datasets")
        page.wait_for_selector("#dse-policies")
        text = page.inner_text("#dse-policies")
        assert f"dse-prov-{RUN}" in text and f"dse-acme-{RUN}" in text and f"dse-rival-{RUN}" not in text
        assert "热存储中连续 30 天未读取的副本移到温存储（且已存放至少 7 天）" in text
        assert "本单位（acme）" in text and "全省" in text
        _shown(page)
        screenshot(page, tmp_path, "console-datasets-policies-zh.png")

        # edit: a refused name first (a bidi override): the server's message at the name field, nothing stored
        open_view(page, role_platform, f"datasets/{DATASET}")
        page.click("#dse-open")
        page.wait_for_selector("#dse-form")
        page.fill("#dse-form input[name='name']", "evil\u202ename")
        page.click("#dse-form button[type='submit']")
        page.wait_for_function("document.getElementById('dse-error-name').textContent.length > 0")
        assert "bidi" in page.inner_text("#dse-error-name")
        assert page.get_attribute("#dse-form input[name='name']", "aria-invalid") == "true"
        with role_platform.client("enterprise") as acme:
            assert acme.get(f"{API}/datasets/{DATASET}").json()["name"] == "before"
        _shown(page)
        # core data at Yantai: refused, the server's message at the class field
        page.fill("#dse-form input[name='name']", "传感器数据 2026")
        assert page.is_hidden("#dse-lower-note")  # general data: nothing lower to choose
        page.select_option("#dse-form select[name='data_class']", "core")
        page.click("#dse-form button[type='submit']")
        page.wait_for_function("document.getElementById('dse-error-data_class').textContent.length > 0")
        assert "does not accept core" in page.inner_text("#dse-error-data_class")
        assert page.inner_text("#dse-error-name") == ""
        # then a good change: name, class important with Dezhou allowed, temperature warm
        page.select_option("#dse-form select[name='data_class']", "important")
        page.select_option("#dse-form select[name='allowed_centers']", ["dezhou-regional"])
        page.select_option("#dse-form select[name='temperature']", "warm")
        page.evaluate("window.scrollTo(0, 0)")  # the top bar stays on top: a full-page shot from the top
        screenshot(page, tmp_path, "console-dataset-edit-zh.png")
        page.click("#dse-form button[type='submit']")
        page.wait_for_selector("#dse-status")
        summary = page.inner_text("#page-datasets dl.kv")
        assert "传感器数据 2026" in summary and "重要数据" in summary and "温" in summary
        with role_platform.client("enterprise") as acme:
            ds = acme.get(f"{API}/datasets/{DATASET}").json()
        assert (ds["name"], ds["data_class"], ds["temperature"], ds["allowed_centers"]) == (
            "传感器数据 2026", "important", "warm", ["dezhou-regional"])  # fmt: skip
        assert "dezhou-regional" in page.inner_text("#ds-residency")
        # now important: choosing general again says the regulator is told (not saved here)
        page.click("#dse-open")
        page.select_option("#dse-form select[name='data_class']", "general")
        assert page.is_visible("#dse-lower-note") and "监管" in page.inner_text("#dse-lower-note")
        page.select_option("#dse-form select[name='data_class']", "important")
        assert page.is_hidden("#dse-lower-note")
        page.click("#dse-cancel")
        page.wait_for_selector("#dse-open")  # redrawn after the cancel (else it may replace the link)

        # the transfer's page, from the dataset's transfers
        page.click(f"#ds-transfers a[data-transfer='{tid}']")
        page.wait_for_selector("#transfer-kv")
        assert page.evaluate("location.hash") == f"#transfer/{tid}"
        kv = page.inner_text("#transfer-kv")
        assert "console-dse-yt" in kv and "console-dse-dz" in kv and "a.bin" in kv
        assert f"{len(PAYLOAD):,}" in kv and "1 / " in kv
        assert page.get_attribute("#transfer-state", "data-state") == "done"
        assert not page.query_selector("#transfer-retry")
        assert "null" not in page.inner_text("#page-transfer").split()
        _shown(page)
        screenshot(page, tmp_path, "console-transfer-zh.png")
        page.click("#lang-switch")
        page.wait_for_function(
            "document.querySelector('#page-transfer h2').textContent.startsWith('Transfer')"
        )
        assert "Destination endpoint" in page.inner_text("#transfer-kv")
        _shown(page)
        page.set_viewport_size({"width": 390, "height": 844})
        page.wait_for_timeout(200)
        assert page.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth")
        page.click(f"#page-transfer a[href='#datasets/{DATASET}']")
        page.wait_for_selector("#dse-open")
        page.click("#dse-open")
        page.wait_for_selector("#dse-form")
        assert page.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth")
        _shown(page)
        open_view(page, role_platform, "datasets")
        page.wait_for_selector("#dse-policies")
        assert (
            "Copies on hot storage not read for 30 days move to warm storage (once at least 7 days old)"
            in (page.inner_text("#dse-policies"))
        )
        _shown(page)
    finally:
        page.context.close()


@pytest.mark.browser
def test_rival_sees_neither_the_dataset_nor_its_transfer(
    chromium: Any, role_platform: RolePlatform, edited: dict[str, Any]
) -> None:
    tid = edited["transfer"]["id"]
    page = login(chromium, role_platform, "rival")
    try:
        open_view(page, role_platform, "datasets")
        page.wait_for_selector("#dse-policies")
        assert DATASET not in page.inner_text("#page-datasets")
        assert f"dse-rival-{RUN}" in page.inner_text("#dse-policies")
        assert f"dse-acme-{RUN}" not in page.inner_text("#dse-policies")
        open_view(page, role_platform, f"datasets/{DATASET}")
        page.wait_for_selector("#ds-not-found")
        assert not page.query_selector("#dse-open")
        open_view(page, role_platform, f"transfer/{tid}")
        page.wait_for_selector("#transfer-not-found")
        assert "console-dse-yt" not in page.content() and "a.bin" not in page.content()
        # its own dataset: the edit form is there, and a change of another's dataset from the page is refused
        open_view(page, role_platform, f"datasets/{RIVAL_DATASET}")
        page.wait_for_selector("#dse-open")
        status = page.evaluate(
            """id => HH.api(`/api/v1/datasets/${id}`, {method: "PATCH", body: {name: "x"}})
                 .then(() => 200, (err) => err.status)""",
            DATASET,
        )
        assert status == 404
        assert missing_keys(page) == []
    finally:
        page.context.close()
    with role_platform.client("enterprise") as acme:
        assert acme.get(f"{API}/datasets/{DATASET}").json()["name"] != "x"


@pytest.mark.browser
def test_operator_opens_a_transfer_read_only(
    chromium: Any, role_platform: RolePlatform, edited: dict[str, Any]
) -> None:
    tid = edited["transfer"]["id"]
    page = login(chromium, role_platform, "operator")
    try:
        open_view(page, role_platform, f"transfer/{tid}")
        page.wait_for_selector("#transfer-kv")
        kv = page.inner_text("#transfer-kv")
        assert "console-dse-dz" in kv and "acme" in kv  # a platform role sees the tenant
        assert "null" not in page.inner_text("#page-transfer").split()
        assert not page.query_selector("#transfer-retry")
        assert not page.query_selector(f"#page-transfer a[href='#datasets/{DATASET}']")  # no Datasets page
        assert missing_keys(page) == [] and axe_violations(page) == []
    finally:
        page.context.close()
