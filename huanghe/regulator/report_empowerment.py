"""The empowerment section's figures for the annual report, from the empowerment evaluation
(:func:`huanghe.regulator.empowerment.empowerment`: metered jobs of the year by `算力+` industry, by the city
and the kind of the center where the compute ran, by month; method and assumptions in its docstring and in
docs/empowerment.md), and the voucher breakdown by sector folded into the same `算力+` industries.
"""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy.orm import Session

from huanghe.observatory import report_sections as rs
from huanghe.regulator.empowerment import Empowerment, UsageFigures, empowerment
from huanghe.regulator.industries import INDUSTRY_KEYS, INDUSTRY_NAMES, industry_of


def _group(key: str, name_zh: str, name_en: str, f: UsageFigures) -> rs.UsageGroup:
    return rs.UsageGroup(
        key=key, name_zh=name_zh, name_en=name_en, enterprises=f.enterprises, jobs=f.jobs,
        node_hours=f.node_hours, gpu_hours=f.gpu_hours, pflops_hours=f.pflops_hours,
        spending_cny=float(f.spending_cny), voucher_cny=float(f.voucher_cny),
    )  # fmt: skip


def from_evaluation(ev: Empowerment) -> rs.EmpowermentFigures:
    """The report's figures of one evaluation; the source line is the evaluation's first note."""
    return rs.EmpowermentFigures(
        totals=_group("total", "合计", "total", ev.totals),
        by_industry=[_group(g.key, g.name_zh, g.name_en, g) for g in ev.by_industry],
        by_city=[_group(g.key, g.name_zh, g.name_en, g) for g in ev.by_city],
        by_center_kind=[_group(g.key, g.name_zh, g.name_en, g) for g in ev.by_center_kind],
        months=[(m.month, m.pflops_hours, float(m.spending_cny)) for m in ev.months],
        source_zh=" ".join(ev.notes_zh),
        source_en=" ".join(ev.notes_en),
    )


def empowerment_figures(session: Session, year: int) -> rs.EmpowermentFigures:
    """The empowerment section of ``year`` (UTC)."""
    return from_evaluation(empowerment(session, year))


def by_industry(groups: list[rs.VoucherGroup]) -> list[rs.VoucherGroup]:
    """Voucher rows keyed by the tenant's sector folded into the `算力+` industries (plan's order, empty ones
    left out). Enterprises add up: a tenant has one sector, so one industry."""
    acc: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0, 0.0, 0.0])
    for g in groups:
        a = acc[industry_of(None if g.key == "unknown" else g.key)]
        a[0] += g.enterprises
        a[1] += g.granted_cny
        a[2] += g.redeemed_cny
        a[3] += g.compute_bought_cny
    return [
        rs.VoucherGroup(key=k, name_zh=INDUSTRY_NAMES[k][0], name_en=INDUSTRY_NAMES[k][1],
                        enterprises=int(acc[k][0]), granted_cny=round(acc[k][1], 2),
                        redeemed_cny=round(acc[k][2], 2), compute_bought_cny=round(acc[k][3], 2))
        for k in INDUSTRY_KEYS
        if k in acc
    ]  # fmt: skip
