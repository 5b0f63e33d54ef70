"""The enterprise user's jobs in the console (issue #17): the list with server-side filters, search, order,
paging and bulk cancel; the submit form (templates, arrays, script files, datasets); the job's page #job/<id>
(timeline, placement explanation, logs followed while it runs, cost and carbon, the scheduling report), on
the shared role platform (authentication on, real Chromium, jobs really run on the local back-end).

Tenant isolation first: the rival tenant's jobs are never listed, found by search or shown on a job page.
"""

from __future__ import annotations

import re
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest

from huanghe.api.app import create_app
from huanghe.core.clock import WallClock
from huanghe.jobs.backend_cache import BackendCache
from huanghe.jobs.dispatch_context import DispatchContext, TickReport
from huanghe.jobs.models import CenterHealthRow
from huanghe.jobs.placing import Placer
from huanghe.jobs.settings import DispatchSettings
from huanghe.settings import Settings
from huanghe.telemetry.settings import TelemetrySettings
from tests import jobs_testnet as net
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
from tests.test_console_web import _Server

DESKTOP = {"width": 1280, "height": 900}


def _mark() -> str:
    """A word no other test's job carries (the platform is shared by the whole session)."""
    return "ent" + uuid.uuid4().hex[:8]


def _submit(platform: RolePlatform, role: str, tenant: str | None, **spec: Any) -> str:
    body = {**spec, **({"tenant": tenant} if tenant else {})}
    with platform.client(role) as c:
        r = c.post("/api/v1/jobs", json=body)
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


def _list(platform: RolePlatform, role: str, **params: Any) -> dict[str, Any]:
    with platform.client(role) as c:
        r = c.get("/api/v1/jobs", params=params)
    assert r.status_code == 200, r.text
    return dict(r.json())


def test_the_list_never_shows_another_tenants_jobs(role_platform: RolePlatform) -> None:
    mark = _mark()
    mine = _submit(role_platform, "enterprise", "acme", command=f"echo {mark}", name=f"{mark}-acme")
    theirs = _submit(role_platform, "rival", "rival", command=f"echo {mark}", name=f"{mark}-rival")
    for params in ({"q": mark}, {"q": mark, "tenant": "rival"}, {"q": theirs}, {"q": mark, "sort": "state"}):
        ids = [j["id"] for j in _list(role_platform, "enterprise", limit=1000, **params)["items"]]
        assert theirs not in ids and (mine in ids or params["q"] == theirs), params
    assert _list(role_platform, "enterprise", q=theirs)["total"] == 0  # the search is no oracle either
    with role_platform.client("enterprise") as c:
        for route in ("", "/events", "/logs"):
            assert c.get(f"/api/v1/jobs/{theirs}{route}").status_code == 404
        assert c.post(f"/api/v1/jobs/{theirs}:cancel").status_code == 404
    with role_platform.client("regulator") as c:  # the regulator reads every tenant's jobs, cancels none
        assert {j["id"] for j in c.get("/api/v1/jobs", params={"q": mark}).json()["items"]} == {mine, theirs}
        assert c.post(f"/api/v1/jobs/{mine}:cancel").status_code == 403


@pytest.mark.browser
def test_jobs_in_the_menu_of_the_roles_that_may_list_them(chromium: Any, role_platform: RolePlatform) -> None:
    for role, shown in (("enterprise", True), ("tenant_admin", True), ("regulator", True), ("admin", True),
                        ("operator", False)):  # fmt: skip
        page = login(chromium, role_platform, role)
        try:
            assert ("#jobs" in menu(page)) is shown, role
            assert "#job" not in menu(page)  # the job page has no menu entry
        finally:
            page.context.close()


