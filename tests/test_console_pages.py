"""The console's jobs and observatory pages and the back-end banner, on the real app in Chromium.

The app runs as ``make run`` does (authentication off) on a temporary SQLite with the bundled network; the
scheduler loop runs, so a job submitted through the form really runs on the local back-end.
"""

from __future__ import annotations

import os
import re
import shutil
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from huanghe.api.app import create_app
from huanghe.broker.filters import Reason
from huanghe.catalog.topology import load_topology
from huanghe.domain.enums import JobState
from huanghe.domain.network import Topology
from huanghe.domain.tenancy import Role
from huanghe.jobs.settings import DispatchSettings
from huanghe.network.topology_store import import_topology
from huanghe.observatory.alert_rules import RULES
from huanghe.settings import Settings
from huanghe.store.db import make_engine, make_session_factory
from huanghe.store.migrate import migrate
from huanghe.telemetry.settings import TelemetrySettings
from huanghe.tenancy import tokens as auth
from huanghe.web import console
from tests.test_console_web import _i18n_tables, _Server, _Watch
from tests.test_console_web import browser as browser  # the Chromium fixture

STATIC = console.STATIC_DIR
REPO = Path(__file__).resolve().parents[1]
#: every request of these tests: 30 s, as a busy machine (or a neighbouring test worker) may need
HTTP = httpx.Client(timeout=30.0)
NETWORK = "shandong-mini"  # the small bundled network: fast start-up and telemetry backfill
PAGE_SCRIPTS = ("common.js", "jobs.js", "observatory.js", "app.js")
#: Keys built at run time from a prefix and a value (the rest appear literally in the scripts).
DYNAMIC_KEYS = {
    "role": [r.value for r in Role],
    "state": ["PENDING", "PLACED", "DISPATCHED", "RUNNING", "SUCCEEDED", "FAILED", "CANCELLED", "PREEMPTED"],
    "obs.dim": ["compute", "storage", "network", "environment"],
    "obs.level": ["city", "circle", "province"],
    "obs.weights": ["equal", "entropy", "expert"],
    "obs.metric": ["utilisation", "pue"],
    "obs.green.reason": ["small", "scattered", "old", "high_pue"],
    "obs.alerts.state": ["open", "acknowledged", "resolved"],
    "obs.reports": ["storage", "index"],
    "filter": [
        "offering",
        "unhealthy",
        "resources",
        "accelerator",
        "backend",
        "data_class",
        "latency",
        "price",
    ],
    "alert.rule": ["pue_jump", "utilisation_high", "latency_breach", "storage_full"],
}
TELEMETRY_CENTER = "inspur-jinan"

# ---- without a browser -------------------------------------------------------------------------------------


def _added_strings(name: str) -> dict[str, dict[str, str]]:
    """The ``HH.addStrings({"zh-CN": {...}, en: {...}})`` tables of a script (one ``"key": "text",`` a line)."""
    text = (STATIC / name).read_text(encoding="utf-8")
    block = text.split("HH.addStrings({", 1)[1].split("\n  });", 1)[0]
    zh_part, en_part = block.split('"zh-CN": {', 1)[1].split("\n    en: {", 1)
    pair = re.compile(r'^\s+"([\w.-]+)": "((?:[^"\\]|\\.)*)",$', re.M)
    return {"zh-CN": dict(pair.findall(zh_part)), "en": dict(pair.findall(en_part))}


