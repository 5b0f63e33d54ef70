"""Year-on-year comparison of the comprehensive compute index: each entity's score, rank and dimension scores
in year Y against year Y − k, with the deltas. Both years come from one :class:`IndexResult` (one panel
normalisation), so the scores are on the same scale and a delta is a real change, not a rescaling."""

from __future__ import annotations

from dataclasses import dataclass

from huanghe.observatory.index_indicators import DIMENSIONS, IndexInputError
from huanghe.observatory.index_scores import IndexResult


@dataclass(frozen=True)
class YearOnYear:
    """One entity in ``year`` versus ``base_year``; deltas are ``year − base_year`` (score points; a negative
    ``rank_change`` is a climb: rank 3 → 1 is −2). ``None`` where the entity has no row in the base year."""

    entity: str
    name_zh: str
    name_en: str
    year: int
    base_year: int
    score: float
    base_score: float | None
    delta: float | None
    rank: int
    base_rank: int | None
    rank_change: int | None
    dimensions: dict[str, float]
    dimension_deltas: dict[str, float | None]

    def public(self) -> dict[str, object]:
        """The JSON shape of ``huanghe index --compare --json`` and ``?compare=`` (4 decimals)."""
        r4 = lambda v: None if v is None else round(v, 4)  # noqa: E731
        return {
            "entity": self.entity, "name_zh": self.name_zh, "name_en": self.name_en, "year": self.year,
            "base_year": self.base_year, "score": r4(self.score), "base_score": r4(self.base_score),
            "delta": r4(self.delta), "rank": self.rank, "base_rank": self.base_rank,
            "rank_change": self.rank_change, "dimensions": {k: r4(v) for k, v in self.dimensions.items()},
            "dimension_deltas": {k: r4(v) for k, v in self.dimension_deltas.items()},
        }  # fmt: skip


def compare_years(result: IndexResult, year: int, base_year: int) -> list[YearOnYear]:
    """Every entity of ``year`` against ``base_year`` (best rank of ``year`` first). Raises
    :class:`IndexInputError` naming ``compare`` when the base year is not before ``year`` or not in the panel."""
    if base_year >= year:
        raise IndexInputError(f"compare: the base year {base_year} must be before {year}")
    now = result.year(year)
    if not now:
        raise IndexInputError(f"year: no index rows for {year}")
    base = {r.entity: r for r in result.year(base_year)}
    if not base:
        raise IndexInputError(
            f"compare: no index rows for {base_year} (no center open yet, or outside the panel)"
        )
    out: list[YearOnYear] = []
    for r in now:
        b = base.get(r.entity)
        out.append(
            YearOnYear(
                r.entity, r.name_zh, r.name_en, year, base_year, r.score,
                None if b is None else b.score, None if b is None else r.score - b.score,
                r.rank, None if b is None else b.rank, None if b is None else r.rank - b.rank,
                dict(r.dimensions),
                {d: None if b is None else r.dimensions[d] - b.dimensions[d] for d in DIMENSIONS},
            )
        )  # fmt: skip
    return out
