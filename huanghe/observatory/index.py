"""The comprehensive compute index (综合算力指数), method version 1.0 — see docs/index-method.md.

Four dimensions — compute (算力), storage (存力), network (运力), environment (环境) — each made of indicators
computed per entity (a city, an economic circle or the whole province) and per year. Steps:

1. **Indicators** (:data:`INDICATORS`) per (entity, year) row, from plain :class:`CenterFigures` and the
   pair latencies of that year (:func:`indicator_table`).
2. **Normalise** each indicator over all rows of the table (a panel over the years, so scores of different
   years are comparable): ``minmax`` → [0, 1], ``zscore`` → (x − mean) / std. Lower-is-better indicators
   (PUE, latency, emission factor, carbon per PFLOPS-hour) are inverted. A missing value (NaN) or a
   constant column becomes neutral (0.5 for minmax, 0 for zscore).
3. **Weigh**: indicator weight = dimension weight × within-dimension weight; schemes ``equal``, ``entropy``
   (entropy-weight method on the min–max matrix) and ``expert`` (AHP: principal eigenvector of a pairwise
   comparison matrix in ``data/index_weights.yaml``).
4. **Score** on 0–100: minmax: ``100 × Σ w·x``; zscore: ``50 + 10 × Σ w·z``. Dimension scores use the
   within-dimension weights. Ranks (1 = best, ties share the best rank) are within a year and level.
5. **Sensitivity** of the ranks to the dimension weights: one-at-a-time ±δ and Monte-Carlo Dirichlet draws
   around the base weights, reporting rank ranges and Kendall's τ against the base ranking.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Literal

import numpy as np
import numpy.typing as npt
import yaml

from huanghe.domain.network import Topology
from huanghe.observatory import indicators as ind
from huanghe.observatory.figures import CenterFigures, center_figures, network_latencies, snapshot_year

INDEX_METHOD_VERSION = "1.0"
DIMENSIONS: tuple[str, ...] = ("compute", "storage", "network", "environment")
DIMENSION_NAMES_ZH = {"compute": "算力", "storage": "存力", "network": "运力", "environment": "环境"}
Level = Literal["city", "circle", "province"]
LEVELS: tuple[str, ...] = ("city", "circle", "province")
Norm = Literal["minmax", "zscore"]
Scheme = Literal["equal", "entropy", "expert"]
DEFAULT_EXPERT_FILE = Path(__file__).parent / "data" / "index_weights.yaml"
#: Random consistency index of AHP (Saaty) by matrix size.
AHP_RANDOM_INDEX = {1: 0.0, 2: 0.0, 3: 0.58, 4: 0.90, 5: 1.12, 6: 1.24, 7: 1.32, 8: 1.41, 9: 1.45}
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


INDICATORS: tuple[Indicator, ...] = (
    Indicator("total_eflops", "compute", "算力规模", "compute capacity", "EFLOPS FP32-eq", True),
    Indicator("intelligent_share", "compute", "智能算力占比", "intelligent share", "share", True),
    Indicator("standard_racks", "compute", "标准机架数", "standard racks", "racks", True),
    Indicator("storage_eb", "storage", "存储容量", "storage capacity", "EB", True),
    Indicator("advanced_share", "storage", "先进存储占比", "advanced storage share", "share", True),
    Indicator("archival_share", "storage", "归档存储占比", "archival (tape/optical) share", "share", True),
    Indicator("egress_gbps", "network", "出口带宽", "egress bandwidth", "Gbps", True),
    Indicator("pon10g_share", "network", "10G-PON 端口占比", "10G-PON port share", "share", True),
    Indicator("mean_latency_ms", "network", "平均时延", "mean one-way latency", "ms", False),
    Indicator("latency_compliance", "network", "时延圈达标率", "latency-circle compliance", "share", True),
    Indicator("pue", "environment", "PUE", "PUE", "ratio", False),
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
)
INDICATOR_KEYS = tuple(i.key for i in INDICATORS)


# ---------------------------------------------------------------- inputs


@dataclass(frozen=True)
class YearInputs:
    """The network in one year: its centers and the one-way latency of every pair (ms, keyed by
    ``indicators.pair_key``) with the set of measured pairs."""

    centers: Sequence[CenterFigures]
    latency_ms: Mapping[tuple[str, str], float]
    measured: frozenset[tuple[str, str]] = frozenset()


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


def yearly_inputs(topology: Topology, years: Sequence[int]) -> dict[int, YearInputs]:
    """Yearly snapshots of a static topology (centers open by the end of each year)."""
    figs = center_figures(topology)
    latency, measured = network_latencies(topology)
    return {y: YearInputs(snapshot_year(figs, y), latency, frozenset(measured)) for y in years}


# ---------------------------------------------------------------- indicator values


def _nan_if(cond: bool, value: float) -> float:
    return math.nan if cond else value


def entity_values(
    members: Sequence[CenterFigures],
    year: YearInputs,
    pairs: Sequence[ind.PairCompliance] | None = None,
) -> dict[str, float]:
    """The indicator values of one entity (its member centers) in one year; NaN where undefined.

    ``pairs`` are the year's latency-compliance rows (computed when not given)."""
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