def test_page_scripts_use_only_keys_of_both_languages() -> None:
    tables = _i18n_tables()
    added = _added_strings("jobs.js")  # the job list's own strings
    assert set(added["zh-CN"]) == set(added["en"]) and len(added["en"]) > 20, set(added["zh-CN"]) ^ set(
        added["en"]
    )
    zh, en = {**tables["zh-CN"], **added["zh-CN"]}, {**tables["en"], **added["en"]}
    assert set(zh) == set(en), set(zh) ^ set(en)
    used: set[str] = set()
    for name in PAGE_SCRIPTS:
        text = (STATIC / name).read_text(encoding="utf-8")
        text = re.sub(r'\b(?:label|coded)\("[^"]*"', "", text)  # prefixes of HH.label: not keys themselves
        used |= set(
            re.findall(r'"((?:jobs|obs|auth|error|state|kpi|backend|nav|col|role|pager)\.[\w.]*\w)"', text)
        )
    html = (STATIC / "index.html").read_text(encoding="utf-8")
    used |= set(re.findall(r'data-i18n(?:-title|-placeholder)?="([\w.]+)"', html))
    used |= {f"{prefix}.{v}" for prefix, values in DYNAMIC_KEYS.items() for v in values}
    assert "jobs.submit.title" in used and "obs.index.title" in used
    # the codes the API answers with, all translated (a new one shows as its code until it is)
    assert DYNAMIC_KEYS["filter"] == [r.value for r in Reason]
    assert DYNAMIC_KEYS["alert.rule"] == list(RULES)
    assert DYNAMIC_KEYS["state"] == [s.value for s in JobState]
    assert used - set(zh) == set()
    assert all(
        zh[k] != en[k] for k in ("nav.jobs", "auth.login_needed", "backend.all_local", "state.RUNNING")
    )
    assert "/login" in zh["auth.login_link"] and "local" in zh["backend.all_local"]


def test_index_loads_the_page_scripts_in_order() -> None:
    html = (STATIC / "index.html").read_text(encoding="utf-8")
    scripts = re.findall(r'<script src="/static/([^"]+)"', html)
    pages = [f"pages/{p.stem}.js" for p in sorted((STATIC / "pages").glob("*.js"))]
    assert scripts[:6] == [
        "i18n.js",
        "common.js",
        "form_state.js",  # HH.keepFocus, HH.keepInputs, HH.latest: pages call them when they load
        "vendor/echarts.min.js",
        "jobs.js",
        "observatory.js",
    ]
    assert sorted(scripts[6:-1]) == pages and scripts[-1] == "app.js"  # pages register before app.js routes
    for view in ("network", "jobs", "observatory"):
        assert f'data-view="{view}"' in html
    fields = set(re.findall(r'<input name="(\w+)"|<select name="(\w+)"', html))
    names = {a or b for a, b in fields}
    assert names == {"command", "cpus", "gpus", "mem_gb", "nodes", "accelerator", "user_city", "latency_slo_ms",
                     "deadline_s", "priority", "max_price_cny_per_hour"}  # fmt: skip
    assert names == set(re.findall(r'data-error-for="(\w+)"', html))


# ---- in Chromium -------------------------------------------------------------------------------------------


def _wait_for(what: str, probe: Any, timeout_s: float = 30.0) -> Any:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = probe()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture(scope="module")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Any, Topology]]:
    """``create_app`` as ``make run`` serves it (auth off), the bundled network stored before start-up (so the
    telemetry generator simulates history at once), jobs under a temporary data directory."""
    tmp = tmp_path_factory.mktemp("pages")
    url = f"sqlite:///{tmp / 'huanghe.db'}"
    topo = load_topology(NETWORK)
    migrate(url)
    engine = make_engine(url)
    with make_session_factory(engine)() as session:
        import_topology(session, topo)
        session.commit()
    engine.dispose()
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("HUANGHE_DATA_DIR", str(tmp / "data"))
        app = create_app(Settings(database_url=url, dev_mode=True, auth_enabled=False))
        app.state.telemetry_settings = TelemetrySettings(generator_backfill_h=2, scrape=False)
        server = _Server(app).start()
        try:
            _wait_for(
                "simulated telemetry",
                lambda: HTTP.get(
                    server.url + "/api/v1/telemetry",
                    params={"metric": "utilisation", "center": TELEMETRY_CENTER, "step": "5m"},
                ).json()["points"],
            )
            yield server.url, app, topo
        finally:
            server.stop()


def _expected_problems(problems: list[str], allowed: tuple[str, ...]) -> list[str]:
    """The problems a watch saw minus those the test caused on purpose (each pattern a regex)."""
    return [p for p in problems if not any(re.search(a, p) for a in allowed)]


