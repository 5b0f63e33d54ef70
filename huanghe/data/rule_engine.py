"""The rule engine on the database: load rules, files, replicas, locks, quotas and residency, run the pure
solver (:mod:`huanghe.data.rule_solver`), and store its decision — new locks, lock states, transfers to queue,
released locks, each rule's state and reason. Rucio's "judge evaluator" and "judge repairer" in one module.

* :func:`evaluate` places rules that are new, replicating or stuck (or the ones named);
* :func:`repair` re-chooses endpoints for the STUCK locks (another source/target now qualifies);
* :func:`release_locks` drops a rule's locks: each replica no rule protects any more gets a tombstone, from
  which the reaper (:mod:`huanghe.data.reaper`) may delete it when its endpoint needs space.

Nothing here commits: the caller owns the transaction. Times are epoch seconds from the caller's clock.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from huanghe.audit import service as audit
from huanghe.data import protection, transfer_queue
from huanghe.data.endpoint_table import StoredEndpoints, load_endpoints
from huanghe.data.expression import ExpressionError, parse
from huanghe.data.models import (
    DataFileRow,
    DataQuotaRow,
    DatasetRow,
    FileReplicaRow,
    ReplicaLockRow,
    ReplicationRuleRow,
    TransferRow,
)
from huanghe.data.replica_repair import flag_bad_locks
from huanghe.data.rule_inputs import Endpoints, Files, Locks, Quota, Replicas, Rule, Solution
from huanghe.data.rule_solver import repair as solver_repair
from huanghe.data.rule_solver import solve

#: Transfer states that still hold bytes for their destination.
LIVE_TRANSFER_STATES = ("queued", "active")
#: Replica states the solver knows (``deleting`` replicas are ignored).
SOLVER_REPLICA_STATES = ("available", "copying", "bad")


@dataclass
class EvaluationReport:
    """What one evaluation did: rules evaluated, locks added and released, transfers queued, states."""

    rules: int = 0
    locks_added: int = 0
    locks_released: int = 0
    transfers_queued: int = 0
    states: dict[str, int] = field(default_factory=dict)


@dataclass
class _Inputs:
    stored: StoredEndpoints
    files: Files
    replicas: Replicas
    locks: Locks
    quotas: dict[str, Quota]
    rules: list[Rule]
    rows: dict[str, ReplicationRuleRow]
    broken: dict[str, str]  # rule id → why it cannot be evaluated (bad expression)


def _pending_bytes(session: Session) -> dict[str, int]:
    """Bytes of queued and active transfers per destination endpoint (space already promised)."""
    q = (
        select(TransferRow.dest_endpoint_id, func.sum(DataFileRow.size_bytes))
        .join(DataFileRow, DataFileRow.id == TransferRow.file_id)
        .where(TransferRow.state.in_(LIVE_TRANSFER_STATES))
        .group_by(TransferRow.dest_endpoint_id)
    )
    return {str(e): int(b or 0) for e, b in session.execute(q)}


def _quotas(session: Session, tenants: set[str]) -> dict[str, Quota]:
    """Each tenant's remaining bytes in total and per endpoint: limits minus the sizes its locks hold."""
    if not tenants:
        return {}
    limits: dict[str, dict[str, int]] = defaultdict(dict)
    for t, ep, lim in session.execute(
        select(DataQuotaRow.tenant_id, DataQuotaRow.endpoint_id, DataQuotaRow.limit_bytes).where(
            DataQuotaRow.tenant_id.in_(tenants)
        )
    ):
        limits[str(t)][str(ep)] = int(lim)
    used: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    if limits:
        q = (
            select(ReplicationRuleRow.tenant_id, ReplicaLockRow.endpoint_id, func.sum(DataFileRow.size_bytes))
            .join(ReplicationRuleRow, ReplicationRuleRow.id == ReplicaLockRow.rule_id)
            .join(DataFileRow, DataFileRow.id == ReplicaLockRow.file_id)
            .where(ReplicationRuleRow.tenant_id.in_(list(limits)))
            .group_by(ReplicationRuleRow.tenant_id, ReplicaLockRow.endpoint_id)
        )
        for t, ep, b in session.execute(q):
            used[str(t)][str(ep)] += int(b or 0)
    out: dict[str, Quota] = {}
    for t, limit_of in limits.items():
        total_used = sum(used[t].values())
        total = limit_of.get("*")
        out[t] = Quota(
            total_bytes=None if total is None else max(0, total - total_used),
            per_endpoint={ep: max(0, v - used[t].get(ep, 0)) for ep, v in limit_of.items() if ep != "*"},
        )
    return out


