"""The money of voucher programmes: the fund, redemptions by provider, returns and settlement to providers.

Ledger accounts (all in fen, see :mod:`huanghe.billing.ledger`):

* ``programme_fund:<programme>`` — what the fund has not granted (credit balance = ``remaining_fen``);
* ``programme_disbursed:<programme>`` — what the fund paid to providers (credit balance).

Postings: create (Dr subsidy_fund / Cr programme_fund), grant (Dr programme_fund / Cr voucher_liability),
redeem (the voucher's own: Dr voucher_liability / Cr tenant_receivable), return of a revoked or expired grant
(Dr voucher_liability / Cr programme_fund), settlement (Dr operator_payable / Cr programme_disbursed: the
fund pays the provider the voucher-paid part of its bills directly).

The fund is never overspent: :func:`take` is ONE conditional ``UPDATE … SET remaining_fen = remaining_fen -
x WHERE remaining_fen >= x`` (atomic in the database, whatever the number of concurrent grants), and the
CHECK ``remaining_fen >= 0 AND remaining_fen <= fund_fen`` of ``voucher_programmes`` is the last guard.
:mod:`huanghe.billing.vouchers` calls :func:`return_account` and :func:`record_redemption` so a programme's
voucher behaves like any voucher while its fund and report stay exact. This module never imports vouchers.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Protocol

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from huanghe.audit import service as audit
from huanghe.billing import ledger
from huanghe.billing.models import (
    ProgrammeApplicationRow,
    ProgrammeRedemptionRow,
    ProgrammeSettlementRow,
    VoucherProgrammeRow,
)
from huanghe.billing.programme_rules import allocate
from huanghe.core.errors import NotFoundError
from huanghe.network.models import CenterRow


def fund_account(programme_id: str) -> str:
    return f"programme_fund:{programme_id}"


def disbursed_account(programme_id: str) -> str:
    return f"programme_disbursed:{programme_id}"


def take(session: Session, programme_id: str, amount_fen: int) -> bool:
    """Take ``amount_fen`` (> 0) from an open programme's fund: True when taken, False when the fund has
    less left or the programme is closed. One conditional UPDATE; the caller's transaction."""
    done = session.execute(
        update(VoucherProgrammeRow)
        .where(
            VoucherProgrammeRow.id == programme_id,
            VoucherProgrammeRow.status == "open",
            VoucherProgrammeRow.remaining_fen >= amount_fen,
        )
        .values(remaining_fen=VoucherProgrammeRow.remaining_fen - amount_fen)
        .execution_options(synchronize_session=False)
    )
    return getattr(done, "rowcount", 0) == 1


def give_back(session: Session, programme_id: str, amount_fen: int) -> None:
    """Return ``amount_fen`` to the fund (an atomic increment; the CHECK keeps it within the fund)."""
    session.execute(
        update(VoucherProgrammeRow)
        .where(VoucherProgrammeRow.id == programme_id)
        .values(remaining_fen=VoucherProgrammeRow.remaining_fen + amount_fen)
        .execution_options(synchronize_session=False)
    )


def grant_of_voucher(session: Session, voucher_id: str) -> ProgrammeApplicationRow | None:
    """The granted application whose voucher is ``voucher_id`` (None for a voucher issued one by one)."""
    return session.scalars(
        select(ProgrammeApplicationRow).where(ProgrammeApplicationRow.voucher_id == voucher_id)
    ).first()


def return_account(session: Session, voucher_id: str, amount_fen: int) -> str:
    """Where a revoked or expired voucher's ``amount_fen`` goes back: its programme's fund (which is credited,
    and the grant's ``returned_fen`` raised) or, for a voucher issued one by one, the subsidy fund."""
    grant = grant_of_voucher(session, voucher_id)
    if grant is None:
        return ledger.SUBSIDY_FUND
    give_back(session, grant.programme_id, amount_fen)  # the programme row before the application's,
    session.execute(  # the order a review locks them in (no deadlock)
        update(ProgrammeApplicationRow)
        .where(ProgrammeApplicationRow.id == grant.id)
        .values(returned_fen=ProgrammeApplicationRow.returned_fen + amount_fen)
        .execution_options(synchronize_session=False)
    )
    return fund_account(grant.programme_id)


