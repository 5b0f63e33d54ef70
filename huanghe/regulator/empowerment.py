"""The empowerment evaluation (算力赋能评价): how much compute each `算力+` industry used in a year, where, and
what it paid, with the vouchers that helped.

Source: the metering records (``usage``, one per finished job, :func:`huanghe.billing.service.meter_job`) whose
month (``YYYY-MM`` of the job's end, UTC) falls in ``year``; their monthly invoices for the vouchers. Per
record:

* ``node_hours`` — billed node-hours (nodes × the job's dominant share of a node × hours);
* ``gpu_hours`` — nodes × GPUs asked per node × hours;
* ``pflops_hours`` = node_hours × the pool's per-node headline peak (TFLOPS) × the FP32-equivalent factor
  (:mod:`huanghe.catalog.units`: CPU FP32, accelerators FP16 ×0.5, supercomputing FP64 ×2; **assumed
  factors**) / 1000 — peak PFLOPS held for an hour, not FLOPs measured;
* ``spending_cny`` — the metered cost (price × node-hours);
* ``voucher_cny`` — the part of the record's invoice paid by vouchers, shared among the invoice's records in
  proportion to their cost (an invoice records what vouchers paid, not which line: an **allocation**);
  records not invoiced yet carry none;
* ``jobs`` — metered jobs (jobs that ran to an end: done, failed or cancelled while running); ``enterprises``
  — distinct tenants.

The database sums the records per (tenant, pool, center, month, invoice); Python works on those cells.

``submitted_by_industry`` counts the jobs submitted in the year (the jobs table), whatever became of them.

Groupings: industry = the tenant's ``sector`` through :mod:`huanghe.regulator.industries`; city and center
kind = **the center's** (where the compute ran; tenants carry no city). Months run January to December even
when empty, so trends have twelve points.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal

from pydantic import BaseModel, Field
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from huanghe.billing.models import InvoiceRow, UsageRow
from huanghe.catalog.units import DEFAULT_PRECISION_FACTORS, headline_precision
from huanghe.core.errors import invalid
from huanghe.domain.enums import CenterKind
from huanghe.domain.network import PeakTflops, Pool
from huanghe.domain.tenancy import fen_to_cny
from huanghe.jobs.models import JobRow
from huanghe.network.models import CenterRow, CityRow, PoolRow
from huanghe.regulator.industries import (
    INDUSTRY_KEYS,
    INDUSTRY_NAMES,
    IndustryClass,
    classification,
    industry_of,
)
from huanghe.tenancy.models import TenantRow

#: Years the evaluation accepts.
MIN_YEAR, MAX_YEAR = 2000, 2100
KIND_NAMES: dict[str, tuple[str, str]] = {
    "general": ("通用算力中心", "general-purpose centers"),
    "intelligent": ("智算中心", "intelligent-computing centers"),
    "supercomputing": ("超算中心", "supercomputing centers"),
    "unknown": ("未知（中心已删除）", "unknown (center deleted)"),
}


class UsageFigures(BaseModel):
    """Compute used and paid by one group (units in the names; money in CNY with two decimals)."""

    enterprises: int = Field(description="distinct tenants")
    jobs: int = Field(description="metered jobs")
    node_hours: float
    gpu_hours: float
    pflops_hours: float = Field(description="peak PFLOPS-hours, FP32-equivalent (assumed factors)")
    spending_cny: Decimal
    voucher_cny: Decimal
    voucher_share: float | None = Field(description="voucher_cny / spending_cny; None when nothing was spent")


class Group(UsageFigures):
    """One row of a breakdown (an industry, a city or a center kind), bilingual."""

    key: str
    name_zh: str
    name_en: str
    pflops_share: float = Field(description="share of the year's PFLOPS-hours, 0..1")


class Month(UsageFigures):
    """One month of the trend, with PFLOPS-hours by industry key."""

    month: str
    pflops_hours_by_industry: dict[str, float]


class Empowerment(BaseModel):
    """The yearly empowerment evaluation; the report engineer renders it as a section."""

    title_zh: str
    title_en: str
    year: int
    totals: UsageFigures
    by_industry: list[Group] = Field(description="every industry of the classification, in its order")
    by_city: list[Group] = Field(
        description="city of the center where the compute ran, most PFLOPS-hours first"
    )
    by_center_kind: list[Group]
    months: list[Month]
    classification: list[IndustryClass]
    sectors_in_other: list[str] = Field(description="sectors of tenants with usage that fell into 'other'")
    submitted_by_industry: dict[str, int] = Field(
        description="jobs submitted in the year by tenants of each industry, whatever became of them (demand)"
    )
    notes_zh: list[str]
    notes_en: list[str]


@dataclass
class _Acc:
    tenants: set[str] = field(default_factory=set)
    jobs: int = 0
    node_h: float = 0.0
    gpu_h: float = 0.0
    pfh: float = 0.0
    cost: int = 0
    voucher: Decimal = Decimal(0)

    def add(self, g: _Cell, pfh: float, voucher: Decimal) -> None:
        self.tenants.add(g.tenant_id)
        self.jobs += g.jobs
        self.node_h += g.node_hours
        self.gpu_h += g.gpu_hours
        self.pfh += pfh
        self.cost += g.cost_fen
        self.voucher += voucher

    def figures(self) -> dict[str, object]:
        voucher_fen = int(self.voucher.to_integral_value())
        return {
            "enterprises": len(self.tenants), "jobs": self.jobs, "node_hours": round(self.node_h, 6),
            "gpu_hours": round(self.gpu_h, 6), "pflops_hours": round(self.pfh, 6),
            "spending_cny": fen_to_cny(self.cost), "voucher_cny": fen_to_cny(voucher_fen),
            "voucher_share": round(voucher_fen / self.cost, 6) if self.cost else None,
        }  # fmt: skip


def pool_pflops_per_node(pool: PoolRow, kind: str) -> float:
    """Headline peak of one node of ``pool`` in PFLOPS, FP32-equivalent (assumed factors)."""
    domain = Pool(
        id=pool.id, accelerator_class=pool.accelerator_class, nodes=0, cpus_per_node=0, mem_gb_per_node=0,
        power_kw_per_node=0, price_cny_per_hour=0,
        peak_tflops_per_node=PeakTflops(fp64=pool.fp64_tflops_per_node, fp32=pool.fp32_tflops_per_node,
                                        fp16=pool.fp16_tflops_per_node, int8=pool.int8_tops_per_node),
    )  # fmt: skip
    precision = headline_precision(CenterKind(kind), domain)
    return domain.peak_tflops_per_node.of(precision) * DEFAULT_PRECISION_FACTORS[precision] / 1000.0


@dataclass(frozen=True)
class _Cell:
    """Metering records of one (tenant, pool, center, month, invoice), summed in SQL."""

    tenant_id: str
    pool_id: str
    center_id: str
    month: str
    invoice_id: int | None
    jobs: int
    node_hours: float
    gpu_hours: float
    cost_fen: int


def _cells(session: Session, year: int) -> list[_Cell]:
    """The year's metering summed per (tenant, pool, center, month, invoice): the database does the sums, so
    the evaluation reads one row per cell, not one per job."""
    u = UsageRow
    q = (
        select(u.tenant_id, u.pool_id, u.center_id, u.month, u.invoice_id, func.count(u.id), func.sum(u.node_hours),
               func.sum(u.gpu_hours), func.sum(u.cost_fen))
        .where(u.month >= f"{year}-01", u.month <= f"{year}-12")
        .group_by(u.tenant_id, u.pool_id, u.center_id, u.month, u.invoice_id)
    )  # fmt: skip
    return [
        _Cell(t, p, c, m, inv, int(n), float(nh or 0.0), float(gh or 0.0), int(cost or 0))
        for t, p, c, m, inv, n, nh, gh, cost in session.execute(q)
    ]


def _voucher_rates(session: Session, cells: list[_Cell]) -> dict[int, Decimal]:
    """Per invoice: voucher fen per fen of cost (``voucher_fen`` / the cost of ALL its records, this year's or
    not); a cell's vouchers are its cost × the rate (the allocation is linear in cost)."""
    ids = {c.invoice_id for c in cells if c.invoice_id is not None}
    if not ids:
        return {}
    found = session.execute(select(InvoiceRow.id, InvoiceRow.voucher_fen).where(InvoiceRow.id.in_(ids)))
    paid: dict[int, int] = {inv: fen for inv, fen in found}
    costs = session.execute(
        select(UsageRow.invoice_id, func.sum(UsageRow.cost_fen)).where(UsageRow.invoice_id.in_(ids))
        .group_by(UsageRow.invoice_id)
    )  # fmt: skip
    return {inv: Decimal(paid[inv]) / int(cost) for inv, cost in costs if inv in paid and paid[inv] and cost}


