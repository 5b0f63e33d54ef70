"""A workload resolved against a network for the multi-center simulator (:mod:`huanghe.sim.network_sim`):
the broker's view of the jobs (a :class:`~huanghe.broker.batch.JobBatch`, run times = the estimates) and the
truth the simulator runs (true run times), tenants, priorities and absolute deadlines."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from huanghe.broker.batch import JobBatch
from huanghe.broker.snapshot import NetworkSnapshot
from huanghe.sim.traces.workload_csv import WorkloadTable

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True, eq=False)
class NetworkJobs:
    """A workload resolved against a network: the scheduler's view (``batch``, durations = estimates) and the
    truth the simulator runs (``duration_s``), plus tenants, priorities and absolute deadlines."""

    batch: JobBatch
    duration_s: FloatArray  # true run time on the reference device of the kind
    tenant: IntArray  # index into ``tenants``, -1 none
    tenants: tuple[str, ...]
    priority: IntArray
    deadline_abs_s: FloatArray  # NaN = none

    def __len__(self) -> int:
        return len(self.batch)


def jobs_from_workload(snap: NetworkSnapshot, table: WorkloadTable) -> NetworkJobs:
    """Resolve a :class:`WorkloadTable` (docs/workload.md) against ``snap`` (ids, residency sets, SLOs)."""
    est = table.effective_estimate_s()
    records: list[dict[str, Any]] = []
    for j in range(len(table)):
        deadline = float(table.deadline_s[j])
        records.append(
            {
                "job_id": str(table.job_id[j]),
                "kind": str(table.kind[j]),
                "cpus": float(table.cpus[j]),
                "gpus": float(table.gpus[j]),
                "mem_gb": float(table.mem_gb[j]),
                "nodes": int(table.nodes[j]),
                "accelerator": str(table.accelerator[j]),
                "duration_s": float(est[j]),
                "submit_s": float(table.submit_s[j]),
                "data_gb": float(table.data_gb[j]),
                "data_center": str(table.data_center[j]) or None,
                "data_class": str(table.data_class[j]) or None,
                "user_city": str(table.user_city[j]) or None,
                "latency_slo_ms": float(table.latency_slo_ms[j]),
                "deadline_s": deadline - float(table.submit_s[j]) if not math.isnan(deadline) else None,
            }
        )
    batch = JobBatch.from_records(snap, records)
    tenants, tenant = np.unique(table.tenant, return_inverse=True)
    tenant = np.where(table.tenant == "", -1, tenant.reshape(-1))
    return NetworkJobs(
        batch=batch,
        duration_s=np.asarray(table.duration_s, dtype=np.float64),
        tenant=tenant.astype(np.int64),
        tenants=tuple(str(t) for t in tenants),
        priority=np.asarray(table.priority, dtype=np.int64),
        deadline_abs_s=np.asarray(table.deadline_s, dtype=np.float64),
    )
