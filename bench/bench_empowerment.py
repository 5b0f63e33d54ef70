"""Cost of the empowerment evaluation (issue 14, deliverable 5) against reading its input, in one run.

A fresh SQLite database (or ``--db`` PostgreSQL URL of an EMPTY database) gets the mini network, ``--tenants``
tenants of mixed sectors and ``--rows`` metering records spread over the 12 months of 2026 and the pools of the
network, one invoice per tenant and month (a tenth of each paid by vouchers). Times, minimum of ``--repeat``:

* ``read rows (baseline)``: ``SELECT`` of the year's metering records, every column, into Python;
* ``empowerment``: :func:`huanghe.regulator.empowerment.empowerment` for 2026 (sums in SQL per tenant, pool,
  center, month and invoice, then Python over the cells);
* ``industry map``: :func:`huanghe.regulator.industry_map.industry_map` for 2026.

Usage::

    .venv/bin/python bench/bench_empowerment.py --rows 200000 --tenants 500 --repeat 3
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from huanghe.billing.models import InvoiceRow, UsageRow
from huanghe.catalog.topology import load_topology
from huanghe.network import topology_store
from huanghe.network.models import CenterRow, PoolRow
from huanghe.regulator.empowerment import empowerment
from huanghe.regulator.industry_map import industry_map
from huanghe.store.db import make_session_factory
from huanghe.store.migrate import migrate
from huanghe.tenancy.models import TenantRow

MINI = Path(__file__).resolve().parent.parent / "tests" / "data" / "mini_network.yaml"
SECTORS = (
    "manufacturing",
    "finance",
    "energy",
    "marine",
    "logistics",
    "media",
    "agriculture",
    "sme",
    "research",
)


def populate(s: Session, rows: int, tenants: int, seed: int = 7) -> None:
    """Network, tenants, invoices and ``rows`` metering records (bulk inserts)."""
    topology_store.import_topology(s, load_topology(str(MINI)), replace=False)
    rng = random.Random(seed)
    s.execute(insert(TenantRow), [{"id": f"t{i}", "name": f"t{i}", "sector": SECTORS[i % len(SECTORS)],
                                   "is_sme": i % 2 == 0} for i in range(tenants)])  # fmt: skip
    pools = [(p.id, p.center_id) for p in s.scalars(select(PoolRow))]
    operator = {c.id: c.operator for c in s.scalars(select(CenterRow))}
    invoices: list[dict[str, object]] = [{"id": t * 12 + m + 1, "tenant_id": f"t{t}", "month": f"2026-{m + 1:02d}", "total_fen": 0,
                 "voucher_fen": 0, "cash_fen": 0, "created_s": 0.0} for t in range(tenants) for m in range(12)]  # fmt: skip
    batch: list[dict[str, object]] = []
    cost_of: dict[int, int] = {}
    for j in range(rows):
        t, m = rng.randrange(tenants), rng.randrange(12)
        pool, center = pools[rng.randrange(len(pools))]
        nh = rng.uniform(0.1, 50.0)
        cost = int(nh * 640)
        inv = t * 12 + m + 1
        cost_of[inv] = cost_of.get(inv, 0) + cost
        batch.append({"job_id": f"j{j}", "tenant_id": f"t{t}", "pool_id": pool, "center_id": center,
                      "operator": operator[center], "month": f"2026-{m + 1:02d}", "started_s": 0.0, "ended_s": 1.0,
                      "nodes": 1, "node_hours": nh, "gpu_hours": nh * 4, "price_fen_per_node_hour": 640,
                      "cost_fen": cost, "energy_kwh": nh, "carbon_kg": nh, "invoice_id": inv})  # fmt: skip
        if len(batch) == 20_000:
            s.execute(insert(UsageRow), batch)
            batch = []
    if batch:
        s.execute(insert(UsageRow), batch)
    for row in invoices:
        total = cost_of.get(int(str(row["id"])), 0)
        row.update(total_fen=total, voucher_fen=total // 10, cash_fen=total - total // 10)
    s.execute(insert(InvoiceRow), invoices)
    s.commit()


def best(fn: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=200_000)
    ap.add_argument("--tenants", type=int, default=500)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--db", default=None, help="an EMPTY database URL (default: a temporary SQLite file)")
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = a.db or f"sqlite:///{tmp}/bench.db"
        migrate(url)
        factory = make_session_factory(url)
        with factory() as s:
            t0 = time.perf_counter()
            populate(s, a.rows, a.tenants)
            print(
                f"populated {a.rows} records, {a.tenants} tenants in {time.perf_counter() - t0:.1f} s ({url.split(':')[0]})"
            )

        def read() -> object:
            with factory() as s:
                q = select(UsageRow).where(UsageRow.month >= "2026-01", UsageRow.month <= "2026-12")
                return len(list(s.scalars(q)))

        def evaluate() -> object:
            with factory() as s:
                return empowerment(s, 2026)

        def the_map() -> object:
            with factory() as s:
                return industry_map(s, 2026)

        base = best(read, a.repeat)
        ev = best(evaluate, a.repeat)
        mp = best(the_map, a.repeat)
        print(f"read rows (baseline): {base:.3f} s")
        print(f"empowerment:          {ev:.3f} s  ({ev / base:.2f}x baseline)")
        print(f"industry map:         {mp:.3f} s  ({mp / base:.2f}x baseline)")
        with factory() as s:
            e = empowerment(s, 2026)
            print(f"check: jobs {e.totals.jobs}, voucher share {e.totals.voucher_share}")
        factory.kw["bind"].dispose()


if __name__ == "__main__":
    main()
