"""One cluster's batch queue: pools, waiting and running jobs, and the scheduling pass.

The caller owns time: it calls :meth:`ClusterQueue.submit` when a job arrives, :meth:`ClusterQueue.finish`
when one ends, then :meth:`ClusterQueue.schedule` with the current time, which returns the jobs to start
now. The simulator drives it with a simulated clock; the live service with the real one.

Gangs: a job takes all its nodes in one pool at once, or waits. Among pools, a job starts in the first
pool (in list order) with enough free nodes; a reservation goes to the pool where it can start earliest.

Incremental passes: with a static order, when nothing ended since the last pass and the head did not
change, only the newly arrived jobs can start (every old one still fails the same tests), so only they
are examined. ``incremental=False`` always does the full pass (same schedule, slower; used in tests).
"""

from __future__ import annotations

import math
from bisect import bisect_left, insort
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import islice

import numpy as np

from huanghe.broker.backfill import Profile, easy_shadow
from huanghe.broker.fairshare import DominantShares
from huanghe.broker.queue import Backfill, QueuePolicy
from huanghe.broker.queue_types import JobTable, PoolSpec

INF = float("inf")


@dataclass(frozen=True)
class EngineRules:
    """Variants of the backfill mechanics. The defaults are the textbook ones (Mu'alem & Feitelson 2001).

    ``extra_nodes``: EASY may start a job that runs past the shadow time on nodes the head will not need.
    ``sticky_head``: once the head is blocked, it and its reservation (shadow time) stay fixed until it
    starts, even if jobs end early or a higher-priority job arrives (RLScheduler's simulator). Applies to
    no-backfill and EASY; conservative backfill recomputes every reservation at each pass anyway.
    ``backfill_fcfs``: scan backfill candidates in submit order whatever the queue order (RLScheduler).
    ``strict_shadow``: a backfilled job must end strictly before the shadow time (RLScheduler: ``<``).
    """

    extra_nodes: bool = True
    sticky_head: bool = False
    backfill_fcfs: bool = False
    strict_shadow: bool = False


STANDARD_RULES = EngineRules()
RLSCHEDULER_RULES = EngineRules(extra_nodes=False, sticky_head=True, backfill_fcfs=True, strict_shadow=True)
"""The mechanics of RLScheduler's ``HPCSimPickJobs.py`` (DIR-LAB/deep-batch-scheduler) heuristics runs."""


