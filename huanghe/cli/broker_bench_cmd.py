"""`huanghe bench scheduler`: time of one broker cycle over a large queue, and sustained decisions per second.

Published anchor (BENCHMARKS.md §4): Armada, one scheduling round of 1,000 nodes × 320,000 jobs ≈ 1.3 s.
"""

from __future__ import annotations

import json

import typer
from rich.console import Console
from rich.table import Table

ARMADA_ROUND_S = 1.3


def scheduler_bench_cmd(
    pools: int = typer.Option(1000, "--pools", min=1, help="pools of the generated network (at least)"),
    jobs: int = typer.Option(320_000, "--jobs", min=1, help="queued jobs in the timed cycle"),
    centers: int | None = typer.Option(
        None, "--centers", min=1, help="centers of the generated network (default: about pools / 2)"
    ),
    policy: str = typer.Option("huanghe", "--policy", help="huanghe, first-admit, cheapest or spread"),
    sustained_cycles: int = typer.Option(5, "--cycles", min=1, help="cycles of the sustained measurement"),
    sustained_jobs: int = typer.Option(20_000, "--cycle-jobs", min=1, help="queued jobs per sustained cycle"),
    seed: int = typer.Option(1, "--seed", help="seed of the network, free state and queue"),
    as_json: bool = typer.Option(False, "--json", help="print JSON for machines"),
) -> None:
    """One full scheduling cycle at scale and sustained placement decisions/s. 调度器规模基准。"""
    from huanghe.broker.policies import POLICY_NAMES
    from huanghe.sim.broker_scale import (
        busy_snapshot,
        network_with_pools,
        sustained,
        synthetic_queue,
        time_cycle,
    )

    if policy not in POLICY_NAMES:
        Console(stderr=True).print(
            f"[red]--policy: must be one of 可选 {', '.join(POLICY_NAMES)}, not {policy!r}[/]"
        )
        raise typer.Exit(2)
    topo = network_with_pools(pools, seed, centers)
    snap = busy_snapshot(topo, seed)
    batch, ctx = synthetic_queue(snap, jobs, seed + 1)
    one = time_cycle(snap, batch, ctx, policy=policy, explain=True)
    rate, cycles = sustained(snap, sustained_jobs, sustained_cycles, seed + 2)
    out = {
        "policy": policy,
        "pools": one.pools,
        "centers": one.centers,
        "jobs": one.jobs,
        "classes": one.classes,
        "cycle_s": one.cycle_s,
        "placed": one.placed,
        "explain_s": one.explain_s,
        "decisions_per_s": rate,
        "sustained": {
            "cycles": len(cycles),
            "jobs_per_cycle": sustained_jobs,
            "placed": sum(c.placed for c in cycles),
            "seconds": sum(c.cycle_s + c.explain_s for c in cycles),
        },
        "armada_round_s": ARMADA_ROUND_S,
        "vs_armada": one.cycle_s / ARMADA_ROUND_S,
    }
    if as_json:
        typer.echo(json.dumps(out, ensure_ascii=False, indent=2))
        return
    table = Table(title=f"broker cycle 调度周期: {one.pools} pools 资源池, {one.centers} centers 中心")
    table.add_column("measure 指标")
    table.add_column("value 数值", justify="right")
    table.add_row("queued jobs 排队作业", f"{one.jobs:,}")
    table.add_row("job classes 作业类别", f"{one.classes:,}")
    table.add_row("one cycle 单周期 s", f"{one.cycle_s:.3f}")
    table.add_row("placed 已放置", f"{one.placed:,}")
    table.add_row("explanations 解释 s", f"{one.explain_s:.3f}")
    table.add_row("vs Armada 1.3 s round", f"{out['vs_armada']:.2f}×")
    table.add_row("sustained decisions/s 持续决策/秒", f"{rate:,.0f}")
    Console().print(table)


def register(app: typer.Typer) -> None:
    from huanghe.cli.bench_cmd import bench_app

    bench_app.command("scheduler")(scheduler_bench_cmd)
