"""Voucher programmes (算力券项目): a fund with a rule and eligibility; enterprises apply, a reviewer grants,
the grant is a voucher the billing redeems like any other (:mod:`huanghe.billing.vouchers`).

Workflow: a regulator or admin creates a programme (from a reported preset or its own rule); a tenant admin
applies for its own tenant (``submitted``); a regulator or admin reviews: ``reject`` with a note, or
``approve``, which in ONE transaction locks the programme row (``SELECT … FOR UPDATE``), computes the
entitlement (:func:`huanghe.billing.programme_rules.entitlement`: share of the basis, caps per enterprise and
per year, fund left), takes the amount from the fund with a conditional UPDATE
(:func:`huanghe.billing.programme_funds.take`) and issues the voucher (Dr programme_fund / Cr
voucher_liability). The voucher pays ``share`` of each eligible bill line (centers and pools of the
eligible providers) until the grant is spent or its validity (``validity_months``) ends; what is left of a
revoked or expired grant returns to the fund. A tenant may withdraw a submitted application.

Eligibility checked at application and again at approval: the tenant's sector (``sectors``: `算力+` industry
keys, empty = any; the tenant's registered sector falls into one by :func:`huanghe.domain.industries.industry_of`,
and a free-text sector of a programme created before sectors were industries still matches it exactly) and
size (``sme_only``: ``tenants.is_sme``); the provider (an operator with eligible centers: cities, center
kinds, accelerator classes; required for contract programmes); ``unaffiliated_only``: the provider may not
be one the enterprise declared affiliated, and no affiliated operator's center is ever paid.
"""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from huanghe.audit import service as audit
from huanghe.billing import ledger, programme_funds, vouchers
from huanghe.billing.models import ProgrammeApplicationRow, VoucherProgrammeRow
from huanghe.billing.programme_rules import (
    PRESETS,
    REPORTED_SOURCES,
    Eligibility,
    Limits,
    Supply,
    add_months,
    eligible_supply,
    entitlement,
    msg,
    unrestricted,
)
from huanghe.billing.programme_schemas import (
    ApplicationCreate,
    ApplicationPublic,
    PresetPublic,
    ProgrammeCreate,
    ProgrammePublic,
    Review,
)
from huanghe.core.errors import NotFoundError, conflict, invalid
from huanghe.core.paging import DEFAULT_PAGE_LIMIT, Page
from huanghe.domain.industries import industry_of
from huanghe.domain.tenancy import cny_to_fen, fen_to_cny
from huanghe.network.models import CenterRow, CityRow, PoolRow
from huanghe.store.crud import filtered, get_row, page_of
from huanghe.tenancy.models import TenantRow


def _dt(epoch_s: float | None) -> datetime | None:
    return None if epoch_s is None else datetime.fromtimestamp(epoch_s, UTC)


def _cny(fen: int | None) -> object:
    return None if fen is None else fen_to_cny(fen)


def presets() -> list[PresetPublic]:
    """The reported programmes (Shandong 2025, Shanghai 2025-07, Beijing 2023–2025) with their sources."""
    return [
        PresetPublic(key=p.key, values=p.values, sources=REPORTED_SOURCES[p.key], assumptions=p.assumptions)
        for p in PRESETS.values()
    ]


def public(row: VoucherProgrammeRow) -> ProgrammePublic:
    return ProgrammePublic(
        id=row.id, name_zh=row.name_zh, name_en=row.name_en, authority=row.authority, label=row.label,
        sources=list(row.sources), assumptions=list(row.assumptions), basis=row.basis,
        share=Decimal(row.share_bp) / 10_000,
        fund_cny=fen_to_cny(row.fund_fen), remaining_cny=fen_to_cny(row.remaining_fen),
        granted_cny=fen_to_cny(row.fund_fen - row.remaining_fen), cap_enterprise_cny=_cny(row.cap_enterprise_fen),
        cap_enterprise_year_cny=_cny(row.cap_enterprise_year_fen), validity_months=row.validity_months,
        opens=_dt(row.opens_s), closes=_dt(row.closes_s), sectors=list(row.sectors), sme_only=row.sme_only,
        in_province_only=row.in_province_only, cities=list(row.cities), unaffiliated_only=row.unaffiliated_only,
        center_kinds=list(row.center_kinds), accelerator_classes=list(row.accelerator_classes),
        status=row.status, note=row.note,
    )  # fmt: skip


