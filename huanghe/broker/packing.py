"""GPU packing inside one cluster: which node, and which GPUs of it, a task goes to.

The cluster is heterogeneous: every node has CPU (milli-cores), memory (MiB) and 0..G GPUs of one model;
each GPU has a free capacity in **milli-GPU** (1000 = a whole idle GPU). A task asks for CPU, memory and
either nothing, ``num_gpu`` whole GPUs (``gpu_milli == 1000``), or one fractional share of a single GPU
(``num_gpu == 1``, ``gpu_milli < 1000``), optionally restricted to a set of GPU models.

Policies (one registry, :data:`~huanghe.broker.packing_policies.POLICIES`, built from one explicit list):

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

Modules: :mod:`~huanghe.broker.packing_cluster` (cluster, task, free resources, GPU choice),
:mod:`~huanghe.broker.fragmentation` (FGD's expected fragmentation), :mod:`~huanghe.broker.packing_policies`
(the policies and their registry) and this one (the :class:`Packer`, and every public name of the others).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from huanghe.broker.fragmentation import (
    TargetWorkload,
    expected_fragmentation,
    fragmentation_delta,
    target_workload,
)
from huanghe.broker.packing_cluster import (
    MAX_NODE_SCORE,
    MAX_SPEC_CPU_MILLI,
    MAX_SPEC_GPU_MILLI,
    MILLI,
    Cluster,
    ClusterState,
    NodeView,
    PackingError,
    Placement,
    Task,
    best_fit_gpu,
    default_gpus,
    exclusive_gpus,
)
from huanghe.broker.packing_policies import (
    POLICIES,
    BestFitPolicy,
    DotProductPolicy,
    DuplicatePackingPolicyError,
    FgdPolicy,
    GpuClusteringPolicy,
    GpuPackingPolicy,
    HuanghePackingPolicy,
    PackingPolicy,
    PackingPolicyFactory,
    PolicyContext,
    RandomPolicy,
    UnknownPackingPolicyError,
    build_registry,
    make_policy,
)

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

__all__ = [
    "MAX_NODE_SCORE",
    "MAX_SPEC_CPU_MILLI",
    "MAX_SPEC_GPU_MILLI",
    "MILLI",
    "POLICIES",
    "BestFitPolicy",
    "Cluster",
    "ClusterState",
    "DotProductPolicy",
    "DuplicatePackingPolicyError",
    "FgdPolicy",
    "GpuClusteringPolicy",
    "GpuPackingPolicy",
    "HuanghePackingPolicy",
    "NodeView",
    "Packer",
    "PackingError",
    "PackingPolicy",
    "PackingPolicyFactory",
    "Placement",
    "PolicyContext",
    "RandomPolicy",
    "TargetWorkload",
    "Task",
    "UnknownPackingPolicyError",
    "best_fit_gpu",
    "build_registry",
    "default_gpus",
    "exclusive_gpus",
    "expected_fragmentation",
    "fragmentation_delta",
    "make_policy",
    "target_workload",
]


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
