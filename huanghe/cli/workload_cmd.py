"""`huanghe workload ...`: build province workloads from public traces (docs/workload-builder.md).

``workload_app`` is module-level so other modules can add commands to the group.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from huanghe.network.topology_cli import DEFAULT_NETWORK, load_or_exit
from huanghe.sim.workload_builder import BuildOptions, WorkloadBuildError, build_workload, write_workload

workload_app = typer.Typer(help="Workloads for the simulator (仿真作业负载).", no_args_is_help=True)


@workload_app.command("build")
def build(
    out: Annotated[Path, typer.Option("--out", "-o", help="workload CSV to write (docs/workload.md)")],
    load: Annotated[float, typer.Option("--load", help="offered load, fraction of network capacity")] = 0.7,
    network: Annotated[
        str, typer.Option("--network", help="bundled network or topology file")
    ] = DEFAULT_NETWORK,
    seed: Annotated[int, typer.Option("--seed", help="random seed (same seed, same output)")] = 0,
    hours: Annotated[float, typer.Option("--hours", help="arrival horizon, hours")] = 24.0,
    tenants: Annotated[int, typer.Option("--tenants", help="number of tenants")] = 60,
    as_json: Annotated[bool, typer.Option("--json", help="print the build summary as JSON")] = False,
) -> None:
    """Map Philly, openb, SWF and synthetic CPU jobs onto a network at a given offered load."""
    topo = load_or_exit(network)
    options = BuildOptions(seed=seed, load=load, hours=hours, n_tenants=tenants)
    try:
        result = build_workload(topo, options)
        meta_path = write_workload(result, out)
    except WorkloadBuildError as exc:
        typer.echo(f"cannot build the workload (无法生成负载): {exc}", err=True)
        raise typer.Exit(2) from None
    except (OSError, ValueError) as exc:  # trace loaders raise ValueError subclasses naming file and line
        typer.echo(f"cannot read a trace or write the output (读取轨迹或写出失败): {exc}", err=True)
        raise typer.Exit(2) from None
    meta = result.meta
    if as_json:
        summary = {k: v for k, v in meta.items() if k != "tenants"}
        summary.update(out=str(out), meta=str(meta_path))
        typer.echo(json.dumps(summary, ensure_ascii=False, sort_keys=True))
        return
    table = Table(title=f"workload 负载 {out} · network {meta['network']} · seed {seed}")
    table.add_column("stream 来源")
    table.add_column("jobs 作业数", justify="right")
    table.add_column("share 份额", justify="right")
    table.add_column("work 工作量", justify="right")
    for name, s in meta["streams"].items():
        table.add_row(name, f"{s['jobs']:,}", f"{s['share']:.2f}", f"{s['work']:.3g} {s['work_unit']}")
    console = Console()
    console.print(table)
    ol = meta["offered_load"]
    console.print(
        f"offered load 负载率: GPU {ol['gpus']:.3f}, CPU {ol['cpus']:.3f} over {meta['horizon_s'] / 3600:g} h "
        f"(capacity 容量: {meta['capacity']['gpus']:,.0f} accelerators, {meta['capacity']['cpus']:,.0f} cores)"
    )
    console.print(f"relaxed 放宽: {meta['relaxed']}")
    console.print(f"wrote 已写入 {out} ({meta['jobs']:,} jobs) and {meta_path}")


def register(app: typer.Typer) -> None:
    app.add_typer(workload_app, name="workload")
