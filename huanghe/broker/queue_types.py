"""The scheduler's view of jobs and pools: flat per-field lists, no per-job objects (fast hot path).

The live service and the simulator both fill a :class:`JobTable` and a list of :class:`PoolSpec` and
drive the same :class:`~huanghe.broker.cluster_queue.ClusterQueue`. Times are seconds on the caller's
clock (injected, never read here); sizes are processors (cores) and nodes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class PoolSpec:
    """A homogeneous set of ``nodes`` nodes with ``cores_per_node`` cores each.

    A job asking for ``procs`` cores takes ``ceil(procs / cores_per_node)`` whole nodes of one pool, all
    started together (a gang).
    """

    name: str
    nodes: int
    cores_per_node: int = 1

    def __post_init__(self) -> None:
        if self.nodes < 1:
            raise ValueError(f"pool {self.name!r}: nodes must be >= 1, got {self.nodes}")
        if self.cores_per_node < 1:
            raise ValueError(f"pool {self.name!r}: cores_per_node must be >= 1, got {self.cores_per_node}")

    @property
    def cores(self) -> int:
        return self.nodes * self.cores_per_node

    def nodes_for(self, procs: int) -> int:
        """Whole nodes needed for ``procs`` cores."""
        return -(-procs // self.cores_per_node)


@dataclass(frozen=True)
class JobTable:
    """Jobs known to one scheduler, indexed 0..n-1 in submission order.

    ``submit_s`` submission time (s); ``estimate_s`` run-time estimate the scheduler may use (s);
    ``procs`` cores requested; ``owner`` user or tenant id for fair share; ``priority`` higher first.
    """

    submit_s: Sequence[float]
    estimate_s: Sequence[float]
    procs: Sequence[int]
    owner: Sequence[int]
    priority: Sequence[int]

    def __len__(self) -> int:
        return len(self.submit_s)
