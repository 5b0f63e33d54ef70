"""The replication-rule solver: which endpoints hold each rule's copies, what to transfer, and the rule's state.

:func:`solve` evaluates rules in the given order (the caller sorts them, e.g. by priority then age); free
space and quotas are charged as the solve goes, so a later rule sees what earlier ones took.

* A rule's existing locks are kept (re-evaluating never moves data; solving twice queues nothing new).
  A kept lock becomes ``ok`` when an available replica is there; an ``ok`` lock whose replica is gone or bad
  becomes ``stuck`` (the repairer's job).
* ``grouping="all"``: the rule's files share ``copies`` endpoints. Endpoints are ranked by the bytes still
  to move there (an available or copying replica, also one queued earlier in this solve, moves nothing),
  then by a weighted draw (Efraimidis–Spirakis keys ``u ** (1/w)`` from a hash of seed, rule id, and
  endpoint: deterministic, independent of the other rules). An endpoint qualifies when it matches the
  expression, the residency mask allows it, it is available, has a positive weight (if a weight attribute
  is given), free space for the bytes to move and per-endpoint quota for the rule's bytes; the tenant's
  total quota is charged as endpoints are picked. New files of a rule that already holds endpoints get
  locks there (``stuck`` if the endpoint cannot take them now).
* ``grouping="none"``: each file is placed on its own, ranked the same way per (file, endpoint): first all
  files at once (vectorised); if that overshoots any free space or quota, file by file in order.
* A rule is ``stuck`` when it is short of copies (the reason names the expression, how many endpoints
  match, the copies needed and what excluded the others: residency, unavailable, no weight, full, over
  quota) or holds stuck locks; otherwise ``ok`` when every lock is ok, else ``replicating``. What can be
  placed is placed even when the rule is short.

:func:`repair` re-chooses endpoints for STUCK locks: a stuck lock whose endpoint qualifies again (and has
room) gets a new transfer; otherwise it is released (with ``all`` grouping, every lock of the rule on that
endpoint) and the solve picks a replacement, preferring endpoints that hold the data.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace

import numpy as np

from huanghe.data.rule_inputs import (
    UNLIMITED,
    Endpoints,
    Files,
    Locks,
    Quota,
    Replicas,
    Rule,
    Solution,
)
from huanghe.data.rule_solver_parts import (
    OK,
    REPLICATING,
    STUCK,
    RuleWork,
    Tally,
    exclusion_reason,
    rule_state,
    weighted_rank,
)


class _Solver:
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
        self.pending: dict[int, list[int]] = {}
        self.has_pending = np.zeros(len(files.ids), dtype=bool)
        self.out = Tally()

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
        starts = self.rep_ptr[fidx]
        counts = self.rep_ptr[fidx + 1] - starts
        total = int(counts.sum())
        rows = np.repeat(np.arange(len(fidx)), counts)
        idx = np.arange(total) - np.repeat(np.cumsum(counts) - counts, counts) + np.repeat(starts, counts)
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
            order = np.argsort(key, axis=1, kind="stable")[:, :k]
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
        for r in np.flatnonzero(need > 0).tolist():
            size = int(w.sizes[r])
            fin = np.isfinite(key[r])
            room = here[r] | (self.free[cols] >= size)
            qok = q_ep[cols] >= size
            fit = np.flatnonzero(fin & room & qok)
            fit = fit[np.argsort(key[r, fit], kind="stable")]
            got = 0
            for c in fit.tolist():
                if got == need[r] or self.q_total[w.rule.tenant] < size:
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
            if short[r] and not first_full.any() and not first_quota.any():
                first_full, first_quota = fin & ~room, fin & room & ~qok
        self.note_short(w, short, cols, first_full, first_quota)

    def note_short(
        self, w: RuleWork, short: np.ndarray, cols: np.ndarray, full_c: np.ndarray, quota_c: np.ndarray
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
            w, w.cand, full=full, over_quota=over, over_total=0, files_short=files_short
        )


def _lock_work(
    solver: _Solver, rules: Sequence[Rule], locks: Locks
) -> tuple[dict[str, int], np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Existing locks of the solved rules, sorted by rule: (rule index, file index, endpoint, state, ptr)."""
    pos = {r.id: i for i, r in enumerate(rules)}
    rid = np.array([pos.get(str(x), -1) for x in np.asarray(locks.rule_ids).tolist()], dtype=np.int64)
    keep = rid >= 0
    rid = rid[keep]
    f = solver.files.index(np.asarray(locks.file_ids)[keep], "locks.file_ids")
    e = solver.ep.index(np.asarray(locks.endpoint_ids)[keep], "locks.endpoint_ids")
    st = np.searchsorted(np.array(["ok", "replicating", "stuck"]), np.asarray(locks.states).astype(str)[keep])
    order = np.argsort(rid, kind="stable")
    ptr = np.concatenate([[0], np.cumsum(np.bincount(rid, minlength=len(rules)))])
    return pos, rid[order], f[order], e[order], st[order], ptr