def allowed_mask(session: Session, ds: DatasetRow, stored: StoredEndpoints) -> np.ndarray | None:
    """Endpoints where ``ds`` may have a copy by its data-security class (None: general data, anywhere that
    accepts it is decided by the center's own classes below)."""
    centers = stored.centers
    verdict: dict[str, bool] = {}
    for c in set(centers.tolist()):
        verdict[c] = protection.refusal(session, ds, c) is None
    mask = np.array([verdict[c] for c in centers.tolist()], dtype=bool)
    return None if ds.data_class == "general" and bool(mask.all()) else mask


def _load(session: Session, rule_rows: Sequence[ReplicationRuleRow]) -> _Inputs:
    stored = load_endpoints(session)
    pending = _pending_bytes(session)
    if pending:
        pos = stored.position()
        free = stored.endpoints.free.copy()
        for ep, b in pending.items():
            if ep in pos:
                free[pos[ep]] = max(0, int(free[pos[ep]]) - b)
        stored = StoredEndpoints(
            type(stored.endpoints)(stored.table, stored.endpoints.available, free),
            stored.centers, stored.capacity_bytes, stored.used_bytes,
        )  # fmt: skip
    datasets = {r.dataset_id for r in rule_rows}
    frows = (
        session.execute(
            select(DataFileRow.id, DataFileRow.dataset_id, DataFileRow.size_bytes).where(
                DataFileRow.dataset_id.in_(datasets), DataFileRow.state == "available"
            )
        ).all()
        if datasets
        else []
    )
    files_of: dict[str, list[int]] = defaultdict(list)
    for fid, ds, _size in frows:
        files_of[str(ds)].append(int(fid))
    files = Files(
        np.array([r[0] for r in frows], dtype=np.int64), np.array([r[2] for r in frows], dtype=np.int64)
    )
    fids = [int(r[0]) for r in frows]
    reps = (
        session.execute(
            select(FileReplicaRow.file_id, FileReplicaRow.endpoint_id, FileReplicaRow.state).where(
                FileReplicaRow.file_id.in_(fids), FileReplicaRow.state.in_(SOLVER_REPLICA_STATES)
            )
        ).all()
        if fids
        else []
    )
    replicas = Replicas(
        np.array([r[0] for r in reps], dtype=np.int64),
        np.array([r[1] for r in reps], dtype=object),
        np.array([r[2] for r in reps], dtype=object),
    )
    ids = [r.id for r in rule_rows]
    lrows = (
        session.execute(
            select(
                ReplicaLockRow.rule_id,
                ReplicaLockRow.file_id,
                ReplicaLockRow.endpoint_id,
                ReplicaLockRow.state,
            ).where(ReplicaLockRow.rule_id.in_(ids))
        ).all()
        if ids
        else []
    )
    known = set(fids)
    lrows = [
        r for r in lrows if int(r[1]) in known
    ]  # locks on files no longer available are kept as they are
    locks = Locks(
        np.array([r[0] for r in lrows], dtype=object),
        np.array([r[1] for r in lrows], dtype=np.int64),
        np.array([r[2] for r in lrows], dtype=object),
        np.array([r[3] for r in lrows], dtype=object),
    )
    custom = stored.table.custom_keys()
    rules: list[Rule] = []
    broken: dict[str, str] = {}
    ds_rows = {d.id: d for d in session.scalars(select(DatasetRow).where(DatasetRow.id.in_(datasets)))}
    masks: dict[str, np.ndarray | None] = {}
    for row in rule_rows:
        try:
            selection = parse(row.expression, custom).select(stored.table)
        except ExpressionError as exc:
            broken[row.id] = str(exc)
            continue
        ds_row = ds_rows[row.dataset_id]
        if ds_row.id not in masks:
            masks[ds_row.id] = allowed_mask(session, ds_row, stored)
        rules.append(
            Rule(
                id=row.id,
                file_ids=np.array(files_of.get(row.dataset_id, []), dtype=np.int64),
                copies=row.copies,
                selection=selection,
                expression=row.expression,
                grouping=row.grouping,
                weight=row.weight,
                tenant=row.tenant_id,
                allowed=masks[ds_row.id],
            )
        )
    return _Inputs(
        stored, files, replicas, locks, _quotas(session, {r.tenant_id for r in rule_rows}), rules,
        {r.id: r for r in rule_rows}, broken,
    )  # fmt: skip


