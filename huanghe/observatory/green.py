"""Green and low-carbon lists (绿色低碳) — rules in docs/green-lists.md.

* **PUE upgrade list**: centers whose yearly PUE is above 1.5 (the plan: 年均 PUE 高于 1.5 的数据中心改造).
* **Small, scattered and old list** (小散老旧): per center the criteria it meets — small (< N standard
  racks), scattered (nearest other center farther than X km and not a national/provincial hub), old
  (opened before year Y), high PUE (above the limit). A center is listed when it is small and meets at
  least ``min_other_criteria`` of the other three. All thresholds are :class:`GreenRules` fields
  (**assumptions**, configurable).
* **Renewable ranking**: REF descending (ties: lower PUE first).
* **Carbon per center**: kg CO₂ per year = IT design kW × utilisation × 8760 h × PUE × EF × (1 − REF), with
  the utilisation measured when known, else an **assumed** default (labelled in every output), and the
  compute carbon efficiency (PFLOPS-hours per kg CO₂ and kg CO₂ per PFLOPS-hour).

Yearly PUE values measured by telemetry can replace the design figures (``pue_by_center``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

from huanghe.catalog.geo import haversine_km
from huanghe.observatory import indicators as ind
from huanghe.observatory.figures import CenterFigures

HUB_TIERS = frozenset({"national", "provincial"})


@dataclass(frozen=True)
class GreenRules:
    """Thresholds of the green lists (assumptions; change them to the authority's rules)."""

    pue_limit: float = 1.5
    small_racks_below: float = 400.0
    scattered_km_above: float = 50.0
    old_opened_before: int = 2015
    min_other_criteria: int = 1
    assumed_utilisation: float = 0.6

    def utilisation_label(self) -> str:
        return f"assumed utilisation {self.assumed_utilisation:.0%} where not measured / 未实测处假定利用率"


def apply_measured_pue(
    centers: Sequence[CenterFigures], pue_by_center: Mapping[str, float]
) -> list[CenterFigures]:
    """Replace the design PUE with a measured yearly PUE where one is given."""
    return [replace(c, pue=pue_by_center[c.id]) if c.id in pue_by_center else c for c in centers]


def pue_upgrade_list(centers: Sequence[CenterFigures], limit: float = 1.5) -> list[CenterFigures]:
    """Centers with PUE strictly above ``limit``, worst first."""
    return sorted((c for c in centers if c.pue > limit), key=lambda c: (-c.pue, c.id))


def nearest_center_km(center: CenterFigures, others: Sequence[CenterFigures]) -> float:
    """Great-circle distance to the nearest other center, km (inf when alone)."""
    dists = [haversine_km(center.lon, center.lat, o.lon, o.lat) for o in others if o.id != center.id]
    return min(dists) if dists else math.inf


@dataclass(frozen=True)
class SmallScatteredOld:
    """The criteria one center meets, and whether it is listed."""

    center: str
    name_zh: str
    standard_racks: float
    nearest_km: float
    opened_year: int | None
    pue: float
    small: bool
    scattered: bool
    old: bool
    high_pue: bool
    listed: bool

    @property
    def reasons(self) -> list[str]:
        flags = {"small": self.small, "scattered": self.scattered, "old": self.old, "high_pue": self.high_pue}
        return [k for k, v in flags.items() if v]


def small_scattered_old(
    centers: Sequence[CenterFigures], rules: GreenRules = GreenRules()
) -> list[SmallScatteredOld]:
    """Criteria per center (all centers, in order); ``listed`` marks the upgrade candidates."""
    out = []
    for c in centers:
        near = nearest_center_km(c, centers)
        small = c.standard_racks < rules.small_racks_below
        scattered = near > rules.scattered_km_above and c.tier not in HUB_TIERS
        old = c.opened_year is not None and c.opened_year < rules.old_opened_before
        high = c.pue > rules.pue_limit
        others = int(scattered) + int(old) + int(high)
        out.append(
            SmallScatteredOld(
                c.id, c.name_zh, c.standard_racks, near, c.opened_year, c.pue,
                small, scattered, old, high, small and others >= rules.min_other_criteria,
            )
        )  # fmt: skip
    return out


def renewable_ranking(centers: Sequence[CenterFigures]) -> list[CenterFigures]:
    """Centers by renewable share (REF) descending, then PUE ascending."""
    return sorted(centers, key=lambda c: (-c.renewable_share, c.pue, c.id))


@dataclass(frozen=True)
class CenterCarbon:
    """Yearly energy and carbon of one center."""

    center: str
    name_zh: str
    utilisation: float
    utilisation_assumed: bool
    it_mwh: float
    facility_mwh: float
    co2_t: float
    cue_kg_per_kwh: float
    pflops_hours: float
    pflops_hours_per_kg: float | None
    kg_per_pflops_hour: float | None


def center_carbon(
    center: CenterFigures, rules: GreenRules = GreenRules(), hours: float = ind.HOURS_PER_YEAR
) -> CenterCarbon:
    """kg CO₂/yr = IT kW × utilisation × hours × PUE × EF × (1 − REF) (reported in t); compute efficiency on
    FP32-equivalent PFLOPS × utilisation × hours."""
    assumed = center.utilisation is None
    util = rules.assumed_utilisation if center.utilisation is None else center.utilisation
    it_kwh = center.it_design_kw * util * hours
    co2 = ind.co2_kg(it_kwh, center.pue, center.grid_ef_kg_per_kwh, center.renewable_share)
    pfh = center.total_eflops * 1000.0 * util * hours
    has = pfh > 0 and co2 > 0
    return CenterCarbon(
        center=center.id,
        name_zh=center.name_zh,
        utilisation=util,
        utilisation_assumed=assumed,
        it_mwh=it_kwh / 1000.0,
        facility_mwh=it_kwh * center.pue / 1000.0,
        co2_t=co2 / 1000.0,
        cue_kg_per_kwh=ind.cue(center.pue, center.grid_ef_kg_per_kwh, center.renewable_share),
        pflops_hours=pfh,
        pflops_hours_per_kg=pfh / co2 if has else None,
        kg_per_pflops_hour=co2 / pfh if has else None,
    )


@dataclass(frozen=True)
class GreenReport:
    """Everything ``huanghe green-list`` shows."""

    rules: GreenRules
    pue_list: list[CenterFigures]
    small_scattered_old: list[SmallScatteredOld]
    renewable_ranking: list[CenterFigures]
    carbon: list[CenterCarbon]

    def public(self) -> dict[str, object]:
        return {
            "rules": self.rules.__dict__ | {"utilisation_label": self.rules.utilisation_label()},
            "pue_above_limit": [
                {"center": c.id, "name_zh": c.name_zh, "pue": c.pue, "city": c.city} for c in self.pue_list
            ],
            "small_scattered_old": [
                {
                    "center": s.center,
                    "name_zh": s.name_zh,
                    "standard_racks": round(s.standard_racks, 1),
                    "nearest_km": None if math.isinf(s.nearest_km) else round(s.nearest_km, 1),
                    "opened_year": s.opened_year,
                    "pue": s.pue,
                    "reasons": s.reasons,
                }
                for s in self.small_scattered_old
                if s.listed
            ],
            "renewable_ranking": [
                {
                    "rank": k + 1,
                    "center": c.id,
                    "name_zh": c.name_zh,
                    "renewable_share": c.renewable_share,
                    "pue": c.pue,
                }
                for k, c in enumerate(self.renewable_ranking)
            ],
            "carbon": [x.__dict__ for x in self.carbon],
        }


def green_report(
    centers: Sequence[CenterFigures],
    rules: GreenRules = GreenRules(),
    pue_by_center: Mapping[str, float] | None = None,
) -> GreenReport:
    """All green lists of a set of centers (optionally with measured yearly PUEs)."""
    use = apply_measured_pue(centers, pue_by_center or {})
    return GreenReport(
        rules=rules,
        pue_list=pue_upgrade_list(use, rules.pue_limit),
        small_scattered_old=small_scattered_old(use, rules),
        renewable_ranking=renewable_ranking(use),
        carbon=[center_carbon(c, rules) for c in use],
    )
