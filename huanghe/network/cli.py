"""`huanghe centers list` and `huanghe pools list`: the centers and pools of a server or a topology file.

With ``$HUANGHE_URL`` set (and no ``--network``) they read the server (``/api/v1/cities``, ``/centers``,
``/pools`` through :class:`huanghe.client.HuangheClient`), so an operator's edits show; otherwise a bundled
network or a topology YAML file (``--network``, default ``shandong``). Which one is said on stderr
(``source: ...``). Rich tables for people, ``--json`` (an array of objects, the same shape from either
source) for machines. Figures marked ``illustrative`` are not official.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from huanghe.catalog.units import compute_category, pool_fp32_equivalent_tflops, standard_racks
from huanghe.cli import remote
from huanghe.client import HuangheClient, RequestRefusedError
from huanghe.domain.enums import CenterKind, CenterTier
from huanghe.domain.network import Center, City, Pool, Topology
from huanghe.network.topology_cli import load_or_exit

centers_app = typer.Typer(
    help="Centers of a network (算力中心).", epilog=remote.EXIT_CODES_HELP, no_args_is_help=True
)
pools_app = typer.Typer(
    help="Resource pools of a network (资源池).", epilog=remote.EXIT_CODES_HELP, no_args_is_help=True
)

NetworkOption = Annotated[
    str | None,
    typer.Option(
        "--network",
        "-n",
        help="bundled network name or path of a topology YAML file "
        "(default: the server at $HUANGHE_URL when set, else the bundled shandong)",
        show_default=False,
    ),
]
JsonOption = Annotated[bool, typer.Option("--json", help="print a JSON array instead of a table")]


def center_record(topo: Topology, center: Center) -> dict[str, Any]:
    """The JSON object of one center (units in the keys)."""
    return city_center_record(topo.city(center.city), center)


def city_center_record(city: City, center: Center) -> dict[str, Any]:
    """The JSON object of one center in ``city`` (units in the keys)."""
    return {
        "id": center.id,
        "name": center.name_zh,
        "name_en": center.name_en,
        "city": center.city,
        "city_name": city.name_zh,
        "region": city.region,
        "tier": center.tier.value,
        "kind": center.kind.value,
        "operator": center.operator,
        "lon": center.lon,
        "lat": center.lat,
        "it_design_kw": center.it_design_kw,
        "standard_racks": standard_racks(center.it_design_kw),
        "racks_in_use": center.racks_in_use,
        "opened_year": center.opened_year,
        "pue": center.energy.pue,
        "renewable_share": center.energy.renewable_share,
        "storage_tb": sum(t.capacity_tb for t in center.storage),
        "egress_gbps": center.egress_gbps,
        "security_level": center.security_level,
        "allowed_data_classes": [d.value for d in center.allowed_data_classes],
        "pools": len(center.pools),
        "gpus": sum(p.total_gpus for p in center.pools),
        "fp32_equivalent_tflops": round(
            sum(pool_fp32_equivalent_tflops(center.kind, p) for p in center.pools), 3
        ),
        "illustrative": center.illustrative,
    }


def pool_record(center: Center, pool: Pool) -> dict[str, Any]:
    """The JSON object of one pool (per-node figures; price per node-hour, CNY)."""
    return {
        "id": pool.id,
        "center": center.id,
        "name": pool.name,
        "accelerator": pool.accelerator,
        "accelerator_class": pool.accelerator_class,
        "cpu_model": pool.cpu_model,
        "nodes": pool.nodes,
        "cpus_per_node": pool.cpus_per_node,
        "gpus_per_node": pool.gpus_per_node,
        "mem_gb_per_node": pool.mem_gb_per_node,
        "peak_tflops_per_node": pool.peak_tflops_per_node.model_dump(),
        "power_kw_per_node": pool.power_kw_per_node,
        "price_cny_per_hour": pool.price_cny_per_hour,
        "price_cny_per_gpu_hour": pool.price_cny_per_gpu_hour,
        "speed": {k.value: v for k, v in pool.speed.items()},
        "category": compute_category(center.kind, pool),
        "fp32_equivalent_tflops": round(pool_fp32_equivalent_tflops(center.kind, pool), 3),
        "backend": pool.backend,
        "illustrative": pool.illustrative,
    }


def _print_json(records: list[dict[str, Any]]) -> None:
    typer.echo(json.dumps(records, ensure_ascii=False, indent=2))


@centers_app.command("list")
def list_centers(
    network: NetworkOption = None,
    city: Annotated[str | None, typer.Option(help="only this city id")] = None,
    region: Annotated[str | None, typer.Option(help="only this region (economic circle) id")] = None,
    tier: Annotated[CenterTier | None, typer.Option(help="only this tier")] = None,
    kind: Annotated[CenterKind | None, typer.Option(help="only this kind")] = None,
    as_json: JsonOption = False,
) -> None:
    """List the centers of the server ($HUANGHE_URL) or of a network file (default: the bundled `shandong`)."""
    network_name = remote.use_server(network, as_json)
    if network_name is None:
        with remote.connect() as client:
            cities = {c.id: c for c in client.cities()}
            centers = client.centers(
                city=city, region=region, tier=tier.value if tier else None, kind=kind.value if kind else None
            )
        records = [city_center_record(cities[c.city], c) for c in centers]
        title = client.url
    else:
        topo = load_or_exit(network_name)
        records = [
            r
            for r in (center_record(topo, c) for c in topo.centers)
            if (city is None or r["city"] == city)
            and (region is None or r["region"] == region)
            and (tier is None or r["tier"] == tier.value)
            and (kind is None or r["kind"] == kind.value)
        ]
        title = topo.name
    if as_json:
        _print_json(records)
        return
    table = Table(title=f"{title}: {len(records)} centers 算力中心")
    table.add_column("id", no_wrap=True)
    for col in ("name 名称", "city 城市", "tier 层级", "kind 类型"):
        table.add_column(col)
    table.add_column("operator 运营方", max_width=24, no_wrap=True, overflow="ellipsis")
    for col in ("pools", "PUE", "IT kW"):
        table.add_column(col, justify="right")
    for r in records:
        table.add_row(
            r["id"],
            r["name"],
            r["city_name"],
            r["tier"],
            r["kind"],
            r["operator"],
            str(r["pools"]),
            f"{r['pue']:.2f}",
            f"{r['it_design_kw']:,.0f}",
        )
    Console().print(table)


@pools_app.command("list")
def list_pools(
    network: NetworkOption = None,
    center: Annotated[
        str | None, typer.Option("--center", "-c", help="only the pools of this center id")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """List the resource pools of the server ($HUANGHE_URL) or of a network file, or of one center."""
    network_name = remote.use_server(network, as_json)
    if network_name is None:
        with remote.connect() as client:
            records, title = _server_pools(client, center), client.url
    else:
        topo = load_or_exit(network_name)
        if center is not None and center not in {c.id for c in topo.centers}:
            typer.echo(f"--center: unknown center {center!r} in {topo.name} (未知中心)", err=True)
            raise typer.Exit(1)
        records = [pool_record(c, p) for c, p in topo.pools() if center is None or c.id == center]
        title = topo.name
    if as_json:
        _print_json(records)
        return
    table = Table(title=f"{title}: {len(records)} pools 资源池 (price: CNY per node-hour 元/节点·小时)")
    table.add_column("id", no_wrap=True)
    table.add_column("center 中心", no_wrap=True)
    table.add_column("accelerator 加速卡")
    for col in ("nodes", "CPU/node", "GPU/node", "mem GB", "CNY/h"):
        table.add_column(col, justify="right")
    for r in records:
        table.add_row(
            r["id"],
            r["center"],
            r["accelerator"] or "CPU",
            str(r["nodes"]),
            str(r["cpus_per_node"]),
            str(r["gpus_per_node"]),
            f"{r['mem_gb_per_node']:,.0f}",
            f"{r['price_cny_per_hour']:.2f}",
        )
    Console().print(table)


def _server_pools(client: HuangheClient, center: str | None) -> list[dict[str, Any]]:
    """The pool records of the server (of ``center``; an unknown center exits 1 like a file's)."""
    if center is not None:
        try:
            centers = {center: client.get_center(center)}
        except RequestRefusedError as exc:
            if exc.status_code != 404:
                raise
            typer.echo(f"--center: unknown center {center!r} on {client.url} (未知中心)", err=True)
            raise typer.Exit(1) from None
    else:
        centers = {c.id: c for c in client.centers()}
    return [pool_record(centers[p.center], p) for p in client.pools(center=center) if p.center in centers]


def register(app: typer.Typer) -> None:
    app.add_typer(centers_app, name="centers")
    app.add_typer(pools_app, name="pools")
