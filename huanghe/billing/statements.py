"""Settlement statements per center (结算单): what a center's pools earned in a month, priced per pool.

A statement sums the ``usage`` rows (one per finished, metered job; :func:`huanghe.billing.service.meter_job`)
of one center's pools in one month (``YYYY-MM``, UTC, the month the job ended), one line per pool and price
(CNY per node-hour, as metered: a price change in the month gives two lines). Per line: jobs, node-hours,
GPU-hours, the metered amount (price × node-hours, summed in integer fen), the part already on tenants'
invoices (what the platform owes the operator, as :func:`~huanghe.billing.service.settlements` counts it),
facility energy (kWh) and carbon (kg). Read-only; the CSV has the same columns.
"""

from __future__ import annotations

import csv
import io
from decimal import Decimal

from pydantic import BaseModel
from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from huanghe.billing.models import UsageRow
from huanghe.domain.tenancy import fen_to_cny
from huanghe.network.models import CenterRow, PoolRow
from huanghe.store.crud import get_row


class StatementLine(BaseModel):
    """One pool at one price: ``price_cny_per_node_hour``, ``amount_cny`` metered, ``invoiced_cny`` billed."""

    pool: str
    pool_name: str
    price_cny_per_node_hour: Decimal
    jobs: int
    node_hours: float
    gpu_hours: float
    amount_cny: Decimal
    invoiced_cny: Decimal
    energy_kwh: float
    carbon_kg: float


class Statement(BaseModel):
    """A center's statement for ``month``: its lines and their totals (money in CNY, two decimals)."""

    center: str
    center_name: str
    operator: str
    month: str
    lines: list[StatementLine]
    jobs: int
    node_hours: float
    amount_cny: Decimal
    invoiced_cny: Decimal
    energy_kwh: float
    carbon_kg: float


def statement(session: Session, center_id: str, month: str) -> Statement:
    """The statement of ``center_id`` for ``month``; NotFoundError for an unknown center."""
    center = get_row(session, CenterRow, center_id, "center")
    invoiced = func.sum(case((UsageRow.invoice_id.is_not(None), UsageRow.cost_fen), else_=0))
    rows = session.execute(
        select(UsageRow.pool_id, UsageRow.price_fen_per_node_hour, func.count(), func.sum(UsageRow.node_hours),
               func.sum(UsageRow.gpu_hours), func.sum(UsageRow.cost_fen), invoiced, func.sum(UsageRow.energy_kwh),
               func.sum(UsageRow.carbon_kg))
        .where(UsageRow.center_id == center_id, UsageRow.month == month)
        .group_by(UsageRow.pool_id, UsageRow.price_fen_per_node_hour)
        .order_by(UsageRow.pool_id, UsageRow.price_fen_per_node_hour)
    ).all()  # fmt: skip
    names = dict(
        session.execute(select(PoolRow.id, PoolRow.name).where(PoolRow.center_id == center_id)).all()
    )
    lines = [
        StatementLine(
            pool=pool,
            pool_name=names.get(pool, ""),
            price_cny_per_node_hour=fen_to_cny(int(price)),
            jobs=int(n),
            node_hours=float(h),
            gpu_hours=float(g),
            amount_cny=fen_to_cny(int(c)),
            invoiced_cny=fen_to_cny(int(i)),
            energy_kwh=float(e),
            carbon_kg=float(k),
        )
        for pool, price, n, h, g, c, i, e, k in rows
    ]
    cost_fen = sum(int(r[5]) for r in rows)
    invoiced_fen = sum(int(r[6]) for r in rows)
    return Statement(
        center=center.id, center_name=center.name_zh, operator=center.operator, month=month, lines=lines,
        jobs=sum(x.jobs for x in lines), node_hours=sum(x.node_hours for x in lines),
        amount_cny=fen_to_cny(cost_fen), invoiced_cny=fen_to_cny(invoiced_fen),
        energy_kwh=sum(x.energy_kwh for x in lines), carbon_kg=sum(x.carbon_kg for x in lines),
    )  # fmt: skip


#: The CSV's columns, in order (a last line ``TOTAL`` sums them).
CSV_COLUMNS = ("pool", "pool_name", "price_cny_per_node_hour", "jobs", "node_hours", "gpu_hours", "amount_cny",
               "invoiced_cny", "energy_kwh", "carbon_kg")  # fmt: skip


def statement_csv(st: Statement) -> str:
    """The statement as CSV (UTF-8 text): a header, one row per line, a ``TOTAL`` row."""
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(("center", st.center, "operator", st.operator, "month", st.month))
    w.writerow(CSV_COLUMNS)
    for x in st.lines:
        w.writerow((x.pool, x.pool_name, x.price_cny_per_node_hour, x.jobs, f"{x.node_hours:.6f}",
                    f"{x.gpu_hours:.6f}", x.amount_cny, x.invoiced_cny, f"{x.energy_kwh:.3f}", f"{x.carbon_kg:.3f}"))  # fmt: skip
    w.writerow(("TOTAL", "", "", st.jobs, f"{st.node_hours:.6f}", "", st.amount_cny, st.invoiced_cny,
                f"{st.energy_kwh:.3f}", f"{st.carbon_kg:.3f}"))  # fmt: skip
    return out.getvalue()
