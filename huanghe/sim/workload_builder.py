"""Build a province workload from public traces: who submits what, where their data lives, how urgent it is.

The method (docs/workload-builder.md has the full description and the assumptions):

1. **Streams.** Five job streams, each a table of job *templates* taken from a trace:
   ``philly`` (Microsoft Philly DL training, GPU), ``openb`` (Alibaba 2023 GPU pods; LS pods become latency-bound
   inference services, the rest training), ``hpc2n`` and ``sdsc`` (SWF HPC jobs; one SWF processor becomes
   one node of :data:`HPC_CPUS_PER_NODE` cores) and ``cpu`` (synthetic cloud batch jobs). Templates that no pool
   of the network could ever hold are left out, and so are templates whose work alone exceeds
   :data:`MAX_JOB_WORK_SHARE` of the stream's target (see 2).
2. **Load.** GPU streams are measured against the network's accelerator capacity (GPUs/NPUs/DCUs of accelerator
   pools), CPU streams against the cores of its CPU pools. Stream ``s`` gets the work
   ``W_s = share_s × load × capacity × horizon`` (GPU-seconds or core-seconds). Jobs are taken in trace order from
   a seeded random start (wrapping around) until their work reaches ``W_s``; their trace arrival times are then
   compressed linearly onto ``[0, horizon)``, which scales the arrival rate and keeps the trace's burstiness.
   ``openb`` (a cluster snapshot, not an arrival log) and ``cpu`` (synthetic) get uniform random (Poisson)
   arrivals instead. So offered load ``Σ work / (capacity × horizon) ≈ load`` per resource.
3. **Tenants.** ``n_tenants`` tenants with sectors (SMEs, research, manufacturing, energy, finance, health,
   government, logistics, education) and a home city (weighted by the centers in it); trace users map to
   tenants with Zipf weights biased by the sector mix of each stream.
4. **Data.** Each job reads ``data_gb`` (lognormal per kind) from a center near its tenant (same city, else same
   economic circle, else anywhere) that may hold the data class; classes are mostly general, some important,
   few core (more in finance, health, energy, government). Core data never leaves its center (the broker's rule).
5. **Latency and deadlines.** Inference jobs name the tenant's city and a one-way SLO of 1 ms (in-city, 35 %) or
   3 ms (in-circle); ``deadline_fraction`` of batch jobs are delay-tolerant with a deadline (absolute, on the
   workload clock, as the CSV holds it) ``deadline_s = submit_s + duration_s + U(2 h, 24 h)``.
6. **Validity.** Every job is checked with the broker's filters against the idle network; a job no pool could
   take has its SLO relaxed (1 → 3 ms → none) and then its data class lowered, and each relaxation is counted.

Deterministic: the same network, options and traces give byte-identical output.

Modules: :mod:`~huanghe.sim.workload_streams` (1, the templates of each stream),
:mod:`~huanghe.sim.workload_tenants` (3–5, tenants, data, SLOs, deadlines) and this one (2 and 6, options,
load, validity, the CSV).
"""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from huanghe.broker.batch import SLO_IN_CIRCLE_MS, SLO_IN_CITY_MS, JobBatch
from huanghe.broker.filters import apply_filters, resources_fit
from huanghe.broker.snapshot import KIND_INDEX, NetworkSnapshot
from huanghe.core.clock import FakeClock
from huanghe.domain.enums import DataClass
from huanghe.domain.network import Topology
from huanghe.sim.traces.workload_csv import COLUMNS, REQUIRED
from huanghe.sim.workload_streams import (
    CPUS_PER_GPU,
    GPU_STREAMS,
    GPUS_PER_NODE_REF,
    HPC_CPUS_PER_NODE,
    MEM_GB_PER_CORE,
    MEM_GB_PER_GPU,
    STREAMS,
    SYNTHETIC_TEMPLATES,
    TRACE_FILES,
    Templates,
    WorkloadBuildError,
    load_stream,
    openb_templates,
    philly_templates,
    swf_templates,
    synthetic_cpu,
)
from huanghe.sim.workload_tenants import Tenant, data_centers, job_rows, make_tenants, tenant_of

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

