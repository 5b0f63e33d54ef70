"""The `算力+` industries: moved to :mod:`huanghe.domain.industries` (billing's voucher programmes name them too,
and billing may not import the regulator); this path stays for the regulator's modules and scripts."""

from __future__ import annotations

from huanghe.domain.industries import (
    INDUSTRIES,
    INDUSTRY_KEYS,
    INDUSTRY_NAMES,
    SECTOR_TO_INDUSTRY,
    IndustryClass,
    classification,
    industry_of,
    normalise_sector,
)

__all__ = [
    "INDUSTRIES",
    "INDUSTRY_KEYS",
    "INDUSTRY_NAMES",
    "SECTOR_TO_INDUSTRY",
    "IndustryClass",
    "classification",
    "industry_of",
    "normalise_sector",
]
