"""The dense class × pool phases of a cycle (filters, estimates, scores), computed **by row chunks**.

Every filter, estimate and score of a (class, pool) pair depends on that class's row only (the scores' "best
feasible pool" is a minimum over the row), so a (K, P) phase can be computed on a few rows at a time and the
results written into the (K, P) outputs: the values are bit for bit those of one call on all rows (the same
formulas on the same numbers), but the temporaries of a chunk (``CHUNK_ELEMENTS`` pairs, ≈ 2 MB each) stay in
the cache and are reused by the allocator, where a whole-array temporary (90 MB at 1,120 × 10,000) is a fresh
``mmap`` whose pages the kernel zeroes on first touch: at national scale the page faults of some hundred such
temporaries were half of the cycle's CPU time (docs/scale.md). ``tests/test_broker_row_chunks.py`` checks the
chunked phases against single calls (bit equality of every array) and whole cycles against the unchunked path.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, TypeVar

import numpy as np
import numpy.typing as npt

from huanghe.broker.batch import JobBatch
from huanghe.broker.cycle_context import Weights
from huanghe.broker.estimates import Estimates, estimate
from huanghe.broker.filters import FILTERS, FilterReport, Reason, apply_filters
from huanghe.broker.job_classes import subset_report
from huanghe.broker.scoring import policy_scores
from huanghe.broker.snapshot import NetworkSnapshot

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]
T = TypeVar("T")

#: (class, pool) pairs per chunk: 2**18 float64 = 2 MiB per temporary (fits the shared L3 cache)
CHUNK_ELEMENTS = 2**18


def row_slices(n_rows: int, n_cols: int, chunk_elements: int | None = None) -> list[slice]:
    """Consecutive row ranges of at most ``chunk_elements`` (default :data:`CHUNK_ELEMENTS`) pairs each
    (at least one row per range; one range for an empty matrix)."""
    per = max(1, (CHUNK_ELEMENTS if chunk_elements is None else chunk_elements) // max(n_cols, 1))
    if n_rows <= per:
        return [slice(0, n_rows)]
    return [slice(a, min(a + per, n_rows)) for a in range(0, n_rows, per)]


def batch_rows(jobs: JobBatch, rows: slice) -> JobBatch:
    """Rows ``rows`` of a batch as a new batch of read-only views (no copy)."""
    values: dict[str, Any] = {f.name: getattr(jobs, f.name)[rows] for f in dataclasses.fields(jobs)}
    return JobBatch(**values)


def estimate_rows(est: Estimates, rows: slice) -> Estimates:
    """Rows ``rows`` of estimates (views; ``inputs`` dropped, except for :class:`LazyEstimates`, whose fields not
    computed yet stay lazy: computed for these rows only if read)."""
    if isinstance(est, LazyEstimates) and not est.complete():
        snap, jobs = est.inputs_()
        return _lazy(
            {name: arr[rows] for name, arr in vars(est).items() if name != "inputs"},
            (snap, batch_rows(jobs, rows)),
        )
    values: dict[str, Any] = {
        f.name: getattr(est, f.name)[rows] for f in dataclasses.fields(est) if f.name != "inputs"
    }
    return Estimates(**values)


def _fill(
    out: dict[str, np.ndarray[Any, Any]], shape: tuple[int, int], name: str, part: Any, rows: slice
) -> None:
    """Write one chunk's array into the (K, P) output ``out[name]`` (allocated with the chunk's dtype)."""
    arr = np.asarray(part)
    dst = out.get(name)
    if dst is None:
        dst = out[name] = np.empty(shape, dtype=arr.dtype)
    dst[rows] = arr


def _by_rows(
    n_rows: int, n_cols: int, fn: Callable[[slice], T], chunk_elements: int | None
) -> list[tuple[slice, T]]:
    return [(rows, fn(rows)) for rows in row_slices(n_rows, n_cols, chunk_elements)]


def _subset(report: FilterReport, reasons: Sequence[Reason]) -> FilterReport:
    """``subset_report(report, reasons)``; the report itself when ``reasons`` are all of :data:`FILTERS` (the
    subset would recompute the same masks)."""
    if set(reasons) == {r for r, _ in FILTERS}:
        return report
    return subset_report(report, reasons)


def filters_by_rows(
    snap: NetworkSnapshot, jobs: JobBatch, reasons: Sequence[Reason], chunk_elements: int | None = None
) -> FilterReport:
    """``subset_report(apply_filters(snap, jobs), reasons)``, computed by row chunks."""
    parts = _by_rows(
        len(jobs),
        snap.n_pools,
        lambda rows: _subset(apply_filters(snap, batch_rows(jobs, rows)), reasons),
        chunk_elements,
    )
    if len(parts) == 1:
        return parts[0][1]
    shape = (len(jobs), snap.n_pools)
    out: dict[str, np.ndarray[Any, Any]] = {}
    for rows, rep in parts:
        _fill(out, shape, "feasible", rep.feasible, rows)
        _fill(out, shape, "first_fail", rep.first_fail, rows)
        for reason, ok in rep.passed.items():
            _fill(out, shape, reason.value, ok, rows)
    needs = [rep.needs for _, rep in parts]
    first = parts[0][1]
    return FilterReport(
        passed={reason: out[reason.value] for reason in first.passed},
        feasible=out["feasible"],
        first_fail=out["first_fail"],
        needs=None if any(n is None for n in needs) else np.concatenate([n for n in needs if n is not None]),
    )


#: estimates a cycle reads only in explanations: not written as (K, P) arrays unless asked for
LAZY_ESTIMATES = ("wait_s", "end_s", "energy_it_kwh", "energy_facility_kwh")


class LazyEstimates(Estimates):
    """:class:`Estimates` whose :data:`LAZY_ESTIMATES` fields are computed (by row chunks, then kept) on first
    access; :meth:`terms` of one pair computes only that class's row. Every value equals ``estimate``'s."""

    def __getattr__(self, name: str) -> Any:  # called only for a field not computed yet
        if name not in LAZY_ESTIMATES:
            raise AttributeError(name)
        snap, jobs = self.inputs_()
        shape = (len(jobs), snap.n_pools)
        out: dict[str, np.ndarray[Any, Any]] = {}
        for rows in row_slices(*shape):
            est = estimate(snap, batch_rows(jobs, rows))
            for field_name in LAZY_ESTIMATES:
                _fill(out, shape, field_name, getattr(est, field_name), rows)
        for field_name, arr in out.items():
            object.__setattr__(self, field_name, arr)
        return out[name]

    def inputs_(self) -> tuple[NetworkSnapshot, JobBatch]:
        """The snapshot and batch (always set)."""
        assert self.inputs is not None  # set by _lazy
        return self.inputs

    def complete(self) -> bool:
        """Whether every field is computed."""
        return all(name in vars(self) for name in LAZY_ESTIMATES)

    def terms(self, job: int, pool: int) -> dict[str, float]:
        if self.complete():
            return super().terms(job, pool)
        snap, jobs = self.inputs_()
        return estimate(snap, batch_rows(jobs, slice(job, job + 1))).terms(0, pool)


def estimate_by_rows(snap: NetworkSnapshot, jobs: JobBatch, chunk_elements: int | None = None) -> Estimates:
    """``estimate(snap, jobs)`` computed by row chunks, as :class:`LazyEstimates` (the fields of
    :data:`LAZY_ESTIMATES` are computed when first read)."""
    shape = (len(jobs), snap.n_pools)
    out: dict[str, np.ndarray[Any, Any]] = {}
    for rows in row_slices(*shape, chunk_elements):
        est = estimate(snap, batch_rows(jobs, rows))
        for f in dataclasses.fields(est):
            if f.name != "inputs" and f.name not in LAZY_ESTIMATES:
                _fill(out, shape, f.name, getattr(est, f.name), rows)
    if not out:  # no rows
        empty = estimate(snap, jobs)
        out = {
            f.name: getattr(empty, f.name) for f in dataclasses.fields(empty) if f.name not in LAZY_ESTIMATES
        }
        out.pop("inputs")
    return _lazy(out, (snap, jobs))


def _lazy(fields: dict[str, Any], inputs: tuple[NetworkSnapshot, JobBatch]) -> LazyEstimates:
    """A :class:`LazyEstimates` holding ``fields`` (the dataclass's ``__init__`` wants them all)."""
    lazy = object.__new__(LazyEstimates)
    for name, arr in fields.items():
        object.__setattr__(lazy, name, arr)
    object.__setattr__(lazy, "inputs", inputs)
    return lazy


class RowTerms(Mapping[str, FloatArray]):
    """The named (K, P) score terms of a cycle, kept as the recipe that computes them: :meth:`row` gives one
    class's terms (what an explanation reads), ``terms[name]`` the whole (K, P) array (computed by row chunks
    on first use, then kept). The cycle itself needs only the total, so the terms' (K, P) arrays (eight of
    90 MB at national scale) are not written unless someone asks."""

    def __init__(
        self,
        names: Sequence[str],
        shape: tuple[int, int],
        compute: Callable[[slice], dict[str, FloatArray]],
        fixed: dict[str, FloatArray] | None = None,
    ) -> None:
        self._names = tuple(names)
        self._shape = shape
        self._compute = compute
        self._full: dict[str, FloatArray] = dict(fixed or {})

    def row(self, k: int) -> dict[str, FloatArray]:
        """Class ``k``'s terms, (P,) each."""
        if all(name in self._full for name in self._names):
            return {name: self._full[name][k] for name in self._names}
        part = self._compute(slice(k, k + 1))
        return {name: self._full[name][k] if name in self._full else part[name][0] for name in self._names}

    def __getitem__(self, name: str) -> FloatArray:
        if name not in self._names:
            raise KeyError(name)
        if name not in self._full:
            out: dict[str, np.ndarray[Any, Any]] = {}
            for rows in row_slices(*self._shape):
                for n, t in self._compute(rows).items():
                    if n not in self._full:
                        _fill(out, self._shape, n, t, rows)
            self._full.update(out)
        return self._full[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._names)

    def __len__(self) -> int:
        return len(self._names)


def term_row(terms: Mapping[str, FloatArray], k: int) -> dict[str, FloatArray]:
    """Row ``k`` of every term (:meth:`RowTerms.row` for lazy terms)."""
    if isinstance(terms, RowTerms):
        return terms.row(k)
    return {name: v[k] for name, v in terms.items()}


def scores_by_rows(
    policy: str,
    snap: NetworkSnapshot,
    jobs: JobBatch,
    feasible: BoolArray,
    est: Estimates,
    weights: Weights,
    chunk_elements: int | None = None,
) -> tuple[FloatArray, RowTerms]:
    """``policy_scores(policy, snap, jobs, feasible, est, weights)`` computed by row chunks: the total as a
    (K, P) array and the terms as :class:`RowTerms` (a term that is the total itself is that same array)."""

    def scores(rows: slice) -> tuple[FloatArray, dict[str, FloatArray]]:
        return policy_scores(
            policy, snap, batch_rows(jobs, rows), feasible[rows], estimate_rows(est, rows), weights
        )

    shape = (len(jobs), snap.n_pools)
    total = np.empty(shape)
    names: list[str] = []
    aliases: set[str] = set()
    for rows in row_slices(*shape, chunk_elements):
        part, terms = scores(rows)
        total[rows] = part
        if not names:
            names = list(terms)
            aliases = {name for name, t in terms.items() if t is part}
    if not names:  # no rows: the terms' names from an empty call
        names = list(scores(slice(0, 0))[1])
    return total, RowTerms(names, shape, lambda rows: scores(rows)[1], {name: total for name in aliases})
