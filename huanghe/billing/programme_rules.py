"""The rules of voucher programmes (算力券项目), pure: the reported presets, the entitlement of an application
and which centers and pools a grant may pay for. No database here; :mod:`huanghe.billing.programmes` applies
these to rows.

Money is integer **fen** (1 CNY = 100 fen), shares are basis points (1 bp = 0.01 %), times epoch seconds UTC.

A grant is worth the smallest of (:func:`entitlement`):

* ``share × basis``: the programme's share (e.g. 5 %) of the application's basis, the purchase contract
  (``basis = contract``) or the expected bill / rent over the grant's validity (``basis = bill``);
* what the applicant asked for (if it asked for less);
* the cap per enterprise over the programme, less what the enterprise already holds from it;
* the cap per enterprise per calendar year (UTC year of the grant), less what it got that year;
* what is left in the fund (the database's conditional UPDATE is the real guard, this is the estimate).

"Holds" counts grants net of money returned (revoked or expired vouchers).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

FACTS = "../shared/reference/FACTS.md §7 (compute-voucher programmes as reported in 2023–2025)"

#: where the "reported" figures of the presets come from (the project's reference facts, which list reprints)
REPORTED_SOURCES: dict[str, list[str]] = {
    "shandong-2025": [
        FACTS,
        "Shandong 2025 compute-voucher programme: 30 M CNY fund, up to 5 % of an in-province AI-compute "
        "purchase contract, at most 5 M CNY per enterprise (reported)",
    ],
    "shanghai-2025": [
        FACTS,
        "Shanghai 2025-07 compute vouchers: 600 M CNY; the city pays up to 30 % of compute rent for at most "
        "one year (district co-funding up to 100 % not modelled); early-stage and small users first (reported)",
    ],
    "beijing-2023": [
        FACTS,
        "Beijing 2023–2025: share of the rent of intelligent compute from unaffiliated providers, at most "
        "2 M CNY per enterprise per year; Beijing-registered software/IT and manufacturing firms (reported)",
    ],
}

AI_CLASSES = ["gpu", "npu", "dcu"]


@dataclass(frozen=True)
class Preset:
    """A programme as reported: the values of :class:`~huanghe.billing.programme_schemas.ProgrammeCreate`
    (CNY as decimal strings) and which of them are assumptions (not in the reported rule)."""

    key: str
    values: dict[str, Any]
    assumptions: list[str] = field(default_factory=list)


PRESETS: dict[str, Preset] = {
    p.key: p
    for p in (
        Preset(
            "shandong-2025",
            {
                "name_zh": "山东省2025年算力券",
                "name_en": "Shandong 2025 compute vouchers",
                "authority": "Shandong",
                "basis": "contract",
                "share": "0.05",
                "fund_cny": "30000000",
                "cap_enterprise_cny": "5000000",
                "cap_enterprise_year_cny": None,
                "validity_months": 12,
                "sectors": [],
                "sme_only": False,
                "in_province_only": True,
                "unaffiliated_only": False,
                "center_kinds": [],
                "accelerator_classes": AI_CLASSES,
            },
            [
                "validity_months = 12: the reported rule gives no redemption period",
                "AI compute = pools with GPU, NPU or DCU accelerators",
            ],
        ),
        Preset(
            "shanghai-2025",
            {
                "name_zh": "上海市算力券(2025年7月)",
                "name_en": "Shanghai compute vouchers (2025-07)",
                "authority": "Shanghai",
                "basis": "bill",
                "share": "0.30",
                "fund_cny": "600000000",
                "cap_enterprise_cny": None,
                "cap_enterprise_year_cny": None,
                "validity_months": 12,
                "sectors": [],
                "sme_only": False,
                "in_province_only": False,
                "unaffiliated_only": False,
                "center_kinds": [],
                "accelerator_classes": AI_CLASSES,
            },
            [
                "no per-enterprise cap reported for compute vouchers (the 5 M CNY cap is of model vouchers)",
                "'small users first' is a review priority, not a rule: sme_only = false",
                "compute = pools with GPU, NPU or DCU accelerators",
            ],
        ),
        Preset(
            "beijing-2023",
            {
                "name_zh": "北京市智能算力补贴(2023–2025)",
                "name_en": "Beijing intelligent-compute subsidy (2023–2025)",
                "authority": "Beijing",
                "basis": "bill",
                "share": "0.20",
                "fund_cny": None,
                "cap_enterprise_cny": None,
                "cap_enterprise_year_cny": "2000000",
                "validity_months": 12,
                "sectors": ["manufacturing", "other"],
                "sme_only": False,
                "in_province_only": False,
                "unaffiliated_only": True,
                "center_kinds": [],
                "accelerator_classes": AI_CLASSES,
            },
            [
                "share = 20 %: the reported rule gives 'a share of rent' without the figure (set your own)",
                "no fund size reported: give fund_cny when creating the programme",
                "reported eligibility (software/IT and manufacturing firms) mapped to the industries "
                "manufacturing and other (software and IT are not among the 'compute +' industries: they fall "
                "into other, which admits every sector the classification does not list)",
            ],
        ),
    )
}


def msg(en: str, zh: str) -> str:
    """A bilingual message: English, then Chinese in parentheses."""
    return f"{en} ({zh})"


@dataclass(frozen=True)
class Limits:
    """What bounds one grant, fen (None = no such cap)."""

    share_bp: int
    basis_fen: int
    requested_fen: int | None
    cap_enterprise_fen: int | None
    held_fen: int
    cap_year_fen: int | None
    held_year_fen: int
    remaining_fen: int


def entitlement(lim: Limits) -> tuple[int, str]:
    """The largest grant allowed (fen, ≥ 0) and which limit binds (a short bilingual phrase)."""
    candidates: list[tuple[int, str]] = [
        (lim.basis_fen * lim.share_bp // 10_000, msg("share of the basis", "按比例")),
        (lim.remaining_fen, msg("fund left", "资金余额")),
    ]
    if lim.requested_fen is not None:
        candidates.append((lim.requested_fen, msg("amount requested", "申请金额")))
    if lim.cap_enterprise_fen is not None:
        candidates.append((lim.cap_enterprise_fen - lim.held_fen, msg("cap per enterprise", "单个企业上限")))
    if lim.cap_year_fen is not None:
        candidates.append(
            (lim.cap_year_fen - lim.held_year_fen, msg("cap per enterprise and year", "年度上限"))
        )
    amount, why = min(candidates, key=lambda c: c[0])
    return max(amount, 0), why


@dataclass(frozen=True)
class Supply:
    """A center offering compute: id, operator, city, kind, and its pools as (pool id, accelerator class)."""

    center_id: str
    operator: str
    city_id: str
    kind: str
    pools: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class Eligibility:
    """What a programme pays for: provider cities (empty: any city of the province), center kinds and
    accelerator classes (empty: any), the contracted provider ('' = any) and excluded (affiliated) ones.

    ``in_province``: only centers of the platform's catalogue (its network is the province) at grant time,
    listed one by one on the voucher, so a center added later (e.g. outside the province) is never paid."""

    in_province: bool = False
    cities: Sequence[str] = ()
    center_kinds: Sequence[str] = ()
    accelerator_classes: Sequence[str] = ()
    provider: str = ""
    excluded_operators: Iterable[str] = ()


def unrestricted(e: Eligibility) -> bool:
    """True when the programme pays for any compute anywhere (the voucher then lists no center)."""
    return not (
        e.in_province
        or e.cities
        or e.center_kinds
        or e.accelerator_classes
        or e.provider
        or list(e.excluded_operators)
    )


def eligible_supply(supply: Iterable[Supply], e: Eligibility) -> tuple[list[str], list[str]]:
    """(center ids, pool ids) a grant may pay for, sorted; pools of the eligible centers whose class fits."""
    excluded = set(e.excluded_operators)
    centers: list[str] = []
    pools: list[str] = []
    for s in supply:
        if (e.cities and s.city_id not in e.cities) or (e.center_kinds and s.kind not in e.center_kinds):
            continue
        if (e.provider and s.operator != e.provider) or s.operator in excluded:
            continue
        fitting = [p for p, cls in s.pools if not e.accelerator_classes or cls in e.accelerator_classes]
        if fitting:
            centers.append(s.center_id)
            pools.extend(fitting)
    return sorted(centers), sorted(pools)


def add_months(year: int, month: int, months: int) -> tuple[int, int]:
    """(year, month) ``months`` later (month 1..12)."""
    index = year * 12 + (month - 1) + months
    return index // 12, index % 12 + 1


def allocate(total: int, weights: Sequence[int]) -> list[int]:
    """Split ``total`` fen over ``weights`` pro rata, rounding down, the remainder to the largest weights
    (the parts sum to ``total`` exactly; all zero weights: everything to the first)."""
    if not weights:
        return []
    whole = sum(weights)
    if whole <= 0:
        return [total] + [0] * (len(weights) - 1)
    parts = [total * w // whole for w in weights]
    rest = total - sum(parts)
    for i in sorted(range(len(weights)), key=lambda i: -weights[i])[:rest]:
        parts[i] += 1
    return parts