def _groups(accs: dict[str, _Acc], names: dict[str, tuple[str, str]], total_pfh: float,
            order: tuple[str, ...] | None = None) -> list[Group]:  # fmt: skip
    keys = list(order) if order is not None else sorted(accs, key=lambda k: (-accs[k].pfh, k))
    return [
        Group(key=k, name_zh=names.get(k, (k, k))[0], name_en=names.get(k, (k, k))[1],
              pflops_share=round(accs[k].pfh / total_pfh, 6) if total_pfh else 0.0,
              **accs[k].figures())
        for k in keys
    ]  # fmt: skip


def _submitted(session: Session, year: int, sector: dict[str, str]) -> dict[str, int]:
    """Jobs submitted in ``year`` (UTC) per industry of their tenant (jobs without a tenant are left out)."""
    start = datetime(year, 1, 1, tzinfo=UTC).timestamp()
    end = datetime(year + 1, 1, 1, tzinfo=UTC).timestamp()
    q = (
        select(JobRow.tenant_id, func.count(JobRow.id))
        .where(JobRow.submit_s >= start, JobRow.submit_s < end, JobRow.tenant_id.is_not(None))
        .group_by(JobRow.tenant_id)
    )
    out = dict.fromkeys(INDUSTRY_KEYS, 0)
    for tenant, n in session.execute(q):
        out[industry_of(sector.get(str(tenant)))] += int(n)
    return out


