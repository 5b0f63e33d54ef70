"""What the annual report's database sections (empowerment, vouchers, risk) cost: the report rendered
without them (baseline: each section says "no database") against the same report with a year of records,
measured in one command on a fresh SQLite file with ``shandong-mini``.

Seeds one year: ``--tenants`` tenants over the `算力+` sectors, ``--jobs`` metered jobs spread over the
months and pools, one invoice per tenant and month with a 50 % bill programme redeeming, ``--alerts`` risk
alerts (half acknowledged, a third resolved) and ``--events`` security events. Prints the CPU seconds of
this process (not wall time: the machine is shared) of reading the sections and of rendering each PDF (best
of ``--repeat``), and the ratio to the baseline.

    .venv/bin/python bench/bench_report_sections.py --jobs 5000 --repeat 3
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from functools import partial
from pathlib import Path

from huanghe.audit.security_events import record_event
from huanghe.billing import programmes
from huanghe.billing import service as billing
from huanghe.billing.programme_schemas import ApplicationCreate, ProgrammeCreate, Review
from huanghe.catalog.topology import load_topology
from huanghe.core.errors import ServiceError
from huanghe.network.topology_store import import_topology
from huanghe.observatory import reports
from huanghe.observatory.report_sections import AnnualSections
from huanghe.regulator import risk
from huanghe.regulator.report_sections import annual_sections
from huanghe.store.db import make_session_factory
from huanghe.store.migrate import migrate
from huanghe.tenancy import service as tenancy
from huanghe.tenancy.schemas import TenantCreate

YEAR = 2025
SECTORS = ("manufacturing", "agriculture", "finance", "energy", "marine", "logistics", "media", "research")


def _t(month: int, day: int = 1, hour: float = 0.0) -> float:
    return datetime(YEAR, month, day, tzinfo=UTC).timestamp() + hour * 3600


def seed(url: str, tenants: int, jobs: int, alerts: int, events: int) -> None:
    topo = load_topology("shandong-mini")
    pools = [p.id for c in topo.centers for p in c.pools]
    with make_session_factory(url)() as s:
        import_topology(s, topo, replace=False)
        ids = [f"t{i:03d}" for i in range(tenants)]
        for i, tid in enumerate(ids):
            tenancy.create_tenant(s, TenantCreate(id=tid, name=tid, sector=SECTORS[i % len(SECTORS)]))
        body = ProgrammeCreate(id="bench", name_zh="基准算力券", name_en="bench vouchers", authority="bench",
                               basis="bill", share=Decimal("0.5"), fund_cny=Decimal("100000000"),
                               opens=datetime(YEAR, 1, 1, tzinfo=UTC))  # fmt: skip
        programmes.create(s, body, by="bench", now=_t(1, 2))
        for tid in ids:
            app = programmes.apply(s, ApplicationCreate(programme="bench", tenant=tid, basis_cny=Decimal("100000")),
                                   by="bench", now=_t(1, 3))  # fmt: skip
            programmes.review(s, app.id, Review(decision="approve"), by="bench", now=_t(1, 4))
        for j in range(jobs):
            month = 1 + j % 12
            start = _t(month, 1 + j % 27, (j % 20) * 0.5)
            billing.meter_job(s, job_id=f"j{j}", tenant_id=ids[j % tenants], pool_id=pools[j % len(pools)],
                              started_s=start, ended_s=start + (1 + j % 5) * 3600.0, flush=False)  # fmt: skip
        s.commit()
        for month in range(1, 13):
            for tid in ids:
                try:
                    billing.create_invoice(s, billing.InvoiceCreate(tenant=tid, month=f"{YEAR}-{month:02d}"),
                                           actor="bench", now=_t(month, 28))  # fmt: skip
                except ServiceError:  # nothing to bill that month
                    s.rollback()
        kinds = (
            "auth_failures",
            "refused_requests",
            "residency_refusal",
            "egress_anomaly",
            "audit_chain_break",
        )
        sev = ("high", "medium", "high", "high", "critical")
        for a in range(alerts):
            t = _t(1 + a % 12, 1 + a % 27)
            row, _ = risk.raise_alert(s, kinds[a % 5], f"subject-{a}", sev[a % 5], "bench", events=1, first_s=t,
                                      last_s=t, now=t)  # fmt: skip
            if a % 2 == 0:
                row.state, row.acknowledged_s = "acknowledged", t + 3600.0 * (1 + a % 7)
            if a % 3 == 0:
                row.state, row.resolved_s = "resolved", t + 3600.0 * (5 + a % 11)
        for e in range(events):
            record_event(s, ("auth_failure", "refused")[e % 2], source=f"src-{e % 50}", now=_t(1 + e % 12, 1 + e % 27),
                         count=1 + e % 5)  # fmt: skip
        s.commit()


def _best(fn: Callable[[], object], repeat: int) -> float:
    """Best CPU seconds of this process over ``repeat`` runs (CPU, not wall: the machine is shared)."""
    best = float("inf")
    for _ in range(repeat):
        t0 = time.process_time()
        fn()
        best = min(best, time.process_time() - t0)
    return best


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tenants", type=int, default=40)
    ap.add_argument("--jobs", type=int, default=5000)
    ap.add_argument("--alerts", type=int, default=300)
    ap.add_argument("--events", type=int, default=3000)
    ap.add_argument("--repeat", type=int, default=2)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-report-") as tmp:
        url = f"sqlite:///{Path(tmp) / 'bench.db'}"
        migrate(url)
        t0 = time.perf_counter()
        seed(url, args.tenants, args.jobs, args.alerts, args.events)
        print(f"seeded {args.jobs} jobs, {args.tenants} tenants, {args.alerts} alerts, {args.events} events "
              f"in {time.perf_counter() - t0:.1f} s")  # fmt: skip
        topo = load_topology("shandong-mini")
        factory = make_session_factory(url)

        def read() -> AnnualSections:
            with factory() as s:
                return annual_sections(s, YEAR)

        read_s = _best(read, args.repeat)
        sections = read()
        print(f"read the sections from the database: {read_s:.3f} CPU s")
        for kind in ("index", "storage"):
            out = Path(tmp) / f"{kind}.pdf"
            base = _best(partial(reports.write_report, kind, topo, out, YEAR), args.repeat)
            full = _best(partial(reports.write_report, kind, topo, out, YEAR, sections=sections), args.repeat)
            print(f"{kind}: without sections {base:.2f} CPU s, with sections {full:.2f} (+ read {read_s:.2f}): "
                  f"ratio {(full + read_s) / base:.2f}")  # fmt: skip


if __name__ == "__main__":
    main()
