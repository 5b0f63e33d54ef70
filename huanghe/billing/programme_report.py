"""The report of a voucher programme's fund (资金使用及成效): what was granted, redeemed, returned and settled,
the compute bought with it (the eligible bill amount in CNY, GPU-hours and node-hours of the bill lines the
vouchers co-paid) and the enterprises served, by provider city, by the enterprise's city and by industry
(the tenant's sector), and by provider.

``year`` (UTC) narrows grants to those made that year and redemptions to those booked that year. "Compute
bought" counts every eligible line a grant co-paid: when two grants of the same programme co-pay one bill
line, it is counted twice (rare: one tenant holding two grants). Money in CNY with two decimals.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime
from decimal import Decimal

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session

from huanghe.billing import programmes
from huanghe.billing.models import (
    ProgrammeApplicationRow,
    ProgrammeRedemptionRow,
    ProgrammeSettlementRow,
    VoucherProgrammeRow,
)
from huanghe.billing.programme_schemas import ProgrammePublic, SettlementPublic
from huanghe.core.errors import NotFoundError
from huanghe.domain.tenancy import fen_to_cny
from huanghe.network.models import CityRow
from huanghe.tenancy.models import TenantRow


class Breakdown(BaseModel):
    """One row of a breakdown (a city, an industry or a provider)."""

    key: str
    name_zh: str
    name_en: str
    enterprises: int
    granted_cny: Decimal
    redeemed_cny: Decimal
    compute_bought_cny: Decimal
    gpu_hours: float
    node_hours: float


class ProgrammeReport(BaseModel):
    """A programme's fund use and effect (see the module's docstring)."""

    title_zh: str
    title_en: str
    programme: ProgrammePublic
    year: int | None
    fund_cny: Decimal
    granted_cny: Decimal
    returned_cny: Decimal
    remaining_cny: Decimal
    redeemed_cny: Decimal
    settled_cny: Decimal
    fund_used_share: float
    applications: dict[str, int]
    enterprises_served: int
    sme_served: int
    compute_bought_cny: Decimal
    gpu_hours: float
    node_hours: float
    leverage: float | None
    by_provider_city: list[Breakdown]
    by_enterprise_city: list[Breakdown]
    by_industry: list[Breakdown]
    by_provider: list[Breakdown]
    notes: list[str]


def settlements(session: Session, programme_id: str) -> list[SettlementPublic]:
    """The programme's settlements to providers, oldest first."""
    if session.get(VoucherProgrammeRow, programme_id) is None:
        raise NotFoundError("programme", programme_id)
    rows = session.scalars(
        select(ProgrammeSettlementRow)
        .where(ProgrammeSettlementRow.programme_id == programme_id)
        .order_by(ProgrammeSettlementRow.id)
    )
    return [
        SettlementPublic(
            id=r.id,
            programme=r.programme_id,
            operator=r.operator,
            amount_cny=fen_to_cny(r.amount_fen),
            redemptions=r.redemptions,
            created=datetime.fromtimestamp(r.created_s, UTC),
        )
        for r in rows
    ]


class _Acc:
    def __init__(self) -> None:
        self.tenants: set[str] = set()
        self.granted = self.redeemed = self.bought = 0
        self.gpu_h = self.node_h = 0.0


def _rows(accs: dict[str, _Acc], names: dict[str, tuple[str, str]]) -> list[Breakdown]:
    return [
        Breakdown(
            key=k,
            name_zh=names.get(k, (k, k))[0],
            name_en=names.get(k, (k, k))[1],
            enterprises=len(a.tenants),
            granted_cny=fen_to_cny(a.granted),
            redeemed_cny=fen_to_cny(a.redeemed),
            compute_bought_cny=fen_to_cny(a.bought),
            gpu_hours=round(a.gpu_h, 3),
            node_hours=round(a.node_h, 3),
        )
        for k, a in sorted(accs.items(), key=lambda kv: (-kv[1].redeemed, -kv[1].granted, kv[0]))
    ]