def _protect(session: Session, pairs: Iterable[tuple[int, str]], delta: int, now: float) -> None:
    """Add ``delta`` to the lock count of each (file, endpoint) replica; a count reaching 0 sets the
    replica's tombstone (the reaper may delete it), a positive one clears it."""
    for (fid, ep), n in _count(pairs).items():
        rep = session.get(FileReplicaRow, (fid, ep))
        if rep is None:
            continue
        rep.lock_count = max(0, rep.lock_count + delta * n)
        rep.tombstone_s = None if rep.lock_count > 0 else (rep.tombstone_s or now)


def _count(pairs: Iterable[tuple[int, str]]) -> dict[tuple[int, str], int]:
    out: dict[tuple[int, str], int] = defaultdict(int)
    for p in pairs:
        out[p] += 1
    return out


def _store(session: Session, inp: _Inputs, sol: Solution, now: float, rep: EvaluationReport) -> None:
    rule_ids = sol.rule_ids
    existing = {
        (str(r), int(f), str(e)): str(s)
        for r, f, e, s in zip(inp.locks.rule_ids, inp.locks.file_ids, inp.locks.endpoint_ids, inp.locks.states,
                              strict=True)
    }  # fmt: skip
    added: list[tuple[int, str]] = []
    for k in range(len(sol.lock_rule)):
        rid = rule_ids[int(sol.lock_rule[k])]
        key = (rid, int(sol.lock_file_ids[k]), str(sol.lock_endpoint_ids[k]))
        state = str(sol.lock_states[k])
        if key not in existing:
            session.add(ReplicaLockRow(rule_id=key[0], file_id=key[1], endpoint_id=key[2], state=state))
            added.append((key[1], key[2]))
        elif existing[key] != state:
            session.execute(
                update(ReplicaLockRow)
                .where(ReplicaLockRow.rule_id == key[0], ReplicaLockRow.file_id == key[1],
                       ReplicaLockRow.endpoint_id == key[2])
                .values(state=state)
            )  # fmt: skip
    session.flush()
    _protect(session, added, +1, now)
    rep.locks_added += len(added)
    released = [
        (rule_ids[int(r)], int(f), str(e))
        for r, f, e in zip(sol.released_rule, sol.released_file_ids, sol.released_endpoint_ids, strict=True)
    ]
    for rid, fid, ep in released:
        session.execute(
            delete(ReplicaLockRow).where(
                ReplicaLockRow.rule_id == rid, ReplicaLockRow.file_id == fid, ReplicaLockRow.endpoint_id == ep
            )
        )
    _protect(session, [(f, e) for _, f, e in released], -1, now)
    rep.locks_released += len(released)
    for k in range(len(sol.transfer_rule)):
        row = inp.rows[rule_ids[int(sol.transfer_rule[k])]]
        fid, dest = int(sol.transfer_file_ids[k]), str(sol.transfer_endpoint_ids[k])
        if transfer_queue.live_transfer(session, fid, dest) is None:
            transfer_queue.queue_transfer(
                session, fid, dest, now_s=now, rule_id=row.id, priority=row.priority
            )
            rep.transfers_queued += 1
    for i, rid in enumerate(rule_ids):
        _set_state(session, inp.rows[rid], sol.states[i], sol.reasons[i], now)
    for rid, why in inp.broken.items():
        _set_state(session, inp.rows[rid], "stuck", why, now)


def refresh_counts(session: Session, rule_ids: Iterable[str]) -> None:
    """Recount each rule's locks by state into its ``locks_*`` columns."""
    ids = list(rule_ids)
    if not ids:
        return
    counts: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for rid, state, n in session.execute(
        select(ReplicaLockRow.rule_id, ReplicaLockRow.state, func.count())
        .where(ReplicaLockRow.rule_id.in_(ids))
        .group_by(ReplicaLockRow.rule_id, ReplicaLockRow.state)
    ):
        counts[str(rid)][str(state)] = int(n)
    for rid in ids:
        row = session.get(ReplicationRuleRow, rid)
        if row is None:
            continue
        c = counts[rid]
        row.locks_ok, row.locks_replicating, row.locks_stuck = c["ok"], c["replicating"], c["stuck"]


