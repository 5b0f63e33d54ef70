"""The cycle's dense phases computed by row chunks (:mod:`huanghe.broker.row_chunks`, issue #16's national-scale
cycle) give bit for bit the arrays of the whole-array calls (filters, estimates, scores), and a cycle decides
the same whatever the chunk size, on random instances with residency rules, input copies, deadlines (holds),
queued pools and release profiles, for every cycle policy. The carbon signal's faster lookups equal the former
formula bit for bit."""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest

from huanghe.broker import row_chunks
from huanghe.broker.batch import JobBatch
from huanghe.broker.carbon import HOURS_PER_YEAR, SECONDS_PER_HOUR, CarbonSignal
from huanghe.broker.cycle import EPS, _Demand, lexsort
from huanghe.broker.estimates import estimate
from huanghe.broker.filters import apply_filters
from huanghe.broker.job_classes import job_classes, subset_report, take_jobs
from huanghe.broker.policies import (
    CHEAPEST,
    FIRST_ADMIT,
    HUANGHE,
    POLICY_FILTERS,
    SPREAD,
    CycleContext,
    Status,
    Weights,
    policy_scores,
    run_cycle,
)
from huanghe.broker.snapshot import NetworkSnapshot
from huanghe.sim.broker_scale import busy_snapshot, network_with_pools, synthetic_queue

POLICIES = (HUANGHE, FIRST_ADMIT, CHEAPEST, SPREAD)


def same(a: Any, b: Any) -> bool:
    """Bit equality of two arrays (NaN payloads, signed zeros and dtypes included)."""
    x, y = np.asarray(a), np.asarray(b)
    return x.dtype == y.dtype and x.shape == y.shape and x.tobytes() == y.tobytes()


def instance(seed: int, jobs: int = 4000) -> tuple[NetworkSnapshot, JobBatch, CycleContext]:
    """A random busy network (some pools with a queue) and queue: a fifth of the jobs with deadlines, some
    with residency rules, some reading one of several copies, some with a price cap; release profiles."""
    rng = np.random.default_rng(seed)
    snap = busy_snapshot(network_with_pools(int(rng.integers(40, 160)), seed), seed)
    queued = (rng.random(snap.n_pools) < 0.3).astype(np.int64)
    snap = snap.with_queue(queued, np.where(queued > 0, rng.uniform(0, 7200, snap.n_pools), 0.0))
    snap = dataclasses.replace(snap, t_s=float(rng.uniform(0, 2e7)))
    batch, ctx = synthetic_queue(snap, jobs, seed + 1)
    n = len(batch)
    deadline = np.where(rng.random(n) < 0.2, rng.uniform(3600, 4 * 86400, n), np.nan)
    allowed = np.ones((n, snap.n_centers), dtype=np.bool_)
    ruled = rng.random(n) < 0.1
    allowed[ruled] = rng.random((int(ruled.sum()), snap.n_centers)) < 0.5
    sources = np.full((n, 3), -1, dtype=np.int64)
    copies = (rng.random(n) < 0.1) & (batch.data_gb > 0)
    sources[copies] = rng.integers(0, snap.n_centers, (int(copies.sum()), 3))
    cap = np.where(rng.random(n) < 0.1, rng.uniform(1, 200, n), np.inf)
    batch = dataclasses.replace(
        batch,
        submit_s=batch.submit_s + snap.t_s,
        deadline_s=deadline,
        allowed_centers=allowed,
        data_sources=sources,
        max_price_cny_per_hour=cap,
    )
    releases = []
    for _ in range(snap.n_pools):
        k = int(rng.integers(0, 4))
        releases.append((np.sort(snap.t_s + rng.uniform(0, 20000, k)), rng.uniform(0.5, 8, k)))
    weights = Weights(wait_from_releases=bool(seed % 2))
    ctx = dataclasses.replace(ctx, releases=releases, weights=weights, seed=seed)
    return snap, batch, ctx


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("chunk", [1, 300, None])
def test_phases_equal_the_whole_array_calls(seed: int, chunk: int | None) -> None:
    snap, batch, ctx = instance(seed)
    reps = take_jobs(batch, job_classes(batch)[0])
    for policy in POLICIES:
        ref = subset_report(apply_filters(snap, reps), POLICY_FILTERS[policy])
        rep = row_chunks.filters_by_rows(snap, reps, POLICY_FILTERS[policy], chunk)
        assert rep.passed.keys() == ref.passed.keys()
        assert all(same(rep.passed[r], ref.passed[r]) for r in ref.passed)
        assert same(rep.feasible, ref.feasible) and same(rep.first_fail, ref.first_fail)
        assert same(rep.needs, ref.needs)
    est_ref = estimate(snap, reps)
    est = row_chunks.estimate_by_rows(snap, reps, chunk)
    k, p = len(reps) // 2, snap.n_pools - 1
    assert est.terms(k, p) == est_ref.terms(k, p)  # one class's row, before the lazy fields exist
    for policy in POLICIES:
        feasible = subset_report(apply_filters(snap, reps), POLICY_FILTERS[policy]).feasible
        total_ref, terms_ref = policy_scores(policy, snap, reps, feasible, est_ref, ctx.weights)
        total, terms = row_chunks.scores_by_rows(policy, snap, reps, feasible, est, ctx.weights, chunk)
        assert same(total, total_ref) and list(terms) == list(terms_ref)
        for row in (0, k, len(reps) - 1):
            assert all(same(v, terms_ref[name][row]) for name, v in terms.row(row).items())
        assert all(same(terms[name], terms_ref[name]) for name in terms_ref)
    for f in dataclasses.fields(est_ref):
        if f.name != "inputs":
            assert same(getattr(est, f.name), getattr(est_ref, f.name)), f.name


