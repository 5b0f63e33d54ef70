"""The console's job list at scale: first paint of #jobs and the time a filter and a search take to answer, in
Chromium, with 100,000 jobs against a baseline of 1,000 measured in the same command.

For each size: a temporary SQLite file is migrated, the bundled ``shandong-mini`` network imported, two tenants
made (``acme`` owns 90 % of the jobs, ``rival`` the rest) and the jobs written by bulk inserts through SQLAlchemy
core (states, pools, commands and submission times spread over 30 days, like a month of a busy tenant). Then
``huanghe up`` serves it (a subprocess on loopback, authentication on, scheduler off so nothing moves) and
Chromium logs in as acme's tenant user (who sees 90 % of the jobs: the tenant filter is always on) and measures,
``--repeat`` times each, from the page's own performance marks (``jobs.js``):

* ``first_paint_ms``: navigation start → the first list rendered (``jobs-first-paint``), a full page load;
* ``state_filter_ms``: the state select changed → the list of that state rendered (no debounce on selects);
* ``search_ms``: the search request sent → its list rendered (the page waits 250 ms after the last keystroke
  before it asks, or asks at its next 3 s refresh if that comes first: not counted);
* ``api_*_ms``: the same questions as plain ``GET /api/v1/jobs`` requests (httpx, for the server's share).

Medians and maxima are printed per size, then the ratio 100,000 / 1,000. Usage::

    .venv/bin/python bench/bench_console_jobs.py --sizes 1000,100000 --repeat 5
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from sqlalchemy import insert  # noqa: E402

from bench.bench_submit import start_server, stop  # noqa: E402
from huanghe.catalog.topology import load_topology  # noqa: E402
from huanghe.domain.jobs import Tenant  # noqa: E402
from huanghe.domain.tenancy import Role  # noqa: E402
from huanghe.jobs.models import JobRow  # noqa: E402
from huanghe.network.topology_store import import_topology  # noqa: E402
from huanghe.store.db import make_engine, make_session_factory  # noqa: E402
from huanghe.store.migrate import migrate  # noqa: E402
from huanghe.tenancy import service as tenancy  # noqa: E402
from huanghe.tenancy import tokens as auth  # noqa: E402
from huanghe.tenancy.schemas import TenantCreate  # noqa: E402
from tests.test_console_web import CHROMIUM, CHROMIUM_ARGS  # noqa: E402

NETWORK = "shandong-mini"
STATES = (
    ["SUCCEEDED"] * 70
    + ["FAILED"] * 8
    + ["CANCELLED"] * 7
    + ["PENDING"] * 5
    + ["RUNNING"] * 5
    + ["PLACED"] * 5
)
COMMANDS = ["python train.py --epochs {i}", "bash etl.sh part-{i}", "echo hello {i}", "./simulate --case {i}",
            "infer --model m{i}"]  # fmt: skip
#: what the search looks for: one command in ~50,000 (the page lists the few that match)
SEARCH = "hello 99"
CHUNK = 5000


def fill(url: str, n: int, seed: int = 1) -> tuple[str, float]:
    """Migrate ``url``, import the network, make the tenants and ``n`` jobs; the acme user's token, fill seconds."""
    t0 = time.perf_counter()
    migrate(url)
    engine = make_engine(url)
    topo = load_topology(NETWORK)
    pools = [(p.id, c.id) for c in topo.centers for p in c.pools]
    with make_session_factory(engine)() as s:
        import_topology(s, topo)
        for tid in ("acme", "rival"):
            tenancy.create_tenant(
                s, TenantCreate(**Tenant(id=tid, name=tid, sector="manufacturing").model_dump())
            )
        token = auth.create_token(
            s, auth.TokenCreate(name="acme-user", role=Role.TENANT_USER, tenant="acme")
        ).token
        s.commit()
    rng = random.Random(seed)
    start = time.time() - 30 * 86400
    with engine.begin() as conn:
        rows: list[dict[str, Any]] = []
        for i in range(n):
            at = start + i * (30 * 86400 / n)
            state = rng.choice(STATES)
            pool, center = rng.choice(pools) if state != "PENDING" else (None, None)
            command = rng.choice(COMMANDS).format(i=i)
            rows.append({
                "id": f"j{int(at * 1000):011x}{i:08x}", "name": f"job-{i}", "tenant_id": "rival" if i % 10 == 0 else "acme",
                "user_id": None, "spec": {"command": command, "cpus": 2}, "priority": 0, "cpus": 2.0, "gpus": 0.0,
                "mem_gb": 4.0, "nodes": 1, "state": state, "pool_id": pool, "center_id": center, "submit_s": at,
                "updated_s": at, "started_s": None if state in ("PENDING", "PLACED") else at + 5,
                "ended_s": at + 65 if state in ("SUCCEEDED", "FAILED", "CANCELLED") else None, "attempt": 1,
                "max_attempts": 3, "excluded_centers": [], "backend": "local" if pool else None,
                "backend_job_id": None, "dispatch_token": None, "cancel_requested": False, "exit_code": None,
                "message": "", "price_cny_per_hour": 0.5 if pool else None, "est_cost_cny": rng.random(),
                "est_carbon_kg": rng.random() / 10,
            })  # fmt: skip
            if len(rows) == CHUNK:
                conn.execute(insert(JobRow), rows)
                rows = []
        if rows:
            conn.execute(insert(JobRow), rows)
    engine.dispose()
    return token, time.perf_counter() - t0


