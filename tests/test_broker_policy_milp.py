"""Batch mode: the MILP of one cycle is at least its LP bound and equals brute force on a tiny instance."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from huanghe.broker.batch import JobBatch, node_share
from huanghe.broker.batch_milp import HuangheBatchPolicy, cycle_objective, solve_cycle
from huanghe.broker.policies import HUANGHE, CycleContext, Status, Weights, run_cycle
from tests.test_broker_policy_cycle import snap_at, with_free_nodes

NO_WAIT = CycleContext(weights=Weights(wait_for_better=False))


def tiny() -> tuple[object, JobBatch]:
    snap = with_free_nodes(snap_at(), {"jn-cpu": 2, "zb-cpu": 3, "qd-cpu": 1, "jn-a100": 1, "qd-910b": 0})
    recs = [
        {"job_id": "a", "kind": "cpu", "cpus": 64, "nodes": 2, "duration_s": 7200},
        {"job_id": "b", "kind": "cpu", "cpus": 32, "nodes": 1, "duration_s": 3600},
        {"job_id": "c", "kind": "cpu", "cpus": 64, "nodes": 1, "duration_s": 1800},
        {"job_id": "d", "kind": "gpu", "cpus": 8, "gpus": 8, "nodes": 1, "duration_s": 3600},
    ]
    return snap, JobBatch.from_records(snap, recs)


def brute_force(res: object) -> float:
    snap, jobs = res.snapshot, res.jobs  # type: ignore[attr-defined]
    scores = res.scores[res.class_of]  # type: ignore[attr-defined]
    share = node_share(jobs, snap)
    units = jobs.nodes[:, None] * np.minimum(share, 1.0)
    free = snap.nodes_free.astype(float)
    finite = scores[np.isfinite(scores)]
    penalty = 1.0 + float(finite.max())
    best = np.inf
    n, p = scores.shape
    for combo in itertools.product(range(-1, p), repeat=n):
        pool = np.array(combo)
        used = np.zeros(p)
        ok = True
        for j, q in enumerate(combo):
            if q < 0:
                continue
            if not np.isfinite(scores[j, q]):
                ok = False
                break
            used[q] += units[j, q]
        if ok and np.all(used <= free + 1e-9):
            best = min(best, cycle_objective(scores, pool, penalty, np.ones(n, bool)))
    return float(best)


def test_milp_equals_brute_force_and_bounds_hold() -> None:
    snap, jobs = tiny()
    res = run_cycle(HUANGHE, snap, jobs, NO_WAIT)  # type: ignore[arg-type]
    sol = solve_cycle(res)
    assert sol.status == "optimal"
    assert sol.objective == pytest.approx(brute_force(res), rel=1e-9, abs=1e-9)
    assert sol.lp_bound <= sol.objective + 1e-9
    assert sol.objective <= sol.greedy_objective + 1e-9  # the MILP is never worse than the greedy
    assert sol.gap >= 0.0


def test_batch_policy_places_what_fits_and_keeps_holds() -> None:
    snap, jobs = tiny()
    res = HuangheBatchPolicy(Weights(wait_for_better=False)).cycle(snap, jobs)  # type: ignore[arg-type]
    placed = [j for j, s in enumerate(res.status) if s == Status.PLACED]
    used: dict[int, float] = {}
    share = node_share(jobs, snap)  # type: ignore[arg-type]
    for j in placed:
        p = int(res.pool[j])
        used[p] = used.get(p, 0.0) + jobs.nodes[j] * min(share[j, p], 1.0)
    for p, u in used.items():
        assert u <= snap.nodes_free[p] + 1e-9  # type: ignore[attr-defined]
    assert len(placed) >= 3
    assert "MILP" in res.explanation(placed[0]).note


def test_solver_chatter_on_fd1_is_silenced(capfd: pytest.CaptureFixture[str]) -> None:
    import os

    from huanghe.broker.batch_milp import _fd1_silenced

    with _fd1_silenced():
        os.write(1, b"HighsMipSolverData chatter\n")
    os.write(1, b"after\n")
    out = capfd.readouterr().out
    assert "chatter" not in out and "after" in out
