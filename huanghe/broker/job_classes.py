"""Jobs with identical requests form one **class** (filters, estimates and scores are computed once per
class); subsets of a batch and of a filter report."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from huanghe.broker.batch import JobBatch
from huanghe.broker.filters import FILTERS, FilterReport, Reason

IntArray = npt.NDArray[np.int64]


def job_classes(jobs: JobBatch) -> tuple[IntArray, IntArray]:
    """Group identical requests: ``(representative row of each class (K,), class of each job (J,))``.

    Rows are hashed (64-bit mix of the key columns' bit patterns) and grouped by hash; the grouping is then
    verified column by column and falls back to an exact ``np.unique(axis=0)`` on a collision.
    """
    n = len(jobs)
    if n == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    _, acc_code = np.unique(jobs.accelerator, return_inverse=True)
    cols = [
        jobs.kind.astype(np.float64),
        jobs.cpus,
        jobs.gpus,
        jobs.mem_gb,
        jobs.nodes.astype(np.float64),
        jobs.duration_s,
        jobs.data_gb,
        jobs.data_center.astype(np.float64),
        jobs.user_city.astype(np.float64),
        np.nan_to_num(jobs.latency_slo_ms, nan=-1.0),
        np.nan_to_num(jobs.max_price_cny_per_hour, posinf=-1.0),
        jobs.spread_ok.astype(np.float64),
        acc_code.astype(np.float64).reshape(-1),
        np.nan_to_num(jobs.submit_s + jobs.deadline_s, nan=-1.0),  # absolute deadline (estimates check it)
    ]
    if (jobs.target_pool >= 0).any():  # jobs pinned to different pools (offerings) differ
        cols.append(jobs.target_pool.astype(np.float64))
    if jobs.data_sources.shape[1]:  # jobs reading the same data from different copies differ
        cols.extend(jobs.data_sources[:, i].astype(np.float64) for i in range(jobs.data_sources.shape[1]))
    allowed = jobs.allowed_centers
    if not _all_true(allowed):
        packed = np.packbits(allowed, axis=1)
        cols.extend(packed[:, i].astype(np.float64) for i in range(packed.shape[1]))
    # the key columns' bit patterns, column by column (no J × columns matrix unless a hash collides)
    bits = [np.ascontiguousarray(c, dtype=np.float64).view(np.uint64) for c in cols]
    mult = np.asarray(np.random.default_rng(12345).integers(1, 2**63, size=len(bits)), dtype=np.uint64)
    mult = mult | np.uint64(1)
    with np.errstate(over="ignore"):
        h = np.zeros(n, dtype=np.uint64)
        for i, b in enumerate(bits):
            h = (h ^ (b * mult[i])) * np.uint64(0x9E3779B97F4A7C15)
            h ^= h >> np.uint64(29)
    _, rep, inv = np.unique(h, return_index=True, return_inverse=True)
    inv = inv.reshape(-1)
    same = rep[inv]
    if not all(np.array_equal(b, b[same]) for b in bits):  # hash collision: exact grouping
        key = np.stack(bits, axis=1)
        _, rep, inv = np.unique(key, axis=0, return_index=True, return_inverse=True)
        inv = inv.reshape(-1)
    return rep.astype(np.int64), inv.astype(np.int64)


def take_jobs(jobs: JobBatch, idx: npt.ArrayLike) -> JobBatch:
    """The jobs at positions ``idx``, as a new batch."""
    ix = np.asarray(idx, dtype=np.int64)
    values: dict[str, Any] = {
        f.name: (
            tuple(jobs.job_ids[i] for i in ix.tolist())
            if f.name == "job_ids"
            else _take_rows(np.asarray(getattr(jobs, f.name)), ix)
        )
        for f in dataclasses.fields(jobs)
    }
    return JobBatch(**values)


def _all_true(a: npt.NDArray[np.bool_]) -> bool:
    """``a.all()``, reading one row of a zero-stride (broadcast) matrix instead of all J of them."""
    if a.ndim == 2 and a.shape[0] > 0 and a.strides[0] == 0:
        return bool(a[0].all())
    return bool(a.all())


def _take_rows(a: npt.NDArray[Any], ix: IntArray) -> npt.NDArray[Any]:
    """``a[ix]``; a zero-stride (broadcast) matrix stays a view of its one row instead of being copied."""
    if a.ndim == 2 and a.shape[0] > 0 and a.strides[0] == 0:
        return np.broadcast_to(a[0], (len(ix), a.shape[1]))
    return a[ix]


def subset_report(report: FilterReport, reasons: Sequence[Reason]) -> FilterReport:
    """The filter report as if only ``reasons`` had been applied (first-fail indices stay those of FILTERS)."""
    keep = set(reasons)
    feasible = np.ones_like(report.feasible)
    first_fail = np.full(report.feasible.shape, -1, dtype=np.int8)
    passed = {}
    for i, (reason, _) in enumerate(FILTERS):
        if reason not in keep:
            continue
        ok = report.passed[reason]
        passed[reason] = ok
        first_fail[feasible & ~ok] = i
        feasible = feasible & ok
    return FilterReport(passed=passed, feasible=feasible, first_fail=first_fail, needs=report.needs)
