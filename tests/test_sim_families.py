"""Workload families (huanghe/sim/workload_families.py): determinism, the documented mapping rules of each
family, load scaling, and the evaluation's ratios and goals (huanghe/sim/family_eval.py); the evaluation
command refuses the tuning family."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from huanghe.broker.batch import SLO_IN_CIRCLE_MS, SLO_IN_CITY_MS, JobBatch
from huanghe.broker.filters import apply_filters
from huanghe.broker.snapshot import DATA_CLASS_BIT, NetworkSnapshot
from huanghe.catalog.topology import load_topology
from huanghe.core.clock import FakeClock
from huanghe.domain.enums import DataClass, JobKind
from huanghe.domain.network import Topology
from huanghe.paths import traces_dir
from huanghe.sim.family_eval import aggregate, workload_ratios
from huanghe.sim.workload_builder import TRACE_FILES, BuildOptions, BuildResult, WorkloadBuildError
from huanghe.sim.workload_families import FAMILIES, FamilyOptions, build_family, diurnal_times
from huanghe.sim.workload_tenants import DATA_GB

ROOT = Path(__file__).resolve().parent.parent
needs_traces = pytest.mark.skipif(
    not all((traces_dir() / f).is_file() for f in TRACE_FILES.values()), reason="public traces not available"
)


@pytest.fixture(scope="module")
def shandong() -> Topology:
    return load_topology("shandong-mini")  # the small network: fast


@pytest.fixture(scope="module")
def snap(shandong: Topology) -> NetworkSnapshot:
    return NetworkSnapshot.from_topology(shandong, FakeClock(0.0), carbon_shape="synthetic")


@pytest.fixture(scope="module")
def built(shandong: Topology) -> dict[str, BuildResult]:
    # the builder family is build_workload itself (tests/test_workload_builder.py); building it here is slow
    return {
        f: build_family(shandong, FamilyOptions(family=f, seed=3, load=0.5, hours=1.0))
        for f in FAMILIES
        if f != "builder"
    }


def streams(res: BuildResult) -> set[str]:
    return {str(r["job_id"]).rsplit("-", 1)[0] for r in res.rows}


@needs_traces
def test_deterministic_and_seeded(shandong: Topology, built: dict[str, BuildResult]) -> None:
    for fam in ("hpc", "inference", "data-heavy"):
        again = build_family(shandong, FamilyOptions(family=fam, seed=3, load=0.5, hours=1.0))
        assert again.rows == built[fam].rows, fam
        other = build_family(shandong, FamilyOptions(family=fam, seed=4, load=0.5, hours=1.0))
        assert other.rows != built[fam].rows, fam


@needs_traces
def test_each_family_has_its_own_jobs(built: dict[str, BuildResult]) -> None:
    kinds = {f: {str(r["kind"]) for r in res.rows} for f, res in built.items()}
    assert kinds["hpc"] == {"hpc"} and streams(built["hpc"]) == {"hpc2n", "sdsc"}
    assert kinds["gpu-train"] == {"gpu"} and streams(built["gpu-train"]) == {"philly", "openb"}
    assert kinds["inference"] == {"inference"} and streams(built["inference"]) == {"openb"}
    assert streams(built["data-heavy"]) == {"philly", "hpc2n", "cpu"}
    opts = FamilyOptions(family="builder").builder_options({"philly": 0.6, "openb": 0.4}, {})
    assert opts.gpu_mix == BuildOptions().gpu_mix and opts.seed == 0 and opts.load == 0.5
    # sizes and durations differ between families (their own traces)
    med = {f: float(np.median([r["duration_s"] for r in res.rows])) for f, res in built.items()}
    assert len({round(v) for v in med.values()}) == len(med)


@needs_traces
def test_offered_load_scales(shandong: Topology, built: dict[str, BuildResult]) -> None:
    for fam, res in built.items():
        load = res.meta["offered_load"]
        main = max(load.values())
        assert 0.4 <= main <= 0.6, (fam, load)
    double = build_family(shandong, FamilyOptions(family="gpu-train", seed=3, load=1.0, hours=1.0))
    assert 0.85 <= double.meta["offered_load"]["gpus"] <= 1.15
    assert len(double.rows) > 1.5 * len(built["gpu-train"].rows)


@needs_traces
def test_inference_has_slos_and_diurnal_arrivals(
    built: dict[str, BuildResult], snap: NetworkSnapshot
) -> None:
    rows = built["inference"].rows
    with_slo = [r for r in rows if r["latency_slo_ms"] != ""]
    assert len(with_slo) >= 0.9 * len(rows)  # the rest had theirs relaxed to be feasible (counted in meta)
    assert {r["latency_slo_ms"] for r in with_slo} <= {SLO_IN_CITY_MS, SLO_IN_CIRCLE_MS}
    assert all(r["user_city"] in snap.city_ids for r in with_slo)
    rng = np.random.default_rng(0)
    t = diurnal_times(rng, 20000, 24 * 3600.0)
    hours = np.bincount((t // 3600).astype(int), minlength=24)
    assert hours[20] > 2.5 * hours[8]  # evening peak, morning trough: (1 + 0.6) / (1 - 0.6) = 4
    assert np.all(np.diff(t) >= 0) and t.min() >= 0 and t.max() < 24 * 3600


@needs_traces
def test_data_heavy_inputs_are_large_spread_and_allowed(
    built: dict[str, BuildResult], snap: NetworkSnapshot
) -> None:
    rows = built["data-heavy"].rows
    assert all(float(r["data_gb"]) > 0 for r in rows)
    assert np.median([float(r["data_gb"]) for r in rows]) > 100
    assert np.median([float(r["data_gb"]) for r in rows]) > 5 * DATA_GB[JobKind.HPC][0]  # builder: 20 GB
    centers = {r["data_center"] for r in rows}
    assert len(centers) > 0.8 * snap.n_centers  # spread over the network, not near the tenants
    idx = {c: i for i, c in enumerate(snap.center_ids)}
    for r in rows:
        bit = DATA_CLASS_BIT[DataClass(r["data_class"])]
        assert snap.data_class_mask[idx[r["data_center"]]] & bit


@needs_traces
def test_every_job_fits_some_pool(built: dict[str, BuildResult], snap: NetworkSnapshot) -> None:
    for fam, res in built.items():
        jobs = JobBatch.from_records(snap, res.rows)
        assert apply_filters(snap, jobs).feasible.any(axis=1).all(), fam


def test_bad_options_name_the_field(shandong: Topology) -> None:
    with pytest.raises(WorkloadBuildError, match="family"):
        build_family(shandong, FamilyOptions(family="nope"))
    with pytest.raises(WorkloadBuildError, match="load"):
        build_family(shandong, FamilyOptions(family="hpc", load=0.0))


def summary(jct: float, carbon: float, cost: float, residency: int = 0) -> dict[str, Any]:
    return {"mean_jct_s": jct, "carbon_kg": carbon, "cost_cny": cost, "unfinished": {"queued": 0},
            "violations": {"residency": residency, "latency": 0, "deadline": 0}}  # fmt: skip


def test_ratios_and_goals() -> None:
    s = {
        "huanghe": summary(80, 70, 103),
        "first-admit": summary(100, 100, 100),
        "earliest-start": summary(120, 90, 120),
        "earliest-completion": summary(50, 10, 10),  # ours: never a goal's reference
        "cheapest": summary(200, 95, 99, residency=3),
    }
    r = workload_ratios(s, {"mean_jct_s": 70.0, "carbon_kg": 50.0}, 0.5)
    assert r["jct_vs_best_real"] == pytest.approx(0.8) and r["best_jct_baseline"] == "first-admit"
    assert (
        r["carbon_vs_best_real"] == pytest.approx(70 / 90) and r["best_carbon_baseline"] == "earliest-start"
    )
    assert r["cost_vs_cheapest_real"] == pytest.approx(103 / 99) and r["cheapest_baseline"] == "cheapest"
    assert r["jct_vs_bound"]["huanghe"] == pytest.approx(80 / 70)
    assert r["met"] == {"jct<=0.8": True, "carbon<=0.8": True, "cost<=1.05": True, "no_violations": True,
                        "jct<=1.15xbound": True}  # fmt: skip
    worse = dict(s, huanghe=summary(81, 80, 110, residency=1))
    r2 = workload_ratios(worse, {"mean_jct_s": 70.0, "carbon_kg": 50.0}, 1.0)
    assert not any(r2["met"].values()) and "jct<=1.15xbound" not in r2["met"]
    a = aggregate([r, workload_ratios(worse, {"mean_jct_s": 70.0, "carbon_kg": 50.0}, 0.5)])
    assert a["jct_vs_best_real"][0] == pytest.approx(0.805)
    assert a["jct_vs_best_real"][1] == pytest.approx(np.std([0.8, 0.81], ddof=1))
    assert a["met_all"]["jct<=0.8"] is False and a["huanghe_violations"]["residency"] == 1
    with pytest.raises(ValueError, match="baseline"):
        workload_ratios({"huanghe": s["huanghe"]}, {"mean_jct_s": 1.0, "carbon_kg": 1.0}, 0.5)


def test_evaluation_refuses_the_tuning_family() -> None:
    out = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "bench_families.py"), "--families", "hpc,builder"],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert out.returncode != 0 and "tuning family 'builder'" in out.stderr
    bad = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "bench_families.py"), "--families", "hpc,marine"],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert bad.returncode != 0 and "--families" in bad.stderr and "marine" in bad.stderr
