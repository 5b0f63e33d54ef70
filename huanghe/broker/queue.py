"""Queue policies: an order of the waiting jobs plus a backfill mode, and the one registry of them
(:data:`POLICIES`, a :class:`~huanghe.core.registry.Registry` built from the explicit :data:`POLICY_LIST`).

A policy name is ``<order>`` (no backfill), ``<order>-easy`` or ``<order>-conservative``, plus ``huanghe``
(our own). Orders:

``fcfs``      submit time.
``sjf``       shortest estimate first (ties: submit time).
``priority``  explicit job priority, higher first (ties: submit time); SWF traces have none (all 0).
``f1``        Carastan-Santos & de Camargo (SC'17) F1: ``log10(r)·n + 8.70e2·log10(s)``, smallest first,
              r = requested time (s), n = processors, s = submit time (s); r, s ≤ 0 count as 0.1 (as in
              RLScheduler's ``HPCSimPickJobs.f1_score``). Uses the trace's absolute submit time.
``wfp3``      WFP3 (Tang et al. 2009): ``(wait / r)^3 · n``, largest first.
``unicep``    UNICEP (Tang et al. 2009): ``wait / (log2(n) · r)``, largest first (log2 of max(n, 2)).
``drf``       dominant-resource fairness between owners (users): smallest dominant share of what is
              running first, then submit time.
``random``    a seeded random permutation (a sanity baseline; the only order that uses the seed).
``huanghe``   ours, see :class:`HuangheOrder`.

Orders are *static* (a job's rank never changes: ranks are computed once, vectorised) or *dynamic*
(a key that depends on the time or on what runs, recomputed at every scheduling pass).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import numpy as np

from huanghe.broker.queue_types import JobTable
from huanghe.broker.runtime_predict import UserRuntimePredictor
from huanghe.core.registry import DuplicateNameError, Registry, UnknownNameError

KeyFn = Callable[[int], Any]


class Backfill(StrEnum):
    """How jobs behind a blocked head may start."""

    NONE = "none"
    EASY = "easy"  # one reservation, for the head (Lifka 1995; Mu'alem & Feitelson 2001)
    CONSERVATIVE = "conservative"  # a reservation for every waiting job, in queue order


class UnknownQueuePolicyError(UnknownNameError, KeyError):
    """A queue-policy name not in the registry (a :class:`KeyError` too, as it always was)."""


class DuplicateQueuePolicyError(DuplicateNameError):
    """Two queue policies with the same name in the registry list."""


@dataclass(frozen=True)
class BoundOrder:
    """An order bound to one job table: either static ranks or a key function of (now, shares)."""

    static_ranks: list[int] | None
    key_at: Callable[[float, Mapping[int, float]], KeyFn] | None
    uses_shares: bool = False
    on_finish: Callable[[int, float], None] | None = None
    """Optional hook ``on_finish(job, run_s)``: the engine calls it when a job ends, with its actual run
    time (s), so an order may learn from finished jobs (and only from them)."""


class Order:
    """Base class: ``name``, ``dynamic`` and :meth:`bind`. Subclasses implement ranks or keys."""

    name: str = ""
    description: str = ""
    dynamic: bool = False
    uses_shares: bool = False

    def bind(self, jobs: JobTable, seed: int = 0) -> BoundOrder:
        if self.dynamic:
            return BoundOrder(None, self.make_key(jobs), self.uses_shares)
        return BoundOrder(self.ranks(jobs, seed), None)

    def ranks(self, jobs: JobTable, seed: int) -> list[int]:
        """Static orders: rank of each job (0 served first), all distinct."""
        raise NotImplementedError

    def make_key(self, jobs: JobTable) -> Callable[[float, Mapping[int, float]], KeyFn]:
        """Dynamic orders: ``key_at(now, shares)`` → a sort key per job index (smallest first)."""
        raise NotImplementedError


def _ranks_from_keys(*keys: np.ndarray) -> list[int]:
    """Ranks by lexicographic keys (first key primary), ties by job index."""
    n = len(keys[0])
    order = np.lexsort((np.arange(n), *reversed(keys)))
    ranks = np.empty(n, dtype=np.int64)
    ranks[order] = np.arange(n)
    return [int(r) for r in ranks.tolist()]


class FcfsOrder(Order):
    name = "fcfs"
    description = "first come, first served 先来先服务"

    def ranks(self, jobs: JobTable, seed: int) -> list[int]:
        return _ranks_from_keys(np.asarray(jobs.submit_s, dtype=float))


class SjfOrder(Order):
    name = "sjf"
    description = "shortest (estimated) job first 最短作业优先"

    def ranks(self, jobs: JobTable, seed: int) -> list[int]:
        return _ranks_from_keys(
            np.asarray(jobs.estimate_s, dtype=float), np.asarray(jobs.submit_s, dtype=float)
        )


class PriorityOrder(Order):
    name = "priority"
    description = "explicit priority, then submit time 优先级"

    def ranks(self, jobs: JobTable, seed: int) -> list[int]:
        return _ranks_from_keys(
            -np.asarray(jobs.priority, dtype=float), np.asarray(jobs.submit_s, dtype=float)
        )


def f1_score(request_s: np.ndarray, procs: np.ndarray, submit_s: np.ndarray) -> np.ndarray:
    """F1 of Carastan-Santos & de Camargo (2017): ``log10(r)·n + 870·log10(s)`` (r, s ≤ 0 → 0.1)."""
    r = np.where(request_s > 0, request_s, 0.1)
    s = np.where(submit_s > 0, submit_s, 0.1)
    return np.log10(r) * procs + 870.0 * np.log10(s)


class F1Order(Order):
    name = "f1"
    description = "F1 (Carastan-Santos & de Camargo 2017) learned priority"

    def ranks(self, jobs: JobTable, seed: int) -> list[int]:
        score = f1_score(
            np.asarray(jobs.estimate_s, dtype=float),
            np.asarray(jobs.procs, dtype=float),
            np.asarray(jobs.submit_s, dtype=float),
        )
        return _ranks_from_keys(score)


class RandomOrder(Order):
    name = "random"
    description = "seeded random order 随机(基线)"

    def ranks(self, jobs: JobTable, seed: int) -> list[int]:
        perm = np.random.default_rng(seed).permutation(len(jobs))
        return [int(r) for r in perm.tolist()]


class Wfp3Order(Order):
    name = "wfp3"
    description = "WFP3: (wait/request)^3 · procs, largest first"
    dynamic = True

    def make_key(self, jobs: JobTable) -> Callable[[float, Mapping[int, float]], KeyFn]:
        sub, est, procs = list(jobs.submit_s), list(jobs.estimate_s), list(jobs.procs)

        def key_at(now: float, shares: Mapping[int, float]) -> KeyFn:
            return lambda j: -(((now - sub[j]) / max(est[j], 1.0)) ** 3) * procs[j]

        return key_at


class UnicepOrder(Order):
    name = "unicep"
    description = "UNICEP: wait / (log2(procs) · request), largest first"
    dynamic = True

    def make_key(self, jobs: JobTable) -> Callable[[float, Mapping[int, float]], KeyFn]:
        sub = list(jobs.submit_s)
        denom = [math.log2(max(n, 2)) * max(e, 1.0) for n, e in zip(jobs.procs, jobs.estimate_s, strict=True)]

        def key_at(now: float, shares: Mapping[int, float]) -> KeyFn:
            return lambda j: -(now - sub[j]) / denom[j]

        return key_at


class DrfOrder(Order):
    name = "drf"
    description = "dominant-resource fair share between users 主导资源公平"
    dynamic = True
    uses_shares = True

    def make_key(self, jobs: JobTable) -> Callable[[float, Mapping[int, float]], KeyFn]:
        sub, owner = list(jobs.submit_s), list(jobs.owner)

        def key_at(now: float, shares: Mapping[int, float]) -> KeyFn:
            get = shares.get
            return lambda j: (get(owner[j], 0.0), sub[j])

        return key_at


@dataclass(frozen=True)
class HuangheOrder(Order):
    """Our order: smallest predicted area first, then largest slowdown first once a job has waited long.

    Run-time prediction (``predict``, on by default; Tsafrir, Etsion & Feitelson 2007): ``p`` = mean actual
    run time of the same user's last ``history`` (2) *finished* jobs, capped by the request; the request
    when the user has no finished job yet (or is unknown, id < 0). The engine feeds the predictor through
    :attr:`BoundOrder.on_finish` when a job ends, so a decision at time t only uses jobs ended by t.
    Backfill is not touched: it keeps using the requests.

    With ``p`` floored at ``estimate_floor_s`` (60 s), ``e = max(request, 60 s)``, ``w`` = wait so far (s),
    ``n`` = processors, ``xf_e = (w + e) / e`` (the slowdown if it started now and ran to its request) and
    ``xf_p = (w + p) / p``, jobs fall into three classes served in this order:

    1. ``w >= starvation_s`` (14 days): oldest first, whatever else (the starvation bound);
    2. ``xf >= promote_xf`` (20): largest ``xf`` first, with ``xf = xf_e`` (``xf_p`` if
       ``predict_in_xf``);
    3. the rest: smallest ``p ** estimate_power · n ** procs_power / xf_p ** xf_power`` first
       (defaults ``p · n^1.25 / xf_p^0.5``: smallest predicted area, wide jobs a little later, aging).

    Ties: job index (submit order). With ``predict=False`` the request replaces ``p`` everywhere (the
    previous order was ``predict=False, procs_power=0.75, xf_power=0.1, promote_xf=3``). Why: bounded
    slowdown is dominated by short jobs that wait; requests are often far above the real run times
    (SDSC-SP2: median 8 ×), and a user's last runs predict the next one better. Under EASY with a
    committed head (RLScheduler's mechanics, :data:`~huanghe.broker.cluster_queue.RLSCHEDULER_RULES`)
    the order decides which job becomes the head, so that job should be short. One configuration for
    every trace, chosen on training sequences (docs/bench-sim.md §3). Used with EASY backfill.
    """

    name: str = "huanghe"
    description: str = (
        "smallest predicted run time × procs^1.25 first (per-user prediction from finished jobs), "
        "largest slowdown first once ≥ 20, 14-day bound (ours) 黄河策略"
    )
    dynamic: bool = True
    estimate_power: float = 1.0
    procs_power: float = 1.25
    xf_power: float = 0.5
    promote_xf: float = 20.0
    estimate_floor_s: float = 60.0
    starvation_s: float = 14 * 24 * 3600.0

    predict: bool = True
    predict_in_xf: bool = False
    history: int = 2

    def bind(self, jobs: JobTable, seed: int = 0) -> BoundOrder:
        if not self.predict:
            return BoundOrder(None, self.make_key(jobs))
        predictor = UserRuntimePredictor(self.history)
        owner = [int(o) for o in jobs.owner]
        observe = predictor.observe
        return BoundOrder(
            None,
            self.make_key(jobs, predictor),
            on_finish=lambda j, run_s: observe(owner[j], run_s),
        )

    def make_key(
        self, jobs: JobTable, predictor: UserRuntimePredictor | None = None
    ) -> Callable[[float, Mapping[int, float]], KeyFn]:
        """``key_at(now, shares)``; with ``predict`` the run-time guesses come from ``predictor``
        (a fresh, empty one when None), which only the engine's finish hook feeds."""
        if self.predict:
            return self._predicting_key(jobs, predictor or UserRuntimePredictor(self.history))
        sub = list(jobs.submit_s)
        est = [max(float(e), self.estimate_floor_s) for e in jobs.estimate_s]
        size = [e**self.estimate_power * n**self.procs_power for n, e in zip(jobs.procs, est, strict=True)]
        bound, power, promote = self.starvation_s, self.xf_power, self.promote_xf

        def key_at(now: float, shares: Mapping[int, float]) -> KeyFn:
            def key(j: int) -> tuple[int, float]:
                wait = now - sub[j]
                if wait >= bound:
                    return (0, sub[j])
                e = est[j]
                xf = (wait + e) / e
                if xf >= promote:
                    return (1, -xf)
                return (2, size[j] / xf**power)

            return key

        return key_at

    def _predicting_key(
        self, jobs: JobTable, predictor: UserRuntimePredictor
    ) -> Callable[[float, Mapping[int, float]], KeyFn]:
        sub = list(jobs.submit_s)
        owner = [int(o) for o in jobs.owner]
        request = [float(e) for e in jobs.estimate_s]
        floor = self.estimate_floor_s
        est = [max(r, floor) for r in request]
        width = [n**self.procs_power for n in jobs.procs]
        bound, power, promote, a = self.starvation_s, self.xf_power, self.promote_xf, self.estimate_power
        in_xf = self.predict_in_xf
        mean_s = predictor.mean_s  # updated in place by the finish hook

        def key_at(now: float, shares: Mapping[int, float]) -> KeyFn:
            get = mean_s.get

            def key(j: int) -> tuple[int, float]:
                wait = now - sub[j]
                if wait >= bound:
                    return (0, sub[j])
                r = request[j]
                m = get(owner[j])
                p = r if m is None or m > r else m
                if p < floor:
                    p = floor
                xf = (wait + p) / p
                if not in_xf:
                    e = est[j]
                    xf_e = (wait + e) / e
                    if xf_e >= promote:
                        return (1, -xf_e)
                elif xf >= promote:
                    return (1, -xf)
                return (2, p**a * width[j] / xf**power)

            return key

        return key_at


ORDERS: tuple[Order, ...] = (
    FcfsOrder(),
    SjfOrder(),
    PriorityOrder(),
    F1Order(),
    Wfp3Order(),
    UnicepOrder(),
    DrfOrder(),
    RandomOrder(),
)
"""The orders that come in the three backfill variants."""


@dataclass(frozen=True)
class QueuePolicy:
    """A named queue policy: the order of the waiting jobs and the backfill mode.

    ``backfill_order`` (optional): the order in which backfill candidates are scanned; None = the queue
    order itself (as Slurm's backfill does).
    """

    name: str
    order: Order
    backfill: Backfill
    description: str = ""
    backfill_order: Order | None = None


def _variants(order: Order) -> list[QueuePolicy]:
    return [
        QueuePolicy(order.name, order, Backfill.NONE, f"{order.description}; no backfill 无回填"),
        QueuePolicy(f"{order.name}-easy", order, Backfill.EASY, f"{order.description}; EASY backfill"),
        QueuePolicy(
            f"{order.name}-conservative",
            order,
            Backfill.CONSERVATIVE,
            f"{order.description}; conservative backfill 保守回填",
        ),
    ]


HUANGHE_POLICY = QueuePolicy(
    "huanghe",
    HuangheOrder(),
    Backfill.EASY,
    "ours: EASY backfill, smallest predicted run time (user's last 2 finished jobs) × procs^1.25 first, "
    "largest slowdown first once ≥ 20, 14-day bound 黄河策略",
)

POLICY_LIST: tuple[QueuePolicy, ...] = (*(p for o in ORDERS for p in _variants(o)), HUANGHE_POLICY)
"""The one explicit list the registry is built from."""


def build_registry(policies: Iterable[QueuePolicy]) -> Registry[QueuePolicy]:
    """Name → policy; a duplicate name raises :class:`DuplicateQueuePolicyError`."""
    return Registry(
        "queue policy",
        ((p.name, p) for p in policies),
        unknown_error=UnknownQueuePolicyError,
        duplicate_error=DuplicateQueuePolicyError,
        kind_zh="调度策略",
    )


POLICIES: Registry[QueuePolicy] = build_registry(POLICY_LIST)


def policy_names() -> list[str]:
    """All registered policy names, in registry order."""
    return POLICIES.names()


def get_policy(name: str) -> QueuePolicy:
    """The policy called ``name``; :class:`UnknownQueuePolicyError` lists the known names otherwise."""
    return POLICIES.get(name)