__all__ = [
    "COLUMNS",
    "CPUS_PER_GPU",
    "GPUS_PER_NODE_REF",
    "GPU_STREAMS",
    "HPC_CPUS_PER_NODE",
    "MAX_JOB_WORK_SHARE",
    "MEM_GB_PER_CORE",
    "MEM_GB_PER_GPU",
    "REQUIRED_COLUMNS",
    "STREAMS",
    "SYNTHETIC_TEMPLATES",
    "TRACE_FILES",
    "BuildOptions",
    "BuildResult",
    "Templates",
    "Tenant",
    "WorkloadBuildError",
    "build_workload",
    "capacities",
    "make_tenants",
    "offered_load",
    "openb_templates",
    "philly_templates",
    "swf_templates",
    "synthetic_cpu",
    "write_workload",
]

#: Columns of the workload CSV (docs/workload.md), written in this order; the required ones first.
REQUIRED_COLUMNS = REQUIRED

#: A template whose work exceeds this share of its stream's target work is skipped, so that one job cannot
#: swing the offered load (matters only for tiny networks or short horizons).
MAX_JOB_WORK_SHARE = 0.1


@dataclass(frozen=True)
class BuildOptions:
    """How to build. ``load`` is the offered load as a fraction of capacity; ``hours`` the arrival horizon;
    ``gpu_mix`` / ``cpu_mix`` split the GPU and CPU load between streams (each sums to 1, or is empty for no
    load of that resource)."""

    seed: int = 0
    load: float = 0.7
    hours: float = 24.0
    gpu_mix: dict[str, float] = field(default_factory=lambda: {"philly": 0.6, "openb": 0.4})
    cpu_mix: dict[str, float] = field(default_factory=lambda: {"hpc2n": 0.4, "sdsc": 0.4, "cpu": 0.2})
    n_tenants: int = 60
    max_duration_s: float = 3 * 86400.0
    deadline_fraction: float = 0.4

    def check(self) -> None:
        if not (self.load > 0 and math.isfinite(self.load)):
            raise WorkloadBuildError(f"load must be > 0, got {self.load}")
        if not self.hours > 0:
            raise WorkloadBuildError(f"hours must be > 0, got {self.hours}")
        if self.n_tenants < 1:
            raise WorkloadBuildError(f"n_tenants must be >= 1, got {self.n_tenants}")
        for name, mix, allowed in (
            ("gpu_mix", self.gpu_mix, GPU_STREAMS),
            ("cpu_mix", self.cpu_mix, set(STREAMS) - GPU_STREAMS),
        ):
            unknown = set(mix) - set(allowed)
            if unknown:
                raise WorkloadBuildError(
                    f"{name}: unknown stream(s) {sorted(unknown)} (known: {sorted(allowed)})"
                )
            total = sum(mix.values())
            if any(v < 0 for v in mix.values()) or not (abs(total - 1.0) < 1e-6 or total == 0):
                raise WorkloadBuildError(f"{name}: shares must be >= 0 and sum to 1 (or be empty), got {mix}")


@dataclass
class BuildResult:
    """The rows (one dict per job, keys :data:`COLUMNS`) and the metadata written beside them."""

    rows: list[dict[str, Any]]
    meta: dict[str, Any]


# ------------------------------------------------------------------------------------------------ building


def capacities(snap: NetworkSnapshot) -> dict[str, float]:
    """Accelerators of accelerator pools and cores of CPU pools of the whole network."""
    acc = snap.accelerator_class != "cpu"
    return {
        "gpus": float((snap.nodes_total * snap.gpus_per_node)[acc].sum()),
        "cpus": float((snap.nodes_total * snap.cpus_per_node)[~acc].sum()),
    }


