"""The workload builder: determinism, columns, load scaling, valid references, the CLI."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from huanghe.broker.batch import JobBatch
from huanghe.broker.filters import apply_filters
from huanghe.broker.snapshot import NetworkSnapshot
from huanghe.catalog.topology import dump_topology, load_topology
from huanghe.cli.main import app
from huanghe.core.clock import FakeClock
from huanghe.domain.network import Topology
from huanghe.paths import traces_dir
from huanghe.sim.traces.workload_csv import load_workload_csv
from huanghe.sim.workload_builder import (
    COLUMNS,
    REQUIRED_COLUMNS,
    TRACE_FILES,
    BuildOptions,
    BuildResult,
    WorkloadBuildError,
    _make_feasible,
    build_workload,
    offered_load,
    write_workload,
)
from tests.broker_toy import toy_topology

pytestmark = pytest.mark.skipif(
    not all((traces_dir() / f).is_file() for f in TRACE_FILES.values()), reason="public traces not available"
)


@pytest.fixture(scope="module")
def shandong() -> Topology:
    return load_topology("shandong-mini")  # the small network: fast


@pytest.fixture(scope="module")
def half(shandong: Topology) -> BuildResult:
    return build_workload(shandong, BuildOptions(seed=7, load=0.5, hours=1.0))


def test_deterministic_per_seed(shandong: Topology, half: BuildResult) -> None:
    again = build_workload(shandong, BuildOptions(seed=7, load=0.5, hours=1.0))
    assert again.rows == half.rows and again.meta == half.meta
    other = build_workload(shandong, BuildOptions(seed=8, load=0.5, hours=1.0))
    assert other.rows != half.rows


def test_columns_and_csv(shandong: Topology, half: BuildResult, tmp_path: Path) -> None:
    out = tmp_path / "w.csv"
    meta_path = write_workload(half, out)
    with out.open(encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        assert tuple(reader.fieldnames or ()) == COLUMNS
        rows = list(reader)
    assert len(rows) == len(half.rows) == json.loads(meta_path.read_text())["jobs"]
    # the project's reader accepts the file, checking ids against the network
    table, report = load_workload_csv(out, topology=shandong)
    assert len(table) == len(rows) and report.loaded == len(rows)
    for r in rows:
        assert all(r[c] != "" for c in REQUIRED_COLUMNS)
    submits = [float(r["submit_s"]) for r in rows]
    assert submits == sorted(submits) and submits[0] >= 0 and submits[-1] < 3600.0
    assert len({r["job_id"] for r in rows}) == len(rows)
    assert all(float(r["duration_s"]) > 0 and int(r["nodes"]) >= 1 for r in rows)
    kinds = {r["kind"] for r in rows}
    assert kinds == {"cpu", "gpu", "hpc", "inference"}
    # inference jobs carry a user city and an SLO of 1 or 3 ms; batch jobs none
    inf = [r for r in rows if r["kind"] == "inference"]
    assert inf and all(r["user_city"] and float(r["latency_slo_ms"]) in (1.0, 3.0) for r in inf)
    assert all(r["latency_slo_ms"] == "" for r in rows if r["kind"] != "inference")
    # some delay-tolerant jobs have a deadline after their run time
    dl = [r for r in rows if r["deadline_s"]]
    assert 0.2 < len(dl) / len(rows) < 0.6
    assert all(float(r["deadline_s"]) >= float(r["submit_s"]) + float(r["duration_s"]) + 7200 for r in dl)
    # whole cores and GPUs per node, as the CSV format requires
    assert all(r["cpus"].isdigit() and r["gpus"].isdigit() for r in rows)
    assert all(int(r["gpus"]) >= 1 for r in rows if r["kind"] in ("gpu", "inference"))


def test_offered_load_matches_and_scales(shandong: Topology, half: BuildResult) -> None:
    meta = half.meta
    assert meta["offered_load"]["gpus"] == pytest.approx(0.5, rel=0.05)
    assert meta["offered_load"]["cpus"] == pytest.approx(0.5, rel=0.05)
    # recomputed from the rows with the documented formula
    assert offered_load(half.rows, meta["capacity"], 3600.0) == pytest.approx(meta["offered_load"])
    double = build_workload(shandong, BuildOptions(seed=7, load=1.0, hours=1.0))
    for res in ("gpus", "cpus"):
        assert double.meta["offered_load"][res] == pytest.approx(1.0, rel=0.05)
    work = {
        k: double.meta["streams"][k]["work"] / half.meta["streams"][k]["work"] for k in half.meta["streams"]
    }
    assert all(1.8 < ratio < 2.2 for ratio in work.values()), work
    assert len(double.rows) > len(half.rows)


def test_references_are_valid_and_every_job_has_a_pool(shandong: Topology, half: BuildResult) -> None:
    centers = {c.id: c for c in shandong.centers}
    cities = {y.id for y in shandong.cities}
    tenants = {t["id"] for t in half.meta["tenants"]}
    classes = {"general": 0, "important": 0, "core": 0}
    for r in half.rows:
        assert r["tenant"] in tenants
        if r["data_center"]:
            c = centers[r["data_center"]]
            assert r["data_class"] in c.allowed_data_classes
            assert r["data_gb"] > 0
        if r["user_city"]:
            assert r["user_city"] in cities
        classes[r["data_class"]] += 1
    n = len(half.rows)
    assert classes["general"] / n > 0.8 and 0 < classes["core"] < classes["important"]
    snap = NetworkSnapshot.from_topology(shandong, FakeClock(0.0), carbon_shape="synthetic")
    jobs = JobBatch.from_records(snap, half.rows)
    assert apply_filters(snap, jobs).feasible.any(axis=1).all()
    assert half.meta["relaxed"]["dropped"] == 0


def test_trace_streams_keep_arrival_order(half: BuildResult) -> None:
    philly = [r for r in half.rows if r["job_id"].startswith("philly-")]
    ids = [r["job_id"] for r in philly]
    assert ids == sorted(ids)  # compressed trace times keep the trace's order
    assert len({r["tenant"] for r in philly}) <= 15  # one tenant per Philly virtual cluster


def test_toy_network_load_and_validity() -> None:
    res = build_workload(toy_topology(), BuildOptions(seed=1, load=0.5, hours=6.0, n_tenants=8))
    assert res.meta["offered_load"]["gpus"] == pytest.approx(0.5, rel=0.1)
    assert res.meta["offered_load"]["cpus"] == pytest.approx(0.5, rel=0.1)
    snap = NetworkSnapshot.from_topology(toy_topology(), FakeClock(0.0), carbon_shape="synthetic")
    assert apply_filters(snap, JobBatch.from_records(snap, res.rows)).feasible.any(axis=1).all()
    for r in res.rows:
        if r["data_class"] == "core":
            assert r["data_center"] == "jn"  # the only center allowing core data
        if r["data_class"] == "important":
            assert r["data_center"] in ("jn", "zb")


def test_infeasible_jobs_are_relaxed_step_by_step() -> None:
    snap = NetworkSnapshot.from_topology(toy_topology(), FakeClock(0.0), carbon_shape="synthetic")
    base = {"cpus": 8, "gpus": 1, "nodes": 1, "kind": "inference", "data_gb": 1.0, "data_class": "general"}
    rows = [
        # NPUs are only in Qingdao: 1.66 ms from Zibo, 2.29 ms from Jinan -> the 3 ms SLO holds
        {**base, "job_id": "a", "accelerator": "npu", "user_city": "zibo", "latency_slo_ms": 1.0},
        {**base, "job_id": "b", "accelerator": "npu", "user_city": "jinan", "latency_slo_ms": 1.0},
        # core data in Jinan cannot go to the Qingdao NPUs: lowered to general
        {
            **base,
            "job_id": "c",
            "accelerator": "npu",
            "user_city": "",
            "latency_slo_ms": "",
            "data_class": "core",
            "data_center": "jn",
        },
        # no pool has H100s: dropped
        {**base, "job_id": "d", "accelerator": "h100", "user_city": "", "latency_slo_ms": ""},
        # fine as it is
        {**base, "job_id": "e", "accelerator": "", "user_city": "jinan", "latency_slo_ms": 1.0},
    ]
    kept, counts = _make_feasible(snap, rows)
    assert counts == {"slo_1_to_3_ms": 2, "slo_dropped": 0, "data_class_lowered": 1, "dropped": 1}
    assert [r["job_id"] for r in kept] == ["a", "b", "c", "e"]
    assert kept[0]["latency_slo_ms"] == 3.0 and kept[2]["data_class"] == "general"
    assert kept[3]["latency_slo_ms"] == 1.0


def test_cpu_only_mix_and_option_errors() -> None:
    res = build_workload(
        toy_topology(), BuildOptions(seed=2, load=0.3, hours=2.0, gpu_mix={}, cpu_mix={"cpu": 1.0})
    )
    assert res.rows and {r["kind"] for r in res.rows} == {"cpu"}
    assert res.meta["offered_load"]["gpus"] == 0.0
    assert res.meta["offered_load"]["cpus"] == pytest.approx(0.3, rel=0.1)
    for bad, match in (
        (BuildOptions(load=0), "load must be > 0"),
        (BuildOptions(hours=-1), "hours"),
        (BuildOptions(gpu_mix={"philly": 0.5}), "sum to 1"),
        (BuildOptions(cpu_mix={"philly": 1.0}), "unknown stream"),
    ):
        with pytest.raises(WorkloadBuildError, match=match):
            build_workload(toy_topology(), bad)


def test_cli_build(tmp_path: Path) -> None:
    net = tmp_path / "toy.yaml"
    net.write_text(dump_topology(toy_topology()), encoding="utf-8")
    out = tmp_path / "w.csv"
    runner = CliRunner()
    args = ["workload", "build", "--network", str(net), "--seed", "3", "--load", "0.4", "--hours", "3"]
    result = runner.invoke(app, [*args, "--out", str(out), "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["jobs"] > 0 and out.is_file() and Path(summary["meta"]).is_file()
    assert summary["offered_load"]["gpus"] == pytest.approx(0.4, rel=0.25)
    table = runner.invoke(app, [*args, "--out", str(tmp_path / "w2.csv")])
    assert table.exit_code == 0 and "offered load" in table.stdout
    assert (tmp_path / "w2.csv").read_bytes() == out.read_bytes()
    bad = runner.invoke(app, ["workload", "build", "--load", "-1", "--out", str(tmp_path / "x.csv")])
    assert bad.exit_code == 2 and "load must be > 0" in bad.output
    missing = runner.invoke(app, ["workload", "build", "--network", "nope", "--out", str(tmp_path / "x.csv")])
    assert missing.exit_code != 0 and "nope" in missing.output
    assert np.isfinite(summary["horizon_s"])
