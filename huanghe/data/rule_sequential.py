"""The sequential part of the rule solver (:mod:`huanghe.data.rule_solver`): one solve's free space,
quotas and replicas by file (with the transfers queued so far), and the exact per-rule placement for the
rules the batched steps (:mod:`huanghe.data.rule_batch`) do not settle: rules holding locks, rules sharing
files with another rule of the solve, and batched picks that would overshoot space or quotas. Bytes."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from huanghe.data.rule_batch import Batch, NonePicks, member, replica_positions
from huanghe.data.rule_inputs import UNLIMITED, Endpoints, Files, Quota, Replicas, Rule
from huanghe.data.rule_solver_parts import (
    OK,
    REPLICATING,
    STUCK,
    RuleWork,
    Tally,
    exclusion_reason,
    weighted_rank,
)


class SolverState:
    """State of one solve: free space, quotas, replicas by file (with the transfers queued so far)."""

    def __init__(
        self,
        endpoints: Endpoints,
        files: Files,
        replicas: Replicas,
        quotas: Mapping[str, Quota],
        seed: int,
    ) -> None:
        self.ep = endpoints
        self.files = files
        self.n_ep = len(endpoints.table)
        self.free = endpoints.free.copy()
        self.quotas = quotas
        self.q_ep: dict[str, np.ndarray] = {}
        self.q_total: dict[str, int] = {}
        self.seed = seed
        states = np.asarray(replicas.states).astype(str)
        keep = states != "bad"
        f = files.index(np.asarray(replicas.file_ids)[keep], "replicas.file_ids")
        e = endpoints.index(np.asarray(replicas.endpoint_ids)[keep], "replicas.endpoint_ids")
        order = np.argsort(f, kind="stable")
        self.rep_e = e[order]
        self.rep_ok = (states[keep] == "available")[order]
        self.rep_ptr = np.concatenate([[0], np.cumsum(np.bincount(f, minlength=len(files.ids)))])
        pairs = f[order] * self.n_ep + self.rep_e
        self.present_keys = np.unique(pairs)
        self.avail_keys = np.unique(pairs[self.rep_ok])
        self.pending: dict[int, list[int]] = {}
        self.has_pending = np.zeros(len(files.ids), dtype=bool)
        self.out = Tally()

    def work(self, i: int, rule: Rule, batch: Batch) -> RuleWork:
        """The working state of rule ``i`` for the exact (sequential) path."""
        fidx = batch.files_of(i)
        w = RuleWork.make(i, rule, fidx, self.files.size_bytes[fidx], self.ep.available, batch.weights[i])
        w.attach_locks(*batch.locks_of(i))
        return w

    def place_fast(self, rules: np.ndarray, eps: np.ndarray, batch: Batch) -> None:
        """Locks and transfers of the fast rules' picks (space and quotas were charged when picking)."""
        starts = batch.m_ptr[rules]
        counts = batch.m_ptr[rules + 1] - starts
        idx = (
            np.arange(int(counts.sum()))
            - np.repeat(np.cumsum(counts) - counts, counts)
            + np.repeat(starts, counts)
        )
        f = batch.m_f[idx]
        e = np.repeat(eps, counts)
        r = np.repeat(rules, counts)
        pair = f * self.n_ep + e
        ok = member(self.avail_keys, pair)
        move = ~member(self.present_keys, pair)
        self.out.lock(r, f, e, np.where(ok, OK, REPLICATING), new=True)
        self.out.transfer(r[move], f[move], e[move])

    def take_none(self, i: int, tenant: str, nones: NonePicks) -> bool:
        """Accept the precomputed picks of fast ``none`` rule ``i`` if they fit space and quotas (and charge
        them); False leaves the rule to the exact path."""
        lo, hi = int(nones.ptr[i]), int(nones.ptr[i + 1])
        e, move, size = nones.e[lo:hi], nones.move[lo:hi], nones.size[lo:hi]
        moved = np.bincount(e[move], weights=size[move], minlength=self.n_ep)
        locked = np.bincount(e, weights=size, minlength=self.n_ep)
        q_ep, q_total = self.quota(tenant)
        if np.any(moved > self.free) or np.any(locked > q_ep) or int(size.sum()) > q_total:
            return False
        f = nones.f[lo:hi]
        ok = member(self.avail_keys, f * self.n_ep + e)
        self.out.lock(i, f, e, np.where(ok, OK, REPLICATING), new=True)
        self.out.transfer(i, f[move], e[move])
        self.free -= moved.astype(np.int64)
        self.charge(tenant, e, size)
        return True

    def quota(self, tenant: str) -> tuple[np.ndarray, int]:
        if tenant not in self.q_ep:
            q = self.quotas.get(tenant, Quota())
            arr = np.full(self.n_ep, UNLIMITED, dtype=np.int64)
            if q.per_endpoint:
                ids = np.array(list(q.per_endpoint), dtype=str)
                arr[self.ep.index(ids, f"quotas[{tenant}].per_endpoint")] = list(q.per_endpoint.values())
            self.q_ep[tenant] = arr
            self.q_total[tenant] = UNLIMITED if q.total_bytes is None else int(q.total_bytes)
        return self.q_ep[tenant], self.q_total[tenant]

    def gather(self, fidx: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Present replicas of the files ``fidx``: (row in fidx, endpoint, available?), pending included."""
        counts, idx = replica_positions(self.rep_ptr, fidx)
        rows = np.repeat(np.arange(len(fidx)), counts)
        ep, ok = self.rep_e[idx], self.rep_ok[idx]
        if self.has_pending[fidx].any():
            extra_r, extra_e = [], []
            for r in np.flatnonzero(self.has_pending[fidx]):
                for e in self.pending[int(fidx[r])]:
                    extra_r.append(r)
                    extra_e.append(e)
            rows = np.concatenate([rows, np.array(extra_r, dtype=np.int64)])
            ep = np.concatenate([ep, np.array(extra_e, dtype=np.int64)])
            ok = np.concatenate([ok, np.zeros(len(extra_r), dtype=bool)])
        return rows, ep, ok

    def queue(
        self, w: RuleWork, rows: np.ndarray, e: np.ndarray, state: np.ndarray, transfer: np.ndarray
    ) -> None:
        """Record new locks (rows of w's files on endpoints e) and the transfers among them; charge space."""
        f = w.fidx[rows]
        self.out.lock(w.index, f, e, state, new=True)
        if transfer.any():
            tf, te = f[transfer], e[transfer]
            self.out.transfer(w.index, tf, te)
            np.subtract.at(self.free, te, self.files.size_bytes[tf])
            for a, b in zip(tf.tolist(), te.tolist(), strict=True):
                self.pending.setdefault(a, []).append(b)
            self.has_pending[tf] = True

    def charge(self, tenant: str, e: np.ndarray, nbytes: np.ndarray) -> None:
        q_ep, _ = self.quota(tenant)
        np.subtract.at(q_ep, e, nbytes)
        self.q_total[tenant] -= int(nbytes.sum())

    # --- grouping "all" -------------------------------------------------------------------------------
    def solve_all(self, w: RuleWork) -> None:
        rows, ep, ok = self.gather(w.fidx)
        sizes = w.sizes
        n = len(w.fidx)
        q_ep, _ = self.quota(w.rule.tenant)
        kept = np.unique(w.lock_e)
        for e in kept.tolist():  # files of the rule without a lock on an endpoint it holds
            has = np.zeros(n, dtype=bool)
            has[w.lock_rows[w.lock_e == e]] = True
            need = ~has
            if not need.any():
                continue
            here_ok = np.zeros(n, dtype=bool)
            here_ok[rows[(ep == e) & ok]] = True
            here = np.zeros(n, dtype=bool)
            here[rows[ep == e]] = True
            move = int(sizes[need & ~here].sum())
            lock_bytes = int(sizes[need].sum())
            fits = (
                w.cand[e]
                and move <= self.free[e]
                and lock_bytes <= q_ep[e]
                and lock_bytes <= self.q_total[w.rule.tenant]
            )
            r = np.flatnonzero(need)
            state = np.where(here_ok[r], OK, REPLICATING if fits else STUCK)
            self.queue(w, r, np.full(len(r), e), state, (~here[r]) & fits)
            if fits:
                self.charge(w.rule.tenant, np.array([e]), np.array([lock_bytes]))
            else:
                w.blocked.append(e)
        extra = w.rule.copies - len(kept)
        if extra <= 0 or n == 0:
            return
        total = int(sizes.sum())
        present = np.bincount(ep, weights=sizes[rows].astype(float), minlength=self.n_ep)
        move_all = total - present.astype(np.int64)
        free_ok = move_all <= self.free
        quota_ok = total <= q_ep
        avail = w.cand.copy()
        avail[kept] = False
        eligible = avail & free_ok & quota_ok
        idx = np.flatnonzero(eligible)
        rank = weighted_rank(self.seed, w.rule.id, np.zeros(1, np.int64), idx, w.weights[idx])[0]
        order = idx[np.lexsort((rank, move_all[idx]))]
        picked: list[int] = []
        over_total = 0
        for e in order.tolist():
            if total > self.q_total[w.rule.tenant]:
                over_total = len(order) - len(picked)
                break
            picked.append(e)
            here_ok = np.zeros(n, dtype=bool)
            here_ok[rows[(ep == e) & ok]] = True
            here = np.zeros(n, dtype=bool)
            here[rows[ep == e]] = True
            r = np.arange(n)
            self.queue(w, r, np.full(n, e), np.where(here_ok, OK, REPLICATING), ~here)
            self.charge(w.rule.tenant, np.array([e]), np.array([total]))
            if len(picked) == extra:
                break
        if len(picked) < extra:
            w.shortfall = extra - len(picked)
            w.reason = exclusion_reason(
                w, avail, full=avail & ~free_ok, over_quota=avail & free_ok & ~quota_ok, over_total=over_total
            )

    # --- grouping "none" ------------------------------------------------------------------------------
    def solve_none(self, w: RuleWork) -> None:
        n = len(w.fidx)
        lock_count = np.bincount(w.lock_rows, minlength=n)
        need = np.maximum(w.rule.copies - lock_count, 0)
        if n == 0 or need.max() == 0:
            return
        cols = np.flatnonzero(w.cand)
        col_of = np.full(self.n_ep, -1)
        col_of[cols] = np.arange(len(cols))
        rows, ep, ok = self.gather(w.fidx)
        inside = col_of[ep] >= 0
        here = np.zeros((n, len(cols)), dtype=bool)
        here[rows[inside], col_of[ep[inside]]] = True
        here_ok = np.zeros_like(here)
        sel = inside & ok
        here_ok[rows[sel], col_of[ep[sel]]] = True
        key = (~here).astype(float) + 0.5 * weighted_rank(
            self.seed, w.rule.id, self.files.ids[w.fidx], cols, w.weights[cols]
        )
        lk = col_of[w.lock_e] >= 0
        key[w.lock_rows[lk], col_of[w.lock_e[lk]]] = np.inf
        k = int(need.max())
        q_ep, q_total = self.quota(w.rule.tenant)
        if len(cols):
            if k < key.shape[1]:  # only the k best of each row, in order
                top = np.argpartition(key, k - 1, axis=1)[:, :k]
                order = np.take_along_axis(
                    top, np.argsort(np.take_along_axis(key, top, axis=1), axis=1), axis=1
                )
            else:
                order = np.argsort(key, axis=1, kind="stable")
            kk = order.shape[1]
            r = np.repeat(np.arange(n), kk)
            c = order.ravel()
            take = (np.tile(np.arange(kk), n) < np.repeat(need, kk)) & np.isfinite(key[r, c])
            r, c = r[take], c[take]
            move = ~here[r, c]
            size = w.sizes[r]
            e = cols[c]
            moved = np.bincount(e[move], weights=size[move].astype(float), minlength=self.n_ep)
            locked = np.bincount(e, weights=size.astype(float), minlength=self.n_ep)
            if np.all(moved <= self.free) and np.all(locked <= q_ep) and size.sum() <= q_total:
                self.queue(w, r, e, np.where(here_ok[r, c], OK, REPLICATING), move)
                self.charge(w.rule.tenant, e, size)
                short = need - np.bincount(r, minlength=n)
                self.note_short(w, short, cols, np.zeros(len(cols), bool), np.zeros(len(cols), bool))
                return
        self.file_by_file(w, need, cols, key, here, here_ok)

    def file_by_file(
        self,
        w: RuleWork,
        need: np.ndarray,
        cols: np.ndarray,
        key: np.ndarray,
        here: np.ndarray,
        here_ok: np.ndarray,
    ) -> None:
        """Exact greedy placement, one file after the other (when the vectorised pass overshoots)."""
        q_ep, _ = self.quota(w.rule.tenant)
        short = np.zeros(len(need), dtype=np.int64)
        first_full = first_quota = np.zeros(len(cols), dtype=bool)
        first_total, recorded = 0, False  # why the first file short of copies is short
        for r in np.flatnonzero(need > 0).tolist():
            size = int(w.sizes[r])
            fin = np.isfinite(key[r])
            room = here[r] | (self.free[cols] >= size)
            qok = q_ep[cols] >= size
            fit = np.flatnonzero(fin & room & qok)
            fit = fit[np.argsort(key[r, fit], kind="stable")]
            got, by_total = 0, False
            for c in fit.tolist():
                if got == need[r]:
                    break
                if self.q_total[w.rule.tenant] < size:
                    by_total = True
                    break
                e = int(cols[c])
                self.queue(
                    w,
                    np.array([r]),
                    np.array([e]),
                    np.array([OK if here_ok[r, c] else REPLICATING]),
                    np.array([not here[r, c]]),
                )
                self.charge(w.rule.tenant, np.array([e]), np.array([size]))
                got += 1
            short[r] = need[r] - got
            if short[r] and not recorded:
                recorded = True
                first_full, first_quota = fin & ~room, fin & room & ~qok
                first_total = len(fit) - got if by_total else 0
        self.note_short(w, short, cols, first_full, first_quota, first_total)

    def note_short(
        self,
        w: RuleWork,
        short: np.ndarray,
        cols: np.ndarray,
        full_c: np.ndarray,
        quota_c: np.ndarray,
        over_total: int = 0,
    ) -> None:
        if not short.any():
            return
        w.shortfall = int(short.sum())
        full = np.zeros(self.n_ep, dtype=bool)
        over = np.zeros(self.n_ep, dtype=bool)
        full[cols[full_c]] = True
        over[cols[quota_c]] = True
        files_short = int(np.count_nonzero(short))
        w.reason = exclusion_reason(
            w, w.cand, full=full, over_quota=over, over_total=over_total, files_short=files_short
        )