@pytest.mark.browser
def test_enterprise_submits_follows_and_manages_jobs(
    chromium: Any, role_platform: RolePlatform, tmp_path: Path
) -> None:
    mark = _mark()
    rival_job = _submit(role_platform, "rival", "rival", command=f"echo {mark} rival")
    page = login(chromium, role_platform, "enterprise", viewport=DESKTOP)
    try:
        open_view(page, role_platform, "jobs")
        page.wait_for_selector("#jobs-table[data-query]")

        # a template fills the form; a bad field: the API's message at that field
        page.select_option("#job-template", "inference")
        assert page.input_value("#job-form input[name='latency_slo_ms']") == "10"
        assert page.input_value("#job-form select[name='kind']") == "inference"
        page.select_option("#job-template", "cpu-batch")
        assert page.input_value("#job-form input[name='latency_slo_ms']") == ""
        page.fill("#job-form input[name='command']", f"echo hello {mark}")
        page.fill("#job-form input[name='name']", f"{mark}-form")
        page.fill("#job-form input[name='cpus']", "-1")
        page.click("#job-form button[type='submit']")
        page.locator("[data-error-for='cpus']").wait_for(state="visible")
        assert "invalid" in (page.get_attribute("#job-form input[name='cpus']", "class") or "")

        # submitted from the form, followed on its page to SUCCEEDED: explanation, logs, cost and carbon
        page.fill("#job-form input[name='cpus']", "1")
        page.fill("#job-form input[name='duration_s']", "5")
        page.click("#job-form button[type='submit']")
        link = page.locator("#job-form-status a")
        link.wait_for()
        job_id = link.inner_text()
        link.click()
        page.wait_for_selector("[data-view='job']:not([hidden]) #job-detail")
        page.wait_for_selector("#job-detail .job-state [data-state='SUCCEEDED']", timeout=30000)
        page.wait_for_function(
            "document.getElementById('job-logs').innerText.includes('hello')", timeout=15000
        )
        with role_platform.client("enterprise") as c:
            job = c.get(f"/api/v1/jobs/{job_id}").json()
        assert job["state"] == "SUCCEEDED" and job["tenant"] == "acme" and job["spec"]["duration_s"] == 5
        assert page.locator("#job-logs").inner_text().strip() == f"hello {mark}"
        why = job["placement"]["explanation"]
        placement = page.inner_text("#job-detail .placement")
        assert why["winner"]["pool"] in placement and f"{why['candidates']} 个候选" in placement
        if why["runner_up"]:
            assert why["runner_up"]["pool"] in placement and "次优" in placement
        for r in why["removed"]:
            assert r["reason"] in placement and str(r["count"]) in placement
        assert "完成用时 秒 completion_s" in placement
        timeline = page.inner_text("#job-detail-body .detail-grid > div >> nth=0")
        for state in ("排队中", "已分配", "已下发", "运行中", "成功"):
            assert state in timeline
        assert not page.locator("#job-cancel").is_visible()  # finished: nothing to cancel
        page.wait_for_function("document.querySelector('#job-detail-body').innerText.includes('碳排放')")
        assert job["usage"] is not None  # metered when it ended: the metered carbon is shown
        carbon = page.evaluate("x => HH.sig(x)", job["usage"]["carbon_kg"])
        assert f"实际碳排放 kg（计量）\n{carbon}" in page.inner_text("#job-detail-body")
        assert missing_keys(page) == [] and axe_violations(page) == []
        screenshot(page, tmp_path, "console-job-detail-zh.png")

        # a running job's logs are followed, then it is cancelled from its page
        runner = _submit(
            role_platform, "enterprise", "acme", command=f"echo start-{mark}; sleep 30; echo never"
        )
        open_view(page, role_platform, f"job/{runner}")
        page.wait_for_selector("#job-detail .job-state [data-state='RUNNING']", timeout=20000)
        # the job's page lights the Jobs menu entry (it has none of its own)
        assert page.get_attribute(".nav a[data-nav='jobs']", "aria-current") == "page"
        page.wait_for_function(
            f"document.getElementById('job-logs').innerText.includes('start-{mark}')", timeout=15000
        )
        assert "每 2 秒刷新" in page.inner_text("#job-logs-note")
        page.click("#job-cancel")
        page.wait_for_selector("#job-detail .job-state [data-state='CANCELLED']", timeout=20000)

        # the rival's job: not found, nothing of it shown
        open_view(page, role_platform, f"job/{rival_job}")
        page.wait_for_selector("#job-detail .alert.not-found")
        assert (
            rival_job in page.inner_text("#job-detail .alert") and page.inner_text("#job-detail-body") == ""
        )

        # an array of 3 through the form, then bulk cancel of two of them from the list
        open_view(page, role_platform, "jobs")
        page.select_option("#job-template", "")
        page.fill("#job-form input[name='command']", "sleep 30")
        page.fill("#job-form input[name='name']", f"{mark}-arr")
        page.fill("#job-form input[name='copies']", "3")
        page.click("#job-form button[type='submit']")
        page.wait_for_function(
            "document.getElementById('job-form-status').innerText.includes('已提交 3 个作业')"
        )
        page.fill("#job-search", f"{mark}-arr")
        page.wait_for_function(
            "document.querySelectorAll('#jobs-body tr[data-id]').length === 3"
            " && document.getElementById('jobs-table').dataset.query.includes('arr')"
        )
        arr = _list(role_platform, "enterprise", q=f"{mark}-arr")["items"]
        assert sorted(j["name"] for j in arr) == [f"{mark}-arr-{i}" for i in range(3)]
        assert sorted(j["spec"]["env"]["HUANGHE_ARRAY_INDEX"] for j in arr) == ["0", "1", "2"]
        picked = [arr[0]["id"], arr[1]["id"]]
        for jid in picked:
            page.check(f"#jobs-body tr[data-id='{jid}'] input.job-select")
        assert "已选 2 个" in page.inner_text("#jobs-bulk")
        page.click("#jobs-bulk-cancel")
        page.wait_for_function(
            "document.getElementById('jobs-bulk-note').innerText.includes('已取消 2 个作业')"
        )
        states = {j["id"]: j for j in _list(role_platform, "enterprise", q=f"{mark}-arr")["items"]}
        assert all(states[j]["state"] == "CANCELLED" or states[j]["cancel_requested"] for j in picked)
        assert not states[arr[2]["id"]]["cancel_requested"]
        with role_platform.client("enterprise") as c:
            c.post(f"/api/v1/jobs/{arr[2]['id']}:cancel")

        # filters: state, search (the rival's job with the same word is not listed), paging, links
        page.fill("#job-search", mark)
        page.select_option("#job-state-filter", "SUCCEEDED")
        page.wait_for_function(f"document.querySelector(\"#jobs-body tr[data-id='{job_id}']\") !== null")
        rows = page.locator("#jobs-body tr[data-id]").evaluate_all("rs => rs.map(r => r.dataset.id)")
        assert rows == [job_id] and rival_job not in page.inner_text("#jobs-body")
        assert page.get_attribute(f"#jobs-body tr[data-id='{job_id}'] a", "href") == f"#job/{job_id}"
        page.select_option("#job-state-filter", "")
        page.wait_for_function("document.querySelectorAll('#jobs-body tr[data-id]').length === 5")
        assert rival_job not in page.inner_text("#jobs-body")
        total = _list(role_platform, "enterprise")["total"]
        page.fill("#job-search", "")
        page.wait_for_function(
            "t => document.querySelector('#jobs-pager .count').innerText.includes(t)", arg=f"{total:,}"
        )
        if total > 50:
            page.click("#jobs-pager .pager-next")
            page.wait_for_function(
                "document.getElementById('jobs-table').dataset.query.includes('offset=50')"
            )
        assert missing_keys(page) == [] and axe_violations(page) == []
        page.evaluate("window.scrollTo(0, 0)")
        screenshot(page, tmp_path, "console-jobs-zh.png")
    finally:
        page.context.close()

    # English: the job's page, no missing key, accessible
    page = login(chromium, role_platform, "enterprise", lang="en", viewport=DESKTOP)
    try:
        open_view(page, role_platform, f"job/{job_id}")
        page.wait_for_selector("#job-detail .job-state [data-state='SUCCEEDED']")
        page.wait_for_function("document.getElementById('job-logs').innerText.includes('hello')")
        text = page.inner_text("#job-detail")
        assert "Placement explanation" in text and "State timeline" in text and "Succeeded" in text
        assert re.search(r"Scores \(lower is better\)", text)
        assert missing_keys(page) == [] and axe_violations(page) == []
        screenshot(page, tmp_path, "console-job-detail-en.png")
        open_view(page, role_platform, "jobs")
        page.wait_for_selector("#jobs-table[data-query]")
        assert "Cancel selected jobs" in page.inner_text("#jobs-bulk")
        assert missing_keys(page) == [] and axe_violations(page) == []
    finally:
        page.context.close()
    wait_for("the array's last job to end", lambda: _list(role_platform, "enterprise", q=f"{mark}-arr-2",
                                                          state="CANCELLED")["total"] == 1)  # fmt: skip


