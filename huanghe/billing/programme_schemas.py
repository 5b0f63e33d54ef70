"""The API documents of voucher programmes: programmes, applications, reviews, settlements (CNY as decimal
strings with two decimals, shares as decimals 0..1, times ISO datetimes UTC)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, Field, field_validator, model_validator

from huanghe.billing.programme_rules import PRESETS, REPORTED_SOURCES
from huanghe.domain.industries import INDUSTRIES, INDUSTRY_KEYS
from huanghe.domain.network import ID_PATTERN

MAX_FUND_CNY = Decimal("100000000000")  # 1e11 CNY
Cny = Decimal
Basis = Literal["contract", "bill"]
Label = Literal["reported", "adapted", "illustrative", "custom"]
CenterKindName = Literal["general", "intelligent", "supercomputing"]
AcceleratorClassName = Literal["cpu", "gpu", "npu", "dcu"]
Operator = Annotated[str, Field(max_length=200)]
Text500 = Annotated[str, Field(min_length=1, max_length=500)]


def _industry(value: str) -> str:
    if value not in INDUSTRY_KEYS:
        raise ValueError(f"unknown sector {value!r}: one of {', '.join(INDUSTRY_KEYS)} (行业须从目录中选择)")
    return value


#: an eligible sector of a new programme: a key of the `算力+` industries (huanghe.domain.industries); rows
#: created before hold free text, answered as they are (ProgrammePublic.sectors is plain text)
Sector = Annotated[str, Field(min_length=1, max_length=100), AfterValidator(_industry)]
CityId = Annotated[str, Field(pattern=ID_PATTERN, max_length=64)]
Status = Literal["submitted", "granted", "rejected", "withdrawn"]


def _same(a: Any, b: Any) -> bool:
    """Equal as numbers when both are numbers ('0.05' == '0.050'), else as text."""
    try:
        return Decimal(str(a)) == Decimal(str(b))
    except InvalidOperation:
        return str(a) == str(b)


def _utc(value: datetime | None) -> datetime | None:
    return value.replace(tzinfo=UTC) if value is not None and value.tzinfo is None else value


class ProgrammeCreate(BaseModel):
    """A programme. With ``preset`` (``shandong-2025``, ``shanghai-2025``, ``beijing-2023``) the reported
    values fill every field not given; a reported value overridden makes the label ``adapted``."""

    id: str = Field(pattern=ID_PATTERN, max_length=64)
    preset: str | None = Field(default=None, max_length=64)
    name_zh: str = Field(min_length=1, max_length=200)
    name_en: str = Field(min_length=1, max_length=200)
    authority: str = Field(min_length=1, max_length=200)
    label: Label = "custom"
    sources: list[Text500] = Field(default_factory=list, max_length=20)
    assumptions: list[Text500] = Field(default_factory=list, max_length=20)
    basis: Basis
    share: Decimal = Field(gt=0, le=1, decimal_places=4, description="largest share of contract or bill")
    fund_cny: Cny = Field(gt=0, le=MAX_FUND_CNY, decimal_places=2)
    cap_enterprise_cny: Cny | None = Field(default=None, gt=0, le=MAX_FUND_CNY, decimal_places=2)
    cap_enterprise_year_cny: Cny | None = Field(default=None, gt=0, le=MAX_FUND_CNY, decimal_places=2)
    validity_months: int = Field(default=12, ge=1, le=60, description="a grant's voucher is valid this long")
    opens: datetime | None = None
    closes: datetime | None = None
    sectors: list[Sector] = Field(default_factory=list, max_length=100)
    sme_only: bool = False
    in_province_only: bool = False
    cities: list[CityId] = Field(default_factory=list, max_length=100)
    unaffiliated_only: bool = False
    center_kinds: list[CenterKindName] = Field(default_factory=list, max_length=3)
    accelerator_classes: list[AcceleratorClassName] = Field(default_factory=list, max_length=4)
    note: str = Field(default="", max_length=2000)

    @model_validator(mode="before")
    @classmethod
    def _from_preset(cls, data: Any) -> Any:
        if not isinstance(data, dict) or data.get("preset") is None:
            return data
        preset = PRESETS.get(str(data["preset"]))
        if preset is None:
            return data  # the field validator names it
        merged = {k: v for k, v in preset.values.items() if v is not None}
        given = {k: v for k, v in data.items() if v is not None}
        overridden = sorted(k for k in given if k in merged and not _same(given[k], merged[k]))
        merged.update(given)
        merged.setdefault("sources", [])
        merged["sources"] = [*REPORTED_SOURCES[preset.key], *merged["sources"]]
        merged["assumptions"] = [*preset.assumptions, *merged.get("assumptions", [])]
        if "label" not in given:
            merged["label"] = "adapted" if overridden else "reported"
        if overridden:
            merged["assumptions"].append("changed from the reported values: " + ", ".join(overridden))
        unreported = sorted(k for k, v in preset.values.items() if v is None and k in given)
        if unreported:
            merged["assumptions"].append("given by the creator, not reported: " + ", ".join(unreported))
        return merged

    @field_validator("preset")
    @classmethod
    def _known_preset(cls, value: str | None) -> str | None:
        if value is not None and value not in PRESETS:
            raise ValueError(f"unknown preset, one of {', '.join(sorted(PRESETS))}")
        return value

    @model_validator(mode="after")
    def _window(self) -> ProgrammeCreate:
        self.opens, self.closes = _utc(self.opens), _utc(self.closes)
        if self.opens is not None and self.closes is not None and self.closes <= self.opens:
            raise ValueError("closes must be after opens")
        return self


class ProgrammePublic(BaseModel):
    """A programme with its fund: ``granted_cny`` = fund − remaining (net of money returned)."""

    id: str
    name_zh: str
    name_en: str
    authority: str
    label: str
    sources: list[str]
    assumptions: list[str]
    basis: str
    share: Decimal
    fund_cny: Decimal
    remaining_cny: Decimal
    granted_cny: Decimal
    cap_enterprise_cny: Decimal | None
    cap_enterprise_year_cny: Decimal | None
    validity_months: int
    opens: datetime
    closes: datetime | None
    sectors: list[str]
    sme_only: bool
    in_province_only: bool
    cities: list[str]
    unaffiliated_only: bool
    center_kinds: list[str]
    accelerator_classes: list[str]
    status: str
    note: str


class SectorChoice(BaseModel):
    """A sector a programme may name: an industry of the `算力+` classification with its names."""

    key: str
    name_zh: str
    name_en: str


def sector_choices() -> list[SectorChoice]:
    """The industries in the plan's order, ``other`` (every sector the classification does not list) last."""
    return [SectorChoice(key=k, name_zh=zh, name_en=en) for k, zh, en in INDUSTRIES]


