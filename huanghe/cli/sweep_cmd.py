"""`huanghe sweep`: a grid of multi-center simulations (networks × policies × loads × seeds × ...) run serially
or as Ray tasks, gathered into ``--out DIR`` (docs/sweep.md).

Every grid option takes a comma-separated list; the grid is their product. Each cell is the equivalent of
``huanghe workload build`` + ``huanghe simulate --workload`` (:mod:`huanghe.sim.sweep`); finished cells are kept
in ``DIR/cells/`` and a rerun of the same command computes only the missing ones. At the end ``DIR`` holds
``results.json``, ``results.csv``, ``grid.json`` and ``plots/*.png``. Ctrl-C (or SIGTERM) stops the sweep after
the running cell (on Ray at once), names the finished cells and exits 130 (143); a second Ctrl-C stops at once
(:mod:`huanghe.cli.sweep_stop`).
"""

from __future__ import annotations

import json
import math
import re
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import typer
from rich.console import Console
from rich.table import Table

if TYPE_CHECKING:
    from huanghe.cli.sweep_stop import StopFlag
    from huanghe.sim.sweep import Cell, SweepStore, WorkloadSpec
    from huanghe.sim.traces.workload_csv import WorkloadTable

T = TypeVar("T")
#: at most this many finished cells are named when a sweep is stopped
NAMED_CELLS = 20
_ADDRESS = re.compile(r"^(local|auto|(ray://)?[A-Za-z0-9_.\-\[\]:]+:\d{1,5})$")


def _fail(message: str, code: int = 2) -> typer.Exit:
    Console(stderr=True).print(f"[red]{message}[/]", highlight=False)
    return typer.Exit(code)


def parse_list(
    option: str, text: str, conv: Callable[[str], T], ok: Callable[[T], bool], what: str
) -> list[T]:
    """Comma-separated values of ``option``, each converted and checked; a clear error naming the option."""
    items = [t.strip() for t in text.split(",")]
    if not text.strip() or any(not t for t in items):
        raise _fail(f"{option}: empty value in {text!r} 取值为空; expected {what}")
    out: list[T] = []
    for t in items:
        try:
            v = conv(t)
        except ValueError:
            raise _fail(f"{option}: {t!r} is not {what} 取值无效") from None
        if not ok(v):
            raise _fail(f"{option}: {t!r} is not {what} 取值无效")
        if v in out:
            raise _fail(f"{option}: {t!r} is given twice 重复")
        out.append(v)
    return out


def _positive(x: float) -> bool:
    return math.isfinite(x) and x > 0


def _networks(text: str) -> list[str]:
    from huanghe.catalog.topology import TopologyError, load_topology

    names = parse_list("--network", text, str, bool, "a network name or topology file")
    for name in names:
        try:
            load_topology(name)
        except (TopologyError, FileNotFoundError, ValueError) as exc:
            raise _fail(f"--network: {name!r}: {exc}") from None
    return names


def _given_workloads(cells: list[Cell]) -> dict[WorkloadSpec, WorkloadTable]:
    """Read the ``--workload`` files up front (checked against each network; errors name the option)."""
    from huanghe.sim.sweep import build_workload_table
    from huanghe.sim.traces.report import TraceFileError, TraceRowError

    out: dict[WorkloadSpec, WorkloadTable] = {}
    for spec in dict.fromkeys(c.workload_spec() for c in cells):
        if spec.path is None:
            continue
        if not Path(spec.path).is_file():
            raise _fail(f"--workload: no such file 文件不存在: {spec.path!r}")
        try:
            out[spec] = build_workload_table(spec)
        except (TraceFileError, TraceRowError, ValueError) as exc:
            raise _fail(f"--workload: {spec.path} on {spec.network}: {exc}") from None
    return out


def _summary_table(results: list[dict[str, Any]], console: Console) -> None:
    """Mean over cells, per network and policy."""
    groups: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for r in results:
        groups.setdefault((r["cell"]["network"], r["cell"]["policy"]), []).append(r["summary"])
    table = Table(title="sweep 扫描: mean over cells 各单元平均")
    for col in ("network 网络", "policy 策略", "cells", "JCT h", "wait min", "cost CNY", "CO2 kg", "util"):
        table.add_column(col, justify="left" if col.startswith(("network", "policy")) else "right")

    def mean(rows: list[dict[str, Any]], k: str, scale: float = 1.0) -> float:
        vals = [float(s[k]) * scale for s in rows if s.get(k) is not None]
        return sum(vals) / len(vals) if vals else math.nan

    for (net, pol), rows in groups.items():
        table.add_row(
            net,
            pol,
            str(len(rows)),
            f"{mean(rows, 'mean_jct_s', 1 / 3600):.2f}",
            f"{mean(rows, 'mean_wait_s', 1 / 60):.1f}",
            f"{mean(rows, 'cost_cny'):,.0f}",
            f"{mean(rows, 'carbon_kg'):,.0f}",
            f"{mean(rows, 'utilisation'):.3f}",
        )
    console.print(table)