def create(session: Session, body: ProgrammeCreate, *, by: str, now: float | None = None) -> ProgrammePublic:
    """Create a programme and commit its fund (Dr subsidy_fund / Cr programme_fund); audited, committed."""
    now = time.time() if now is None else now
    if session.get(VoucherProgrammeRow, body.id) is not None:
        raise conflict("id", msg(f"programme {body.id!r} already exists", "项目已存在"))
    known = (
        set(session.scalars(select(CityRow.id).where(CityRow.id.in_(body.cities)))) if body.cities else set()
    )
    for i, city in enumerate(body.cities):
        if city not in known:
            raise invalid(f"cities[{i}]", msg(f"unknown city {city!r}", "城市不存在"))
    fund = cny_to_fen(body.fund_cny)
    row = VoucherProgrammeRow(
        id=body.id, name_zh=body.name_zh, name_en=body.name_en, authority=body.authority, label=body.label,
        sources=list(body.sources), assumptions=list(body.assumptions), basis=body.basis,
        share_bp=int(body.share * 10_000), fund_fen=fund, remaining_fen=fund,
        cap_enterprise_fen=cny_to_fen(body.cap_enterprise_cny) if body.cap_enterprise_cny else None,
        cap_enterprise_year_fen=cny_to_fen(body.cap_enterprise_year_cny) if body.cap_enterprise_year_cny else None,
        validity_months=body.validity_months, opens_s=body.opens.timestamp() if body.opens else now,
        closes_s=body.closes.timestamp() if body.closes else None, sectors=list(body.sectors),
        sme_only=body.sme_only, in_province_only=body.in_province_only, cities=list(body.cities),
        unaffiliated_only=body.unaffiliated_only, center_kinds=list(body.center_kinds),
        accelerator_classes=list(body.accelerator_classes), status="open", created_s=now,
        created_by=by[:200], note=body.note,
    )  # fmt: skip
    session.add(row)
    session.flush()
    ledger.transfer(
        session, f"programme {row.id} fund", ledger.SUBSIDY_FUND, programme_funds.fund_account(row.id), fund, now=now
    )  # fmt: skip
    audit.record(session, by, "programme.create", row.id, {"fund_fen": fund, "label": row.label}, now=now)
    session.commit()
    return public(row)


def get(session: Session, programme_id: str) -> ProgrammePublic:
    row = get_row(session, VoucherProgrammeRow, programme_id, "programme")
    return public(row)


def list_programmes(
    session: Session, *, status: str | None = None, limit: int = DEFAULT_PAGE_LIMIT, offset: int = 0
) -> Page[ProgrammePublic]:
    query = filtered(select(VoucherProgrammeRow), {VoucherProgrammeRow.status: status})
    return page_of(
        session, query, (VoucherProgrammeRow.created_s, VoucherProgrammeRow.id), limit, offset, public
    )


def close(session: Session, programme_id: str, *, by: str, now: float | None = None) -> ProgrammePublic:
    """Close a programme (idempotent): no more applications or grants; granted vouchers stay valid."""
    now = time.time() if now is None else now
    row = programme_funds.locked_programme(session, programme_id)
    if row.status != "closed":
        row.status = "closed"
        audit.record(session, by, "programme.close", row.id, {"remaining_fen": row.remaining_fen}, now=now)
    session.commit()
    return public(row)


# --- applications -----------------------------------------------------------------------------------------
def app_public(row: ProgrammeApplicationRow) -> ApplicationPublic:
    return ApplicationPublic(
        id=row.id, programme=row.programme_id, tenant=row.tenant_id, status=row.status,
        basis_cny=fen_to_cny(row.basis_fen), requested_cny=_cny(row.requested_fen), provider=row.provider,
        affiliated=list(row.affiliated), city=row.city, granted_cny=fen_to_cny(row.granted_fen),
        returned_cny=fen_to_cny(row.returned_fen), grant_year=row.grant_year, voucher=row.voucher_id,
        submitted=_dt(row.submitted_s), reviewed=_dt(row.reviewed_s), review_note=row.review_note, note=row.note,
    )  # fmt: skip


def _supply(session: Session) -> list[Supply]:
    pools: dict[str, list[tuple[str, str]]] = {}
    for pid, cid, cls in session.execute(select(PoolRow.id, PoolRow.center_id, PoolRow.accelerator_class)):
        pools.setdefault(cid, []).append((pid, cls))
    return [
        Supply(c.id, c.operator, c.city_id, c.kind, tuple(pools.get(c.id, [])))
        for c in session.scalars(select(CenterRow).order_by(CenterRow.id))
    ]


def _eligibility(prog: VoucherProgrammeRow, provider: str, affiliated: list[str]) -> Eligibility:
    return Eligibility(
        in_province=prog.in_province_only, cities=prog.cities, center_kinds=prog.center_kinds,
        accelerator_classes=prog.accelerator_classes, provider=provider,
        excluded_operators=affiliated if prog.unaffiliated_only else (),
    )  # fmt: skip


