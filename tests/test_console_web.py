"""The console at ``/``: static files, i18n tables, vendored map, and (marked ``browser``) the page in Chromium."""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from fastapi import FastAPI
from fastapi.testclient import TestClient

from huanghe.catalog.topology import parse_topology
from huanghe.domain.network import Topology
from huanghe.web import console

STATIC = console.STATIC_DIR
REPO = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
SHANDONG_CITIES = {"济南", "青岛", "淄博", "枣庄", "东营", "烟台", "潍坊", "济宁", "泰安", "威海", "日照", "临沂", "德州", "聊城", "滨州", "菏泽"}  # fmt: skip

# A small network of our own: 3 circles, 5 cities, 6 centers of every kind and tier, 4 links.
_CITIES = [
    ("jinan", "济南", "Jinan", "capital", 117.12, 36.65),
    ("zibo", "淄博", "Zibo", "capital", 118.05, 36.81),
    ("qingdao", "青岛", "Qingdao", "jiaodong", 120.38, 36.07),
    ("yantai", "烟台", "Yantai", "jiaodong", 121.45, 37.46),
    ("linyi", "临沂", "Linyi", "south", 118.36, 35.10),
]
_CENTERS = [  # id, city, tier, kind, operator, pue, pools as (class, nodes, gpus per node)
    (
        "jn-sc",
        "jinan",
        "national",
        "supercomputing",
        "国家超算济南中心",
        1.25,
        [("cpu", 800, 0), ("dcu", 64, 4)],
    ),
    ("jn-ai", "jinan", "provincial", "intelligent", "浪潮", 1.18, [("gpu", 128, 8)]),
    ("zb-gen", "zibo", "industry", "general", "中国电信", 1.35, [("cpu", 200, 0)]),
    ("qd-ai", "qingdao", "provincial", "intelligent", "中国移动", 1.22, [("npu", 64, 8), ("cpu", 100, 0)]),
    ("yt-edge", "yantai", "edge", "general", "中国联通", 1.45, [("cpu", 20, 0)]),
    ("ly-ai", "linyi", "industry", "intelligent", "临沂云", 1.30, []),
]


def small_topology() -> Topology:
    """The hand-made network as a validated Topology."""
    data: dict[str, Any] = {
        "name": "console-test",
        "description": "Console test network",
        "note": "figures invented for the console tests",
        "regions": [
            {"id": "capital", "name_zh": "省会经济圈", "name_en": "Jinan capital circle"},
            {"id": "jiaodong", "name_zh": "胶东经济圈", "name_en": "Jiaodong circle"},
            {"id": "south", "name_zh": "鲁南经济圈", "name_en": "Southern Shandong circle"},
        ],
        "cities": [
            {"id": cid, "name_zh": zh, "name_en": en, "region": reg, "lon": lon, "lat": lat}
            for cid, zh, en, reg, lon, lat in _CITIES
        ],
        "centers": [],
        "links": [
            {"a": "jn-sc", "b": "jn-ai", "bandwidth_gbps": 400, "latency_ms": 0.3},
            {"a": "jn-ai", "b": "qd-ai", "bandwidth_gbps": 100},
            {"a": "jn-ai", "b": "ly-ai", "bandwidth_gbps": 100},
            {"a": "qd-ai", "b": "yt-edge", "bandwidth_gbps": 40},
        ],
    }
    lonlat = {c[0]: (c[4], c[5]) for c in _CITIES}
    for i, (cid, city, tier, kind, operator, pue, pools) in enumerate(_CENTERS):
        data["centers"].append(
            {
                "id": cid,
                "name_zh": f"{cid}算力中心",
                "name_en": f"{cid} computing center",
                "city": city,
                "tier": tier,
                "kind": kind,
                "operator": operator,
                "lon": lonlat[city][0] + 0.05 * i,
                "lat": lonlat[city][1] + 0.03,
                "it_design_kw": 1000,
                "energy": {"pue": pue},
                "pools": [
                    {
                        "id": f"{cid}-p{j}",
                        "accelerator_class": cls,
                        "nodes": nodes,
                        "cpus_per_node": 64,
                        "gpus_per_node": gpus,
                        "mem_gb_per_node": 256,
                        "power_kw_per_node": 1.0,
                        "price_cny_per_hour": 10.0,
                    }
                    for j, (cls, nodes, gpus) in enumerate(pools)
                ],
            }
        )
    return parse_topology(data, "<console-test>")