def solve(
    endpoints: Endpoints,
    files: Files,
    rules: Sequence[Rule],
    replicas: Replicas | None = None,
    locks: Locks | None = None,
    quotas: Mapping[str, Quota] | None = None,
    seed: int = 0,
) -> Solution:
    """Evaluate ``rules`` in order; see the module docstring. Raises ValueError (naming the input) for an
    unknown file or endpoint id or a mask of the wrong length."""
    solver = _Solver(endpoints, files, replicas or Replicas(), quotas or {}, seed)
    _, _, l_f, l_e, l_s, l_ptr = _lock_work(solver, rules, locks or Locks())
    n_ep = solver.n_ep
    weights_cache: dict[str | None, np.ndarray] = {}
    states: list[str] = []
    reasons: list[str] = []
    shortfall = np.zeros(len(rules), dtype=np.int64)
    for i, rule in enumerate(rules):
        if len(rule.selection) != n_ep or (rule.allowed is not None and len(rule.allowed) != n_ep):
            raise ValueError(f"rule {rule.id}: selection/allowed need {n_ep} values (one per endpoint)")
        if rule.weight not in weights_cache:
            col = endpoints.table.column(rule.weight) if rule.weight else None
            weights_cache[rule.weight] = (
                np.ones(n_ep)
                if rule.weight is None
                else np.full(n_ep, np.nan)
                if col is None
                else _to_float(col)
            )
        fidx = np.unique(files.index(np.asarray(rule.file_ids), f"rules[{rule.id}].file_ids"))
        lo, hi = int(l_ptr[i]), int(l_ptr[i + 1])
        w = RuleWork.make(
            i, rule, fidx, files.size_bytes[fidx], endpoints.available, weights_cache[rule.weight]
        )
        lf, le, ls = l_f[lo:hi], l_e[lo:hi], l_s[lo:hi]
        w.attach_locks(lf, le)
        # kept locks: ok when an available replica is there; an ok lock whose replica is gone turns stuck
        rows, ep, ok = solver.gather(lf)
        avail_here = np.zeros(len(lf), dtype=bool)
        present = np.zeros(len(lf), dtype=bool)
        match = ep == le[rows]
        avail_here[rows[match & ok]] = True
        present[rows[match]] = True
        kept_state = np.where(
            avail_here, OK, np.where((ls == OK) & ~present, STUCK, np.where(ls == OK, REPLICATING, ls))
        )
        solver.out.lock(i, lf, le, kept_state, new=False)
        if rule.grouping == "all":
            solver.solve_all(w)
        else:
            solver.solve_none(w)
        state, reason = rule_state(w, solver.out.states_of(i), int(np.count_nonzero(kept_state == STUCK)))
        states.append(state)
        reasons.append(reason)
        shortfall[i] = w.shortfall
    return solver.out.solution(
        [r.id for r in rules], states, reasons, shortfall, files.ids, endpoints.ids, solver.free
    )


def _to_float(col: np.ndarray) -> np.ndarray:
    out = np.full(len(col), np.nan)
    for k, v in enumerate(col.tolist()):
        try:
            out[k] = float(v)
        except (TypeError, ValueError):
            continue
    return out