def _open_alert(url: str, app: Any) -> dict[str, Any]:
    """A utilisation of 97 % pushed for one center, then the rules evaluated: one open alert."""
    now = datetime.now(UTC).isoformat()
    sample = {
        "center": TELEMETRY_CENTER,
        "metric": "utilisation",
        "time": now,
        "value": 0.97,
        "unit": "ratio",
    }
    r = HTTP.post(url + "/api/v1/telemetry", json={"samples": [sample]})
    assert r.status_code == 201, r.text
    app.state.telemetry_runtime.maintain()
    alerts = HTTP.get(url + "/api/v1/alerts", params={"state": "open"}).json()["items"]
    subject = f"center:{TELEMETRY_CENTER}"  # the simulated pools may have alerts of their own
    mine = [a for a in alerts if a["subject"] == subject and a["rule"] == "utilisation_high"]
    assert len(mine) == 1, alerts
    return dict(mine[0])


def _save(page: Any, tmp_path: Path, name: str) -> None:
    page.screenshot(path=str(tmp_path / name), full_page=True)
    if os.environ.get("HUANGHE_SAVE_SCREENSHOTS") == "1":
        (REPO / "docs" / "img").mkdir(parents=True, exist_ok=True)
        shutil.copy(tmp_path / name, REPO / "docs" / "img" / name)


