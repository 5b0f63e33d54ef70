"""``huanghe vouchers issue|list|show|revoke|expire``, ``huanghe billing meter|invoice|settlement|ledger`` and
``huanghe quotas set|show``, on the database directly (``--db``, see :mod:`huanghe.cli.db_access`). Changes are
recorded in the audit trail with the actor ``cli:<$USER>``."""

from __future__ import annotations

from typing import Annotated

import typer

from huanghe.billing import ledger, quotas, vouchers
from huanghe.billing import service as billing
from huanghe.cli.db_access import (
    DbOption,
    JsonOption,
    actor,
    build,
    db_session,
    emit,
    parse_date,
    parse_decimal,
)
from huanghe.store.crud import every_item

vouchers_app = typer.Typer(help="Compute vouchers (算力券).", no_args_is_help=True)


billing_app = typer.Typer(help="Metering, invoices, settlement, ledger (计量计费).", no_args_is_help=True)


quotas_app = typer.Typer(help="Monthly quotas and budgets per tenant (配额).", no_args_is_help=True)


# --- vouchers --------------------------------------------------------------------------------------------
VOUCHER_COLUMNS = [
    "id",
    "tenant",
    "amount_cny",
    "balance_cny",
    "max_share",
    "valid_until",
    "revoked",
    "expired",
]


#: the repeated options of ``issue`` and the fields of VoucherCreate they fill (errors name the option)
VOUCHER_OPTIONS = {"sectors": "--sector", "centers": "--center", "pools": "--pool"}


