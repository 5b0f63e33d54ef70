"""``huanghe offerings list|create|publish|withdraw``: the product catalog (算力产品目录) on the database
directly (``--db``, see :mod:`huanghe.cli.db_access`: the platform operator's trusted path, acting as admin;
over HTTP operators act on their own pools only)."""

from __future__ import annotations

from typing import Annotated

import typer

from huanghe.cli.db_access import DbOption, JsonOption, actor, build, db_session, emit, parse_decimal
from huanghe.network import offerings as svc
from huanghe.store.crud import every_item

offerings_app = typer.Typer(
    help="算力产品目录 Compute offerings: list, create, publish, withdraw.", no_args_is_help=True
)
COLUMNS = ["id", "state", "pool", "center", "city", "accelerator", "price_cny_per_node_hour", "availability_pct",
           "security_level", "name_zh"]  # fmt: skip
IdArg = Annotated[str, typer.Argument(help="offering id")]


@offerings_app.command("list")
def list_cmd(
    state: Annotated[str | None, typer.Option(help="draft | published | withdrawn")] = None,
    kind: Annotated[
        str | None, typer.Option(help="center kind: general | intelligent | supercomputing")
    ] = None,
    city: Annotated[str | None, typer.Option(help="city id")] = None,
    accelerator: Annotated[str | None, typer.Option(help="class (cpu, gpu, npu, dcu) or model")] = None,
    max_price: Annotated[str | None, typer.Option(help="at most this CNY per node-hour")] = None,
    min_security_level: Annotated[int | None, typer.Option(min=1, max=5)] = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Offerings, cheapest first (every state: this is the admin's view)."""
    if state is not None and state not in svc.STATES:
        raise typer.BadParameter(f"must be one of {', '.join(svc.STATES)}", param_hint="--state")
    price = parse_decimal(max_price, "--max-price") if max_price is not None else None
    with db_session(db) as s:
        items = every_item(lambda limit, offset: svc.list_offerings(
            s, svc.ADMIN_VIEWER, state=state, kind=kind, city=city, accelerator=accelerator, max_price_cny=price,
            min_security_level=min_security_level, limit=limit, offset=offset,
        ))  # fmt: skip
    emit(items, COLUMNS, as_json, "算力产品目录 offerings")


@offerings_app.command("create")
def create_cmd(
    offering_id: Annotated[str, typer.Option("--id", help="offering id")],
    pool: Annotated[str, typer.Option(help="pool id")],
    name_zh: Annotated[str, typer.Option(help="中文名称")],
    name_en: Annotated[str, typer.Option(help="English name")],
    price_cny_per_node_hour: Annotated[str, typer.Option(help="CNY per node-hour")],
    availability_pct: Annotated[str, typer.Option(help="SLA availability, percent (e.g. 99.9)")],
    response_minutes: Annotated[int, typer.Option(help="SLA support response, minutes")],
    security_level: Annotated[int, typer.Option(help="data-security level offered, 1..5")],
    description: str = "",
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """A new draft."""
    body = build(
        svc.OfferingCreate, id=offering_id, pool=pool, name_zh=name_zh, name_en=name_en, description=description,
        price_cny_per_node_hour=parse_decimal(price_cny_per_node_hour, "--price-cny-per-node-hour"),
        availability_pct=parse_decimal(availability_pct, "--availability-pct"), response_minutes=response_minutes,
        security_level=security_level,
    )  # fmt: skip
    with db_session(db) as s:
        item = svc.create_offering(s, body, actor=actor())
    emit([item], COLUMNS, as_json, "created (已创建草稿)")


@offerings_app.command("publish")
def publish_cmd(offering_id: IdArg, db: DbOption = None, as_json: JsonOption = False) -> None:
    """Publish a draft (上架)."""
    with db_session(db) as s:
        item = svc.move(s, offering_id, "published")
    emit([item], COLUMNS, as_json, "published (已上架)")


@offerings_app.command("withdraw")
def withdraw_cmd(offering_id: IdArg, db: DbOption = None, as_json: JsonOption = False) -> None:
    """Withdraw an offering (下架; final)."""
    with db_session(db) as s:
        item = svc.move(s, offering_id, "withdrawn")
    emit([item], COLUMNS, as_json, "withdrawn (已下架)")


def register(app: typer.Typer) -> None:
    app.add_typer(offerings_app, name="offerings")
