"""The console at ``/``: static files, i18n tables, vendored map, and (marked ``browser``) the page in Chromium."""

from __future__ import annotations

import json
import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from huanghe.api.app import create_app
from huanghe.catalog.topology import load_topology, resolve
from huanghe.domain.network import Center, Topology
from huanghe.settings import Settings
from huanghe.web import console
from tests.infra.ports import ThreadedUvicorn

STATIC = console.STATIC_DIR
REPO = Path(__file__).resolve().parents[1]
#: every request of these tests: 30 s, as a busy machine (or a neighbouring test worker) may need
HTTP = httpx.Client(timeout=30.0)
NETWORK = "shandong-mini"  # the small bundled network: fast (the big one: docs/shandong-calibration.md)
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

# ---- without a browser -------------------------------------------------------------------------------------


def test_index_served_with_its_assets(served: tuple[str, Topology]) -> None:
    url, _ = served
    resp = HTTP.get(url + "/")
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
            assert HTTP.get(url + ref).status_code == 200, ref
    assert "cdn" not in html.lower() and "http://" not in html and "https://" not in html


def test_mount_leaves_api_docs_and_healthz_alone(served: tuple[str, Topology]) -> None:
    url, topo = served
    assert HTTP.get(url + "/healthz").json()["status"] == "ok"
    assert HTTP.get(url + "/api/v1/topology").json()["name"] == topo.name
    assert HTTP.get(url + "/docs").status_code == 200
    paths = HTTP.get(url + "/openapi.json").json()["paths"]
    assert "/" not in paths and "/api/v1/topology" in paths
    assert HTTP.get(url + "/static/nope.js").status_code == 404


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


PAIR = re.compile(r'^\s+"([\w.-]+)": "((?:[^"\\]|\\.)*)",$', re.M)
FILE_EXT = re.compile(r"\.(pdf|csv|json|ya?ml|txt|html|png|js|css)$")


def page_strings(path: Path) -> dict[str, dict[str, str]]:
    """The ``HH.addStrings`` block of a page file (layout in docs/console.md): {"zh-CN": {...}, "en": {...}}."""
    text = path.read_text(encoding="utf-8")
    head = re.search(r'HH\.addStrings\(\{\n\s+"zh-CN": \{\n', text)
    assert head, f'{path.name}: no `HH.addStrings({{` followed by a `"zh-CN": {{` line'
    zh_part, rest = text[head.end() :].split("\n    en: {\n", 1)
    en_part = rest.split("\n  });", 1)[0]
    for lang, part in (("zh-CN", zh_part), ("en", en_part)):
        body = part.rsplit("\n    },", 1)[0]
        odd = [line for line in body.splitlines() if line.strip() and not PAIR.match(line)]
        assert not odd, f'{path.name} {lang}: lines not in the `"key": "text",` layout: {odd[:3]}'
    return {"zh-CN": dict(PAIR.findall(zh_part)), "en": dict(PAIR.findall(en_part))}


def keys_used(text: str, page: str) -> set[str]:
    """Literal keys a page script asks for: t("x.y") / HH.t("x.y"), its menu key, "<page>.x" literals (not
    the prefixes given to HH.label / HH.coded)."""
    text = re.sub(r'\b(?:label|coded)\("[^"]*"', "", text)
    used = set(re.findall(r'\bt\("([\w-]+\.[\w.-]*\w)"', text))
    used |= set(re.findall(r'\bnav\s*:\s*"([\w-]+\.[\w.-]+)"', text))
    used |= {k for k in re.findall(rf'"({re.escape(page)}\.[\w.-]*\w)"', text) if not FILE_EXT.search(k)}
    return used


def test_page_strings_in_both_languages_and_every_key_used_exists() -> None:
    base = _i18n_tables()
    pages = sorted((STATIC / "pages").glob("*.js"))
    assert len(pages) >= 15
    tables = {p.stem: page_strings(p) for p in pages if "HH.addStrings" in p.read_text(encoding="utf-8")}
    known = set(base["zh-CN"])
    problems = []
    for name, t in tables.items():
        zh, en = set(t["zh-CN"]), set(t["en"])
        problems += [f"{name}: {k} only in zh-CN" for k in sorted(zh - en)]
        problems += [f"{name}: {k} only in en" for k in sorted(en - zh)]
        problems += [
            f"{name}: {k} not prefixed {name}." for k in sorted(zh | en) if not k.startswith(name + ".")
        ]
        problems += [f"{name}: {k} also in i18n.js" for k in sorted((zh | en) & known)]
        problems += [
            f"{name}: {k} empty in {lang}" for lang in t for k, v in t[lang].items() if not v.strip()
        ]
        known |= zh
    for path in pages:
        text = path.read_text(encoding="utf-8")
        for ref in sorted(set(re.findall(r'"/static/([\w-]+\.js)"', text))):  # parts a page loads itself
            text += (STATIC / ref).read_text(encoding="utf-8") if (STATIC / ref).is_file() else ""
        unknown = keys_used(text, path.stem) - known
        prefixes = {k for k in unknown if any(d.startswith(k + ".") for d in known)}  # label("x.state", v)
        problems += [f"{path.name}: uses {k}, defined nowhere" for k in sorted(unknown - prefixes)]
    assert problems == [], "\n".join(problems)


