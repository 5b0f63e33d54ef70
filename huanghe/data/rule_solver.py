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

from huanghe.data.rule_batch import pick_none, prepare, rank_fast, rule_hashes, to_float
from huanghe.data.rule_inputs import Endpoints, Files, Locks, Quota, Replicas, Rule, Solution
from huanghe.data.rule_sequential import SolverState
from huanghe.data.rule_solver_parts import STUCK, exclusion_reason, rule_states


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
    solver = SolverState(endpoints, files, replicas or Replicas(), quotas or {}, seed)
    n_ep, n_r = solver.n_ep, len(rules)
    batch = prepare(endpoints, files, rules, locks or Locks(), solver.avail_keys, solver.present_keys)
    solver.out.lock(batch.l_rule, batch.l_f, batch.l_e, batch.l_state, new=False)
    kept_stuck = np.bincount(batch.l_rule[batch.l_state == STUCK], minlength=n_r)
    hashes = rule_hashes(seed, rules)
    fast = rank_fast(batch, files, solver.rep_ptr, solver.rep_e, hashes, n_ep)
    reasons = [""] * n_r
    shortfall = np.zeros(n_r, dtype=np.int64)
    picks_rule: list[int] = []
    picks_e: list[int] = []
    free = solver.free
    satisfied = batch.satisfied.tolist()
    is_fast = batch.fast.tolist()
    is_fast_none = batch.fast_none.tolist()
    nones = pick_none(batch, files, solver.rep_ptr, solver.rep_e, hashes, np.array([r.copies for r in rules]))
    for i, rule in enumerate(rules):
        if satisfied[i]:
            continue
        if is_fast[i]:
            row = int(fast.row_of[i])
            total = int(fast.total[row])
            q_ep, _ = solver.quota(rule.tenant)
            got = 0
            move = fast.move[row]
            for e in fast.order[row, : fast.n_cand[row]].tolist():
                if move[e] <= free[e] and total <= q_ep[e] and total <= solver.q_total[rule.tenant]:
                    picks_rule.append(i)
                    picks_e.append(e)
                    free[e] -= int(move[e])
                    q_ep[e] -= total
                    solver.q_total[rule.tenant] -= total
                    got += 1
                    if got == rule.copies:
                        break
            if got < rule.copies:
                w = solver.work(i, rule, batch)
                cand = batch.cand[i].copy()
                cand[picks_e[len(picks_e) - got :]] = False  # the endpoints taken count as qualifying
                full = cand & (move > free)
                over = cand & ~full & (total > q_ep)
                rest = int((cand & ~full & ~over).sum())  # fit, but the tenant's total quota ran out
                shortfall[i] = w.shortfall = rule.copies - got
                reasons[i] = exclusion_reason(w, cand, full=full, over_quota=over, over_total=rest)
            continue
        if is_fast_none[i] and not nones.short[i] and solver.take_none(i, rule.tenant, nones):
            continue
        w = solver.work(i, rule, batch)
        if rule.grouping == "all":
            solver.solve_all(w)
        else:
            solver.solve_none(w)
        reasons[i], shortfall[i] = w.reason, w.shortfall
    solver.place_fast(np.array(picks_rule, dtype=np.int64), np.array(picks_e, dtype=np.int64), batch)
    lr, _, _, ls, *_ = solver.out.arrays()
    states, reasons = rule_states(shortfall, reasons, lr, ls, kept_stuck)
    return solver.out.solution(
        [r.id for r in rules], states, reasons, shortfall, files.ids, endpoints.ids, solver.free
    )


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
        w = to_float(col) if col is not None else None
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
