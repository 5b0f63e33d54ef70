"""Every API route a role may call is reachable from the console, or listed in :data:`EXCEPTIONS` with why.

Without a browser: the console's calls are read from its sources. A page (``pages/*.js``) declares them in
``HH.registerPage({... needs: [...], calls: [...]})`` (an inline list, or a ``const NAME = [...]`` it names);
the scripts that are not pages (common.js, app.js, jobs.js, observatory.js) in ``HH.registerCalls("view",
[...])``. Each is ``"METHOD /api/v1/route/{template}"`` exactly as in :data:`huanghe.api.policy.POLICY`. Per
role (:func:`huanghe.api.capabilities.routes_for`), a route is reachable when a view the role is shown (its
``needs`` all allowed, and not its ``unless`` all: a fuller page of the role's covers it) declares it. The declarations cannot lie: each declared path must appear in that file's
source as a string or template literal (``${...}`` in place of each ``{param}``), a declared mutation must name
its method, and every ``/api/v1/...`` literal of a file must match one of its declared calls.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from huanghe.api.capabilities import routes_for
from huanghe.api.policy import POLICY
from huanghe.domain.tenancy import Role
from huanghe.web import console

STATIC = console.STATIC_DIR
#: the scripts that are not pages, each declaring its calls with HH.registerCalls
SCRIPTS = ("common.js", "app.js", "jobs.js", "observatory.js")
CALL = re.compile(r'"((?:GET|POST|PUT|PATCH|DELETE) /[^"\s]*)"')

#: Routes no page calls, on purpose: who calls them instead, and why a person at the console need not.
EXCEPTIONS: dict[str, str] = {
    "GET /": "the console itself (index.html), not an API call",
    "GET /docs": "the API docs page: the menu links to it (a page leaving the console, not an API call)",
    "GET /login": "the log-in page, server-rendered (huanghe/api/login.py): the console links to it when logged out",
    "POST /login": "the log-in form's POST (huanghe/api/login.py), made by the log-in page, not by the console",
    "GET /healthz": "liveness probe for load balancers and systemd, not for people",
    "GET /metrics": "Prometheus scrape endpoint (text exposition format), read by Prometheus, not people",
    "POST /api/v1/telemetry": "telemetry ingestion, pushed by exporters and agents at the centers (programs)",
}
_READ_IN_TOPOLOGY = (
    "the console reads the whole network (centers, pools with their back-ends, cities, regions, links) in one "
    "GET /api/v1/topology (app.js, every role); this route returns the same records by list or one by one, "
    "for scripts and the CLI (`huanghe centers list`, `huanghe pools list`)"
)
for _route in (
    "GET /api/v1/centers", "GET /api/v1/centers/{item_id}", "GET /api/v1/pools", "GET /api/v1/pools/{item_id}",
    "GET /api/v1/backends", "GET /api/v1/backends/{name}", "GET /api/v1/cities", "GET /api/v1/cities/{item_id}",
    "GET /api/v1/regions", "GET /api/v1/regions/{item_id}", "GET /api/v1/links", "GET /api/v1/links/{item_id}",
):  # fmt: skip
    EXCEPTIONS[_route] = _READ_IN_TOPOLOGY
_CHANGED_BY_IMPORT = (
    "the platform admin changes the network by importing a whole topology file (Topology page: PUT "
    "/api/v1/topology, checked as a whole with each error at its path); single catalog items are created, "
    "edited and deleted by scripts through the API (an operator edits its pools' nodes and price on the Pools page)"
)
for _route in (
    "POST /api/v1/centers", "PATCH /api/v1/centers/{item_id}", "DELETE /api/v1/centers/{item_id}",
    "POST /api/v1/cities", "PATCH /api/v1/cities/{item_id}", "DELETE /api/v1/cities/{item_id}",
    "POST /api/v1/regions", "PATCH /api/v1/regions/{item_id}", "DELETE /api/v1/regions/{item_id}",
    "POST /api/v1/links", "PATCH /api/v1/links/{item_id}", "DELETE /api/v1/links/{item_id}",
    "POST /api/v1/pools", "DELETE /api/v1/pools/{item_id}",
):  # fmt: skip
    EXCEPTIONS[_route] = _CHANGED_BY_IMPORT
EXCEPTIONS |= {
    "GET /api/v1/storage-endpoints/{endpoint_id}": "one endpoint with its connection: the Storage page (platform "
    "admin); the other roles read the same public fields of every endpoint in the list (Observatory, Budgets, "
    "the operator's Center storage page)",
    "POST /api/v1/datasets": "a catalog record without files, for data held outside the platform's storage "
    "(scripts); the Datasets page registers a dataset with its storage (POST /api/v1/datasets:register)",
    "POST /api/v1/datasets/{item_id}/replicas": "records a copy made outside the platform (residency-checked); "
    "the Datasets page makes copies through replication rules (POST /api/v1/rules), which create the replicas",
    "GET /api/v1/observatory/industry-map": "the data of the annual report's industry map figure "
    "(`huanghe industry-map`, JSON); its contents (centers by city, published offerings) are on the network "
    "map and the Offerings page",
    "GET /api/v1/programme-presets": "the reported programme templates used to create a programme, which only "
    "the regulator and the admin may do (Programmes page); other roles have nothing to create from them",
    "GET /api/v1/programmes": "for an operator: programmes pay the providers through settlements, shown on its "
    "Settlement page; the programme list is the regulator's (Programmes) and the applicants' (Applications)",
    "GET /api/v1/programmes/{programme_id}": "for an operator: as GET /api/v1/programmes (the money reaches it "
    "through its settlement statements)",
    "GET /api/v1/secrets/{name}": "one back-end credential's metadata, the same as its row in the Topology "
    "page's list (GET /api/v1/secrets); a secret's value is never readable",
    "GET /api/v1/telemetry/metrics": "for tenants: the metric catalogue of the Observatory's telemetry chart, "
    "which the tenants' roles cannot open (GET /api/v1/telemetry is not theirs)",
}


@dataclass
class View:
    """One view of the console: a page or a script's view, what it needs to be shown, what it calls."""

    name: str
    source: Path
    needs: list[str] = field(default_factory=list)
    calls: list[str] = field(default_factory=list)
    #: calls that, all allowed, leave the view out of the menu (another page of the role's covers it)
    unless: list[str] = field(default_factory=list)


