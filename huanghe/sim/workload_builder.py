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
"""

from __future__ import annotations

import csv
import functools
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
from huanghe.broker.snapshot import DATA_CLASS_BIT, KIND_INDEX, NetworkSnapshot
from huanghe.core.clock import FakeClock
from huanghe.domain.enums import DataClass, JobKind
from huanghe.domain.network import Topology
from huanghe.paths import traces_dir
from huanghe.sim.traces.openb import load_openb_pods
from huanghe.sim.traces.philly import load_philly
from huanghe.sim.traces.swf import load_swf
from huanghe.sim.traces.workload_csv import COLUMNS, REQUIRED

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

#: Columns of the workload CSV (docs/workload.md), written in this order; the required ones first.
REQUIRED_COLUMNS = REQUIRED

#: Cores of the node one SWF processor becomes.
HPC_CPUS_PER_NODE = 32
#: Memory per core given to HPC and synthetic CPU jobs, GB.
MEM_GB_PER_CORE = 2.0
#: Host cores and memory that go with one GPU of a Philly job.
CPUS_PER_GPU = 4
MEM_GB_PER_GPU = 16.0
GPUS_PER_NODE_REF = 8

#: A template whose work exceeds this share of its stream's target work is skipped, so that one job cannot
#: swing the offered load (matters only for tiny networks or short horizons).
MAX_JOB_WORK_SHARE = 0.1
#: Templates drawn for the synthetic CPU stream (the window wraps around them when a load needs more).
SYNTHETIC_TEMPLATES = 50000

STREAMS = ("philly", "openb", "hpc2n", "sdsc", "cpu")
GPU_STREAMS = frozenset({"philly", "openb"})
TRACE_FILES = {
    "philly": Path("philly-pollux") / "philly.csv.gz",
    "openb": Path("alibaba-gpu-2023-openb") / "openb_pod_list_default.csv",
    "hpc2n": Path("pwa-swf") / "HPC2N-2002-2.2-cln.swf.gz",
    "sdsc": Path("pwa-swf") / "SDSC-SP2-1998-4.2-cln.swf.gz",
}

SECTORS = (
    "sme",
    "research",
    "manufacturing",
    "energy",
    "finance",
    "health",
    "government",
    "logistics",
    "education",
)
SECTOR_WEIGHTS = (0.30, 0.14, 0.16, 0.08, 0.08, 0.07, 0.06, 0.06, 0.05)
#: Sectors whose data is more often important or core.
SENSITIVE_SECTORS = frozenset({"finance", "health", "energy", "government"})
#: Probability of (general, important, core) data.
DATA_CLASS_P = {"sensitive": (0.75, 0.20, 0.05), "other": (0.93, 0.06, 0.01)}
#: Sector multipliers of tenant weights, per stream (1.0 where not listed).
STREAM_SECTOR_BIAS: dict[str, dict[str, float]] = {
    "philly": {"research": 3.0, "sme": 2.0, "education": 2.0},
    "openb": {"sme": 2.0, "finance": 2.0, "health": 2.0, "logistics": 2.0},
    "hpc2n": {"research": 4.0, "energy": 3.0, "manufacturing": 3.0, "education": 2.0},
    "sdsc": {"research": 4.0, "energy": 3.0, "manufacturing": 3.0, "education": 2.0},
    "cpu": {"sme": 2.0, "manufacturing": 2.0, "government": 2.0, "logistics": 2.0},
}
#: Lognormal input size per kind: (median GB, sigma); probability a job has no input data.
DATA_GB = {
    JobKind.GPU: (50.0, 1.5),
    JobKind.HPC: (20.0, 1.5),
    JobKind.CPU: (2.0, 1.5),
    JobKind.INFERENCE: (1.0, 1.0),
}
NO_DATA_P = 0.2
#: Share of inference jobs with the in-city SLO (the rest get the in-circle SLO).
IN_CITY_SLO_P = 0.35


class WorkloadBuildError(ValueError):
    """Options or inputs that cannot make a workload; the message names the problem."""


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


@dataclass(frozen=True)
class Tenant:
    id: str
    name: str
    sector: str
    is_sme: bool
    home_city: str


@dataclass
class Templates:
    """Job templates of one stream, in trace order; ``t_s`` is the trace arrival time (NaN = none)."""

    t_s: FloatArray
    duration_s: FloatArray
    estimate_s: FloatArray  # NaN = none
    cpus: FloatArray
    gpus: FloatArray
    nodes: IntArray
    mem_gb: FloatArray
    kind: list[JobKind]
    accelerator: list[str]
    user: IntArray  # trace user, -1 = none

    def __len__(self) -> int:
        return len(self.duration_s)

    def take(self, idx: npt.NDArray[np.intp]) -> Templates:
        return Templates(
            t_s=self.t_s[idx],
            duration_s=self.duration_s[idx],
            estimate_s=self.estimate_s[idx],
            cpus=self.cpus[idx],
            gpus=self.gpus[idx],
            nodes=self.nodes[idx],
            mem_gb=self.mem_gb[idx],
            kind=[self.kind[i] for i in idx],
            accelerator=[self.accelerator[i] for i in idx],
            user=self.user[idx],
        )

    def work(self, gpu: bool) -> FloatArray:
        """GPU-seconds (gpu streams) or core-seconds of each template."""
        per_node = self.gpus if gpu else self.cpus
        out: FloatArray = self.nodes * per_node * self.duration_s
        return out


@dataclass
class BuildResult:
    """The rows (one dict per job, keys :data:`COLUMNS`) and the metadata written beside them."""

    rows: list[dict[str, Any]]
    meta: dict[str, Any]


# ------------------------------------------------------------------------------------------------ traces


def _trace_path(stream: str) -> Path:
    path = traces_dir() / TRACE_FILES[stream]
    if not path.is_file():
        raise WorkloadBuildError(f"trace of stream {stream!r} not found: {path} (set HUANGHE_TRACES_DIR)")
    return path


def philly_templates(path: Path, max_duration_s: float) -> Templates:
    """Philly jobs (``huanghe.sim.traces.philly``) in submit order: a job of g GPUs takes ``ceil(g / 8)`` nodes
    of ``min(g, 8)`` GPUs, 4 cores and 16 GB per GPU; the virtual cluster is the trace user."""
    jobs, _ = load_philly(path)
    order = jobs.order_by_submit()
    g = jobs.num_gpus[order]
    per_node = np.minimum(g, GPUS_PER_NODE_REF).astype(np.float64)
    _, vc = np.unique(jobs.cluster[order], return_inverse=True)
    n = len(order)
    return Templates(
        t_s=jobs.submit_s[order],
        duration_s=np.clip(jobs.duration_s[order], 1.0, max_duration_s),
        estimate_s=np.full(n, np.nan),
        cpus=per_node * CPUS_PER_GPU,
        gpus=per_node,
        nodes=np.ceil(g / GPUS_PER_NODE_REF).astype(np.int64),
        mem_gb=per_node * MEM_GB_PER_GPU,
        kind=[JobKind.GPU] * n,
        accelerator=[""] * n,
        user=vc.reshape(-1).astype(np.int64),
    )


def openb_templates(path: Path, max_duration_s: float) -> Templates:
    """openb pods with GPUs (GPU-less pods are left out: the CPU load comes from the CPU streams): LS
    (latency-sensitive) pods are inference services, the others training. The workload CSV holds whole GPUs and
    cores (docs/workload.md), so a pod sharing a fraction of one GPU asks for that whole GPU, and cores are
    rounded up."""
    pods, _ = load_openb_pods(path)
    k = np.flatnonzero(pods.num_gpu > 0)
    gpus = pods.num_gpu[k].astype(np.float64)  # a shared GPU (gpu_milli < 1000) counts whole: see docstring
    n = len(k)
    return Templates(
        t_s=np.full(n, np.nan),
        duration_s=np.clip(pods.deletion_time_s[k] - pods.creation_time_s[k], 1.0, max_duration_s),
        estimate_s=np.full(n, np.nan),
        cpus=np.maximum(np.ceil(pods.cpu_milli[k] / 1000.0), 1.0),
        gpus=gpus,
        nodes=np.ones(n, dtype=np.int64),
        mem_gb=pods.memory_mib[k] / 1024.0,
        kind=[JobKind.INFERENCE if q == "LS" else JobKind.GPU for q in pods.qos[k].tolist()],
        accelerator=[""] * n,
        user=np.full(n, -1, dtype=np.int64),
    )


def swf_templates(path: Path, max_duration_s: float) -> Templates:
    """SWF jobs: each processor becomes a node of 32 cores (2 GB per core); requested time is the estimate."""
    wl, _, _ = load_swf(path)
    n = len(wl)
    return Templates(
        t_s=wl.submit_s.astype(np.float64),
        duration_s=np.clip(wl.run_s, 1.0, max_duration_s),
        estimate_s=np.clip(np.maximum(wl.estimate_s, wl.run_s), 1.0, max_duration_s),
        cpus=np.full(n, float(HPC_CPUS_PER_NODE)),
        gpus=np.zeros(n),
        nodes=wl.procs.astype(np.int64),
        mem_gb=np.full(n, HPC_CPUS_PER_NODE * MEM_GB_PER_CORE),
        kind=[JobKind.HPC] * n,
        accelerator=[""] * n,
        user=wl.user.astype(np.int64),
    )


def synthetic_cpu(rng: np.random.Generator, n: int, max_duration_s: float) -> Templates:
    """Synthetic cloud batch / analytics jobs: 8–64 cores per node, one node (60 %) or 2–16, lognormal run
    time (median 1 h, sigma 1.0)."""
    cpus = rng.choice([8.0, 16.0, 32.0, 48.0, 64.0], size=n, p=[0.15, 0.25, 0.3, 0.15, 0.15])
    nodes = np.where(rng.random(n) < 0.6, 1, rng.integers(2, 17, size=n)).astype(np.int64)
    dur = np.clip(rng.lognormal(math.log(3600.0), 1.0, size=n), 60.0, max_duration_s)
    return Templates(
        t_s=np.full(n, np.nan),
        duration_s=dur,
        estimate_s=np.minimum(np.ceil(dur * rng.uniform(1.2, 2.0, size=n)), max_duration_s),
        cpus=cpus,
        gpus=np.zeros(n),
        nodes=nodes,
        mem_gb=cpus * MEM_GB_PER_CORE,
        kind=[JobKind.CPU] * n,
        accelerator=[""] * n,
        user=np.full(n, -1, dtype=np.int64),
    )


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


def make_tenants(rng: np.random.Generator, topo: Topology, n: int) -> list[Tenant]:
    """Tenants with a sector (weighted) and a home city (weighted by the number of centers there)."""
    cities = [y.id for y in topo.cities]
    per_city = np.array([sum(1 for c in topo.centers if c.city == y) for y in cities], dtype=np.float64) + 0.5
    sectors = rng.choice(len(SECTORS), size=n, p=np.asarray(SECTOR_WEIGHTS) / sum(SECTOR_WEIGHTS))
    homes = rng.choice(len(cities), size=n, p=per_city / per_city.sum())
    out = []
    for i in range(n):
        sector = SECTORS[int(sectors[i])]
        out.append(
            Tenant(
                id=f"t{i + 1:03d}-{sector}",
                name=f"Tenant {i + 1} ({sector})",
                sector=sector,
                is_sme=sector == "sme" or bool(rng.random() < 0.5),
                home_city=cities[int(homes[i])],
            )
        )
    return out


def _tenant_of(
    rng: np.random.Generator, tenants: Sequence[Tenant], stream: str, users: IntArray
) -> npt.NDArray[np.intp]:
    """Tenant index per job: one tenant per trace user (or per job without users), Zipf × sector bias."""
    zipf = 1.0 / np.arange(1, len(tenants) + 1) ** 0.8
    bias = np.array([STREAM_SECTOR_BIAS[stream].get(t.sector, 1.0) for t in tenants])
    p = zipf * bias / (zipf * bias).sum()
    if (users < 0).all():
        out: npt.NDArray[np.intp] = rng.choice(len(tenants), size=len(users), p=p)
        return out
    uniq, inverse = np.unique(users, return_inverse=True)
    per_user = rng.choice(len(tenants), size=len(uniq), p=p)
    mapped: npt.NDArray[np.intp] = per_user[inverse]
    return mapped


def _data_centers(snap: NetworkSnapshot) -> dict[tuple[int, int], list[int]]:
    """Candidate data centers per (city index, data-class bit): same city, else same circle, else anywhere."""
    city_of = snap.center_city
    region_of = snap.city_region[city_of]
    out: dict[tuple[int, int], list[int]] = {}
    for y in range(len(snap.city_ids)):
        for bit in DATA_CLASS_BIT.values():
            ok = (snap.data_class_mask & bit) != 0
            for pick in (ok & (city_of == y), ok & (region_of == snap.city_region[y]), ok):
                if pick.any():
                    out[(y, bit)] = np.flatnonzero(pick).tolist()
                    break
            else:
                out[(y, bit)] = []
    return out


def build_workload(topo: Topology, options: BuildOptions | None = None) -> BuildResult:
    """Build the workload of ``topo`` (see the module docstring); deterministic per ``options.seed``."""
    opts = options or BuildOptions()
    opts.check()
    rng = np.random.default_rng(opts.seed)
    snap = NetworkSnapshot.from_topology(topo, FakeClock(0.0), carbon_shape="synthetic")
    cap = capacities(snap)
    horizon_s = opts.hours * 3600.0
    tenants = make_tenants(rng, topo, opts.n_tenants)
    centers_for = _data_centers(snap)
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
        tpl = _load_stream(stream, rng, opts)
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
        tenant_idx = _tenant_of(rng, tenants, stream, jobs.user)
        rows.extend(_rows(rng, stream, jobs, t, tenant_idx, tenants, centers_for, city_idx, snap, opts))
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


def _load_stream(stream: str, rng: np.random.Generator, opts: BuildOptions) -> Templates:
    if stream == "cpu":
        return synthetic_cpu(rng, SYNTHETIC_TEMPLATES, opts.max_duration_s)
    path = _trace_path(stream)
    return _load_trace(stream, path, path.stat().st_mtime_ns, opts.max_duration_s)


@functools.lru_cache(maxsize=8)
def _load_trace(stream: str, path: Path, mtime_ns: int, max_duration_s: float) -> Templates:
    """Templates of a trace stream, cached per process (the file's mtime is part of the key).
    Callers must not modify the returned arrays (``Templates.take`` copies)."""
    if stream == "philly":
        return philly_templates(path, max_duration_s)
    if stream == "openb":
        return openb_templates(path, max_duration_s)
    return swf_templates(path, max_duration_s)


def _rows(
    rng: np.random.Generator,
    stream: str,
    jobs: Templates,
    t: FloatArray,
    tenant_idx: npt.NDArray[np.intp],
    tenants: Sequence[Tenant],
    centers_for: dict[tuple[int, int], list[int]],
    city_idx: dict[str, int],
    snap: NetworkSnapshot,
    opts: BuildOptions,
) -> list[dict[str, Any]]:
    n = len(jobs)
    u_class, u_data, u_slo, u_dl = rng.random(n), rng.random(n), rng.random(n), rng.random(n)
    pick = rng.random(n)
    normal = rng.standard_normal(n)
    slack = rng.uniform(2 * 3600.0, 24 * 3600.0, size=n)
    classes = (DataClass.GENERAL, DataClass.IMPORTANT, DataClass.CORE)
    out = []
    for i in range(n):
        tenant = tenants[int(tenant_idx[i])]
        kind = jobs.kind[i]
        p = DATA_CLASS_P["sensitive" if tenant.sector in SENSITIVE_SECTORS else "other"]
        dclass = classes[0] if u_class[i] < p[0] else classes[1] if u_class[i] < p[0] + p[1] else classes[2]
        home = city_idx[tenant.home_city]
        median, sigma = DATA_GB[kind]
        data_gb = 0.0 if u_data[i] < NO_DATA_P else round(median * math.exp(sigma * normal[i]), 3)
        cands = centers_for[(home, DATA_CLASS_BIT[dclass])]
        if not cands:
            dclass, cands = DataClass.GENERAL, centers_for[(home, DATA_CLASS_BIT[DataClass.GENERAL])]
        data_center = snap.center_ids[cands[int(pick[i] * len(cands))]] if data_gb > 0 else ""
        inference = kind == JobKind.INFERENCE
        est = jobs.estimate_s[i]
        out.append(
            {
                "job_id": f"{stream}-{i:06d}",
                "submit_s": round(float(t[i]), 3),
                "duration_s": round(float(jobs.duration_s[i]), 3),
                "cpus": int(jobs.cpus[i]),
                "gpus": int(jobs.gpus[i]),
                "nodes": int(jobs.nodes[i]),
                "estimate_s": "" if math.isnan(est) else round(float(est), 3),
                "tenant": tenant.id,
                "mem_gb": round(float(jobs.mem_gb[i]), 3),
                "accelerator": jobs.accelerator[i],
                "data_gb": data_gb,
                "data_center": data_center,
                "data_class": str(dclass) if data_gb > 0 else str(DataClass.GENERAL),
                "user_city": tenant.home_city if inference else "",
                "latency_slo_ms": (SLO_IN_CITY_MS if u_slo[i] < IN_CITY_SLO_P else SLO_IN_CIRCLE_MS)
                if inference
                else "",
                "deadline_s": round(float(t[i] + jobs.duration_s[i] + slack[i]), 3)
                if not inference and u_dl[i] < opts.deadline_fraction
                else "",
                "priority": 1 if inference else 0,
                "kind": str(kind),
            }
        )
    return out


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