def report(session: Session, programme_id: str, *, year: int | None = None) -> ProgrammeReport:
    """The report of one programme (all years, or grants and redemptions of ``year``)."""
    prog = programmes.get(session, programme_id)
    row = session.get(VoucherProgrammeRow, programme_id)
    assert row is not None
    apps = list(
        session.scalars(
            select(ProgrammeApplicationRow).where(ProgrammeApplicationRow.programme_id == programme_id)
        )
    )
    reds = list(session.scalars(select(ProgrammeRedemptionRow).where(ProgrammeRedemptionRow.programme_id == programme_id)))  # fmt: skip
    if year is not None:
        apps = [a for a in apps if a.status != "granted" or a.grant_year == year]
        reds = [r for r in reds if r.month.startswith(f"{year}-")]
    tenants = {t.id: t for t in session.scalars(select(TenantRow))}
    cities = {c.id: (c.name_zh, c.name_en) for c in session.scalars(select(CityRow))}
    granted_apps = [a for a in apps if a.status == "granted"]
    counts: dict[str, int] = defaultdict(int)
    for a in apps:
        counts[a.status] += 1
    sector = {tid: (t.sector or "unknown") for tid, t in tenants.items()}
    by_pcity: dict[str, _Acc] = defaultdict(_Acc)
    by_ecity: dict[str, _Acc] = defaultdict(_Acc)
    by_ind: dict[str, _Acc] = defaultdict(_Acc)
    by_op: dict[str, _Acc] = defaultdict(_Acc)
    city_of_app = {a.id: a.city or "unknown" for a in apps}
    for a in granted_apps:
        for acc in (by_ecity[city_of_app[a.id]], by_ind[sector.get(a.tenant_id, "unknown")]):
            acc.tenants.add(a.tenant_id)
            acc.granted += a.granted_fen - a.returned_fen
    for r in reds:
        ecity = city_of_app.get(r.application_id, "unknown")
        for acc in (
            by_pcity[r.city_id],
            by_ecity[ecity],
            by_ind[sector.get(r.tenant_id, "unknown")],
            by_op[r.operator],
        ):
            acc.tenants.add(r.tenant_id)
            acc.redeemed += r.paid_fen
            acc.bought += r.eligible_fen
            acc.gpu_h += r.gpu_hours
            acc.node_h += r.node_hours
    granted = sum(a.granted_fen for a in granted_apps)
    returned = sum(a.returned_fen for a in granted_apps)
    redeemed = sum(r.paid_fen for r in reds)
    bought = sum(r.eligible_fen for r in reds)
    settled = sum(r.paid_fen for r in reds if r.settlement_id is not None)
    served = {a.tenant_id for a in granted_apps}
    industries = {k: (k, k) for k in by_ind}
    return ProgrammeReport(
        title_zh=f"{row.name_zh} 资金使用及成效" + (f"({year}年)" if year else ""),
        title_en=f"{row.name_en}: use and effect of the fund" + (f" ({year})" if year else ""),
        programme=prog, year=year, fund_cny=fen_to_cny(row.fund_fen), granted_cny=fen_to_cny(granted),
        returned_cny=fen_to_cny(returned), remaining_cny=fen_to_cny(row.remaining_fen),
        redeemed_cny=fen_to_cny(redeemed), settled_cny=fen_to_cny(settled),
        fund_used_share=round((granted - returned) / row.fund_fen, 6) if row.fund_fen else 0.0,
        applications=dict(sorted(counts.items())), enterprises_served=len(served),
        sme_served=sum(1 for t in served if t in tenants and tenants[t].is_sme),
        compute_bought_cny=fen_to_cny(bought), gpu_hours=round(sum(r.gpu_hours for r in reds), 3),
        node_hours=round(sum(r.node_hours for r in reds), 3),
        leverage=round(bought / redeemed, 3) if redeemed else None,
        by_provider_city=_rows(by_pcity, cities), by_enterprise_city=_rows(by_ecity, cities),
        by_industry=_rows(by_ind, industries), by_provider=_rows(by_op, {}),
        notes=[
            "granted = vouchers issued from the fund; returned = what revoked or expired vouchers gave back "
            "(已发放 / 已退回)",
            "compute bought = eligible bill amount the vouchers co-paid; leverage = compute bought / redeemed "
            "(撬动比)",
            "provider city = where the compute ran; enterprise city = the city the enterprise gave when applying "
            "(算力所在城市 / 企业所在城市)",
        ],
    )  # fmt: skip