def _check_enterprise(session: Session, prog: VoucherProgrammeRow, tenant_id: str, provider: str,
                      affiliated: list[str]) -> None:  # fmt: skip
    """422 naming the field when the tenant or the provider is not eligible."""
    tenant = session.get(TenantRow, tenant_id)
    if tenant is None:
        raise invalid("tenant", msg(f"unknown tenant {tenant_id!r}", "租户不存在"))
    if prog.sectors and tenant.sector not in prog.sectors and industry_of(tenant.sector) not in prog.sectors:
        raise invalid("tenant", msg(f"sector {tenant.sector!r} ({industry_of(tenant.sector)}) is not eligible "
                                    f"({', '.join(prog.sectors)})", "所属行业不在支持范围"))  # fmt: skip
    if prog.sme_only and not tenant.is_sme:
        raise invalid("tenant", msg("only small and medium enterprises are eligible", "仅限中小企业"))
    if prog.basis == "contract" and not provider:
        raise invalid(
            "provider", msg("a contract programme needs the contracted provider", "须填写合同服务商")
        )
    if prog.unaffiliated_only and provider and provider in affiliated:
        raise invalid(
            "provider", msg(f"{provider!r} is affiliated with the enterprise", "服务商与企业存在关联")
        )
    if provider:
        _, pools = eligible_supply(_supply(session), _eligibility(prog, provider, affiliated))
        if not pools:
            raise invalid(
                "provider", msg(f"provider {provider!r} offers no eligible compute", "服务商无符合条件的算力")
            )


def _check_open(prog: VoucherProgrammeRow, now: float) -> None:
    if prog.status != "open" or now < prog.opens_s or (prog.closes_s is not None and now >= prog.closes_s):
        raise conflict(
            "programme", msg(f"programme {prog.id!r} is not open for applications", "项目未在申报期")
        )


def apply(
    session: Session, body: ApplicationCreate, *, by: str, now: float | None = None
) -> ApplicationPublic:
    """Submit an application (status ``submitted``); audited, committed."""
    now = time.time() if now is None else now
    prog = session.get(VoucherProgrammeRow, body.programme)
    if prog is None:
        raise invalid("programme", msg(f"unknown programme {body.programme!r}", "项目不存在"))
    _check_open(prog, now)
    if body.city and session.get(CityRow, body.city) is None:
        raise invalid("city", msg(f"unknown city {body.city!r}", "城市不存在"))
    _check_enterprise(session, prog, body.tenant, body.provider, body.affiliated)
    row = ProgrammeApplicationRow(
        id="pa-" + uuid.uuid4().hex[:12], programme_id=prog.id, tenant_id=body.tenant, status="submitted",
        basis_fen=cny_to_fen(body.basis_cny),
        requested_fen=cny_to_fen(body.requested_cny) if body.requested_cny is not None else None,
        provider=body.provider, affiliated=list(body.affiliated), city=body.city, granted_fen=0, returned_fen=0,
        submitted_s=now, submitted_by=by[:200], reviewed_by="", review_note="", note=body.note,
    )  # fmt: skip
    session.add(row)
    session.flush()
    audit.record(
        session, by, "programme.apply", row.id, {"programme": prog.id, "tenant": body.tenant}, now=now
    )
    session.commit()
    return app_public(row)


def get_application(session: Session, application_id: str) -> ApplicationPublic:
    row = get_row(session, ProgrammeApplicationRow, application_id, "application")
    return app_public(row)


def tenant_of_application(session: Session, application_id: str) -> str:
    """The tenant of an application; :class:`NotFoundError` when there is none (for the scope rules)."""
    row = get_row(session, ProgrammeApplicationRow, application_id, "application")
    return row.tenant_id


def list_applications(
    session: Session, *, tenant: str | None = None, programme: str | None = None, status: str | None = None,
    limit: int = DEFAULT_PAGE_LIMIT, offset: int = 0,
) -> Page[ApplicationPublic]:  # fmt: skip
    """A page of applications, oldest first, optionally of one tenant, programme and status."""
    a = ProgrammeApplicationRow
    query = filtered(select(a), {a.tenant_id: tenant, a.programme_id: programme, a.status: status})
    return page_of(session, query, (a.submitted_s, a.id), limit, offset, app_public)


def _locked_application(session: Session, application_id: str) -> ProgrammeApplicationRow:
    row = session.scalars(
        select(ProgrammeApplicationRow).where(ProgrammeApplicationRow.id == application_id)
        .with_for_update().execution_options(populate_existing=True)
    ).first()  # fmt: skip
    if row is None:
        raise NotFoundError("application", application_id)
    return row


