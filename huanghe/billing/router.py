"""Metering, invoices, settlement, ledger, vouchers and quotas under ``/api/v1``."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel

from huanghe.api.authentication import principal_of_request
from huanghe.api.deps import DEFAULT_PAGE_LIMIT, Limit, Offset, SessionDep, TenantFilter
from huanghe.billing import invoice_export, ledger, quotas, vouchers
from huanghe.billing import service as billing
from huanghe.billing.programme_schemas import SectorChoice, sector_choices
from huanghe.core.paging import Page
from huanghe.domain.network import ID_PATTERN

router = APIRouter()
Month = Annotated[str | None, Query(pattern=billing.MONTH_PATTERN, description="YYYY-MM (UTC)")]
TenantId = Annotated[str, Path(pattern=ID_PATTERN, max_length=64)]
VoucherId = Annotated[str, Path(pattern=ID_PATTERN, max_length=64)]


class Metered(BaseModel):
    metered: int


@router.get("/usage", response_model=Page[billing.UsagePublic], tags=["billing"])
def list_usage(
    s: SessionDep,
    tenant: TenantFilter,
    month: Month = None,
    limit: Limit = DEFAULT_PAGE_LIMIT,
    offset: Offset = 0,
) -> Page[billing.UsagePublic]:
    """Metered usage per job: node-hours, GPU-hours, price, cost (CNY), energy (kWh), carbon (kg)."""
    return billing.list_usage(s, tenant=tenant, month=month, limit=limit, offset=offset)


@router.post("/billing/meter", response_model=Metered, tags=["billing"])
def meter(s: SessionDep) -> Metered:
    """Meter every finished job not metered yet (from the jobs table)."""
    return Metered(metered=billing.meter_finished_jobs(s))


@router.get("/invoices", response_model=Page[billing.InvoicePublic], tags=["billing"])
def list_invoices(
    s: SessionDep,
    tenant: TenantFilter,
    month: Month = None,
    limit: Limit = DEFAULT_PAGE_LIMIT,
    offset: Offset = 0,
) -> Page[billing.InvoicePublic]:
    return billing.list_invoices(s, tenant=tenant, month=month, limit=limit, offset=offset)


@router.post("/invoices", response_model=billing.InvoicePublic, status_code=201, tags=["billing"])
def create_invoice(s: SessionDep, body: billing.InvoiceCreate, request: Request) -> billing.InvoicePublic:
    """Bill a tenant's month: vouchers pay first (within their share), the tenant's money the rest."""
    return billing.create_invoice(s, body, actor=principal_of_request(request).actor)


@router.get("/invoices/{invoice_id}", response_model=billing.InvoicePublic, tags=["billing"])
def get_invoice(s: SessionDep, invoice_id: Annotated[int, Path(ge=1, le=2**31 - 1)]) -> billing.InvoicePublic:
    return billing.get_invoice(s, invoice_id)


@router.get(
    "/invoices/{invoice_id}/export",
    response_class=Response,
    tags=["billing"],
    responses={200: {"content": {"application/pdf": {}, "text/csv": {}}}},
)
async def export_invoice(
    s: SessionDep,
    invoice_id: Annotated[int, Path(ge=1, le=2**31 - 1)],
    fmt: Annotated[str, Query(alias="format", max_length=8, description="pdf | csv")] = "pdf",
    lang: Annotated[str, Query(max_length=4, description="zh | en")] = "zh",
) -> Response:
    """Download an invoice as PDF or CSV (账单下载): totals and one line per job billed."""
    content, media, filename = await run_in_threadpool(invoice_export.export, s, invoice_id, fmt, lang)
    return Response(
        content, media_type=media, headers={"Content-Disposition": f'attachment; filename="{filename}"'}
    )


@router.get("/settlements", response_model=list[billing.SettlementPublic], tags=["billing"])
def settlements(
    s: SessionDep, month: Annotated[str, Query(pattern=billing.MONTH_PATTERN)]
) -> list[billing.SettlementPublic]:
    """What the platform owes each operator for a month's invoiced usage (结算)."""
    return billing.settlements(s, month)


@router.get("/ledger/balances", response_model=ledger.TrialBalance, tags=["billing"])
def balances(s: SessionDep) -> ledger.TrialBalance:
    """Trial balance of the double-entry ledger; ``balanced`` must always be true."""
    return ledger.trial_balance(s)


@router.get("/industries", response_model=list[SectorChoice], tags=["vouchers"])
def list_industries() -> list[SectorChoice]:
    """The `算力+` industries (key, 中文, English) a voucher's or a programme's ``sectors`` name, ``other`` last;
    whoever reads vouchers may read them."""
    return sector_choices()


@router.get("/vouchers", response_model=Page[vouchers.VoucherPublic], tags=["vouchers"])
def list_vouchers(
    s: SessionDep, tenant: TenantFilter, limit: Limit = DEFAULT_PAGE_LIMIT, offset: Offset = 0
) -> Page[vouchers.VoucherPublic]:
    return vouchers.list_vouchers(s, tenant=tenant, limit=limit, offset=offset)


@router.get("/vouchers:summary", response_model=vouchers.VoucherSummary, tags=["vouchers"])
def voucher_summary(s: SessionDep, tenant: TenantFilter) -> vouchers.VoucherSummary:
    """Totals of every voucher (a tenant's own for tenant roles): issued, active, balance, redeemed."""
    return vouchers.summary(s, tenant=tenant)


@router.post("/vouchers", response_model=vouchers.VoucherPublic, status_code=201, tags=["vouchers"])
def issue_voucher(s: SessionDep, body: vouchers.VoucherCreate, request: Request) -> vouchers.VoucherPublic:
    """Issue a compute voucher (算力券) to a tenant."""
    return vouchers.issue(s, body, issuer=principal_of_request(request).actor)


@router.get("/vouchers/{voucher_id}", response_model=vouchers.VoucherPublic, tags=["vouchers"])
def get_voucher(s: SessionDep, voucher_id: VoucherId) -> vouchers.VoucherPublic:
    return vouchers.get(s, voucher_id)


@router.post("/vouchers/{voucher_id}/revoke", response_model=vouchers.VoucherPublic, tags=["vouchers"])
def revoke_voucher(s: SessionDep, voucher_id: VoucherId, request: Request) -> vouchers.VoucherPublic:
    """Revoke a voucher; its remaining balance returns to the subsidy fund."""
    return vouchers.revoke(s, voucher_id, by=principal_of_request(request).actor)


@router.get("/quotas/{tenant_id}", response_model=quotas.QuotaPublic, tags=["quotas"])
def get_quota(s: SessionDep, tenant_id: TenantId) -> quotas.QuotaPublic:
    return quotas.get_quota(s, tenant_id)


@router.put("/quotas/{tenant_id}", response_model=quotas.QuotaPublic, tags=["quotas"])
def set_quota(
    s: SessionDep, tenant_id: TenantId, body: quotas.QuotaSet, request: Request
) -> quotas.QuotaPublic:
    """Set a tenant's monthly GPU-hours and budget (null = unlimited); enforced at job submission."""
    return quotas.set_quota(s, tenant_id, body, actor=principal_of_request(request).actor)
