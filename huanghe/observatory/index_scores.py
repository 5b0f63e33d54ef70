"""Scores and ranks of the comprehensive compute index (step 4 of :mod:`huanghe.observatory.index`): dimension
and total scores on 0–100, competition ranks within a year, and :func:`compute_index`, the whole method."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from huanghe.observatory.index_indicators import (
    DIMENSIONS,
    INDEX_METHOD_VERSION,
    INDICATOR_KEYS,
    INDICATORS,
    Entity,
    IndexInputError,
    IndicatorTable,
    Matrix,
    YearInputs,
    indicator_table,
)
from huanghe.observatory.index_weights import Weights, normalise, weights_for


def dimension_scores(normalised: Matrix, weights: Weights, norm: str) -> Matrix:
    """Per-row score of each dimension (columns in :data:`DIMENSIONS` order), 0–100 scale."""
    out = np.zeros((normalised.shape[0], len(DIMENSIONS)))
    for k, dim in enumerate(DIMENSIONS):
        cols = [j for j, i in enumerate(INDICATORS) if i.dimension == dim]
        v = np.array([weights.indicators[INDICATORS[j].key] for j in cols])
        out[:, k] = normalised[:, cols] @ v
    return 100.0 * out if norm == "minmax" else 50.0 + 10.0 * out


def total_scores(dim_scores: Matrix, dim_weights: Matrix) -> Matrix:
    """Scores = dimension scores @ dimension weights; ``dim_weights`` may be (D,) or (D, samples), D = the number
    of dimensions."""
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
    dim_scores: Matrix = field(default_factory=lambda: np.zeros((0, len(DIMENSIONS))))

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
