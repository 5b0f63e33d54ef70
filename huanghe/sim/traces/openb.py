"""Loader of the Alibaba GPU cluster trace v2023 "openb" (Weng et al., USENIX ATC'23, FGD).

Two CSV files (``traces_dir()/alibaba-gpu-2023-openb/``):

* pods, ``openb_pod_list_default.csv``: ``name, cpu_milli, memory_mib, num_gpu, gpu_milli, gpu_spec,
  qos, pod_phase, creation_time, deletion_time, scheduled_time``. ``gpu_milli`` is the share of
  **each** requested GPU in thousandths (1000 = a whole GPU; < 1000 only with ``num_gpu == 1``);
  ``gpu_spec`` is empty (any model) or allowed models separated by ``|``; times are seconds from the
  trace start, ``scheduled_time`` empty for pods never scheduled (→ NaN).
* nodes, ``openb_node_list_all_node.csv``: ``sn, cpu_milli, memory_mib, gpu, model`` (``model`` empty for
  CPU-only nodes). The GPU-only list ``openb_node_list_gpu_node.csv`` has the same columns.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from huanghe.paths import traces_dir
from huanghe.sim.traces.csvio import load_rows, parse_float, parse_int
from huanghe.sim.traces.report import LoadReport, TraceRowError

POD_COLUMNS = (
    "name",
    "cpu_milli",
    "memory_mib",
    "num_gpu",
    "gpu_milli",
    "gpu_spec",
    "qos",
    "pod_phase",
    "creation_time",
    "deletion_time",
    "scheduled_time",
)
NODE_COLUMNS = ("sn", "cpu_milli", "memory_mib", "gpu", "model")

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
StrArray = npt.NDArray[np.str_]


def openb_dir() -> Path:
    return traces_dir() / "alibaba-gpu-2023-openb"


@dataclass(frozen=True)
class OpenbPods:
    """Pods (tasks), one array per column, in file order."""

    name: StrArray
    cpu_milli: IntArray
    memory_mib: IntArray
    num_gpu: IntArray
    gpu_milli: IntArray  # per requested GPU, 0..1000
    gpu_spec: StrArray  # '' = any model, else 'A|B'
    qos: StrArray
    pod_phase: StrArray
    creation_time_s: FloatArray
    deletion_time_s: FloatArray
    scheduled_time_s: FloatArray  # NaN when never scheduled

    def __len__(self) -> int:
        return len(self.name)

    @property
    def total_gpu_milli(self) -> IntArray:
        """GPU demand of each pod in thousandths of a GPU (``num_gpu × gpu_milli``)."""
        return self.num_gpu * self.gpu_milli


@dataclass(frozen=True)
class OpenbNodes:
    """Nodes, one array per column, in file order. ``model`` is '' for CPU-only nodes."""

    name: StrArray
    cpu_milli: IntArray
    memory_mib: IntArray
    gpu_count: IntArray
    model: StrArray

    def __len__(self) -> int:
        return len(self.name)

    @property
    def total_gpus(self) -> int:
        return int(self.gpu_count.sum())


def _pod_row(line: int, row: dict[str, str]) -> tuple[object, ...]:
    num_gpu = parse_int(row["num_gpu"], line, "num_gpu", minimum=0)
    gpu_milli = parse_int(row["gpu_milli"], line, "gpu_milli", minimum=0)
    if gpu_milli > 1000:
        raise TraceRowError(line, "gpu_milli", "must be <= 1000 (thousandths of one GPU)")
    if num_gpu > 1 and gpu_milli != 1000:
        raise TraceRowError(line, "gpu_milli", "must be 1000 when num_gpu > 1 (only one GPU can be shared)")
    if num_gpu == 0 and gpu_milli != 0:
        raise TraceRowError(line, "gpu_milli", "must be 0 when num_gpu is 0")
    if num_gpu > 0 and gpu_milli == 0:
        raise TraceRowError(line, "gpu_milli", "must be > 0 when num_gpu > 0")
    sched = row["scheduled_time"]
    return (
        row["name"],
        parse_int(row["cpu_milli"], line, "cpu_milli", minimum=0),
        parse_int(row["memory_mib"], line, "memory_mib", minimum=0),
        num_gpu,
        gpu_milli,
        row["gpu_spec"],
        row["qos"],
        row["pod_phase"],
        parse_float(row["creation_time"], line, "creation_time", minimum=0),
        parse_float(row["deletion_time"], line, "deletion_time", minimum=0),
        parse_float(sched, line, "scheduled_time", minimum=0) if sched else float("nan"),
    )


def _node_row(line: int, row: dict[str, str]) -> tuple[str, int, int, int, str]:
    gpus = parse_int(row["gpu"], line, "gpu", minimum=0)
    if gpus > 0 and not row["model"]:
        raise TraceRowError(line, "model", "must name the GPU model when gpu > 0")
    return (
        row["sn"],
        parse_int(row["cpu_milli"], line, "cpu_milli", minimum=0),
        parse_int(row["memory_mib"], line, "memory_mib", minimum=0),
        gpus,
        row["model"] if gpus > 0 else "",
    )


def load_openb_pods(
    path: str | Path | None = None, *, skip_bad: bool = False
) -> tuple[OpenbPods, LoadReport]:
    """Read the openb pod list (default: the bundled ``openb_pod_list_default.csv``)."""
    src = Path(path) if path is not None else openb_dir() / "openb_pod_list_default.csv"
    out, report, _ = load_rows(src, POD_COLUMNS, _pod_row, skip_bad=skip_bad)
    cols = list(zip(*out, strict=True)) if out else [()] * len(POD_COLUMNS)
    pods = OpenbPods(
        name=np.array(cols[0], dtype=np.str_),
        cpu_milli=np.array(cols[1], dtype=np.int64),
        memory_mib=np.array(cols[2], dtype=np.int64),
        num_gpu=np.array(cols[3], dtype=np.int64),
        gpu_milli=np.array(cols[4], dtype=np.int64),
        gpu_spec=np.array(cols[5], dtype=np.str_),
        qos=np.array(cols[6], dtype=np.str_),
        pod_phase=np.array(cols[7], dtype=np.str_),
        creation_time_s=np.array(cols[8], dtype=np.float64),
        deletion_time_s=np.array(cols[9], dtype=np.float64),
        scheduled_time_s=np.array(cols[10], dtype=np.float64),
    )
    return pods, report


def load_openb_nodes(
    path: str | Path | None = None, *, skip_bad: bool = False
) -> tuple[OpenbNodes, LoadReport]:
    """Read an openb node list (default: ``openb_node_list_all_node.csv``, 1,523 nodes / 6,212 GPUs)."""
    src = Path(path) if path is not None else openb_dir() / "openb_node_list_all_node.csv"
    out, report, _ = load_rows(src, NODE_COLUMNS, _node_row, skip_bad=skip_bad)
    nodes = OpenbNodes(
        name=np.array([r[0] for r in out], dtype=np.str_),
        cpu_milli=np.array([r[1] for r in out], dtype=np.int64),
        memory_mib=np.array([r[2] for r in out], dtype=np.int64),
        gpu_count=np.array([r[3] for r in out], dtype=np.int64),
        model=np.array([r[4] for r in out], dtype=np.str_),
    )
    return nodes, report
