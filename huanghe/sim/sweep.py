"""Experiment sweeps: a grid of multi-center simulations (``huanghe sweep``), one **cell** per combination.

A cell is one run of ``huanghe simulate --network N --workload W --policy P --seed S --cycle-s C`` where the
workload is either built the way ``huanghe workload build --network N --seed S --load L --hours H --tenants T``
builds it, or a given workload CSV. Cells run anywhere (in this process or as Ray tasks: the executors live in
:mod:`huanghe.cli.sweep_exec`); this module is what they run and how results are kept:

* :func:`build_workload_table` builds (or reads) a cell's workload: the same CSV round trip as
  ``bench/bench_broker.py`` (built rows written, then read back through the checked loader), so a sweep cell
  gives exactly the numbers of the equivalent ``simulate`` run;
* :func:`run_cell` simulates one cell on a workload (explanations off) and returns its JSON-ready result;
* :class:`SweepStore` keeps one JSON file per finished cell under ``DIR/cells/`` (written atomically, named by
  a hash of the cell's parameters): a rerun of the same command skips the cells that have a file, so an
  interrupted sweep resumes where it stopped;
* :func:`write_tables` gathers the cells of a grid into ``DIR/results.json`` and ``DIR/results.csv``.

Units: ``load`` is the offered load as a fraction of the network's capacity, ``hours`` the arrival horizon,
``cycle_s`` the broker cycle period in seconds; result fields are those of
:meth:`huanghe.sim.network_result.NetworkSimResult.summary` (seconds, CNY, kg CO2, kWh) plus ``wall_s``.
"""

from __future__ import annotations

import csv
import hashlib
import itertools
import json
import os
import socket
import tempfile
import time
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

from huanghe.sim.traces.workload_csv import WorkloadTable

#: version of the cell file format (a changed format is recomputed, never misread)
CELL_FORMAT = 1


@dataclass(frozen=True)
class WorkloadSpec:
    """What a cell's workload is: built (``path`` None) from seed, load, hours and tenants on ``network``, or
    read from the workload CSV ``path``; ``jobs`` keeps only the first N jobs (None = all)."""

    network: str
    seed: int
    load: float | None
    hours: float | None
    tenants: int | None
    path: str | None
    jobs: int | None

    def label(self) -> str:
        """Short human-readable name (for errors and the progress bar)."""
        base = Path(self.path).name if self.path else f"seed {self.seed} load {self.load:g} {self.hours:g} h"
        return f"{self.network} · {base}" + (f" · first {self.jobs}" if self.jobs else "")


@dataclass(frozen=True)
class Cell:
    """One simulation of the grid. ``workload`` None = built from ``seed``/``load``/``hours``/``tenants``;
    else a workload CSV (then ``load``, ``hours`` and ``tenants`` are None)."""

    network: str
    policy: str
    seed: int
    load: float | None
    hours: float | None
    tenants: int | None
    cycle_s: float
    jobs: int | None
    workload: str | None

    def params(self) -> dict[str, Any]:
        return asdict(self)

    def key(self) -> str:
        """File name stem: readable prefix + 12 hex of a SHA-256 of the parameters (same cell, same key)."""
        digest = hashlib.sha256(json.dumps(self.params(), sort_keys=True).encode()).hexdigest()[:12]
        net = "".join(ch if ch.isalnum() else "_" for ch in Path(self.network).stem)[:24]
        what = f"l{self.load:g}-h{self.hours:g}" if self.workload is None else Path(self.workload).stem[:24]
        return f"{net}-{self.policy}-{what}-s{self.seed}-{digest}"

    def workload_spec(self) -> WorkloadSpec:
        return WorkloadSpec(
            self.network, self.seed, self.load, self.hours, self.tenants, self.workload, self.jobs
        )


def grid(
    *,
    networks: Sequence[str],
    policies: Sequence[str],
    seeds: Sequence[int],
    cycle_s: Sequence[float],
    loads: Sequence[float] = (),
    hours: Sequence[float] = (),
    tenants: Sequence[int] = (),
    workloads: Sequence[str] = (),
    jobs: int | None = None,
) -> list[Cell]:
    """Every combination, ordered so that cells sharing a workload are adjacent (network, workload, seed,
    cycle, policy). With ``workloads`` the given CSVs replace the built ones (``loads``/``hours``/``tenants``
    are then ignored)."""
    out: list[Cell] = []
    if workloads:
        for net, wl, seed, cyc, pol in itertools.product(networks, workloads, seeds, cycle_s, policies):
            out.append(Cell(net, pol, seed, None, None, None, cyc, jobs, wl))
        return out
    for net, load, hrs, ten, seed, cyc, pol in itertools.product(
        networks, loads, hours, tenants, seeds, cycle_s, policies
    ):
        out.append(Cell(net, pol, seed, load, hrs, ten, cyc, jobs, None))
    return out