def _set_state(session: Session, row: ReplicationRuleRow, state: str, reason: str, now: float) -> None:
    if row.state == state and row.reason == reason:
        return
    before = row.state
    row.state, row.reason, row.updated_s = state, reason, now
    if before != state:
        audit.record(
            session, "system:rules", "rule.state", row.id,
            {"from": before, "to": state, "reason": reason, "dataset": row.dataset_id}, now=now,
        )  # fmt: skip


def _rows(
    session: Session, rule_ids: Sequence[str] | None, states: Sequence[str]
) -> list[ReplicationRuleRow]:
    q = select(ReplicationRuleRow).where(ReplicationRuleRow.state != "suspended")
    q = (
        q.where(ReplicationRuleRow.id.in_(rule_ids))
        if rule_ids is not None
        else q.where(ReplicationRuleRow.state.in_(states))
    )
    return list(session.scalars(q.order_by(ReplicationRuleRow.priority.desc(), ReplicationRuleRow.created_s,
                                           ReplicationRuleRow.id)))  # fmt: skip


#: :func:`huanghe.data.rule_solver.solve` or :func:`huanghe.data.rule_solver.repair`
_Solver = Callable[[Endpoints, Files, Sequence[Rule], Replicas, Locks, Mapping[str, Quota]], Solution]


def _place(session: Session, now: float, rows: list[ReplicationRuleRow], solver: _Solver) -> EvaluationReport:
    """Run ``solver`` over the rules ``rows`` (their files, replicas, locks and quotas as stored), store its
    decision at ``now`` (epoch seconds; not committed) and count the rules' states afterwards."""
    rep = EvaluationReport(rules=len(rows))
    if not rows:
        return rep
    inp = _load(session, rows)
    sol = solver(inp.stored.endpoints, inp.files, inp.rules, inp.replicas, inp.locks, inp.quotas)
    _store(session, inp, sol, now, rep)
    refresh_counts(session, [r.id for r in rows])
    for r in rows:
        rep.states[r.state] = rep.states.get(r.state, 0) + 1
    return rep


def evaluate(session: Session, now: float, *, rule_ids: Sequence[str] | None = None) -> EvaluationReport:
    """Place the named rules (default: every rule replicating or stuck, highest priority first) and store
    the decision (not committed)."""
    return _place(session, now, _rows(session, rule_ids, ("replicating", "stuck")), solve)


def repair(session: Session, now: float, *, rule_ids: Sequence[str] | None = None) -> EvaluationReport:
    """Re-choose endpoints for the STUCK locks of the named rules (default: every stuck rule); locks on copies
    found bad are made STUCK first (:func:`huanghe.data.replica_repair.flag_bad_locks`)."""
    flag_bad_locks(session, now)
    return _place(session, now, _rows(session, rule_ids, ("stuck",)), solver_repair)


def release_locks(session: Session, rule_id: str, now: float) -> int:
    """Drop every lock of ``rule_id`` (tombstoning replicas nothing protects any more) and cancel its
    queued transfers that no other rule waits for; returns the locks released."""
    locks = session.execute(
        select(ReplicaLockRow.file_id, ReplicaLockRow.endpoint_id).where(ReplicaLockRow.rule_id == rule_id)
    ).all()
    session.execute(delete(ReplicaLockRow).where(ReplicaLockRow.rule_id == rule_id))
    pairs = [(int(f), str(e)) for f, e in locks]
    _protect(session, pairs, -1, now)
    for t in session.scalars(
        select(TransferRow).where(TransferRow.rule_id == rule_id, TransferRow.state == "queued")
    ):
        other = session.scalar(
            select(func.count())
            .select_from(ReplicaLockRow)
            .where(ReplicaLockRow.file_id == t.file_id, ReplicaLockRow.endpoint_id == t.dest_endpoint_id)
        )
        if not other:
            t.state, t.error, t.finished_s = "failed", "cancelled: its rule was removed (规则已删除)", now
    return len(pairs)
