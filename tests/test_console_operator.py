"""The operator's console (issue #17, item 4) on the shared role platform (auth on, real Chromium, real
scheduler and local back-end): pools of their own center only, drain and resume, load over time, jobs on their
pools, the settlement statement (JSON and CSV); and, through the API, what an operator may not do: drain
another center's pool, read another center's statement or jobs, list every job.

The drain test proves placement skips a drained pool with a job that can ONLY run there (it targets an
offering on that pool): it waits PENDING while the pool is drained and is placed there once it is resumed.
Shared state is restored: the pool is resumed and the offering withdrawn at the end.
"""

from __future__ import annotations

import csv
import io
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from huanghe.billing import statements
from huanghe.billing.models import UsageRow
from huanghe.broker.batch import JobBatch
from huanghe.broker.filters import Reason, apply_filters
from huanghe.broker.snapshot import NetworkSnapshot
from huanghe.catalog.topology import load_topology
from huanghe.core.clock import FakeClock
from huanghe.core.errors import NotFoundError
from huanghe.network.topology_store import import_topology
from huanghe.store.db import make_engine, make_session_factory
from huanghe.store.migrate import migrate
from tests.console_support import (
    OPERATOR_CENTER,
    RolePlatform,
    axe_violations,
    login,
    menu,
    missing_keys,
    open_view,
    screenshot,
    wait_for,
)

API = "/api/v1"
OTHER_CENTER = "nsc-jinan"
TERMINAL = {"SUCCEEDED", "FAILED", "CANCELLED"}


def _pools(platform: RolePlatform, center: str) -> list[dict[str, Any]]:
    with platform.client("operator") as c:
        r = c.get(f"{API}/pools", params={"center": center, "limit": 1000})
        assert r.status_code == 200, r.text
        return list(r.json()["items"])


def _drained(platform: RolePlatform) -> set[str]:
    with platform.client("admin") as c:
        return {d["pool"] for d in c.get(f"{API}/pool-drains").json()}


def _job(platform: RolePlatform, job_id: str) -> dict[str, Any]:
    with platform.client("enterprise") as c:
        r = c.get(f"{API}/jobs/{job_id}")
        assert r.status_code == 200, r.text
        return dict(r.json())


@pytest.fixture(scope="module")
def target(role_platform: RolePlatform) -> Iterator[tuple[str, str]]:
    """(pool, offering): a local-back-end pool of the operator's center and a published offering on it (made
    by the operator); the offering is withdrawn and the pool resumed at the end."""
    pool = next(p["id"] for p in _pools(role_platform, OPERATOR_CENTER) if p["backend"] == "local")
    oid = f"op-console-{uuid.uuid4().hex[:8]}"
    body = {"id": oid, "pool": pool, "name_zh": "运营测试", "name_en": "operator test", "response_minutes": 60,
            "price_cny_per_node_hour": "4", "availability_pct": "99.5", "security_level": 1}  # fmt: skip
    with role_platform.client("operator") as c:
        assert c.post(f"{API}/offerings", json=body).status_code == 201
        assert c.post(f"{API}/offerings/{oid}:publish").status_code == 200
    try:
        yield pool, oid
    finally:
        with role_platform.client("operator") as c:
            c.post(f"{API}/pools/{pool}:resume")
            c.post(f"{API}/offerings/{oid}:withdraw")


def test_a_drained_pool_is_removed_by_the_unhealthy_filter_and_only_it() -> None:
    snap = NetworkSnapshot.from_topology(
        load_topology("shandong-mini"), FakeClock(0.0), carbon_shape="synthetic"
    )
    jobs = JobBatch.from_records(snap, [{"cpus": 1, "mem_gb": 1}])
    before = apply_filters(snap, jobs).feasible[0]
    drained = int(np.flatnonzero(before)[0])  # a pool the job could run in
    mask = np.ones(snap.n_pools, dtype=np.bool_)
    mask[drained] = False
    report = apply_filters(snap.with_pool_open(mask), jobs)
    assert not report.feasible[0, drained]
    assert list(report.removed_by(0)[Reason.UNHEALTHY]) == [drained]
    assert (report.feasible[0] == (before & mask)).all()
    with pytest.raises(ValueError, match="pool_open"):
        snap.with_pool_open(np.ones(snap.n_pools + 1, dtype=np.bool_))


