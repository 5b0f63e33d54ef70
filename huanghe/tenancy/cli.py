"""Tenancy and security commands, working on the database directly (``--db URL``, default
``$HUANGHE_DATABASE_URL`` or the SQLite file), which is migrated first (idempotent):

* ``huanghe admin create-token --role admin`` — the first admin token at first start (printed once);
  ``admin list-tokens``, ``admin revoke-token ID``;
* ``huanghe audit verify`` (exit 1 naming the first bad record), ``audit export --format csv|json [--out]``;
* ``huanghe vouchers issue|list|show|revoke``; ``huanghe billing meter|invoice|settlement|ledger``;
* ``huanghe quotas set|show``; ``huanghe projects list|file|advance``; ``huanghe protection list|add``.

Direct database access is the operator's local, trusted path (whoever can reach the database is already
an administrator); the same operations over HTTP go through the API and its authorisation. CLI changes are
recorded in the audit trail with the actor ``cli:<$USER>``.
"""

from __future__ import annotations

import getpass
import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from pydantic import BaseModel, ValidationError
from rich.console import Console
from rich.table import Table
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from huanghe.audit import service as audit
from huanghe.billing import ledger, quotas, vouchers
from huanghe.billing import service as billing
from huanghe.cli.server_cmd import DbOption, _migrate_or_exit, _settings
from huanghe.core.errors import ServiceError
from huanghe.data import protection as datasec
from huanghe.domain.tenancy import ProjectStatus, Role, Scope
from huanghe.regulator import projects
from huanghe.store.crud import every_item
from huanghe.store.db import make_session_factory
from huanghe.tenancy import tokens as auth

JsonOption = Annotated[bool, typer.Option("--json", help="print JSON instead of a table")]
T = TypeVar("T")

admin_app = typer.Typer(help="Platform administration: API tokens (平台管理).", no_args_is_help=True)
audit_app = typer.Typer(help="The audit trail: verify the hash chain, export (审计).", no_args_is_help=True)
vouchers_app = typer.Typer(help="Compute vouchers (算力券).", no_args_is_help=True)
billing_app = typer.Typer(help="Metering, invoices, settlement, ledger (计量计费).", no_args_is_help=True)
quotas_app = typer.Typer(help="Monthly quotas and budgets per tenant (配额).", no_args_is_help=True)
projects_app = typer.Typer(help="Key new-infrastructure projects (新基建重点项目库).", no_args_is_help=True)
protection_app = typer.Typer(
    help="Protection catalog of important and core data (重要数据保护目录).", no_args_is_help=True
)


def _actor() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli:unknown"


def _fail(message: str, code: int = 1) -> typer.Exit:
    typer.echo(message, err=True)
    return typer.Exit(code)


@contextmanager
def _session(db: str | None) -> Iterator[Session]:
    """A session on the migrated database; service errors become messages and exit 1."""
    url = _settings(database_url=db).database_url
    _migrate_or_exit(url)
    factory = make_session_factory(url)
    try:
        with factory() as session:
            yield session
    except ServiceError as exc:
        typer.echo(f"refused (被拒绝): {len(exc.errors)} problem(s)", err=True)
        for err in exc.errors:
            typer.echo(f"  {err}", err=True)
        raise typer.Exit(1) from None
    except SQLAlchemyError as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise _fail(f"database error (数据库错误): {first}") from None
    finally:
        factory.kw["bind"].dispose()


def _build(model: type[T], **fields: Any) -> T:
    """Validate CLI input with the API's model; problems name the option."""
    try:
        return model(**{k: v for k, v in fields.items() if v is not None})
    except ValidationError as exc:
        for err in exc.errors():
            loc = ".".join(str(p) for p in err["loc"]) or "input"
            typer.echo(f"--{loc.replace('_', '-')}: {err['msg']}", err=True)
        raise typer.Exit(2) from None


def _emit(items: Sequence[BaseModel], columns: Sequence[str], as_json: bool, title: str) -> None:
    records = [item.model_dump(mode="json") for item in items]
    if as_json:
        typer.echo(json.dumps(records, ensure_ascii=False, indent=1))
        return
    table = Table(title=title)
    for col in columns:
        table.add_column(col)
    for rec in records:
        table.add_row(
            *(", ".join(map(str, v)) if isinstance(v, list) else str(v) for v in (rec[c] for c in columns))
        )
    Console().print(table)


