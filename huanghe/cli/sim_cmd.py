"""`huanghe simulate` (replay a trace under queue policies) and `huanghe bench reproduce rlscheduler`.

Heavy modules (numpy, the simulator, matplotlib) are imported inside the commands: process start counts.
The single-cluster run is :func:`run_single_cluster`; reporting (:func:`report`) takes any mapping of
policy → result, so a multi-center mode adds its own runner and reuses the report.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from rich.console import Console
from rich.table import Table

if TYPE_CHECKING:
    from rich.progress import Progress

    from huanghe.sim.simulation import SimResult
    from huanghe.sim.traces.swf import LoadReport
    from huanghe.sim.workload import Workload

SWF_SUFFIXES = (".swf", ".swf.gz", ".gz")


def _console(stderr: bool = False) -> Console:
    """A console; when not a terminal, wide enough that tables are not squeezed."""
    stream = sys.stderr if stderr else sys.stdout
    return Console(stderr=stderr, width=None if stream.isatty() else 160)


def _fail(message: str, code: int = 2) -> typer.Exit:
    Console(stderr=True).print(f"[red]{message}[/]")
    return typer.Exit(code)


def _progress(console: Console) -> Progress:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    return Progress(*columns, console=console, transient=True)


def resolve_trace(trace: str) -> Path:
    """A trace file path, or a short name of a bundled public trace (lublin, sdsc-sp2, hpc2n)."""
    from huanghe.sim.rlscheduler import TRACES

    path = Path(trace)
    if path.exists():
        return path
    key = trace.lower()
    if key in TRACES:
        return TRACES[key].path
    raise _fail(f"--trace: no such file 文件不存在: {trace!r} (or a short name 或简称: {', '.join(TRACES)})")


def parse_policies(policy: str) -> list[str]:
    """Comma-separated names, each checked against the registry."""
    from huanghe.broker.queue import POLICIES

    names = [p.strip() for p in policy.split(",") if p.strip()]
    unknown = [p for p in names if p not in POLICIES]
    if not names or unknown:
        raise _fail(
            f"--policy: unknown policy 未知策略 {', '.join(unknown) or '(none given)'}; "
            f"known 可选: {', '.join(POLICIES)}"
        )
    if len(set(names)) != len(names):
        raise _fail("--policy: a policy is named twice 策略重复")
    return names


def load_trace_file(path: Path) -> tuple[Workload, LoadReport, int | None]:
    """SWF workload, the load report and the machine size from the header (None if absent)."""
    from huanghe.sim.traces.swf import SwfError, load_swf

    if not path.name.lower().endswith(SWF_SUFFIXES):
        raise _fail(f"--trace: unsupported format 不支持的格式 {path.name!r}: expected .swf or .swf.gz")
    try:
        workload, report, trace = load_swf(path)
    except SwfError as exc:
        raise _fail(f"--trace: {exc}") from None
    return workload, report, trace.max_procs


def run_single_cluster(
    workload: Workload,
    cluster_size: int,
    cores_per_node: int,
    policies: list[str],
    seed: int,
    console: Console,
    fair_share_by: str = "user",
) -> tuple[dict[str, SimResult], dict[str, float]]:
    """Each policy on one pool of ``cluster_size`` cores, with a progress bar; (results, wall seconds)."""
    from huanghe.sim.simulation import ClusterSpec, simulate

    cluster = ClusterSpec.single(cluster_size, cores_per_node, name="cluster")
    results: dict[str, SimResult] = {}
    wall: dict[str, float] = {}
    with _progress(console) as progress:
        for name in policies:
            task = progress.add_task(f"{name} 模拟中 / simulating", total=len(workload))

            def step(done: int, total: int, task: Any = task) -> None:
                progress.update(task, completed=done)

            t0 = time.perf_counter()
            results[name] = simulate(
                workload, cluster, name, seed=seed, progress=step, fair_share_by=fair_share_by
            )
            wall[name] = time.perf_counter() - t0
    return results, wall


def write_records(results: dict[str, SimResult], out_dir: Path) -> list[Path]:
    """One CSV of per-job records per policy."""
    import csv

    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name, r in results.items():
        cols = r.records()
        path = out_dir / f"{name}.csv"
        with path.open("w", newline="", encoding="utf-8") as fh:
            writer = csv.writer(fh)
            writer.writerow(list(cols))
            writer.writerows(zip(*cols.values(), strict=True))
        written.append(path)
    return written


def summaries_json(results: dict[str, SimResult]) -> dict[str, dict[str, float | int]]:
    return {name: r.summary().as_dict() for name, r in results.items()}


def report(results: dict[str, SimResult], wall: dict[str, float], title: str, console: Console) -> None:
    """The comparison table."""
    table = Table(
        title=title,
        caption="bsld 平均有界减速比 · wait 等待 · JCT 作业完成时间 · util 利用率 · makespan 总时长 · wall 耗时",
    )
    cols = (
        "policy",
        "jobs",
        "bsld",
        "wait h",
        "p95 wait h",
        "JCT h",
        "p95 JCT h",
        "util",
        "makespan d",
        "wall s",
    )
    for col in cols:
        table.add_column(col, justify="left" if col == "policy" else "right", no_wrap=True)
    for name, r in results.items():
        s = r.summary()
        table.add_row(
            name,
            str(s.jobs),
            f"{s.mean_bsld:.2f}",
            f"{s.mean_wait_s / 3600:.2f}",
            f"{s.p95_wait_s / 3600:.2f}",
            f"{s.mean_jct_s / 3600:.2f}",
            f"{s.p95_jct_s / 3600:.2f}",
            f"{s.utilisation:.3f}",
            f"{s.makespan_s / 86400:.1f}",
            f"{wall.get(name, float('nan')):.2f}",
        )
    console.print(table)


def simulate_cmd(
    trace: str | None = typer.Option(
        None, "--trace", help="SWF file (.swf / .swf.gz) or lublin / sdsc-sp2 / hpc2n"
    ),
    cluster_size: int | None = typer.Option(
        None, "--cluster-size", min=1, help="cores of the cluster; default: the trace header's MaxProcs"
    ),
    cores_per_node: int = typer.Option(1, "--cores-per-node", min=1, help="cores per node (gang unit)"),
    policy: str | None = typer.Option(
        None,
        "--policy",
        help="comma-separated queue policies (default fcfs-easy); with --workload placement policies (default all)",
    ),
    json_out: str | None = typer.Option(
        None, "--json", help="write the summary JSON to this file ('-' = stdout)"
    ),
    plot: Path | None = typer.Option(None, "--plot", help="write PNG plots to this directory"),
    seed: int = typer.Option(0, "--seed", help="seed (used by randomised policies such as 'random')"),
    jobs: int | None = typer.Option(None, "--jobs", min=1, help="only the first N jobs of the trace"),
    records: Path | None = typer.Option(
        None,
        "--records",
        help="write per-job records to DIR/<policy>.csv (submit, start, end, wait, run, pool, nodes)",
    ),
    network: str | None = typer.Option(
        None, "--network", help="multi-center mode: bundled network name or topology file (default shandong)"
    ),
    workload_csv: Path | None = typer.Option(
        None,
        "--workload",
        help="multi-center mode: workload CSV (docs/workload.md) placed across the network",
    ),
    fair_share_by: str = typer.Option(
        "user", "--fair-share-by", help="owner for drf policies: user or tenant"
    ),
    cycle_s: float = typer.Option(60.0, "--cycle-s", help="multi-center mode: broker cycle period, seconds"),
) -> None:
    """Replay a workload trace under queue policies and compare them. 在工作负载轨迹上模拟并比较调度策略。

    With --workload (and optionally --network): place the jobs across the centers of a network under the
    broker's placement policies (huanghe.cli.network_sim_cmd)."""
    if workload_csv is not None or network is not None:
        from huanghe.cli.network_sim_cmd import run_network

        if workload_csv is None or trace is not None:
            raise _fail("--network needs --workload W.csv (and no --trace) 多中心模式需要 --workload")
        run_network(network or "shandong", workload_csv, policy, json_out, plot, seed, jobs, cycle_s, records)
        return
    if trace is None:
        raise _fail("--trace or --workload is required 需要 --trace 或 --workload")
    policy = policy or "fcfs-easy"
    err = _console(stderr=True)
    names = parse_policies(policy)
    if fair_share_by not in ("user", "tenant"):
        raise _fail(f"--fair-share-by: must be user or tenant, not {fair_share_by!r}")
    path = resolve_trace(trace)
    workload, load_report, header_cores = load_trace_file(path)
    if jobs is not None:
        workload = workload.take(slice(0, jobs))
    size = cluster_size or header_cores
    if not size:
        raise _fail("--cluster-size: required (the trace header has no MaxProcs/MaxNodes) 需要指定集群规模")
    if len(workload) == 0:
        raise _fail(f"--trace: no jobs left after cleaning 清洗后无作业 ({'; '.join(load_report.lines())})")
    if int(workload.procs.min()) > size // cores_per_node * cores_per_node:
        raise _fail(
            f"--cluster-size: {size} cores is smaller than every job 集群小于所有作业 (smallest asks {int(workload.procs.min())})"
        )
    for line in load_report.lines():
        err.print(f"[dim]{line}[/]")
    results, wall = run_single_cluster(workload, size, cores_per_node, names, seed, err, fair_share_by)
    for name, r in results.items():
        for rule, count in r.rejected.items():
            if count:
                err.print(f"[yellow]{name}: dropped 丢弃 ({rule}): {count}[/]")
    to_stdout = json_out == "-"
    report(
        results,
        wall,
        f"{path.name}: {size} cores 核, {len(workload)} jobs 作业",
        err if to_stdout else _console(),
    )
    if json_out is not None:
        payload = {
            "trace": str(path),
            "cluster_size": size,
            "cores_per_node": cores_per_node,
            "seed": seed,
            "load": {
                "records": load_report.records,
                "jobs": load_report.jobs,
                "dropped": load_report.dropped,
            },
            "rejected": next(iter(results.values())).rejected,
            "policies": summaries_json(results),
        }
        text = json.dumps(payload, ensure_ascii=False, indent=2)
        if to_stdout:
            sys.stdout.write(text + "\n")
        else:
            Path(json_out).write_text(text + "\n", encoding="utf-8")
    if records is not None:
        for written in write_records(results, records):
            err.print(f"[green]records 作业记录: {written}[/]")
    if plot is not None:
        from huanghe.sim.plots import plot_results

        for written in plot_results(results, plot, title=path.name):
            err.print(f"[green]plot 图: {written}[/]")