def fallback_app(topo: Topology) -> FastAPI:
    """A tiny stand-in for the platform API: /healthz, /api/v1/topology, FastAPI's /docs, and the console."""
    app = FastAPI()

    @app.get("/healthz")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/api/v1/topology")
    def topology() -> dict[str, Any]:
        return topo.model_dump(mode="json")

    console.mount(app)
    return app


# ---- without a browser -------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def client() -> Iterator[TestClient]:
    with TestClient(fallback_app(small_topology())) as c:
        yield c


def test_index_served_with_its_assets(client: TestClient) -> None:
    resp = client.get("/")
    assert resp.status_code == 200
    assert resp.headers["content-type"].startswith("text/html")
    html = resp.text
    assert "黄河 · 全省算力网络" in html and '<html lang="zh-CN">' in html
    refs = re.findall(r'(?:src|href)="(/static/[^"]+)"', html)
    assert {"/static/app.js", "/static/i18n.js", "/static/style.css", "/static/vendor/echarts.min.js"} <= set(
        refs
    )
    for ref in refs:
        if not ref.startswith("/static/vendor/"):
            assert client.get(ref).status_code == 200, ref
    assert "cdn" not in html.lower() and "http://" not in html and "https://" not in html


def test_mount_leaves_api_docs_and_healthz_alone(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    assert client.get("/api/v1/topology").json()["name"] == "console-test"
    assert client.get("/docs").status_code == 200
    paths = client.get("/openapi.json").json()["paths"]
    assert "/" not in paths and "/api/v1/topology" in paths
    assert client.get("/static/nope.js").status_code == 404


def _i18n_tables() -> dict[str, dict[str, str]]:
    text = (STATIC / "i18n.js").read_text(encoding="utf-8")
    zh_part, en_part = text.split('"zh-CN": {', 1)[1].split("\n  en: {", 1)
    pair = re.compile(r'^\s+"([\w.]+)": "((?:[^"\\]|\\.)*)",$', re.M)
    return {"zh-CN": dict(pair.findall(zh_part)), "en": dict(pair.findall(en_part))}


def test_i18n_tables_cover_every_key_in_both_languages() -> None:
    tables = _i18n_tables()
    zh, en = tables["zh-CN"], tables["en"]
    assert len(zh) > 50
    assert set(zh) == set(en), set(zh) ^ set(en)
    assert zh["app.title"] == "黄河 · 全省算力网络" and en["app.title"] != zh["app.title"]
    app_js = (STATIC / "app.js").read_text(encoding="utf-8")
    html = (STATIC / "index.html").read_text(encoding="utf-8")
    used = set(re.findall(r'\bt\("([\w.]+\w)"', app_js))
    used |= set(re.findall(r'data-i18n(?:-title|-placeholder)?="([\w.]+)"', html))
    used |= {f"{prefix}.{v}" for prefix, vs in (("tier", ["national", "provincial", "industry", "edge"]),
             ("kind", ["general", "intelligent", "supercomputing"])) for v in vs}  # fmt: skip
    assert used - set(zh) == set()


def test_vendor_missing_names_the_absent_files(tmp_path: Path) -> None:
    assert console.vendor_missing(tmp_path) == ["echarts.min.js", "shandong.geo.json"]
    (tmp_path / "echarts.min.js").write_text("x")
    (tmp_path / "shandong.geo.json").write_text("")
    assert console.vendor_missing(tmp_path) == ["shandong.geo.json"]


def test_vendored_map_has_the_sixteen_cities() -> None:
    missing = console.vendor_missing()
    assert not missing, f"vendored files missing: {missing}; run scripts/vendor-web.sh (make install)"
    geo = json.loads((console.VENDOR_DIR / "shandong.geo.json").read_text(encoding="utf-8"))
    names = {f["properties"]["name"].removesuffix("市") for f in geo["features"]}
    assert names == SHANDONG_CITIES
    for f in geo["features"]:
        ring = (
            f["geometry"]["coordinates"][0]
            if f["geometry"]["type"] == "Polygon"
            else f["geometry"]["coordinates"][0][0]
        )
        assert all(114.5 < lon < 123.0 and 34.0 < lat < 38.5 for lon, lat in ring), f["properties"]["name"]
    jinan = next(f for f in geo["features"] if f["properties"]["name"] == "济南市")
    assert jinan["geometry"]["type"] == "Polygon"  # 莱芜 dissolved into one outline
    assert (console.VENDOR_DIR / "LICENSES" / "echarts-LICENSE.txt").is_file()


# ---- in Chromium -------------------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class _Server:
    """uvicorn serving an app on a free loopback port in a thread; stopped by ``stop()``."""

    def __init__(self, app: FastAPI) -> None:
        self.port = _free_port()
        self.server = uvicorn.Server(
            uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning")
        )
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> _Server:
        self.thread.start()
        deadline = time.monotonic() + 15
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.05)
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[str, Topology]]:
    topo = small_topology()
    server = _Server(fallback_app(topo)).start()
    try:
        yield server.url, topo
    finally:
        server.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} missing: run `make test-deps` (Debian package chromium)", pytrace=False)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()


