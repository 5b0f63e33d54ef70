"""Filters: which pools may run each job. Each filter is a pure function ``(snapshot, jobs) -> (J, P) bool``
(True = the pool passes) with a :class:`Reason` code; :func:`apply_filters` runs them all and records, per
job and pool, the **first** filter (in :data:`FILTERS` order) that removed it, for the explanation.

Filters judge whether a pool can run the job at all, not whether it is free now: a pool that is full but
could run the job stays a candidate and its queue shows up in the start-time estimate.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

import numpy as np
import numpy.typing as npt

from huanghe.broker.batch import JobBatch, node_share
from huanghe.broker.snapshot import NetworkSnapshot

BoolArray = npt.NDArray[np.bool_]
IntArray = npt.NDArray[np.int64]

#: Accelerator requests that name a class rather than a model.
ACCELERATOR_CLASSES = frozenset({"cpu", "gpu", "npu", "dcu"})


class Reason(StrEnum):
    """Why a pool was removed from a job's candidates."""

    OFFERING = "offering"
    UNHEALTHY = "unhealthy"
    RESOURCES = "resources"
    ACCELERATOR = "accelerator"
    BACKEND = "backend"
    DATA_CLASS = "data_class"
    LATENCY = "latency"
    PRICE = "price"


def offering_pool(snap: NetworkSnapshot, jobs: JobBatch) -> BoolArray:
    """A job targeting an offering of the product catalog (``target_pool`` ≥ 0) runs only in its pool; jobs
    without one pass everywhere."""
    target = jobs.target_pool[:, None]
    out: BoolArray = (target < 0) | (np.arange(snap.n_pools)[None, :] == target)
    return out


def healthy(snap: NetworkSnapshot, jobs: JobBatch) -> BoolArray:
    """The pool's center is healthy and the pool takes new jobs (not drained by its operator)."""
    up = snap.healthy[snap.pool_center] & snap.pool_open
    out: BoolArray = np.broadcast_to(up, (len(jobs), snap.n_pools))
    return out


def resources_fit(snap: NetworkSnapshot, jobs: JobBatch) -> BoolArray:
    """The pool can ever hold the job: each node's request fits one node of the pool, the pool runs the job's
    kind (speed > 0), and the gang's ``nodes`` fit in the pool's nodes, or, when the job allows spreading
    (``spread_ok``), in the nodes of all such pools of the pool's center together."""
    shape_ok = np.isfinite(node_share(jobs, snap)) & (snap.speed[:, jobs.kind].T > 0)
    nodes = jobs.nodes[:, None]
    in_pool = shape_ok & (nodes <= snap.nodes_total[None, :])
    # nodes of shape-fitting pools summed per center, seen from each pool: (J, C) -> (J, P)
    per_center = np.zeros((len(jobs), snap.n_centers), dtype=np.int64)
    np.add.at(per_center.T, snap.pool_center, (shape_ok * snap.nodes_total[None, :]).T)
    spread = shape_ok & jobs.spread_ok[:, None] & (nodes <= per_center[:, snap.pool_center])
    out: BoolArray = in_pool | spread
    return out


def accelerator_match(snap: NetworkSnapshot, jobs: JobBatch) -> BoolArray:
    """The pool has the requested accelerator: '' = any; a class (cpu/gpu/npu/dcu) = the pool's class; else
    the exact model name (case-insensitive)."""
    acc = jobs.accelerator[:, None]
    is_class = np.isin(jobs.accelerator, list(ACCELERATOR_CLASSES))[:, None]
    by_class = snap.accelerator_class[None, :] == acc
    by_model = snap.accelerator[None, :] == acc
    out: BoolArray = (acc == "") | np.where(is_class, by_class, by_model)
    return out


#: What a job may need of a pool's back-end (names of ``huanghe.backends.protocol.Capability``): the
#: capabilities a back-end checks when it is handed a job (it refuses a job that needs one it lacks).
BACKEND_NEEDS: tuple[str, ...] = ("gpus", "multi_node")


def backend_needs(jobs: JobBatch) -> BoolArray:
    """(J, N) which of :data:`BACKEND_NEEDS` each job needs: ``gpus`` when it asks for GPUs, ``multi_node``
    when it asks for more than one node."""
    out: BoolArray = np.stack([jobs.gpus > 0, jobs.nodes > 1], axis=1).reshape(len(jobs), len(BACKEND_NEEDS))
    return out


