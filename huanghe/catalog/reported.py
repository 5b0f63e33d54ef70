"""Shandong's reported compute-infrastructure figures by year, the calibration targets built on them, and the
totals of a network as the reports count them (docs/shandong-calibration.md).

A **network year** ``Y`` is the state of the latest report dated in ``Y`` (the issue's reading): 2023 = end of
2023, 2024 = mid-2024, 2025 = January 2025. A center counts in year ``Y`` when ``opened_year <= Y``
(:func:`huanghe.catalog.history.topology_as_of`).

:data:`REPORTED` holds only published figures, each with its official original and the reprint it was read
in. :data:`CALIBRATION` holds every figure the bundled ``shandong`` network is built to, per year, and says
for each whether it is ``reported`` (copied from :data:`REPORTED`) or an ``assumption`` (an interpolation or a
national ratio; no Shandong figure was found). Units: racks = standard racks (2.5 kW, an assumption, FACTS.md
§2); EFLOPS = FP32-equivalent with the assumed factors of :mod:`huanghe.catalog.units`; EB = 10^18 bytes;
PUE = Σ design kW × PUE / Σ design kW (as :func:`huanghe.observatory.indicators.group_energy`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from huanghe.catalog.units import (
    ADVANCED_MEDIA,
    STANDARD_RACK_KW,
    TB_PER_EB,
    compute_breakdown,
    standard_racks,
)
from huanghe.domain.enums import CenterTier
from huanghe.domain.network import Center, Topology

#: Relative tolerance of the calibration (issue 14: reported totals matched within 5 %).
TOLERANCE = 0.05
#: A center counts as rated provincial 3A or above (省级新型数据中心 3A 以上) in the twin when it is not an edge
#: center and has at least this many standard racks of design power. The real list of 166 rated centers is
#: not bundled; this size rule is an **illustrative** proxy (docs/shandong-calibration.md).
RATED_MIN_RACKS = 400.0


@dataclass(frozen=True)
class Reported:
    """One published figure: ``value`` of ``metric`` in network year ``year`` (``comparison`` says whether the
    report said "more than" (``>``), "about" (``=``)); ``as_of`` is the date the figure describes."""

    year: int
    metric: str
    value: float
    comparison: str
    as_of: str
    source: str
    reprint: str


REPORTED: tuple[Reported, ...] = (
    Reported(
        2023, "racks_in_use", 350_000, ">", "end of 2023",
        "status reported early 2024 (全省在用标准机架超过35万架); the official original was not located",
        "FACTS.md §1 'Status reported early 2024'",
    ),
    Reported(
        2023, "intelligent_share", 0.267, "=", "end of 2023",
        "status reported early 2024 (智能算力占比26.7%); the official original was not located",
        "FACTS.md §1 'Status reported early 2024'",
    ),
    Reported(
        2024, "rated_centers", 166, "=", "June 2024",
        "山东省大数据局, reply to a CPPCC proposal on the digital economy (关于进一步优化发展环境，助力数字经济"
        "高质量发展的建议的答复), sdgb.shandong.gov.cn/art/2024/6/24/art_123000_34063.html: 全省共有166家数据中心"
        "达到省级新型数据中心3A以上标准; 9852条直达企业、园区的高速直连线路",
        "FACTS.md §1 'Mid-2024 (provincial big-data bureau)'",
    ),
    Reported(
        2025, "total_eflops", 9.66, "=", "January 2025",
        "算力总规模9.66 EFLOPS, reported January 2025; the official original was not located",
        "China News Service (中新网) reports, January 2025; FACTS.md §1",
    ),
    Reported(
        2025, "intelligent_share", 0.30, ">", "January 2025 (the year 2024)",
        "2025年山东省政府工作报告 (January 2025): 过去一年……智能算力比例超过30%",
        "中新网济南1月20日电 (赵晓、沙见龙), January 2025; FACTS.md §1",
    ),
)  # fmt: skip


@dataclass(frozen=True)
class Target:
    """What the bundled network is calibrated to in one year: ``value`` of ``metric``, ``basis`` ``reported``
    or ``assumption`` and why."""

    year: int
    metric: str
    value: float
    basis: str
    why: str


#: Storage per standard rack in use, TB: national storage (>1,680 EB) / national racks (10.85 M), mid-2025
#: (FACTS.md §1). No Shandong storage figure was found: the twin applies the national ratio (**assumption**).
STORAGE_TB_PER_RACK = 1_680 * TB_PER_EB / 10_850_000
#: Supercomputing compute (FP64 × 2, FP32-equivalent EFLOPS), constant over 2023–2025 (**assumption**).
SUPERCOMPUTING_EFLOPS = 0.24

_RACKS = {2023: 355_000.0, 2024: 375_000.0, 2025: 395_000.0}
_TOTAL = {2023: 8.2, 2024: 8.9, 2025: 9.66}
_SHARE = {2023: 0.267, 2024: 0.29, 2025: 0.31}
_PUE = {2023: 1.46, 2024: 1.44, 2025: 1.42}


def _targets() -> tuple[Target, ...]:
    out: list[Target] = []
    for y in (2023, 2024, 2025):
        r = "reported"
        a = "assumption"
        out += [
            Target(y, "racks_in_use", _RACKS[y], r if y == 2023 else a,
                   ">350,000 reported (end-2023)" if y == 2023 else "illustrative growth (+20,000 a year)"),
            Target(y, "total_eflops", _TOTAL[y], r if y == 2025 else a,
                   "9.66 reported (Jan 2025)" if y == 2025 else "interpolated towards the 2025 report"),
            Target(y, "intelligent_share", _SHARE[y], r if y != 2024 else a,
                   "reported 26.7 % / >30 %" if y != 2024 else "interpolated between the reports"),
            Target(y, "supercomputing_eflops", SUPERCOMPUTING_EFLOPS, a, "two national centers + oilfield HPC"),
            Target(y, "storage_eb", _RACKS[y] * STORAGE_TB_PER_RACK / TB_PER_EB, a,
                   "racks in use × national storage per rack (mid-2025)"),
            Target(y, "pue", _PUE[y], a, "national average 1.42 (mid-2025); earlier years slightly higher"),
        ]  # fmt: skip
    out.append(Target(2024, "rated_centers", 166, "reported", "166 rated 3A+ (June 2024)"))
    return tuple(out)


CALIBRATION: tuple[Target, ...] = _targets()


def calibration_target(year: int, metric: str) -> float:
    """The calibration value of ``metric`` in ``year`` (KeyError naming both when there is none)."""
    for t in CALIBRATION:
        if t.year == year and t.metric == metric:
            return t.value
    raise KeyError(f"no calibration target for {metric!r} in {year}")


def is_rated(center: Center) -> bool:
    """Whether the twin counts ``center`` as rated provincial 3A+ (:data:`RATED_MIN_RACKS`, illustrative)."""
    return center.tier != CenterTier.EDGE and standard_racks(center.it_design_kw) >= RATED_MIN_RACKS


def open_in(centers: Iterable[Center], year: int) -> list[Center]:
    """Centers counted in network year ``year`` (``opened_year`` <= year, or unknown)."""
    return [c for c in centers if c.opened_year is None or c.opened_year <= year]


#: PUE bands of the distribution, upper bounds (exclusive): < 1.3 (new large centers), 1.3–1.5, ≥ 1.5 (the
#: plan's upgrade list).
PUE_BANDS = (1.3, 1.5)


def network_totals(topology: Topology, year: int) -> dict[str, float]:
    """Totals of the centers open in ``year``: racks (design, in use), EFLOPS by category and total, intelligent
    share, rated centers, storage EB and advanced share, design-kW-weighted PUE and the PUE distribution
    (share of design kW with PUE < 1.3, 1.3–1.5, ≥ 1.5), centers and pools."""
    centers = open_in(topology.centers, year)
    b = compute_breakdown(centers)
    design_kw = sum(c.it_design_kw for c in centers)
    capacity = sum(t.capacity_tb for c in centers for t in c.storage)
    advanced = sum(t.capacity_tb for c in centers for t in c.storage if t.medium in ADVANCED_MEDIA)
    lo, hi = PUE_BANDS

    def kw_share(pred: Callable[[float], bool]) -> float:
        ok = sum(c.it_design_kw for c in centers if pred(c.energy.pue))
        return ok / design_kw if design_kw else 0.0

    return {
        "centers": float(len(centers)),
        "pools": float(sum(len(c.pools) for c in centers)),
        "design_racks": design_kw / STANDARD_RACK_KW,
        "racks_in_use": float(sum(c.racks_in_use or 0 for c in centers)),
        "general_eflops": b.general_eflops,
        "intelligent_eflops": b.intelligent_eflops,
        "supercomputing_eflops": b.supercomputing_eflops,
        "total_eflops": b.total_eflops,
        "intelligent_share": b.intelligent_share,
        "rated_centers": float(sum(is_rated(c) for c in centers)),
        "storage_eb": capacity / TB_PER_EB,
        "advanced_storage_share": advanced / capacity if capacity else 0.0,
        "pue": sum(c.it_design_kw * c.energy.pue for c in centers) / design_kw if design_kw else 0.0,
        "pue_below_1_3": kw_share(lambda p: p < lo),
        "pue_1_3_to_1_5": kw_share(lambda p: lo <= p < hi),
        "pue_1_5_and_above": kw_share(lambda p: p >= hi),
    }
