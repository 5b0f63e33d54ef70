"""GPU packing inside one cluster: which node, and which GPUs of it, a task goes to.

The cluster is heterogeneous: every node has CPU (milli-cores), memory (MiB) and 0..G GPUs of one model;
each GPU has a free capacity in **milli-GPU** (1000 = a whole idle GPU). A task asks for CPU, memory and
either nothing, ``num_gpu`` whole GPUs (``gpu_milli == 1000``), or one fractional share of a single GPU
(``num_gpu == 1``, ``gpu_milli < 1000``), optionally restricted to a set of GPU models.

Policies (one registry, :data:`POLICIES`, built from one explicit list):

``random``       a uniformly random feasible node;
``best-fit``     least CPU + GPU left after placement (weights 0.5 / 0.5, normalised by 128 cores / 8 GPUs);
``packing``      GPU packing: a partly used GPU first, then free GPUs of a used node, then an idle node;
``dot-product``  Tetris alignment: smallest dot product of the node's free vector and the task's demand;
``clustering``   GPU clustering: nodes already running tasks of the same GPU share go first;
``fgd``          Fragmentation Gradient Descent (Weng et al., USENIX ATC'23): the placement that least
                 increases the node's *expected fragmentation* against the target workload's task mix;
``huanghe``      ours: FGD measured against a memory-aware target workload (a node short of memory for a
                 task shape counts its GPUs as fragments for it), CPU-only tasks kept off GPU nodes when
                 that costs no fragmentation.

The baselines follow the scoring of the FGD authors' simulator (hkust-adsl/kubernetes-scheduler-simulator,
Apache-2.0), including its integer node scores (0..100): ties between equal scores are broken uniformly at
random, as kube-scheduler does. Randomness comes only from the ``numpy.random.Generator`` passed in.

Contract of a policy's ``score``: a pure function of each node's own state and the task (so the
:class:`Packer` may cache scores per task shape and recompute only nodes that changed); higher is better;
several columns are compared lexicographically.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import ClassVar, Protocol

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


# --------------------------------------------------------------------------- fragmentation (FGD)


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


# --------------------------------------------------------------------------- policies


class PackingPolicy(Protocol):
    name: ClassVar[str]

    def score(self, state: ClusterState, view: NodeView, task: Task) -> FloatArray:
        """Scores of the (feasible) nodes in ``view``: shape (M,) or (M, K), higher better."""
        ...

    def choose_gpus(
        self, state: ClusterState, node: int, task: Task, rng: np.random.Generator
    ) -> tuple[int, ...]:
        """The GPUs of ``node`` the task gets (``node`` is feasible)."""
        ...


@dataclass
class PolicyContext:
    """What a policy may be built from: the cluster and the target workload (for FGD-like policies)."""

    cluster: Cluster
    target: TargetWorkload | None = None


def _gpu_free_total(view: NodeView) -> IntArray:
    return view.gpu_free.sum(axis=1)


@dataclass
class RandomPolicy:
    name: ClassVar[str] = "random"

    def score(self, state: ClusterState, view: NodeView, task: Task) -> FloatArray:
        return np.zeros(len(view.idx))

    def choose_gpus(
        self, state: ClusterState, node: int, task: Task, rng: np.random.Generator
    ) -> tuple[int, ...]:
        return default_gpus(state, node, task, rng)


@dataclass
class BestFitPolicy:
    name: ClassVar[str] = "best-fit"

    def score(self, state: ClusterState, view: NodeView, task: Task) -> FloatArray:
        left = (
            0.5 * (view.cpu_free - task.cpu_milli) / MAX_SPEC_CPU_MILLI
            + 0.5 * (_gpu_free_total(view) - task.total_gpu_milli) / MAX_SPEC_GPU_MILLI
        )
        return np.trunc((1.0 - left) * MAX_NODE_SCORE)

    def choose_gpus(
        self, state: ClusterState, node: int, task: Task, rng: np.random.Generator
    ) -> tuple[int, ...]:
        return default_gpus(state, node, task)


@dataclass
class GpuPackingPolicy:
    """Shared GPU already in use (50..100) > idle GPUs of a used node (33..50) > idle node (0..33)."""

    name: ClassVar[str] = "packing"

    def score(self, state: ClusterState, view: NodeView, task: Task) -> FloatArray:
        m = len(view.idx)
        if task.num_gpu == 0:
            return np.zeros(m)
        idle = (view.gpu_free == MILLI).sum(axis=1)
        out = np.empty(m)
        node_idle = idle == view.gpu_count
        out[node_idle] = np.maximum(MAX_NODE_SCORE // 3 - idle[node_idle], idle[node_idle])
        for i in np.flatnonzero(~node_idle):
            row = view.gpu_free[i, : view.gpu_count[i]]
            order = np.argsort(row, kind="stable")
            use = [j for j in order if row[j] >= task.gpu_milli][: task.num_gpu]
            idle_used = sum(1 for j in use if row[j] == MILLI)
            if idle_used:
                out[i] = max(MAX_NODE_SCORE // 2 - idle_used, MAX_NODE_SCORE // 3)
            else:
                ratio = sum(int(row[j]) * 100 // MILLI for j in use)
                out[i] = max(MAX_NODE_SCORE - ratio // 10, MAX_NODE_SCORE // 2)
        return out

    def choose_gpus(
        self, state: ClusterState, node: int, task: Task, rng: np.random.Generator
    ) -> tuple[int, ...]:
        return default_gpus(state, node, task)


@dataclass
class DotProductPolicy:
    """Tetris: 1 − ⟨free, demand⟩ / 2 with both vectors normalised by the largest node (CPU, GPU)."""

    name: ClassVar[str] = "dot-product"

    def score(self, state: ClusterState, view: NodeView, task: Task) -> FloatArray:
        dot = (view.cpu_free / MAX_SPEC_CPU_MILLI) * (task.cpu_milli / MAX_SPEC_CPU_MILLI) + (
            _gpu_free_total(view) / MAX_SPEC_GPU_MILLI
        ) * (task.total_gpu_milli / MAX_SPEC_GPU_MILLI)
        return np.trunc(MAX_NODE_SCORE * (1.0 - dot / 2.0))

    def choose_gpus(
        self, state: ClusterState, node: int, task: Task, rng: np.random.Generator
    ) -> tuple[int, ...]:
        return default_gpus(state, node, task)


def _affinity_tag(task: Task) -> str:
    """GPU affinity of a task: '' (no GPU), 'share' (any fractional share) or 'k-gpu' (k whole GPUs)."""
    if task.num_gpu == 0:
        return ""
    return "share" if task.shared else f"{task.num_gpu}-gpu"


@dataclass
class GpuClusteringPolicy:
    """Nodes whose tasks all share this task's GPU shape first, then mixed nodes with it, idle, others;
    inside each band the fuller node first. Keeps per-node tag counts (updated by :meth:`placed`)."""

    name: ClassVar[str] = "clustering"
    state_only: ClassVar[bool] = False
    tags: dict[int, Counter[str]] = field(default_factory=dict)

    def score(self, state: ClusterState, view: NodeView, task: Task) -> FloatArray:
        tag = _affinity_tag(task)
        if not tag:
            return np.zeros(len(view.idx))
        fill = (MAX_NODE_SCORE // 4) * (MAX_SPEC_GPU_MILLI - _gpu_free_total(view)) // MAX_SPEC_GPU_MILLI
        band = np.zeros(len(view.idx), dtype=np.int64)
        for i, n in enumerate(view.idx):
            tags = self.tags.get(int(n))
            if tags and tags.get(tag, 0) > 0:
                band[i] = 3 if len(tags) == 1 else 2
            elif not tags:
                band[i] = 1
        return (fill + band * (MAX_NODE_SCORE // 4)).astype(np.float64)

    def choose_gpus(
        self, state: ClusterState, node: int, task: Task, rng: np.random.Generator
    ) -> tuple[int, ...]:
        return default_gpus(state, node, task)

    def placed(self, node: int, task: Task) -> None:
        tag = _affinity_tag(task)
        if tag:
            self.tags.setdefault(node, Counter())[tag] += 1


def _sigmoid_score(delta: FloatArray) -> FloatArray:
    """FGD's node score: ⌊sigmoid(−Δfrag / 1000) × 100⌋ (Δ in milli-GPU)."""
    with np.errstate(over="ignore"):
        return np.trunc(1.0 / (1.0 + np.exp(delta / MILLI)) * MAX_NODE_SCORE)


