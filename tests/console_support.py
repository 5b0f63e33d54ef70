"""What the console's role tests share: one real platform with authentication on, a token per role, log-in in
Chromium, the axe-core scan, the missing-translation probe and screenshots for docs/img.

The platform (:func:`role_platform`, session-scoped in ``tests/conftest.py``) is ``create_app`` on a temporary
SQLite with ``shandong-mini`` imported, authentication on (session cookie + CSRF as in production), dev mode
(so CPU jobs run on the local back-end, sandboxed) and the dispatcher and telemetry loops running. Two tenants:
``acme`` (its admin and user) and ``rival`` (a user, for the "cannot see the other tenant" checks); an operator
bound to :data:`OPERATOR_CENTER`; a regulator; a platform admin.
"""

from __future__ import annotations

import json
import os
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from huanghe.api.app import create_app
from huanghe.catalog.topology import load_topology
from huanghe.domain.jobs import Tenant, User
from huanghe.domain.network import Topology
from huanghe.domain.tenancy import Role
from huanghe.network.topology_store import import_topology
from huanghe.settings import Settings
from huanghe.store.db import make_engine, make_session_factory
from huanghe.store.migrate import migrate
from huanghe.telemetry.settings import TelemetrySettings
from huanghe.tenancy import service as tenancy
from huanghe.tenancy import tokens as auth
from huanghe.tenancy.schemas import TenantCreate, UserCreate

REPO = Path(__file__).resolve().parents[1]
NETWORK = "shandong-mini"
OPERATOR_CENTER = "inspur-jinan"
AXE_JS = REPO / "node_modules" / "axe-core" / "axe.min.js"
#: the five roles, as the tests name them
ROLES = ("enterprise", "tenant_admin", "operator", "regulator", "admin")


@dataclass
class RolePlatform:
    """The running platform: base URL, the app (for its state), the network and a token per role name."""

    url: str
    app: Any
    topo: Topology
    tokens: dict[str, str] = field(default_factory=dict)

    def client(self, role: str) -> httpx.Client:
        """An API client with ``role``'s bearer token (close it, or use it in a ``with``)."""
        return httpx.Client(
            base_url=self.url, headers={"Authorization": f"Bearer {self.tokens[role]}"}, timeout=30
        )


def start_role_platform(tmp: Path) -> Iterator[RolePlatform]:
    """Start the platform under ``tmp`` and yield it; stopped when the generator is closed."""
    from tests.test_console_web import _Server

    url = f"sqlite:///{tmp / 'huanghe.db'}"
    topo = load_topology(NETWORK)
    migrate(url)
    engine = make_engine(url)
    with make_session_factory(engine)() as s:
        import_topology(s, topo)
        s.commit()
        for tid, name, sector in (
            ("acme", "示例制造 Acme", "manufacturing"),
            ("rival", "对手 Rival", "finance"),
        ):
            tenancy.create_tenant(s, TenantCreate(**Tenant(id=tid, name=name, sector=sector).model_dump()))
        for uid, tid, role in (
            ("acme-admin", "acme", Role.TENANT_ADMIN),
            ("acme-user", "acme", Role.TENANT_USER),
            ("rival-user", "rival", Role.TENANT_USER),
        ):
            tenancy.create_user(s, UserCreate(**User(id=uid, name=uid, tenant=tid, role=role).model_dump()))
        tokens = {
            "enterprise": auth.TokenCreate(name="acme-user", role=Role.TENANT_USER, tenant="acme"),
            "tenant_admin": auth.TokenCreate(name="acme-admin", role=Role.TENANT_ADMIN, tenant="acme"),
            "rival": auth.TokenCreate(name="rival-user", role=Role.TENANT_USER, tenant="rival"),
            "operator": auth.TokenCreate(name="operator", role=Role.OPERATOR, centers=[OPERATOR_CENTER]),
            "regulator": auth.TokenCreate(name="regulator", role=Role.REGULATOR),
            "admin": auth.TokenCreate(name="admin", role=Role.ADMIN),
        }
        secrets = {name: auth.create_token(s, body).token for name, body in tokens.items()}
        s.commit()
    engine.dispose()
    old = os.environ.get("HUANGHE_DATA_DIR")
    os.environ["HUANGHE_DATA_DIR"] = str(tmp / "data")
    app = create_app(
        Settings(database_url=url, dev_mode=True, auth_enabled=True, session_secret="console-" * 6)
    )
    app.state.telemetry_settings = TelemetrySettings(generator_backfill_h=2, scrape=False)
    server = _Server(app).start()
    try:
        yield RolePlatform(server.url, app, topo, secrets)
    finally:
        server.stop()
        if old is None:
            os.environ.pop("HUANGHE_DATA_DIR", None)
        else:
            os.environ["HUANGHE_DATA_DIR"] = old


