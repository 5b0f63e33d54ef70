"""`huanghe topology ...`: validate, show, export and generate topology files (docs/topology.md).

``topology_app`` is module-level so other modules can add commands to it (``topology import`` lives with the
catalog service). A bad file prints every problem as ``path: problem`` on stderr and exits 1.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from huanghe.catalog.generate import generate_topology
from huanghe.catalog.topology import dump_topology, dump_topology_json, load_topology
from huanghe.catalog.units import (
    FP32_EQUIVALENT_LABEL,
    advanced_storage_share,
    compute_breakdown,
    standard_racks,
    storage_capacity_eb,
)
from huanghe.core.errors import TopologyError
from huanghe.domain.network import Center, Topology

topology_app = typer.Typer(
    help="Topology files: validate, show, export, generate (拓扑文件：校验、查看、导出、生成).",
    no_args_is_help=True,
)

DEFAULT_NETWORK = "shandong"
NetworkArg = Annotated[str, typer.Argument(help="bundled network name or path of a topology YAML file")]
OutOption = Annotated[Path | None, typer.Option("--out", "-o", help="write to this file instead of stdout")]


class OutFormat(StrEnum):
    YAML = "yaml"
    JSON = "json"


FormatOption = Annotated[
    OutFormat | None,
    typer.Option(
        "--format",
        help="yaml or json (JSON is much faster for big networks); default: --out suffix, else yaml",
    ),
]


def load_or_exit(name_or_path: str) -> Topology:
    """Load a topology; on error print every ``path: problem`` on stderr and exit with code 1."""
    try:
        return load_topology(name_or_path)
    except TopologyError as exc:
        typer.echo(
            f"invalid topology {exc.source or name_or_path} (拓扑文件无效): {len(exc.errors)} problem(s)",
            err=True,
        )
        for err in exc.errors:
            typer.echo(f"  {err}", err=True)
        raise typer.Exit(1) from None
    except (OSError, UnicodeDecodeError) as exc:
        typer.echo(f"cannot read {name_or_path} (无法读取): {exc}", err=True)
        raise typer.Exit(1) from None


def summary_line(topo: Topology) -> str:
    return (
        f"{topo.name}: {len(topo.regions)} regions, {len(topo.cities)} cities, {len(topo.centers)} centers, "
        f"{len(topo.pools())} pools, {len(topo.links)} links"
    )


def render(topo: Topology, fmt: OutFormat | None, out: Path | None) -> str:
    """The document as YAML or JSON: ``fmt``, else JSON when ``out`` ends in ``.json``, else YAML."""
    if fmt is None:
        fmt = OutFormat.JSON if out is not None and out.suffix.lower() == ".json" else OutFormat.YAML
    return dump_topology_json(topo) + "\n" if fmt == OutFormat.JSON else dump_topology(topo)


def write_or_print(text: str, out: Path | None) -> None:
    if out is None:
        typer.echo(text, nl=False)
        return
    try:
        out.write_text(text, encoding="utf-8")
    except OSError as exc:
        typer.echo(f"cannot write {out} (无法写入): {exc}", err=True)
        raise typer.Exit(1) from None
    typer.echo(f"wrote {out} (已写入)", err=True)


@topology_app.command("validate")
def validate(file: NetworkArg = DEFAULT_NETWORK) -> None:
    """Check a topology file (default: the bundled `shandong`); exit 1 listing every problem."""
    topo = load_or_exit(file)
    typer.echo(f"OK (校验通过) {summary_line(topo)}")


def _groups(topo: Topology, key: str) -> dict[str, list[Center]]:
    """Centers grouped by ``region`` (through their city), ``tier`` or ``kind``."""
    region_of = {c.id: c.region for c in topo.cities}
    out: dict[str, list[Center]] = {}
    for c in topo.centers:
        name = region_of[c.city] if key == "region" else str(getattr(c, key).value)
        out.setdefault(name, []).append(c)
    return dict(sorted(out.items()))


def _count_table(title: str, key: str, groups: dict[str, list[Center]]) -> Table:
    table = Table(title=title)
    for col in (key, "centers 中心", "pools 资源池", "IT MW", "std racks 标准机架"):
        table.add_column(col, justify="left" if col == key else "right")
    for name, members in groups.items():
        it_kw = sum(c.it_design_kw for c in members)
        table.add_row(
            name,
            str(len(members)),
            str(sum(len(c.pools) for c in members)),
            f"{it_kw / 1000:.1f}",
            f"{standard_racks(it_kw):,.0f}",
        )
    return table


@topology_app.command("show")
def show(network: NetworkArg = DEFAULT_NETWORK) -> None:
    """Summarise a network: centers per region, tier and kind; compute (EFLOPS) and storage."""
    topo = load_or_exit(network)
    console = Console()
    console.print(f"[bold]{summary_line(topo)}[/bold]")
    if topo.description:
        console.print(topo.description)
    for key, title in (
        ("region", "by region 按经济圈"),
        ("tier", "by tier 按层级"),
        ("kind", "by kind 按类型"),
    ):
        console.print(_count_table(title, key, _groups(topo, key)))
    b = compute_breakdown(topo.centers)
    tiers = [t for c in topo.centers for t in c.storage]
    table = Table(title=f"compute 算力 — {FP32_EQUIVALENT_LABEL}")
    table.add_column("indicator 指标")
    table.add_column("value 数值", justify="right")
    for label, value in (
        ("general 通用算力 EFLOPS", f"{b.general_eflops:.4f}"),
        ("intelligent 智能算力 EFLOPS", f"{b.intelligent_eflops:.4f}"),
        ("supercomputing 超算算力 EFLOPS", f"{b.supercomputing_eflops:.4f}"),
        ("total 总算力 EFLOPS", f"{b.total_eflops:.4f}"),
        ("intelligent share 智能算力占比", f"{b.intelligent_share:.1%}"),
        ("storage 存力 EB", f"{storage_capacity_eb(tiers):.4f}"),
        ("advanced storage share 先进存储占比", f"{advanced_storage_share(tiers):.1%}"),
    ):
        table.add_row(label, value)
    console.print(table)
    if topo.note:
        console.print(f"[dim]note: {topo.note}[/dim]")


@topology_app.command("export")
def export(
    network: Annotated[
        str, typer.Option("--network", "-n", help="bundled network name or file")
    ] = DEFAULT_NETWORK,
    out: OutOption = None,
    fmt: FormatOption = None,
) -> None:
    """Write a network as YAML or JSON (stdout unless --out)."""
    write_or_print(render(load_or_exit(network), fmt, out), out)


@topology_app.command("generate")
def generate(
    centers: Annotated[int, typer.Option("--centers", min=0, help="number of centers")],
    seed: Annotated[int, typer.Option("--seed", help="random seed (same seed, same network)")] = 0,
    pools_min: Annotated[int, typer.Option("--pools-min", min=1, help="fewest pools per center")] = 1,
    pools_max: Annotated[int, typer.Option("--pools-max", min=1, help="most pools per center")] = 3,
    out: OutOption = None,
    fmt: FormatOption = None,
) -> None:
    """Generate a synthetic network on Shandong's map (deterministic per seed) as YAML or JSON."""
    if pools_max < pools_min:
        typer.echo("--pools-max: must be >= --pools-min", err=True)
        raise typer.Exit(2)
    topo = generate_topology(centers, seed, (pools_min, pools_max))
    write_or_print(render(topo, fmt, out), out)


def register(app: typer.Typer) -> None:
    app.add_typer(topology_app, name="topology")