def build_workload_table(spec: WorkloadSpec) -> WorkloadTable:
    """The cell's workload as a table, checked against the network (a built one goes through a temporary
    CSV, exactly as ``workload build`` + ``simulate --workload`` would)."""
    from huanghe.catalog.topology import load_topology
    from huanghe.sim.traces.workload_csv import load_workload_csv
    from huanghe.sim.workload_builder import BuildOptions, build_workload, write_workload

    topo = load_topology(spec.network)
    if spec.path is not None:
        table, _ = load_workload_csv(spec.path, topology=topo)
    else:
        assert spec.load is not None and spec.hours is not None and spec.tenants is not None
        options = BuildOptions(seed=spec.seed, load=spec.load, hours=spec.hours, n_tenants=spec.tenants)
        with tempfile.TemporaryDirectory(prefix="hhsweep-w") as tmp:
            path = Path(tmp) / "workload.csv"
            write_workload(build_workload(topo, options), path)
            table, _ = load_workload_csv(path, topology=topo)
    if spec.jobs is not None:
        table = WorkloadTable(**{f.name: getattr(table, f.name)[: spec.jobs] for f in fields(WorkloadTable)})
    return table


def run_cell(cell: Cell, table: WorkloadTable) -> dict[str, Any]:
    """Simulate one cell; the result is JSON-ready: ``cell`` (parameters), ``summary``, ``wall_s`` (seconds of
    simulation), ``host`` and ``pid`` (where it ran)."""
    from huanghe.catalog.topology import load_topology
    from huanghe.sim.network_sim import simulate_network

    topo = load_topology(cell.network)
    t0 = time.perf_counter()
    result = simulate_network(topo, table, cell.policy, seed=cell.seed, cycle_s=cell.cycle_s, explain=False)
    summary = result.summary()
    wall = time.perf_counter() - t0
    summary.pop("wall_s", None)  # the run's own wall time goes beside the summary, not in it
    return {
        "format": CELL_FORMAT,
        "key": cell.key(),
        "cell": cell.params(),
        "summary": summary,
        "wall_s": wall,
        "host": socket.gethostname(),
        "pid": os.getpid(),
    }


class SweepStore:
    """Finished cells in ``root/cells/<key>.json``; a file exists only once its cell has fully finished."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.cells_dir = root / "cells"

    def path(self, cell: Cell) -> Path:
        return self.cells_dir / f"{cell.key()}.json"

    def load(self, cell: Cell) -> dict[str, Any] | None:
        """The cell's stored result, or None when absent, unreadable or for other parameters."""
        try:
            data = json.loads(self.path(cell).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        if (
            not isinstance(data, dict)
            or data.get("format") != CELL_FORMAT
            or data.get("cell") != cell.params()
        ):
            return None
        return data

    def save(self, cell: Cell, result: dict[str, Any]) -> Path:
        """Write atomically (temporary file in the same directory, then rename): an interruption never leaves
        a half-written cell behind."""
        self.cells_dir.mkdir(parents=True, exist_ok=True)
        path = self.path(cell)
        fd, tmp = tempfile.mkstemp(prefix=f".{cell.key()}.", suffix=".tmp", dir=self.cells_dir)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump(result, fh, ensure_ascii=False, indent=1)
                fh.write("\n")
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return path


#: CSV columns: the cell's parameters, then the summary's scalar metrics
CSV_METRICS = (
    "jobs",
    "mean_jct_s",
    "p95_jct_s",
    "mean_wait_s",
    "mean_bsld",
    "utilisation",
    "cost_cny",
    "carbon_kg",
    "energy_kwh",
    "cycles",
)


def flat_row(result: dict[str, Any]) -> dict[str, Any]:
    """One CSV row: parameters, scalar metrics, violations and unfinished counts, wall seconds, host."""
    s = result["summary"]
    row: dict[str, Any] = {"key": result["key"], **result["cell"]}
    row.update({m: s.get(m) for m in CSV_METRICS})
    row.update({f"violations_{k}": v for k, v in s["violations"].items()})
    row["unfinished"] = sum(s["unfinished"].values())
    row["wall_s"] = round(float(result["wall_s"]), 3)
    row["host"] = result.get("host", "")
    return row


def write_tables(root: Path, results: Iterable[dict[str, Any]]) -> tuple[Path, Path]:
    """``root/results.json`` (every cell's full result, grid order) and ``root/results.csv`` (one flat row
    per cell)."""
    rows = list(results)
    root.mkdir(parents=True, exist_ok=True)
    js = root / "results.json"
    js.write_text(json.dumps(rows, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    flat = [flat_row(r) for r in rows]
    cols: list[str] = []
    for r in flat:
        cols.extend(k for k in r if k not in cols)
    path = root / "results.csv"
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=cols, lineterminator="\n")
        writer.writeheader()
        writer.writerows({k: ("" if v is None else v) for k, v in r.items()} for r in flat)
    return js, path