def _bracket_list(text: str, start: int) -> str:
    """The text of the ``[...]`` that opens at ``text[start]`` (nested brackets allowed)."""
    assert text[start] == "[", text[start : start + 40]
    depth = 0
    for i in range(start, len(text)):
        depth += {"[": 1, "]": -1}.get(text[i], 0)
        if depth == 0:
            return text[start : i + 1]
    raise AssertionError("unclosed [")


def _elements(text: str, array: str, source: Path) -> list[str]:
    """The calls of an array literal: string literals, names of ``const NAME = "..."`` and ``...NAME`` of a
    ``const NAME = [...]`` of the file."""
    out: list[str] = []
    for item in re.findall(r'\.\.\.[A-Za-z_$][\w$]*|"[^"]*"|[A-Za-z_$][\w$]*', array[1:-1]):
        if item.startswith('"'):
            out += CALL.findall(item)
            continue
        name = item.removeprefix("...")
        const = re.search(rf'\bconst\s+{re.escape(name)}\s*=\s*("[^"]*"|\[)', text)
        assert const, f"{source.name}: {item} in a call list is not a const of the file"
        if const.group(1) == "[":
            out += _elements(text, _bracket_list(text, const.end() - 1), source)
        else:
            out += CALL.findall(const.group(1))
    return out


def _list_value(text: str, key: str, block: str, source: Path) -> list[str]:
    """The calls of ``key: [...]`` (or ``key: NAME`` with ``const NAME = [...]`` in the file) in ``block``."""
    m = re.search(rf"\b{key}\s*:\s*(\[|[A-Za-z_$][\w$]*)", block)
    if not m:
        return []
    if m.group(1) == "[":
        return _elements(text, _bracket_list(block, m.start(1)), source)
    const = re.search(rf"\bconst\s+{re.escape(m.group(1))}\s*=\s*\[", text)
    assert const, f"{source.name}: {key}: {m.group(1)} is not a `const {m.group(1)} = [...]` of the file"
    return _elements(text, _bracket_list(text, const.end() - 1), source)


