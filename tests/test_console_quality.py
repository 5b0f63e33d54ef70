"""Every page of every role's menu, in Chromium, in zh-CN and English: no missing translation, no console error or
failed request, no request outside the platform, no serious or critical axe-core violation, no horizontal
overflow at a phone's width (390 px), numbers and money in the locale; a screenshot of each page per role.

One browser context per role (log in once, then move between pages by the URL hash): the five roles take well
under 90 s together. The pages come from the menu the role is shown (``menu(page)``), so a new page is checked
as soon as it is registered with a ``nav`` entry.
"""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from huanghe.api.policy import POLICY
from tests.console_support import (
    ROLES,
    SHOWN_VIEW,
    RolePlatform,
    axe_violations,
    external_requests,
    login,
    menu,
    missing_keys,
    screenshot,
)
from tests.test_console_web import _Watch

DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
#: the network view has three menu entries (overview, map, centers): visited once
NETWORK_ANCHORS = {"#overview": "network", "#map": None, "#centers": None}
SETTLE_S = 0.15

OVERFLOW_JS = """() => {
  const width = document.documentElement.clientWidth;
  const wide = [...document.querySelectorAll('body *')].filter(e => {
    if (!e.getClientRects().length) return false;
    const r = e.getBoundingClientRect();
    if (r.right <= width + 1) return false;
    for (let p = e.parentElement; p && p !== document.body; p = p.parentElement) {
      const s = getComputedStyle(p);
      if (['auto', 'scroll', 'hidden'].includes(s.overflowX)) return false;  // scrolls inside its box
    }
    return true;
  });
  const name = (e) => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') +
    (e.className && typeof e.className === 'string' ? '.' + e.className.split(' ').join('.') : '');
  // for the message only: the elements reaching furthest past the edge, scrolling boxes' contents included
  const past = [...document.querySelectorAll('body *')]
    .filter(e => e.getClientRects().length && e.getBoundingClientRect().right > width + 1)
    .sort((a, b) => b.getBoundingClientRect().right - a.getBoundingClientRect().right)
    .slice(0, 8).map(e => name(e) + ' ' + Math.round(e.getBoundingClientRect().right) + 'px');
  return {scroll: document.body.scrollWidth, width, wide: wide.slice(0, 5).map(name), past};
}"""


DECLARED_JS = "[...HH.pages.flatMap((p) => p.calls), ...Object.values(HH.calls).flat()]"


def _route_of(method: str, path: str) -> str | None:
    """The policy's ``"METHOD /template"`` that a request path matches (a parameter never holds / or :)."""
    for m, template in POLICY:
        if m == method and re.fullmatch(re.sub(r"\\\{\w+\\\}", "[^/:]+", re.escape(template)), path):
            return f"{m} {template}"
    return None


class _Calls:
    """The API calls the page makes, as policy routes (to compare with what the views declare)."""

    def __init__(self, page: Any, base: str) -> None:
        self.seen: set[str] = set()
        self.base = base
        page.on("request", self._request)

    def _request(self, request: Any) -> None:
        if request.url.startswith(self.base):
            self.seen.add(f"{request.method} {urlsplit(request.url).path}")

    def undeclared(self, declared: set[str]) -> list[str]:
        out = []
        for call in sorted(self.seen):
            method, path = call.split(" ", 1)
            if not (path.startswith("/api/") or path == "/logout"):
                continue
            route = _route_of(method, path)
            if route not in declared:
                out.append(f"{call} ({route or 'no such route'}) made but declared by no view")
        return out


class _InFlight:
    """Counts the page's requests still on the way, to wait until a page has read what it shows."""

    def __init__(self, page: Any) -> None:
        self.open = 0
        self.last = time.monotonic()
        page.on("request", self._start)
        page.on("requestfinished", self._end)
        page.on("requestfailed", self._end)

    def _start(self, _: Any) -> None:
        self.open += 1
        self.last = time.monotonic()

    def _end(self, _: Any) -> None:
        self.open -= 1
        self.last = time.monotonic()

    def settle(self, page: Any, timeout_s: float = 15.0) -> None:
        """Return once no request has been open for SETTLE_S (the page's own polling aside)."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            page.wait_for_timeout(50)
            if self.open <= 0 and time.monotonic() - self.last >= SETTLE_S:
                return
        raise AssertionError(f"requests still open after {timeout_s} s")


def _views(page: Any) -> list[str]:
    """The views of the role's menu, once each, in menu order (the API docs link leaves the console)."""
    out: list[str] = []
    for href in menu(page):
        if not href.startswith("#") or NETWORK_ANCHORS.get(href, href) is None:
            continue
        name = NETWORK_ANCHORS.get(href) or href[1:]
        if name not in out:
            out.append(name)
    return out