@pytest.mark.browser
def test_jobs_page_submits_runs_and_explains(
    browser: Any,
    platform: tuple[str, Any, Topology],
    tmp_path: Path,
) -> None:
    url, _, topo = platform
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    watch = _Watch(page)
    page.goto(url + "/#jobs")
    page.wait_for_selector("body[data-ready='1']", timeout=15000)
    assert page.locator("#jobs").is_visible() and not page.locator("#map").is_visible()
    assert page.inner_text("#jobs h2 >> nth=0") == "提交作业"

    # a bad field: the API's message next to that field, nothing submitted
    bad = HTTP.post(url + "/api/v1/jobs", json={"command": "echo hello", "cpus": -1}).json()["detail"]
    page.fill("#job-form input[name='command']", "echo hello")
    page.fill("#job-form input[name='cpus']", "-1")
    page.click("#job-form button[type='submit']")
    error = page.locator("[data-error-for='cpus']")
    error.wait_for(state="visible")
    assert bad[0]["path"] == "body.cpus" and error.inner_text() == bad[0]["message"]
    assert "invalid" in (page.get_attribute("#job-form input[name='cpus']", "class") or "")
    assert page.inner_text("[data-error-for='command']") == ""

    # echo hello through the form: listed, placed, run, SUCCEEDED with its output
    page.fill("#job-form input[name='cpus']", "1")
    page.select_option("#job-form select[name='user_city']", "jinan")
    page.click("#job-form button[type='submit']")
    page.wait_for_function("document.getElementById('job-form-status').innerText.includes('已提交作业')")
    job_id = page.inner_text("#job-form-status").split()[-1]
    assert page.inner_text("[data-error-for='cpus']") == ""
    page.wait_for_selector(f"#jobs-body tr[data-id='{job_id}'] [data-state='SUCCEEDED']", timeout=30000)
    page.click(f"#jobs-body tr[data-id='{job_id}'] a")  # the row links to the job's page
    page.wait_for_selector("#job-detail .job-state [data-state='SUCCEEDED']")
    page.wait_for_function("document.getElementById('job-logs').innerText.includes('hello')", timeout=15000)
    job = HTTP.get(f"{url}/api/v1/jobs/{job_id}").json()
    assert job["state"] == "SUCCEEDED" and job["spec"]["user_city"] == "jinan"
    detail = page.inner_text("#job-detail")
    assert job["pool"] in detail and job["backend_job_id"] in detail
    explanation = job["placement"]["explanation"]
    placement = page.inner_text("#job-detail .placement")
    assert f"{explanation['candidates']} 个候选" in placement and explanation["winner"]["pool"] in placement
    if explanation["runner_up"]:
        assert explanation["runner_up"]["pool"] in placement and "次优" in placement
    assert "完成用时 秒 completion_s" in placement and "得分（越低越好）" in placement
    history = page.locator("#job-detail-body table >> nth=0").inner_text()
    for state in ("排队中", "已分配", "已下发", "运行中", "成功"):
        assert state in history
    assert not page.locator("#job-cancel").is_visible()  # a finished job cannot be cancelled
    assert page.locator("#job-logs").inner_text().strip() == "hello"
    _save(page, tmp_path, "console-jobs.png")

    # a job with a 1 ms latency SLO from Qingdao (the latency filter removes far pools) that sleeps: its removed
    # pools shown, then cancelled from the page
    spec = {"command": "sleep 60", "user_city": "qingdao", "latency_slo_ms": 1}
    sleeper = HTTP.post(url + "/api/v1/jobs", json=spec).json()["id"]
    page.evaluate("id => { location.hash = '#job/' + id; }", sleeper)
    page.wait_for_function(
        "document.querySelector('#job-detail .placement') && "
        "document.querySelector('#job-detail .placement').innerText.includes('被过滤掉的资源池')"
        " && document.querySelectorAll('#job-detail .placement table').length === 2"
    )
    removed = HTTP.get(f"{url}/api/v1/jobs/{sleeper}").json()["placement"]["explanation"]["removed"]
    assert removed, "pools far from Qingdao are removed by the latency filter"
    shown = page.inner_text("#job-detail .placement table >> nth=0")
    for r in removed:
        assert r["reason"] in shown and str(r["count"]) in shown
    assert "时延超出要求" in shown
    page.wait_for_selector("#job-detail .job-state [data-state='RUNNING']", timeout=20000)
    page.click("#job-cancel")
    page.wait_for_selector("#job-detail .job-state [data-state='CANCELLED']", timeout=20000)
    assert HTTP.get(f"{url}/api/v1/jobs/{sleeper}").json()["state"] == "CANCELLED"
    page.click("#job-detail a.job-back")
    page.wait_for_selector(f"#jobs-body tr[data-id='{job_id}'] a")
    page.focus(f"#jobs-body tr[data-id='{job_id}'] a")
    page.evaluate("window.HUANGHE_JOBS.refresh()")  # the list redraws (every 3 s)...
    assert page.evaluate("document.activeElement.closest('tr').dataset.id") == job_id  # ...the focus stays
    page.keyboard.press("Enter")  # rows open from the keyboard too
    page.wait_for_function(
        "document.getElementById('job-logs') && document.getElementById('job-logs').innerText.includes('hello')"
    )
    page.click("#job-detail a.job-back")
    page.wait_for_selector("#job-form")

    # the answer to a submission lost on the way: the retry sends the same Idempotency-Key → the same job, once
    created: list[str] = []

    def lose_answer(route: Any) -> None:
        created.append(route.fetch().json()["id"])
        route.abort()

    page.route("**/api/v1/jobs", lose_answer, times=1)
    page.fill("#job-form input[name='command']", "echo once")
    page.click("#job-form button[type='submit']")
    page.wait_for_selector("#job-form-error .alert")
    assert "无法连接服务器" in page.inner_text("#job-form-error") and len(created) == 1
    page.click("#job-form button[type='submit']")
    page.wait_for_function(
        "id => document.getElementById('job-form-status').innerText.endsWith(id)", arg=created[0]
    )
    once = [j for j in HTTP.get(url + "/api/v1/jobs").json()["items"] if j["spec"]["command"] == "echo once"]
    assert [j["id"] for j in once] == created

    # filter by state: a SUCCEEDED filter keeps the job, RUNNING drops it
    page.select_option("#job-state-filter", "RUNNING")
    page.wait_for_selector(f"#jobs-body tr[data-id='{job_id}']", state="detached")
    page.select_option("#job-state-filter", "SUCCEEDED")
    page.wait_for_selector(f"#jobs-body tr[data-id='{job_id}']")

    # English on this tab
    page.click("#lang-switch")
    assert page.inner_text("#jobs h2 >> nth=0") == "Submit a job"
    assert "Succeeded" in page.inner_text(f"#jobs-body tr[data-id='{job_id}']")
    page.click(f"#jobs-body tr[data-id='{job_id}'] a")
    page.wait_for_function(
        "document.querySelector('#job-detail .placement') && "
        "document.querySelector('#job-detail .placement').innerText.includes('Scores (lower is better)')"
    )
    page.click("#lang-switch")

    # the network view says which back-end runs the pools: CPU pools local, accelerator pools simulated (issue
    # #12: the dev set-up runs GPU jobs as a labelled simulation), and says that simulated is not a real run
    backends = {p.backend for c in topo.centers for p in c.pools}
    assert backends <= {"local", "simulated"}
    page.click("a[href='#overview']")
    note = page.locator("#backend-note")
    note.wait_for(state="visible")
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=str(tmp_path / "console-network-note.png"))
    if backends == {"local"}:
        assert "所有资源池由本机 local 后端执行" in note.inner_text()
    else:
        assert "资源池后端" in note.inner_text() and "并非真实 GPU 运行" in note.inner_text()
    assert "local" in page.inner_text("#centers-body tr >> nth=0")
    assert not page.locator("#jobs").is_visible()

    problems = _expected_problems(
        watch.problems,
        (
            r"HTTP 422: .*/api/v1/jobs$",
            r"console: Failed to load resource: .* 422",
            r"failed: .*/api/v1/jobs net::ERR_FAILED",
            r"console: Failed to load resource: net::ERR_FAILED",
        ),
    )
    assert problems == [], "\n".join(problems)
    page.close()