def login(
    browser: Any,
    platform: RolePlatform,
    role: str,
    *,
    lang: str = "zh-CN",
    on_page: Callable[[Any], Any] | None = None,
    **context: Any,
) -> Any:
    """A new page in its own browser context, logged in as ``role`` through the real /login form.

    ``on_page(page)`` runs before the first request (to watch the log-in and the console's start-up too)."""
    ctx = browser.new_context(locale=lang, **context)
    page = ctx.new_page()
    if on_page is not None:
        on_page(page)
    page.goto(platform.url + "/login")
    page.fill("input[name='token']", platform.tokens[role])
    page.click("button[type='submit']")
    page.wait_for_url(platform.url + "/")
    if lang == "en":
        page.goto(platform.url + "/?lang=en")
    page.wait_for_function("document.body.dataset.role && document.body.dataset.role !== 'anonymous'")
    return page


def open_view(page: Any, platform: RolePlatform, hash_: str) -> None:
    """Go to ``#hash_`` and wait until its view is shown."""
    page.goto(f"{platform.url}/{'?lang=en' if page.evaluate('HH.lang') == 'en' else ''}#{hash_}")
    name = hash_.split("/")[0]
    page.wait_for_selector(f"[data-view='{name}']:not([hidden])")


def menu(page: Any) -> list[str]:
    """The hrefs of the menu entries shown."""
    return list(page.eval_on_selector_all(".nav a", "els => els.map(e => e.getAttribute('href'))"))


def missing_keys(page: Any) -> list[str]:
    """Translation keys the page asked for and the current language lacks (must be [])."""
    return list(page.evaluate("HH.missing"))


#: what :func:`axe_violations` scans when asked for the view only: the top bar and the view shown
SHOWN_VIEW = ("header", "main > [data-view]:not([hidden])")


def axe_violations(
    page: Any,
    impacts: tuple[str, ...] = ("serious", "critical"),
    include: tuple[str, ...] = (),
    skip: tuple[str, ...] = (),
) -> list[str]:
    """axe-core's violations of the page as shown, at ``impacts``, one line each (rule, impact, targets).

    ``include``: CSS selectors to scan (e.g. :data:`SHOWN_VIEW`, several times faster than the whole
    document with its hidden views); empty = the whole document. ``skip``: rules not run (e.g.
    ``color-contrast``, half of axe's time, when the colours were checked already)."""
    if not AXE_JS.is_file():
        raise AssertionError(f"{AXE_JS} missing: run `make install` (npm ci installs axe-core)")
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.add_script_tag(content=AXE_JS.read_text(encoding="utf-8"))
    result = page.evaluate(
        """async ([include, skip]) => JSON.stringify(await axe.run(
             include.length ? {include: include.map((s) => [s])} : document,
             {resultTypes: ['violations'], rules: Object.fromEntries(skip.map((r) => [r, {enabled: false}]))}))""",
        [list(include), list(skip)],
    )
    found = json.loads(result)["violations"]
    return [
        f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes'][:3]]}"
        for v in found
        if v["impact"] in impacts
    ]


def screenshot(page: Any, tmp_path: Path, name: str) -> Path:
    """Save a screenshot under ``tmp_path`` (of the window: cheaper); with HUANGHE_SAVE_SCREENSHOTS=1 of the
    full page, also copied into docs/img/."""
    path = tmp_path / name
    save = os.environ.get("HUANGHE_SAVE_SCREENSHOTS") == "1"
    page.screenshot(path=str(path), full_page=save)
    if save:  # 256 colours: a third of the size, no visible loss on the console's flat colours
        from PIL import Image  # matplotlib's dependency

        (REPO / "docs" / "img").mkdir(parents=True, exist_ok=True)
        with Image.open(path) as shot:
            flat = shot.convert("RGB").quantize(
                colors=256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE
            )
            flat.save(REPO / "docs" / "img" / name, optimize=True)
    return path


def wait_for(what: str, probe: Any, timeout_s: float = 30.0) -> Any:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = probe()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def external_requests(page: Any, base: str) -> list[str]:
    """Start recording requests that leave the platform (anything not under ``base``, data: or blob:)."""
    seen: list[str] = []
    allowed = re.compile(rf"^({re.escape(base)}/|data:|blob:|about:)")
    page.on("request", lambda r: None if allowed.match(r.url) else seen.append(r.url))
    return seen
