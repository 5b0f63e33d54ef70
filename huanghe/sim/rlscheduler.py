"""Reproduction of RLScheduler's heuristic baselines (Zhang et al., SC'20) on our queue engine.

Published numbers: D. Zhang, D. Dai, Y. He, F. S. Bao, B. Xie, "RLScheduler: An Automated HPC Batch Job
Scheduler Using Reinforcement Learning", SC'20 — average bounded slowdown (threshold 10 s) over 10
sequences of 1,024 consecutive jobs (values as collected in shared/reference/BENCHMARKS.md §1).

Protocol, as in the authors' code (DIR-LAB/deep-batch-scheduler: ``compare-pick-jobs.py``,
``HPCSimPickJobs.py``, ``job.py``):
  * jobs: SWF records with run time < 0 set to 10 s, run time = 0 dropped, processors =
    max(allocated, requested), estimate = requested time or the raw run time when missing (-1);
  * ``env.seed(1)`` creates gym's legacy generator: ``numpy.random.RandomState`` seeded with the
    integer list of the first 8 bytes of ``sha512(str(seed))`` (little-endian 32-bit words, padded);
  * each of the 10 sequences starts at ``rng.randint(1024, 10000 - 1024 - 1)`` (job index in the
    cleaned list, upper bound exclusive), drawn one after another from that generator;
  * a sequence is jobs ``[start, start + 1024)`` on an empty machine, clock at the first submit;
    the score is the mean bounded slowdown of those 1,024 jobs, and the table value the mean of the 10.
  * mechanics (``--mechanics rlscheduler``, default): :data:`~huanghe.broker.cluster_queue.RLSCHEDULER_RULES`
    (the blocked head keeps its first reservation; backfill candidates in submit order; a backfilled job
    must end strictly before the shadow time; no "extra nodes" rule). ``standard`` uses textbook EASY.
"""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from huanghe.broker.cluster_queue import RLSCHEDULER_RULES, STANDARD_RULES, EngineRules
from huanghe.broker.queue import Backfill, get_policy
from huanghe.paths import traces_dir
from huanghe.sim.simulation import ClusterSpec, simulate
from huanghe.sim.traces.swf import RLSCHEDULER_RULES as SWF_RLSCHEDULER_RULES
from huanghe.sim.traces.swf import load_swf
from huanghe.sim.workload import Workload

SEQUENCE_JOBS = 1024
SEQUENCES = 10
SAMPLE_FROM_JOBS = 10_000
SEED = 1

CITATION = (
    "Zhang, Dai, He, Bao, Xie, 'RLScheduler: An Automated HPC Batch Job Scheduler Using Reinforcement "
    "Learning', SC'20 (mean bounded slowdown, 10 × 1,024-job sequences; via shared/reference/BENCHMARKS.md §1)"
)


@dataclass(frozen=True)
class TraceSpec:
    """A trace of the reproduction: file under the traces directory and machine size (processors)."""

    key: str
    relpath: str
    cores: int

    @property
    def path(self) -> Path:
        return traces_dir() / self.relpath


TRACES: dict[str, TraceSpec] = {
    "lublin": TraceSpec("lublin", "lublin-256-rlscheduler/lublin_256.swf.gz", 256),
    "sdsc-sp2": TraceSpec("sdsc-sp2", "pwa-swf/SDSC-SP2-1998-4.2-cln.swf.gz", 128),
    "hpc2n": TraceSpec("hpc2n", "pwa-swf/HPC2N-2002-2.2-cln.swf.gz", 240),
}

PUBLISHED_BSLD: dict[str, dict[tuple[str, str], float]] = {
    "lublin": {("fcfs", "none"): 7273.77, ("fcfs", "easy"): 235.82, ("rl", "easy"): 58.64},
    "sdsc-sp2": {("fcfs", "none"): 1727.54, ("fcfs", "easy"): 1595.12, ("rl", "easy"): 397.82},
    "hpc2n": {("fcfs", "none"): 297.18, ("fcfs", "easy"): 127.38, ("f1", "easy"): 71.95},
}
"""Published mean bounded slowdown, (policy, backfill) → value; see :data:`CITATION`."""