def test_a_statement_prices_per_pool_and_sums_in_fen(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'st.db'}"
    migrate(url)
    engine = make_engine(url)
    base = {"tenant_id": "acme", "center_id": OPERATOR_CENTER, "operator": "x", "started_s": 0.0, "ended_s": 1.0,
            "nodes": 1, "gpu_hours": 0.0, "energy_kwh": 1.5, "carbon_kg": 0.5}  # fmt: skip
    with make_session_factory(engine)() as s:
        import_topology(s, load_topology("shandong-mini"))
        pool = next(
            p.id for c in load_topology("shandong-mini").centers if c.id == OPERATOR_CENTER for p in c.pools
        )
        for i, (month, price, hours, cost, invoice) in enumerate([
            ("2026-11", 400, 1.0, 400, 7),  # 4.00/node-hour, invoiced
            ("2026-11", 400, 0.5, 200, None),  # same price, not invoiced yet
            ("2026-11", 550, 0.3333, 183, 7),  # a price change in the month: a second line
            ("2026-10", 400, 9.0, 3600, 7),  # another month
        ]):  # fmt: skip
            s.add(UsageRow(job_id=f"j{i}", pool_id=pool, month=month, price_fen_per_node_hour=price,
                           node_hours=hours, cost_fen=cost, invoice_id=invoice, **base))  # fmt: skip
        other = next(c.id for c in load_topology("shandong-mini").centers if c.id != OPERATOR_CENTER)
        s.add(UsageRow(job_id="other", pool_id="p", month="2026-11", price_fen_per_node_hour=1, node_hours=1.0,
                       cost_fen=99999, invoice_id=7, **{**base, "center_id": other}))  # fmt: skip
        s.commit()
        st = statements.statement(s, OPERATOR_CENTER, "2026-11")
        assert [(x.price_cny_per_node_hour, x.jobs) for x in st.lines] == [
            (Decimal("4.00"), 2),
            (Decimal("5.50"), 1),
        ]
        assert st.lines[0].amount_cny == Decimal("6.00") and st.lines[0].invoiced_cny == Decimal("4.00")
        assert st.amount_cny == Decimal("7.83") and st.invoiced_cny == Decimal("5.83") and st.jobs == 3
        rows = list(csv.reader(io.StringIO(statements.statement_csv(st))))
        assert rows[-1][:4] == ["TOTAL", "", "", "3"] and rows[-1][6:8] == ["7.83", "5.83"]
        assert statements.statement(s, OPERATOR_CENTER, "2026-09").lines == []
        with pytest.raises(NotFoundError):
            statements.statement(s, "no-such-center", "2026-11")
    engine.dispose()


def test_the_api_refuses_an_operator_what_is_not_theirs(role_platform: RolePlatform) -> None:
    other_pool = _pools(role_platform, OTHER_CENTER)[0]["id"]
    before = _drained(role_platform)
    with role_platform.client("operator") as c:
        r = c.patch(f"{API}/pools/{other_pool}", json={"price_cny_per_hour": 0.01})
        assert r.status_code == 403, r.text
        for action in ("drain", "resume"):
            r = c.post(f"{API}/pools/{other_pool}:{action}", json={"reason": "hostile"})
            assert r.status_code == 403, r.text
            assert other_pool in r.json()["detail"][0]["message"]
        assert c.post(f"{API}/pools/no-such-pool:drain").status_code == 404
        month = datetime.now(UTC).strftime("%Y-%m")
        assert c.get(f"{API}/centers/{OTHER_CENTER}/statement", params={"month": month}).status_code == 403
        assert c.get(f"{API}/centers/{OTHER_CENTER}/jobs").status_code == 403
        assert c.get(f"{API}/jobs").status_code == 403  # every tenant's jobs: not the operator's business
        assert (
            c.get(f"{API}/centers/{OPERATOR_CENTER}/statement", params={"month": "2026-13"}).status_code
            == 422
        )
        assert c.get(f"{API}/centers/{OPERATOR_CENTER}/jobs").status_code == 200
    for role in ("enterprise", "tenant_admin", "rival"):
        with role_platform.client(role) as c:
            assert c.post(f"{API}/pools/{other_pool}:drain").status_code == 403
            assert (
                c.get(f"{API}/centers/{OPERATOR_CENTER}/statement", params={"month": month}).status_code
                == 403
            )
            assert c.get(f"{API}/centers/{OPERATOR_CENTER}/jobs").status_code == 403
    with role_platform.client(
        "admin"
    ) as c:  # who drained another center's pool is not the operator's business
        assert c.post(f"{API}/pools/{other_pool}:drain", json={"reason": "admin test"}).status_code == 200
    try:
        with role_platform.client("operator") as c:
            seen = {d["pool"]: d for d in c.get(f"{API}/pool-drains").json()}
        assert seen[other_pool]["draining"] and seen[other_pool]["by"] == ""
        with role_platform.client("regulator") as c:
            seen = {d["pool"]: d for d in c.get(f"{API}/pool-drains").json()}
        assert seen[other_pool]["by"].startswith("admin")
    finally:
        with role_platform.client("admin") as c:
            assert c.post(f"{API}/pools/{other_pool}:resume").status_code == 200
    with role_platform.client("regulator") as c:  # reads any center, drains none
        assert c.get(f"{API}/centers/{OTHER_CENTER}/statement", params={"month": month}).status_code == 200
        assert c.post(f"{API}/pools/{other_pool}:drain").status_code == 403
    assert _drained(role_platform) == before


