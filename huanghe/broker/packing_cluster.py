"""The state a GPU packer works on: the heterogeneous :class:`Cluster` (CPU milli-cores, memory MiB, 0..G GPUs
of one model per node), a :class:`Task`'s request, the :class:`ClusterState` of free resources (GPU capacity in
**milli-GPU**, 1000 = a whole idle GPU) and the choice of GPUs inside one node. See :mod:`huanghe.broker.packing`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

MILLI = 1000
"""Milli-GPU of a whole GPU."""
MAX_SPEC_CPU_MILLI = 128_000
"""Largest node CPU in the openb fleet, milli-cores: the normaliser of best-fit and dot-product."""
MAX_SPEC_GPU_MILLI = 8_000
"""Largest node GPU capacity in the openb fleet (8 GPUs), milli-GPU."""
MAX_NODE_SCORE = 100

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]


class PackingError(ValueError):
    """Invalid cluster, task, placement (over-allocation) or policy name."""


@dataclass(frozen=True)
class Cluster:
    """Static description of the nodes. ``model[i]`` indexes ``models`` (-1 for a CPU-only node)."""

    names: tuple[str, ...]
    cpu_milli: IntArray
    memory_mib: IntArray
    gpu_count: IntArray
    model: IntArray
    models: tuple[str, ...]

    @classmethod
    def from_lists(
        cls,
        cpu_milli: Sequence[int] | IntArray,
        memory_mib: Sequence[int] | IntArray,
        gpu_count: Sequence[int] | IntArray,
        gpu_model: Sequence[str] | npt.NDArray[np.str_],
        names: Sequence[str] | None = None,
    ) -> Cluster:
        """Build from per-node lists; ``gpu_model`` is '' for CPU-only nodes."""
        n = len(cpu_milli)
        if not (len(memory_mib) == len(gpu_count) == len(gpu_model) == n):
            raise PackingError("cluster lists differ in length")
        gc = np.asarray(gpu_count, dtype=np.int64)
        if n and (gc.min() < 0 or np.asarray(cpu_milli).min() < 0 or np.asarray(memory_mib).min() < 0):
            raise PackingError("node CPU, memory and GPU count must be >= 0")
        models = tuple(sorted({str(m) for m, g in zip(gpu_model, gc, strict=True) if g > 0}))
        code = {m: i for i, m in enumerate(models)}
        model = np.array(
            [code[str(m)] if g > 0 else -1 for m, g in zip(gpu_model, gc, strict=True)], dtype=np.int64
        )
        return cls(
            names=tuple(names) if names is not None else tuple(f"node-{i:04d}" for i in range(n)),
            cpu_milli=np.asarray(cpu_milli, dtype=np.int64),
            memory_mib=np.asarray(memory_mib, dtype=np.int64),
            gpu_count=gc,
            model=model,
            models=models,
        )

    def __len__(self) -> int:
        return len(self.cpu_milli)

    @property
    def total_gpus(self) -> int:
        return int(self.gpu_count.sum())

    @property
    def max_gpus(self) -> int:
        return max(1, int(self.gpu_count.max())) if len(self) else 1


@dataclass(frozen=True)
class Task:
    """What a task asks for. ``gpu_milli`` is per requested GPU (1000 = whole); ``gpu_models`` empty = any."""

    cpu_milli: int
    memory_mib: int = 0
    num_gpu: int = 0
    gpu_milli: int = 0
    gpu_models: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        if self.cpu_milli < 0 or self.memory_mib < 0 or self.num_gpu < 0:
            raise PackingError("task CPU, memory and num_gpu must be >= 0")
        if self.num_gpu == 0 and self.gpu_milli != 0:
            raise PackingError("gpu_milli must be 0 when num_gpu is 0")
        if self.num_gpu > 0 and not 0 < self.gpu_milli <= MILLI:
            raise PackingError("gpu_milli must be in 1..1000 when num_gpu > 0")
        if self.num_gpu > 1 and self.gpu_milli != MILLI:
            raise PackingError("a fractional share (gpu_milli < 1000) needs num_gpu == 1")

    @property
    def shared(self) -> bool:
        """True for a fractional share of one GPU."""
        return self.num_gpu == 1 and self.gpu_milli < MILLI

    @property
    def total_gpu_milli(self) -> int:
        return self.num_gpu * self.gpu_milli


@dataclass(frozen=True)
class Placement:
    node: int
    gpus: tuple[int, ...]


@dataclass(frozen=True)
class NodeView:
    """The state of a subset of nodes (``idx`` into the cluster), as arrays."""

    idx: IntArray
    cpu_free: IntArray
    mem_free: IntArray
    gpu_free: IntArray  # (M, G) milli-GPU; slots beyond a node's GPU count hold 0
    gpu_count: IntArray
    model: IntArray

    def take(self, mask: BoolArray | IntArray) -> NodeView:
        return NodeView(
            self.idx[mask],
            self.cpu_free[mask],
            self.mem_free[mask],
            self.gpu_free[mask],
            self.gpu_count[mask],
            self.model[mask],
        )


class ClusterState:
    """Free resources of every node. Mutated only through :meth:`apply`, which refuses over-allocation."""

    def __init__(self, cluster: Cluster) -> None:
        self.cluster = cluster
        g = cluster.max_gpus
        self.cpu_free = cluster.cpu_milli.copy()
        self.mem_free = cluster.memory_mib.copy()
        self.gpu_free = np.zeros((len(cluster), g), dtype=np.int64)
        self.gpu_free[np.arange(g)[None, :] < cluster.gpu_count[:, None]] = MILLI

    @property
    def allocated_gpu_milli(self) -> int:
        return self.cluster.total_gpus * MILLI - int(self.gpu_free.sum())

    def view(self, idx: IntArray) -> NodeView:
        c = self.cluster
        return NodeView(
            idx, self.cpu_free[idx], self.mem_free[idx], self.gpu_free[idx], c.gpu_count[idx], c.model[idx]
        )

    def model_allowed(self, task: Task) -> BoolArray:
        """Per model code (+1, so index 0 is 'CPU-only node'): may the task use that node's GPUs."""
        allowed = np.ones(len(self.cluster.models) + 1, dtype=np.bool_)
        if task.num_gpu == 0:
            return allowed
        allowed[0] = False
        if task.gpu_models:
            allowed[1:] = [m in task.gpu_models for m in self.cluster.models]
        return allowed

    def feasible(self, view: NodeView, task: Task) -> BoolArray:
        """Which nodes of ``view`` can host ``task`` now."""
        ok = (view.cpu_free >= task.cpu_milli) & (view.mem_free >= task.memory_mib)
        if task.num_gpu == 0:
            return ok
        ok &= self.model_allowed(task)[view.model + 1]
        fits = (view.gpu_free >= task.gpu_milli).sum(axis=1)
        return ok & (fits >= task.num_gpu)

    def apply(self, placement: Placement, task: Task) -> None:
        """Take the task's resources from the node; raises :class:`PackingError` if they are not free."""
        n = placement.node
        if self.cpu_free[n] < task.cpu_milli or self.mem_free[n] < task.memory_mib:
            raise PackingError(f"node {n}: not enough CPU or memory for {task}")
        if len(placement.gpus) != task.num_gpu or len(set(placement.gpus)) != task.num_gpu:
            raise PackingError(f"node {n}: {task.num_gpu} distinct GPU(s) needed, got {placement.gpus}")
        if task.num_gpu and not self.model_allowed(task)[self.cluster.model[n] + 1]:
            raise PackingError(f"node {n}: GPU model not allowed for {task}")
        for g in placement.gpus:
            if not 0 <= g < self.cluster.gpu_count[n] or self.gpu_free[n, g] < task.gpu_milli:
                raise PackingError(f"node {n}: GPU {g} has not {task.gpu_milli} milli-GPU free")
        self.cpu_free[n] -= task.cpu_milli
        self.mem_free[n] -= task.memory_mib
        for g in placement.gpus:
            self.gpu_free[n, g] -= task.gpu_milli