def withdraw(
    session: Session, application_id: str, *, by: str, now: float | None = None
) -> ApplicationPublic:
    """The applicant withdraws a submitted application (409 once reviewed)."""
    now = time.time() if now is None else now
    row = _locked_application(session, application_id)
    if row.status != "submitted":
        raise conflict("status", msg(f"application is {row.status}, only a submitted one can be withdrawn",
                                     "仅可撤回待审核的申请"))  # fmt: skip
    row.status = "withdrawn"
    audit.record(session, by, "programme.withdraw", row.id, {}, now=now)
    session.commit()
    return app_public(row)


def _held(session: Session, programme_id: str, tenant_id: str, year: int | None = None) -> int:
    """What the tenant holds from the programme (net of returns), fen; of grants in ``year`` if given."""
    a = ProgrammeApplicationRow
    query = select(func.coalesce(func.sum(a.granted_fen - a.returned_fen), 0)).where(
        a.programme_id == programme_id, a.tenant_id == tenant_id, a.status == "granted"
    )
    if year is not None:
        query = query.where(a.grant_year == year)
    return int(session.scalar(query) or 0)


def review(
    session: Session, application_id: str, body: Review, *, by: str, now: float | None = None
) -> ApplicationPublic:
    """Reject, or approve and grant (one transaction: programme row locked, fund taken by a conditional
    UPDATE, voucher issued). 409 when the application was reviewed already, the programme is closed, a cap
    is reached or the fund has too little left."""
    now = time.time() if now is None else now
    probe = get_row(session, ProgrammeApplicationRow, application_id, "application")
    prog = programme_funds.locked_programme(session, probe.programme_id)
    row = _locked_application(session, application_id)
    if row.status != "submitted":
        raise conflict("status", msg(f"application is already {row.status}", "申请已处理"))
    if body.decision == "reject":
        row.status = "rejected"
        row.reviewed_s, row.reviewed_by, row.review_note = now, by[:200], body.note
        audit.record(session, by, "programme.reject", row.id, {"note": body.note[:200]}, now=now)
        session.commit()
        return app_public(row)
    if prog.status != "open":
        raise conflict("programme", msg(f"programme {prog.id!r} is closed", "项目已关闭"))
    _check_enterprise(session, prog, row.tenant_id, row.provider, list(row.affiliated))
    year = datetime.fromtimestamp(now, UTC).year
    amount, why = entitlement(Limits(
        share_bp=prog.share_bp, basis_fen=row.basis_fen, requested_fen=row.requested_fen,
        cap_enterprise_fen=prog.cap_enterprise_fen, held_fen=_held(session, prog.id, row.tenant_id),
        cap_year_fen=prog.cap_enterprise_year_fen, held_year_fen=_held(session, prog.id, row.tenant_id, year),
        remaining_fen=prog.remaining_fen,
    ))  # fmt: skip
    if body.amount_cny is not None:
        amount = min(amount, cny_to_fen(body.amount_cny))
    if amount <= 0:
        raise conflict("amount_cny", msg(f"nothing can be granted: limited by {why}", "无可发放额度"))
    elig = _eligibility(prog, row.provider, list(row.affiliated))
    centers, pools = ([], []) if unrestricted(elig) else eligible_supply(_supply(session), elig)
    if not unrestricted(elig) and not pools:
        raise conflict("provider", msg("no eligible center or pool to pay for", "无符合条件的算力资源"))
    if not programme_funds.take(session, prog.id, amount):
        session.rollback()
        raise conflict("amount_cny", msg(f"the fund of {prog.id!r} has less than {fen_to_cny(amount)} CNY left",
                                         "项目资金余额不足"))  # fmt: skip
    start = datetime.fromtimestamp(now, UTC)
    y, m = add_months(start.year, start.month, prog.validity_months)
    until = start.replace(year=y, month=m, day=min(start.day, 28)).timestamp()
    voucher = vouchers.new_voucher(
        session, tenant_id=row.tenant_id, amount_fen=amount, max_share_bp=prog.share_bp, valid_from_s=now,
        valid_until_s=until, sectors=[], centers=centers, pools=pools, issuer=by,
        note=f"programme {prog.id}, application {row.id}", funded_by=programme_funds.fund_account(prog.id),
        now=now,
    )  # fmt: skip
    row.status, row.granted_fen, row.grant_year, row.voucher_id = "granted", amount, year, voucher.id
    row.reviewed_s, row.reviewed_by, row.review_note = now, by[:200], body.note
    audit.record(session, by, "programme.grant", row.id,
                 {"programme": prog.id, "amount_fen": amount, "voucher": voucher.id}, now=now)  # fmt: skip
    session.commit()
    return app_public(row)