# ---------------------------------------------------------------- normalisation and weights


def normalise(values: Matrix, higher_is_better: Sequence[bool], norm: str) -> Matrix:
    """Column-wise normalisation with lower-is-better columns inverted; NaN and constant → neutral."""
    x = np.asarray(values, dtype=np.float64)
    sign = np.where(np.asarray(higher_is_better, dtype=bool), 1.0, -1.0)
    with np.errstate(invalid="ignore", divide="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN columns become neutral below
        if norm == "minmax":
            lo, hi = np.nanmin(x, axis=0), np.nanmax(x, axis=0)
            span = hi - lo
            up = (x - lo) / span
            out = np.where(sign > 0, up, 1.0 - up)
            out = np.where(np.isfinite(out), out, 0.5)
        elif norm == "zscore":
            mean, std = np.nanmean(x, axis=0), np.nanstd(x, axis=0)
            out = sign * (x - mean) / std
            out = np.where(np.isfinite(out), out, 0.0)
        else:
            raise IndexInputError(f"norm: unknown normalisation {norm!r} (expected minmax or zscore)")
    return np.asarray(out, dtype=np.float64)


@dataclass(frozen=True)
class Weights:
    """Dimension weights (sum 1) and within-dimension indicator weights (sum 1 per dimension)."""

    scheme: str
    dimensions: dict[str, float]
    indicators: dict[str, float]
    consistency_ratio: float | None = None
    source: str = ""

    def vector(self) -> Matrix:
        """Overall indicator weights in :data:`INDICATORS` order (sum 1)."""
        return np.array([self.dimensions[i.dimension] * self.indicators[i.key] for i in INDICATORS])

    def with_dimensions(self, dims: Mapping[str, float]) -> Weights:
        total = sum(dims.values())
        return Weights(
            self.scheme, {d: dims[d] / total for d in DIMENSIONS}, self.indicators, None, self.source
        )


def _within(raw: Mapping[str, float]) -> dict[str, float]:
    """Normalise indicator weights inside each dimension (equal where a dimension sums to 0)."""
    out: dict[str, float] = {}
    for d in DIMENSIONS:
        keys = [i.key for i in INDICATORS if i.dimension == d]
        total = sum(raw.get(k, 0.0) for k in keys)
        for k in keys:
            out[k] = raw.get(k, 0.0) / total if total > 0 else 1.0 / len(keys)
    return out


def equal_weights() -> Weights:
    """Each dimension 1/4, each indicator an equal share of its dimension."""
    return Weights("equal", dict.fromkeys(DIMENSIONS, 1.0 / len(DIMENSIONS)), _within({}))


def entropy_weights(values: Matrix) -> Weights:
    """Entropy-weight method on the min–max normalised matrix (rows = entity-years).

    p_ij = x_ij / Σ_i x_ij, e_j = −Σ_i p_ij ln p_ij / ln n, d_j = 1 − e_j, w_j = d_j / Σ d. A dimension's
    weight is the sum of its indicators'. With fewer than 2 rows or no dispersion it falls back to equal.
    """
    x = normalise(values, [i.higher_is_better for i in INDICATORS], "minmax")
    n = x.shape[0]
    if n < 2:
        return Weights(
            "entropy", equal_weights().dimensions, equal_weights().indicators, source="equal fallback"
        )
    col = x.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        p = np.where(col > 0, x / col, 0.0)
        plogp = np.where(p > 0, p * np.log(p), 0.0)
    e = np.where(col > 0, -plogp.sum(axis=0) / math.log(n), 1.0)
    d = np.clip(1.0 - e, 0.0, None)
    if d.sum() <= 0:
        return Weights(
            "entropy", equal_weights().dimensions, equal_weights().indicators, source="equal fallback"
        )
    w = d / d.sum()
    dims = {
        dim: float(sum(w[j] for j, i in enumerate(INDICATORS) if i.dimension == dim)) for dim in DIMENSIONS
    }
    if any(v <= 0 for v in dims.values()):
        # a dimension without dispersion keeps a tiny weight so its score stays defined
        dims = {k: max(v, 1e-9) for k, v in dims.items()}
    total = sum(dims.values())
    dims = {k: v / total for k, v in dims.items()}
    return Weights("entropy", dims, _within({i.key: float(w[j]) for j, i in enumerate(INDICATORS)}))


def _number(value: object, where: str) -> float:
    try:
        return float(Fraction(str(value)))
    except (ValueError, ZeroDivisionError):
        raise IndexInputError(f"{where}: not a number or fraction: {value!r}") from None


def ahp_weights(pairwise: Matrix) -> tuple[Matrix, float]:
    """AHP: principal eigenvector of a positive reciprocal matrix (normalised to sum 1) and the consistency
    ratio CR = ((λmax − n) / (n − 1)) / RI(n) (0 for n ≤ 2)."""
    a = np.asarray(pairwise, dtype=np.float64)
    n = a.shape[0]
    eigvals, eigvecs = np.linalg.eig(a)
    k = int(np.argmax(eigvals.real))
    vec = np.abs(eigvecs[:, k].real)
    weights = vec / vec.sum()
    ri = AHP_RANDOM_INDEX.get(n, 1.49)
    cr = ((float(eigvals[k].real) - n) / (n - 1)) / ri if n > 2 and ri > 0 else 0.0
    return weights, max(cr, 0.0)


def expert_weights(path: str | Path | None = None) -> Weights:
    """Expert weights from a YAML file (default ``data/index_weights.yaml``): AHP over the dimensions,
    fixed indicator weights within. Raises :class:`IndexInputError` naming the bad field."""
    file = Path(path) if path is not None else DEFAULT_EXPERT_FILE
    try:
        doc = yaml.safe_load(file.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise IndexInputError(f"weights file {file}: {exc}") from None
    if not isinstance(doc, dict):
        raise IndexInputError(f"weights file {file}: must be a mapping")
    dims = doc.get("dimensions")
    if list(dims or []) != list(DIMENSIONS):
        raise IndexInputError(f"dimensions: must be {list(DIMENSIONS)}")
    rows = doc.get("pairwise")
    if (
        not isinstance(rows, list)
        or len(rows) != len(DIMENSIONS)
        or any(len(r) != len(DIMENSIONS) for r in rows)
    ):
        raise IndexInputError(f"pairwise: must be a {len(DIMENSIONS)}×{len(DIMENSIONS)} matrix")
    a = np.array(
        [[_number(v, f"pairwise[{i}][{j}]") for j, v in enumerate(r)] for i, r in enumerate(rows)],
        dtype=np.float64,
    )
    if np.any(a <= 0) or not np.allclose(a * a.T, 1.0, rtol=1e-3):
        raise IndexInputError("pairwise: must be positive and reciprocal (a[j][i] = 1 / a[i][j])")
    w, cr = ahp_weights(a)
    if cr >= 0.1:
        raise IndexInputError(f"pairwise: consistency ratio {cr:.3f} >= 0.10, revise the judgements")
    raw: dict[str, float] = {}
    for dim, table in (doc.get("indicators") or {}).items():
        for key, value in (table or {}).items():
            if key not in INDICATOR_KEYS:
                raise IndexInputError(f"indicators.{dim}.{key}: unknown indicator")
            raw[key] = _number(value, f"indicators.{dim}.{key}")
    return Weights(
        "expert",
        {d: float(w[k]) for k, d in enumerate(DIMENSIONS)},
        _within(raw),
        cr,
        str(doc.get("source", "")),
    )


def weights_for(scheme: str, values: Matrix, expert_file: str | Path | None = None) -> Weights:
    """The weights of a scheme name: ``equal``, ``entropy`` (from ``values``) or ``expert`` (from a file)."""
    if scheme == "equal":
        return equal_weights()
    if scheme == "entropy":
        return entropy_weights(values)
    if scheme == "expert":
        return expert_weights(expert_file)
    raise IndexInputError(f"weights: unknown scheme {scheme!r} (expected equal, entropy or expert)")


# ---------------------------------------------------------------- scores and ranks


def dimension_scores(normalised: Matrix, weights: Weights, norm: str) -> Matrix:
    """Per-row score of each dimension (columns in :data:`DIMENSIONS` order), 0–100 scale."""
    out = np.zeros((normalised.shape[0], len(DIMENSIONS)))
    for k, dim in enumerate(DIMENSIONS):
        cols = [j for j, i in enumerate(INDICATORS) if i.dimension == dim]
        v = np.array([weights.indicators[INDICATORS[j].key] for j in cols])
        out[:, k] = normalised[:, cols] @ v
    return 100.0 * out if norm == "minmax" else 50.0 + 10.0 * out


def total_scores(dim_scores: Matrix, dim_weights: Matrix) -> Matrix:
    """Scores = dimension scores @ dimension weights; ``dim_weights`` may be (4,) or (4, samples)."""
    return np.asarray(dim_scores @ dim_weights, dtype=np.float64)


def ranks_of(scores: Matrix) -> Matrix:
    """Competition ranks along axis 0: 1 + the number of strictly higher scores (ties share the best rank;
    scores are compared after rounding to 9 decimals)."""
    s = np.round(np.asarray(scores, dtype=np.float64), 9)
    return np.asarray((s[None, ...] > s[:, None, ...]).sum(axis=1) + 1, dtype=np.float64)


@dataclass(frozen=True)
class IndexRow:
    """One entity's index in one year."""

    entity: str
    name_zh: str
    name_en: str
    level: str
    year: int
    score: float
    rank: int
    dimensions: dict[str, float]
    indicators: dict[str, float]

    def public(self) -> dict[str, object]:
        """The JSON shape of ``huanghe index --json``."""
        return {
            "entity": self.entity,
            "name_zh": self.name_zh,
            "name_en": self.name_en,
            "level": self.level,
            "year": self.year,
            "score": round(self.score, 4),
            "rank": self.rank,
            "dimensions": {k: round(v, 4) for k, v in self.dimensions.items()},
            "indicators": {k: (None if math.isnan(v) else v) for k, v in self.indicators.items()},
        }


@dataclass(frozen=True)
class IndexResult:
    """Index rows for every (entity, year) of a table, with the method used."""

    rows: list[IndexRow]
    weights: Weights
    norm: str
    method_version: str = INDEX_METHOD_VERSION
    dim_scores: Matrix = field(default_factory=lambda: np.zeros((0, 4)))

    def year(self, year: int) -> list[IndexRow]:
        """The rows of one year, best rank first."""
        return sorted((r for r in self.rows if r.year == year), key=lambda r: (r.rank, r.entity))


def score_table(table: IndicatorTable, weights: Weights, norm: str) -> IndexResult:
    """Normalise, weigh, score and rank (ranks within each year)."""
    x = normalise(table.values, [i.higher_is_better for i in INDICATORS], norm)
    dims = dimension_scores(x, weights, norm)
    dim_w = np.array([weights.dimensions[d] for d in DIMENSIONS])
    scores = total_scores(dims, dim_w)
    years = np.array(table.years)
    ranks = np.zeros(len(scores))
    for y in set(table.years):
        mask = years == y
        ranks[mask] = ranks_of(scores[mask])
    rows = [
        IndexRow(
            entity=e.id,
            name_zh=e.name_zh,
            name_en=e.name_en,
            level=e.level,
            year=table.years[k],
            score=float(scores[k]),
            rank=int(ranks[k]),
            dimensions={d: float(dims[k, j]) for j, d in enumerate(DIMENSIONS)},
            indicators={key: float(table.values[k, j]) for j, key in enumerate(INDICATOR_KEYS)},
        )
        for k, e in enumerate(table.entities)
    ]
    return IndexResult(rows, weights, norm, INDEX_METHOD_VERSION, dims)


def compute_index(
    inputs: Mapping[int, YearInputs],
    entities: Sequence[Entity],
    scheme: str = "equal",
    norm: str = "minmax",
    expert_file: str | Path | None = None,
) -> IndexResult:
    """The index of ``entities`` over the years of ``inputs`` (one panel normalisation)."""
    if norm not in ("minmax", "zscore"):
        raise IndexInputError(f"norm: unknown normalisation {norm!r} (expected minmax or zscore)")
    table = indicator_table(inputs, entities)
    return score_table(table, weights_for(scheme, table.values, expert_file), norm)


# ---------------------------------------------------------------- sensitivity


@dataclass(frozen=True)
class RankRange:
    """How an entity's rank moves under weight perturbations."""

    entity: str
    base_rank: int
    min_rank: int
    max_rank: int
    median_rank: float


@dataclass(frozen=True)
class Sensitivity:
    """Rank ranges and Kendall's τ between the base ranking and each perturbed ranking."""

    year: int
    method: str
    samples: int
    ranges: list[RankRange]
    tau_mean: float
    tau_min: float


def _year_block(result: IndexResult, year: int) -> tuple[list[str], Matrix, Matrix]:
    idx = [k for k, r in enumerate(result.rows) if r.year == year]
    if not idx:
        raise IndexInputError(f"year: no index rows for {year}")
    ents = [result.rows[k].entity for k in idx]
    base = np.array([result.rows[k].rank for k in idx], dtype=np.float64)
    return ents, result.dim_scores[idx], base


def _summarise(ents: list[str], base: Matrix, ranks: Matrix, year: int, method: str) -> Sensitivity:
    from scipy.stats import kendalltau  # scipy.stats is slow to import: only for sensitivity runs

    taus = []
    for s in range(ranks.shape[1]):
        tau = kendalltau(base, ranks[:, s]).statistic if len(ents) > 1 else 1.0
        taus.append(1.0 if math.isnan(tau) else float(tau))
    ranges = [
        RankRange(e, int(base[k]), int(ranks[k].min()), int(ranks[k].max()), float(np.median(ranks[k])))
        for k, e in enumerate(ents)
    ]
    ranges.sort(key=lambda r: (r.base_rank, r.entity))
    return Sensitivity(year, method, ranks.shape[1], ranges, float(np.mean(taus)), float(np.min(taus)))


def one_at_a_time(result: IndexResult, year: int, delta: float = 0.2) -> Sensitivity:
    """Each dimension weight ×(1 ± delta) in turn, the others rescaled so weights sum to 1."""
    ents, dims, base = _year_block(result, year)
    base_w = np.array([result.weights.dimensions[d] for d in DIMENSIONS])
    cols = []
    for k in range(len(DIMENSIONS)):
        for sign in (1.0, -1.0):
            w = base_w.copy()
            w[k] *= 1.0 + sign * delta
            cols.append(w / w.sum())
    ranks = ranks_of(total_scores(dims, np.array(cols).T))
    return _summarise(ents, base, ranks, year, f"one-at-a-time ±{delta:.0%}")


def monte_carlo(
    result: IndexResult, year: int, samples: int = 500, concentration: float = 50.0, seed: int = 0
) -> Sensitivity:
    """Dimension weights drawn from Dirichlet(concentration × base weights) with a seeded generator."""
    if samples < 1 or concentration <= 0:
        raise IndexInputError("samples must be >= 1 and concentration > 0")
    ents, dims, base = _year_block(result, year)
    base_w = np.array([max(result.weights.dimensions[d], 1e-6) for d in DIMENSIONS])
    draws = np.random.default_rng(seed).dirichlet(concentration * base_w, size=samples)
    ranks = ranks_of(total_scores(dims, draws.T))
    return _summarise(ents, base, ranks, year, f"Monte-Carlo Dirichlet(α={concentration:g}·w), seed {seed}")