def _registered_pages(path: Path) -> list[View]:
    text = path.read_text(encoding="utf-8")
    views = []
    for m in re.finditer(r"HH\.registerPage\(\{", text):
        block = text[m.end() : m.end() + 20000]
        name = re.search(r'\bname\s*:\s*"([\w-]+)"', block)
        assert name, f"{path.name}: registerPage without a literal name"
        views.append(
            View(
                name.group(1),
                path,
                _list_value(text, "needs", block, path),
                _list_value(text, "calls", block, path),
                _list_value(text, "unless", block, path),
            )
        )
    return views


def _registered_calls(path: Path) -> list[View]:
    text = path.read_text(encoding="utf-8")
    views = []
    for m in re.finditer(r'HH\.registerCalls\("([\w-]+)",\s*\[', text):
        views.append(View(m.group(1), path, [], _elements(text, _bracket_list(text, m.end() - 1), path)))
    return views


def _static_needs() -> dict[str, list[str]]:
    """``STATIC_VIEWS`` of common.js: the built-in views (network, jobs, observatory) and their needs."""
    text = (STATIC / "common.js").read_text(encoding="utf-8")
    block = text.split("const STATIC_VIEWS = {", 1)[1].split("};", 1)[0]
    found = re.findall(r"(\w+): \{[^}]*needs: (\[[^\]]*\])", block)
    return {name: CALL.findall(needs) for name, needs in found}


def console_views() -> list[View]:
    """Every view of the console with its needs and calls, read from the sources."""
    views: list[View] = []
    for name in SCRIPTS:
        views += _registered_calls(STATIC / name)
    for path in _sources()[len(SCRIPTS) :]:
        views += _registered_pages(path)
    needs = _static_needs()
    for v in views:
        if v.name in needs:
            v.needs = needs[v.name]
    return views


def _visible(view: View, allowed: set[str]) -> bool:
    """In the menu of a role allowed ``allowed``: as common.js's ``inMenu`` (needs all allowed, and not covered
    by a fuller page: ``unless`` empty or not all allowed)."""
    covered = bool(view.unless) and all(c in allowed for c in view.unless)
    return all(c in allowed for c in view.needs) and not covered


def unreachable(role: Role, views: list[View]) -> list[str]:
    """The routes ``role`` may call that no view shown to it declares."""
    allowed = set(routes_for(role))
    reached = {c for v in views if _visible(v, allowed) for c in v.calls}
    return sorted(allowed - reached)


# ---- the declarations cannot lie ---------------------------------------------------------------------------


def _normalised_literals(text: str) -> list[str]:
    """The file's string and template literals, each ``${...}`` replaced by ``{}``."""
    out = []
    for m in re.finditer(r'"((?:[^"\\\n]|\\.)*)"|\'((?:[^\'\\\n]|\\.)*)\'|`((?:[^`\\]|\\.)*)`', text):
        lit = next(g for g in m.groups() if g is not None)
        out.append(re.sub(r"\$\{(?:[^{}]|\{[^{}]*\})*\}", "{}", lit))
    return out


def _template(call: str) -> tuple[str, str]:
    method, path = call.split(" ", 1)
    return method, re.sub(r"\{\w+\}", "{}", path)


def _literal_matches(literal: str, path: str) -> bool:
    """``literal`` holds ``path`` followed by nothing, a query or an interpolation (never more path)."""
    for m in re.finditer(re.escape(path), literal):
        rest = literal[m.end() :]
        if rest == "" or rest[0] in "?{#":
            return True
    return False


def _sources() -> list[Path]:
    return [STATIC / name for name in SCRIPTS] + sorted((STATIC / "pages").glob("*.js"))


def source_text(path: Path) -> str:
    """A script's text, followed by the scripts it loads itself ("/static/x.js" literals, e.g. a page's parts
    loaded when first shown): their calls are the page's."""
    text = path.read_text(encoding="utf-8")
    for ref in sorted(set(re.findall(r'"/static/([\w/-]+\.js)"', text))):
        if not ref.startswith("vendor/") and (STATIC / ref).is_file() and STATIC / ref != path:
            text += "\n" + (STATIC / ref).read_text(encoding="utf-8")
    return text