@pytest.mark.parametrize("seed", [4, 6])
@pytest.mark.parametrize("policy", POLICIES)
def test_cycle_decides_the_same_whatever_the_chunks(
    seed: int, policy: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    snap, batch, ctx = instance(seed, jobs=6000)
    results = []
    for chunk in (10**12, 1, 5000, row_chunks.CHUNK_ELEMENTS):  # one chunk (the whole-array calls) first
        monkeypatch.setattr(row_chunks, "CHUNK_ELEMENTS", chunk)
        results.append(run_cycle(policy, snap, batch, ctx))
    ref = results[0]
    counts = ref.counts()
    assert counts[Status.PLACED.value] > 20
    if policy == HUANGHE:
        assert counts[Status.HELD.value] + counts[Status.WAITING.value] > 0
    for r in results[1:]:
        assert r.status == ref.status and same(r.pool, ref.pool) and same(r.order, ref.order)
        assert same(r.hold_until_s, ref.hold_until_s) and r.notes == ref.notes
        assert same(r.scores, ref.scores) and same(r.report.feasible, ref.report.feasible)
        for j in [*np.flatnonzero(ref.pool >= 0)[:5].tolist(), 0, len(batch) - 1]:
            assert r.explanation(j) == ref.explanation(j)


def test_demand_equals_the_former_arrays() -> None:
    snap, batch, ctx = instance(8, jobs=2000)
    res = run_cycle(HUANGHE, snap, batch, ctx)
    reps = take_jobs(batch, job_classes(batch)[0])
    share, feasible = res.estimates.share, res.report.feasible
    demand = np.where(feasible, reps.nodes[:, None] * np.minimum(share, 1.0), np.inf)
    whole = np.where((reps.nodes[:, None] > 1) | (share >= 1.0 - EPS), reps.nodes[:, None], 0)
    need = _Demand(reps, feasible, share)
    for k in range(len(reps)):
        assert same(need.units_row(k), demand[k]) and same(need.whole_row(k), whole[k])
        for p in range(0, snap.n_pools, 7):
            assert need.units(k, p) == demand[k, p] or np.isnan(demand[k, p])
            assert need.whole(k, p) == whole[k, p]


def former_mean_intensity(
    sig: CarbonSignal, c: npt.ArrayLike, start_s: npt.ArrayLike, end_s: npt.ArrayLike
) -> npt.NDArray[np.float64]:
    """The carbon signal's mean intensity as it was before the flat lookups (commit a746ad0)."""
    hourly = sig.hourly_kg_per_kwh
    cum = np.zeros((hourly.shape[0], HOURS_PER_YEAR + 1))
    np.cumsum(hourly, axis=1, out=cum[:, 1:])
    ci = np.asarray(c, dtype=np.intp)

    def integral(t: npt.ArrayLike) -> npt.NDArray[np.float64]:
        hours = (np.asarray(t, dtype=np.float64) - sig.origin_s) / SECONDS_PER_HOUR
        whole = np.floor(hours)
        frac = hours - whole
        years, h = np.divmod(whole.astype(np.int64), HOURS_PER_YEAR)
        out: npt.NDArray[np.float64] = years * cum[ci, HOURS_PER_YEAR] + cum[ci, h] + frac * hourly[ci, h]
        return out

    start, end = np.asarray(start_s, dtype=np.float64), np.asarray(end_s, dtype=np.float64)
    span_h = (end - start) / SECONDS_PER_HOUR
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = (integral(end) - integral(start)) / span_h
    since = start - sig.origin_s
    hour = np.floor(since / SECONDS_PER_HOUR).astype(np.int64) % HOURS_PER_YEAR
    out: npt.NDArray[np.float64] = np.where(span_h > 0, mean, hourly[ci, hour])
    return out


@pytest.mark.parametrize("origin", [0.0, 1_672_502_400.0])
def test_carbon_mean_intensity_equals_the_former_formula(origin: float) -> None:
    rng = np.random.default_rng(3)
    sig = CarbonSignal(rng.uniform(-0.1, 1.0, (7, HOURS_PER_YEAR)), "test", origin)
    c = rng.integers(0, 7, (40, 1))
    start = origin + rng.uniform(-3e7, 6e7, (40, 50))
    end = start + np.where(rng.random((40, 50)) < 0.2, 0.0, rng.exponential(20000, (40, 50)))
    end[rng.random((40, 50)) < 0.05] = np.nan
    assert same(sig.mean_intensity_kg_per_kwh(c, start, end), former_mean_intensity(sig, c, start, end))
    pools = np.broadcast_to(
        rng.integers(0, 7, 50)[None, :], (40, 50)
    )  # the pools' centers, as estimate passes them
    assert same(
        sig.mean_intensity_kg_per_kwh(pools, start, end), former_mean_intensity(sig, pools, start, end)
    )
    # scalars and 1-D arrays, as greener_start_s calls it
    assert same(
        sig.mean_intensity_kg_per_kwh(3, origin + 5.0, origin + 5.0),
        former_mean_intensity(sig, 3, origin + 5.0, origin + 5.0),
    )
    starts = origin + np.arange(0, 48) * 3600.0
    assert same(
        sig.mean_intensity_kg_per_kwh(np.full(48, 2), starts, starts + 7200.0),
        former_mean_intensity(sig, np.full(48, 2), starts, starts + 7200.0),
    )


def test_queue_lexsort_equals_numpy_lexsort() -> None:
    """The queue order's two-sort fast path (``cycle.lexsort``) equals ``np.lexsort`` with ties, NaN, signed
    zeros, infinities, small and large integers."""
    rng = np.random.default_rng(5)
    for _ in range(3000):
        n = int(rng.integers(0, 40))

        def key(kind: int, n: int) -> npt.NDArray[np.generic]:
            if kind == 0:
                return rng.integers(-3, 3, n)
            if kind == 1:
                return rng.integers(-(10**12), 10**12, n)
            x = rng.uniform(-1, 1, n) if kind == 2 else np.round(rng.uniform(-1, 1, n), 1)
            x[rng.random(n) < 0.15] = np.nan
            x[rng.random(n) < 0.1] = -0.0
            x[rng.random(n) < 0.1] = 0.0
            x[rng.random(n) < 0.05] = np.inf
            return x

        keys = [np.arange(n), *(key(int(rng.integers(0, 4)), n) for _ in range(int(rng.integers(1, 4))))]
        assert same(lexsort(keys), np.lexsort(tuple(keys)).astype(np.int64))
