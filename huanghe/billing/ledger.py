"""The double-entry ledger of vouchers and bills, in integer fen.

Every posting is a set of lines on accounts, each line a debit or a credit, and the debits of a posting
equal its credits (checked before anything is written; the database also refuses a line with both sides).
Accounts:

* ``subsidy_fund`` — the authority's voucher budget (debited when a voucher is issued, credited back when
  a voucher is revoked with money left);
* ``voucher_liability:<voucher>`` — what a voucher still owes (credit balance = the voucher's balance);
* ``tenant_receivable:<tenant>`` — what a tenant owes for its bills;
* ``operator_payable:<operator>`` — what the platform owes a center operator for the compute it sold;
* ``cash`` — money received from tenants (and paid out to operators at settlement).

Postings: issue (Dr subsidy_fund / Cr voucher_liability), bill (Dr tenant_receivable / Cr operator_payable
per operator), redeem (Dr voucher_liability / Cr tenant_receivable), tenant payment (Dr cash / Cr
tenant_receivable), revoke (Dr voucher_liability / Cr subsidy_fund). ``ledger_entries`` is append-only.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from pydantic import BaseModel
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from huanghe.billing.models import LedgerEntryRow

SUBSIDY_FUND = "subsidy_fund"
CASH = "cash"


def voucher_account(voucher_id: str) -> str:
    return f"voucher_liability:{voucher_id}"


def receivable_account(tenant_id: str) -> str:
    return f"tenant_receivable:{tenant_id}"


def payable_account(operator: str) -> str:
    return f"operator_payable:{operator}"


@dataclass(frozen=True)
class Line:
    """One side of a posting: ``debit_fen`` or ``credit_fen`` (the other is 0)."""

    account: str
    debit_fen: int = 0
    credit_fen: int = 0


class UnbalancedPostingError(ValueError):
    """A posting whose debits and credits differ, or a line with a negative or double-sided amount."""


def post(session: Session, memo: str, lines: Sequence[Line], *, now: float | None = None) -> str:
    """Add a balanced posting (in the caller's transaction) and return its id; zero lines are dropped."""
    lines = [ln for ln in lines if ln.debit_fen or ln.credit_fen]
    for ln in lines:
        if ln.debit_fen < 0 or ln.credit_fen < 0 or (ln.debit_fen and ln.credit_fen):
            raise UnbalancedPostingError(
                f"bad line on {ln.account}: debit {ln.debit_fen}, credit {ln.credit_fen}"
            )
    debits, credits = sum(ln.debit_fen for ln in lines), sum(ln.credit_fen for ln in lines)
    if debits != credits:
        raise UnbalancedPostingError(f"posting {memo!r}: debits {debits} fen != credits {credits} fen")
    posting_id = uuid.uuid4().hex
    at = time.time() if now is None else now
    rows = [
        LedgerEntryRow(posting_id=posting_id, at_s=at, account=ln.account, debit_fen=ln.debit_fen,
                       credit_fen=ln.credit_fen, memo=memo[:500])
        for ln in lines
    ]  # fmt: skip
    session.add_all(rows)
    session.flush()
    return posting_id


def transfer(
    session: Session, memo: str, debit: str, credit: str, amount_fen: int, *, now: float | None = None
) -> str:
    """A two-line posting moving ``amount_fen`` (> 0) from ``credit`` to ``debit``."""
    return post(
        session, memo, [Line(debit, debit_fen=amount_fen), Line(credit, credit_fen=amount_fen)], now=now
    )


class AccountBalance(BaseModel):
    """Totals of one account in fen; ``balance_fen`` = credits − debits (positive for liabilities)."""

    account: str
    debit_fen: int
    credit_fen: int
    balance_fen: int


class TrialBalance(BaseModel):
    """All accounts; ``balanced`` when total debits equal total credits and every posting balances."""

    accounts: list[AccountBalance]
    total_debit_fen: int
    total_credit_fen: int
    unbalanced_postings: list[str]
    balanced: bool


def account_balance(session: Session, account: str) -> int:
    """Credits − debits of one account, fen."""
    debit, credit = session.execute(
        select(func.coalesce(func.sum(LedgerEntryRow.debit_fen), 0), func.coalesce(func.sum(LedgerEntryRow.credit_fen), 0))
        .where(LedgerEntryRow.account == account)
    ).one()  # fmt: skip
    return int(credit) - int(debit)


def trial_balance(session: Session, *, prefix: str | None = None) -> TrialBalance:
    """Per-account totals (optionally accounts starting with ``prefix``) and the balance checks."""
    query = select(
        LedgerEntryRow.account, func.sum(LedgerEntryRow.debit_fen), func.sum(LedgerEntryRow.credit_fen)
    ).group_by(LedgerEntryRow.account)
    if prefix:
        query = query.where(LedgerEntryRow.account.startswith(prefix, autoescape=True))
    accounts = [
        AccountBalance(account=a, debit_fen=int(d), credit_fen=int(c), balance_fen=int(c) - int(d))
        for a, d, c in session.execute(query.order_by(LedgerEntryRow.account))
    ]
    total_d, total_c = session.execute(
        select(func.coalesce(func.sum(LedgerEntryRow.debit_fen), 0), func.coalesce(func.sum(LedgerEntryRow.credit_fen), 0))
    ).one()  # fmt: skip
    unbalanced = list(
        session.scalars(
            select(LedgerEntryRow.posting_id).group_by(LedgerEntryRow.posting_id)
            .having(func.sum(LedgerEntryRow.debit_fen) != func.sum(LedgerEntryRow.credit_fen))
        )
    )  # fmt: skip
    return TrialBalance(
        accounts=accounts, total_debit_fen=int(total_d), total_credit_fen=int(total_c),
        unbalanced_postings=unbalanced, balanced=int(total_d) == int(total_c) and not unbalanced,
    )  # fmt: skip