def execute(
    cells: list[Cell],
    store: SweepStore,
    given: dict[WorkloadSpec, WorkloadTable],
    ray_address: str | None,
    cpus: int | None,
    console: Console,
    stop: StopFlag,
) -> tuple[int, dict[str, str], float]:
    """Run the unfinished cells with a progress bar: (cells reused, failures key → error, wall seconds); it
    returns early once ``stop`` is set (SIGINT / SIGTERM)."""
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    from huanghe.cli.sweep_exec import RayConnectError, ray_session, run_ray, run_serial, split_done

    done, todo = split_done(store, cells)
    if done:
        console.print(
            f"resuming 继续: {len(done)} of {len(cells)} cells already finished 已完成, not rerun 不重算"
        )
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
    )
    failed: dict[str, str] = {}
    t0 = time.perf_counter()
    with Progress(*columns, console=console, transient=False) as progress:
        where = "serial 串行" if ray_address is None else f"ray {ray_address}"
        bar = progress.add_task(f"sweep 扫描 ({where})", total=len(cells), completed=len(done))

        def on_done(cell: Cell, error: str | None) -> None:
            progress.advance(bar)
            if error is not None:
                progress.console.print(
                    f"[yellow]cell 单元 {cell.key()} failed 失败: {error}[/]", highlight=False
                )

        if not todo:
            pass
        elif ray_address is None:
            failed = run_serial(todo, store, given, on_done, stop).failed
        else:
            try:
                with ray_session(ray_address, cpus) as ray:
                    progress.update(
                        bar, description=f"sweep 扫描 (ray, {ray.cluster_resources().get('CPU', 0):g} CPUs)"
                    )
                    failed = run_ray(ray, todo, store, given, on_done, stop).failed
            except RayConnectError as exc:
                raise _fail(
                    f"--ray: cannot start or join Ray at {ray_address!r} 无法连接 Ray: {exc}"
                ) from None
    return len(done), failed, time.perf_counter() - t0


def _stopped(cells: list[Cell], store: SweepStore, stop: StopFlag, err: Console) -> typer.Exit:
    """The message for a stopped sweep, naming its finished cells, and the exit (130 SIGINT, 143 SIGTERM)."""
    kept = [c.key() for c in cells if store.load(c) is not None]
    named = ", ".join(kept[:NAMED_CELLS]) + (
        f" … (+{len(kept) - NAMED_CELLS} more 另有 {len(kept) - NAMED_CELLS} 个)"
        if len(kept) > NAMED_CELLS
        else ""
    )
    err.print(
        f"[yellow]interrupted 已中断 ({stop.signal_name}): {len(kept)} of {len(cells)} cells finished 已完成 and "
        f"kept in {store.cells_dir}{': ' + named if kept else ''}; "
        "rerun the same command to resume 重新运行同一命令即可继续[/]",
        highlight=False,
    )
    return typer.Exit(stop.exit_code)


