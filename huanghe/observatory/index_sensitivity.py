"""Sensitivity of the comprehensive compute index's ranks to the dimension weights (step 5 of
:mod:`huanghe.observatory.index`): one-at-a-time ±δ and seeded Monte-Carlo Dirichlet draws, with rank ranges and
Kendall's τ against the base ranking."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from huanghe.observatory.index_indicators import DIMENSIONS, IndexInputError, Matrix
from huanghe.observatory.index_scores import IndexResult, ranks_of, total_scores


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
