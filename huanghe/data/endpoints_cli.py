"""``huanghe data endpoints`` and ``huanghe data quota set|list|rm``: storage endpoints and data quotas of a
running server (through the typed client, :mod:`huanghe.client.storage`).

Exit codes as every server command (:mod:`huanghe.cli.remote`): 0 ok, 1 refused (4xx), 2 usage error,
3 server unreachable or failing."""

from __future__ import annotations

import json
import re
from typing import Annotated, Any

import typer

from huanghe.cli import remote

quota_app = typer.Typer(
    help="Data quotas per tenant and storage endpoint (数据配额), bytes.", epilog=remote.EXIT_CODES_HELP,
    no_args_is_help=True,
)  # fmt: skip
ENDPOINT_COLUMNS = ("id", "center", "circle", "temperature", "medium", "capacity_bytes", "used_bytes",
                    "free_bytes", "available", "reason")  # fmt: skip
QUOTA_COLUMNS = ("tenant", "endpoint", "limit_bytes", "used_bytes", "left_bytes")
#: Size suffixes: decimal (KB = 10^3 bytes ... PB) and binary (KiB = 2^10 ... PiB).
_UNITS = {"": 1, "B": 1, "KB": 10**3, "MB": 10**6, "GB": 10**9, "TB": 10**12, "PB": 10**15,
          "KIB": 2**10, "MIB": 2**20, "GIB": 2**30, "TIB": 2**40, "PIB": 2**50}  # fmt: skip
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([A-Za-z]*)\s*$")


def parse_size(text: str) -> int:
    """Bytes of ``text``: a number with an optional unit (``500``, ``10GB``, ``1.5TiB``); BadParameter."""
    m = _SIZE.match(text)
    unit = m.group(2).upper() if m else ""
    if m is None or unit not in _UNITS:
        raise typer.BadParameter(f"{text!r} is not a size: give bytes or a number with KB, MB, GB, TB, PB, "
                                 "KiB, MiB, GiB, TiB or PiB")  # fmt: skip
    return int(float(m.group(1)) * _UNITS[unit])


def _table(items: list[dict[str, Any]], columns: tuple[str, ...], title: str) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title)
    for col in columns:
        table.add_column(col, overflow="fold")
    for r in items:
        table.add_row(*("" if r.get(c) is None else str(r.get(c)) for c in columns))
    Console(width=200).print(table)


def endpoints_cmd(
    center: Annotated[str | None, typer.Option(help="only this center's endpoints")] = None,
    temperature: Annotated[str | None, typer.Option(help="hot, warm or cold")] = None,
    available: Annotated[
        bool | None, typer.Option("--available/--unavailable", help="only usable (or unusable) endpoints")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print JSON instead of a table")] = False,
) -> None:
    """Storage endpoints: center, tier, capacity, used and free bytes, availability (存储端点)."""
    from huanghe.client import storage

    with remote.connect() as hh:
        items = storage.list_endpoints(hh, center=center, temperature=temperature, available=available)
    if as_json:
        typer.echo(json.dumps(items, ensure_ascii=False, indent=1))
        return
    _table(items, ENDPOINT_COLUMNS, f"storage endpoints (存储端点): {len(items)}")


@quota_app.command("set")
def quota_set_cmd(
    tenant: Annotated[str, typer.Argument(help="tenant id")],
    limit: Annotated[str, typer.Argument(help="bytes, or a size such as 500GB or 2TiB")],
    endpoint: Annotated[str, typer.Option(help="storage endpoint id, or * for all endpoints together")] = "*",
    as_json: Annotated[bool, typer.Option("--json", help="print the quota as JSON")] = False,
) -> None:
    """Set a tenant's data quota on one endpoint or on all (platform admins)."""
    from huanghe.client import storage

    limit_bytes = parse_size(limit)
    with remote.connect() as hh:
        quota = storage.set_quota(hh, tenant, endpoint, limit_bytes)
    if as_json:
        typer.echo(json.dumps(quota, ensure_ascii=False))
        return
    typer.echo(f"quota of {tenant} on {endpoint}: {quota['limit_bytes']} bytes, {quota['used_bytes']} used, "
               f"{quota['left_bytes']} left (配额已设置)")  # fmt: skip


@quota_app.command("list")
def quota_list_cmd(
    tenant: Annotated[str | None, typer.Option(help="only this tenant's quotas")] = None,
    endpoint: Annotated[
        str | None, typer.Option(help="only quotas on this endpoint (* for the totals)")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print JSON instead of a table")] = False,
) -> None:
    """Data quotas with what each tenant uses and has left, bytes (tenants see their own)."""
    from huanghe.client import storage

    with remote.connect() as hh:
        items = storage.list_quotas(hh, tenant=tenant, endpoint=endpoint)
    if as_json:
        typer.echo(json.dumps(items, ensure_ascii=False, indent=1))
        return
    _table(items, QUOTA_COLUMNS, f"data quotas (数据配额): {len(items)}")


@quota_app.command("rm")
def quota_rm_cmd(
    tenant: Annotated[str, typer.Argument(help="tenant id")],
    endpoint: Annotated[str, typer.Option(help="storage endpoint id, or * for all endpoints together")] = "*",
) -> None:
    """Remove a data quota (no limit there any more)."""
    from huanghe.client import storage

    with remote.connect() as hh:
        storage.delete_quota(hh, tenant, endpoint)
    typer.echo(f"quota of {tenant} on {endpoint} removed (配额已删除)")


def register(app: typer.Typer) -> None:
    from huanghe.data.cli import data_app

    data_app.command("endpoints", epilog=remote.EXIT_CODES_HELP)(endpoints_cmd)
    data_app.add_typer(quota_app, name="quota")