# --------------------------------------------------------------------------- GPU choice within a node


def exclusive_gpus(gpu_free_row: IntArray, num_gpu: int) -> tuple[int, ...]:
    """The ``num_gpu`` lowest-index idle GPUs."""
    return tuple(int(g) for g in np.flatnonzero(gpu_free_row == MILLI)[:num_gpu])


def best_fit_gpu(gpu_free_row: IntArray, gpu_milli: int) -> int:
    """The GPU with the least free capacity that still fits the share (lowest index on ties)."""
    free = np.where(gpu_free_row >= gpu_milli, gpu_free_row, MILLI + 1)
    return int(np.argmin(free))


def default_gpus(
    state: ClusterState, node: int, task: Task, rng: np.random.Generator | None = None
) -> tuple[int, ...]:
    """Whole GPUs: lowest-index idle ones. A share: the best-fitting GPU, or a random fitting one if ``rng``."""
    row = state.gpu_free[node]
    if task.num_gpu == 0:
        return ()
    if not task.shared:
        return exclusive_gpus(row, task.num_gpu)
    if rng is not None:
        fitting = np.flatnonzero(row >= task.gpu_milli)
        return (int(fitting[rng.integers(len(fitting))]),)
    return (best_fit_gpu(row, task.gpu_milli),)