def empowerment(session: Session, year: int) -> Empowerment:
    """The evaluation of ``year`` (UTC); 422 naming ``year`` outside 2000..2100."""
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise invalid("year", f"must be between {MIN_YEAR} and {MAX_YEAR}")
    rows = _cells(session, year)
    centers = {c.id: c for c in session.scalars(select(CenterRow))}
    pools = {p.id: p for p in session.scalars(select(PoolRow))}
    cities = {c.id: (c.name_zh, c.name_en) for c in session.scalars(select(CityRow))}
    sector = {t.id: t.sector for t in session.scalars(select(TenantRow))}
    rates = _voucher_rates(session, rows)
    per_node: dict[str, float] = {}
    total = _Acc()
    by_ind: dict[str, _Acc] = defaultdict(_Acc)
    by_city: dict[str, _Acc] = defaultdict(_Acc)
    by_kind: dict[str, _Acc] = defaultdict(_Acc)
    by_month: dict[str, _Acc] = defaultdict(_Acc)
    month_ind: dict[str, dict[str, float]] = defaultdict(lambda: dict.fromkeys(INDUSTRY_KEYS, 0.0))
    other: set[str] = set()
    for r in rows:
        center = centers.get(r.center_id)
        kind = center.kind if center is not None else "unknown"
        pool = pools.get(r.pool_id)
        if r.pool_id not in per_node:
            per_node[r.pool_id] = pool_pflops_per_node(pool, kind) if pool is not None and center else 0.0
        pfh = r.node_hours * per_node[r.pool_id]
        industry = industry_of(sector.get(r.tenant_id))
        if industry == "other" and sector.get(r.tenant_id):
            other.add(str(sector[r.tenant_id]))
        v = r.cost_fen * rates[r.invoice_id] if r.invoice_id in rates else Decimal(0)
        city = center.city_id if center is not None else "unknown"
        for acc in (total, by_ind[industry], by_city[city], by_kind[kind], by_month[r.month]):
            acc.add(r, pfh, v)
        month_ind[r.month][industry] += pfh
    months = [f"{year}-{m:02d}" for m in range(1, 13)]
    return Empowerment(
        title_zh=f"{year} 年算力赋能评价", title_en=f"Compute empowerment evaluation {year}", year=year,
        totals=UsageFigures(**total.figures()),
        by_industry=_groups(by_ind, INDUSTRY_NAMES, total.pfh, INDUSTRY_KEYS),
        by_city=_groups(by_city, {**cities, "unknown": ("未知", "unknown")}, total.pfh),
        by_center_kind=_groups(by_kind, KIND_NAMES, total.pfh),
        months=[
            Month(month=m, pflops_hours_by_industry={k: round(v, 6) for k, v in month_ind[m].items()},
                  **by_month[m].figures())
            for m in months
        ],
        classification=classification(), sectors_in_other=sorted(other),
        submitted_by_industry=_submitted(session, year, sector),
        notes_zh=[
            "来源：平台计量记录（作业结束月份在该年内）及其月度账单；城市与中心类型指算力所在中心。",
            "PFLOPS·时 = 计费节点时 × 资源池单节点峰值 × FP32 等效系数（假定折算系数），为峰值能力占用，非实测运算量。",
            "算力券金额按账单内各条计量的费用比例分摊（账单只记录券付总额），未开票的计量不含券。",
        ],
        notes_en=[
            "Source: the platform's metering records (jobs ended in the year) and their monthly invoices; city "
            "and center kind are those of the center where the compute ran.",
            "PFLOPS-hours = billed node-hours × the pool's per-node peak × FP32-equivalent factor (assumed "
            "factors): peak capacity held, not operations measured.",
            "Voucher amounts are allocated to an invoice's records in proportion to their cost (an invoice records "
            "only the total paid by vouchers); records not invoiced yet carry none.",
        ],
    )  # fmt: skip
