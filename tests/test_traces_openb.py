"""openb loader: real files (counts) and bad inputs (line + column)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from huanghe.paths import traces_dir
from huanghe.sim.traces.openb import load_openb_nodes, load_openb_pods
from huanghe.sim.traces.report import TraceFileError, TraceRowError

OPENB = traces_dir() / "alibaba-gpu-2023-openb"
HEADER = "name,cpu_milli,memory_mib,num_gpu,gpu_milli,gpu_spec,qos,pod_phase,creation_time,deletion_time,scheduled_time\n"


def test_real_pod_list_counts() -> None:
    pods, report = load_openb_pods()
    assert len(pods) == 8152 and report.rows == 8152 and report.dropped == 0
    assert int((pods.num_gpu == 0).sum()) == 1088
    shared = (pods.num_gpu == 1) & (pods.gpu_milli < 1000)
    assert int(shared.sum()) == 3078
    assert int(pods.total_gpu_milli.sum()) == 6_086_800  # 6,086.8 GPUs of demand
    assert int(np.isnan(pods.scheduled_time_s).sum()) == 897  # never scheduled


def test_real_node_lists() -> None:
    nodes, report = load_openb_nodes()
    assert len(nodes) == 1523 and nodes.total_gpus == 6212 and report.dropped == 0
    assert int((nodes.gpu_count == 0).sum()) == 310
    assert set(nodes.model[nodes.gpu_count == 0]) == {""}
    gpu_nodes, _ = load_openb_nodes(OPENB / "openb_node_list_gpu_node.csv")
    assert len(gpu_nodes) == 1213 and gpu_nodes.total_gpus == 6212


def _write(tmp_path: Path, body: str) -> Path:
    p = tmp_path / "pods.csv"
    p.write_text(HEADER + body)
    return p


def test_bad_pod_row_names_line_and_column(tmp_path: Path) -> None:
    good = "p0,1000,1024,1,500,,LS,Running,0,10,0\n"
    bad = "p1,1000,1024,2,500,,LS,Running,0,10,0\n"  # shared GPU with num_gpu 2
    path = _write(tmp_path, good + good.replace("p0", "p2") + bad)
    with pytest.raises(TraceRowError) as exc:
        load_openb_pods(path)
    assert exc.value.line == 4 and exc.value.column == "gpu_milli"
    assert "line 4, column gpu_milli" in str(exc.value)


def test_skip_bad_counts_every_dropped_row(tmp_path: Path) -> None:
    rows = [
        "p0,1000,1024,1,500,,LS,Running,0,10,0",
        "p1,-5,1024,0,0,,LS,Running,0,10,0",  # negative CPU
        "p2,1000,1024,0,0,,LS,Running,0,10",  # missing a field
        "p3,1000,lots,0,0,,LS,Running,0,10,",  # memory not a number
        "p4,1000,1024,0,0,,LS,Pending,5,10,",
    ]
    pods, report = load_openb_pods(_write(tmp_path, "\n".join(rows) + "\n"), skip_bad=True)
    assert list(pods.name) == ["p0", "p4"]
    assert report.rows == 5 and report.loaded == 2 and report.dropped == 3
    assert report.dropped_by_reason == {
        "cpu_milli: must be >= 0": 1,
        "*: expected 11 fields, found 10": 1,
        "memory_mib: not an integer: 'lots'": 1,
    }
    assert np.isnan(pods.scheduled_time_s[1])


def test_missing_column_and_missing_file(tmp_path: Path) -> None:
    p = tmp_path / "nodes.csv"
    p.write_text("sn,cpu_milli,gpu,model\nn0,1000,1,T4\n")
    with pytest.raises(TraceFileError, match="missing column"):
        load_openb_nodes(p)
    with pytest.raises(TraceFileError, match="no such file"):
        load_openb_nodes(tmp_path / "absent.csv")


def test_gpu_node_without_model_is_rejected(tmp_path: Path) -> None:
    p = tmp_path / "nodes.csv"
    p.write_text("sn,cpu_milli,memory_mib,gpu,model\nn0,1000,10,0,\nn1,1000,10,2,\n")
    with pytest.raises(TraceRowError, match="line 3, column model"):
        load_openb_nodes(p)