@pytest.mark.browser
def test_a_waiting_job_says_why_and_until_when(chromium: Any, tmp_path: Path) -> None:
    """A PENDING job's page shows its place in the queue, when the scheduler looks at it, and, after the broker
    found no usable pool (every center unhealthy), the reason and the filters that removed the pools. Its own
    app with the scheduler off (authentication off, as ``make run``), so the job stays PENDING."""
    url = f"sqlite:///{tmp_path / 'wait.db'}"
    net.prepare_db(url, net.topology(net.local(tmp_path / "jn"), net.local(tmp_path / "qd")))
    app = create_app(Settings(database_url=url, migrate_on_startup=False, dev_mode=True, auth_enabled=False))
    app.state.scheduler_settings = DispatchSettings(enabled=False)
    app.state.telemetry_settings = TelemetrySettings(background=False)
    server = _Server(app).start()
    page = chromium.new_page(viewport=DESKTOP)
    try:
        first = httpx.post(server.url + "/api/v1/jobs", json={"command": "echo first"}).json()["id"]
        second = httpx.post(server.url + "/api/v1/jobs", json={"command": "echo second"}).json()["id"]
        page.goto(f"{server.url}/#job/{second}")
        page.wait_for_selector("#job-detail .waiting")
        report = page.inner_text("#job-detail .waiting")
        assert "调度报告" in report and "第 2 位，共 2 个排队作业" in report
        assert "暂无估计" in report  # the broker has not looked at it yet

        sf = app.state.session_factory
        with sf() as s:
            for center in ("jn-sc", "qd-ai"):
                s.merge(CenterHealthRow(center_id=center, healthy=False, checked_s=time.time(), failures=3))
            s.commit()
        ctx = DispatchContext(sf, DispatchSettings(), BackendCache(), WallClock())
        with sf() as s:
            ctx.topology(s, time.time())
        Placer(ctx).place(TickReport())
        page.reload()
        page.wait_for_selector("#job-detail .waiting .placement")
        report = page.inner_text("#job-detail .waiting")
        assert "第 2 位" in report and "unhealthy" in report and "中心不健康" in report
        assert "选中" not in report  # nothing was chosen: a best candidate is not called the chosen pool
        assert httpx.get(f"{server.url}/api/v1/jobs/{first}").json()["state"] == "PENDING"
        assert missing_keys(page) == [] and axe_violations(page) == []
    finally:
        page.close()
        server.stop()
