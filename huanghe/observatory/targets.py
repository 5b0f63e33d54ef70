"""Targets of the plan versus actuals, with a linear trend forecast to the target year.

Targets are data (``data/targets.yaml``: kpi, target, comparison, year, source). Actuals are computed from
plain center figures (:func:`kpi_actuals`); the forecast fits a least-squares line to the yearly actuals
of the last five years (e.g. from the network's yearly snapshots) and evaluates it at the target year.

KPIs and units: ``standard_racks`` (racks in use where reported, else design racks), ``storage_eb`` (EB),
``advanced_storage_share``, ``total_eflops`` (FP32-equivalent EFLOPS, assumed factors),
``intelligent_share``, ``egress_gbps`` (Gbps), ``pon10g_share`` (egress-weighted), ``pue`` (Σ facility /
Σ IT), ``rack_utilisation`` (racks in use / design racks; None if unreported), ``city_latency_compliance``
and ``circle_latency_compliance`` (shares of center pairs inside the latency circle).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import yaml

from huanghe.observatory import indicators as ind
from huanghe.observatory.figures import CenterFigures, snapshot_year

DEFAULT_TARGETS_FILE = Path(__file__).parent / "data" / "targets.yaml"
KPI_INFO: dict[str, tuple[str, str]] = {
    "standard_racks": ("在用标准机架", "racks"),
    "storage_eb": ("存储总量", "EB"),
    "advanced_storage_share": ("先进存储占比", "share"),
    "total_eflops": ("算力总规模", "EFLOPS (FP32-eq)"),
    "intelligent_share": ("智能算力占比", "share"),
    "egress_gbps": ("数据中心出口带宽", "Gbps"),
    "pon10g_share": ("10G-PON 及以上端口占比", "share"),
    "pue": ("平均 PUE", "ratio"),
    "rack_utilisation": ("机架利用率", "share"),
    "city_latency_compliance": ("城市 1 ms 时延圈达标率", "share"),
    "circle_latency_compliance": ("经济圈 3 ms 时延圈达标率", "share"),
}


class TargetsError(ValueError):
    """The targets file is malformed; the message names the entry and field."""


@dataclass(frozen=True)
class Target:
    kpi: str
    target: float
    comparison: str
    year: int
    source: str

    def met_by(self, value: float | None) -> bool | None:
        if value is None:
            return None
        return value >= self.target if self.comparison == ">=" else value <= self.target


def parse_targets(doc: object) -> list[Target]:
    """Validate a decoded targets document."""
    entries = doc.get("targets") if isinstance(doc, dict) else None
    if not isinstance(entries, list):
        raise TargetsError("targets: required list")
    out = []
    for k, e in enumerate(entries):
        where = f"targets[{k}]"
        if not isinstance(e, dict):
            raise TargetsError(f"{where}: must be a mapping")
        if e.get("kpi") not in KPI_INFO:
            raise TargetsError(f"{where}.kpi: unknown KPI {e.get('kpi')!r} (known: {', '.join(KPI_INFO)})")
        if e.get("comparison") not in (">=", "<="):
            raise TargetsError(f"{where}.comparison: must be '>=' or '<='")
        try:
            out.append(
                Target(
                    e["kpi"], float(e["target"]), e["comparison"], int(e["year"]), str(e.get("source", ""))
                )
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise TargetsError(f"{where}: target and year must be numbers ({exc})") from None
    return out


def load_targets(path: str | Path | None = None) -> list[Target]:
    file = Path(path) if path is not None else DEFAULT_TARGETS_FILE
    try:
        return parse_targets(yaml.safe_load(file.read_text(encoding="utf-8")))
    except (OSError, yaml.YAMLError) as exc:
        raise TargetsError(f"targets file {file}: {exc}") from None


def kpi_actuals(
    centers: Sequence[CenterFigures], compliance: Sequence[ind.PairCompliance] = ()
) -> dict[str, float | None]:
    """Every KPI of :data:`KPI_INFO` for a set of centers (None where not computable)."""
    compute = ind.compute_totals(centers)
    storage_eb, advanced = ind.storage_totals(centers)
    egress, pon = ind.egress_totals(centers)
    in_use = ind.racks_in_use(centers)
    pue, _, _ = ind.group_energy(centers)
    summary = ind.compliance_summary(compliance)
    return {
        "standard_racks": in_use if in_use is not None else ind.total_standard_racks(centers),
        "storage_eb": storage_eb,
        "advanced_storage_share": advanced,
        "total_eflops": compute.total_eflops,
        "intelligent_share": compute.intelligent_share,
        "egress_gbps": egress,
        "pon10g_share": pon,
        "pue": pue if pue > 0 else None,
        "rack_utilisation": ind.rack_utilisation(centers),
        "city_latency_compliance": summary.city_share,
        "circle_latency_compliance": summary.circle_share,
    }


def yearly_actuals(
    centers: Sequence[CenterFigures],
    latency_ms: Mapping[tuple[str, str], float],
    years: Sequence[int],
) -> dict[int, dict[str, float | None]]:
    """KPIs of the yearly snapshots (centers open by the end of each year) of a static network."""
    out = {}
    for y in years:
        snap = snapshot_year(centers, y)
        out[y] = kpi_actuals(snap, ind.latency_compliance(snap, latency_ms))
    return out


def linear_forecast(years: Sequence[int], values: Sequence[float | None], at_year: int) -> float | None:
    """Least-squares line through the known (year, value) points, evaluated at ``at_year``; None with
    fewer than two distinct years."""
    pts = [(y, v) for y, v in zip(years, values, strict=True) if v is not None]
    if len({y for y, _ in pts}) < 2:
        return None
    x = np.array([p[0] for p in pts], dtype=np.float64)
    y = np.array([p[1] for p in pts], dtype=np.float64)
    slope, intercept = np.polyfit(x, y, 1)
    return float(slope * at_year + intercept)


@dataclass(frozen=True)
class TargetStatus:
    """One target compared with the actual of ``actual_year`` and the trend forecast for its year."""

    target: Target
    actual: float | None
    actual_year: int
    forecast: float | None

    @property
    def met(self) -> bool | None:
        return self.target.met_by(self.actual)

    @property
    def forecast_met(self) -> bool | None:
        return self.target.met_by(self.forecast)

    def public(self) -> dict[str, object]:
        name_zh, unit = KPI_INFO[self.target.kpi]
        return {
            "kpi": self.target.kpi,
            "name_zh": name_zh,
            "unit": unit,
            "target": self.target.target,
            "comparison": self.target.comparison,
            "year": self.target.year,
            "actual": None if self.actual is None else round(self.actual, 6),
            "actual_year": self.actual_year,
            "met": self.met,
            "forecast": None if self.forecast is None else round(self.forecast, 6),
            "forecast_met": self.forecast_met,
            "source": self.target.source,
        }


#: Years of actuals the trend forecast fits (the most recent ones).
FORECAST_WINDOW_YEARS = 5


def target_status(
    targets: Sequence[Target],
    yearly_actuals: Mapping[int, Mapping[str, float | None]],
    year: int,
    window: int = FORECAST_WINDOW_YEARS,
) -> list[TargetStatus]:
    """Compare each target with the actual of ``year``; forecast from the actuals of the last ``window``
    years up to ``year`` (a recent trend, not the whole history)."""
    if year not in yearly_actuals:
        raise TargetsError(f"year: no actuals for {year}")
    years = sorted(y for y in yearly_actuals if year - window < y <= year)
    out = []
    for t in targets:
        series = [yearly_actuals[y].get(t.kpi) for y in years]
        forecast = linear_forecast(years, series, t.year)
        if forecast is not None and KPI_INFO[t.kpi][1] == "share":
            forecast = min(max(forecast, 0.0), 1.0)  # a share stays in [0, 1]
        out.append(TargetStatus(t, yearly_actuals[year].get(t.kpi), year, forecast))
    return out