def rlscheduler_cmd(
    trace: str = typer.Option(..., "--trace", help="lublin, sdsc-sp2 or hpc2n"),
    as_json: bool = typer.Option(False, "--json", help="print JSON for machines"),
    mechanics: str = typer.Option(
        "rlscheduler",
        "--mechanics",
        help="rlscheduler (the authors' simulator rules) or standard (textbook EASY)",
    ),
    orders: str = typer.Option(
        "fcfs,sjf,wfp3,unicep,f1,drf",
        "--orders",
        help="queue orders to run, each with none/easy/conservative",
    ),
) -> None:
    """Bounded slowdown of every policy × backfill vs RLScheduler (SC'20). 与 RLScheduler 已发表结果对比。"""
    from huanghe.broker.queue import ORDERS
    from huanghe.sim.rlscheduler import CITATION, MECHANICS, TRACES, policy_cells, reproduce, sequence_starts

    order_names = [o.strip() for o in orders.split(",") if o.strip()]
    known = [o.name for o in ORDERS]
    if not order_names or any(o not in known for o in order_names):
        raise _fail(f"--orders: each must be one of 可选 {', '.join(known)}; got {orders!r}")

    key = trace.lower()
    if key not in TRACES:
        raise _fail(f"--trace: must be one of 可选 {', '.join(TRACES)}, not {trace!r}")
    if mechanics not in MECHANICS:
        raise _fail(f"--mechanics: must be one of 可选 {', '.join(MECHANICS)}, not {mechanics!r}")
    if not TRACES[key].path.exists():
        raise _fail(f"--trace: trace file missing 轨迹文件缺失: {TRACES[key].path}")
    err = _console(stderr=True)
    with _progress(err) as progress:
        bar = progress.add_task("运行 / running", total=len(policy_cells(order_names)))

        def step(name: str) -> None:
            progress.update(bar, advance=1, description=name)

        rows = reproduce(key, mechanics=mechanics, orders=order_names, on_cell=step)
    if as_json:
        out = {
            "trace": key,
            "mechanics": mechanics,
            "sequence_starts": sequence_starts(),
            "citation": CITATION,
            "rows": [r.as_dict() for r in rows],
        }
        typer.echo(json.dumps(out, ensure_ascii=False, indent=2))
        return
    table = Table(title=f"RLScheduler reproduction 复现: {key}, mechanics={mechanics}, mean bounded slowdown")
    for col in ("policy 策略", "backfill 回填", "ours 本实现", "published 已发表", "Δ %"):
        table.add_column(col, justify="left" if col.startswith(("policy", "backfill")) else "right")
    for r in rows:
        ours = "—" if r.bsld is None else f"{r.bsld:.2f}"
        pub = "—" if r.published_bsld is None else f"{r.published_bsld:.2f}"
        delta = (
            "—"
            if r.bsld is None or r.published_bsld is None
            else f"{100 * (r.bsld - r.published_bsld) / r.published_bsld:+.1f}"
        )
        table.add_row(r.policy, r.backfill, ours, pub, delta)
    console = _console()
    console.print(table)
    console.print(f"[dim]source 来源: {CITATION}[/]")


def register(app: typer.Typer) -> None:
    from huanghe.cli.bench_cmd import reproduce_app

    app.command("simulate")(simulate_cmd)
    reproduce_app.command("rlscheduler")(rlscheduler_cmd)