def _fits_network(snap: NetworkSnapshot, tpl: Templates) -> npt.NDArray[np.bool_]:
    """Templates some pool of the network could hold (resources and kind only), judged once per shape."""
    kind = np.array([KIND_INDEX[k] for k in tpl.kind], dtype=np.float64)
    shapes = np.stack([tpl.cpus, tpl.gpus, tpl.mem_gb, tpl.nodes.astype(np.float64), kind], axis=1)
    uniq, inverse = np.unique(shapes, axis=0, return_inverse=True)
    jobs = JobBatch.from_arrays(
        snap,
        len(uniq),
        cpus=uniq[:, 0],
        gpus=uniq[:, 1],
        mem_gb=uniq[:, 2],
        nodes=uniq[:, 3].astype(np.int64),
        kind=uniq[:, 4].astype(np.int64),
    )
    fits: npt.NDArray[np.bool_] = np.asarray(resources_fit(snap, jobs).any(axis=1))[inverse.reshape(-1)]
    return fits


def _window(
    rng: np.random.Generator, tpl: Templates, target: float, horizon_s: float, gpu: bool
) -> tuple[npt.NDArray[np.intp], FloatArray]:
    """Pick templates until their work reaches ``target``; return their indices and arrival times."""
    work = tpl.work(gpu)
    total = float(work.sum())
    if total <= 0:
        raise WorkloadBuildError("a stream has no work to offer")
    start = int(rng.integers(len(tpl)))
    reps = math.ceil(target / total) + 1
    order = (start + np.arange(reps * len(tpl))) % len(tpl)
    cum = np.cumsum(work[order])
    n = int(np.searchsorted(cum, target)) + 1
    n = min(n, len(order))
    if n > 1 and abs(cum[n - 2] - target) < abs(cum[n - 1] - target):
        n -= 1
    idx = order[:n]
    if np.isnan(tpl.t_s).any():
        t = np.sort(rng.uniform(0.0, horizon_s, size=n))
    else:
        span = float(tpl.t_s[-1] - tpl.t_s[0])
        gap = span / max(len(tpl) - 1, 1)
        lap = (start + np.arange(n)) // len(tpl)
        raw = tpl.t_s[idx] + lap * (span + gap)
        raw = raw - raw[0]
        t = raw * (horizon_s / (float(raw[-1]) + gap)) if n > 1 else np.zeros(1)
    return idx, t


def build_workload(topo: Topology, options: BuildOptions | None = None) -> BuildResult:
    """Build the workload of ``topo`` (see the module docstring); deterministic per ``options.seed``."""
    opts = options or BuildOptions()
    opts.check()
    rng = np.random.default_rng(opts.seed)
    snap = NetworkSnapshot.from_topology(topo, FakeClock(0.0), carbon_shape="synthetic")
    cap = capacities(snap)
    horizon_s = opts.hours * 3600.0
    tenants = make_tenants(rng, topo, opts.n_tenants)
    centers_for = data_centers(snap)
    city_idx = {y: i for i, y in enumerate(snap.city_ids)}

    rows: list[dict[str, Any]] = []
    streams_meta: dict[str, Any] = {}
    shares = {**opts.gpu_mix, **opts.cpu_mix}
    for stream in STREAMS:
        share = shares.get(stream, 0.0)
        if share <= 0:
            continue
        gpu = stream in GPU_STREAMS
        capacity = cap["gpus" if gpu else "cpus"]
        if capacity <= 0:
            raise WorkloadBuildError(
                f"stream {stream!r} needs {'accelerator' if gpu else 'CPU'} capacity, the network has none"
            )
        tpl = load_stream(stream, rng, opts.max_duration_s)
        fits = _fits_network(snap, tpl)
        target = share * opts.load * capacity * horizon_s
        small = tpl.work(gpu) <= MAX_JOB_WORK_SHARE * target
        if not (fits & small).any():
            raise WorkloadBuildError(
                f"no job of stream {stream!r} fits network {topo.name!r} at this load/horizon"
            )
        tpl = tpl.take(np.flatnonzero(fits & small))
        idx, t = _window(rng, tpl, target, horizon_s, gpu)
        jobs = tpl.take(idx)
        tenant_idx = tenant_of(rng, tenants, stream, jobs.user)
        rows.extend(
            job_rows(
                rng, stream, jobs, t, tenant_idx, tenants, centers_for, city_idx, snap, opts.deadline_fraction
            )
        )
        streams_meta[stream] = {
            "jobs": len(jobs),
            "share": share,
            "templates_fitting": int(fits.sum()),
            "templates_too_big": int((fits & ~small).sum()),
            "templates_total": len(fits),
            "work": float(jobs.work(gpu).sum()),
            "work_unit": "gpu_s" if gpu else "core_s",
        }
    rows.sort(key=lambda r: (r["submit_s"], r["job_id"]))
    rows, relaxed = _make_feasible(snap, rows)
    meta = {
        "network": topo.name,
        "options": asdict(opts),
        "horizon_s": horizon_s,
        "capacity": cap,
        "offered_load": offered_load(rows, cap, horizon_s),
        "streams": streams_meta,
        "relaxed": relaxed,
        "jobs": len(rows),
        "tenants": [asdict(t) for t in tenants],
    }
    return BuildResult(rows=rows, meta=meta)