class _Watch:
    """Console errors, page errors and failed requests of a page."""

    def __init__(self, page: Any) -> None:
        self.problems: list[str] = []
        page.on("console", lambda m: m.type == "error" and self.problems.append(f"console: {m.text}"))
        page.on("pageerror", lambda e: self.problems.append(f"pageerror: {e} {e.stack}"))
        page.on("requestfailed", lambda r: self.problems.append(f"failed: {r.url} {r.failure}"))
        page.on("response", lambda r: r.status >= 400 and self.problems.append(f"HTTP {r.status}: {r.url}"))


MAP_STATE_JS = """() => {
  const chart = echarts.getInstanceByDom(document.getElementById('map-chart'));
  const opt = chart.getOption();
  const scatter = opt.series.filter(s => s.type === 'scatter');
  const canvas = document.querySelector('#map-chart canvas');
  const px = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
  const colours = new Set();
  let painted = 0;
  for (let i = 0; i < px.length; i += 4 * 7) {
    if (px[i + 3] > 0) { painted++; colours.add((px[i] << 16) | (px[i + 1] << 8) | px[i + 2]); }
  }
  return {
    geo: opt.geo.map(g => g.map),
    centers: scatter.reduce((n, s) => n + s.data.length, 0),
    links: opt.series.filter(s => s.type === 'lines').reduce((n, s) => n + s.data.length, 0),
    painted: painted / (px.length / 28),
    colours: colours.size,
  };
}"""


def _row_ids(page: Any) -> list[str]:
    """Center ids of the table rows, in display order."""
    return list(page.locator("#centers-body tr[data-id]").evaluate_all("rs => rs.map(r => r.dataset.id)"))