@dataclass
class FgdPolicy:
    """Fragmentation Gradient Descent, as in the authors' simulator (integer sigmoid score)."""

    target: TargetWorkload
    name: ClassVar[str] = "fgd"

    def score(self, state: ClusterState, view: NodeView, task: Task) -> FloatArray:
        delta, valid = fragmentation_delta(view, task, self.target)
        return np.where(valid, _sigmoid_score(delta), -np.inf).max(axis=1)

    def choose_gpus(
        self, state: ClusterState, node: int, task: Task, rng: np.random.Generator
    ) -> tuple[int, ...]:
        if not task.shared:
            return default_gpus(state, node, task)
        delta, valid = fragmentation_delta(state.view(np.array([node])), task, self.target)
        return (int(np.argmax(np.where(valid[0], _sigmoid_score(delta[0]), -np.inf))),)


@dataclass
class HuanghePolicy(FgdPolicy):
    """Ours: FGD whose target workload also carries each shape's memory (25th percentile of its tasks), so
    a node whose memory (not only CPU) is too short for a shape counts its GPUs as fragments; a CPU-only task prefers a
    node without GPUs among the best. Same integer score and GPU choice as FGD (random ties kept: on the
    openb trace they pack better than exact-Δ or best-fit tie-breaking, see docs/bench-packing.md)."""

    name: ClassVar[str] = "huanghe"

    def score(self, state: ClusterState, view: NodeView, task: Task) -> FloatArray:
        frag = super().score(state, view, task)
        no_gpu = (view.gpu_count == 0).astype(np.float64) if task.num_gpu == 0 else np.zeros(len(view.idx))
        return np.stack([frag, no_gpu], axis=1)