def test_page_strings_parser_sees_a_missing_key(tmp_path: Path) -> None:
    page = tmp_path / "demo.js"
    page.write_text(
        '(function () {\n  HH.addStrings({\n    "zh-CN": {\n      "demo.a": "甲",\n      "demo.b": "乙",\n    },\n'
        '    en: {\n      "demo.a": "A",\n    },\n  });\n  t("demo.c");\n})();\n',
        encoding="utf-8",
    )
    t = page_strings(page)
    assert set(t["zh-CN"]) - set(t["en"]) == {"demo.b"}
    assert keys_used(page.read_text(encoding="utf-8"), "demo") == {"demo.a", "demo.b", "demo.c"}


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


#: uvicorn serving an app on 127.0.0.1 in a thread, its socket bound before it starts (no port race)
_Server = ThreadedUvicorn


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Topology]]:
    """The real app (``create_app``) on a temporary SQLite database, with the bundled network imported."""
    db = tmp_path_factory.mktemp("console") / "huanghe.db"
    server = _Server(create_app(Settings(database_url=f"sqlite:///{db}"))).start()
    try:
        _, text = resolve(NETWORK)
        r = HTTP.put(
            server.url + "/api/v1/topology",
            content=text.encode(),
            headers={"content-type": "application/yaml"},
        )
        assert r.status_code == 200, r.text
        yield server.url, load_topology(NETWORK)
    finally:
        server.stop()


@pytest.fixture(scope="module")
def browser(chromium: Any) -> Any:
    """The session's Chromium (tests/conftest.py: one Playwright per process, as its sync API requires)."""
    return chromium


class _Watch:
    """Console errors, page errors and failed requests of a page."""

    def __init__(self, page: Any) -> None:
        self.problems: list[str] = []
        page.on("console", self._console)
        page.on("pageerror", lambda e: self.problems.append(f"pageerror: {e} {e.stack}"))
        page.on("requestfailed", self._failed)
        page.on("response", self._response)

    def _failed(self, request: Any) -> None:
        # net::ERR_ABORTED is the browser cancelling a request because the page navigated away (seen on the
        # favicon during a page.goto); a server that fails shows as an HTTP status or another net:: error
        if request.failure != "net::ERR_ABORTED":
            self.problems.append(f"failed: {request.url} {request.failure}")

    def _console(self, message: Any) -> None:
        if message.type == "error":
            self.problems.append(f"console: {message.text} ({message.location.get('url')})")

    def _response(self, response: Any) -> None:
        if response.status >= 400:
            self.problems.append(f"HTTP {response.status}: {response.url}")


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


def _gpus(center: Center) -> int:
    return sum(p.total_gpus for p in center.pools)