@pytest.mark.browser
def test_console_in_chromium(browser: Any, served: tuple[str, Topology], tmp_path: Path) -> None:
    url, topo = served
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    watch = _Watch(page)
    page.goto(url + "/")
    page.wait_for_selector("body[data-ready='1']", timeout=15000)

    assert page.inner_text("#app-title") == "黄河 · 全省算力网络"
    assert page.evaluate("document.documentElement.lang") == "zh-CN"
    state = page.evaluate(MAP_STATE_JS)
    assert state["geo"] == ["shandong"]
    assert state["centers"] == len(topo.centers)
    assert state["links"] == len(topo.links)
    assert state["painted"] > 0.1 and state["colours"] > 20, state
    assert len(_row_ids(page)) == len(topo.centers)
    assert page.inner_text("#card-centers") == str(len(topo.centers))
    gpus = sum(p.total_gpus for _, p in topo.pools())
    assert page.inner_text("#card-gpus").replace(",", "") == str(gpus)
    assert page.locator(".badge.illustrative").first.is_visible()
    assert "示意数据" in page.inner_text("#overview")
    page.screenshot(path=str(tmp_path / "console-zh.png"), full_page=True)

    # tooltip of a center names its operator and PUE
    page.evaluate("echarts.getInstanceByDom(document.getElementById('map-chart'))"
                  ".dispatchAction({type: 'showTip', seriesIndex: 1, dataIndex: 0})")  # fmt: skip
    page.wait_for_function(
        "(document.querySelector('.map-tip') || {}).innerText?.includes('PUE')", timeout=5000
    )
    tip = page.locator(".map-tip").inner_text()
    first_general = next(c for c in topo.centers if c.kind == "general")
    assert first_general.operator in tip and "PUE" in tip and "1.35" in tip

    # filters, search, sort
    page.select_option("#filter-kind", "intelligent")
    intelligent = [c.id for c in topo.centers if c.kind == "intelligent"]
    assert sorted(_row_ids(page)) == sorted(intelligent)
    page.select_option("#filter-kind", "")
    page.fill("#search", "中国移动")
    assert _row_ids(page) == ["qd-ai"]
    page.fill("#search", "no-such-center")
    assert page.locator("#centers-body tr.empty").count() == 1
    page.fill("#search", "")
    page.click("#centers-head th[data-key='gpus']")
    page.click("#centers-head th[data-key='gpus']")  # second click: descending
    assert _row_ids(page)[0] == max(topo.centers, key=lambda c: sum(p.total_gpus for p in c.pools)).id

    # English switch, persisted in the URL and localStorage
    page.click("#lang-switch")
    assert page.inner_text("#app-title") == "Huanghe · Provincial Compute Network"
    assert "lang=en" in page.url and page.evaluate("localStorage.getItem('huanghe.lang')") == "en"
    assert "Illustrative data" in page.inner_text("#overview")
    assert page.evaluate(MAP_STATE_JS)["centers"] == len(topo.centers)
    page.goto(url + "/")
    page.wait_for_selector("body[data-ready='1']")
    assert page.inner_text("#app-title") == "Huanghe · Provincial Compute Network"
    assert "Jinan capital circle" in page.inner_text("#centers-body")
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=str(tmp_path / "console-en.png"), full_page=True)
    page.goto(url + "/?lang=zh-CN")
    page.wait_for_selector("body[data-ready='1']")
    assert page.inner_text("#app-title") == "黄河 · 全省算力网络"

    assert watch.problems == [], "\n".join(watch.problems)
    if os.environ.get("HUANGHE_SAVE_SCREENSHOTS") == "1":
        (REPO / "docs" / "img").mkdir(parents=True, exist_ok=True)
        shutil.copy(tmp_path / "console-zh.png", REPO / "docs" / "img" / "console.png")
    page.close()


@pytest.mark.browser
def test_console_without_vendor_files_says_how_to_fix(browser: Any, served: tuple[str, Topology]) -> None:
    url, topo = served
    page = browser.new_page()
    page.route("**/static/vendor/**", lambda route: route.fulfill(status=404, body="missing"))
    page.goto(url + "/?lang=en")
    page.wait_for_selector("body[data-ready='1']", timeout=15000)
    notice = page.locator("#map-notice")
    assert notice.is_visible() and "make install" in notice.inner_text()
    assert len(_row_ids(page)) == len(topo.centers)
    page.close()
