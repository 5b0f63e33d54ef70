"""Evaluation windows that start at other hours than midnight (issue #15, ``FamilyOptions.start_h``): every
family's arrivals fall in the window, trace families shift, the diurnal family samples its curve at the
window's hours, a bad start is refused naming the field, and the lower bounds and the simulator read the
shifted jobs on absolute time."""

from __future__ import annotations

import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from huanghe.broker.batch import node_share
from huanghe.broker.carbon import SECONDS_PER_HOUR
from huanghe.broker.snapshot import NetworkSnapshot
from huanghe.catalog.topology import load_topology
from huanghe.core.clock import FakeClock
from huanghe.domain.network import Topology
from huanghe.paths import traces_dir
from huanghe.sim.bounds import feasible_pools, lower_bounds
from huanghe.sim.family_runs import Cell
from huanghe.sim.network_jobs import NetworkJobs, jobs_from_workload
from huanghe.sim.network_sim import simulate_network
from huanghe.sim.traces.workload_csv import load_workload_csv
from huanghe.sim.workload_builder import TRACE_FILES, BuildResult, WorkloadBuildError, write_workload
from huanghe.sim.workload_families import (
    DIURNAL_AMPLITUDE,
    DIURNAL_PEAK_H,
    FAMILIES,
    FamilyOptions,
    build_family,
    diurnal_mean_rate,
    diurnal_times,
    diurnal_work_factor,
)

ROOT = Path(__file__).resolve().parent.parent
HOURS = 0.5
needs_traces = pytest.mark.skipif(
    not all((traces_dir() / f).is_file() for f in TRACE_FILES.values()), reason="public traces not available"
)


@pytest.fixture(scope="module")
def mini() -> Topology:
    return load_topology("shandong-mini")


def build(topo: Topology, family: str, start_h: float, seed: int = 5, hours: float = HOURS) -> BuildResult:
    return build_family(topo, FamilyOptions(family=family, seed=seed, load=0.5, hours=hours, start_h=start_h))


def submits(res: BuildResult) -> np.ndarray:
    return np.array([float(r["submit_s"]) for r in res.rows])


def as_jobs(res: BuildResult, topo: Topology, snap: NetworkSnapshot, path: Path) -> NetworkJobs:
    write_workload(res, path)  # through the CSV, as the bench does
    table, _ = load_workload_csv(path, topology=topo)
    return jobs_from_workload(snap, table)


@needs_traces
@pytest.mark.parametrize("family", FAMILIES)
def test_every_family_arrives_in_its_window(mini: Topology, family: str) -> None:
    start_h = 7.5
    res = build(mini, family, start_h)
    lo, hi = start_h * 3600.0, (start_h + HOURS) * 3600.0
    t = submits(res)
    assert len(t) > 10 and t.min() >= lo and t.max() < hi, (family, t.min(), t.max())
    assert res.meta["window_s"] == [lo, hi] and res.meta["family"]["start_h"] == start_h
    if family == "inference":  # services: no deadlines; arrivals drawn from the curve (next tests)
        return
    deadlines = [float(r["deadline_s"]) - float(r["submit_s"]) for r in res.rows if r["deadline_s"] != ""]
    assert deadlines and min(deadlines) > 2 * 3600.0  # deadlines moved with their jobs (slack >= 2 h)
    # no hour-of-day rate: the midnight workload's jobs, shifted (same ids, sizes, deadlines - start)
    base = build(mini, family, 0.0)
    assert [r["job_id"] for r in res.rows] == [r["job_id"] for r in base.rows]
    assert np.allclose(t - lo, submits(base), atol=2e-3)
    for r, b in zip(res.rows, base.rows, strict=True):
        assert (r["duration_s"], r["nodes"], r["data_center"]) == (
            b["duration_s"],
            b["nodes"],
            b["data_center"],
        )
        if b["deadline_s"] != "":
            assert float(r["deadline_s"]) - lo == pytest.approx(float(b["deadline_s"]), abs=2e-3)


