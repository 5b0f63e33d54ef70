"""The project's workload CSV: round trip, errors naming line and column, --skip-bad counts, topology checks."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from huanghe.catalog.topology import load_topology
from huanghe.sim.traces.report import TraceFileError, TraceRowError
from huanghe.sim.traces.workload_csv import load_workload_csv, write_workload_csv

HEADER = "job_id,submit_s,duration_s,cpus,gpus,nodes"


def _csv(tmp_path: Path, header: str, rows: list[str]) -> Path:
    p = tmp_path / "w.csv"
    p.write_text("\n".join([header, *rows]) + "\n")
    return p


def test_minimal_file_defaults(tmp_path: Path) -> None:
    t, report = load_workload_csv(_csv(tmp_path, HEADER, ["a,0,10,4,0,1", "b,5,20,8,2,2"]))
    assert report.loaded == 2 and report.dropped == 0
    assert list(t.kind) == ["cpu", "gpu"]
    assert list(t.total_gpus) == [0, 4]
    assert np.isnan(t.estimate_s).all() and list(t.effective_estimate_s()) == [10.0, 20.0]
    assert list(t.data_class) == ["general", "general"] and list(t.priority) == [0, 0]


def test_round_trip_keeps_every_value(tmp_path: Path) -> None:
    header = (
        HEADER
        + ",estimate_s,tenant,mem_gb,accelerator,data_gb,data_center,data_class,user_city,latency_slo_ms,deadline_s,priority,kind"
    )
    rows = [
        "j1,0.1,3600.5,16,8,4,4000,acme,512,NVIDIA A100 80GB,120.25,nsc-jinan,important,jinan,30,90000,5,gpu",
        "j2,12,60,2,0,1,,,,,,,,,,,,hpc",
        "j3,13,1.5,1,1,1,,u,0.5,,,,core,,2.5,,-1,inference",
    ]
    src = _csv(tmp_path, header, rows)
    t1, _ = load_workload_csv(src)
    out = tmp_path / "again.csv"
    write_workload_csv(t1, out)
    t2, _ = load_workload_csv(out)
    for name in t1.__dataclass_fields__:
        a, b = getattr(t1, name), getattr(t2, name)
        if a.dtype.kind == "f":
            assert np.array_equal(a, b, equal_nan=True), name
        else:
            assert list(a) == list(b), name
    assert (
        t2.accelerator[0] == "NVIDIA A100 80GB"
        and t2.deadline_s[0] == 90000.0
        and math.isnan(t2.deadline_s[1])
    )


@pytest.mark.parametrize(
    ("row", "column", "problem"),
    [
        ("x,0,10,4,-1,1", "gpus", "must be >= 0"),
        ("x,0,0,4,0,1", "duration_s", "must be > 0"),
        ("x,-3,10,4,0,1", "submit_s", "must be >= 0"),
        ("x,0,10,4,0,0", "nodes", "must be >= 1"),
        ("x,0,10,0,0,1", "cpus", "at least one CPU or GPU"),
        ("x,0,10,two,0,1", "cpus", "not an integer"),
    ],
)
def test_bad_value_names_line_and_column(tmp_path: Path, row: str, column: str, problem: str) -> None:
    rows = [f"ok{i},0,10,1,0,1" for i in range(15)] + [row]
    with pytest.raises(TraceRowError) as exc:
        load_workload_csv(_csv(tmp_path, HEADER, rows))
    assert exc.value.line == 17 and exc.value.column == column and problem in exc.value.problem
    assert f"line 17, column {column}:" in str(exc.value)


def test_optional_column_checks(tmp_path: Path) -> None:
    header = HEADER + ",kind,deadline_s,data_gb,data_center,data_class"
    cases = {
        "a,0,10,4,0,1,quantum,,,,": "kind",
        "a,0,10,4,0,1,gpu,,,,": "kind",
        "a,50,10,4,0,1,cpu,40,,,": "deadline_s",
        "a,0,10,4,0,1,cpu,,5,,": "data_center",
        "a,0,10,4,0,1,cpu,,,,secret": "data_class",
    }
    for row, column in cases.items():
        with pytest.raises(TraceRowError) as exc:
            load_workload_csv(_csv(tmp_path, header, [row]))
        assert (exc.value.line, exc.value.column) == (2, column), row


def test_skip_bad_counts_and_duplicates(tmp_path: Path) -> None:
    rows = ["a,0,10,4,0,1", "a,1,10,4,0,1", "b,1,10,4,-2,1", "c,1,10,4,0,1", "d,1,x,4,0,1"]
    t, report = load_workload_csv(_csv(tmp_path, HEADER, rows), skip_bad=True)
    assert list(t.job_id) == ["a", "c"]
    assert report.rows == 5 and report.loaded == 2 and report.dropped == 3
    assert report.dropped_by_reason == {
        "job_id: duplicate job_id 'a'": 1,
        "gpus: must be >= 0": 1,
        "duration_s: not a number: 'x'": 1,
    }
    assert "5 rows, 2 loaded, 3 dropped" in report.summary()


def test_header_problems(tmp_path: Path) -> None:
    with pytest.raises(TraceFileError, match="missing column"):
        load_workload_csv(_csv(tmp_path, "job_id,submit_s,duration_s,cpus,gpus", ["a,0,1,1,0"]))
    with pytest.raises(TraceFileError, match=r"unknown column.*gpu_count"):
        load_workload_csv(_csv(tmp_path, HEADER + ",gpu_count", ["a,0,1,1,0,1,3"]))


def test_topology_validation(tmp_path: Path) -> None:
    topo = load_topology("shandong-mini")
    header = HEADER + ",data_center,user_city,accelerator,data_gb"
    good = "a,0,10,4,1,1,nsc-jinan,jinan,NVIDIA A100 80GB,3"
    t, _ = load_workload_csv(_csv(tmp_path, header, [good]), topology=topo)
    assert t.data_center[0] == "nsc-jinan"
    for bad, column in [
        ("a,0,10,4,1,1,nowhere,jinan,,", "data_center"),
        ("a,0,10,4,1,1,,atlantis,,", "user_city"),
        ("a,0,10,4,1,1,,,NVIDIA B300,", "accelerator"),
    ]:
        with pytest.raises(TraceRowError) as exc:
            load_workload_csv(_csv(tmp_path, header, [bad]), topology=topo)
        assert exc.value.column == column
    # without a topology the ids are not checked
    t, _ = load_workload_csv(_csv(tmp_path, header, ["a,0,10,4,1,1,nowhere,atlantis,,"]))
    assert t.user_city[0] == "atlantis"