@pytest.mark.browser
def test_operator_drains_a_pool_sees_load_and_jobs(
    chromium: Any, role_platform: RolePlatform, target: tuple[str, str], tmp_path: Path
) -> None:
    pool, offering = target
    own = {p["id"] for p in _pools(role_platform, OPERATOR_CENTER)}
    price = next(p for p in _pools(role_platform, OPERATOR_CENTER) if p["id"] == pool)["price_cny_per_hour"]
    other = {p["id"] for p in _pools(role_platform, OTHER_CENTER)}
    page = login(chromium, role_platform, "operator")
    job_id = None
    try:
        links = menu(page)
        assert "#pools" in links and "#settlement" in links and "#jobs" not in links, links
        open_view(page, role_platform, f"pools/{OTHER_CENTER}")  # another center: the page shows its own
        page.wait_for_selector("#pools-table tbody tr")
        assert page.eval_on_selector_all("#pools-center option", "os => os.map(o => o.value)") == [
            OPERATOR_CENTER
        ]
        shown = set(
            page.eval_on_selector_all("#pools-table tbody tr .code", "cs => cs.map(c => c.textContent)")
        )
        assert shown == own and not shown & other
        buttons = set(
            page.eval_on_selector_all("#pools-table button[data-pool]", "bs => bs.map(b => b.dataset.pool)")
        )
        assert buttons == own

        page.fill("#pools-reason", "console test maintenance")
        page.click(f"#pools-table button[data-pool='{pool}'][data-action='drain']")
        page.wait_for_selector(f"#pools-table button[data-pool='{pool}'][data-action='resume']")
        assert pool in _drained(role_platform)
        row = page.locator("#pools-table tbody tr", has=page.locator(f"button[data-pool='{pool}']"))
        assert "排空中" in row.inner_text() and "console test maintenance" in row.inner_text()

        # a job that can only run in the drained pool waits; placement never puts it there
        with role_platform.client("enterprise") as c:
            r = c.post(
                f"{API}/jobs",
                json={
                    "name": "op-drain",
                    "command": "echo drained-ok",
                    "offering": offering,
                    "tenant": "acme",
                },
            )
            assert r.status_code == 201, r.text
            job_id = r.json()["id"]
        wait_for("the job waits", lambda: "waiting" in _job(role_platform, job_id)["message"])
        time.sleep(1.5)  # several scheduler rounds
        job = _job(role_platform, job_id)
        assert job["state"] == "PENDING" and job["pool"] is None, job

        assert missing_keys(page) == []
        assert axe_violations(page) == []
        wait_for(
            "load over time", lambda: int(page.get_attribute("#pools-load-chart", "data-points") or 0) > 0
        )
        screenshot(page, tmp_path, "console-pools-zh.png")

        page.click(f"#pools-table button[data-pool='{pool}'][data-action='resume']")
        page.wait_for_selector(f"#pools-table button[data-pool='{pool}'][data-action='drain']")
        assert pool not in _drained(role_platform)
        wait_for("the job runs in the resumed pool", lambda: _job(role_platform, job_id)["state"] in TERMINAL)
        job = _job(role_platform, job_id)
        assert job["state"] == "SUCCEEDED" and job["pool"] == pool, job

        page.reload()
        page.wait_for_selector(f"#pools-jobs-table tbody tr >> text={job_id}")

        # change the pool's price through the form (restored below: the settlement test reads it)
        assert page.eval_on_selector_all("#pools-edit-pool option", "os => os.map(o => o.value)") == sorted(
            own, key=list(p["id"] for p in _pools(role_platform, OPERATOR_CENTER)).index
        )
        page.select_option("#pools-edit-pool", pool)
        page.fill("#pools-edit-price", "5.5")
        page.click("#pools-edit button[type='submit']")
        page.wait_for_selector("#pools-message .ok-line")
        assert (
            next(p for p in _pools(role_platform, OPERATOR_CENTER) if p["id"] == pool)["price_cny_per_hour"]
            == 5.5
        )

        page.evaluate("HH.setLang('en')")
        page.wait_for_function("document.querySelector('#page-pools h2').textContent.includes('pools')")
        page.wait_for_selector("#pools-table tbody tr")
        wait_for(
            "load over time (en)",
            lambda: int(page.get_attribute("#pools-load-chart", "data-points") or 0) > 0,
        )
        assert missing_keys(page) == []
        assert axe_violations(page) == []
        screenshot(page, tmp_path, "console-pools-en.png")
    finally:
        with role_platform.client("operator") as c:
            c.post(f"{API}/pools/{pool}:resume")
            c.patch(f"{API}/pools/{pool}", json={"price_cny_per_hour": price})
        if job_id is not None and _job(role_platform, job_id)["state"] not in TERMINAL:
            with role_platform.client("enterprise") as c:
                c.post(f"{API}/jobs/{job_id}:cancel")
        page.context.close()


