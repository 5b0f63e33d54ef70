"""Cost of transfer estimates from several sources (issue #13, deliverable 7), in one run.

Times, on the jobs of bench/broker_core.py (one input source each, no ``data_sources``):

* ``single (reference)``: the single-source formula as it was before sources existed (kept here verbatim);
* ``transfer_s``: the current function (the single-source path: ``data_sources`` has no column);
* ``filters+estimates``: bench/broker_core.py's cycle with the current code and with the reference formula;

and, for the same jobs reading from 3 sources each, ``transfer_s (3 sources)`` and its filters+estimates.
Minimum of ``--repeat`` runs, interleaved. Usage::

    .venv/bin/python bench/bench_data_sources.py --network shandong --jobs 5000 --repeat 7
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

import numpy as np
import numpy.typing as npt
from broker_core import make_records

from huanghe.broker import estimates
from huanghe.broker.batch import JobBatch
from huanghe.broker.estimates import estimate, transfer_s
from huanghe.broker.filters import apply_filters
from huanghe.broker.snapshot import NetworkSnapshot
from huanghe.catalog.topology import load_topology
from huanghe.core.clock import FakeClock


def single_reference(snap: NetworkSnapshot, jobs: JobBatch) -> npt.NDArray[np.float64]:
    """The single-source formula before ``data_sources`` (for the before/after comparison)."""
    src = np.maximum(jobs.data_center, 0)
    dst = snap.pool_center
    bw = snap.bandwidth_gbps[src][:, dst]
    lat = snap.latency_ms[src][:, dst]
    remote = (
        (jobs.data_center[:, None] >= 0) & (jobs.data_gb[:, None] > 0) & (jobs.data_center[:, None] != dst)
    )
    with np.errstate(divide="ignore"):
        t = jobs.data_gb[:, None] * 8.0 / bw + lat / 1000.0
    out: npt.NDArray[np.float64] = np.where(remote, t, 0.0)
    return out


def cycle(snap: NetworkSnapshot, jobs: JobBatch, *, before: bool = False) -> None:
    """bench/broker_core.py's cycle; ``before``: with the reference single-source ``transfer_s``."""
    if before:
        estimates.transfer_s = single_reference
    try:
        rep = apply_filters(snap, jobs)
        est = estimate(snap, jobs)
        np.where(rep.feasible, est.cost_cny, np.inf).argmin(axis=1)
    finally:
        estimates.transfer_s = transfer_s


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--network", default="shandong")
    ap.add_argument("--jobs", type=int, default=5000)
    ap.add_argument("--repeat", type=int, default=7)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    snap = NetworkSnapshot.from_topology(load_topology(args.network), FakeClock(0.0))
    recs = make_records(snap, args.jobs, args.seed)
    one = JobBatch.from_records(snap, recs)
    rng = np.random.default_rng(args.seed)
    for r in recs:
        r["data_sources"] = [snap.center_ids[int(i)] for i in rng.choice(snap.n_centers, 3, replace=False)]
    three = JobBatch.from_records(snap, recs)
    assert np.array_equal(transfer_s(snap, one), single_reference(snap, one))
    cases: dict[str, Callable[[], object]] = {
        "transfer_s single (reference, before)": lambda: single_reference(snap, one),
        "transfer_s single (current)": lambda: transfer_s(snap, one),
        "transfer_s 3 sources": lambda: transfer_s(snap, three),
        "filters+estimates single (before)": lambda: cycle(snap, one, before=True),
        "filters+estimates single (current)": lambda: cycle(snap, one),
        "filters+estimates 3 sources": lambda: cycle(snap, three),
    }
    best = dict.fromkeys(cases, float("inf"))
    for _ in range(args.repeat):
        for name, fn in cases.items():
            t0 = time.perf_counter()
            fn()
            best[name] = min(best[name], time.perf_counter() - t0)
    print(f"network {args.network}: {snap.n_pools} pools, {snap.n_centers} centers, {args.jobs} jobs, "
          f"min of {args.repeat}")  # fmt: skip
    for name, s in best.items():
        print(f"{name:40s} {s * 1000:9.1f} ms")
    ref = best["transfer_s single (reference, before)"]
    print(f"single-source transfer_s, current / before: {best['transfer_s single (current)'] / ref:.3f}")
    ratio = best["filters+estimates single (current)"] / best["filters+estimates single (before)"]
    print(f"filters+estimates (bench/broker_core.py's cycle), current / before: {ratio:.3f}")


if __name__ == "__main__":
    main()