class ProgrammeLine(BaseModel):
    """One programme in the overview of a year."""

    id: str
    name_zh: str
    name_en: str
    label: str
    fund_cny: Decimal
    granted_cny: Decimal
    redeemed_cny: Decimal
    enterprises_served: int


class ProgrammesOverview(BaseModel):
    """Every programme's fund use in one year (or all years), and all programmes together by industry and by
    provider city: what the annual report and the empowerment evaluation read."""

    year: int | None
    programmes: list[ProgrammeLine]
    granted_cny: Decimal
    redeemed_cny: Decimal
    enterprises_served: int
    by_industry: list[Breakdown]
    by_provider_city: list[Breakdown]


def overview(session: Session, *, year: int | None = None) -> ProgrammesOverview:
    """All programmes at once (grants net of returns; redemptions booked in ``year`` if given)."""
    ids = list(session.scalars(select(VoucherProgrammeRow.id).order_by(VoucherProgrammeRow.created_s, VoucherProgrammeRow.id)))  # fmt: skip
    reports = [report(session, pid, year=year) for pid in ids]
    apps = [a for a in session.scalars(select(ProgrammeApplicationRow).where(ProgrammeApplicationRow.status == "granted"))
            if year is None or a.grant_year == year]  # fmt: skip
    reds = [
        r
        for r in session.scalars(select(ProgrammeRedemptionRow))
        if year is None or r.month.startswith(f"{year}-")
    ]
    sector = {t.id: (t.sector or "unknown") for t in session.scalars(select(TenantRow))}
    cities = {c.id: (c.name_zh, c.name_en) for c in session.scalars(select(CityRow))}
    by_ind: dict[str, _Acc] = defaultdict(_Acc)
    by_city: dict[str, _Acc] = defaultdict(_Acc)
    for a in apps:
        acc = by_ind[sector.get(a.tenant_id, "unknown")]
        acc.tenants.add(a.tenant_id)
        acc.granted += a.granted_fen - a.returned_fen
    for r in reds:
        for acc in (by_ind[sector.get(r.tenant_id, "unknown")], by_city[r.city_id]):
            acc.tenants.add(r.tenant_id)
            acc.redeemed += r.paid_fen
            acc.bought += r.eligible_fen
            acc.gpu_h += r.gpu_hours
            acc.node_h += r.node_hours
    lines = [
        ProgrammeLine(
            id=r.programme.id, name_zh=r.programme.name_zh, name_en=r.programme.name_en, label=r.programme.label,
            fund_cny=r.fund_cny, granted_cny=r.granted_cny - r.returned_cny, redeemed_cny=r.redeemed_cny,
            enterprises_served=r.enterprises_served,
        )
        for r in reports
    ]  # fmt: skip
    return ProgrammesOverview(
        year=year, programmes=lines, granted_cny=fen_to_cny(sum(a.granted_fen - a.returned_fen for a in apps)),
        redeemed_cny=fen_to_cny(sum(r.paid_fen for r in reds)), enterprises_served=len({a.tenant_id for a in apps}),
        by_industry=_rows(by_ind, {k: (k, k) for k in by_ind}), by_provider_city=_rows(by_city, cities),
    )  # fmt: skip