INDEX_STATE_JS = """() => {
  const c = echarts.getInstanceByDom(document.getElementById('obs-index-chart')).getOption();
  const tele = echarts.getInstanceByDom(document.getElementById('obs-tele-chart')).getOption();
  return {
    bars: c.series.map(s => s.data.length),
    categories: c.xAxis[0].data.length,
    telePoints: tele.series.reduce((n, s) => n + s.data.length, 0),
  };
}"""


@pytest.mark.browser
def test_observatory_page(
    browser: Any,
    platform: tuple[str, Any, Topology],
    tmp_path: Path,
) -> None:
    url, app, topo = platform
    alert = _open_alert(url, app)
    api = "/api/v1/observatory/"
    targets = HTTP.get(url + api + "targets").json()
    green = HTTP.get(url + api + "green-list").json()
    index = HTTP.get(url + api + "index").json()
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    watch = _Watch(page)
    page.goto(url + "/#observatory")
    page.wait_for_selector("body[data-observatory='1']", timeout=20000)

    # indicator cards, index (16 cities, five dimensions), targets, green list, latency circles
    cards = page.locator("#obs-cards .card")
    assert cards.count() == 5 and "EFLOPS" in cards.nth(1).inner_text()
    rows = page.locator("#obs-index-grid tbody tr")
    assert rows.count() == 16 == len(topo.cities)
    first = index["rows"][0]
    assert (
        first["name_zh"] in rows.nth(0).inner_text() and f"{first['score']:.1f}" in rows.nth(0).inner_text()
    )
    state = page.evaluate(INDEX_STATE_JS)
    assert state["bars"] == [16] * 5 and state["categories"] == 16
    assert state["telePoints"] > 0
    assert page.locator("#obs-targets .target").count() == len(targets)
    assert page.locator("#obs-targets .met.yes").count() == sum(t["met"] for t in targets)
    assert page.locator("#obs-green-pue tbody tr").count() == len(green["pue_above_limit"]) > 0
    assert page.locator("#obs-green-sso tbody tr").count() == len(green["small_scattered_old"])
    assert page.locator("#obs-green-renewable tbody tr").count() == 10
    assert "城市内 1 ms 时延圈" in page.inner_text("#obs-capacity")
    assert page.locator("#obs-tele-simulated").is_visible()  # the generator's history
    reports = page.locator("#obs-reports a").evaluate_all("as => as.map(a => a.getAttribute('href'))")
    assert "/api/v1/observatory/reports/storage?format=pdf&lang=zh" in reports and len(reports) == 4
    assert HTTP.get(url + reports[1]).status_code == 200  # the HTML report
    page.evaluate("window.scrollTo(0, 0)")
    _save(page, tmp_path, "console-observatory.png")

    # the open alert: acknowledge, then resolve (it leaves the list)
    row = page.locator("#obs-alerts tr", has=page.locator(f"button[data-alert='{alert['id']}']"))
    assert (
        "利用率过高" in row.inner_text()
        and "未处理" in row.inner_text()
        and topo.center(TELEMETRY_CENTER).name_zh in row.inner_text()
    )
    row.locator("button[data-act='ack']").click()
    page.wait_for_function(
        "id => document.querySelector(`#obs-alerts button[data-alert='${id}'][data-act='ack']`) === null"
        " && document.querySelector(`#obs-alerts button[data-alert='${id}']`) !== null",
        arg=alert["id"],
    )
    assert "已确认" in row.inner_text()
    assert HTTP.get(f"{url}/api/v1/alerts/{alert['id']}").json()["state"] == "acknowledged"
    row.locator("button[data-act='resolve']").click()
    row.wait_for(state="detached")
    assert HTTP.get(f"{url}/api/v1/alerts/{alert['id']}").json()["state"] == "resolved"

    # level and weights: three economic circles; PUE telemetry of another center
    page.select_option("#obs-level", "circle")
    page.wait_for_function("document.querySelectorAll('#obs-index-grid tbody tr').length === 3")
    page.select_option("#obs-weights", "entropy")
    page.wait_for_function("document.querySelectorAll('#obs-index-grid tbody tr').length === 3")
    page.select_option("#obs-tele-metric", "pue")
    page.wait_for_function("document.getElementById('obs-tele-note').innerText.includes('ratio')")

    # English on this tab
    page.click("#lang-switch")
    assert "Comprehensive compute index" in page.inner_text("#observatory")
    assert "Targets vs actual" in page.inner_text("#observatory") and "Simulated data" in page.inner_text(
        "#obs-tele-simulated"
    )
    assert "Standard racks in use" in page.inner_text("#obs-targets")
    assert topo.regions[0].name_en in page.inner_text("#obs-index-grid")
    page.evaluate("window.scrollTo(0, 0)")
    _save(page, tmp_path, "console-observatory-en.png")

    assert watch.problems == [], "\n".join(watch.problems)
    page.close()