@pytest.mark.browser
def test_operator_reads_a_settlement_statement(
    chromium: Any, role_platform: RolePlatform, target: tuple[str, str], tmp_path: Path
) -> None:
    pool, offering = target
    month = datetime.now(UTC).strftime("%Y-%m")
    with role_platform.client("operator") as c:
        st = _statement_with(c, month, pool)  # the drain test's job, when it ran before
    if st is None:  # else a finished job in the operator's pool, metered
        with role_platform.client("enterprise") as c:
            body = {"name": "op-settle", "command": "echo settle", "offering": offering, "tenant": "acme"}
            r = c.post(f"{API}/jobs", json=body)
            assert r.status_code == 201, r.text
            job_id = r.json()["id"]
        wait_for("the job finishes", lambda: _job(role_platform, job_id)["state"] in TERMINAL)
        with role_platform.client("operator") as c:
            st = wait_for("the job is metered", lambda: _statement_with(c, month, pool))
    line = next(x for x in st["lines"] if x["pool"] == pool)
    assert line["jobs"] >= 1 and line["price_cny_per_node_hour"] == "4.00"

    page = login(chromium, role_platform, "operator")
    try:
        open_view(page, role_platform, f"settlement/{OTHER_CENTER}/{month}")  # not theirs: their own is shown
        page.wait_for_selector(f"#settlement-table tbody tr >> text={pool}")
        assert page.eval_on_selector_all("#settlement-center option", "os => os.map(o => o.value)") == [
            OPERATOR_CENTER
        ]
        with page.expect_download() as dl:
            page.click("#settlement-csv")
        rows = list(csv.reader(io.StringIO(Path(dl.value.path()).read_text(encoding="utf-8"))))
        assert rows[0][:2] == ["center", OPERATOR_CENTER] and rows[-1][0] == "TOTAL"
        assert any(r[0] == pool and r[3] == str(line["jobs"]) for r in rows[2:-1]), rows
        assert rows[-1][6] == st["amount_cny"]
        assert missing_keys(page) == []
        assert axe_violations(page) == []
        screenshot(page, tmp_path, "console-settlement-zh.png")
        page.evaluate("HH.setLang('en')")
        page.wait_for_function(
            "document.querySelector('#page-settlement h2').textContent === 'Settlement statement'"
        )
        page.wait_for_selector(f"#settlement-table tbody tr >> text={pool}")
        assert missing_keys(page) == []
        assert axe_violations(page) == []
    finally:
        page.context.close()


def _statement_with(c: Any, month: str, pool: str) -> dict[str, Any] | None:
    r = c.get(f"{API}/centers/{OPERATOR_CENTER}/statement", params={"month": month})
    assert r.status_code == 200, r.text
    st = r.json()
    return st if any(x["pool"] == pool for x in st["lines"]) else None


@pytest.mark.browser
def test_menus_per_role_and_the_admin_sees_every_center(chromium: Any, role_platform: RolePlatform) -> None:
    expected = {  # role: (Pools, Settlement)
        "enterprise": (False, False),
        "tenant_admin": (False, False),
        "regulator": (True, True),
        "admin": (True, True),
    }
    for role, (pools, settlement) in expected.items():
        page = login(chromium, role_platform, role)
        try:
            links = menu(page)
            assert ("#pools" in links, "#settlement" in links) == (pools, settlement), (role, links)
            if role in ("admin", "regulator"):
                open_view(page, role_platform, f"pools/{OTHER_CENTER}")
                page.wait_for_selector("#pools-table tbody tr")
                buttons = page.locator("#pools-table button[data-pool]").count()
                assert (buttons > 0) == (role == "admin"), (role, buttons)  # the regulator reads only
                centers = page.eval_on_selector_all("#pools-center option", "os => os.map(o => o.value)")
                assert OPERATOR_CENTER in centers and OTHER_CENTER in centers
                assert page.input_value("#pools-center") == OTHER_CENTER
                open_view(page, role_platform, f"settlement/{OTHER_CENTER}")
                page.wait_for_selector("#settlement-operators")
                assert page.input_value("#settlement-center") == OTHER_CENTER
                assert missing_keys(page) == []
                assert axe_violations(page) == []
        finally:
            page.context.close()