def backend_capable(snap: NetworkSnapshot, jobs: JobBatch) -> BoolArray:
    """The pool's back-end can run the job: it has every capability of :data:`BACKEND_NEEDS` the job needs
    (from the snapshot's declared capabilities; a back-end the snapshot knows nothing about passes)."""
    lacks = snap.backend_lacks(BACKEND_NEEDS)  # (P, N)
    needs = backend_needs(jobs)  # (J, N)
    out: BoolArray = ~(needs.astype(np.int64) @ lacks.T.astype(np.int64)).astype(np.bool_)
    return out


def data_class_allowed(snap: NetworkSnapshot, jobs: JobBatch) -> BoolArray:
    """The job's data class may be used in the pool's center (``JobBatch.allowed_centers``)."""
    out: BoolArray = jobs.allowed_centers[:, snap.pool_center]
    return out


def latency_slo(snap: NetworkSnapshot, jobs: JobBatch) -> BoolArray:
    """One-way latency from the user's city to the pool's center is within the job's SLO (jobs without an
    SLO or without a user city pass)."""
    checked = ~np.isnan(jobs.latency_slo_ms) & (jobs.user_city >= 0)
    lat = snap.city_latency_ms[np.maximum(jobs.user_city, 0)][:, snap.pool_center]
    out: BoolArray = ~checked[:, None] | (lat <= jobs.latency_slo_ms[:, None])
    return out


def job_price_cny_per_hour(snap: NetworkSnapshot, jobs: JobBatch) -> npt.NDArray[np.float64]:
    """(J, P) what the whole job costs per hour in each pool: price per node-hour × nodes × node share."""
    share = np.minimum(node_share(jobs, snap), 1.0)
    out: npt.NDArray[np.float64] = snap.price_cny_per_node_hour[None, :] * jobs.nodes[:, None] * share
    return out


def price_cap(snap: NetworkSnapshot, jobs: JobBatch) -> BoolArray:
    """The job's price per hour in the pool is at most its ``max_price_cny_per_hour``."""
    out: BoolArray = job_price_cny_per_hour(snap, jobs) <= jobs.max_price_cny_per_hour[:, None] + 1e-9
    return out


FilterFn = Callable[[NetworkSnapshot, JobBatch], BoolArray]

#: The filters in the order they are applied and reported.
FILTERS: tuple[tuple[Reason, FilterFn], ...] = (
    (Reason.OFFERING, offering_pool),
    (Reason.UNHEALTHY, healthy),
    (Reason.RESOURCES, resources_fit),
    (Reason.ACCELERATOR, accelerator_match),
    (Reason.BACKEND, backend_capable),
    (Reason.DATA_CLASS, data_class_allowed),
    (Reason.LATENCY, latency_slo),
    (Reason.PRICE, price_cap),
)


@dataclass(frozen=True, eq=False)
class FilterReport:
    """Result of all filters for a batch. ``passed[reason]`` is that filter's own (J, P) mask; ``feasible`` is
    their AND; ``first_fail`` holds the index into :data:`FILTERS` of the first failing filter, -1 if none;
    ``needs`` (J, N) what each job needs of a back-end (:func:`backend_needs`), for the explanation."""

    passed: dict[Reason, BoolArray]
    feasible: BoolArray
    first_fail: npt.NDArray[np.int8]
    needs: BoolArray | None = None

    def removed_by(self, job: int) -> dict[Reason, npt.NDArray[np.intp]]:
        """Pool indices removed from ``job``'s candidates, by the first filter that removed them."""
        row = self.first_fail[job]
        return {reason: np.flatnonzero(row == i) for i, (reason, _) in enumerate(FILTERS)}


def apply_filters(snap: NetworkSnapshot, jobs: JobBatch) -> FilterReport:
    """Run every filter of :data:`FILTERS` on every (job, pool) pair."""
    shape = (len(jobs), snap.n_pools)
    feasible = np.ones(shape, dtype=np.bool_)
    first_fail = np.full(shape, -1, dtype=np.int8)
    passed: dict[Reason, BoolArray] = {}
    for i, (reason, fn) in enumerate(FILTERS):
        ok = np.asarray(fn(snap, jobs), dtype=np.bool_)
        passed[reason] = ok
        first_fail[feasible & ~ok] = i
        feasible &= ok
    return FilterReport(passed=passed, feasible=feasible, first_fail=first_fail, needs=backend_needs(jobs))