def _show(page: Any, flight: _InFlight, view: str) -> None:
    page.evaluate("v => { location.hash = v === 'network' ? '#overview' : '#' + v; }", view)
    page.wait_for_selector(f"[data-view='{view}']:not([hidden])")
    flight.settle(page)


def _locale_checks(page: Any, platform: RolePlatform, lang: str) -> None:
    """A number on the overview cards and an amount of money in the page's language."""
    gpus = sum(p.total_gpus for c in platform.topo.centers for p in c.pools)
    want = page.evaluate("([n, lang]) => n.toLocaleString(lang)", [gpus, lang])
    assert page.inner_text("#card-gpus") == want
    money = page.evaluate("HH.money(12345.5)")
    assert money == ("¥12,345.50" if lang == "zh-CN" else "CN¥12,345.50"), money
    when = page.evaluate("HH.time(0)")
    assert ("1970" in when) and (("/" in when) if lang == "zh-CN" else ("," in when)), when


@pytest.mark.browser
@pytest.mark.parametrize("role", ROLES)
def test_every_page_of_the_role(
    chromium: Any, role_platform: RolePlatform, role: str, tmp_path: Path
) -> None:
    started = time.monotonic()
    seen: dict[str, Any] = {}

    def watch_all(page: Any) -> None:  # from the log-in on
        seen.update(watch=_Watch(page), outside=external_requests(page, role_platform.url))
        seen.update(flight=_InFlight(page), calls=_Calls(page, role_platform.url))

    page = login(chromium, role_platform, role, viewport=DESKTOP, on_page=watch_all)
    watch, outside, flight, calls = seen["watch"], seen["outside"], seen["flight"], seen["calls"]
    try:
        views = _views(page)
        assert views[0] == "network" and len(views) >= 2, views
        problems: list[str] = []
        spent = dict.fromkeys(("log-in", "show", "axe zh-CN", "axe en", "screenshot"), 0.0)
        spent["log-in"] = time.monotonic() - started
        # zh-CN at 1280 px (screenshots), then English at 390 px (the longer texts on the narrow screen)
        for lang in ("zh-CN", "en"):
            if lang == "en":
                page.set_viewport_size(PHONE)
                page.click("#lang-switch")
                assert page.evaluate("HH.lang") == "en"
                assert _views(page) == views  # the same menu in both languages
            for view in views:
                mark = time.monotonic()
                _show(page, flight, view)
                spent["show"] += time.monotonic() - mark
                where = f"{role} {lang} #{view}"
                problems += [f"{where}: missing {k}" for k in missing_keys(page)]
                # colours do not change with the language: their contrast is checked in zh-CN (half of axe's time)
                skip = ("color-contrast",) if lang == "en" else ()
                mark = time.monotonic()
                problems += [f"{where}: axe {v}" for v in axe_violations(page, include=SHOWN_VIEW, skip=skip)]
                spent["axe " + lang] += time.monotonic() - mark
                if view == "network":
                    _locale_checks(page, role_platform, lang)
                if lang == "zh-CN":
                    page.evaluate("window.scrollTo(0, 0)")
                    mark = time.monotonic()
                    screenshot(page, tmp_path, f"console-{role}-{view}.png")
                    spent["screenshot"] += time.monotonic() - mark
                else:
                    wide = page.evaluate(OVERFLOW_JS)
                    if wide["scroll"] > wide["width"] or wide["wide"]:
                        # measured again once the layout has settled: CI once saw #settlement 405 px wide with
                        # no element past the edge (a layout mid-change); an overflow that stays still fails
                        page.wait_for_timeout(500)
                        wide = page.evaluate(OVERFLOW_JS)
                    if wide["scroll"] > wide["width"] or wide["wide"]:
                        problems.append(f"{where}: wider than {PHONE['width']} px: {wide}")
        problems += watch.problems
        problems += calls.undeclared(set(page.evaluate(DECLARED_JS)))
        problems += [f"outside the platform: {u}" for u in outside]
        assert problems == [], "\n".join(problems)
        split = ", ".join(f"{k} {v:.1f}" for k, v in spent.items())
        print(f"{role}: {len(views)} views in 2 languages in {time.monotonic() - started:.1f} s ({split})")
    finally:
        page.context.close()


@pytest.mark.browser
def test_login_page_on_a_phone(chromium: Any, role_platform: RolePlatform) -> None:
    ctx = chromium.new_context(viewport=PHONE)
    try:
        page = ctx.new_page()
        watch = _Watch(page)
        outside = external_requests(page, role_platform.url)
        page.goto(role_platform.url + "/login")
        page.wait_for_selector("input[name='token']")
        assert axe_violations(page) == []
        wide = page.evaluate(OVERFLOW_JS)
        assert wide["scroll"] <= wide["width"] and wide["wide"] == [], wide
        assert watch.problems == [] and outside == [], (watch.problems, outside)
    finally:
        ctx.close()