class PresetPublic(BaseModel):
    """A reported programme: its values (CNY as strings, None where nothing was reported), sources and the
    assumptions added to make it a working rule."""

    key: str
    values: dict[str, Any]
    sources: list[str]
    assumptions: list[str]


class ApplicationCreate(BaseModel):
    """An enterprise's application. ``basis_cny``: the purchase contract (contract programmes) or the
    expected bill over the grant's validity (bill programmes); ``provider``: the contracted operator
    (required for contract programmes); ``affiliated``: operators the enterprise is affiliated with."""

    programme: str = Field(pattern=ID_PATTERN, max_length=64)
    tenant: str = Field(pattern=ID_PATTERN, max_length=64)
    basis_cny: Cny = Field(gt=0, le=MAX_FUND_CNY, decimal_places=2)
    requested_cny: Cny | None = Field(default=None, gt=0, le=MAX_FUND_CNY, decimal_places=2)
    provider: str = Field(default="", max_length=200)
    affiliated: list[Operator] = Field(default_factory=list, max_length=50)
    city: str = Field(default="", max_length=64, description="the enterprise's city (a city id)")
    note: str = Field(default="", max_length=2000)


class ApplicationPublic(BaseModel):
    """An application and, once granted, its voucher and what came back to the fund."""

    id: str
    programme: str
    tenant: str
    status: str
    basis_cny: Decimal
    requested_cny: Decimal | None
    provider: str
    affiliated: list[str]
    city: str
    granted_cny: Decimal
    returned_cny: Decimal
    grant_year: int | None
    voucher: str | None
    submitted: datetime
    reviewed: datetime | None
    review_note: str
    note: str


class Review(BaseModel):
    """A reviewer's decision. ``approve`` grants at most ``amount_cny`` (default: the whole entitlement)."""

    decision: Literal["approve", "reject"]
    amount_cny: Cny | None = Field(default=None, gt=0, le=MAX_FUND_CNY, decimal_places=2)
    note: str = Field(default="", max_length=2000)


class SettlementPublic(BaseModel):
    """A payment from a programme's fund to a provider for the voucher-paid part of its bills."""

    id: int
    programme: str
    operator: str
    amount_cny: Decimal
    redemptions: int
    created: datetime