def _decimal(value: str, option: str) -> Decimal:
    try:
        return Decimal(value)
    except InvalidOperation:
        raise _fail(f"{option}: not a decimal number: {value!r}", 2) from None


def _date(value: str, option: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise _fail(
            f"{option}: expected an ISO date like 2026-12-31 or 2026-12-31T23:59:59Z: {value!r}", 2
        ) from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


# --- admin -----------------------------------------------------------------------------------------------
@admin_app.command("create-token")
def create_token(
    role: Annotated[Role, typer.Option(help="admin, regulator, operator, tenant_admin, tenant_user")],
    name: Annotated[str, typer.Option(help="who or what uses the token")] = "admin",
    tenant: Annotated[str | None, typer.Option(help="tenant id (tenant roles)")] = None,
    center: Annotated[list[str] | None, typer.Option(help="center id (operators; repeat)")] = None,
    read_only: Annotated[bool, typer.Option("--read-only", help="scope read only")] = False,
    expires_days: Annotated[
        float | None, typer.Option(help="lifetime in days (default: none)", min=0.001)
    ] = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Create an API token and print it ONCE (令牌只显示一次); only its SHA-256 is stored."""
    body = _build(
        auth.TokenCreate, name=name, role=role, tenant=tenant, centers=center or [],
        scopes=[Scope.READ] if read_only else [Scope.READ, Scope.WRITE],
        expires_in_s=None if expires_days is None else expires_days * 86400,
    )  # fmt: skip
    with _session(db) as session:
        created = auth.create_token(session, body)
        audit.record(
            session, _actor(), "token.create", str(created.id), {"role": created.role.value, "name": name}
        )
        session.commit()
    if as_json:
        typer.echo(created.model_dump_json())
        return
    typer.echo(created.token)
    typer.echo(
        f"token {created.id} ({created.role.value}) created; store it now, it is not shown again (请妥善保存)",
        err=True,
    )


@admin_app.command("list-tokens")
def list_tokens_cmd(db: DbOption = None, as_json: JsonOption = False) -> None:
    """List tokens (never their secret)."""
    with _session(db) as session:
        items = every_item(lambda limit, offset: auth.list_tokens(session, limit=limit, offset=offset))
    _emit(
        items,
        ["id", "name", "prefix", "role", "tenant", "centers", "scopes", "revoked_s"],
        as_json,
        "API tokens",
    )


@admin_app.command("revoke-token")
def revoke_token_cmd(token_id: Annotated[int, typer.Argument(min=1)], db: DbOption = None) -> None:
    """Revoke a token at once."""
    with _session(db) as session:
        auth.revoke_token(session, token_id)
        audit.record(session, _actor(), "token.revoke", str(token_id), {})
        session.commit()
    typer.echo(f"token {token_id} revoked (已吊销)")


# --- audit -----------------------------------------------------------------------------------------------
@audit_app.command("verify")
def verify_cmd(db: DbOption = None, as_json: JsonOption = False) -> None:
    """Check the hash chain; exit 1 naming the first edited, deleted or reordered record."""
    with _session(db) as session:
        result = audit.verify(session)
    if as_json:
        typer.echo(json.dumps(result.__dict__))
    elif result.ok:
        typer.echo(f"audit chain intact (审计链完整): {result.checked} records")
    else:
        typer.echo(
            f"audit chain BROKEN (审计链被篡改) at record {result.first_bad}: {result.reason}", err=True
        )
    if not result.ok:
        raise typer.Exit(1)


@audit_app.command("export")
def export_cmd(
    fmt: Annotated[str, typer.Option("--format", help="csv or json")] = "json",
    out: Annotated[Path | None, typer.Option(help="write to this file instead of stdout")] = None,
    db: DbOption = None,
) -> None:
    """Export the whole trail for regulators (审计导出)."""
    if fmt not in ("csv", "json"):
        raise _fail(f"--format: expected csv or json, not {fmt!r}", 2)
    with _session(db) as session:
        text = audit.export(session, fmt)
    if out is None:
        typer.echo(text, nl=False)
        return
    try:
        out.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise _fail(f"--out: cannot write {out}: {exc.strerror}") from None
    typer.echo(f"wrote {out}", err=True)


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


@vouchers_app.command("issue")
def issue_cmd(
    tenant: Annotated[str, typer.Option(help="tenant id")],
    amount_cny: Annotated[str, typer.Option(help="amount in CNY, e.g. 50000 or 1234.50")],
    valid_until: Annotated[str, typer.Option(help="last validity instant, ISO (UTC if no zone)")],
    max_share: Annotated[str, typer.Option(help="largest share of a bill the voucher pays, 0..1")] = "1",
    valid_from: Annotated[str | None, typer.Option(help="first validity instant (default now)")] = None,
    sector: Annotated[
        list[str] | None, typer.Option(help="eligible tenant sector (repeat; default any)")
    ] = None,
    center: Annotated[list[str] | None, typer.Option(help="eligible center (repeat; default any)")] = None,
    pool: Annotated[list[str] | None, typer.Option(help="eligible pool (repeat; default any)")] = None,
    note: str = "",
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Issue a voucher to a tenant (发放算力券)."""
    body = _build(
        vouchers.VoucherCreate, tenant=tenant, amount_cny=_decimal(amount_cny, "--amount-cny"),
        max_share=_decimal(max_share, "--max-share"), valid_until=_date(valid_until, "--valid-until"),
        valid_from=_date(valid_from, "--valid-from") if valid_from else None, sectors=sector or [],
        centers=center or [], pools=pool or [], note=note,
    )  # fmt: skip
    with _session(db) as session:
        v = vouchers.issue(session, body, issuer=_actor())
    _emit([v], VOUCHER_COLUMNS, as_json, "voucher issued (已发放)")


@vouchers_app.command("list")
def list_vouchers_cmd(tenant: str | None = None, db: DbOption = None, as_json: JsonOption = False) -> None:
    """List vouchers with their balances."""
    with _session(db) as session:
        items = every_item(
            lambda limit, offset: vouchers.list_vouchers(session, tenant=tenant, limit=limit, offset=offset)
        )
    _emit(items, VOUCHER_COLUMNS, as_json, "vouchers (算力券)")


@vouchers_app.command("show")
def show_voucher_cmd(voucher_id: str, db: DbOption = None, as_json: JsonOption = False) -> None:
    """One voucher with its eligibility."""
    with _session(db) as session:
        v = vouchers.get(session, voucher_id)
    _emit([v], [*VOUCHER_COLUMNS, "sectors", "centers", "pools", "issuer"], as_json, f"voucher {voucher_id}")


@vouchers_app.command("revoke")
def revoke_voucher_cmd(voucher_id: str, db: DbOption = None, as_json: JsonOption = False) -> None:
    """Revoke a voucher; the remaining balance returns to the subsidy fund."""
    with _session(db) as session:
        v = vouchers.revoke(session, voucher_id, by=_actor())
    _emit([v], VOUCHER_COLUMNS, as_json, "voucher revoked (已吊销)")


@vouchers_app.command("expire")
def expire_vouchers_cmd(db: DbOption = None) -> None:
    """Return the balance of vouchers past their validity to the subsidy fund."""
    with _session(db) as session:
        ids = vouchers.expire(session, by=_actor())
    typer.echo(f"expired {len(ids)} voucher(s) (已到期): {', '.join(ids) or '-'}")


# --- billing ---------------------------------------------------------------------------------------------
@billing_app.command("meter")
def meter_cmd(db: DbOption = None) -> None:
    """Meter every finished job of the jobs table not metered yet."""
    with _session(db) as session:
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
    body = _build(billing.InvoiceCreate, tenant=tenant, month=month)
    with _session(db) as session:
        inv = billing.create_invoice(session, body, actor=_actor())
    _emit(
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
    with _session(db) as session:
        rows = billing.settlements(session, month)
    _emit(
        rows,
        ["operator", "month", "jobs", "node_hours", "billed_cny", "energy_kwh", "carbon_kg"],
        as_json,
        "settlement",
    )


@billing_app.command("ledger")
def ledger_cmd(db: DbOption = None, as_json: JsonOption = False) -> None:
    """Trial balance; exit 1 if the ledger does not balance."""
    with _session(db) as session:
        tb = ledger.trial_balance(session)
    if as_json:
        typer.echo(tb.model_dump_json())
    else:
        _emit(tb.accounts, ["account", "debit_fen", "credit_fen", "balance_fen"], False, "ledger (fen)")
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
    body = _build(
        quotas.QuotaSet, gpu_hours_per_month=gpu_hours,
        budget_cny_per_month=_decimal(budget_cny, "--budget-cny") if budget_cny is not None else None,
    )  # fmt: skip
    with _session(db) as session:
        q = quotas.set_quota(session, tenant, body, actor=_actor())
    _emit([q], QUOTA_COLUMNS, as_json, "quota (配额)")


@quotas_app.command("show")
def show_quota_cmd(tenant: str, db: DbOption = None, as_json: JsonOption = False) -> None:
    """A tenant's limits and this month's use."""
    with _session(db) as session:
        q = quotas.get_quota(session, tenant)
    _emit([q], QUOTA_COLUMNS, as_json, "quota (配额)")


# --- projects --------------------------------------------------------------------------------------------
PROJECT_COLUMNS = ["id", "name", "operator", "centers", "investment_cny", "status"]
CLI_ADMIN = auth.Principal(name="cli", role=Role.ADMIN)


@projects_app.command("list")
def list_projects_cmd(
    status: ProjectStatus | None = None, db: DbOption = None, as_json: JsonOption = False
) -> None:
    """Projects, optionally of one status."""
    with _session(db) as session:
        items = every_item(
            lambda limit, offset: projects.list_projects(
                session, by=CLI_ADMIN, status=status, limit=limit, offset=offset
            )
        )
    _emit(items, PROJECT_COLUMNS, as_json, "key projects (重点项目)")


@projects_app.command("file")
def file_project_cmd(
    project_id: Annotated[str, typer.Option("--id", help="project id")],
    name: Annotated[str, typer.Option(help="project name")],
    operator: Annotated[str, typer.Option(help="operating company")],
    center: Annotated[list[str], typer.Option(help="center id (repeat)")],
    investment_cny: Annotated[str, typer.Option(help="investment, CNY")] = "0",
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """File (备案) a project."""
    body = _build(
        projects.ProjectCreate, id=project_id, name=name, operator=operator, centers=center,
        investment_cny=_decimal(investment_cny, "--investment-cny"),
    )  # fmt: skip
    with _session(db) as session:
        p = projects.create(session, body, by=CLI_ADMIN)
    _emit([p], PROJECT_COLUMNS, as_json, "project filed (已备案)")


@projects_app.command("advance")
def advance_project_cmd(
    project_id: str, to: Annotated[ProjectStatus, typer.Option(help="the next status")], db: DbOption = None
) -> None:
    """Move a project one step (filed → reviewed → approved → building → operating)."""
    with _session(db) as session:
        p = projects.transition(session, project_id, to, by=CLI_ADMIN)
    typer.echo(f"project {p.id}: {p.status.value}")


# --- protection catalog ----------------------------------------------------------------------------------
@protection_app.command("list")
def list_protection_cmd(db: DbOption = None, as_json: JsonOption = False) -> None:
    """The protection catalog: owner, location, allowed centers, purpose."""
    with _session(db) as session:
        items = every_item(lambda limit, offset: datasec.list_entries(session, limit=limit, offset=offset))
    _emit(
        items,
        ["dataset", "data_class", "owner", "location", "allowed_centers", "purpose"],
        as_json,
        "protection catalog",
    )


@protection_app.command("add")
def add_protection_cmd(
    dataset: Annotated[str, typer.Option(help="dataset id (important or core data)")],
    owner: Annotated[str, typer.Option(help="data owner")],
    purpose: Annotated[str, typer.Option(help="purpose of processing")],
    allowed_center: Annotated[
        list[str] | None, typer.Option(help="center where copies are allowed (repeat)")
    ] = None,
    db: DbOption = None,
) -> None:
    """Add a dataset to the protection catalog."""
    body = _build(datasec.ProtectionCreate, dataset=dataset, owner=owner, purpose=purpose,
                  allowed_centers=allowed_center or [])  # fmt: skip
    with _session(db) as session:
        datasec.add_entry(session, body, actor=_actor())
    typer.echo(f"dataset {dataset} added to the protection catalog (已列入保护目录)")


GROUPS: list[tuple[typer.Typer, str]] = [
    (admin_app, "admin"), (audit_app, "audit"), (vouchers_app, "vouchers"), (billing_app, "billing"),
    (quotas_app, "quotas"), (projects_app, "projects"), (protection_app, "protection"),
]  # fmt: skip


def register(app: typer.Typer) -> None:
    for group, name in GROUPS:
        app.add_typer(group, name=name)
