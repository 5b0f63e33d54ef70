"""The packing policies and their one registry (:data:`POLICIES`, built from one explicit list): which node a
task goes to (``score``, higher is better, a pure function of each node's own state and the task) and which of
its GPUs (``choose_gpus``). Scoring follows the FGD authors' simulator (integer node scores 0..100); see
:mod:`huanghe.broker.packing` for what each policy does."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import ClassVar, Protocol

import numpy as np
import numpy.typing as npt

from huanghe.broker.fragmentation import TargetWorkload, fragmentation_delta
from huanghe.broker.packing_cluster import (
    MAX_NODE_SCORE,
    MAX_SPEC_CPU_MILLI,
    MAX_SPEC_GPU_MILLI,
    MILLI,
    Cluster,
    ClusterState,
    NodeView,
    PackingError,
    Task,
    default_gpus,
)
from huanghe.core.registry import DuplicateNameError, Registry, UnknownNameError

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]


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
class HuanghePackingPolicy(FgdPolicy):
    """Ours: FGD whose target workload also carries each shape's memory (25th percentile of its tasks), so
    a node whose memory (not only CPU) is too short for a shape counts its GPUs as fragments; a CPU-only task prefers a
    node without GPUs among the best. Same integer score and GPU choice as FGD (random ties kept: on the
    openb trace they pack better than exact-Δ or best-fit tie-breaking, see docs/bench-packing.md)."""

    name: ClassVar[str] = "huanghe"

    def score(self, state: ClusterState, view: NodeView, task: Task) -> FloatArray:
        frag = super().score(state, view, task)
        no_gpu = (view.gpu_count == 0).astype(np.float64) if task.num_gpu == 0 else np.zeros(len(view.idx))
        return np.stack([frag, no_gpu], axis=1)


PackingPolicyFactory = Callable[[PolicyContext], PackingPolicy]


def _need_target(ctx: PolicyContext) -> TargetWorkload:
    if ctx.target is None:
        raise PackingError("this policy needs a target workload (PolicyContext.target)")
    return ctx.target


_POLICY_LIST: list[tuple[str, PackingPolicyFactory]] = [
    ("random", lambda ctx: RandomPolicy()),
    ("best-fit", lambda ctx: BestFitPolicy()),
    ("packing", lambda ctx: GpuPackingPolicy()),
    ("dot-product", lambda ctx: DotProductPolicy()),
    ("clustering", lambda ctx: GpuClusteringPolicy()),
    ("fgd", lambda ctx: FgdPolicy(_need_target(ctx).without_memory())),
    ("huanghe", lambda ctx: HuanghePackingPolicy(_need_target(ctx))),
]


class DuplicatePackingPolicyError(DuplicateNameError, PackingError):
    """Two entries of the packing-policy list share a name."""


class UnknownPackingPolicyError(UnknownNameError, PackingError):
    """No packing policy of that name is registered."""


def build_registry(items: Sequence[tuple[str, PackingPolicyFactory]]) -> Registry[PackingPolicyFactory]:
    """The explicit list as a registry; :class:`DuplicatePackingPolicyError` on a repeated name."""
    return Registry(
        "packing policy",
        items,
        unknown_error=UnknownPackingPolicyError,
        duplicate_error=DuplicatePackingPolicyError,
    )


POLICIES: Registry[PackingPolicyFactory] = build_registry(_POLICY_LIST)
"""Packing policies by name, in the order of the explicit list above."""


def make_policy(name: str, ctx: PolicyContext) -> PackingPolicy:
    """A new packing policy built from ``ctx``; :class:`UnknownPackingPolicyError` (a :class:`PackingError`)
    for an unknown name, :class:`PackingError` when the policy needs a target workload ``ctx`` lacks."""
    return POLICIES.get(name)(ctx)