@vouchers_app.command("issue")
def issue_cmd(
    tenant: Annotated[str, typer.Option(help="tenant id")],
    amount_cny: Annotated[str, typer.Option(help="amount in CNY, e.g. 50000 or 1234.50")],
    valid_until: Annotated[str, typer.Option(help="last validity instant, ISO (UTC if no zone)")],
    max_share: Annotated[str, typer.Option(help="largest share of a bill the voucher pays, 0..1")] = "1",
    valid_from: Annotated[str | None, typer.Option(help="first validity instant (default now)")] = None,
    sector: Annotated[
        list[str] | None,
        typer.Option(
            help="eligible industry: manufacturing|agriculture|finance|energy|ocean|transport|culture|other"
            " (repeat; default any)"
        ),
    ] = None,
    center: Annotated[list[str] | None, typer.Option(help="eligible center (repeat; default any)")] = None,
    pool: Annotated[list[str] | None, typer.Option(help="eligible pool (repeat; default any)")] = None,
    note: str = "",
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Issue a voucher to a tenant (发放算力券)."""
    body = build(
        vouchers.VoucherCreate, VOUCHER_OPTIONS, tenant=tenant, amount_cny=parse_decimal(amount_cny, "--amount-cny"),
        max_share=parse_decimal(max_share, "--max-share"), valid_until=parse_date(valid_until, "--valid-until"),
        valid_from=parse_date(valid_from, "--valid-from") if valid_from else None, sectors=sector or [],
        centers=center or [], pools=pool or [], note=note,
    )  # fmt: skip
    with db_session(db) as session:
        v = vouchers.issue(session, body, issuer=actor())
    emit([v], VOUCHER_COLUMNS, as_json, "voucher issued (已发放)")


@vouchers_app.command("list")
def list_vouchers_cmd(tenant: str | None = None, db: DbOption = None, as_json: JsonOption = False) -> None:
    """List vouchers with their balances."""
    with db_session(db) as session:
        items = every_item(
            lambda limit, offset: vouchers.list_vouchers(session, tenant=tenant, limit=limit, offset=offset)
        )
    emit(items, VOUCHER_COLUMNS, as_json, "vouchers (算力券)")


@vouchers_app.command("show")
def show_voucher_cmd(voucher_id: str, db: DbOption = None, as_json: JsonOption = False) -> None:
    """One voucher with its eligibility."""
    with db_session(db) as session:
        v = vouchers.get(session, voucher_id)
    emit([v], [*VOUCHER_COLUMNS, "sectors", "centers", "pools", "issuer"], as_json, f"voucher {voucher_id}")


@vouchers_app.command("revoke")
def revoke_voucher_cmd(voucher_id: str, db: DbOption = None, as_json: JsonOption = False) -> None:
    """Revoke a voucher; the remaining balance returns to the subsidy fund."""
    with db_session(db) as session:
        v = vouchers.revoke(session, voucher_id, by=actor())
    emit([v], VOUCHER_COLUMNS, as_json, "voucher revoked (已吊销)")


@vouchers_app.command("expire")
def expire_vouchers_cmd(db: DbOption = None) -> None:
    """Return the balance of vouchers past their validity to the subsidy fund."""
    with db_session(db) as session:
        ids = vouchers.expire(session, by=actor())
    typer.echo(f"expired {len(ids)} voucher(s) (已到期): {', '.join(ids) or '-'}")


# --- billing ---------------------------------------------------------------------------------------------
@billing_app.command("meter")
def meter_cmd(db: DbOption = None) -> None:
    """Meter every finished job of the jobs table not metered yet."""
    with db_session(db) as session:
        n = billing.meter_finished_jobs(session)
    typer.echo(f"metered {n} job(s) (已计量)")


@billing_app.command("invoice")
def invoice_cmd(
    tenant: Annotated[str, typer.Option(help="tenant id")],
    month: Annotated[str, typer.Option(help="YYYY-MM (UTC)")],
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Bill a tenant's month (vouchers first, then its own money)."""
    body = build(billing.InvoiceCreate, tenant=tenant, month=month)
    with db_session(db) as session:
        inv = billing.create_invoice(session, body, actor=actor())
    emit(
        [inv],
        ["id", "tenant", "month", "total_cny", "voucher_cny", "cash_cny", "jobs"],
        as_json,
        "invoice (账单)",
    )


@billing_app.command("settlement")
def settlement_cmd(
    month: Annotated[str, typer.Option(help="YYYY-MM (UTC)")],
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """What each operator is owed for a month (结算)."""
    with db_session(db) as session:
        rows = billing.settlements(session, month)
    emit(
        rows,
        ["operator", "month", "jobs", "node_hours", "billed_cny", "energy_kwh", "carbon_kg"],
        as_json,
        "settlement",
    )


@billing_app.command("ledger")
def ledger_cmd(db: DbOption = None, as_json: JsonOption = False) -> None:
    """Trial balance; exit 1 if the ledger does not balance."""
    with db_session(db) as session:
        tb = ledger.trial_balance(session)
    if as_json:
        typer.echo(tb.model_dump_json())
    else:
        emit(tb.accounts, ["account", "debit_fen", "credit_fen", "balance_fen"], False, "ledger (fen)")
        typer.echo(
            f"total debit {tb.total_debit_fen} fen, credit {tb.total_credit_fen} fen, balanced: {tb.balanced}"
        )
    if not tb.balanced:
        raise typer.Exit(1)


# --- quotas ----------------------------------------------------------------------------------------------
QUOTA_COLUMNS = [
    "tenant",
    "month",
    "gpu_hours_per_month",
    "used_gpu_hours",
    "budget_cny_per_month",
    "used_cny",
]


@quotas_app.command("set")
def set_quota_cmd(
    tenant: Annotated[str, typer.Option(help="tenant id")],
    gpu_hours: Annotated[
        float | None, typer.Option(help="GPU-hours per month (omit: unlimited)", min=0)
    ] = None,
    budget_cny: Annotated[str | None, typer.Option(help="CNY per month (omit: unlimited)")] = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Set a tenant's monthly limits."""
    body = build(
        quotas.QuotaSet, gpu_hours_per_month=gpu_hours,
        budget_cny_per_month=parse_decimal(budget_cny, "--budget-cny") if budget_cny is not None else None,
    )  # fmt: skip
    with db_session(db) as session:
        q = quotas.set_quota(session, tenant, body, actor=actor())
    emit([q], QUOTA_COLUMNS, as_json, "quota (配额)")


@quotas_app.command("show")
def show_quota_cmd(tenant: str, db: DbOption = None, as_json: JsonOption = False) -> None:
    """A tenant's limits and this month's use."""
    with db_session(db) as session:
        q = quotas.get_quota(session, tenant)
    emit([q], QUOTA_COLUMNS, as_json, "quota (配额)")


def register(app: typer.Typer) -> None:
    app.add_typer(vouchers_app, name="vouchers")
    app.add_typer(billing_app, name="billing")
    app.add_typer(quotas_app, name="quotas")
