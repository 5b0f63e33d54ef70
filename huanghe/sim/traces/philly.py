"""Loader of the Microsoft Philly deep-learning trace as pre-processed by the Pollux artifact
(Qiao et al., OSDI'21; Jeon et al., ATC'19), under ``traces_dir()/philly-pollux/``.

* ``philly.csv.gz``: 82,247 jobs, ``timestamp, duration, num_gpus, gpu_time, cluster``. ``timestamp`` is
  the submission time ``YYYY-MM-DD HH:MM:SS`` (read as UTC), ``duration`` the run time in seconds,
  ``gpu_time`` = duration × GPUs (GPU-seconds), ``cluster`` the virtual cluster id. File order is kept
  (it is not sorted by time).
* ``workloads/workload-N.csv`` (N = 1..8): the 160-job, 8-hour windows of the paper,
  ``name, time, application, num_replicas, batch_size`` (``time`` seconds from the window start).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import numpy.typing as npt

from huanghe.paths import traces_dir
from huanghe.sim.traces.csvio import load_rows, parse_float, parse_int
from huanghe.sim.traces.report import LoadReport, TraceRowError

PHILLY_COLUMNS = ("timestamp", "duration", "num_gpus", "gpu_time", "cluster")
POLLUX_COLUMNS = ("name", "time", "application", "num_replicas", "batch_size")

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
StrArray = npt.NDArray[np.str_]


def philly_dir() -> Path:
    return traces_dir() / "philly-pollux"


@dataclass(frozen=True)
class PhillyJobs:
    """Philly jobs in file order. ``submit_s`` is seconds after the earliest submission of the file."""

    timestamp_s: FloatArray  # POSIX seconds (UTC)
    submit_s: FloatArray
    duration_s: FloatArray
    num_gpus: IntArray
    gpu_time_s: FloatArray  # GPU-seconds
    cluster: StrArray

    def __len__(self) -> int:
        return len(self.submit_s)

    def order_by_submit(self) -> IntArray:
        """Indices that sort the jobs by submission time (stable)."""
        return np.argsort(self.submit_s, kind="stable").astype(np.int64)


@dataclass(frozen=True)
class PolluxWorkload:
    """One Pollux workload window: jobs with arrival ``time_s`` (seconds from the window start)."""

    name: StrArray
    time_s: FloatArray
    application: StrArray
    num_replicas: IntArray
    batch_size: IntArray

    def __len__(self) -> int:
        return len(self.name)


def _philly_row(line: int, row: dict[str, str]) -> tuple[float, float, int, float, str]:
    try:
        ts = datetime.fromisoformat(row["timestamp"]).replace(tzinfo=UTC).timestamp()
    except ValueError:
        raise TraceRowError(
            line, "timestamp", f"not a 'YYYY-MM-DD HH:MM:SS' time: {row['timestamp']!r}"
        ) from None
    duration = parse_float(row["duration"], line, "duration", minimum=0)
    gpus = parse_int(row["num_gpus"], line, "num_gpus", minimum=0)
    gpu_time = parse_float(row["gpu_time"], line, "gpu_time", minimum=0)
    if not row["cluster"]:
        raise TraceRowError(line, "cluster", "must not be empty")
    return ts, duration, gpus, gpu_time, row["cluster"]


def load_philly(path: str | Path | None = None, *, skip_bad: bool = False) -> tuple[PhillyJobs, LoadReport]:
    """Read ``philly.csv(.gz)`` (default: the bundled one)."""
    src = Path(path) if path is not None else philly_dir() / "philly.csv.gz"
    out, report, _ = load_rows(src, PHILLY_COLUMNS, _philly_row, skip_bad=skip_bad)
    ts = np.array([r[0] for r in out], dtype=np.float64)
    jobs = PhillyJobs(
        timestamp_s=ts,
        submit_s=ts - ts.min() if len(ts) else ts,
        duration_s=np.array([r[1] for r in out], dtype=np.float64),
        num_gpus=np.array([r[2] for r in out], dtype=np.int64),
        gpu_time_s=np.array([r[3] for r in out], dtype=np.float64),
        cluster=np.array([r[4] for r in out], dtype=np.str_),
    )
    return jobs, report


def _pollux_row(line: int, row: dict[str, str]) -> tuple[str, float, str, int, int]:
    if not row["name"]:
        raise TraceRowError(line, "name", "must not be empty")
    return (
        row["name"],
        parse_float(row["time"], line, "time", minimum=0),
        row["application"],
        parse_int(row["num_replicas"], line, "num_replicas", minimum=1),
        parse_int(row["batch_size"], line, "batch_size", minimum=1),
    )


def load_pollux_workload(
    which: int | str | Path, *, skip_bad: bool = False
) -> tuple[PolluxWorkload, LoadReport]:
    """Read a Pollux window: ``which`` is 1..8 (the bundled ``workload-N.csv``) or a path."""
    if isinstance(which, int):
        if not 1 <= which <= 8:
            raise ValueError(f"Pollux workload number must be 1..8, not {which}")
        src = philly_dir() / "workloads" / f"workload-{which}.csv"
    else:
        src = Path(which)
    out, report, _ = load_rows(src, POLLUX_COLUMNS, _pollux_row, skip_bad=skip_bad)
    wl = PolluxWorkload(
        name=np.array([r[0] for r in out], dtype=np.str_),
        time_s=np.array([r[1] for r in out], dtype=np.float64),
        application=np.array([r[2] for r in out], dtype=np.str_),
        num_replicas=np.array([r[3] for r in out], dtype=np.int64),
        batch_size=np.array([r[4] for r in out], dtype=np.int64),
    )
    return wl, report
