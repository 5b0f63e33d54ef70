"""``huanghe protection list|add``: the protection catalog of important and core data (重要数据保护目录), on
the database directly (``--db``, see :mod:`huanghe.cli.db_access`); and the ``huanghe data`` group that the
data services' command modules (files, rules, transfers, endpoints) add their commands to."""

from __future__ import annotations

from typing import Annotated

import typer

from huanghe.cli.db_access import (
    DbOption,
    JsonOption,
    actor,
    build,
    db_session,
    emit,
)
from huanghe.data import protection as datasec
from huanghe.store.crud import every_item

data_app = typer.Typer(
    help="Datasets on the platform's storage: files, replicas, replication rules, transfers (数据服务).",
    no_args_is_help=True,
)
protection_app = typer.Typer(
    help="Protection catalog of important and core data (重要数据保护目录).", no_args_is_help=True
)


# --- protection catalog ----------------------------------------------------------------------------------
@protection_app.command("list")
def list_protection_cmd(db: DbOption = None, as_json: JsonOption = False) -> None:
    """The protection catalog: owner, location, allowed centers, purpose."""
    with db_session(db) as session:
        items = every_item(lambda limit, offset: datasec.list_entries(session, limit=limit, offset=offset))
    emit(
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
    body = build(datasec.ProtectionCreate, dataset=dataset, owner=owner, purpose=purpose,
                  allowed_centers=allowed_center or [])  # fmt: skip
    with db_session(db) as session:
        datasec.add_entry(session, body, actor=actor())
    typer.echo(f"dataset {dataset} added to the protection catalog (已列入保护目录)")


def register(app: typer.Typer) -> None:
    app.add_typer(protection_app, name="protection")
    app.add_typer(data_app, name="data")
