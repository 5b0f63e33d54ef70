"""Metering, monthly invoices per tenant, settlement per operator.

:func:`meter_job` turns one finished job into a ``usage`` row (idempotent per job):

* ``share`` = the job's dominant share of the pool's node (largest of its cores, GPUs and memory per node over
  the node's; :func:`huanghe.domain.usage.node_share`, the very function the broker's estimates use);
* ``node_hours`` = nodes × share × (ended − started) / 3600 (billed node-hours, exact in Decimal);
  ``gpu_hours`` = nodes × GPUs asked per node × (ended − started) / 3600;
* ``cost_fen`` = pool price (CNY per node-hour, converted through its decimal text, never float arithmetic
  on money) × node_hours, rounded half-up to the fen — what ``jobs show`` reports for a finished job and
  what its invoice line sums;
* ``energy_kwh`` = pool power per node (kW) × node_hours × the center's PUE (facility energy);
* ``carbon_kg`` = energy_kwh × grid emission factor (kg/kWh) × (1 − renewable share).

The dispatcher calls it in the transaction that records a job finished
(:func:`huanghe.jobs.transitions.set_state`); :func:`meter_finished_jobs` meters anything missed.

:func:`create_invoice` bills a tenant's un-invoiced usage of a month (``YYYY-MM``, UTC): it posts
Dr tenant_receivable / Cr operator_payable per operator, then pays with vouchers (see
:func:`huanghe.billing.vouchers.pay_bill`) and the tenant's own money. :func:`settlements` sums, per
operator, what was billed in a month.
"""

from __future__ import annotations

import logging
import math
import re
import time
from collections import defaultdict
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy import func, inspect, select, update
from sqlalchemy.orm import Session

from huanghe.audit import service as audit
from huanghe.billing import ledger, vouchers
from huanghe.billing.models import InvoiceRow, UsageRow
from huanghe.core.errors import conflict, invalid
from huanghe.core.paging import DEFAULT_PAGE_LIMIT, Page
from huanghe.domain.network import ID_PATTERN
from huanghe.domain.tenancy import cny_to_fen, fen_to_cny
from huanghe.domain.usage import billed_node_hours, node_share
from huanghe.network.models import CenterRow, PoolRow
from huanghe.store.base import Base
from huanghe.store.crud import filtered, get_row, page_of
from huanghe.tenancy.models import TenantRow

MONTH_PATTERN = r"^\d{4}-(0[1-9]|1[0-2])$"
log = logging.getLogger("huanghe.billing")


def month_of(epoch_s: float) -> str:
    """``YYYY-MM`` of an epoch time, UTC."""
    return datetime.fromtimestamp(epoch_s, UTC).strftime("%Y-%m")


class UsagePublic(BaseModel):
    """Metered usage of one job; money in CNY (two decimals), energy in kWh, carbon in kg CO2."""

    job_id: str
    tenant: str
    pool: str
    center: str
    operator: str
    month: str
    node_hours: float
    gpu_hours: float
    price_cny_per_node_hour: Decimal
    cost_cny: Decimal
    energy_kwh: float
    carbon_kg: float
    invoice_id: int | None


def _usage_public(r: UsageRow) -> UsagePublic:
    return UsagePublic(
        job_id=r.job_id, tenant=r.tenant_id, pool=r.pool_id, center=r.center_id, operator=r.operator,
        month=r.month, node_hours=r.node_hours, gpu_hours=r.gpu_hours,
        price_cny_per_node_hour=fen_to_cny(r.price_fen_per_node_hour), cost_cny=fen_to_cny(r.cost_fen),
        energy_kwh=r.energy_kwh, carbon_kg=r.carbon_kg, invoice_id=r.invoice_id,
    )  # fmt: skip


def meter_job(
    session: Session, *, job_id: str, tenant_id: str, pool_id: str, started_s: float, ended_s: float,
    nodes: int = 1, cpus: float | None = None, gpus: float | None = None, mem_gb: float | None = None,
    flush: bool = True,
) -> UsagePublic:  # fmt: skip
    """Record the usage of a finished job (flushed unless ``flush=False``; the caller commits). Metering a
    job twice returns the first record.

    ``cpus`` (cores), ``gpus`` and ``mem_gb`` (GB) are what the job asked for per node; the job is billed its
    dominant share of the pool's node (:func:`huanghe.domain.usage.node_share`, the broker's formula). All
    three None means the whole node (and ``gpus`` None alone counts the node's GPUs in ``gpu_hours``)."""
    existing = session.scalars(select(UsageRow).where(UsageRow.job_id == job_id)).first()
    if existing is not None:
        return _usage_public(existing)
    pool = session.get(PoolRow, pool_id)
    if pool is None:
        raise invalid("pool", f"unknown pool {pool_id!r}")
    center = session.get(CenterRow, pool.center_id)
    assert center is not None  # FK
    if ended_s < started_s or nodes < 1:
        raise invalid("ended_s", "a job ends after it starts and uses at least one node")
    share = job_share(pool, cpus, gpus, mem_gb)
    node_hours = billed_node_hours(Decimal(nodes), share, Decimal(repr(ended_s - started_s)))
    price_fen = cny_to_fen(Decimal(repr(pool.price_cny_per_hour)))
    cost_fen = int((price_fen * node_hours).quantize(Decimal(1), rounding=ROUND_HALF_UP))
    gpus_used = pool.gpus_per_node if gpus is None else min(gpus, pool.gpus_per_node)
    hours = float(Decimal(nodes) * Decimal(repr(ended_s - started_s)) / 3600)
    energy_kwh = pool.power_kw_per_node * float(node_hours) * center.pue
    row = UsageRow(
        job_id=job_id, tenant_id=tenant_id, pool_id=pool_id, center_id=center.id, operator=center.operator,
        month=month_of(ended_s), started_s=started_s, ended_s=ended_s, nodes=nodes,
        node_hours=float(node_hours), gpu_hours=hours * gpus_used, price_fen_per_node_hour=price_fen,
        cost_fen=cost_fen, energy_kwh=energy_kwh,
        carbon_kg=energy_kwh * center.grid_emission_kg_per_kwh * (1 - center.renewable_share),
    )  # fmt: skip
    session.add(row)
    if flush:
        session.flush()
    return _usage_public(row)