def declaration_problems(views: list[View]) -> list[str]:
    """Declared calls missing from the policy or the source, needs not called, calls made but not declared."""
    problems = []
    by_file: dict[Path, list[str]] = {path: [] for path in _sources()}
    for v in views:
        by_file.setdefault(v.source, []).extend(v.calls)
        for call in v.calls + v.needs + v.unless:
            method, path = call.split(" ", 1)
            if (method, path) not in POLICY:
                problems.append(f"{v.source.name} ({v.name}): {call} is not a route of the policy table")
        problems += [
            f"{v.source.name} ({v.name}): needs {c} but does not call it" for c in v.needs if c not in v.calls
        ]
    for source, calls in by_file.items():
        text = source_text(source)
        literals = [lit for lit in _normalised_literals(text) if not CALL.fullmatch(f'"{lit}"')]
        api_literals = [lit for lit in literals if lit.startswith("/api/v1/") or lit == "/logout"]
        for call in calls:
            method, path = _template(call)
            if not any(_literal_matches(lit, path) for lit in literals):
                problems.append(f"{source.name}: declares {call} but no literal {path!r} in its source")
            if method != "GET" and not re.search(rf"""method:\s*["']{method}["']""", text):
                problems.append(f"{source.name}: declares {call} but never sends method {method!r}")
        templates = [_template(c)[1] for c in calls]
        for lit in api_literals:
            if lit.rstrip("/") in ("/api/v1", ""):
                continue
            if not any(_literal_matches(lit, t) for t in templates):
                problems.append(f"{source.name}: calls {lit!r} without declaring it")
    return problems


# ---- tests -------------------------------------------------------------------------------------------------


def test_the_parser_reads_the_declarations() -> None:
    views = console_views()
    names = {v.name for v in views}
    assert {"common", "observatory"} <= names
    observatory = [c for v in views if v.name == "observatory" for c in v.calls]
    assert "POST /api/v1/alerts/{alert_id}:ack" in observatory
    assert _static_needs()["observatory"] == ["GET /api/v1/observatory/indicators"]
    assert _literal_matches("/api/v1/jobs?{}", "/api/v1/jobs")
    assert _literal_matches("/api/v1/jobs/{}:cancel", "/api/v1/jobs/{}:cancel")
    assert not _literal_matches("/api/v1/jobs/{}/events", "/api/v1/jobs/{}")
    assert _normalised_literals("x(`/a/${encodeURIComponent(id)}/b${HH.query({a: 1})}`)") == ["/a/{}/b{}"]


def test_declared_calls_exist_and_are_made() -> None:
    problems = declaration_problems(console_views())
    assert problems == [], "\n".join(problems)


def test_exceptions_are_routes_and_justified() -> None:
    for call, why in EXCEPTIONS.items():
        method, path = call.split(" ", 1)
        assert (method, path) in POLICY, f"exception {call} is not a route (any more?)"
        assert len(why) > 20, call


def test_every_route_of_every_role_is_reachable_or_excepted() -> None:
    views = console_views()
    declared = {c for v in views for c in v.calls}
    report = []
    for role in Role:
        missing = [c for c in unreachable(role, views) if c not in EXCEPTIONS]
        report += [f"{role.value}: {c}" for c in missing]
    assert report == [], "unreachable from the console, neither called nor excepted:\n" + "\n".join(report)
    missing_somewhere = {c for role in Role for c in unreachable(role, views)}
    stale = sorted(c for c in EXCEPTIONS if c in declared and c not in missing_somewhere)
    assert stale == [], f"excepted but reachable for every role that may call it (remove it): {stale}"


def calls_table() -> str:
    """The Markdown table of docs/console.md: each view, the roles it is shown to, the API calls it makes."""
    views = console_views()
    lines = ["| view | shown to | API calls |", "|---|---|---|"]
    for v in views:
        allowed = [r.value for r in Role if _visible(v, set(routes_for(r)))]
        shown = "every role" if v.name == "common" or len(allowed) == len(Role) else ", ".join(allowed)
        calls = "<br>".join(f"`{c}`" for c in v.calls)
        lines.append(f"| `{v.name}` ({v.source.name}) | {shown} | {calls} |")
    return "\n".join(lines) + "\n"


def test_docs_list_the_calls_as_declared() -> None:
    doc = (Path(__file__).resolve().parents[1] / "docs" / "console.md").read_text(encoding="utf-8")
    assert calls_table() in doc, (
        "docs/console.md: regenerate the table: .venv/bin/python -m tests.test_console_reachability"
    )


if __name__ == "__main__":
    print(calls_table(), end="")
