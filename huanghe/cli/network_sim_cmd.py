"""`huanghe simulate --network N --workload W.csv`: the multi-center broker's policies compared on one workload.

The ``simulate`` command itself lives in :mod:`huanghe.cli.sim_cmd` (single-cluster queue policies on SWF
traces); with ``--workload`` it delegates here. No ``register``: this module adds no command of its own.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from rich.console import Console
from rich.table import Table

if TYPE_CHECKING:
    from huanghe.domain.network import Topology
    from huanghe.sim.network_sim import NetworkJobs, NetworkSimResult


def _fail(message: str, code: int = 2) -> typer.Exit:
    Console(stderr=True).print(f"[red]{message}[/]")
    return typer.Exit(code)


def parse_broker_policies(policy: str | None) -> list[str]:
    """Comma-separated placement policy names (default: all five), checked against the engine registry."""
    from huanghe.broker.engine import policy_names
    from huanghe.broker.policies import BROKER_POLICIES

    if policy is None:
        return list(BROKER_POLICIES)
    names = [p.strip() for p in policy.split(",") if p.strip()]
    known = policy_names()
    bad = [p for p in names if p not in known] or (["(none given)"] if not names else [])
    if bad or len(set(names)) != len(names):
        what = ", ".join(bad) if bad else "a policy named twice 策略重复"
        raise _fail(f"--policy: {what}; placement policies 放置策略: {', '.join(known)}")
    return names


def _load(network: str, workload: Path, jobs_limit: int | None) -> tuple[Topology, NetworkJobs]:
    from huanghe.broker.batch import JobInputError
    from huanghe.broker.snapshot import NetworkSnapshot
    from huanghe.catalog.topology import TopologyError, load_topology
    from huanghe.core.clock import FakeClock
    from huanghe.sim.network_sim import jobs_from_workload
    from huanghe.sim.traces.report import TraceFileError, TraceRowError
    from huanghe.sim.traces.workload_csv import load_workload_csv

    try:
        topo = load_topology(network)
    except (TopologyError, FileNotFoundError, ValueError) as exc:
        raise _fail(f"--network: {exc}") from None
    if not workload.exists():
        raise _fail(f"--workload: no such file 文件不存在: {str(workload)!r}")
    try:
        table, _ = load_workload_csv(workload, topology=topo)
    except (TraceFileError, TraceRowError) as exc:
        raise _fail(f"--workload: {exc}") from None
    if jobs_limit is not None:
        from huanghe.sim.traces.workload_csv import WorkloadTable

        table = WorkloadTable(**{k: v[:jobs_limit] for k, v in vars(table).items()})
    if len(table) == 0:
        raise _fail("--workload: no jobs 无作业")
    snap = NetworkSnapshot.from_topology(topo, FakeClock(0.0))
    try:
        jobs = jobs_from_workload(snap, table)
    except JobInputError as exc:
        raise _fail(f"--workload: {exc}") from None
    return topo, jobs


def _h(x: float | None) -> str:
    return "—" if x is None else f"{x / 3600:.2f}"


def report_table(summaries: dict[str, dict[str, Any]], title: str, console: Console) -> None:
    table = Table(
        title=title,
        caption=(
            "JCT 作业完成时间 · wait 等待 · bsld 有界减速比 · util 利用率 · cost 费用 · carbon 碳排放 · "
            "viol 违规 res 数据驻留 / lat 时延 / dl 截止期"
        ),
    )
    cols = ("policy 策略", "jobs", "JCT h", "p95 JCT h", "wait min", "bsld", "util", "cost CNY", "CO2 kg")
    for col in (*cols, "viol res/lat/dl", "unfinished", "top centers 主要中心"):
        table.add_column(col, justify="left" if col.startswith(("policy", "top")) else "right")
    for name, s in summaries.items():
        v = s["violations"]
        top = sorted(s["jobs_per_center"].items(), key=lambda kv: -kv[1])[:3]
        wait = s["mean_wait_s"]
        table.add_row(
            name,
            str(s["jobs"]),
            _h(s["mean_jct_s"]),
            _h(s["p95_jct_s"]),
            "—" if wait is None else f"{wait / 60:.1f}",
            "—" if s["mean_bsld"] is None else f"{s['mean_bsld']:.2f}",
            f"{s['utilisation']:.3f}",
            f"{s['cost_cny']:,.0f}",
            f"{s['carbon_kg']:,.0f}",
            f"{v['residency']}/{v['latency']}/{v['deadline']}",
            str(sum(s["unfinished"].values())),
            ", ".join(f"{c} {n}" for c, n in top),
        )
    console.print(table)


def run_network(
    network: str,
    workload: Path,
    policy: str | None,
    json_out: str | None,
    plot: Path | None,
    seed: int,
    jobs_limit: int | None,
    cycle_s: float,
    records: Path | None = None,
) -> None:
    """Run each policy on the workload and report (table on stdout, or on stderr with ``--json -``).
    ``records``: a directory that gets ``<policy>.jsonl``, one per-job record (with its explanation) a line."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from huanghe.sim.network_sim import simulate_network

    names = parse_broker_policies(policy)
    if cycle_s <= 0:
        raise _fail("--cycle-s: must be > 0")
    topo, jobs = _load(network, workload, jobs_limit)
    err = Console(stderr=True, width=None if sys.stderr.isatty() else 160)
    results: dict[str, NetworkSimResult] = {}
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=err, transient=True) as progress:
        for name in names:
            task = progress.add_task(f"{name} 模拟中 / simulating", total=len(jobs))

            def step(done: int, total: int, task: Any = task) -> None:
                progress.update(task, completed=done)

            results[name] = simulate_network(
                topo, jobs, name, seed=seed, cycle_s=cycle_s, explain=records is not None, progress=step
            )
    summaries = {name: r.summary() for name, r in results.items()}
    to_stdout = json_out == "-"
    out_console = err if to_stdout else Console(width=None if sys.stdout.isatty() else 160)
    report_table(summaries, f"{workload.name} on {network}: {len(jobs)} jobs 作业", out_console)
    if json_out is not None:
        payload = {
            "network": network,
            "workload": str(workload),
            "jobs": len(jobs),
            "seed": seed,
            "cycle_s": cycle_s,
            "policies": summaries,
        }
        text = json.dumps(payload, ensure_ascii=False, indent=2) + "\n"
        _ = sys.stdout.write(text) if to_stdout else Path(json_out).write_text(text, encoding="utf-8")
    if records is not None:
        records.mkdir(parents=True, exist_ok=True)
        for name, r in results.items():
            path = records / f"{name}.jsonl"
            cols = r.records()
            with path.open("w", encoding="utf-8") as fh:
                for row in zip(*cols.values(), strict=True):
                    rec = {
                        k: (None if isinstance(v, float) and v != v else v)
                        for k, v in zip(cols, row, strict=True)
                    }
                    fh.write(json.dumps(rec, ensure_ascii=False) + "\n")
            err.print(f"[green]records 记录: {path}[/]")
    if plot is not None:
        from huanghe.sim.network_plots import plot_network_results

        for written in plot_network_results(results, topo, plot, title=workload.name):
            err.print(f"[green]plot 图: {written}[/]")