ORDERS: tuple[str, ...] = ("fcfs", "sjf", "wfp3", "unicep", "f1", "drf")
MECHANICS: dict[str, EngineRules] = {"rlscheduler": RLSCHEDULER_RULES, "standard": STANDARD_RULES}


def legacy_gym_rng(seed: int) -> np.random.RandomState:
    """The generator of gym's pre-0.22 ``seeding.np_random(seed)`` (hash the seed, seed a RandomState)."""
    digest = hashlib.sha512(str(seed).encode("utf8")).digest()[:8]
    padded = digest + b"\0" * (4 - len(digest) % 4)
    words = struct.unpack(f"{len(padded) // 4}I", padded)
    big = sum(w << (32 * i) for i, w in enumerate(words))
    seed_words: list[int] = []
    while big > 0:
        big, word = divmod(big, 2**32)
        seed_words.append(word)
    rng = np.random.RandomState()
    rng.seed(seed_words or [0])
    return rng


def sequence_starts(
    seed: int = SEED, count: int = SEQUENCES, length: int = SEQUENCE_JOBS, pool: int = SAMPLE_FROM_JOBS
) -> list[int]:
    """Start indices of the sequences, drawn as RLScheduler's ``reset_for_test`` does."""
    rng = legacy_gym_rng(seed)
    return [int(rng.randint(length, pool - length - 1)) for _ in range(count)]


@dataclass(frozen=True)
class Row:
    """One cell: our mean bounded slowdown and the published one (None when not published)."""

    policy: str
    backfill: str
    bsld: float | None
    published_bsld: float | None

    def as_dict(self) -> dict[str, object]:
        return {
            "policy": self.policy,
            "backfill": self.backfill,
            "bsld": self.bsld,
            "published_bsld": self.published_bsld,
        }


def load_trace(key: str) -> tuple[TraceSpec, Workload]:
    """The trace's jobs under RLScheduler's cleaning rules."""
    spec = TRACES[key]
    workload, _, _ = load_swf(spec.path, SWF_RLSCHEDULER_RULES, name=key)
    return spec, workload


def mean_bsld(
    workload: Workload,
    cores: int,
    policy: str,
    starts: Sequence[int],
    rules: EngineRules,
    length: int = SEQUENCE_JOBS,
) -> float:
    """Mean over the sequences of the mean bounded slowdown of each sequence."""
    cluster = ClusterSpec.single(cores, name="rlscheduler")
    values = [
        simulate(workload.take(slice(s, s + length)), cluster, policy, rules=rules).summary().mean_bsld
        for s in starts
    ]
    return float(np.mean(values))


def policy_cells(orders: Sequence[str] = ORDERS) -> list[tuple[str, str, str]]:
    """(policy name, order, backfill) for every order × backfill, then ``huanghe``."""
    cells = [
        (order if bf is Backfill.NONE else f"{order}-{bf.value}", order, bf.value)
        for order in orders
        for bf in (Backfill.NONE, Backfill.EASY, Backfill.CONSERVATIVE)
    ]
    cells.append(("huanghe", "huanghe", get_policy("huanghe").backfill.value))
    return cells


def reproduce(
    key: str,
    mechanics: str = "rlscheduler",
    orders: Sequence[str] = ORDERS,
    on_cell: Callable[[str], None] | None = None,
) -> list[Row]:
    """All rows for one trace: our cells, then published-only cells (e.g. RL) with ``bsld`` None."""
    spec, workload = load_trace(key)
    rules = MECHANICS[mechanics]
    starts = sequence_starts()
    published = PUBLISHED_BSLD[key]
    rows: list[Row] = []
    for name, order, backfill in policy_cells(orders):
        if on_cell is not None:
            on_cell(name)
        value = mean_bsld(workload, spec.cores, name, starts, rules)
        rows.append(Row(order, backfill, value, published.get((order, backfill))))
    ours = {(r.policy, r.backfill) for r in rows}
    rows += [Row(p, b, None, v) for (p, b), v in published.items() if (p, b) not in ours]
    return rows