def job_share(pool: PoolRow, cpus: float | None, gpus: float | None, mem_gb: float | None) -> Decimal:
    """The node share billed for a request per node (whole node when nothing is given; a request larger
    than the node, possible only if the pool shrank after placement, bills the whole node)."""
    if cpus is None and gpus is None and mem_gb is None:
        return Decimal(1)
    share = node_share(
        float(cpus or 0.0), float(gpus or 0.0), float(mem_gb or 0.0),
        float(pool.cpus_per_node), float(pool.gpus_per_node), float(pool.mem_gb_per_node),
    )  # fmt: skip
    return Decimal(repr(share)) if math.isfinite(share) else Decimal(1)


def meter_finished_jobs(session: Session) -> int:
    """Meter every job of the jobs table (if present) that ran on a pool and ended; returns how many new.

    The jobs domain sits above billing (it calls :func:`meter_job` when a job ends), so its table is named
    here, not imported."""
    jobs = Base.metadata.tables.get("jobs")
    if jobs is None or "jobs" not in inspect(session.get_bind()).get_table_names():
        return 0
    j = jobs.c
    rows = session.execute(
        select(j.id, j.tenant_id, j.pool_id, j.started_s, j.ended_s, j.nodes, j.cpus, j.gpus, j.mem_gb).where(
            j.started_s.is_not(None), j.ended_s.is_not(None), j.pool_id.is_not(None),
            j.tenant_id.is_not(None), j.id.not_in(select(UsageRow.job_id)),
        )
    ).all()  # fmt: skip
    for job in rows:
        meter_job(
            session, job_id=job.id, tenant_id=job.tenant_id, pool_id=job.pool_id, started_s=job.started_s,
            ended_s=job.ended_s, nodes=job.nodes, cpus=job.cpus, gpus=job.gpus, mem_gb=job.mem_gb,
        )  # fmt: skip
    session.commit()
    return len(rows)


def list_usage(
    session: Session,
    *,
    tenant: str | None = None,
    month: str | None = None,
    limit: int = DEFAULT_PAGE_LIMIT,
    offset: int = 0,
) -> Page[UsagePublic]:
    """A page of metered usage, in the order jobs ended, optionally of one tenant and month."""
    query = filtered(select(UsageRow), {UsageRow.tenant_id: tenant, UsageRow.month: month})
    return page_of(session, query, (UsageRow.ended_s, UsageRow.id), limit, offset, _usage_public)


class InvoiceCreate(BaseModel):
    tenant: str = Field(pattern=ID_PATTERN)
    month: str = Field(pattern=MONTH_PATTERN, description="YYYY-MM (UTC)")


class InvoicePublic(BaseModel):
    """A monthly bill: ``total_cny`` = ``voucher_cny`` + ``cash_cny``; ``lines`` per operator/center/pool."""

    id: int
    tenant: str
    month: str
    total_cny: Decimal
    voucher_cny: Decimal
    cash_cny: Decimal
    jobs: int
    lines: list[dict[str, Any]]


def _invoice_public(session: Session, inv: InvoiceRow) -> InvoicePublic:
    rows = session.scalars(select(UsageRow).where(UsageRow.invoice_id == inv.id)).all()
    lines: dict[tuple[str, str, str], int] = defaultdict(int)
    for r in rows:
        lines[(r.operator, r.center_id, r.pool_id)] += r.cost_fen
    return InvoicePublic(
        id=inv.id, tenant=inv.tenant_id, month=inv.month, total_cny=fen_to_cny(inv.total_fen),
        voucher_cny=fen_to_cny(inv.voucher_fen), cash_cny=fen_to_cny(inv.cash_fen), jobs=len(rows),
        lines=[
            {"operator": o, "center": c, "pool": p, "amount_cny": str(fen_to_cny(v))}
            for (o, c, p), v in sorted(lines.items())
        ],
    )  # fmt: skip


