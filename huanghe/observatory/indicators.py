"""The plan's indicators as pure functions on plain numbers and :class:`CenterFigures` lists.

Conventions (FACTS.md §2; documented in docs/index-method.md §2):

* **Standard racks** = IT design kW / 2.5 (assumption, ``huanghe.catalog.units``).
* **Compute**: FP32-equivalent EFLOPS (assumed factors); intelligent share = intelligent / total.
* **Storage**: EB; advanced share = (flash + optical) / total capacity.
* **Egress**: total Gbps; the **10G-PON share** of a group of centers is the mean of the centers' shares
  **weighted by their egress bandwidth** (the schema has no port counts; egress Gbps is the proxy for the
  size of a center's access network). With no egress at all it falls back to the plain mean.
* **PUE** (ISO/IEC 30134-2) = facility kWh / IT kWh. A group's PUE is Σ facility / Σ IT; with only design
  figures the IT energy is taken proportional to IT design kW (uniform utilisation).
* **REF** (30134-3) = renewable kWh / facility kWh; **WUE** (30134-9) = site water L / IT kWh.
* **CUE** (30134-8) = kg CO₂ / IT kWh = EF × PUE × (1 − REF): grid power at the location-based factor EF,
  renewable energy counted as zero-emission (an **assumption** for on-site or contracted green power).
* **Compute carbon efficiency** (ours): ``CE = compute / (E_IT × PUE × EF × (1 − REF))`` in PFLOPS-hours
  delivered per kg CO₂, and its inverse, kg CO₂ per PFLOPS-hour.
* **Latency circles**: two centers in the same city must be < 1 ms one way, two centers in the same economic
  circle < 3 ms (network-capacity evaluation, 运载力评估). Pairs across circles are listed but not assessed.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from huanghe.catalog.geo import CITY_LATENCY_TARGET_MS, REGION_LATENCY_TARGET_MS
from huanghe.observatory.figures import CenterFigures

#: Intra-city one-way latency limit, ms (plan: 城市内 < 1 ms).
CITY_LATENCY_LIMIT_MS = CITY_LATENCY_TARGET_MS
#: Intra-circle one-way latency limit, ms (plan: 经济圈内 < 3 ms).
CIRCLE_LATENCY_LIMIT_MS = REGION_LATENCY_TARGET_MS
HOURS_PER_YEAR = 8760.0


# ---------------------------------------------------------------- capacity, compute, storage, network


def total_standard_racks(centers: Iterable[CenterFigures]) -> float:
    """Σ standard racks (design). 标准机架数."""
    return sum(c.standard_racks for c in centers)


def racks_in_use(centers: Iterable[CenterFigures]) -> float | None:
    """Σ reported racks in use; ``None`` when no center reports it."""
    values = [c.racks_in_use for c in centers if c.racks_in_use is not None]
    return sum(values) if values else None


@dataclass(frozen=True)
class ComputeTotals:
    """FP32-equivalent EFLOPS (assumed factors) of a group of centers."""

    general_eflops: float
    intelligent_eflops: float
    supercomputing_eflops: float
    total_eflops: float
    intelligent_share: float


def compute_totals(centers: Iterable[CenterFigures]) -> ComputeTotals:
    """Σ compute per category and the intelligent share (0 when there is no compute)."""
    g = i = s = 0.0
    for c in centers:
        g += c.general_eflops
        i += c.intelligent_eflops
        s += c.supercomputing_eflops
    total = g + i + s
    return ComputeTotals(g, i, s, total, i / total if total > 0 else 0.0)


def storage_totals(centers: Iterable[CenterFigures]) -> tuple[float, float]:
    """(total EB, advanced share in [0, 1]) of a group of centers."""
    total = adv = 0.0
    for c in centers:
        total += c.storage_eb
        adv += c.advanced_storage_eb
    return total, (adv / total if total > 0 else 0.0)


def weighted_mean(values: Sequence[float], weights: Sequence[float]) -> float:
    """Σ w·v / Σ w; the plain mean when Σ w = 0; 0 for no values."""
    if not values:
        return 0.0
    wsum = sum(weights)
    if wsum <= 0:
        return sum(values) / len(values)
    return sum(v * w for v, w in zip(values, weights, strict=True)) / wsum


def egress_totals(centers: Sequence[CenterFigures]) -> tuple[float, float]:
    """(total egress Gbps, 10G-PON port share weighted by egress Gbps)."""
    total = sum(c.egress_gbps for c in centers)
    share = weighted_mean([c.pon10g_port_share for c in centers], [c.egress_gbps for c in centers])
    return total, share


def utilisation(used: float, capacity: float) -> float:
    """used / capacity clamped to [0, 1]; 0 when there is no capacity."""
    if capacity <= 0:
        return 0.0
    return min(max(used / capacity, 0.0), 1.0)


def rack_utilisation(centers: Sequence[CenterFigures]) -> float | None:
    """Racks in use / design racks over the centers that report racks in use; None when none do."""
    reporting = [c for c in centers if c.racks_in_use is not None]
    if not reporting:
        return None
    return utilisation(sum(c.racks_in_use or 0.0 for c in reporting), total_standard_racks(reporting))


# ---------------------------------------------------------------- energy and carbon


def pue(facility_kwh: float, it_kwh: float) -> float:
    """PUE = facility kWh / IT kWh (ISO/IEC 30134-2). Raises on IT energy ≤ 0 or facility < IT."""
    if it_kwh <= 0:
        raise ValueError("it_kwh must be > 0 to compute PUE")
    if facility_kwh < it_kwh:
        raise ValueError("facility_kwh must be >= it_kwh (PUE >= 1)")
    return facility_kwh / it_kwh


def ref(renewable_kwh: float, facility_kwh: float) -> float:
    """REF = renewable kWh / facility kWh, clamped to [0, 1] (ISO/IEC 30134-3)."""
    if facility_kwh <= 0:
        raise ValueError("facility_kwh must be > 0 to compute REF")
    return min(max(renewable_kwh / facility_kwh, 0.0), 1.0)


def wue(water_l: float, it_kwh: float) -> float:
    """WUE = site water litres / IT kWh (ISO/IEC 30134-9)."""
    if it_kwh <= 0:
        raise ValueError("it_kwh must be > 0 to compute WUE")
    return water_l / it_kwh


def cue(pue_value: float, grid_ef_kg_per_kwh: float, renewable_share: float = 0.0) -> float:
    """CUE, kg CO₂ per IT kWh = EF × PUE × (1 − REF) (renewables zero-emission, an assumption)."""
    return grid_ef_kg_per_kwh * pue_value * (1.0 - renewable_share)


def co2_kg(it_kwh: float, pue_value: float, grid_ef_kg_per_kwh: float, renewable_share: float = 0.0) -> float:
    """kg CO₂ of a period = E_IT × PUE × EF × (1 − REF)."""
    return it_kwh * cue(pue_value, grid_ef_kg_per_kwh, renewable_share)


def carbon_efficiency(
    compute_pflops_hours: float,
    it_kwh: float,
    pue_value: float,
    grid_ef_kg_per_kwh: float,
    renewable_share: float = 0.0,
) -> float:
    """CE = compute / (E_IT × PUE × EF × (1 − REF)), PFLOPS-hours per kg CO₂ (``inf`` with zero emissions)."""
    emitted = co2_kg(it_kwh, pue_value, grid_ef_kg_per_kwh, renewable_share)
    if emitted <= 0:
        return math.inf if compute_pflops_hours > 0 else 0.0
    return compute_pflops_hours / emitted


def kg_co2_per_pflops_hour(
    compute_pflops_hours: float,
    it_kwh: float,
    pue_value: float,
    grid_ef_kg_per_kwh: float,
    renewable_share: float = 0.0,
) -> float:
    """kg CO₂ per PFLOPS-hour delivered (the inverse of :func:`carbon_efficiency`)."""
    if compute_pflops_hours <= 0:
        raise ValueError("compute_pflops_hours must be > 0")
    return co2_kg(it_kwh, pue_value, grid_ef_kg_per_kwh, renewable_share) / compute_pflops_hours


@dataclass(frozen=True)
class EnergyRecord:
    """Energy sums of one center over one interval, e.g. a day of telemetry. ``period`` groups records
    (e.g. ``"2024"`` or ``"2024-06"``)."""

    center: str
    period: str
    it_kwh: float
    facility_kwh: float
    renewable_kwh: float = 0.0
    water_l: float | None = None


@dataclass(frozen=True)
class EnergyMetrics:
    """PUE, REF, WUE (None without water data), CUE (kg/kWh) and CO₂ (kg) of one center and period."""

    center: str
    period: str
    it_kwh: float
    facility_kwh: float
    pue: float
    ref: float
    wue_l_per_kwh: float | None
    cue_kg_per_kwh: float
    co2_kg: float


def energy_metrics(
    records: Iterable[EnergyRecord], grid_ef_kg_per_kwh: Mapping[str, float] | float
) -> list[EnergyMetrics]:
    """Metrics per (center, period) from summed energy: PUE = Σ facility / Σ IT, never a mean of ratios.

    ``grid_ef_kg_per_kwh`` is one factor for all, or a factor per center id.
    """
    sums: dict[tuple[str, str], list[float]] = defaultdict(lambda: [0.0, 0.0, 0.0, 0.0, 0.0])
    for r in records:
        acc = sums[(r.center, r.period)]
        acc[0] += r.it_kwh
        acc[1] += r.facility_kwh
        acc[2] += r.renewable_kwh
        if r.water_l is not None:
            acc[3] += r.water_l
            acc[4] = 1.0
    out = []
    for (center, period), (it, fac, ren, water, has_water) in sorted(sums.items()):
        ef = grid_ef_kg_per_kwh if isinstance(grid_ef_kg_per_kwh, float | int) else grid_ef_kg_per_kwh[center]
        p, r_share = pue(fac, it), ref(ren, fac)
        out.append(
            EnergyMetrics(
                center=center,
                period=period,
                it_kwh=it,
                facility_kwh=fac,
                pue=p,
                ref=r_share,
                wue_l_per_kwh=wue(water, it) if has_water else None,
                cue_kg_per_kwh=cue(p, float(ef), r_share),
                co2_kg=co2_kg(it, p, float(ef), r_share),
            )
        )
    return out


def group_energy(centers: Sequence[CenterFigures]) -> tuple[float, float, float]:
    """(PUE, REF, EF kg/kWh) of a group with IT energy ∝ IT design kW: PUE = Σ kW·PUE / Σ kW, REF and EF
    weighted by facility energy. Zeros when the group has no IT power."""
    it = sum(c.it_design_kw for c in centers)
    if it <= 0:
        return 0.0, 0.0, 0.0
    facility = [c.it_design_kw * c.pue for c in centers]
    fac = sum(facility)
    group_ref = sum(f * c.renewable_share for f, c in zip(facility, centers, strict=True)) / fac
    group_ef = sum(f * c.grid_ef_kg_per_kwh for f, c in zip(facility, centers, strict=True)) / fac
    return fac / it, group_ref, group_ef


# ---------------------------------------------------------------- latency circles (运载力评估)

Scope = Literal["city", "circle", "cross"]


@dataclass(frozen=True)
class PairCompliance:
    """One center pair of the network-capacity evaluation. ``limit_ms``/``compliant`` are None for pairs
    across circles (not assessed)."""

    a: str
    b: str
    city_a: str
    city_b: str
    region_a: str
    region_b: str
    scope: Scope
    latency_ms: float
    measured: bool
    limit_ms: float | None
    compliant: bool | None


@dataclass(frozen=True)
class ComplianceSummary:
    """Counts and shares of compliant pairs per scope; ``share`` is None when no pair was assessed."""

    city_pairs: int
    city_compliant: int
    circle_pairs: int
    circle_compliant: int
    cross_pairs: int

    @property
    def assessed(self) -> int:
        return self.city_pairs + self.circle_pairs

    @property
    def compliant(self) -> int:
        return self.city_compliant + self.circle_compliant

    @property
    def share(self) -> float | None:
        return self.compliant / self.assessed if self.assessed else None

    @property
    def city_share(self) -> float | None:
        return self.city_compliant / self.city_pairs if self.city_pairs else None

    @property
    def circle_share(self) -> float | None:
        return self.circle_compliant / self.circle_pairs if self.circle_pairs else None


def pair_scope(a: CenterFigures, b: CenterFigures) -> Scope:
    """``city`` when both are in one city, ``circle`` in one economic circle, else ``cross``."""
    if a.city == b.city:
        return "city"
    if a.region == b.region:
        return "circle"
    return "cross"


def pair_key(a: str, b: str) -> tuple[str, str]:
    """Order-independent key of a center pair."""
    return (a, b) if a <= b else (b, a)


def latency_compliance(
    centers: Sequence[CenterFigures],
    latency_ms: Mapping[tuple[str, str], float],
    measured: Iterable[tuple[str, str]] = (),
    city_limit_ms: float = CITY_LATENCY_LIMIT_MS,
    circle_limit_ms: float = CIRCLE_LATENCY_LIMIT_MS,
) -> list[PairCompliance]:
    """One row per unordered center pair (in center order). ``latency_ms`` is keyed by :func:`pair_key`;
    a pair is compliant when its one-way latency is strictly below its limit."""
    measured_keys = {pair_key(a, b) for a, b in measured}
    rows = []
    for i, a in enumerate(centers):
        for b in centers[i + 1 :]:
            key = pair_key(a.id, b.id)
            lat = latency_ms[key]
            scope = pair_scope(a, b)
            limit = {"city": city_limit_ms, "circle": circle_limit_ms}.get(scope)
            rows.append(
                PairCompliance(
                    a=a.id,
                    b=b.id,
                    city_a=a.city,
                    city_b=b.city,
                    region_a=a.region,
                    region_b=b.region,
                    scope=scope,
                    latency_ms=lat,
                    measured=key in measured_keys,
                    limit_ms=limit,
                    compliant=None if limit is None else lat < limit,
                )
            )
    return rows


def compliance_summary(rows: Iterable[PairCompliance]) -> ComplianceSummary:
    """Count the pairs and the compliant pairs per scope."""
    n = {"city": 0, "circle": 0, "cross": 0}
    ok = {"city": 0, "circle": 0}
    for r in rows:
        n[r.scope] += 1
        if r.compliant:
            ok[r.scope] += 1
    return ComplianceSummary(n["city"], ok["city"], n["circle"], ok["circle"], n["cross"])
