"""Batch mode of the ``huanghe`` policy: one cycle's assignment solved as a mixed-integer program (HiGHS through
``scipy.optimize.milp``), with its LP relaxation (``linprog``) as a lower bound.

Cycle objective (lower is better), over the jobs the greedy cycle did not hold back or find infeasible::

    minimise  Σ_j Σ_p score[j, p] · x[j, p]  +  U · (number of jobs left unplaced)
    s.t.      Σ_p x[j, p] ≤ 1                              every job at most once
              Σ_j units[j, p] · x[j, p] ≤ free_units[p]     node units (nodes × node share) of each pool
              Σ_j whole[j, p] · x[j, p] ≤ free_nodes[p]     whole nodes for gangs and whole-node jobs
              x[j, p] ∈ {0, 1}, only for pairs that pass the filters and fit the pool's free capacity now

``score`` is the ``huanghe`` score (:func:`huanghe.broker.scoring.huanghe_terms`); ``U`` = 1 + the largest
candidate score, so placing a job always beats leaving it out. The greedy cycle's objective on the same terms
is reported beside it; ``gap = (objective − lp_bound) / |lp_bound|``.
"""

from __future__ import annotations

import math
import os
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from huanghe.broker.batch import JobBatch, node_share
from huanghe.broker.cycle import CycleResult, run_cycle
from huanghe.broker.cycle_context import EPS, HUANGHE, CycleContext, Status
from huanghe.broker.policies import CyclePolicy
from huanghe.broker.snapshot import NetworkSnapshot

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]

HUANGHE_BATCH = "huanghe-batch"
#: Above this many candidate pairs the batch policy keeps the greedy assignment (and says so).
MAX_PAIRS = 20_000
DEFAULT_TIME_LIMIT_S = 5.0


@dataclass(frozen=True)
class BatchSolution:
    """Solved cycle: ``pool`` per job (-1 = unplaced), objectives and the LP bound, solver status."""

    pool: IntArray
    objective: float
    lp_bound: float
    greedy_objective: float
    gap: float
    pairs: int
    status: str
    solve_s: float


def _pool_units(snap: NetworkSnapshot) -> tuple[FloatArray, FloatArray]:
    units = snap.nodes_total.astype(np.float64)
    for free, per in (
        (snap.cpus_free, snap.cpus_per_node),
        (snap.gpus_free, snap.gpus_per_node),
        (snap.mem_gb_free, snap.mem_gb_per_node),
    ):
        safe = np.where(per > 0, per, 1.0)
        units = np.minimum(units, np.where(per > 0, free / safe, np.inf))
    return np.maximum(units, 0.0), snap.nodes_free.astype(np.float64)


@contextmanager
def _fd1_silenced() -> Iterator[None]:
    """Send file descriptor 1 to /dev/null for the duration (Python-level ``sys.stdout`` is flushed first)."""
    sys.stdout.flush()
    try:
        saved = os.dup(1)
    except OSError:  # no fd 1 (embedded interpreter): nothing to protect
        yield
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 1)
        yield
    finally:
        os.dup2(saved, 1)
        os.close(saved)
        os.close(devnull)


def cycle_objective(
    scores: FloatArray, pool: IntArray, penalty: float, active: npt.NDArray[np.bool_]
) -> float:
    """Σ score of placed active jobs + ``penalty`` × active jobs left unplaced (``scores`` is (J, P))."""
    placed = active & (pool >= 0)
    total = float(scores[np.flatnonzero(placed), pool[placed]].sum())
    return total + penalty * float((active & (pool < 0)).sum())