def _make_feasible(
    snap: NetworkSnapshot, rows: list[dict[str, Any]]
) -> tuple[list[dict[str, Any]], dict[str, int]]:
    """Relax jobs no pool of the idle network could take: SLO 1 → 3 ms, then no SLO, then general data;
    drop the jobs still infeasible. Returns the rows kept and the count of each change."""
    counts = {"slo_1_to_3_ms": 0, "slo_dropped": 0, "data_class_lowered": 0, "dropped": 0}
    pending = np.arange(len(rows))
    for name in ("slo_1_to_3_ms", "slo_dropped", "data_class_lowered", "dropped"):
        pending = pending[_infeasible(snap, [rows[i] for i in pending])]
        for i in pending.tolist():
            row = rows[i]
            if name == "slo_1_to_3_ms" and row["latency_slo_ms"] == SLO_IN_CITY_MS:
                row["latency_slo_ms"] = SLO_IN_CIRCLE_MS
            elif name == "slo_dropped" and row["latency_slo_ms"] != "":
                row["latency_slo_ms"], row["user_city"] = "", ""
            elif name == "data_class_lowered" and row["data_class"] != DataClass.GENERAL:
                row["data_class"] = str(DataClass.GENERAL)
            elif name != "dropped":
                continue
            counts[name] += 1
    drop = set(pending.tolist())
    return [r for i, r in enumerate(rows) if i not in drop], counts


def _infeasible(snap: NetworkSnapshot, rows: Sequence[dict[str, Any]]) -> npt.NDArray[np.bool_]:
    out = np.zeros(len(rows), dtype=np.bool_)
    chunk = 20000
    for lo in range(0, len(rows), chunk):
        part = rows[lo : lo + chunk]
        jobs = JobBatch.from_records(snap, part)
        out[lo : lo + len(part)] = ~apply_filters(snap, jobs).feasible.any(axis=1)
    return out


def offered_load(
    rows: Sequence[dict[str, Any]], capacity: dict[str, float], horizon_s: float
) -> dict[str, float]:
    """Offered load per resource: Σ nodes × per-node GPUs (or cores) × duration over capacity × horizon.

    GPU load counts the GPUs of jobs that ask for accelerators; CPU load the cores of jobs that do not."""
    gpu_work = sum(r["nodes"] * r["gpus"] * r["duration_s"] for r in rows if r["gpus"] > 0)
    cpu_work = sum(r["nodes"] * r["cpus"] * r["duration_s"] for r in rows if r["gpus"] == 0)
    return {
        "gpus": gpu_work / (capacity["gpus"] * horizon_s) if capacity["gpus"] > 0 else 0.0,
        "cpus": cpu_work / (capacity["cpus"] * horizon_s) if capacity["cpus"] > 0 else 0.0,
    }


def write_workload(result: BuildResult, out: Path) -> Path:
    """Write the CSV (columns :data:`COLUMNS`) and ``<out stem>.meta.json`` beside it; return the meta path."""
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(COLUMNS), lineterminator="\n")
        writer.writeheader()
        for row in result.rows:
            writer.writerow(row)
    meta_path = out.with_name(out.stem + ".meta.json")
    meta_path.write_text(
        json.dumps(result.meta, ensure_ascii=False, indent=1, sort_keys=True), encoding="utf-8"
    )
    return meta_path
