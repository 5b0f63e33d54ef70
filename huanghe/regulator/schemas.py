"""What the observatory API answers (``/api/v1/observatory/...``): the public schemas of the regulator's views.

Field for field (and in the same order) what :mod:`huanghe.regulator.service` computes. Every computed number
may be ``null``: the views turn NaN and ±inf into null. :data:`Number` keeps an integer an integer in the
JSON (figures read from the network or the plan may be either).
"""

from __future__ import annotations

from pydantic import BaseModel

#: A figure that may be an integer or a real (kept as given, never converted).
Number = int | float


# --- 综合算力指数: the index and its sensitivity ------------------------------------------------------------
class IndexRowPublic(BaseModel):
    """One entity's index in one year: score 0-100, rank, dimension scores and raw indicator values."""

    entity: str
    name_zh: str
    name_en: str
    level: str
    year: int
    score: float | None
    rank: int
    dimensions: dict[str, float | None]
    indicators: dict[str, Number | None]


class IndicatorSource(BaseModel):
    """Where an indicator's values come from in the year: ``declared`` (the topology), ``measured`` (the
    platform's records; NaN → neutral where none) or ``mixed`` (measured where measured, declared elsewhere),
    and how many of the year's open centers had a measured input."""

    source: str
    centers_measured: int | None
    centers: int


class YearOnYearPublic(BaseModel):
    """One entity in ``year`` versus ``base_year`` (one panel normalisation); deltas = year − base year."""

    entity: str
    name_zh: str
    name_en: str
    year: int
    base_year: int
    score: float | None
    base_score: float | None
    delta: float | None
    rank: int
    base_rank: int | None
    rank_change: int | None
    dimensions: dict[str, float | None]
    dimension_deltas: dict[str, float | None]


class IndexView(BaseModel):
    """``GET /observatory/index``: the rows of one year, best rank first (method version 2.0), the dimension
    weights, each indicator's source, the years with measured inputs and, with ``compare``, year on year."""

    year: int
    level: str
    weights: str
    norm: str
    method_version: str
    illustrative: bool
    rows: list[IndexRowPublic]
    dimension_weights: dict[str, float] = {}
    indicator_sources: dict[str, IndicatorSource] = {}
    measured_years: list[int] = []
    simulated: bool = False
    compare_year: int | None = None
    comparison: list[YearOnYearPublic] | None = None


class RankRangePublic(BaseModel):
    """How an entity's rank moves under weight perturbations."""

    entity: str
    base_rank: int
    min_rank: int
    max_rank: int
    median_rank: Number | None


class SensitivityStudy(BaseModel):
    """One perturbation study (one-at-a-time or Monte-Carlo) with Kendall's τ to the base ranking."""

    method: str
    year: int
    samples: int
    kendall_tau_mean: float | None
    kendall_tau_min: float | None
    ranks: list[RankRangePublic]


class SensitivityView(BaseModel):
    """``GET /observatory/index/sensitivity``."""

    level: str
    studies: list[SensitivityStudy]


# --- 目标对照: targets ---------------------------------------------------------------------------------------
class TargetStatus(BaseModel):
    """A plan target versus the actual value and a linear forecast for the target year."""

    kpi: str
    name_zh: str
    unit: str
    target: Number
    comparison: str
    year: int
    actual: Number | None
    actual_year: int | None
    met: bool | None
    forecast: Number | None
    forecast_met: bool | None
    source: str


# --- 绿色低碳: green lists ------------------------------------------------------------------------------------
class GreenRulesPublic(BaseModel):
    """The thresholds the lists were made with (assumptions; the authority's rules replace them)."""

    pue_limit: Number
    small_racks_below: Number
    scattered_km_above: Number
    old_opened_before: int
    min_other_criteria: int
    assumed_utilisation: Number
    utilisation_label: str


class PueAboveLimit(BaseModel):
    center: str
    name_zh: str
    pue: Number | None
    city: str


class SmallScatteredOld(BaseModel):
    center: str
    name_zh: str
    standard_racks: Number | None
    nearest_km: Number | None
    opened_year: int | None
    pue: Number | None
    reasons: list[str]


class RenewableRank(BaseModel):
    rank: int
    center: str
    name_zh: str
    renewable_share: Number | None
    pue: Number | None


class CenterCarbonPublic(BaseModel):
    """A center's yearly energy and carbon at its (measured or assumed) utilisation."""

    center: str
    name_zh: str
    utilisation: Number | None
    utilisation_assumed: bool
    it_mwh: Number | None
    facility_mwh: Number | None
    co2_t: Number | None
    cue_kg_per_kwh: Number | None
    pflops_hours: Number | None
    pflops_hours_per_kg: Number | None
    kg_per_pflops_hour: Number | None


class TelemetryNote(BaseModel):
    """Whether measured telemetry replaced assumptions, over which window, and whether any is simulated."""

    used: bool
    simulated: bool
    window_days: Number
    centers_with_utilisation: int


class GreenListView(BaseModel):
    """``GET /observatory/green-list``: PUE upgrade list, small/scattered/old centers, renewable ranking,
    carbon per center."""

    rules: GreenRulesPublic
    pue_above_limit: list[PueAboveLimit]
    small_scattered_old: list[SmallScatteredOld]
    renewable_ranking: list[RenewableRank]
    carbon: list[CenterCarbonPublic]
    telemetry: TelemetryNote


# --- 存储能力成熟度: maturity --------------------------------------------------------------------------------
class MaturityPublic(BaseModel):
    """A center's storage maturity: overall level L1-L5 (the lowest attribute level) and the metrics."""

    center: str
    name_zh: str
    overall: int
    overall_name: str
    levels: dict[str, int]
    metrics: dict[str, Number | None]


# --- 运载力评估: network capacity ----------------------------------------------------------------------------
class CapacitySummary(BaseModel):
    city_pairs: int
    city_compliant: int
    circle_pairs: int
    circle_compliant: int
    cross_pairs: int
    share_compliant: Number | None
    city_share: Number | None
    circle_share: Number | None


class CenterPair(BaseModel):
    """The one-way latency of a center pair against the limit of its scope (city, circle, cross)."""

    a: str
    b: str
    city_a: str
    city_b: str
    region_a: str
    region_b: str
    scope: str
    latency_ms: Number | None
    measured: bool
    limit_ms: Number | None
    compliant: bool | None


class NetworkCapacityView(BaseModel):
    """``GET /observatory/network-capacity``: compliance summary and the pairs (only failing ones on request)."""

    summary: CapacitySummary
    pairs: list[CenterPair]


# --- indicators -------------------------------------------------------------------------------------------
class IndicatorRow(BaseModel):
    """Summary indicators of one province / circle / city / center."""

    id: str
    name_zh: str
    name_en: str
    centers: int
    standard_racks: Number | None
    racks_in_use: Number | None
    total_eflops: Number | None
    intelligent_eflops: Number | None
    intelligent_share: Number | None
    storage_eb: Number | None
    advanced_storage_share: Number | None
    egress_gbps: Number | None
    pon10g_share: Number | None
    pue: Number | None
    ref: Number | None
    cue_kg_per_kwh: Number | None
    wue_l_per_kwh: Number | None
    grid_ef_kg_per_kwh: Number | None
    kg_co2_per_pflops_hour: Number | None
    pflops_hours_per_kg_co2: Number | None
    utilisation: Number | None
    utilisation_source: str | None
    pue_measured: Number | None


class IndicatorsView(BaseModel):
    """``GET /observatory/indicators``."""

    year: int
    level: str
    illustrative: bool
    telemetry: TelemetryNote
    rows: list[IndicatorRow]