class ClusterQueue:
    """Batch queue of one cluster (a list of pools) under one :class:`QueuePolicy`."""

    def __init__(
        self,
        pools: Sequence[PoolSpec],
        jobs: JobTable,
        policy: QueuePolicy,
        *,
        rules: EngineRules = STANDARD_RULES,
        seed: int = 0,
        incremental: bool = True,
    ) -> None:
        if not pools:
            raise ValueError("a cluster needs at least one pool")
        self.pools = list(pools)
        self.policy = policy
        self.rules = rules
        self._backfill = policy.backfill
        self._nodes = [p.nodes for p in self.pools]
        self.free = list(self._nodes)
        procs = np.asarray(jobs.procs, dtype=np.int64)
        self._need: list[list[int]] = [(-(-procs // p.cores_per_node)).tolist() for p in self.pools]
        self._est: list[float] = [float(e) for e in jobs.estimate_s]
        self._submit: list[float] = [float(s) for s in jobs.submit_s]
        self._owner: list[int] = [int(o) for o in jobs.owner]
        self._procs: list[int] = procs.tolist()
        self._running: list[list[tuple[float, int]]] = [[] for _ in self.pools]
        self._run_key: dict[int, tuple[int, tuple[float, int]]] = {}
        bound = policy.order.bind(jobs, seed)
        self._key_at = bound.key_at
        self._static = bound.static_ranks is not None
        # orders that learn from finished jobs get (job, actual run time) at each end
        self._on_finish = bound.on_finish
        self._start_s: dict[int, float] | None = {} if bound.on_finish is not None else None
        self._rank: list[int] = bound.static_ranks or []
        bf = policy.backfill_order.bind(jobs, seed) if policy.backfill_order is not None else None
        if bf is not None and bf.static_ranks is None:
            raise ValueError(f"policy {policy.name!r}: a backfill order must be static")
        self._bf_rank: list[int] | None = bf.static_ranks if bf is not None else None
        self._shares: DominantShares | None = (
            DominantShares([float(sum(p.cores for p in self.pools))]) if bound.uses_shares else None
        )
        self._share_view: dict[int, float] = self._shares.shares if self._shares else {}
        # static: sorted ranks; dynamic: job indices in arrival order
        self._queue: list[int] = []
        self._new: list[int] = []
        self._dirty = True
        # a conservative profile is recomputed at every pass, so a sticky head means nothing there
        self._sticky_rules = rules.sticky_head and policy.backfill is not Backfill.CONSERVATIVE
        self._incremental = incremental and self._static and not self._sticky_rules
        self._resv: tuple[int, float, int] = (-1, INF, 0)
        self._cons: list[Profile] | None = None  # conservative profiles kept from the last pass
        self._sticky: tuple[int, int, float, int] | None = None  # (head, pool, shadow, extra)

    # ----------------------------------------------------------------- state
    def fits(self, j: int) -> bool:
        """Whether job ``j`` fits some pool when the pool is empty (else it can never run here)."""
        return any(need[j] <= n for need, n in zip(self._need, self._nodes, strict=True))

    def nodes_needed(self, j: int, pool: int) -> int:
        return self._need[pool][j]

    @property
    def queue_length(self) -> int:
        return len(self._queue)

    @property
    def running_count(self) -> int:
        return len(self._run_key)

    def waiting(self) -> list[int]:
        """Waiting job indices (in arrival order)."""
        if self._static:
            return sorted(self._queue)
        return list(self._queue)

    def submit(self, j: int, now: float) -> None:
        """Job ``j`` arrives (it must :meth:`fit`)."""
        if self._static:
            queue, rank = self._queue, self._rank
            if not queue or rank[j] > rank[queue[-1]]:
                queue.append(j)  # FCFS-like: arrivals come last
            else:
                insort(queue, j, key=rank.__getitem__)
        else:
            self._queue.append(j)
        self._new.append(j)

    def finish(self, j: int, now: float) -> None:
        """Running job ``j`` ended: its nodes are free again."""
        p, key = self._run_key.pop(j)
        self.free[p] += self._need[p][j]
        run = self._running[p]
        del run[bisect_left(run, key)]
        if self._shares is not None:
            self._shares.remove(self._owner[j], (self._procs[j],))
        if self._start_s is not None:
            self._on_finish(j, now - self._start_s.pop(j))  # type: ignore[misc]
        self._dirty = True

    def _start(self, j: int, p: int, now: float) -> None:
        self.free[p] -= self._need[p][j]
        key = (now + self._est[j], j)
        insort(self._running[p], key)
        self._run_key[j] = (p, key)
        if self._start_s is not None:
            self._start_s[j] = now
        if self._shares is not None:
            self._shares.add(self._owner[j], (self._procs[j],))

    def _first_fit(self, j: int) -> int:
        if len(self._need) == 1:
            return 0 if self._need[0][j] <= self.free[0] else -1
        for p, need in enumerate(self._need):
            if need[j] <= self.free[p]:
                return p
        return -1

    # ----------------------------------------------------------------- the pass
    def schedule(self, now: float) -> list[tuple[int, int]]:
        """Start what the policy allows at time ``now``; returns ``[(job, pool), ...]`` started."""
        new = self._new
        if not self._queue:
            new.clear()
            return []
        if self._incremental and not self._dirty:
            if not new:
                return []
            if self._queue[0] not in new:
                if self._backfill is Backfill.CONSERVATIVE:
                    got = self._conservative_incremental(new, now)
                else:
                    got = self._incremental_pass(new, now)
                if got is not None:
                    new.clear()
                    return got
        new.clear()
        self._cons = None
        if sum(self.free) == 0:
            return []
        self._dirty = False
        return self._full_pass(now)

    def _incremental_pass(self, new: list[int], now: float) -> list[tuple[int, int]]:
        if self._backfill is not Backfill.EASY or sum(self.free) == 0:
            return []
        rank = self._rank
        cands = sorted(new, key=rank.__getitem__)
        p_r, shadow, extra = self._resv
        started, extra = self._easy_scan(cands, now, p_r, shadow, extra)
        self._resv = (p_r, shadow, extra)
        self._drop(started)
        return started

    def _full_pass(self, now: float) -> list[tuple[int, int]]:
        static = self._static
        queue = self._queue
        ordered: list[int] = []
        if not static:
            assert self._key_at is not None
            ordered = sorted(queue, key=self._key_at(now, self._share_view))
        started: list[tuple[int, int]] = []
        if self._sticky is not None:  # RLScheduler mechanics: the committed head goes first
            head = self._sticky[0]
            p = self._first_fit(head)
            if p < 0:
                rest = queue if static else ordered
                started = self._sticky_scan(now, [j for j in rest if j != head])
                self._drop(started)
                return started
            self._start(head, p, now)
            started.append((head, p))
            self._sticky = None
            if static:
                queue.remove(head)
            else:
                ordered.remove(head)
        # phase 1: start jobs in order while the head fits
        if static:
            i = 0
            while i < len(queue):
                j = queue[i]
                p = self._first_fit(j)
                if p < 0:
                    break
                self._start(j, p, now)
                started.append((j, p))
                i += 1
            if i:
                del queue[:i]
            if not queue:
                return started
            head = queue[0]
        else:
            while ordered:
                j = ordered[0]
                p = self._first_fit(j)
                if p < 0:
                    break
                self._start(j, p, now)
                started.append((j, p))
                ordered.pop(0)
                if self._shares is not None and len(ordered) > 1:
                    ordered.sort(key=self._key_at(now, self._share_view))  # type: ignore[misc]
            self._drop(started)
            if not ordered:
                return started
            head = ordered[0]
        # phase 2: backfill behind the blocked head
        n_before = len(started)
        mode = self._backfill
        if self._sticky_rules:
            self._sticky = (head, *self._reserve(head, now))
            if mode is not Backfill.NONE:
                rest = queue[1:] if static else ordered[1:]
                started += self._sticky_scan(now, rest)
        elif mode is Backfill.EASY:
            p_r, shadow, extra = self._reserve(head, now)
            cands: Iterable[int] = islice(queue, 1, None) if static else ordered[1:]
            if self.rules.backfill_fcfs:
                cands = sorted(cands)
            elif self._bf_rank is not None:
                cands = sorted(cands, key=self._bf_rank.__getitem__)
            got, extra = self._easy_scan(cands, now, p_r, shadow, extra)
            self._resv = (p_r, shadow, extra)
            started += got
        elif mode is Backfill.CONSERVATIVE:
            started += self._conservative(now, queue if static else ordered)
        if len(started) > n_before:
            self._drop(started[n_before:])
        return started

    def _drop(self, started: list[tuple[int, int]]) -> None:
        """Remove started jobs from the waiting queue (kept in its order)."""
        if started:
            gone = {j for j, _ in started}
            self._queue = [j for j in self._queue if j not in gone]

    def _sticky_scan(self, now: float, rest: list[int]) -> list[tuple[int, int]]:
        """Backfill around the committed head's reservation, kept from when it first blocked."""
        if self._backfill is Backfill.NONE or self._sticky is None:
            return []
        head, p_r, shadow, extra = self._sticky
        cands = sorted(rest) if self.rules.backfill_fcfs else rest
        started, extra = self._easy_scan(cands, now, p_r, shadow, extra)
        self._sticky = (head, p_r, shadow, extra)
        return started

    def _reserve(self, head: int, now: float) -> tuple[int, float, int]:
        """EASY reservation of the head: ``(pool, shadow_s, extra_nodes)`` in the pool where it starts first."""
        best: tuple[int, float, int] = (-1, INF, 0)
        best_s = INF
        for p, need in enumerate(self._need):
            n = need[head]
            if n > self._nodes[p]:
                continue
            shadow, extra = easy_shadow(n, self.free[p], self._running[p], need)
            s = shadow if shadow > now else now
            if s < best_s:
                best, best_s = (p, shadow, extra), s
        return best

    def _easy_scan(
        self, cands: Iterable[int], now: float, p_r: int, shadow: float, extra: int
    ) -> tuple[list[tuple[int, int]], int]:
        """Backfill ``cands`` in order around the head's reservation ``(p_r, shadow, extra)``."""
        started: list[tuple[int, int]] = []
        est = self._est
        free = self.free
        if shadow < now:
            shadow = now
        # a backfilled job must end by ``deadline`` (strictly before the shadow time under strict rules)
        deadline = math.nextafter(shadow, -INF) if self.rules.strict_shadow else shadow
        if not self.rules.extra_nodes:
            extra = -1
        if len(free) == 1:  # hot path: one pool, plain locals
            need, f = self._need[0], free[0]
            for j in cands:
                n = need[j]
                if n <= f and (now + est[j] <= deadline or n <= extra):
                    if now + est[j] > deadline:
                        extra -= n
                    self._start(j, 0, now)
                    started.append((j, 0))
                    f -= n
                    if f == 0:
                        break
            return started, max(extra, 0)
        pools = list(enumerate(self._need))
        for j in cands:
            for p, need in pools:
                n = need[j]
                if n > free[p]:
                    continue
                if p == p_r and now + est[j] > deadline:
                    if n > extra:
                        continue
                    extra -= n
                self._start(j, p, now)
                started.append((j, p))
                break
            if not any(free):
                break
        return started, max(extra, 0)

    def _conservative(self, now: float, ordered: list[int]) -> list[tuple[int, int]]:
        """A reservation for every waiting job in order; those whose reservation is now start now."""
        profiles = [
            Profile(now, self.free[p], [(e, need[k]) for e, k in self._running[p]])
            for p, need in enumerate(self._need)
        ]
        started, complete = self._place(profiles, ordered, now)
        self._cons = profiles if complete else None
        return started

    def _conservative_incremental(self, new: list[int], now: float) -> list[tuple[int, int]] | None:
        """New jobs placed after the kept reservations, when that equals a full pass; None otherwise.

        Valid when nothing ended since the last full pass (levels unchanged), no step of the kept
        profiles has been passed, and every new job comes after every older waiting job in the order.
        """
        profiles = self._cons
        queue = self._queue
        if profiles is None or set(queue[-len(new) :]) != set(new):
            return None
        if any(len(prof.times) > 1 and now >= prof.times[1] for prof in profiles):
            return None
        for prof in profiles:
            prof.times[0] = now
        started, complete = self._place(profiles, sorted(new, key=self._rank.__getitem__), now)
        self._cons = profiles if complete else None
        self._drop(started)
        return started

    def _place(
        self, profiles: list[Profile], ordered: Iterable[int], now: float
    ) -> tuple[list[tuple[int, int]], bool]:
        """Reserve each job at its earliest start over the pools; start those that can start now.

        Returns the started jobs and whether every job got a reservation (False: stopped early because
        the cluster is full, so later jobs cannot start now anyway).
        """
        est = self._est
        started: list[tuple[int, int]] = []
        total_free = sum(self.free)
        for j in ordered:
            if total_free == 0:
                return started, False
            best_t, best_p, best_k = INF, -1, -1
            for p, need in enumerate(self._need):
                n = need[j]
                if n > self._nodes[p]:
                    continue
                prof = profiles[p]
                k = prof.earliest(n, est[j])
                t = prof.times[k]
                if t < best_t:
                    best_t, best_p, best_k = t, p, k
            n = self._need[best_p][j]
            profiles[best_p].reserve(best_k, n, est[j])
            if best_k == 0:
                self._start(j, best_p, now)
                started.append((j, best_p))
                total_free -= n
        return started, True