FILTER_JS = """async ([id, value, expect, event]) => {
  const t0 = performance.now();
  const input = document.getElementById(id);
  input.value = value;
  input.dispatchEvent(new Event(event));
  const table = document.getElementById('jobs-table');
  while (table.dataset.query !== expect) await new Promise(r => setTimeout(r, 1));
  const last = (name) => { const m = performance.getEntriesByName(name); return m[m.length - 1].startTime; };
  return {answered: last('jobs-list-rendered') - last('jobs-list-request'), typed: last('jobs-list-rendered') - t0};
}"""


def measure_page(browser: Any, base: str, token: str, repeat: int) -> dict[str, list[float]]:
    """Chromium timings (ms) of one size: first paint, state filter, search (see module docstring)."""
    ctx = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    page = ctx.new_page()
    page.goto(base + "/login")
    page.fill("input[name='token']", token)
    page.click("button[type='submit']")
    page.wait_for_url(base + "/")
    out: dict[str, list[float]] = {"first_paint_ms": [], "state_filter_ms": [], "search_ms": []}
    try:
        for i in range(repeat + 1):  # the first load warms the server and the browser cache: not counted
            page.goto(f"{base}/?r={i}#jobs")
            page.wait_for_function(
                "performance.getEntriesByName('jobs-first-paint').length === 1", timeout=60000
            )
            if i:
                out["first_paint_ms"].append(
                    page.evaluate("performance.getEntriesByName('jobs-first-paint')[0].startTime")
                )
        page.wait_for_selector("#jobs-body tr[data-id]")
        for _ in range(repeat):
            for value in ("FAILED", ""):
                expect = "?limit=50" + (f"&state={value}" if value else "")
                got = page.evaluate(FILTER_JS, ["job-state-filter", value, expect, "change"])
                if value:
                    out["state_filter_ms"].append(got["typed"])
            for value in (SEARCH, ""):
                expect = "?limit=50" + ("&q=hello+99" if value else "")
                got = page.evaluate(FILTER_JS, ["job-search", value, expect, "input"])
                if value:
                    out["search_ms"].append(got["answered"])
        rows = page.locator("#jobs-body tr[data-id]").count()
        assert rows >= 1, "the search found nothing"
    finally:
        ctx.close()
    return out


def measure_api(base: str, token: str, repeat: int) -> dict[str, list[float]]:
    """The same questions as plain API requests (ms)."""
    out: dict[str, list[float]] = {"api_list_ms": [], "api_state_ms": [], "api_search_ms": []}
    with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=60) as c:
        for _ in range(repeat):
            for key, params in (("api_list_ms", {}), ("api_state_ms", {"state": "FAILED"}),
                                ("api_search_ms", {"q": SEARCH})):  # fmt: skip
                t0 = time.perf_counter()
                r = c.get("/api/v1/jobs", params={"limit": 50, **params})
                out[key].append((time.perf_counter() - t0) * 1000)
                assert r.status_code == 200, r.text
    return out


def run_size(browser: Any, n: int, repeat: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="bench-console-jobs-") as d:
        tmp = Path(d)
        url = f"sqlite:///{tmp / 'huanghe.db'}"
        token, fill_s = fill(url, n)
        proc, base = start_server(tmp, url, scheduler=False, auth=True, network=None)
        try:
            with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}) as c:
                total = c.get("/api/v1/jobs", params={"limit": 1}).json()["total"]
            timings = measure_page(browser, base, token, repeat) | measure_api(base, token, repeat)
        finally:
            stop(proc)
    return {"jobs": n, "acme_jobs": total, "fill_s": fill_s, **timings}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", default="1000,100000", help="job counts, the first is the baseline")
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    sizes = [int(x) for x in args.sizes.split(",")]
    from playwright.sync_api import sync_playwright

    results = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            for n in sizes:
                results.append(run_size(browser, n, args.repeat))
        finally:
            browser.close()
    keys = ["first_paint_ms", "state_filter_ms", "search_ms", "api_list_ms", "api_state_ms", "api_search_ms"]
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(
        f"console job list, {args.repeat} repeats each; median (max) in ms; load average {load} on {os.cpu_count()} CPUs"
    )
    print(f"{'measure':<18}" + "".join(f"{r['jobs']:>22,} jobs" for r in results))
    print(f"{'acme sees':<18}" + "".join(f"{r['acme_jobs']:>27,}" for r in results))
    print(f"{'fill s':<18}" + "".join(f"{r['fill_s']:>27.1f}" for r in results))
    for k in keys:
        cells = "".join(f"{statistics.median(r[k]):>19.1f} ({max(r[k]):7.1f})" for r in results)
        print(f"{k:<18}{cells}")
    base = results[0]
    for r in results[1:]:
        ratios = ", ".join(f"{k} {statistics.median(r[k]) / statistics.median(base[k]):.2f}x" for k in keys)
        print(f"ratio {r['jobs']:,} / {base['jobs']:,}: {ratios}")
    goals = results[-1]
    print(
        f"goals at {goals['jobs']:,} jobs: first paint < 1000 ms: {max(goals['first_paint_ms']):.0f} (max); "
        f"filter < 300 ms: state {max(goals['state_filter_ms']):.0f}, search {max(goals['search_ms']):.0f} (max)"
    )


if __name__ == "__main__":
    main()
