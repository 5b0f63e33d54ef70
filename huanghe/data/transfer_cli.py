"""``huanghe data transfers [--state S] [--json]``, ``huanghe data transfer ID`` and ``huanghe data
transfer-retry ID``: the transfers of a running server (through the typed client; a tenant's token sees only
its tenant's).

Exit codes as every server command (:mod:`huanghe.cli.remote`): 0 ok, 1 refused (4xx), 2 usage error,
3 server unreachable or failing."""

from __future__ import annotations

import json
from enum import StrEnum
from typing import Annotated, Any

import typer

from huanghe.cli import remote

COLUMNS = ("id", "dataset", "file", "source_endpoint", "dest_endpoint", "state", "attempts", "bytes",
           "duration_s", "cost_fen", "error")  # fmt: skip


class State(StrEnum):
    QUEUED = "queued"
    ACTIVE = "active"
    DONE = "done"
    FAILED = "failed"


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    return f"{value:.2f}" if isinstance(value, float) else str(value)


def _table(items: list[dict[str, Any]], title: str) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title)
    for col in COLUMNS:
        table.add_column(col, overflow="fold")
    for t in items:
        table.add_row(*(_cell(t.get(c)) for c in COLUMNS))
    Console(width=200).print(table)


def transfers_cmd(
    state: Annotated[State | None, typer.Option(help="queued, active, done or failed")] = None,
    dataset: Annotated[str | None, typer.Option(help="only this dataset's files")] = None,
    endpoint: Annotated[str | None, typer.Option(help="only to or from this endpoint")] = None,
    limit: Annotated[int, typer.Option(min=1, max=1000, help="at most this many, newest first")] = 100,
    offset: Annotated[int, typer.Option(min=0)] = 0,
    as_json: Annotated[bool, typer.Option("--json", help="print the page as JSON")] = False,
) -> None:
    """Transfers between storage endpoints, newest first (数据传输列表)."""
    from huanghe.client import Transfers

    with remote.connect() as hh:
        page = Transfers(hh).list(state=state.value if state else None, dataset=dataset, endpoint=endpoint,
                                  limit=limit, offset=offset)  # fmt: skip
    if as_json:
        typer.echo(json.dumps(page, ensure_ascii=False))
        return
    _table([dict(t) for t in page["items"]], f"transfers 数据传输 ({page['total']} total)")


def transfer_cmd(
    transfer_id: Annotated[int, typer.Argument(help="transfer id", min=1)],
    as_json: Annotated[bool, typer.Option("--json", help="print as JSON")] = False,
) -> None:
    """One transfer: source, tried sources, attempts, bytes, time, cost, energy, carbon, error (传输详情)."""
    from huanghe.client import Transfers

    with remote.connect() as hh:
        t = Transfers(hh).get(transfer_id)
    if as_json:
        typer.echo(json.dumps(t, ensure_ascii=False))
        return
    for key, value in t.items():
        typer.echo(f"{key:15} {_cell(value)}")


def retry_cmd(transfer_id: Annotated[int, typer.Argument(help="id of a failed transfer", min=1)]) -> None:
    """Queue a failed transfer again with fresh attempts (重试传输)."""
    from huanghe.client import Transfers

    with remote.connect() as hh:
        t = Transfers(hh).retry(transfer_id)
    typer.echo(f"transfer {t['id']} queued again (已重新排队): {t['file']} → {t['dest_endpoint']}")


def register(app: typer.Typer) -> None:
    """Add the transfer commands to the ``huanghe data`` group (created by :mod:`huanghe.data.cli`)."""
    from huanghe.data.cli import data_app

    epilog = remote.EXIT_CODES_HELP
    data_app.command("transfers", epilog=epilog)(transfers_cmd)
    data_app.command("transfer", epilog=epilog)(transfer_cmd)
    data_app.command("transfer-retry", epilog=epilog)(retry_cmd)
