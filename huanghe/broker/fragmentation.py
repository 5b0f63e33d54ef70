"""GPU fragmentation against a target workload (FGD, Weng et al., USENIX ATC'23): the task mix
(:class:`TargetWorkload`), each node's expected fragmentation and how much a candidate placement increases it.
All amounts in milli-GPU."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import numpy as np
import numpy.typing as npt

from huanghe.broker.packing_cluster import MILLI, Cluster, NodeView, PackingError, Task

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]


@dataclass(frozen=True)
class TargetWorkload:
    """The task mix fragmentation is measured against: T task shapes with their popularity (sum 1).

    ``model_ok[t, m + 1]``: may shape ``t`` use a node of model code ``m`` (column 0: CPU-only node).
    """

    cpu_milli: IntArray
    num_gpu: IntArray
    gpu_milli: IntArray
    weight: FloatArray
    model_ok: BoolArray
    memory_mib: IntArray  # median memory of the shape's tasks; all 0 when memory is ignored (FGD)
    thresholds: IntArray = field(init=False)  # the distinct GPU shares (U,), to test each only once
    threshold_of: IntArray = field(init=False)  # (T,) index into ``thresholds``

    def __post_init__(self) -> None:
        thr, inv = np.unique(np.maximum(self.gpu_milli, 1), return_inverse=True)
        object.__setattr__(self, "thresholds", thr.astype(np.int64))
        object.__setattr__(self, "threshold_of", inv.reshape(-1).astype(np.int64))

    def __len__(self) -> int:
        return len(self.weight)

    def without_memory(self) -> TargetWorkload:
        return replace(self, memory_mib=np.zeros_like(self.memory_mib))


def target_workload(
    tasks: Sequence[Task],
    cluster: Cluster,
    coverage: float = 1.0,
    gpu_weight: float = 0.0,
    memory_quantile: float = 0.25,
) -> TargetWorkload:
    """The most popular task shapes (CPU, GPU share, GPU count, models) covering ``coverage`` of the tasks,
    their frequencies renormalised to sum 1 (FGD's "typical pods"; memory is not part of a shape).

    A whole-GPU task counts ``1 + num_gpu × gpu_weight`` times (the authors' ``gpuResWeight``, default 0).
    A shape's memory is the ``memory_quantile`` of its tasks' memory (used by ``huanghe`` only; FGD drops it).
    """
    if not tasks:
        raise PackingError("target workload needs at least one task")
    counts: dict[tuple[int, int, int, tuple[str, ...]], float] = {}
    mems: dict[tuple[int, int, int, tuple[str, ...]], list[int]] = {}
    for t in tasks:
        w = 1.0 + (t.num_gpu * gpu_weight if t.num_gpu and not t.shared else 0.0)
        key = (t.cpu_milli, t.gpu_milli, t.num_gpu, tuple(sorted(t.gpu_models)))
        counts[key] = counts.get(key, 0.0) + w
        mems.setdefault(key, []).append(t.memory_mib)
    ranked = sorted(counts.items(), key=lambda kv: (kv[1], kv[0]), reverse=True)
    chosen: list[tuple[tuple[int, int, int, tuple[str, ...]], float]] = []
    total = sum(counts.values())
    cum = 0.0
    for key, n in ranked:
        chosen.append((key, n))
        cum += n
        if cum >= coverage * total:
            break
    models = cluster.models
    ok = np.ones((len(chosen), len(models) + 1), dtype=np.bool_)
    for i, ((_, _, _, allowed), _) in enumerate(chosen):
        if allowed:
            ok[i, 0] = False
            ok[i, 1:] = [m in allowed for m in models]
    weight = np.array([n for _, n in chosen], dtype=np.float64)
    return TargetWorkload(
        cpu_milli=np.array([k[0] for k, _ in chosen], dtype=np.int64),
        num_gpu=np.array([k[2] for k, _ in chosen], dtype=np.int64),
        gpu_milli=np.array([k[1] for k, _ in chosen], dtype=np.int64),
        weight=weight / weight.sum(),
        model_ok=ok,
        memory_mib=np.array([int(np.quantile(mems[k], memory_quantile)) for k, _ in chosen], dtype=np.int64),
    )


def expected_fragmentation(
    cpu_free: IntArray, mem_free: IntArray, gpu_free: IntArray, model: IntArray, tw: TargetWorkload
) -> FloatArray:
    """Expected GPU fragmentation of each node, milli-GPU (FGD, Weng et al. ATC'23, eq. 1–2).

    For a task shape the whole free GPU capacity of a node counts as fragment, except, when the shape fits
    the node (CPU and enough GPUs with room for its share, allowed model), the free capacity of the GPUs
    with room for the share. Shapes without GPUs count all free GPU capacity. Weighted by popularity.
    Memory counts only if the target carries it (``tw.memory_mib``; FGD ignores memory).
    ``cpu_free``, ``mem_free`` (M,), ``gpu_free`` (M, G), ``model`` (M,) → (M,).
    """
    total = gpu_free.sum(axis=1).astype(np.float64)
    fits = gpu_free[:, None, :] >= tw.thresholds[None, :, None]  # (M, U, G), U distinct shares
    cnt = fits.sum(axis=2)[:, tw.threshold_of]  # (M, T)
    usable = np.where(fits, gpu_free[:, None, :], 0).sum(axis=2)[:, tw.threshold_of]
    ok = (
        (tw.gpu_milli[None, :] > 0)
        & (cnt >= tw.num_gpu[None, :])
        & (cpu_free[:, None] >= tw.cpu_milli[None, :])
        & (mem_free[:, None] >= tw.memory_mib[None, :])
        & tw.model_ok[:, model + 1].T
    )
    frag = total[:, None] - np.where(ok, usable, 0)
    return np.asarray(frag @ tw.weight, dtype=np.float64)


def _after_states(view: NodeView, task: Task) -> tuple[IntArray, IntArray, IntArray, IntArray, BoolArray]:
    """Candidate states after placing ``task``: one per node, or for a share one per (node, GPU).

    Returns ``cpu_after (K,)``, ``mem_after (K,)``, ``gpu_after (K, G)``, ``model (K,)`` and
    ``valid (M, C)`` with C = G for a share else 1; K = M × C.
    """
    m, g = view.gpu_free.shape
    cpu_after = view.cpu_free - task.cpu_milli
    mem_after = view.mem_free - task.memory_mib
    if task.shared:
        gf = np.repeat(view.gpu_free[:, None, :], g, axis=1)  # (M, G, G)
        diag = np.arange(g)
        gf[:, diag, diag] -= task.gpu_milli
        valid = view.gpu_free >= task.gpu_milli
        rep = (
            np.repeat(cpu_after, g),
            np.repeat(mem_after, g),
            gf.reshape(m * g, g),
            np.repeat(view.model, g),
        )
        return (*rep, valid)
    gf = view.gpu_free
    if task.num_gpu:
        idle = view.gpu_free == MILLI
        take = idle & (np.cumsum(idle, axis=1) <= task.num_gpu)
        gf = np.where(take, 0, view.gpu_free)
    return cpu_after, mem_after, gf, view.model, np.ones((m, 1), dtype=np.bool_)


def fragmentation_delta(view: NodeView, task: Task, tw: TargetWorkload) -> tuple[FloatArray, BoolArray]:
    """Increase of expected fragmentation for each candidate placement, milli-GPU: ``(M, C)`` and validity."""
    before = expected_fragmentation(view.cpu_free, view.mem_free, view.gpu_free, view.model, tw)
    cpu_a, mem_a, gpu_a, model_a, valid = _after_states(view, task)
    after = expected_fragmentation(cpu_a, mem_a, gpu_a, model_a, tw).reshape(valid.shape)
    return after - before[:, None], valid
