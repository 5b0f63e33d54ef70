"""The indicators of the comprehensive compute index (steps 1 of :mod:`huanghe.observatory.index`): the method's
constants, the :data:`INDICATORS` of the five dimensions, the entities (cities, economic circles, the
province) and the table of raw values per (entity, year).

Declared indicators come from the topology (:class:`CenterFigures`); measured ones from the platform's records
(:class:`~huanghe.observatory.index_measures.CenterMeasures`, passed in per year by the caller), NaN where
nothing was measured; the PUE is measured where measured and declared elsewhere."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import numpy.typing as npt

from huanghe.domain.network import Topology
from huanghe.observatory import indicators as ind
from huanghe.observatory.figures import (
    CenterFigures,
    center_figures,
    network_latencies,
    snapshot_year,
    with_overrides,
)
from huanghe.observatory.index_measures import CenterMeasures, effective_pue, measured_values

#: 2.0: measured inputs (utilisation, economic benefit, storage use, off-site backup, transfers, measured PUE)
#: and the application dimension (job service levels, tenants and SMEs served).
INDEX_METHOD_VERSION = "2.0"
DIMENSIONS: tuple[str, ...] = ("compute", "storage", "network", "environment", "application")
DIMENSION_NAMES_ZH = {
    "compute": "算力",
    "storage": "存力",
    "network": "运力",
    "environment": "环境",
    "application": "应用",
}
Level = Literal["city", "circle", "province"]
LEVELS: tuple[str, ...] = ("city", "circle", "province")
Norm = Literal["minmax", "zscore"]
Scheme = Literal["equal", "entropy", "expert"]
Matrix = npt.NDArray[np.float64]


class IndexInputError(ValueError):
    """Bad index input (unknown level, scheme, norm, indicator, or an inconsistent weights file)."""


@dataclass(frozen=True)
class Indicator:
    """One indicator of the index."""

    key: str
    dimension: str
    name_zh: str
    name_en: str
    unit: str
    higher_is_better: bool
    #: ``declared`` (topology), ``measured`` (platform records) or ``mixed`` (measured where measured)
    source: str = "declared"


INDICATORS: tuple[Indicator, ...] = (
    Indicator("total_eflops", "compute", "算力规模", "compute capacity", "EFLOPS FP32-eq", True),
    Indicator("intelligent_share", "compute", "智能算力占比", "intelligent share", "share", True),
    Indicator("standard_racks", "compute", "标准机架数", "standard racks", "racks", True),
    Indicator("utilisation", "compute", "算力利用率", "mean utilisation", "share", True, "measured"),
    Indicator(
        "billed_cny_per_pflops",
        "compute",
        "单位算力收入",
        "billed per capacity",
        "CNY/PFLOPS",
        True,
        "measured",
    ),
    Indicator("storage_eb", "storage", "存储容量", "storage capacity", "EB", True),
    Indicator("advanced_share", "storage", "先进存储占比", "advanced storage share", "share", True),
    Indicator("archival_share", "storage", "归档存储占比", "archival (tape/optical) share", "share", True),
    Indicator("storage_used_share", "storage", "存储使用率", "storage used share", "share", True, "measured"),
    Indicator(
        "offsite_backup_share", "storage", "异地备份率", "off-site backup share", "share", True, "measured"
    ),
    Indicator("egress_gbps", "network", "出口带宽", "egress bandwidth", "Gbps", True),
    Indicator("pon10g_share", "network", "10G-PON 端口占比", "10G-PON port share", "share", True),
    Indicator("mean_latency_ms", "network", "平均时延", "mean one-way latency", "ms", False),
    Indicator("latency_compliance", "network", "时延圈达标率", "latency-circle compliance", "share", True),
    Indicator("transfer_tb", "network", "跨中心传输量", "inter-center transfers", "TB", True, "measured"),
    Indicator("pue", "environment", "PUE", "PUE", "ratio", False, "mixed"),
    Indicator("renewable_share", "environment", "可再生能源利用率", "renewable share (REF)", "share", True),
    Indicator(
        "grid_ef_kg_per_kwh", "environment", "电网排放因子", "grid emission factor", "kg CO2/kWh", False
    ),
    Indicator(
        "kg_co2_per_pflops_hour",
        "environment",
        "单位算力碳排放",
        "carbon per PFLOPS-hour",
        "kg CO2/PFLOPS-h",
        False,
    ),
    Indicator("jobs_finished", "application", "完成作业数", "jobs finished", "jobs", True, "measured"),
    Indicator("job_success_rate", "application", "作业成功率", "job success rate", "share", True, "measured"),
    Indicator(
        "job_wait_share",
        "application",
        "按时启动率",
        "share started within wait target",
        "share",
        True,
        "measured",
    ),
    Indicator("tenants_served", "application", "服务用户数", "tenants served", "tenants", True, "measured"),
    Indicator("smes_served", "application", "服务中小企业数", "SMEs served", "tenants", True, "measured"),
)
INDICATOR_KEYS = tuple(i.key for i in INDICATORS)


@dataclass(frozen=True)
class YearInputs:
    """The network in one year: its centers and the one-way latency of every pair (ms, keyed by
    ``indicators.pair_key``) with the set of measured pairs, and the centers' measured inputs of the year
    (by center id; absent = nothing measured)."""

    centers: Sequence[CenterFigures]
    latency_ms: Mapping[tuple[str, str], float]
    measured: frozenset[tuple[str, str]] = frozenset()
    measures: Mapping[str, CenterMeasures] = field(default_factory=dict)


@dataclass(frozen=True)
class Entity:
    """A city, economic circle or the province."""

    id: str
    level: str
    name_zh: str
    name_en: str


def entities_of(topology: Topology, level: str) -> list[Entity]:
    """The entities of a level: every city / circle of the topology, or the province."""
    if level == "city":
        return [Entity(c.id, "city", c.name_zh, c.name_en) for c in topology.cities]
    if level == "circle":
        return [Entity(r.id, "circle", r.name_zh, r.name_en) for r in topology.regions]
    if level == "province":
        return [Entity("province", "province", "全省", "Province")]
    raise IndexInputError(f"level: unknown level {level!r} (expected one of {', '.join(LEVELS)})")


def member_key(center: CenterFigures, level: str) -> str:
    """The entity id a center belongs to at a level."""
    return {"city": center.city, "circle": center.region}.get(level, "province")


def yearly_inputs(
    topology: Topology,
    years: Sequence[int],
    measures: Mapping[int, Mapping[str, CenterMeasures]] | None = None,
) -> dict[int, YearInputs]:
    """Yearly snapshots of a static topology (centers open by the end of each year), each with the measured
    inputs of its year from ``measures`` (year → center id → measures; none when not given)."""
    figs = center_figures(topology)
    latency, measured = network_latencies(topology)
    by_year = measures or {}
    return {
        y: YearInputs(snapshot_year(figs, y), latency, frozenset(measured), dict(by_year.get(y, {})))
        for y in years
    }


def _nan_if(cond: bool, value: float) -> float:
    return math.nan if cond else value


def entity_values(
    members: Sequence[CenterFigures],
    year: YearInputs,
    pairs: Sequence[ind.PairCompliance] | None = None,
) -> dict[str, float]:
    """The indicator values of one entity (its member centers) in one year; NaN where undefined.

    ``pairs`` are the year's latency-compliance rows (computed when not given). Energy figures use each
    center's measured PUE of the year where there is one (``year.measures``)."""
    measured = measured_values(members, year.measures)
    if year.measures:
        members = [with_overrides(c, pue=effective_pue(c, year.measures)) for c in members]
    compute = ind.compute_totals(members)
    storage_eb, advanced = ind.storage_totals(members)
    archival = sum(c.archival_storage_eb for c in members)
    egress, pon = ind.egress_totals(members)
    member_ids = {c.id for c in members}
    lats = [year.latency_ms[ind.pair_key(m.id, o.id)] for m in members for o in year.centers if o.id != m.id]
    rows = [
        r
        for r in (pairs if pairs is not None else ind.latency_compliance(year.centers, year.latency_ms))
        if r.compliant is not None and (r.a in member_ids or r.b in member_ids)
    ]
    pue, ref, ef = ind.group_energy(members)
    no_it = sum(c.it_design_kw for c in members) <= 0
    kg_per_h = sum(c.it_design_kw * ind.cue(c.pue, c.grid_ef_kg_per_kwh, c.renewable_share) for c in members)
    return {
        "total_eflops": compute.total_eflops,
        "intelligent_share": compute.intelligent_share,
        "standard_racks": ind.total_standard_racks(members),
        **measured,
        "storage_eb": storage_eb,
        "advanced_share": advanced,
        "archival_share": archival / storage_eb if storage_eb > 0 else 0.0,
        "egress_gbps": egress,
        "pon10g_share": pon,
        "mean_latency_ms": _nan_if(not lats, sum(lats) / max(len(lats), 1)),
        "latency_compliance": _nan_if(not rows, sum(1 for r in rows if r.compliant) / max(len(rows), 1)),
        "pue": _nan_if(no_it, pue),
        "renewable_share": _nan_if(no_it, ref),
        "grid_ef_kg_per_kwh": _nan_if(no_it, ef),
        "kg_co2_per_pflops_hour": _nan_if(
            compute.total_eflops <= 0, kg_per_h / max(compute.total_eflops * 1000.0, 1e-300)
        ),
    }


@dataclass(frozen=True)
class IndicatorTable:
    """Raw indicator values: one row per (entity, year), one column per :data:`INDICATORS` entry."""

    entities: list[Entity]
    years: list[int]
    values: Matrix  # shape (rows, len(INDICATORS))


def indicator_table(inputs: Mapping[int, YearInputs], entities: Sequence[Entity]) -> IndicatorTable:
    """Rows for every entity in every year of ``inputs`` (sorted by year, then entity order)."""
    row_entities: list[Entity] = []
    row_years: list[int] = []
    rows: list[list[float]] = []
    for year in sorted(inputs):
        yin = inputs[year]
        pairs = ind.latency_compliance(yin.centers, yin.latency_ms, yin.measured)
        for ent in entities:
            members = [c for c in yin.centers if member_key(c, ent.level) == ent.id]
            vals = entity_values(members, yin, pairs)
            rows.append([vals[k] for k in INDICATOR_KEYS])
            row_entities.append(ent)
            row_years.append(year)
    values = np.array(rows, dtype=np.float64).reshape(len(rows), len(INDICATORS))
    return IndicatorTable(row_entities, row_years, values)
