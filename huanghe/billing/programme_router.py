"""Voucher programmes (算力券项目) under ``/api/v1``: presets, programmes, applications and their review,
settlement to providers and the report of the fund's use. Who may call what is in
:mod:`huanghe.api.policy` (regulator and admin run programmes; a tenant admin applies for its own tenant;
tenants see only their own applications)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query, Request

from huanghe.api.authentication import principal_of_request
from huanghe.api.deps import DEFAULT_PAGE_LIMIT, Limit, Offset, SessionDep, TenantFilter
from huanghe.billing import programme_funds, programme_report, programme_stats, programmes
from huanghe.billing.programme_schemas import (
    ApplicationCreate,
    ApplicationPublic,
    PresetPublic,
    ProgrammeCreate,
    ProgrammePublic,
    Review,
    SettlementPublic,
)
from huanghe.core.paging import Page
from huanghe.domain.network import ID_PATTERN

router = APIRouter(tags=["voucher programmes"])
ProgrammeId = Annotated[str, Path(pattern=ID_PATTERN, max_length=64)]
ApplicationId = Annotated[str, Path(pattern=ID_PATTERN, max_length=64)]
ProgrammeFilter = Annotated[str | None, Query(pattern=ID_PATTERN, max_length=64)]
StatusFilter = Annotated[Literal["submitted", "granted", "rejected", "withdrawn"] | None, Query()]
Year = Annotated[int | None, Query(ge=2000, le=2100, description="calendar year (UTC) of grants and use")]


@router.get("/programme-presets", response_model=list[PresetPublic])
def list_presets() -> list[PresetPublic]:
    """The reported programmes (Shandong 2025, Shanghai 2025-07, Beijing 2023–2025) with their sources."""
    return programmes.presets()


@router.get("/programmes", response_model=Page[ProgrammePublic])
def list_programmes(
    s: SessionDep,
    status: Annotated[Literal["open", "closed"] | None, Query()] = None,
    limit: Limit = DEFAULT_PAGE_LIMIT,
    offset: Offset = 0,
) -> Page[ProgrammePublic]:
    return programmes.list_programmes(s, status=status, limit=limit, offset=offset)


@router.post("/programmes", response_model=ProgrammePublic, status_code=201)
def create_programme(s: SessionDep, body: ProgrammeCreate, request: Request) -> ProgrammePublic:
    """Create a programme (or one of the reported presets with ``preset``); its fund is committed."""
    return programmes.create(s, body, by=principal_of_request(request).actor)


@router.get("/programmes/{programme_id}", response_model=ProgrammePublic)
def get_programme(s: SessionDep, programme_id: ProgrammeId) -> ProgrammePublic:
    return programmes.get(s, programme_id)


@router.post("/programmes/{programme_id}/close", response_model=ProgrammePublic)
def close_programme(s: SessionDep, programme_id: ProgrammeId, request: Request) -> ProgrammePublic:
    """No more applications or grants; vouchers granted stay valid."""
    return programmes.close(s, programme_id, by=principal_of_request(request).actor)


@router.post("/programmes/{programme_id}/settle", response_model=list[SettlementPublic])
def settle_programme(s: SessionDep, programme_id: ProgrammeId, request: Request) -> list[SettlementPublic]:
    """Pay each provider the voucher-paid part of its bills not settled yet (结算)."""
    ids = programme_funds.settle(s, programme_id, by=principal_of_request(request).actor)
    return [x for x in programme_report.settlements(s, programme_id) if x.id in ids]


@router.get("/programmes/{programme_id}/settlements", response_model=list[SettlementPublic])
def list_settlements(s: SessionDep, programme_id: ProgrammeId) -> list[SettlementPublic]:
    return programme_report.settlements(s, programme_id)


@router.get("/programmes/{programme_id}/report", response_model=programme_report.ProgrammeReport)
def report(s: SessionDep, programme_id: ProgrammeId, year: Year = None) -> programme_report.ProgrammeReport:
    """The fund's use and effect: granted, redeemed, settled; compute bought and enterprises served, by
    city and industry."""
    return programme_report.report(s, programme_id, year=year)


@router.get("/programme-stats", response_model=programme_stats.ProgrammeStats)
def stats(
    s: SessionDep, year: Year = None, programme: ProgrammeFilter = None
) -> programme_stats.ProgrammeStats:
    """Programme vouchers issued and redeemed per sector and per city (all programmes, or ``programme``; in
    ``year`` or ever): 算力券发放与使用统计."""
    return programme_stats.stats(s, year=year, programme=programme)


@router.get("/programme-applications", response_model=Page[ApplicationPublic])
def list_applications(
    s: SessionDep,
    tenant: TenantFilter,
    programme: ProgrammeFilter = None,
    status: StatusFilter = None,
    limit: Limit = DEFAULT_PAGE_LIMIT,
    offset: Offset = 0,
) -> Page[ApplicationPublic]:
    return programmes.list_applications(
        s, tenant=tenant, programme=programme, status=status, limit=limit, offset=offset
    )


@router.post("/programme-applications", response_model=ApplicationPublic, status_code=201)
def apply(s: SessionDep, body: ApplicationCreate, request: Request) -> ApplicationPublic:
    """Apply to a programme for one's own tenant (申请算力券)."""
    return programmes.apply(s, body, by=principal_of_request(request).actor)


@router.get("/programme-applications/{application_id}", response_model=ApplicationPublic)
def get_application(s: SessionDep, application_id: ApplicationId) -> ApplicationPublic:
    return programmes.get_application(s, application_id)


@router.post("/programme-applications/{application_id}/review", response_model=ApplicationPublic)
def review(s: SessionDep, application_id: ApplicationId, body: Review, request: Request) -> ApplicationPublic:
    """Approve (grant a voucher from the fund) or reject an application (审核)."""
    return programmes.review(s, application_id, body, by=principal_of_request(request).actor)


@router.post("/programme-applications/{application_id}/withdraw", response_model=ApplicationPublic)
def withdraw(s: SessionDep, application_id: ApplicationId, request: Request) -> ApplicationPublic:
    """The applicant withdraws a submitted application (撤回)."""
    return programmes.withdraw(s, application_id, by=principal_of_request(request).actor)