def solve_cycle(
    res: CycleResult, time_limit_s: float = DEFAULT_TIME_LIMIT_S, max_pairs: int = MAX_PAIRS
) -> BatchSolution:
    """Solve the cycle of a greedy ``huanghe`` result ``res`` exactly (MILP) and bound it (LP)."""
    from scipy.optimize import Bounds, LinearConstraint, linprog, milp
    from scipy.sparse import csr_matrix, vstack

    snap, jobs = res.snapshot, res.jobs
    n = len(jobs)
    scores = res.scores[res.class_of]  # (J, P)
    share = node_share(jobs, snap)
    units = jobs.nodes[:, None] * np.minimum(share, 1.0)
    whole = np.where((jobs.nodes[:, None] > 1) | (share >= 1.0 - EPS), jobs.nodes[:, None], 0).astype(
        np.float64
    )
    free_units, free_nodes = _pool_units(snap)
    active = np.array([s not in (Status.HELD, Status.INFEASIBLE) for s in res.status], dtype=np.bool_)
    cand = (
        active[:, None]
        & np.isfinite(scores)
        & (units <= free_units[None, :] + EPS)
        & (whole <= free_nodes[None, :])
    )
    jj, pp = np.nonzero(cand)
    m = len(jj)
    finite = scores[np.isfinite(scores)]
    penalty = 1.0 + (float(finite.max()) if finite.size else 0.0)
    greedy = cycle_objective(scores, res.pool, penalty, active)
    constant = penalty * float(active.sum())
    t0 = time.perf_counter()
    if m == 0:
        pool = np.full(n, -1, np.int64)
        return BatchSolution(pool, constant, constant, greedy, 0.0, 0, "empty", 0.0)
    if m > max_pairs:
        return BatchSolution(res.pool.copy(), greedy, math.nan, greedy, math.nan, m, "too-large", 0.0)
    c = scores[jj, pp] - penalty
    cols = np.arange(m)
    p_count = snap.n_pools
    a_job = csr_matrix((np.ones(m), (jj, cols)), shape=(n, m))
    a_units = csr_matrix((units[jj, pp], (pp, cols)), shape=(p_count, m))
    a_whole = csr_matrix((whole[jj, pp], (pp, cols)), shape=(p_count, m))
    a = vstack([a_job, a_units, a_whole]).tocsr()
    ub = np.concatenate([np.ones(n), free_units + EPS, free_nodes + EPS])
    with _fd1_silenced():  # HiGHS writes debug lines to the C-level stdout, which would corrupt --json -
        sol = milp(
            c,
            constraints=LinearConstraint(a, -np.inf, ub),
            integrality=np.ones(m),
            bounds=Bounds(0, 1),
            options={"time_limit": time_limit_s},
        )
        lp = linprog(c, A_ub=a, b_ub=ub, bounds=(0, 1), method="highs")
    solve_s = time.perf_counter() - t0
    pool = np.full(n, -1, np.int64)
    if sol.x is None:
        return BatchSolution(
            res.pool.copy(), greedy, math.nan, greedy, math.nan, m, f"failed: {sol.message}", solve_s
        )
    chosen = sol.x > 0.5
    pool[jj[chosen]] = pp[chosen]
    objective = float(c[chosen].sum()) + constant
    lp_bound = float(lp.fun) + constant if lp.status == 0 else math.nan
    gap = (objective - lp_bound) / max(abs(lp_bound), EPS) if math.isfinite(lp_bound) else math.nan
    status = "optimal" if sol.status == 0 else f"time-limit ({sol.message})"
    return BatchSolution(pool, objective, lp_bound, greedy, gap, m, status, solve_s)


class HuangheBatchPolicy(CyclePolicy):
    """``huanghe-batch``: the ``huanghe`` cycle (order, filters, scores, temporal holds) whose start-now
    assignment is then solved as a MILP; instances above :data:`MAX_PAIRS` candidate pairs keep the greedy
    assignment (the explanation says so)."""

    name = HUANGHE_BATCH
    scored_as = HUANGHE

    def cycle(self, snap: NetworkSnapshot, jobs: JobBatch, ctx: CycleContext | None = None) -> CycleResult:
        res = run_cycle(HUANGHE, snap, jobs, ctx or CycleContext(weights=self.weights))
        res.policy = HUANGHE_BATCH
        sol = solve_cycle(res)
        if sol.status not in ("optimal",) and not sol.status.startswith("time-limit"):
            for j in range(len(jobs)):
                res.notes[j] = f"batch solver {sol.status}; greedy assignment kept"
            return res
        for j in range(len(jobs)):
            if res.status[j] in (Status.HELD, Status.INFEASIBLE):
                continue
            p = int(sol.pool[j])
            res.pool[j] = p
            res.status[j] = Status.PLACED if p >= 0 else Status.WAITING
            res.notes[j] = f"MILP cycle objective {sol.objective:.3f}, LP bound {sol.lp_bound:.3f}"
        return res