PolicyFactory = Callable[[PolicyContext], PackingPolicy]


def _need_target(ctx: PolicyContext) -> TargetWorkload:
    if ctx.target is None:
        raise PackingError("this policy needs a target workload (PolicyContext.target)")
    return ctx.target


_POLICY_LIST: list[tuple[str, PolicyFactory]] = [
    ("random", lambda ctx: RandomPolicy()),
    ("best-fit", lambda ctx: BestFitPolicy()),
    ("packing", lambda ctx: GpuPackingPolicy()),
    ("dot-product", lambda ctx: DotProductPolicy()),
    ("clustering", lambda ctx: GpuClusteringPolicy()),
    ("fgd", lambda ctx: FgdPolicy(_need_target(ctx).without_memory())),
    ("huanghe", lambda ctx: HuanghePolicy(_need_target(ctx))),
]


def _build_registry(items: list[tuple[str, PolicyFactory]]) -> dict[str, PolicyFactory]:
    reg: dict[str, PolicyFactory] = {}
    for name, factory in items:
        if name in reg:
            raise PackingError(f"duplicate packing policy name {name!r}")
        reg[name] = factory
    return reg


POLICIES: dict[str, PolicyFactory] = _build_registry(_POLICY_LIST)
"""Packing policies by name, in the order of the explicit list above."""


def make_policy(name: str, ctx: PolicyContext) -> PackingPolicy:
    try:
        factory = POLICIES[name]
    except KeyError:
        raise PackingError(f"unknown packing policy {name!r}; known: {', '.join(POLICIES)}") from None
    return factory(ctx)