def _search_hits(topo: Topology, term: str) -> list[str]:
    """Ids of the centers the zh-CN search box keeps for ``term`` (id, names, city, circle, operator)."""
    cities = {c.id: c for c in topo.cities}
    regions = {r.id: r for r in topo.regions}
    hits = []
    for c in topo.centers:
        city = cities[c.city]
        fields = [c.id, c.name_zh, c.name_en, city.name_zh, regions[city.region].name_zh, c.operator]
        if any(term.lower() in f.lower() for f in fields):
            hits.append(c.id)
    return sorted(hits)


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
    gpus = sum(_gpus(c) for c in topo.centers)
    assert page.inner_text("#card-gpus").replace(",", "") == str(gpus)
    assert page.locator(".badge.illustrative").first.is_visible()
    assert "示意数据" in page.inner_text("#overview")
    page.screenshot(path=str(tmp_path / "console-zh.png"), full_page=True)

    # a click on a table row shows that center's tooltip on the map: name, operator, tier, kind, pools, PUE
    center = next(c for c in reversed(topo.centers) if c.kind != "general")
    page.click(f"#centers-body tr[data-id='{center.id}'] td.mono")
    page.wait_for_function(
        "name => (document.querySelector('.map-tip') || {}).innerText?.includes(name)", arg=center.name_zh
    )
    tip = page.locator(".map-tip").inner_text()
    assert center.operator in tip and f"PUE: {center.energy.pue:.2f}" in tip
    assert f"资源池: {len(center.pools)}" in tip and "示意数据" in tip

    # a link's tooltip: its two ends, bandwidth and latency
    page.evaluate(
        "echarts.getInstanceByDom(document.getElementById('map-chart'))"
        ".dispatchAction({type: 'showTip', seriesIndex: 0, dataIndex: 0})"
    )
    page.wait_for_function("(document.querySelector('.map-tip') || {}).innerText?.includes('Gbps')")
    link = topo.links[0]
    tip = page.locator(".map-tip").inner_text()
    assert topo.center(link.a).name_zh in tip and topo.center(link.b).name_zh in tip
    assert f"{link.bandwidth_gbps:,.0f} Gbps" in tip and "单向时延" in tip

    # filters, search, sort
    page.select_option("#filter-kind", "intelligent")
    intelligent = [c.id for c in topo.centers if c.kind == "intelligent"]
    assert sorted(_row_ids(page)) == sorted(intelligent)
    page.select_option("#filter-kind", "")
    term = topo.centers[-1].operator
    page.fill("#search", term)
    assert sorted(_row_ids(page)) == _search_hits(topo, term)
    assert 0 < len(_search_hits(topo, term)) < len(topo.centers)
    page.fill("#search", "no-such-center")
    assert page.locator("#centers-body tr.empty").count() == 1
    page.fill("#search", "")
    page.click("#centers-head th[data-key='gpus']")
    page.click("#centers-head th[data-key='gpus']")  # second click: descending
    gpus_by_id = {c.id: _gpus(c) for c in topo.centers}
    shown = [gpus_by_id[i] for i in _row_ids(page)]
    assert shown == sorted(shown, reverse=True) and shown[0] == max(gpus_by_id.values())
    page.focus("#centers-head th[data-key='pue']")
    page.keyboard.press("Enter")  # sorting from the keyboard too
    pue_by_id = {c.id: c.energy.pue for c in topo.centers}
    shown_pue = [pue_by_id[i] for i in _row_ids(page)]
    assert shown_pue == sorted(shown_pue) and shown_pue != [pue_by_id[c.id] for c in topo.centers]

    # English switch, persisted in the URL and localStorage
    page.click("#lang-switch")
    assert page.inner_text("#app-title") == "Huanghe · Provincial Compute Network"
    assert "lang=en" in page.url and page.evaluate("localStorage.getItem('huanghe.lang')") == "en"
    assert "Illustrative data" in page.inner_text("#overview")
    assert page.evaluate(MAP_STATE_JS)["centers"] == len(topo.centers)
    page.goto(url + "/")
    page.wait_for_selector("body[data-ready='1']")
    assert page.inner_text("#app-title") == "Huanghe · Provincial Compute Network"
    circle = topo.regions[0]
    assert circle.name_en in page.inner_text("#centers-body") and circle.name_zh not in page.inner_text(
        "#centers-body"
    )
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


@pytest.mark.browser
def test_console_shows_the_api_error(browser: Any, served: tuple[str, Topology]) -> None:
    url, _ = served
    page = browser.new_page()
    detail = {"detail": [{"path": "", "message": "no network stored yet: import a topology"}]}
    page.route("**/api/v1/topology", lambda route: route.fulfill(status=404, json=detail))
    page.goto(url + "/")
    page.wait_for_selector("body[data-ready='error']", timeout=15000)
    error = page.inner_text("#error")
    assert "无法读取网络拓扑" in error and "HTTP 404: no network stored yet" in error
    assert _row_ids(page) == []
    page.close()


@pytest.mark.browser
def test_api_docs_render_offline(browser: Any, served: tuple[str, Topology]) -> None:
    url, _ = served
    html = HTTP.get(url + "/docs").text
    assert "/static/vendor/swagger-ui/swagger-ui-bundle.js" in html and "cdn" not in html.lower()
    page = browser.new_page()
    watch = _Watch(page)
    # Swagger UI renders a long list of operations lazily (only what is near the viewport): the deep link
    # to the topology tag brings its operations into view
    page.goto(url + "/docs#/topology")
    page.wait_for_selector(".swagger-ui .info .title", timeout=15000)
    assert "Huanghe" in page.inner_text(".swagger-ui .info .title")
    page.wait_for_selector(".opblock-summary-path[data-path='/api/v1/topology']", timeout=15000)
    assert watch.problems == [], "\n".join(watch.problems)
    page.close()
