"""A workload: the jobs a simulation replays, one numpy array per field (no per-job Python objects).

Times are seconds on the trace's own clock (``submit_s`` is kept as in the trace, not rebased to 0:
some published priority functions, e.g. F1, use the absolute submit time). Sizes are processors
(cores); a job's nodes in a pool are ``ceil(procs / cores_per_node)``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


class WorkloadError(ValueError):
    """A workload whose arrays disagree in length or hold impossible values."""


@dataclass(frozen=True)
class Workload:
    """Jobs to replay, in submission order.

    Fields (all of length ``n``):
      ``job_id``       id from the trace (informational);
      ``submit_s``     submission time, seconds;
      ``run_s``        actual run time, seconds (> 0), what the simulator uses to end a job;
      ``estimate_s``   run-time estimate the scheduler sees (requested time), seconds;
      ``procs``        processors (cores) requested, >= 1;
      ``user``         user id (fair share between users), -1 when unknown;
      ``tenant``       tenant / group id (fair share between tenants), -1 when unknown;
      ``priority``     explicit priority, higher first (0 when the trace has none).
    """

    job_id: IntArray
    submit_s: FloatArray
    run_s: FloatArray
    estimate_s: FloatArray
    procs: IntArray
    user: IntArray
    tenant: IntArray
    priority: IntArray
    name: str = "workload"

    def __post_init__(self) -> None:
        n = len(self.submit_s)
        for fname in ("job_id", "run_s", "estimate_s", "procs", "user", "tenant", "priority"):
            if len(getattr(self, fname)) != n:
                raise WorkloadError(
                    f"workload field {fname!r} has {len(getattr(self, fname))} rows, expected {n}"
                )
        if n and bool(np.any(np.diff(self.submit_s) < 0)):
            raise WorkloadError("workload field 'submit_s' must be non-decreasing (jobs in submission order)")
        if n and bool(np.any(self.run_s <= 0)):
            raise WorkloadError("workload field 'run_s' must be > 0 for every job")
        if n and bool(np.any(self.procs < 1)):
            raise WorkloadError("workload field 'procs' must be >= 1 for every job")

    def __len__(self) -> int:
        return len(self.submit_s)

    @classmethod
    def from_columns(
        cls,
        *,
        submit_s: npt.ArrayLike,
        run_s: npt.ArrayLike,
        procs: npt.ArrayLike,
        estimate_s: npt.ArrayLike | None = None,
        job_id: npt.ArrayLike | None = None,
        user: npt.ArrayLike | None = None,
        tenant: npt.ArrayLike | None = None,
        priority: npt.ArrayLike | None = None,
        name: str = "workload",
        sort: bool = True,
    ) -> Workload:
        """Build a workload from plain sequences; missing estimates default to the run time.

        With ``sort`` the jobs are put in submission order (stable: ties keep their given order).
        """
        sub = np.asarray(submit_s, dtype=np.float64)
        n = len(sub)

        def col(values: npt.ArrayLike | None, default: float, dtype: type) -> np.ndarray:
            if values is None:
                return np.full(n, default, dtype=dtype)
            return np.asarray(values, dtype=dtype)

        run = np.asarray(run_s, dtype=np.float64)
        est = run.copy() if estimate_s is None else np.asarray(estimate_s, dtype=np.float64)
        ids = np.arange(1, n + 1, dtype=np.int64) if job_id is None else np.asarray(job_id, dtype=np.int64)
        cols = {
            "job_id": ids,
            "submit_s": sub,
            "run_s": run,
            "estimate_s": est,
            "procs": np.asarray(procs, dtype=np.int64),
            "user": col(user, -1, np.int64),
            "tenant": col(tenant, -1, np.int64),
            "priority": col(priority, 0, np.int64),
        }
        if sort and n:
            order = np.argsort(sub, kind="stable")
            cols = {k: v[order] for k, v in cols.items()}
        return cls(
            job_id=cols["job_id"],
            submit_s=cols["submit_s"],
            run_s=cols["run_s"],
            estimate_s=cols["estimate_s"],
            procs=cols["procs"],
            user=cols["user"],
            tenant=cols["tenant"],
            priority=cols["priority"],
            name=name,
        )

    def take(self, index: npt.ArrayLike | slice, name: str | None = None) -> Workload:
        """The jobs at ``index`` (a slice or index array, kept in submission order)."""
        idx: Any = index if isinstance(index, slice) else np.asarray(index)
        return Workload(
            job_id=self.job_id[idx],
            submit_s=self.submit_s[idx],
            run_s=self.run_s[idx],
            estimate_s=self.estimate_s[idx],
            procs=self.procs[idx],
            user=self.user[idx],
            tenant=self.tenant[idx],
            priority=self.priority[idx],
            name=name or self.name,
        )

    @property
    def max_procs(self) -> int:
        """The widest job, processors (0 for an empty workload)."""
        return int(self.procs.max()) if len(self) else 0
