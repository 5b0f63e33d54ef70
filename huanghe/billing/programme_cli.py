"""``huanghe vouchers programme presets|create|list|show|close|apply|applications|review|withdraw|settle|
report|overview``: voucher programmes (算力券项目) on the database directly (``--db``, see
:mod:`huanghe.cli.db_access`), like the other voucher commands; the actor is ``cli:<$USER>``."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from huanghe.billing import programme_funds, programme_report, programmes
from huanghe.billing.programme_schemas import ApplicationCreate, ProgrammeCreate, Review
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

programme_app = typer.Typer(
    help="Voucher programmes: funds, applications, grants (算力券项目).", no_args_is_help=True
)

PROGRAMME_COLUMNS = ["id", "label", "basis", "share", "fund_cny", "remaining_cny", "status", "name_zh"]
APPLICATION_COLUMNS = ["id", "programme", "tenant", "status", "basis_cny", "granted_cny", "voucher"]
Multi = list[str] | None


def _dec(value: str | None, option: str) -> object:
    return parse_decimal(value, option) if value is not None else None


@programme_app.command("presets")
def presets_cmd(as_json: JsonOption = False) -> None:
    """The reported programmes (Shandong 2025, Shanghai 2025-07, Beijing 2023–2025) and their sources."""
    items = programmes.presets()
    if as_json:
        typer.echo(json.dumps([p.model_dump(mode="json") for p in items], ensure_ascii=False, indent=1))
        return
    for p in items:
        v = p.values
        typer.echo(f"{p.key}: {v['name_zh']} / {v['name_en']} — basis {v['basis']}, share {v['share']}, "
                   f"fund {v['fund_cny'] or '-'} CNY (reported 已公开报道)")  # fmt: skip
        for a in p.assumptions:
            typer.echo(f"  assumption (假设): {a}")


#: the options of ``create`` named otherwise than the fields of ProgrammeCreate they fill (errors name the option)
PROGRAMME_OPTIONS = {
    "id": "--id",
    "sectors": "--sector",
    "cities": "--city",
    "accelerator_classes": "--accelerator-class",
}


@programme_app.command("create")
def create_cmd(
    programme_id: Annotated[str, typer.Option("--id", help="programme id, e.g. sd-2025")],
    preset: Annotated[str | None, typer.Option(help="shandong-2025 | shanghai-2025 | beijing-2023")] = None,
    name_zh: str | None = None,
    name_en: str | None = None,
    authority: str | None = None,
    basis: Annotated[str | None, typer.Option(help="contract | bill")] = None,
    share: Annotated[str | None, typer.Option(help="largest share of contract or bill, 0..1")] = None,
    fund_cny: Annotated[str | None, typer.Option(help="the fund, CNY")] = None,
    cap_enterprise_cny: Annotated[str | None, typer.Option(help="cap per enterprise, CNY")] = None,
    cap_enterprise_year_cny: Annotated[
        str | None, typer.Option(help="cap per enterprise and year, CNY")
    ] = None,
    validity_months: Annotated[int | None, typer.Option(help="validity of a grant's voucher, months")] = None,
    opens: Annotated[str | None, typer.Option(help="applications open, ISO (default now)")] = None,
    closes: Annotated[str | None, typer.Option(help="applications close, ISO")] = None,
    sector: Annotated[
        Multi, typer.Option(help="eligible industry, e.g. manufacturing, finance (repeat)")
    ] = None,
    city: Annotated[Multi, typer.Option(help="eligible provider city (repeat)")] = None,
    accelerator_class: Annotated[Multi, typer.Option(help="cpu|gpu|npu|dcu (repeat)")] = None,
    sme_only: Annotated[bool | None, typer.Option("--sme-only/--any-size")] = None,
    unaffiliated_only: Annotated[bool | None, typer.Option("--unaffiliated-only/--any-provider")] = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Create a programme, from a reported preset or a rule of one's own (创建算力券项目)."""
    body = build(
        ProgrammeCreate, PROGRAMME_OPTIONS, id=programme_id, preset=preset, name_zh=name_zh, name_en=name_en, authority=authority,
        basis=basis, share=_dec(share, "--share"), fund_cny=_dec(fund_cny, "--fund-cny"),
        cap_enterprise_cny=_dec(cap_enterprise_cny, "--cap-enterprise-cny"),
        cap_enterprise_year_cny=_dec(cap_enterprise_year_cny, "--cap-enterprise-year-cny"),
        validity_months=validity_months, opens=parse_date(opens, "--opens") if opens else None,
        closes=parse_date(closes, "--closes") if closes else None, sectors=sector, cities=city,
        accelerator_classes=accelerator_class, sme_only=sme_only, unaffiliated_only=unaffiliated_only,
    )  # fmt: skip
    with db_session(db) as session:
        p = programmes.create(session, body, by=actor())
    emit([p], PROGRAMME_COLUMNS, as_json, "programme created (已创建)")