class Line(Protocol):
    """A bill line as :class:`huanghe.billing.vouchers.BillLine` has it (fen, hours)."""

    @property
    def center_id(self) -> str: ...
    @property
    def amount_fen(self) -> int: ...
    @property
    def gpu_hours(self) -> float: ...
    @property
    def node_hours(self) -> float: ...


def record_redemption(
    session: Session, voucher_id: str, *, tenant_id: str, lines: Sequence[Line], paid_fen: int, now: float
) -> int:
    """If ``voucher_id`` is a programme grant, record what it paid (``paid_fen``) against the eligible
    ``lines``, split by center pro rata to their amounts; returns the number of rows (0: not a grant)."""
    grant = grant_of_voucher(session, voucher_id)
    if grant is None or paid_fen <= 0:
        return 0
    by_center: dict[str, list[float]] = defaultdict(lambda: [0, 0.0, 0.0])
    for ln in lines:
        acc = by_center[ln.center_id]
        acc[0] += ln.amount_fen
        acc[1] += ln.gpu_hours
        acc[2] += ln.node_hours
    centers = sorted(by_center)
    parts = allocate(paid_fen, [int(by_center[c][0]) for c in centers])
    month = datetime.fromtimestamp(now, UTC).strftime("%Y-%m")
    for center_id, part in zip(centers, parts, strict=True):
        center = session.get(CenterRow, center_id)
        eligible, gpu_h, node_h = by_center[center_id]
        session.add(
            ProgrammeRedemptionRow(
                programme_id=grant.programme_id,
                application_id=grant.id,
                voucher_id=voucher_id,
                tenant_id=tenant_id,
                operator=center.operator if center else "",
                center_id=center_id,
                city_id=center.city_id if center else "",
                month=month,
                at_s=now,
                eligible_fen=int(eligible),
                paid_fen=part,
                gpu_hours=gpu_h,
                node_hours=node_h,
            )
        )
    session.flush()
    return len(centers)


def locked_programme(session: Session, programme_id: str) -> VoucherProgrammeRow:
    """The programme row, locked until the transaction ends (``SELECT … FOR UPDATE`` on PostgreSQL)."""
    row = session.scalars(
        select(VoucherProgrammeRow)
        .where(VoucherProgrammeRow.id == programme_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).first()
    if row is None:
        raise NotFoundError("programme", programme_id)
    return row


def settle(session: Session, programme_id: str, *, by: str, now: float | None = None) -> list[int]:
    """Pay every provider the voucher-paid part of its bills not settled yet, one settlement per operator
    (Dr operator_payable / Cr programme_disbursed), audited and committed; returns the settlement ids.

    The programme row is locked first, so two settlements of one programme never pay a redemption twice."""
    now = time.time() if now is None else now
    locked_programme(session, programme_id)
    rows = session.scalars(
        select(ProgrammeRedemptionRow)
        .where(ProgrammeRedemptionRow.programme_id == programme_id, ProgrammeRedemptionRow.settlement_id.is_(None))
        .order_by(ProgrammeRedemptionRow.id)
    ).all()  # fmt: skip
    per_operator: dict[str, list[ProgrammeRedemptionRow]] = defaultdict(list)
    for r in rows:
        per_operator[r.operator].append(r)
    ids: list[int] = []
    for operator, items in sorted(per_operator.items()):
        amount = sum(r.paid_fen for r in items)
        st = ProgrammeSettlementRow(
            programme_id=programme_id, operator=operator, amount_fen=amount, redemptions=len(items),
            created_s=now, created_by=by[:200],
        )  # fmt: skip
        session.add(st)
        session.flush()
        session.execute(
            update(ProgrammeRedemptionRow)
            .where(ProgrammeRedemptionRow.id.in_([r.id for r in items]))
            .values(settlement_id=st.id)
            .execution_options(synchronize_session=False)
        )
        if amount:
            ledger.transfer(
                session, f"programme {programme_id} settlement {st.id} to {operator}",
                ledger.payable_account(operator), disbursed_account(programme_id), amount, now=now,
            )  # fmt: skip
        audit.record(
            session, by, "programme.settle", programme_id,
            {"settlement": st.id, "operator": operator, "amount_fen": amount}, now=now,
        )  # fmt: skip
        ids.append(st.id)
    session.commit()
    return ids
