"""Each role's menu, exactly (one entry per thing): read from the sources and, in Chromium, as shown.

The menu is the network's three entries, the built-in views and every page (in index.html's order) whose
``needs`` the role may all call and whose ``unless`` it may not all call (common.js ``inMenu``; the platform
admin's Storage page covers the operator's Center storage, so the admin has one storage entry), then the API
docs. :data:`MENUS` is written out by hand: a page added to or dropped from a role's menu must be added here on
purpose. The source model (:func:`menu_from_sources`) is the one the reachability test uses
(``test_console_reachability._visible``); the browser test checks that common.js draws the same.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from huanghe.api.capabilities import routes_for
from huanghe.domain.tenancy import Role
from tests.console_support import ROLES, RolePlatform, login, menu, open_view
from tests.test_console_reachability import STATIC, View, _registered_pages, _static_needs, _visible

#: the fixture's role names (tests/console_support.py) → the roles of the policy
ROLE_OF = {"enterprise": Role.TENANT_USER, "tenant_admin": Role.TENANT_ADMIN, "operator": Role.OPERATOR,
           "regulator": Role.REGULATOR, "admin": Role.ADMIN}  # fmt: skip
NETWORK = ["#overview", "#map", "#centers"]
TENANT = ["#jobs", "#datasets", "#budgets", "#vouchers", "#invoices", "#applications", "#offerings"]
#: each role's menu, in order (the hrefs of its entries)
MENUS: dict[str, list[str]] = {
    "enterprise": [*NETWORK, *TENANT, "/docs"],
    "tenant_admin": [*NETWORK, "#jobs", "#datasets", "#users", "#tokens", "#budgets", "#vouchers", "#invoices",
                     "#applications", "#offerings", "/docs"],
    # the operator's storage: its centers' endpoints (Center storage)
    "operator": [*NETWORK, "#observatory", "#pools", "#settlement", "#projects", "#alerts", "#offerings",
                 "#endpoints", "/docs"],
    # no storage entry: the province's storage is the Observatory's storage section (maturity by center)
    "regulator": [*NETWORK, "#jobs", "#observatory", "#datasets", "#users", "#tokens", "#budgets", "#vouchers",
                  "#invoices", "#pools", "#settlement", "#audit", "#projects", "#programmes", "#alerts",
                  "#applications", "#offerings", "#protection", "/docs"],
    # Storage (every endpoint, connections, lifecycle policies) and not Center storage, which it covers
    "admin": [*NETWORK, "#jobs", "#observatory", "#datasets", "#users", "#tokens", "#budgets", "#vouchers",
              "#invoices", "#pools", "#settlement", "#audit", "#projects", "#programmes", "#alerts", "#tenants",
              "#topology", "#applications", "#offerings", "#protection", "#storage", "/docs"],
}  # fmt: skip


def _object_text(text: str, start: int) -> str:
    """The ``{...}`` opening at ``text[start]``, braces inside string and template literals and comments skipped
    (a comment's apostrophe, e.g. "the last action's note", opens no string)."""
    depth, i, quote = 0, start, ""
    while i < len(text):
        ch = text[i]
        if quote:
            if ch == "\\":
                i += 1
            elif ch == quote:
                quote = ""
        elif text.startswith("//", i):
            i = text.find("\n", i)
            if i < 0:
                break
        elif text.startswith("/*", i):
            i = text.find("*/", i + 2) + 1
            if i <= 0:
                break
        elif ch in "\"'`":
            quote = ch
        elif ch in "{}":
            depth += 1 if ch == "{" else -1
            if depth == 0:
                return text[start : i + 1]
        i += 1
    raise AssertionError("unclosed {")


def _pages_in_menu_order() -> list[tuple[View, bool]]:
    """Every registered page in index.html's script order, with whether it has a menu entry (``nav``)."""
    index = (STATIC / "index.html").read_text(encoding="utf-8")
    out = []
    for name in re.findall(r'<script src="/static/pages/([\w-]+)\.js"', index):
        path = STATIC / "pages" / f"{name}.js"
        text = path.read_text(encoding="utf-8")
        blocks = [_object_text(text, m.end() - 1) for m in re.finditer(r"HH\.registerPage\(\{", text)]
        for view, block in zip(_registered_pages(path), blocks, strict=True):
            out.append((view, re.search(r'\bnav\s*:\s*"', block) is not None))
    return out


def menu_from_sources(role: Role) -> list[str]:
    """The hrefs of ``role``'s menu as common.js draws it (renderNav), computed from the sources."""
    allowed = set(routes_for(role))
    static = _static_needs()
    out = list(NETWORK)
    out += [f"#{v}" for v in ("jobs", "observatory") if all(c in allowed for c in static[v])]
    out += [f"#{v.name}" for v, nav in _pages_in_menu_order() if nav and _visible(v, allowed)]
    return [*out, "/docs"]


# ---- tests -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
def test_each_roles_menu_from_the_sources(role: str) -> None:
    assert menu_from_sources(ROLE_OF[role]) == MENUS[role]


def test_one_storage_entry_per_role() -> None:
    storage = {role: [h for h in MENUS[role] if h in ("#storage", "#endpoints")] for role in ROLES}
    assert storage == {"enterprise": [], "tenant_admin": [], "operator": ["#endpoints"], "regulator": [],
                       "admin": ["#storage"]}  # fmt: skip


def test_unless_hides_only_when_every_call_is_allowed() -> None:
    page = View("x", STATIC / "x.js", needs=["GET /a"], calls=["GET /a"], unless=["POST /a", "DELETE /a"])
    assert _visible(page, {"GET /a"}) and _visible(page, {"GET /a", "POST /a"})
    assert not _visible(page, {"GET /a", "POST /a", "DELETE /a"})
    assert _visible(View("y", STATIC / "y.js", needs=["GET /a"]), {"GET /a"})  # no unless: never covered


@pytest.mark.browser
def test_each_role_is_shown_exactly_its_menu(chromium: Any, role_platform: RolePlatform) -> None:
    for role in ROLES:
        page = login(chromium, role_platform, role)
        try:
            assert menu(page) == MENUS[role], role
            if role == "admin":  # the covered page still opens by its address, every endpoint listed
                open_view(page, role_platform, "endpoints")
                page.wait_for_selector("#ep-table")
                assert "#endpoints" not in menu(page) and page.evaluate("HH.view") == "endpoints"
        finally:
            page.context.close()