@programme_app.command("list")
def list_cmd(db: DbOption = None, as_json: JsonOption = False) -> None:
    """Programmes with their funds."""
    with db_session(db) as session:
        items = every_item(
            lambda limit, offset: programmes.list_programmes(session, limit=limit, offset=offset)
        )
    emit(items, PROGRAMME_COLUMNS, as_json, "voucher programmes (算力券项目)")


@programme_app.command("show")
def show_cmd(programme_id: str, db: DbOption = None, as_json: JsonOption = False) -> None:
    """One programme with its rule, eligibility and sources."""
    with db_session(db) as session:
        p = programmes.get(session, programme_id)
    cols = [
        *PROGRAMME_COLUMNS,
        "cap_enterprise_cny",
        "cap_enterprise_year_cny",
        "sectors",
        "sources",
        "assumptions",
    ]
    emit([p], cols, as_json, f"programme {programme_id}")


@programme_app.command("close")
def close_cmd(programme_id: str, db: DbOption = None, as_json: JsonOption = False) -> None:
    """Close a programme: no more applications or grants (关闭)."""
    with db_session(db) as session:
        p = programmes.close(session, programme_id, by=actor())
    emit([p], PROGRAMME_COLUMNS, as_json, "programme closed (已关闭)")


@programme_app.command("apply")
def apply_cmd(
    programme: Annotated[str, typer.Option(help="programme id")],
    tenant: Annotated[str, typer.Option(help="tenant id")],
    basis_cny: Annotated[str, typer.Option(help="contract amount or expected bill, CNY")],
    requested_cny: Annotated[str | None, typer.Option(help="amount asked for, CNY")] = None,
    provider: Annotated[str, typer.Option(help="contracted operator")] = "",
    affiliated: Annotated[Multi, typer.Option(help="an affiliated operator (repeat)")] = None,
    city: Annotated[str, typer.Option(help="the enterprise's city id")] = "",
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Apply to a programme for a tenant (申请)."""
    body = build(
        ApplicationCreate, programme=programme, tenant=tenant, basis_cny=parse_decimal(basis_cny, "--basis-cny"),
        requested_cny=_dec(requested_cny, "--requested-cny"), provider=provider, affiliated=affiliated or [],
        city=city,
    )  # fmt: skip
    with db_session(db) as session:
        a = programmes.apply(session, body, by=actor())
    emit([a], APPLICATION_COLUMNS, as_json, "application submitted (已提交)")


@programme_app.command("applications")
def applications_cmd(
    programme: str | None = None, tenant: str | None = None, status: str | None = None,
    db: DbOption = None, as_json: JsonOption = False,
) -> None:  # fmt: skip
    """Applications, optionally of one programme, tenant or status."""
    with db_session(db) as session:
        items = every_item(
            lambda limit, offset: programmes.list_applications(
                session, programme=programme, tenant=tenant, status=status, limit=limit, offset=offset
            )
        )
    emit(items, APPLICATION_COLUMNS, as_json, "applications (申请)")


@programme_app.command("review")
def review_cmd(
    application_id: str,
    decision: Annotated[str, typer.Option(help="approve | reject")],
    amount_cny: Annotated[str | None, typer.Option(help="grant at most this, CNY")] = None,
    note: str = "",
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Approve (grant a voucher from the fund) or reject (审核)."""
    body = build(Review, decision=decision, amount_cny=_dec(amount_cny, "--amount-cny"), note=note)
    with db_session(db) as session:
        a = programmes.review(session, application_id, body, by=actor())
    emit([a], APPLICATION_COLUMNS, as_json, f"application {a.status} (已审核)")


@programme_app.command("withdraw")
def withdraw_cmd(application_id: str, db: DbOption = None, as_json: JsonOption = False) -> None:
    """Withdraw a submitted application (撤回)."""
    with db_session(db) as session:
        a = programmes.withdraw(session, application_id, by=actor())
    emit([a], APPLICATION_COLUMNS, as_json, "application withdrawn (已撤回)")


@programme_app.command("settle")
def settle_cmd(programme_id: str, db: DbOption = None, as_json: JsonOption = False) -> None:
    """Pay providers the voucher-paid part of their bills (结算)."""
    with db_session(db) as session:
        ids = programme_funds.settle(session, programme_id, by=actor())
        items = [x for x in programme_report.settlements(session, programme_id) if x.id in ids]
    emit(items, ["id", "operator", "amount_cny", "redemptions"], as_json, "settlements (结算)")


@programme_app.command("report")
def report_cmd(
    programme_id: str, year: Annotated[int | None, typer.Option(min=2000, max=2100)] = None,
    db: DbOption = None, as_json: JsonOption = False,
) -> None:  # fmt: skip
    """The fund's use and effect, by city and industry (资金使用及成效)."""
    with db_session(db) as session:
        r = programme_report.report(session, programme_id, year=year)
    if as_json:
        typer.echo(r.model_dump_json(indent=1))
        return
    typer.echo(f"{r.title_zh}\n{r.title_en}")
    typer.echo(
        f"fund 资金 {r.fund_cny} CNY; granted 已发放 {r.granted_cny}; returned 已退回 {r.returned_cny}; "
        f"remaining 余额 {r.remaining_cny}; redeemed 已兑付 {r.redeemed_cny}; settled 已结算 {r.settled_cny}"
    )
    typer.echo(
        f"enterprises served 服务企业 {r.enterprises_served} (SME 中小企业 {r.sme_served}); compute bought 带动算力消费 "
        f"{r.compute_bought_cny} CNY, {r.gpu_hours} GPU-h; leverage 撬动比 {r.leverage}"
    )
    emit(r.by_provider_city, ["key", "name_zh", "enterprises", "redeemed_cny", "compute_bought_cny", "gpu_hours"],
         False, "by provider city (按算力所在城市)")  # fmt: skip
    emit(r.by_industry, ["key", "enterprises", "granted_cny", "redeemed_cny", "compute_bought_cny"], False,
         "by industry (按行业)")  # fmt: skip


@programme_app.command("overview")
def overview_cmd(
    year: Annotated[int | None, typer.Option(min=2000, max=2100)] = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Every programme's fund use, and all of them by industry (算力券总览)."""
    with db_session(db) as session:
        ov = programme_report.overview(session, year=year)
    if as_json:
        typer.echo(ov.model_dump_json(indent=1))
        return
    emit(ov.programmes, ["id", "label", "fund_cny", "granted_cny", "redeemed_cny", "enterprises_served"], False,
         "voucher programmes (算力券项目)")  # fmt: skip
    emit(ov.by_industry, ["key", "enterprises", "granted_cny", "redeemed_cny", "compute_bought_cny"], False,
         "by industry (按行业)")  # fmt: skip


def register(app: typer.Typer) -> None:
    """Add ``programme`` to the ``vouchers`` group (created by :mod:`huanghe.billing.cli`)."""
    from huanghe.billing.cli import vouchers_app

    if not any(g.name == "programme" for g in vouchers_app.registered_groups):
        vouchers_app.add_typer(programme_app, name="programme")
