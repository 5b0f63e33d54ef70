"""Compute vouchers (算力券): issued by a regulator to a tenant, redeemed when the tenant's bill is made.

A voucher has an amount (CNY, kept in integer fen), a validity window, eligibility (sectors, centers, pools;
an empty list means any) and ``max_share``: the largest fraction of the eligible part of a bill it may
pay (the tenant pays the rest with its own money). Redemption locks the voucher row
(``SELECT … FOR UPDATE`` on PostgreSQL) and decrements the balance with a conditional UPDATE
(``balance_fen >= amount``), so concurrent bills can never overspend it; the database CHECK
``balance_fen >= 0`` is the last guard. Every change is a balanced posting in :mod:`huanghe.billing.ledger`
and an audit record. Times are epoch seconds in the database, ISO datetimes in the API.

Sectors are `算力+` industry keys (:mod:`huanghe.domain.industries`; any other value is refused naming the item,
``sectors[i]``): a tenant's bill is eligible when its registered sector falls into one of them
(:func:`~huanghe.domain.industries.industry_of`). A voucher issued before sectors were industries holds free text,
answered as written and still matched exactly against the tenant's registered sector.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

from pydantic import BaseModel, Field, model_validator
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, aliased

from huanghe.audit import service as audit
from huanghe.billing import ledger, programme_funds
from huanghe.billing.models import LedgerEntryRow, VoucherRow
from huanghe.billing.programme_schemas import Sector
from huanghe.core.errors import NotFoundError, conflict, invalid
from huanghe.core.paging import DEFAULT_PAGE_LIMIT, Page
from huanghe.domain.industries import industry_of
from huanghe.domain.network import ID_PATTERN
from huanghe.domain.tenancy import cny_to_fen, fen_to_cny
from huanghe.network.models import CenterRow, PoolRow
from huanghe.store.crud import filtered, get_row, page_of
from huanghe.tenancy.models import TenantRow

MAX_VOUCHER_CNY = Decimal("100000000")  # 1e8 CNY per voucher
IdList = list[str]


class VoucherCreate(BaseModel):
    """A voucher to issue. ``max_share`` in (0, 1]: e.g. 0.5 = pays at most half of each eligible bill."""

    tenant: str = Field(pattern=ID_PATTERN)
    amount_cny: Decimal = Field(gt=0, le=MAX_VOUCHER_CNY, decimal_places=2)
    max_share: Decimal = Field(default=Decimal(1), gt=0, le=1, decimal_places=4)
    valid_from: datetime | None = None
    valid_until: datetime
    sectors: list[Sector] = Field(
        default_factory=list, max_length=100, description="`算力+` industry keys (GET /api/v1/industries)"
    )
    centers: IdList = Field(default_factory=list, max_length=1000)
    pools: IdList = Field(default_factory=list, max_length=1000)
    note: str = Field(default="", max_length=2000)

    @model_validator(mode="after")
    def _window(self) -> VoucherCreate:
        for name in ("valid_from", "valid_until"):
            value = getattr(self, name)
            if value is not None and value.tzinfo is None:
                setattr(self, name, value.replace(tzinfo=UTC))
        if self.valid_from is not None and self.valid_until <= self.valid_from:
            raise ValueError("valid_until must be after valid_from")
        return self


class VoucherPublic(BaseModel):
    """A voucher with its remaining balance (CNY, two decimals)."""

    id: str
    tenant: str
    issuer: str
    amount_cny: Decimal
    balance_cny: Decimal
    max_share: Decimal
    valid_from: datetime
    valid_until: datetime
    sectors: IdList = Field(description="industry keys; a voucher issued before: free text, as written")
    centers: IdList
    pools: IdList
    revoked: bool
    expired: bool
    note: str
    redeemed_cny: Decimal = Field(default=Decimal(0), description="paid on the tenant's bills so far (CNY)")


def _dt(epoch_s: float) -> datetime:
    return datetime.fromtimestamp(epoch_s, UTC)


def public(row: VoucherRow, now: float | None = None, redeemed_fen: int = 0) -> VoucherPublic:
    now = time.time() if now is None else now
    return VoucherPublic(
        id=row.id, tenant=row.tenant_id, issuer=row.issuer, amount_cny=fen_to_cny(row.amount_fen),
        balance_cny=fen_to_cny(row.balance_fen), max_share=Decimal(row.max_share_bp) / 10_000,
        valid_from=_dt(row.valid_from_s), valid_until=_dt(row.valid_until_s), sectors=list(row.sectors),
        centers=list(row.centers), pools=list(row.pools), revoked=row.revoked_s is not None,
        expired=row.valid_until_s <= now, note=row.note, redeemed_cny=fen_to_cny(redeemed_fen),
    )  # fmt: skip


def redeemed_fen(session: Session, voucher_ids: Sequence[str]) -> dict[str, int]:
    """Fen each voucher paid on its tenant's bills: the debits of its liability account in postings that
    credit a tenant receivable (redemptions; a revocation's or expiry's return credits a fund instead)."""
    if not voucher_ids:
        return {}
    mine, other = aliased(LedgerEntryRow), aliased(LedgerEntryRow)
    accounts = {ledger.voucher_account(v): v for v in voucher_ids}
    rows = session.execute(
        select(mine.account, func.sum(mine.debit_fen))
        .join(other, other.posting_id == mine.posting_id)
        .where(mine.account.in_(accounts), mine.debit_fen > 0, other.credit_fen > 0,
               other.account.startswith(ledger.receivable_account(""), autoescape=True))
        .group_by(mine.account)
    ).all()  # fmt: skip
    return {accounts[a]: int(total) for a, total in rows}


def _check_refs(session: Session, body: VoucherCreate) -> None:
    if session.get(TenantRow, body.tenant) is None:
        raise invalid("tenant", f"unknown tenant {body.tenant!r}")
    for key, model in (("centers", CenterRow), ("pools", PoolRow)):
        ids = getattr(body, key)
        known = set(session.scalars(select(model.id).where(model.id.in_(ids)))) if ids else set()
        for i, ident in enumerate(ids):
            if ident not in known:
                raise invalid(f"{key}[{i}]", f"unknown {key[:-1]} {ident!r}")


def new_voucher(
    session: Session, *, tenant_id: str, amount_fen: int, max_share_bp: int, valid_from_s: float,
    valid_until_s: float, sectors: IdList, centers: IdList, pools: IdList, issuer: str, note: str,
    funded_by: str, now: float,
) -> VoucherRow:  # fmt: skip
    """Add a voucher row and its issue posting (Dr ``funded_by`` / Cr voucher_liability), audited, in the
    caller's transaction (flushed, not committed). ``funded_by``: the subsidy fund or a programme's fund."""
    if max_share_bp <= 0:
        raise invalid("max_share", "must be at least 0.0001")
    row = VoucherRow(
        id="v-" + uuid.uuid4().hex[:12], tenant_id=tenant_id, issuer=issuer[:200], amount_fen=amount_fen,
        balance_fen=amount_fen, max_share_bp=max_share_bp, valid_from_s=valid_from_s,
        valid_until_s=valid_until_s, sectors=list(sectors), centers=list(centers), pools=list(pools),
        created_s=now, note=note,
    )  # fmt: skip
    session.add(row)
    session.flush()
    ledger.transfer(
        session, f"issue {row.id}", funded_by, ledger.voucher_account(row.id), amount_fen, now=now
    )
    audit.record(
        session, issuer, "voucher.issue", row.id, {"tenant": tenant_id, "amount_fen": amount_fen}, now=now
    )
    return row


def issue(session: Session, body: VoucherCreate, *, issuer: str, now: float | None = None) -> VoucherPublic:
    """Issue and commit a voucher: Dr subsidy_fund / Cr voucher_liability; audited."""
    now = time.time() if now is None else now
    _check_refs(session, body)
    valid_from = body.valid_from.timestamp() if body.valid_from is not None else now
    if body.valid_until.timestamp() <= valid_from:
        raise invalid("valid_until", "must be after valid_from (or after now)")
    row = new_voucher(
        session, tenant_id=body.tenant, amount_fen=cny_to_fen(body.amount_cny),
        max_share_bp=int(body.max_share * 10_000), valid_from_s=valid_from,
        valid_until_s=body.valid_until.timestamp(), sectors=body.sectors, centers=body.centers,
        pools=body.pools, issuer=issuer, note=body.note, funded_by=ledger.SUBSIDY_FUND, now=now,
    )  # fmt: skip
    session.commit()
    return public(row, now)


def get(session: Session, voucher_id: str, *, now: float | None = None) -> VoucherPublic:
    row = get_row(session, VoucherRow, voucher_id, "voucher")
    return public(row, now, redeemed_fen(session, [voucher_id]).get(voucher_id, 0))


def tenant_of_voucher(session: Session, voucher_id: str) -> str:
    """The tenant holding voucher ``voucher_id``; :class:`NotFoundError` when there is no such voucher."""
    row = get_row(session, VoucherRow, voucher_id, "voucher")
    return row.tenant_id


def list_vouchers(
    session: Session,
    *,
    tenant: str | None = None,
    limit: int = DEFAULT_PAGE_LIMIT,
    offset: int = 0,
    now: float | None = None,
) -> Page[VoucherPublic]:
    """A page of vouchers, oldest first, optionally of one tenant."""
    query = filtered(select(VoucherRow), {VoucherRow.tenant_id: tenant})
    page = page_of(
        session, query, (VoucherRow.created_s, VoucherRow.id), limit, offset, lambda r: public(r, now)
    )
    used = redeemed_fen(session, [v.id for v in page.items])
    page.items = [v.model_copy(update={"redeemed_cny": fen_to_cny(used.get(v.id, 0))}) for v in page.items]
    return page


class VoucherSummary(BaseModel):
    """Totals over every voucher of the filter (not one page): counts, and CNY with two decimals."""

    vouchers: int = Field(description="vouchers issued")
    active: int = Field(description="usable now: not revoked, not expired, valid already, balance left")
    amount_cny: Decimal = Field(description="issued in total")
    balance_cny: Decimal = Field(description="balance left on the active vouchers")
    redeemed_cny: Decimal = Field(description="paid on the tenants' bills so far")


def summary(session: Session, *, tenant: str | None = None, now: float | None = None) -> VoucherSummary:
    """Totals of every voucher (optionally of one tenant), computed in the database."""
    now = time.time() if now is None else now
    active = (
        VoucherRow.revoked_s.is_(None) & (VoucherRow.valid_until_s > now) & (VoucherRow.valid_from_s <= now)
        & (VoucherRow.balance_fen > 0)
    )  # fmt: skip
    mine = [] if tenant is None else [VoucherRow.tenant_id == tenant]
    query = select(
        func.count(VoucherRow.id),
        func.coalesce(func.sum(VoucherRow.amount_fen), 0),
        func.count(VoucherRow.id).filter(active),
        func.coalesce(func.sum(VoucherRow.balance_fen).filter(active), 0),
    ).where(*mine)
    count, amount_fen, n_active, balance_fen = session.execute(query).one()
    ids = list(session.scalars(select(VoucherRow.id).where(*mine)))
    redeemed = sum(redeemed_fen(session, ids).values())
    return VoucherSummary(
        vouchers=int(count), active=int(n_active), amount_cny=fen_to_cny(int(amount_fen)),
        balance_cny=fen_to_cny(int(balance_fen)), redeemed_cny=fen_to_cny(int(redeemed)),
    )  # fmt: skip


def _locked(session: Session, voucher_id: str) -> VoucherRow | None:
    return session.scalars(
        select(VoucherRow)
        .where(VoucherRow.id == voucher_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).first()


def _return_balance(session: Session, row: VoucherRow, why: str, *, by: str, now: float) -> None:
    """Empty the (locked) voucher ``row``: its balance goes back to the subsidy fund or its programme's fund
    (Dr voucher_liability / Cr subsidy_fund or programme_fund; no entry for 0 fen) and the audit records
    ``voucher.<why>`` with the fen returned, at ``now`` (epoch seconds). Not committed."""
    remaining, row.balance_fen = row.balance_fen, 0
    if remaining:
        ledger.transfer(
            session,
            f"{why} {row.id}",
            ledger.voucher_account(row.id),
            programme_funds.return_account(session, row.id, remaining),
            remaining,
            now=now,
        )
    audit.record(session, by, f"voucher.{why}", row.id, {"returned_fen": remaining}, now=now)


def revoke(session: Session, voucher_id: str, *, by: str, now: float | None = None) -> VoucherPublic:
    """Revoke (idempotent): the remaining balance goes back to the subsidy fund (a programme's grant: to
    the programme's fund); audited."""
    now = time.time() if now is None else now
    row = _locked(session, voucher_id)
    if row is None:
        raise NotFoundError("voucher", voucher_id)
    if row.revoked_s is None:
        row.revoked_s = now
        _return_balance(session, row, "revoke", by=by, now=now)
    session.commit()
    return public(row, now)


def expire(session: Session, *, by: str, now: float | None = None) -> list[str]:
    """Close the vouchers whose validity ended with money left: the balance returns to the subsidy fund
    or its programme's fund (Dr voucher_liability / Cr subsidy_fund or programme_fund), audited; returns their ids (committed)."""
    now = time.time() if now is None else now
    ids = list(
        session.scalars(
            select(VoucherRow.id).where(
                VoucherRow.valid_until_s <= now, VoucherRow.revoked_s.is_(None), VoucherRow.balance_fen > 0
            ).order_by(VoucherRow.id)
        )
    )  # fmt: skip
    for voucher_id in ids:
        row = _locked(session, voucher_id)
        if row is None or row.balance_fen <= 0:
            continue
        _return_balance(session, row, "expire", by=by, now=now)
        session.commit()  # one voucher at a time: never holds a programme's row while locking the next voucher
    session.commit()
    return ids


@dataclass(frozen=True)
class BillLine:
    """A part of a bill: what was used where, in fen, and the compute behind it (GPU-hours, node-hours;
    0 when unknown, read by the voucher programmes' report)."""

    center_id: str
    pool_id: str
    amount_fen: int
    gpu_hours: float = 0.0
    node_hours: float = 0.0


def sector_eligible(sectors: Sequence[str], sector: str) -> bool:
    """A tenant whose registered ``sector`` falls into one of the voucher's industries (or, for a voucher's older
    free-text sector, is written exactly so) may use it; an empty list admits every sector."""
    return not sectors or sector in sectors or industry_of(sector) in sectors


def _eligible_lines(row: VoucherRow, sector: str, lines: Sequence[BillLine]) -> list[BillLine]:
    if not sector_eligible(row.sectors, sector):
        return []
    return [
        ln for ln in lines
        if (not row.centers or ln.center_id in row.centers) and (not row.pools or ln.pool_id in row.pools)
    ]  # fmt: skip


def redeem(
    session: Session, voucher_id: str, *, tenant_id: str, sector: str, lines: Sequence[BillLine],
    limit_fen: int, memo: str, now: float | None = None,
) -> int:  # fmt: skip
    """Pay up to ``limit_fen`` of a bill with the voucher, in the caller's transaction; returns fen paid.

    The amount is the smallest of: the voucher balance, ``max_share`` of the eligible lines, ``limit_fen``.
    0 when the voucher is another tenant's, revoked, outside its validity or not eligible."""
    now = time.time() if now is None else now
    row = _locked(session, voucher_id)
    if row is None or row.tenant_id != tenant_id or row.revoked_s is not None:
        return 0
    if not (row.valid_from_s <= now < row.valid_until_s):
        return 0
    eligible_lines = _eligible_lines(row, sector, lines)
    eligible = sum(ln.amount_fen for ln in eligible_lines)
    pay = min(row.balance_fen, eligible * row.max_share_bp // 10_000, max(limit_fen, 0))
    if pay <= 0:
        return 0
    done = session.execute(
        update(VoucherRow).where(VoucherRow.id == voucher_id, VoucherRow.balance_fen >= pay)
        .values(balance_fen=VoucherRow.balance_fen - pay)
    )  # fmt: skip
    if getattr(done, "rowcount", 0) != 1:
        raise conflict("voucher", f"voucher {voucher_id} changed during redemption; retry")
    ledger.transfer(
        session, memo, ledger.voucher_account(voucher_id), ledger.receivable_account(tenant_id), pay, now=now
    )
    programme_funds.record_redemption(
        session, voucher_id, tenant_id=tenant_id, lines=eligible_lines, paid_fen=pay, now=now
    )
    return pay


def usable_for(session: Session, tenant_id: str, *, now: float) -> list[str]:
    """Ids of the tenant's vouchers usable at ``now``, soonest expiry first."""
    return list(
        session.scalars(
            select(VoucherRow.id).where(
                VoucherRow.tenant_id == tenant_id, VoucherRow.revoked_s.is_(None), VoucherRow.balance_fen > 0,
                VoucherRow.valid_from_s <= now, VoucherRow.valid_until_s > now,
            ).order_by(VoucherRow.valid_until_s, VoucherRow.id)
        )
    )  # fmt: skip


def pay_bill(
    session: Session, *, tenant_id: str, lines: Sequence[BillLine], memo: str, now: float | None = None
) -> tuple[int, int]:
    """Book a bill for a tenant and pay it: vouchers first (soonest expiry first), own money for the rest.

    Postings: Dr tenant_receivable / Cr operator_payable is done by the caller (per operator); here
    redemptions (Dr voucher_liability / Cr tenant_receivable) and the cash payment (Dr cash / Cr
    tenant_receivable). Returns (voucher_fen, cash_fen); flushes, the caller commits."""
    now = time.time() if now is None else now
    tenant = session.get(TenantRow, tenant_id)
    sector = tenant.sector if tenant is not None else ""
    total = sum(ln.amount_fen for ln in lines)
    paid_by_vouchers = 0
    for voucher_id in usable_for(session, tenant_id, now=now):
        if paid_by_vouchers >= total:
            break
        paid_by_vouchers += redeem(
            session, voucher_id, tenant_id=tenant_id, sector=sector, lines=lines,
            limit_fen=total - paid_by_vouchers, memo=f"{memo}: voucher {voucher_id}", now=now,
        )  # fmt: skip
    cash = total - paid_by_vouchers
    if cash:
        ledger.transfer(
            session, f"{memo}: own money", ledger.CASH, ledger.receivable_account(tenant_id), cash, now=now
        )
    return paid_by_vouchers, cash
