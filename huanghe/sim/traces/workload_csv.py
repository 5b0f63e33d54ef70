"""The project's own workload CSV (docs/workload.md): read with line- and column-named errors, write back.

Required columns: ``job_id, submit_s, duration_s, cpus, gpus, nodes``. Optional: ``estimate_s, tenant,
mem_gb, accelerator, data_gb, data_center, data_class, user_city, latency_slo_ms, deadline_s, priority,
kind``. Units are in the names; ``duration_s`` is the run time on the reference device of the job's
``kind`` (``huanghe.catalog.hardware.REFERENCE_DEVICES``), ``cpus`` and ``gpus`` are per node.

Empty optional cells take their default (see :data:`DEFAULTS`; NaN for "not given" floats). A bad row
raises :class:`~huanghe.sim.traces.report.TraceRowError` (``line 17, column gpus: must be >= 0``) or,
with ``skip_bad=True``, is counted in the :class:`~huanghe.sim.traces.report.LoadReport`.
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from huanghe.domain.enums import DataClass, JobKind
from huanghe.domain.network import Topology
from huanghe.sim.traces.csvio import load_rows, parse_float, parse_int
from huanghe.sim.traces.report import LoadReport, TraceRowError

REQUIRED = ("job_id", "submit_s", "duration_s", "cpus", "gpus", "nodes")
OPTIONAL = (
    "estimate_s",
    "tenant",
    "mem_gb",
    "accelerator",
    "data_gb",
    "data_center",
    "data_class",
    "user_city",
    "latency_slo_ms",
    "deadline_s",
    "priority",
    "kind",
)
COLUMNS = REQUIRED + OPTIONAL
DEFAULTS: dict[str, str] = {
    "estimate_s": "NaN (unknown: the scheduler uses duration_s)",
    "tenant": "'' (none)",
    "mem_gb": "0",
    "accelerator": "'' (any)",
    "data_gb": "0",
    "data_center": "'' (no input data)",
    "data_class": "general",
    "user_city": "'' (no latency constraint)",
    "latency_slo_ms": "NaN (none)",
    "deadline_s": "NaN (none)",
    "priority": "0",
    "kind": "gpu if gpus > 0 else cpu",
}

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
StrArray = npt.NDArray[np.str_]


@dataclass(frozen=True)
class WorkloadTable:
    """Jobs of a workload CSV, one numpy array per column, in file order (all of equal length)."""

    job_id: StrArray
    submit_s: FloatArray
    duration_s: FloatArray
    cpus: IntArray  # per node
    gpus: IntArray  # per node
    nodes: IntArray
    estimate_s: FloatArray  # NaN = not given
    tenant: StrArray
    mem_gb: FloatArray  # per node
    accelerator: StrArray
    data_gb: FloatArray
    data_center: StrArray
    data_class: StrArray
    user_city: StrArray
    latency_slo_ms: FloatArray  # NaN = none
    deadline_s: FloatArray  # NaN = none; absolute, same clock as submit_s
    priority: IntArray
    kind: StrArray

    def __len__(self) -> int:
        return len(self.job_id)

    @property
    def total_gpus(self) -> IntArray:
        return self.gpus * self.nodes

    @property
    def total_cpus(self) -> IntArray:
        return self.cpus * self.nodes

    def effective_estimate_s(self) -> FloatArray:
        """The estimate the scheduler sees: ``estimate_s``, or ``duration_s`` where not given."""
        return np.where(np.isnan(self.estimate_s), self.duration_s, self.estimate_s)


_KINDS = {k.value for k in JobKind}
_CLASSES = {c.value for c in DataClass}


def _opt_float(row: dict[str, str], col: str, line: int, *, minimum: float, strict: bool = False) -> float:
    text = row.get(col, "")
    if text == "":
        return math.nan
    return parse_float(text, line, col, minimum=minimum, strict_min=strict)


class _RowParser:
    """Parses one row; checks cross-references against an optional topology and job_id uniqueness."""

    def __init__(self, topology: Topology | None) -> None:
        self.seen: set[str] = set()
        self.centers = {c.id for c in topology.centers} if topology else None
        self.cities = {c.id for c in topology.cities} if topology else None
        self.accels = {p.accelerator for _, p in topology.pools() if p.accelerator} if topology else None

    def __call__(self, line: int, row: dict[str, str]) -> tuple[Any, ...]:
        job_id = row["job_id"]
        if not job_id:
            raise TraceRowError(line, "job_id", "must not be empty")
        if job_id in self.seen:
            raise TraceRowError(line, "job_id", f"duplicate job_id {job_id!r}")
        submit = parse_float(row["submit_s"], line, "submit_s", minimum=0)
        duration = parse_float(row["duration_s"], line, "duration_s", minimum=0, strict_min=True)
        cpus = parse_int(row["cpus"], line, "cpus", minimum=0)
        gpus = parse_int(row["gpus"], line, "gpus", minimum=0)
        nodes = parse_int(row["nodes"], line, "nodes", minimum=1)
        if cpus == 0 and gpus == 0:
            raise TraceRowError(line, "cpus", "a job needs at least one CPU or GPU per node")
        kind = row.get("kind", "") or ("gpu" if gpus > 0 else "cpu")
        if kind not in _KINDS:
            raise TraceRowError(line, "kind", f"must be one of {', '.join(sorted(_KINDS))}, not {kind!r}")
        if kind == "gpu" and gpus == 0:
            raise TraceRowError(line, "kind", "kind gpu needs gpus >= 1")
        accelerator = row.get("accelerator", "")
        if accelerator and gpus == 0:
            raise TraceRowError(line, "accelerator", "an accelerator model needs gpus >= 1")
        if accelerator and self.accels is not None and accelerator not in self.accels:
            raise TraceRowError(
                line, "accelerator", f"no pool of the network has accelerator {accelerator!r}"
            )
        data_class = row.get("data_class", "") or "general"
        if data_class not in _CLASSES:
            raise TraceRowError(line, "data_class", f"must be one of {', '.join(sorted(_CLASSES))}")
        center = row.get("data_center", "")
        if center and self.centers is not None and center not in self.centers:
            raise TraceRowError(line, "data_center", f"unknown center id {center!r}")
        city = row.get("user_city", "")
        if city and self.cities is not None and city not in self.cities:
            raise TraceRowError(line, "user_city", f"unknown city id {city!r}")
        data_gb = _opt_float(row, "data_gb", line, minimum=0)
        if data_gb > 0 and not center:
            raise TraceRowError(line, "data_center", "data_gb > 0 needs the center the data lives in")
        deadline = _opt_float(row, "deadline_s", line, minimum=0)
        if not math.isnan(deadline) and deadline <= submit:
            raise TraceRowError(line, "deadline_s", "must be after submit_s")
        prio_text = row.get("priority", "")
        self.seen.add(job_id)
        return (
            job_id,
            submit,
            duration,
            cpus,
            gpus,
            nodes,
            _opt_float(row, "estimate_s", line, minimum=0, strict=True),
            row.get("tenant", ""),
            0.0 if row.get("mem_gb", "") == "" else parse_float(row["mem_gb"], line, "mem_gb", minimum=0),
            accelerator,
            0.0 if math.isnan(data_gb) else data_gb,
            center,
            data_class,
            city,
            _opt_float(row, "latency_slo_ms", line, minimum=0, strict=True),
            deadline,
            parse_int(prio_text, line, "priority") if prio_text else 0,
            kind,
        )


_DTYPES: dict[str, Any] = {
    f.name: (np.str_ if "StrArray" in str(f.type) else np.int64 if "IntArray" in str(f.type) else np.float64)
    for f in fields(WorkloadTable)
}


def load_workload_csv(
    path: str | Path, *, skip_bad: bool = False, topology: Topology | None = None
) -> tuple[WorkloadTable, LoadReport]:
    """Read a workload CSV. With ``topology``, ``data_center``, ``user_city`` and ``accelerator`` are
    checked against it. Unknown columns are an error (a typo must not silently become a default)."""
    out, report, _ = load_rows(path, REQUIRED, _RowParser(topology), skip_bad=skip_bad, known=COLUMNS)
    names = [f.name for f in fields(WorkloadTable)]
    arrays = {
        name: np.array([r[i] for r in out], dtype=_DTYPES[name]) if out else np.array([], dtype=_DTYPES[name])
        for i, name in enumerate(names)
    }
    return WorkloadTable(**arrays), report


def _cell(value: Any) -> str:
    if isinstance(value, float | np.floating):
        return "" if math.isnan(value) else repr(float(value))
    return str(value)


def write_workload_csv(table: WorkloadTable, path: str | Path) -> None:
    """Write all columns; floats are written exactly (``repr``), NaN as an empty cell."""
    names = [f.name for f in fields(WorkloadTable)]
    cols = [getattr(table, n).tolist() for n in names]
    with Path(path).open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(names)
        for row in zip(*cols, strict=True):
            w.writerow([_cell(v) for v in row])