def create_invoice(
    session: Session, body: InvoiceCreate, *, actor: str, now: float | None = None
) -> InvoicePublic:
    """Bill a tenant's un-invoiced usage of a month; 409 when already invoiced or nothing to bill."""
    now = time.time() if now is None else now
    if not re.match(MONTH_PATTERN, body.month):
        raise invalid("month", "expected YYYY-MM")
    if session.get(TenantRow, body.tenant) is None:
        raise invalid("tenant", f"unknown tenant {body.tenant!r}")
    if session.scalars(
        select(InvoiceRow).where(InvoiceRow.tenant_id == body.tenant, InvoiceRow.month == body.month)
    ).first():
        raise conflict("month", f"tenant {body.tenant} is already invoiced for {body.month}")
    usage = session.scalars(
        select(UsageRow).where(UsageRow.tenant_id == body.tenant, UsageRow.month == body.month, UsageRow.invoice_id.is_(None))
    ).all()  # fmt: skip
    if not usage:
        raise conflict("month", f"no usage of tenant {body.tenant} to bill in {body.month}")
    total = sum(u.cost_fen for u in usage)
    inv = InvoiceRow(
        tenant_id=body.tenant, month=body.month, total_fen=total, voucher_fen=0, cash_fen=0, created_s=now
    )
    session.add(inv)
    session.flush()
    memo = f"invoice {inv.id} {body.tenant} {body.month}"
    per_operator: dict[str, int] = defaultdict(int)
    for u in usage:
        per_operator[u.operator] += u.cost_fen
    ledger.post(
        session, memo,
        [ledger.Line(ledger.receivable_account(body.tenant), debit_fen=total)]
        + [ledger.Line(ledger.payable_account(op), credit_fen=v) for op, v in sorted(per_operator.items())],
        now=now,
    )  # fmt: skip
    lines = [vouchers.BillLine(u.center_id, u.pool_id, u.cost_fen, u.gpu_hours, u.node_hours) for u in usage]
    inv.voucher_fen, inv.cash_fen = vouchers.pay_bill(
        session, tenant_id=body.tenant, lines=lines, memo=memo, now=now
    )
    session.execute(update(UsageRow).where(UsageRow.id.in_([u.id for u in usage])).values(invoice_id=inv.id))
    audit.record(session, actor, "invoice.create", str(inv.id),
                 {"tenant": body.tenant, "month": body.month, "total_fen": total, "voucher_fen": inv.voucher_fen},
                 now=now)  # fmt: skip
    session.commit()
    return _invoice_public(session, inv)


def get_invoice(session: Session, invoice_id: int) -> InvoicePublic:
    inv = get_row(session, InvoiceRow, invoice_id, "invoice")
    return _invoice_public(session, inv)


def tenant_of_invoice(session: Session, invoice_id: int) -> str:
    """The tenant billed by invoice ``invoice_id``; :class:`NotFoundError` when there is no such invoice."""
    inv = get_row(session, InvoiceRow, invoice_id, "invoice")
    return inv.tenant_id


def list_invoices(
    session: Session,
    *,
    tenant: str | None = None,
    month: str | None = None,
    limit: int = DEFAULT_PAGE_LIMIT,
    offset: int = 0,
) -> Page[InvoicePublic]:
    """A page of invoices, oldest first, optionally of one tenant and month."""
    query = filtered(select(InvoiceRow), {InvoiceRow.tenant_id: tenant, InvoiceRow.month: month})
    return page_of(session, query, (InvoiceRow.id,), limit, offset, lambda r: _invoice_public(session, r))


class SettlementPublic(BaseModel):
    """What one operator is owed for a month's invoiced usage, and the physical totals behind it."""

    operator: str
    month: str
    jobs: int
    node_hours: float
    billed_cny: Decimal
    energy_kwh: float
    carbon_kg: float


def settlements(session: Session, month: str) -> list[SettlementPublic]:
    """Per operator: invoiced usage of ``month`` (what the platform owes it)."""
    rows = session.execute(
        select(UsageRow.operator, func.count(), func.sum(UsageRow.node_hours), func.sum(UsageRow.cost_fen),
               func.sum(UsageRow.energy_kwh), func.sum(UsageRow.carbon_kg))
        .where(UsageRow.month == month, UsageRow.invoice_id.is_not(None))
        .group_by(UsageRow.operator).order_by(UsageRow.operator)
    ).all()  # fmt: skip
    return [
        SettlementPublic(
            operator=o,
            month=month,
            jobs=int(n),
            node_hours=float(h),
            billed_cny=fen_to_cny(int(c)),
            energy_kwh=float(e),
            carbon_kg=float(k),
        )
        for o, n, h, c, e, k in rows
    ]


def month_totals(session: Session, tenant_id: str, month: str) -> tuple[float, int]:
    """(GPU-hours, cost fen) metered for a tenant in a month."""
    gpu_h, cost = session.execute(
        select(func.coalesce(func.sum(UsageRow.gpu_hours), 0.0), func.coalesce(func.sum(UsageRow.cost_fen), 0))
        .where(UsageRow.tenant_id == tenant_id, UsageRow.month == month)
    ).one()  # fmt: skip
    return float(gpu_h), int(cost)