def test_diurnal_curve_is_sampled_at_the_window_hours() -> None:
    # exact mean of the curve against a fine numeric mean, and the factor by hand
    for start_h, hours in ((0.0, 0.25), (12.0, 0.25), (18.0, 3.0), (23.5, 1.0)):
        h = start_h + (np.arange(100000) + 0.5) / 100000 * hours
        num = float(np.mean(1 + DIURNAL_AMPLITUDE * np.cos(2 * math.pi * (h - DIURNAL_PEAK_H) / 24)))
        assert diurnal_mean_rate(start_h * 3600, hours * 3600) == pytest.approx(num, rel=1e-9)
    assert diurnal_work_factor(0.0, 900.0) == 1.0
    assert diurnal_work_factor(12 * 3600.0, 900.0) == pytest.approx(
        0.717 / 1.283, abs=0.01
    )  # noon trough side
    assert diurnal_work_factor(18 * 3600.0, 900.0) > 1.15  # toward the 20:00 peak
    # arrivals follow the curve over the window's own hours: rising from 14:00 to 20:00
    t = diurnal_times(np.random.default_rng(1), 60000, 6 * 3600.0, 14 * 3600.0)
    assert t.min() >= 14 * 3600.0 and t.max() < 20 * 3600.0 and np.all(np.diff(t) >= 0)
    per_h = np.bincount(((t - 14 * 3600.0) // 3600).astype(int), minlength=6)
    rate = 1 + DIURNAL_AMPLITUDE * np.cos(2 * math.pi * (np.arange(14, 20) + 0.5 - DIURNAL_PEAK_H) / 24)
    assert np.allclose(per_h / per_h.sum(), rate / rate.sum(), atol=0.01)
    midnight = diurnal_times(np.random.default_rng(1), 60000, 6 * 3600.0)
    assert not np.allclose(t - 14 * 3600.0, midnight, atol=60.0)  # not a shifted midnight sample


@needs_traces
def test_diurnal_family_at_noon_has_fewer_services_than_at_midnight(mini: Topology) -> None:
    night, noon = build(mini, "inference", 0.0, hours=1.0), build(mini, "inference", 12.0, hours=1.0)
    factor = diurnal_work_factor(12 * 3600.0, 3600.0)
    assert noon.meta["work_factor"] == factor and night.meta["work_factor"] == 1.0
    assert noon.meta["offered_load"]["gpus"] == pytest.approx(
        factor * night.meta["offered_load"]["gpus"], rel=0.1
    )
    assert len(noon.rows) < 0.75 * len(night.rows)  # factor ~0.56: the curve, not a shift
    evening = build(mini, "inference", 19.5, hours=1.0)
    assert len(evening.rows) > len(night.rows)


def test_bad_start_h_names_the_field(mini: Topology) -> None:
    for bad in (-1.0, 24.0, 30.0, math.nan):
        with pytest.raises(WorkloadBuildError, match="start_h"):
            build_family(mini, FamilyOptions(family="hpc", start_h=bad))
    out = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "bench_families.py"), "--families", "hpc", "--start-hour", "24"],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert out.returncode != 0 and "--start-hour" in out.stderr and "start_h" in out.stderr


def test_cells_are_keyed_by_the_start() -> None:
    assert Cell("hpc", 1, 0.5, 0.25).stem == "hpc-s1-l0.5-h0.25"  # midnight: the earlier work directories
    assert Cell("hpc", 1, 0.5, 0.25, 12.0).stem == "hpc-s1-l0.5-h0.25-o12"
    assert Cell("hpc", 1, 0.5, 0.25, 6.5).stem != Cell("hpc", 1, 0.5, 0.25, 0.0).stem


@needs_traces
def test_bounds_and_simulation_read_the_shifted_jobs(mini: Topology, tmp_path: Path) -> None:
    snap = NetworkSnapshot.from_topology(mini, FakeClock(0.0))
    start_s = 12 * 3600.0
    noon = as_jobs(build(mini, "hpc", 12.0, hours=0.25), mini, snap, tmp_path / "noon.csv")
    night = as_jobs(build(mini, "hpc", 0.0, hours=0.25), mini, snap, tmp_path / "night.csv")
    bn, b0 = lower_bounds(snap, noon), lower_bounds(snap, night)
    assert np.allclose(bn.jct_s, b0.jct_s)  # no-contention JCT: the same jobs, whatever the hour
    assert not np.allclose(bn.carbon_kg, b0.carbon_kg)  # the carbon bound reads the hours of the window
    # by hand, for jobs with a deadline: the cleanest feasible pool at its cleanest hour in [submit, deadline]
    b = noon.batch
    feas = feasible_pools(snap, b, "all")
    hourly = snap.carbon.hourly_kg_per_kwh
    share = node_share(b, snap)
    with_dl = np.flatnonzero(~np.isnan(noon.deadline_abs_s))[:40]
    assert with_dl.size > 10
    for j in with_dl.tolist():
        h0, h1 = int(b.submit_s[j] // SECONDS_PER_HOUR), int(noon.deadline_abs_s[j] // SECONDS_PER_HOUR)
        assert h0 >= 12  # never an hour before its submission (midnight's hours are not in its window)
        best = math.inf
        for p in np.flatnonzero(feas[j]).tolist():
            run_h = float(noon.duration_s[j]) / float(snap.speed[p, b.kind[j]]) / SECONDS_PER_HOUR
            c = int(snap.pool_center[p])
            energy = float(b.nodes[j] * share[j, p] * run_h * snap.power_kw_per_node[p] * snap.pue[c])
            best = min(best, energy * float(hourly[c, h0 : h1 + 1].min()))
        assert bn.carbon_kg[j] == pytest.approx(best, rel=1e-9)
    # the simulator runs the shifted jobs on absolute time: nothing starts before the window, bounds hold
    res = simulate_network(snap, noon, "earliest-completion", explain=False, transfers=True)
    s = res.summary()
    ran = ~np.isnan(res.start_s)
    assert ran.all() and res.start_s.min() >= start_s
    assert s["mean_jct_s"] >= bn.mean_jct_s * (1 - 1e-9) and s["carbon_kg"] >= bn.total_carbon_kg * (1 - 1e-9)
    assert s["violations"]["residency"] == 0 and s["violations"]["latency"] == 0