def sweep_cmd(
    out: Path = typer.Option(..., "--out", help="directory for cells/, results.json, results.csv, plots/"),
    network: str = typer.Option("shandong", "--network", help="comma-separated networks or topology files"),
    policy: str | None = typer.Option(
        None, "--policy", help="comma-separated placement policies (default all)"
    ),
    load: str | None = typer.Option(None, "--load", help="comma-separated offered loads (default 0.7)"),
    seed: str = typer.Option("0", "--seed", help="comma-separated seeds (workload build and policy)"),
    hours: str | None = typer.Option(
        None, "--hours", help="comma-separated arrival horizons, hours (default 24)"
    ),
    tenants: str | None = typer.Option(None, "--tenants", help="comma-separated tenant counts (default 60)"),
    cycle_s: str = typer.Option("60", "--cycle-s", help="comma-separated broker cycle periods, seconds"),
    jobs: int | None = typer.Option(None, "--jobs", min=1, help="only the first N jobs of each workload"),
    workload: str | None = typer.Option(
        None,
        "--workload",
        help="comma-separated workload CSVs instead of building (no --load/--hours/--tenants)",
    ),
    ray_address: str | None = typer.Option(
        None,
        "--ray",
        help="'local' (start a private Ray), a cluster address (HOST:PORT, ray://..., auto); none = serial",
    ),
    cpus: int | None = typer.Option(
        None, "--cpus", min=1, help="with --ray local: CPUs to give it (default all)"
    ),
    plots: bool = typer.Option(True, "--plots/--no-plots", help="write plots/*.png"),
) -> None:
    """Run a grid of simulations, serially or on Ray; resumable. 批量仿真（可用 Ray 并行，可断点续跑）。"""
    from huanghe.cli.network_sim_cmd import parse_broker_policies
    from huanghe.cli.sweep_stop import StopFlag
    from huanghe.sim.sweep import SweepStore, grid, write_tables

    if ray_address is not None and not _ADDRESS.match(ray_address):
        raise _fail(f"--ray: {ray_address!r} is not 'local', 'auto' or HOST:PORT 地址无效")
    if cpus is not None and ray_address != "local":
        raise _fail("--cpus: only with --ray local 仅用于本地 Ray")
    if out.exists() and not out.is_dir():
        raise _fail(f"--out: {str(out)!r} exists and is not a directory 不是目录")
    if workload is not None:
        given_opts = [
            n for n, v in (("--load", load), ("--hours", hours), ("--tenants", tenants)) if v is not None
        ]
        if given_opts:
            raise _fail(
                f"{', '.join(given_opts)}: not with --workload (the workload files are used as they are)"
            )
    networks = _networks(network)
    policies = parse_broker_policies(policy)
    seeds = parse_list("--seed", seed, int, lambda v: v >= 0, "an integer >= 0")
    cycles = parse_list("--cycle-s", cycle_s, float, _positive, "a number of seconds > 0")
    if workload is not None:
        files = parse_list("--workload", workload, str, bool, "a workload CSV path")
        cells = grid(
            networks=networks, policies=policies, seeds=seeds, cycle_s=cycles, workloads=files, jobs=jobs
        )
    else:
        loads = parse_list("--load", load or "0.7", float, _positive, "a load > 0")
        hrs = parse_list("--hours", hours or "24", float, _positive, "a number of hours > 0")
        tens = parse_list("--tenants", tenants or "60", int, lambda v: v >= 1, "an integer >= 1")
        cells = grid(
            networks=networks,
            policies=policies,
            seeds=seeds,
            cycle_s=cycles,
            loads=loads,
            hours=hrs,
            tenants=tens,
            jobs=jobs,
        )
    given = _given_workloads(cells)
    if ray_address is not None:
        from huanghe.cli.sweep_exec import RayConnectError, check_reachable

        try:
            check_reachable(ray_address)
        except RayConnectError as exc:
            raise _fail(f"--ray: cannot join Ray at {ray_address!r} 无法连接 Ray: {exc}") from None
    err = Console(stderr=True, width=None if sys.stderr.isatty() else 160)
    store = SweepStore(out)
    out.mkdir(parents=True, exist_ok=True)
    stop = StopFlag(
        "stopping after the running cell 当前单元完成后停止 (a second signal stops at once 再次中断则立即停止)"
        if ray_address is None
        else "stopping 正在停止 (a second signal stops at once 再次中断则立即停止)"
    )
    try:  # from here on SIGINT / SIGTERM set the flag (a second one raises KeyboardInterrupt)
        with stop.installed():
            (out / "grid.json").write_text(
                json.dumps(
                    {"argv": sys.argv[1:], "cells": [c.params() | {"key": c.key()} for c in cells]}, indent=1
                )
                + "\n",
                encoding="utf-8",
            )
            reused, failed, wall = execute(cells, store, given, ray_address, cpus, err, stop)
    except KeyboardInterrupt:
        raise _stopped(cells, store, stop, err) from None
    if stop.is_set():
        raise _stopped(cells, store, stop, err)
    results = [r for r in (store.load(c) for c in cells) if r is not None]
    js, csv_path = write_tables(out, results)
    console = Console(width=None if sys.stdout.isatty() else 160)
    _summary_table(results, console)
    console.print(
        f"cells 单元: {len(cells)} (reused 复用 {reused}, ran 运行 {len(cells) - reused - len(failed)}, "
        f"failed 失败 {len(failed)}) in {wall:.1f} s"
    )
    console.print(f"wrote 已写入 {js} and {csv_path}")
    if plots and results:
        from huanghe.sim.sweep_plots import plot_sweep

        written = plot_sweep(results, out / "plots")
        console.print(f"plots 图: {', '.join(str(p) for p in written)}")
    if failed:
        raise _fail(
            f"{len(failed)} cells failed 单元失败 (rerun to retry 重新运行以重试): {', '.join(failed)}", 1
        )


def register(app: typer.Typer) -> None:
    app.command("sweep")(sweep_cmd)
