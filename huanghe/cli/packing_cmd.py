"""`huanghe bench reproduce fgd`: the GPU allocation-rate experiment of the FGD paper on the openb trace."""

from __future__ import annotations

import json
from dataclasses import asdict

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from huanghe.broker.packing import POLICIES
from huanghe.sim.alloc_rate import CITATION, DEFAULT_POLICIES, NODE_LISTS, reproduce_fgd


def fgd(
    seeds: int = typer.Option(10, "--seeds", min=1, max=100, help="seeds 42, 43, ... (the paper used 10)"),
    policies: str = typer.Option(
        ",".join(DEFAULT_POLICIES), "--policies", help="comma-separated policy names"
    ),
    nodes: str = typer.Option(
        "gpu", "--nodes", help="gpu: the paper's 1,213 GPU nodes; all: + 310 CPU nodes"
    ),
    as_json: bool = typer.Option(False, "--json", help="print JSON for machines"),
) -> None:
    """GPU allocation rate at 100 % arrived demand per policy vs the FGD paper (Weng et al., ATC'23).
    GPU 分配率（到达需求 = 100 % 时）与已发表结果对比。"""
    err = Console(stderr=True)
    names = [p.strip() for p in policies.split(",") if p.strip()]
    unknown = [p for p in names if p not in POLICIES]
    if not names or unknown:
        err.print(
            f"[red]--policies: unknown policy {', '.join(unknown) or '(none given)'}; known: {', '.join(POLICIES)}[/]"
        )
        raise typer.Exit(2)
    if nodes not in NODE_LISTS:
        err.print(f"[red]--nodes: must be one of {', '.join(NODE_LISTS)}, not {nodes!r}[/]")
        raise typer.Exit(2)
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        transient=as_json,
    ) as progress:
        bar = progress.add_task("运行 / running", total=len(names) * seeds)

        def step(policy: str, seed: int) -> None:
            progress.update(bar, advance=1, description=f"{policy} seed {seed}")

        rows = reproduce_fgd(names, seeds, on_run=step, node_list=nodes)
    if as_json:
        out = {
            "experiment": "fgd-allocation-rate",
            "arrived_pct": 100,
            "seeds": seeds,
            "nodes": nodes,
            "citation": CITATION,
            "rows": [asdict(r) for r in rows],
        }
        typer.echo(json.dumps(out, ensure_ascii=False, indent=2))
        return
    table = Table(
        title=f"GPU 分配率 / allocation rate at 100 % arrived demand ({seeds} seeds, nodes={nodes})"
    )
    for col in (
        "policy 策略",
        "ours 本实现 %",
        "published 已发表 %",
        "Δ pp",
        "seed min–max %",
        "failed 失败",
        "s",
    ):
        table.add_column(col, justify="left" if col.startswith("policy") else "right")
    for r in rows:
        pub = "—" if r.published_pct is None else f"{r.published_pct:.2f}"
        delta = "—" if r.published_pct is None else f"{r.allocation_rate_pct - r.published_pct:+.2f}"
        table.add_row(
            r.policy,
            f"{r.allocation_rate_pct:.2f}",
            pub,
            delta,
            f"{min(r.per_seed_pct):.2f}–{max(r.per_seed_pct):.2f}",
            f"{r.failed_tasks_mean:.0f}",
            f"{r.seconds:.1f}",
        )
    console = Console()
    console.print(table)
    console.print(f"Published: {CITATION}.", soft_wrap=True)


def register(app: typer.Typer) -> None:
    from huanghe.cli.bench_cmd import reproduce_app

    reproduce_app.command("fgd")(fgd)
