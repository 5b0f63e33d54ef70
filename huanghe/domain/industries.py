"""The `算力+` industries of the plan (《山东省算力基础设施发展规划》: 算力+制造、农业、金融、能源、海洋、交通、文化)
as the classification of tenants' free-text ``sector``, in ONE table (:data:`SECTOR_TO_INDUSTRY`).

A sector is normalised (lower case, spaces / ``-`` / ``_`` removed) and looked up; a sector not in the table
(``sme``, ``research``, ``health``, ``government``, ``education``...) counts as ``other``. docs/empowerment.md
prints the table. Used by the empowerment evaluation and the industry map (:mod:`huanghe.regulator`, which
re-exports this module as ``huanghe.regulator.industries``) and by voucher programmes, whose ``sectors`` are
industry keys (:mod:`huanghe.billing.programme_schemas`): here, in the pure domain layer, so that billing, which
may not import the regulator, reads the same table.
"""

from __future__ import annotations

from pydantic import BaseModel

#: (key, 中文, English) of each industry, in the plan's order, ``other`` last.
INDUSTRIES: tuple[tuple[str, str, str], ...] = (
    ("manufacturing", "算力+制造", "Compute + manufacturing"),
    ("agriculture", "算力+农业", "Compute + agriculture"),
    ("finance", "算力+金融", "Compute + finance"),
    ("energy", "算力+能源", "Compute + energy"),
    ("ocean", "算力+海洋", "Compute + ocean"),
    ("transport", "算力+交通", "Compute + transport"),
    ("culture", "算力+文化", "Compute + culture"),
    ("other", "其他行业", "Other sectors"),
)
INDUSTRY_KEYS: tuple[str, ...] = tuple(k for k, _, _ in INDUSTRIES)
INDUSTRY_NAMES: dict[str, tuple[str, str]] = {k: (zh, en) for k, zh, en in INDUSTRIES}

#: normalised sector → industry (every sector not listed is ``other``)
SECTOR_TO_INDUSTRY: dict[str, str] = {
    **dict.fromkeys(
        ("manufacturing", "industry", "industrial", "auto", "automotive", "chemicals", "chemical", "steel",
         "equipment", "electronics", "machinery", "textile", "制造", "制造业", "工业"),
        "manufacturing",
    ),
    **dict.fromkeys(
        ("agriculture", "farming", "agritech", "food", "forestry", "livestock", "农业", "农林牧渔"),
        "agriculture",
    ),
    **dict.fromkeys(
        ("finance", "financial", "banking", "bank", "insurance", "securities", "fintech", "金融", "金融业"),
        "finance",
    ),
    **dict.fromkeys(
        ("energy", "power", "grid", "electricity", "utilities", "oil", "gas", "petrochemical", "mining",
         "newenergy", "能源", "电力"),
        "energy",
    ),
    **dict.fromkeys(
        ("ocean", "marine", "fishery", "fisheries", "aquaculture", "oceanography", "海洋", "渔业"), "ocean"
    ),
    **dict.fromkeys(
        ("transport", "transportation", "logistics", "shipping", "port", "ports", "aviation", "rail",
         "railway", "traffic", "交通", "物流", "交通运输"),
        "transport",
    ),
    **dict.fromkeys(
        ("culture", "media", "tourism", "entertainment", "gaming", "games", "film", "publishing",
         "creative", "文化", "文旅", "传媒"),
        "culture",
    ),
}  # fmt: skip


def normalise_sector(sector: str) -> str:
    """Lower case without spaces, ``-`` and ``_`` (``"New Energy"`` → ``"newenergy"``)."""
    return "".join(ch for ch in sector.strip().lower() if ch not in " -_")


def industry_of(sector: str | None) -> str:
    """The `算力+` industry key of a tenant's sector; ``other`` for an empty or unlisted sector."""
    return SECTOR_TO_INDUSTRY.get(normalise_sector(sector or ""), "other")


class IndustryClass(BaseModel):
    """One industry of the classification with the sectors mapped onto it (``other``: none listed)."""

    key: str
    name_zh: str
    name_en: str
    sectors: list[str]


def classification() -> list[IndustryClass]:
    """The classification table, for reports and the API."""
    by: dict[str, list[str]] = {k: [] for k in INDUSTRY_KEYS}
    for sector, key in SECTOR_TO_INDUSTRY.items():
        by[key].append(sector)
    return [IndustryClass(key=k, name_zh=zh, name_en=en, sectors=sorted(by[k])) for k, zh, en in INDUSTRIES]