# --------------------------------------------------------------------------- the packer


class Packer:
    """Places tasks one by one on a :class:`ClusterState` with a policy; ties broken by ``seed``.

    Scores are cached per task shape and recomputed only for nodes changed since (see the module's
    contract), which makes a whole-trace run cost about one node's scoring per task.
    """

    def __init__(self, cluster: Cluster, policy: PackingPolicy, seed: int = 0) -> None:
        self.state = ClusterState(cluster)
        self.policy = policy
        self.rng = np.random.default_rng(seed)
        self._node_ver = np.zeros(len(cluster), dtype=np.int64)
        self._cache: dict[Task, tuple[FloatArray, IntArray]] = {}
        self._all = np.arange(len(cluster), dtype=np.int64)

    def scores(self, task: Task) -> FloatArray:
        """Current scores of all nodes for ``task`` (N, K); −inf where it does not fit."""
        cached = self._cache.get(task)
        if cached is None:
            cached = (np.empty((0, 0)), np.full(len(self._all), -1, dtype=np.int64))
        table, ver = cached
        stale = np.flatnonzero(ver != self._node_ver)
        if stale.size:
            view = self.state.view(stale)
            ok = self.state.feasible(view, task)
            sub = self._score(view.take(ok), task) if ok.any() else None
            if table.size == 0:
                if sub is None:  # learn the number of score columns from an empty view
                    sub0 = np.asarray(self.policy.score(self.state, view.take(ok), task))
                    k = 1 if sub0.ndim == 1 else sub0.shape[1]
                else:
                    k = 1 if sub.ndim == 1 else sub.shape[1]
                table = np.full((len(self._all), k), -np.inf)
            k = table.shape[1]
            rows = np.full((len(stale), k), -np.inf)
            if sub is not None:
                rows[ok] = sub.reshape(-1, k)
            table[stale] = rows
            ver[stale] = self._node_ver[stale]
            self._cache[task] = (table, ver)
        return table

    def _score(self, cand: NodeView, task: Task) -> FloatArray:
        """Policy scores of ``cand``; nodes in identical states are scored once (a policy whose score
        depends on more than the node's state declares ``state_only = False``)."""
        if len(cand.idx) > 16 and getattr(self.policy, "state_only", True):
            key = np.column_stack([cand.cpu_free, cand.mem_free, cand.model, cand.gpu_count, cand.gpu_free])
            _, first, inverse = np.unique(key, axis=0, return_index=True, return_inverse=True)
            if len(first) < len(cand.idx):
                uniq = np.asarray(self.policy.score(self.state, cand.take(first), task), dtype=np.float64)
                return uniq[inverse.reshape(-1)]
        return np.asarray(self.policy.score(self.state, cand, task), dtype=np.float64)

    def assign(self, placement: Placement, task: Task) -> None:
        """Put ``task`` at a given placement (e.g. a task already running); refuses over-allocation."""
        self.state.apply(placement, task)
        self._node_ver[placement.node] += 1
        placed = getattr(self.policy, "placed", None)
        if placed is not None:
            placed(placement.node, task)

    def place(self, task: Task) -> Placement | None:
        """Place ``task`` and return where, or None (state unchanged) if no node fits."""
        table = self.scores(task)
        if table.size == 0:
            return None
        col = table[:, 0]
        best = col.max()
        if best == -np.inf:
            return None
        cand = np.flatnonzero(col == best)
        for k in range(1, table.shape[1]):
            if len(cand) == 1:
                break
            sub = table[cand, k]
            cand = cand[sub == sub.max()]
        node = int(cand[self.rng.integers(len(cand))]) if len(cand) > 1 else int(cand[0])
        placement = Placement(node, self.policy.choose_gpus(self.state, node, task, self.rng))
        self.assign(placement, task)
        return placement
