"""The comprehensive compute index (综合算力指数), method version 1.0 — see docs/index-method.md.

Five dimensions — compute (算力), storage (存力), network (运力), environment (环境), application (应用) —
each made of indicators computed per entity (a city, an economic circle or the whole province) and per year.
Steps:

1. **Indicators** (:data:`INDICATORS`) per (entity, year) row, from plain :class:`CenterFigures`, the pair
   latencies of that year and the centers' measured inputs of that year (:class:`CenterMeasures`, from the
   platform's records; NaN where nothing was measured) (:func:`indicator_table`).
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
6. **Year on year**: :func:`compare_years` sets an entity's year Y against year Y − k of the same panel.

Modules: :mod:`~huanghe.observatory.index_indicators` (1), :mod:`~huanghe.observatory.index_weights` (2–3),
:mod:`~huanghe.observatory.index_scores` (4) and :mod:`~huanghe.observatory.index_sensitivity` (5); this module
is their one public face (callers write ``from huanghe.observatory import index as ix``).
"""

from __future__ import annotations

from huanghe.observatory.index_compare import YearOnYear, compare_years
from huanghe.observatory.index_indicators import (
    DIMENSION_NAMES_ZH,
    DIMENSIONS,
    INDEX_METHOD_VERSION,
    INDICATOR_KEYS,
    INDICATORS,
    LEVELS,
    Entity,
    IndexInputError,
    Indicator,
    IndicatorTable,
    Level,
    Matrix,
    Norm,
    Scheme,
    YearInputs,
    entities_of,
    entity_values,
    indicator_table,
    member_key,
    yearly_inputs,
)
from huanghe.observatory.index_measures import MEASURED_KEYS, MIXED_KEYS, CenterMeasures, coverage
from huanghe.observatory.index_scores import (
    IndexResult,
    IndexRow,
    compute_index,
    dimension_scores,
    ranks_of,
    score_table,
    total_scores,
)
from huanghe.observatory.index_sensitivity import RankRange, Sensitivity, monte_carlo, one_at_a_time
from huanghe.observatory.index_weights import (
    AHP_RANDOM_INDEX,
    DEFAULT_EXPERT_FILE,
    Weights,
    ahp_weights,
    entropy_weights,
    equal_weights,
    expert_weights,
    normalise,
    weights_for,
)

__all__ = [
    "AHP_RANDOM_INDEX",
    "DEFAULT_EXPERT_FILE",
    "DIMENSIONS",
    "DIMENSION_NAMES_ZH",
    "INDEX_METHOD_VERSION",
    "INDICATORS",
    "INDICATOR_KEYS",
    "LEVELS",
    "MEASURED_KEYS",
    "MIXED_KEYS",
    "CenterMeasures",
    "Entity",
    "IndexInputError",
    "IndexResult",
    "IndexRow",
    "Indicator",
    "IndicatorTable",
    "Level",
    "Matrix",
    "Norm",
    "RankRange",
    "Scheme",
    "Sensitivity",
    "Weights",
    "YearInputs",
    "YearOnYear",
    "ahp_weights",
    "compare_years",
    "compute_index",
    "coverage",
    "dimension_scores",
    "entities_of",
    "entity_values",
    "entropy_weights",
    "equal_weights",
    "expert_weights",
    "indicator_table",
    "member_key",
    "monte_carlo",
    "normalise",
    "one_at_a_time",
    "ranks_of",
    "score_table",
    "total_scores",
    "weights_for",
    "yearly_inputs",
]
