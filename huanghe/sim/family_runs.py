"""One cell of a family evaluation: build (or reuse) the workload of a (family, seed, load, hours), compute its
lower bounds, simulate the policies and read the ratios (:mod:`huanghe.sim.family_eval`). Shared by the tuning
command (``bench/tune_placement.py``, the tuning family only) and the evaluation command
(``bench/bench_families.py``, the held-out families).

Workloads are written to ``<workdir>/<family>-s<seed>-l<load>-h<hours>[-o<start_h>].csv`` (the ``-o`` part
only for a window that does not start at midnight, so earlier work directories stay valid) and reused when
present. The baselines' summaries do not depend on ``huanghe``'s weights, so they are cached beside the
workload (``….<policy>.t<transfers>.json``, under the same stem: keyed by the window's start too) and reused
when ``reuse_baselines`` is set; ``huanghe`` is always simulated.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from huanghe.broker.cycle_context import HUANGHE, Weights
from huanghe.broker.snapshot import NetworkSnapshot
from huanghe.domain.network import Topology
from huanghe.sim.bounds import lower_bounds
from huanghe.sim.family_eval import workload_ratios
from huanghe.sim.network_jobs import NetworkJobs, jobs_from_workload
from huanghe.sim.network_sim import simulate_network
from huanghe.sim.traces.workload_csv import load_workload_csv
from huanghe.sim.workload_builder import write_workload
from huanghe.sim.workload_families import FamilyOptions, build_family


@dataclass(frozen=True)
class Cell:
    """One workload of the grid; ``start_h``: hours after midnight at which its arrival window starts."""

    family: str
    seed: int
    load: float
    hours: float
    start_h: float = 0.0

    @property
    def stem(self) -> str:
        base = f"{self.family}-s{self.seed}-l{self.load:g}-h{self.hours:g}"
        return f"{base}-o{self.start_h:g}" if self.start_h else base  # every cache is keyed by the start


def cell_jobs(topo: Topology, snap: NetworkSnapshot, cell: Cell, workdir: Path) -> NetworkJobs:
    """The cell's jobs resolved against ``snap`` (the workload CSV built once, then reused)."""
    path = workdir / f"{cell.stem}.csv"
    if not path.exists():
        opts = FamilyOptions(
            family=cell.family, seed=cell.seed, load=cell.load, hours=cell.hours, start_h=cell.start_h
        )
        write_workload(build_family(topo, opts), path)
    table, _ = load_workload_csv(path, topology=topo)
    return jobs_from_workload(snap, table)


def run_cell(
    topo: Topology,
    snap: NetworkSnapshot,
    cell: Cell,
    policies: Sequence[str],
    workdir: Path,
    *,
    weights: Weights | None = None,
    transfers: bool = True,
    reuse_baselines: bool = True,
    runtime_prediction: bool = False,
    log: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Simulate ``policies`` on the cell's workload; return jobs, bounds (rules ``all`` and ``hard``), every
    policy's summary and :func:`workload_ratios` (when ``huanghe`` and a real baseline ran)."""
    workdir.mkdir(parents=True, exist_ok=True)
    jobs = cell_jobs(topo, snap, cell, workdir)
    bound = lower_bounds(snap, jobs, rules="all", transfers=transfers).summary()
    bound_any = lower_bounds(snap, jobs, rules="hard", transfers=transfers).summary()
    summaries: dict[str, dict[str, Any]] = {}
    for name in policies:
        cache = workdir / f"{cell.stem}.{name}.t{int(transfers)}.json"
        if name != HUANGHE and reuse_baselines and cache.exists():
            summaries[name] = json.loads(cache.read_text(encoding="utf-8"))
            continue
        t0 = time.perf_counter()
        res = simulate_network(
            snap,
            jobs,
            name,
            seed=cell.seed,
            weights=weights,
            explain=False,
            transfers=transfers,
            runtime_prediction=runtime_prediction and name == HUANGHE,
        )
        s = res.summary()
        s["wall_s"] = time.perf_counter() - t0
        summaries[name] = s
        if name != HUANGHE:
            cache.write_text(json.dumps(s), encoding="utf-8")
        if log is not None:
            log(f"    {cell.stem} {name}: {s['wall_s']:.1f} s")
    out: dict[str, Any] = {
        "cell": cell.__dict__,
        "jobs": len(jobs),
        "bound": bound,
        "bound_any_policy": bound_any,
        "policies": summaries,
    }
    if HUANGHE in summaries and len(summaries) > 1:
        out["ratios"] = workload_ratios(summaries, bound, cell.load)
    return out


__all__ = ["Cell", "cell_jobs", "run_cell"]
