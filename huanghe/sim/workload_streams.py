"""The job streams a province workload is built from (:mod:`huanghe.sim.workload_builder`, step 1): tables of
job *templates* taken from public traces (``philly``, ``openb``, ``hpc2n``, ``sdsc``) or drawn (``cpu``), with
how a trace job becomes nodes, cores, GPUs and memory."""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from huanghe.domain.enums import JobKind
from huanghe.paths import traces_dir
from huanghe.sim.traces.openb import load_openb_pods
from huanghe.sim.traces.philly import load_philly
from huanghe.sim.traces.swf import load_swf

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

#: Cores of the node one SWF processor becomes.
HPC_CPUS_PER_NODE = 32
#: Memory per core given to HPC and synthetic CPU jobs, GB.
MEM_GB_PER_CORE = 2.0
#: Host cores and memory that go with one GPU of a Philly job.
CPUS_PER_GPU = 4
MEM_GB_PER_GPU = 16.0
GPUS_PER_NODE_REF = 8

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


class WorkloadBuildError(ValueError):
    """Options or inputs that cannot make a workload; the message names the problem."""


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


def trace_path(stream: str) -> Path:
    """The file of a trace stream under :func:`~huanghe.paths.traces_dir`; :class:`WorkloadBuildError` if absent."""
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


def load_stream(stream: str, rng: np.random.Generator, max_duration_s: float) -> Templates:
    """The templates of ``stream``: synthetic (drawn from ``rng``) or read from its public trace."""
    if stream == "cpu":
        return synthetic_cpu(rng, SYNTHETIC_TEMPLATES, max_duration_s)
    path = trace_path(stream)
    return _load_trace(stream, path, path.stat().st_mtime_ns, max_duration_s)


@functools.lru_cache(maxsize=8)
def _load_trace(stream: str, path: Path, mtime_ns: int, max_duration_s: float) -> Templates:
    """Templates of a trace stream, cached per process (the file's mtime is part of the key).
    Callers must not modify the returned arrays (``Templates.take`` copies)."""
    if stream == "philly":
        return philly_templates(path, max_duration_s)
    if stream == "openb":
        return openb_templates(path, max_duration_s)
    return swf_templates(path, max_duration_s)
