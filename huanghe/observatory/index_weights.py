"""Normalisation and weights of the comprehensive compute index (steps 2–3 of :mod:`huanghe.observatory.index`):
``minmax`` / ``zscore`` normalisation, and the ``equal``, ``entropy`` and ``expert`` (AHP) weight schemes."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import numpy as np
import yaml

from huanghe.observatory.index_indicators import (
    DIMENSIONS,
    INDICATOR_KEYS,
    INDICATORS,
    IndexInputError,
    Matrix,
)

DEFAULT_EXPERT_FILE = Path(__file__).parent / "data" / "index_weights.yaml"
#: Random consistency index of AHP (Saaty) by matrix size.
AHP_RANDOM_INDEX = {1: 0.0, 2: 0.0, 3: 0.58, 4: 0.90, 5: 1.12, 6: 1.24, 7: 1.32, 8: 1.41, 9: 1.45}


def normalise(values: Matrix, higher_is_better: Sequence[bool], norm: str) -> Matrix:
    """Column-wise normalisation with lower-is-better columns inverted; NaN and constant → neutral.

    Rows are entities, columns indicators (any unit: each column is scaled by its own range or spread). An
    all-NaN column is filled with 0 for the nan-reductions and its statistics set back to NaN, so it raises no
    RuntimeWarning (no ``warnings.catch_warnings``: not thread-safe, and the server computes this from threads)
    and becomes neutral (0.5 minmax, 0 zscore); the other columns' values are bit-for-bit numpy's."""
    x = np.asarray(values, dtype=np.float64)
    sign = np.where(np.asarray(higher_is_better, dtype=bool), 1.0, -1.0)
    if norm not in ("minmax", "zscore"):
        raise IndexInputError(f"norm: unknown normalisation {norm!r} (expected minmax or zscore)")
    empty = np.isnan(x).all(axis=0)
    filled = np.where(empty, 0.0, x)
    with np.errstate(invalid="ignore", divide="ignore"):  # constant columns: 0/0, neutral below
        if norm == "minmax":
            lo = np.where(empty, np.nan, np.nanmin(filled, axis=0))
            hi = np.where(empty, np.nan, np.nanmax(filled, axis=0))
            up = (x - lo) / (hi - lo)
            out = np.where(sign > 0, up, 1.0 - up)
            out = np.where(np.isfinite(out), out, 0.5)
        else:
            mean = np.where(empty, np.nan, np.nanmean(filled, axis=0))
            std = np.where(empty, np.nan, np.nanstd(filled, axis=0))
            out = sign * (x - mean) / std
            out = np.where(np.isfinite(out), out, 0.0)
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
