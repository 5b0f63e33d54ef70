"""Programme vouchers issued and redeemed per sector and per city (算力券发放与使用统计), over every programme or
one, for the regulator's console page and ``GET /api/v1/programme-stats``.

* **Issued**: the grants (one voucher each) made from the programmes' funds, net of the money returned by
  revoked or expired vouchers (``issued_cny``); ``vouchers_issued`` counts the grants.
* **Redeemed**: what the programme vouchers paid on bills (``redeemed_cny``), with the eligible bill amount
  they co-paid (``compute_bought_cny``) and its GPU-hours; ``vouchers_redeemed`` counts the vouchers that paid
  anything.
* **Sector**: the tenant's ``sector`` as registered (free text, ``unknown`` when empty).
* **City** (``by_city``): the city the enterprise gave when applying (``unknown`` when none), for grants and
  for redemptions alike; ``by_provider_city``: where the compute that was paid for ran (redemptions only, so
  its ``vouchers_issued`` is always 0).

``year`` (UTC) narrows grants to those made that year and redemptions to those booked that year. Vouchers
issued one by one (``POST /api/v1/vouchers``) belong to no programme and are not counted here. Money in CNY
with two decimals.
"""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session

from huanghe.billing.models import ProgrammeApplicationRow, ProgrammeRedemptionRow, VoucherProgrammeRow
from huanghe.core.errors import NotFoundError
from huanghe.domain.tenancy import fen_to_cny
from huanghe.network.models import CityRow
from huanghe.tenancy.models import TenantRow

UNKNOWN = "unknown"


class StatLine(BaseModel):
    """One sector or city: vouchers issued and redeemed there (see the module's docstring)."""

    key: str
    name_zh: str
    name_en: str
    vouchers_issued: int
    vouchers_redeemed: int
    enterprises: int
    issued_cny: Decimal
    redeemed_cny: Decimal
    compute_bought_cny: Decimal
    gpu_hours: float


class ProgrammeStats(BaseModel):
    """Totals and the breakdowns of the programmes asked for (all, or ``programme``), in ``year`` or ever."""

    year: int | None
    programme: str | None
    programmes: int
    vouchers_issued: int
    vouchers_redeemed: int
    enterprises: int
    issued_cny: Decimal
    returned_cny: Decimal
    redeemed_cny: Decimal
    compute_bought_cny: Decimal
    by_sector: list[StatLine]
    by_city: list[StatLine]
    by_provider_city: list[StatLine]


class _Acc:
    def __init__(self) -> None:
        self.tenants: set[str] = set()
        self.issued: set[str] = set()
        self.redeemed_vouchers: set[str] = set()
        self.issued_fen = self.redeemed_fen = self.bought_fen = 0
        self.gpu_h = 0.0


def _lines(accs: dict[str, _Acc], names: dict[str, tuple[str, str]]) -> list[StatLine]:
    ordered = sorted(accs.items(), key=lambda kv: (-kv[1].issued_fen, -kv[1].redeemed_fen, kv[0]))
    return [
        StatLine(
            key=k, name_zh=names.get(k, (k, k))[0], name_en=names.get(k, (k, k))[1],
            vouchers_issued=len(a.issued), vouchers_redeemed=len(a.redeemed_vouchers), enterprises=len(a.tenants),
            issued_cny=fen_to_cny(a.issued_fen), redeemed_cny=fen_to_cny(a.redeemed_fen),
            compute_bought_cny=fen_to_cny(a.bought_fen), gpu_hours=round(a.gpu_h, 3),
        )
        for k, a in ordered
    ]  # fmt: skip


def stats(session: Session, *, year: int | None = None, programme: str | None = None) -> ProgrammeStats:
    """Vouchers issued and redeemed per sector and per city (404 naming ``programme`` when it is unknown)."""
    if programme is not None and session.get(VoucherProgrammeRow, programme) is None:
        raise NotFoundError("programme", programme)
    apps_q = select(ProgrammeApplicationRow)
    reds_q = select(ProgrammeRedemptionRow)
    if programme is not None:
        apps_q = apps_q.where(ProgrammeApplicationRow.programme_id == programme)
        reds_q = reds_q.where(ProgrammeRedemptionRow.programme_id == programme)
    apps = list(session.scalars(apps_q))
    city_of_app = {a.id: a.city or UNKNOWN for a in apps}
    grants = [a for a in apps if a.status == "granted" and (year is None or a.grant_year == year)]
    reds = [r for r in session.scalars(reds_q) if year is None or r.month.startswith(f"{year}-")]
    sector = {t.id: t.sector or UNKNOWN for t in session.scalars(select(TenantRow))}
    cities = {c.id: (c.name_zh, c.name_en) for c in session.scalars(select(CityRow))}
    cities[UNKNOWN] = ("未填写", "not given")
    by_sector: dict[str, _Acc] = defaultdict(_Acc)
    by_city: dict[str, _Acc] = defaultdict(_Acc)
    by_provider_city: dict[str, _Acc] = defaultdict(_Acc)
    for a in grants:
        for acc in (by_sector[sector.get(a.tenant_id, UNKNOWN)], by_city[city_of_app[a.id]]):
            acc.tenants.add(a.tenant_id)
            acc.issued.add(a.voucher_id or a.id)
            acc.issued_fen += a.granted_fen - a.returned_fen
    for r in reds:
        places = (
            by_sector[sector.get(r.tenant_id, UNKNOWN)],
            by_city[city_of_app.get(r.application_id, UNKNOWN)],
            by_provider_city[r.city_id],
        )
        for acc in places:
            acc.tenants.add(r.tenant_id)
            acc.redeemed_vouchers.add(r.voucher_id)
            acc.redeemed_fen += r.paid_fen
            acc.bought_fen += r.eligible_fen
            acc.gpu_h += r.gpu_hours
    n_programmes = 1 if programme is not None else len(list(session.scalars(select(VoucherProgrammeRow.id))))
    return ProgrammeStats(
        year=year, programme=programme, programmes=n_programmes, vouchers_issued=len(grants),
        vouchers_redeemed=len({r.voucher_id for r in reds}),
        enterprises=len({a.tenant_id for a in grants} | {r.tenant_id for r in reds}),
        issued_cny=fen_to_cny(sum(a.granted_fen - a.returned_fen for a in grants)),
        returned_cny=fen_to_cny(sum(a.returned_fen for a in grants)),
        redeemed_cny=fen_to_cny(sum(r.paid_fen for r in reds)),
        compute_bought_cny=fen_to_cny(sum(r.eligible_fen for r in reds)),
        by_sector=_lines(by_sector, {}), by_city=_lines(by_city, cities),
        by_provider_city=_lines(by_provider_city, cities),
    )  # fmt: skip