@pytest.mark.browser
def test_pages_ask_to_log_in_when_auth_is_on(browser: Any, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'auth.db'}"
    settings = Settings(database_url=url, auth_enabled=True, session_secret="s" * 40)
    app = create_app(settings)
    app.state.scheduler_settings = DispatchSettings(enabled=False)
    app.state.telemetry_settings = TelemetrySettings(background=False)
    server = _Server(app).start()
    try:
        page = browser.new_page()
        page.goto(server.url + "/#jobs")
        page.wait_for_selector("#jobs-error .alert.auth", timeout=15000)
        assert "请登录" in page.inner_text("#jobs-error")
        assert page.get_attribute("#jobs-error a", "href") == "/login"
        assert page.locator(".nav a[href='#observatory']").count() == 0  # the menu: what the caller may do
        assert page.get_attribute("#user-box a", "href") == "/login"
        page.goto(server.url + "/#observatory")
        page.wait_for_selector("#obs-index-error .alert.auth")
        page.click("#lang-switch")
        assert "Please log in" in page.inner_text("#obs-index-error")

        # logged in (session cookie), the form's POST carries the CSRF token and is accepted
        with app.state.session_factory() as session:
            token = auth.create_token(session, auth.TokenCreate(name="console", role=Role.ADMIN)).token
        page.goto(server.url + "/login")
        page.fill("input[name='token']", token)
        page.click("button[type='submit']")
        page.wait_for_url(server.url + "/")
        page.goto(server.url + "/#jobs")
        page.fill("#job-form input[name='command']", "echo hello")
        page.click("#job-form button[type='submit']")
        page.wait_for_function("/Submitted job j/.test(document.getElementById('job-form-status').innerText)")
        assert page.locator("#jobs-error .alert").count() == 0
        page.close()
    finally:
        server.stop()