def repair(
    endpoints: Endpoints,
    files: Files,
    rules: Sequence[Rule],
    replicas: Replicas,
    locks: Locks,
    quotas: Mapping[str, Quota] | None = None,
    seed: int = 0,
) -> Solution:
    """Re-choose endpoints for the STUCK locks of ``rules`` given what is available now.

    A stuck lock whose endpoint qualifies again for its rule (selected, allowed, available, weighted) and
    has room gets a new transfer (lock ``replicating``; ``ok`` when an available replica appeared, and no
    transfer when one is being copied). Otherwise it is released: for ``all`` grouping every lock of the
    rule on that endpoint (the group moves together), for ``none`` this lock; then :func:`solve` places the
    missing copies, preferring endpoints that hold the data. The result lists the released locks."""
    pos = {r.id: i for i, r in enumerate(rules)}
    rule_ids = np.asarray(locks.rule_ids).astype(str)
    states = np.asarray(locks.states).astype(object)
    f_all = np.asarray(locks.file_ids, dtype=np.int64)
    e_all = np.asarray(locks.endpoint_ids).astype(str)
    free = endpoints.free.copy()
    present = {
        (int(f), str(e))
        for f, e, s in zip(replicas.file_ids, replicas.endpoint_ids, replicas.states, strict=True)
        if s != "bad"
    }
    release = np.zeros(len(states), dtype=bool)
    released_groups: set[tuple[str, str]] = set()
    retry_f: list[int] = []
    retry_e: list[str] = []
    retry_rule: list[int] = []
    for k in np.flatnonzero(states == "stuck").tolist():
        rid = rule_ids[k]
        if rid not in pos:
            continue
        rule = rules[pos[rid]]
        e = int(endpoints.index(np.array([e_all[k]]), "locks.endpoint_ids")[0])
        size = int(files.size_bytes[files.index(np.array([f_all[k]]), "locks.file_ids")[0]])
        col = endpoints.table.column(rule.weight) if rule.weight else None
        w = _to_float(col) if col is not None else None
        ok = (
            bool(rule.selection[e])
            and (rule.allowed is None or bool(rule.allowed[e]))
            and bool(endpoints.available[e])
        )
        ok = ok and (rule.weight is None or (w is not None and bool(w[e] > 0)))
        here = (int(f_all[k]), e_all[k]) in present
        if ok and (here or free[e] >= size):
            states[k] = "replicating"
            if not here:
                free[e] -= size
                retry_f.append(int(f_all[k]))
                retry_e.append(e_all[k])
                retry_rule.append(pos[rid])
        elif rule.grouping == "all":
            released_groups.add((rid, e_all[k]))
        else:
            release[k] = True
    if released_groups:
        release |= np.array(
            [(r, e) in released_groups for r, e in zip(rule_ids, e_all, strict=True)], dtype=bool
        )
    keep = ~release
    kept_locks = Locks(rule_ids[keep], f_all[keep], e_all[keep], states[keep])
    more = Replicas(
        np.concatenate([np.asarray(replicas.file_ids, dtype=np.int64), np.array(retry_f, dtype=np.int64)]),
        np.concatenate([np.asarray(replicas.endpoint_ids).astype(str), np.array(retry_e, dtype=str)]),
        np.concatenate([np.asarray(replicas.states).astype(str), np.full(len(retry_f), "copying")]),
    )
    now = Endpoints(endpoints.table, endpoints.available, free)
    sol = solve(now, files, rules, more, kept_locks, quotas, seed)
    rel_rule = np.array([pos.get(r, -1) for r in rule_ids[release].tolist()], dtype=np.int64)
    return replace(
        sol,
        transfer_rule=np.concatenate([np.array(retry_rule, dtype=np.int64), sol.transfer_rule]),
        transfer_file_ids=np.concatenate([np.array(retry_f, dtype=np.int64), sol.transfer_file_ids]),
        transfer_endpoint_ids=np.concatenate([np.array(retry_e, dtype=object), sol.transfer_endpoint_ids]),
        released_rule=rel_rule,
        released_file_ids=f_all[release],
        released_endpoint_ids=e_all[release],
    )
