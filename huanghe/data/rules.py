"""Replication rules: add (validated, residency-checked, evaluated at once), list, show, locks, delete,
suspend/resume, expire — each use case owns its transaction and audits what it changes.

A rule asks for ``copies`` copies of every file of a dataset on endpoints matching an expression
(docs/data-rules.md). Creation is refused (422 on ``expression``) when fewer endpoints match than copies are
asked — and, for important and core data, when the protection catalog leaves too few of them (the refusal is
audited with its reason). An accepted rule that cannot be met now (endpoints down, full, over quota) is
STUCK with the reason, and the repairer retries it.
"""

from __future__ import annotations

import secrets
import time

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from huanghe.audit import service as audit
from huanghe.core.clock import Clock, WallClock
from huanghe.core.errors import NotFoundError, invalid
from huanghe.core.paging import DEFAULT_PAGE_LIMIT, Page
from huanghe.data import rule_engine as engine
from huanghe.data.endpoint_table import load_endpoints
from huanghe.data.expression import ATTRIBUTES, ExpressionError, parse
from huanghe.data.models import (
    DataFileRow,
    DatasetRow,
    ReplicaLockRow,
    ReplicationRuleRow,
    StorageEndpointRow,
)
from huanghe.data.rule_schemas import LockPublic, RuleCreate, RuleOrigin, RulePublic, RuleState
from huanghe.store.crud import get_row, page_of


def _public(row: ReplicationRuleRow) -> RulePublic:
    return RulePublic(
        id=row.id, dataset=row.dataset_id, tenant=row.tenant_id, copies=row.copies, expression=row.expression,
        grouping=row.grouping, weight=row.weight, lifetime_s=row.lifetime_s, expires_s=row.expires_s,
        state=RuleState(row.state), reason=row.reason, origin=RuleOrigin(row.origin), priority=row.priority,
        locks_ok=row.locks_ok, locks_replicating=row.locks_replicating, locks_stuck=row.locks_stuck,
        created_by=row.created_by, created_s=row.created_s, updated_s=row.updated_s,
    )  # fmt: skip


def new_rule_id() -> str:
    """``r`` + 16 random hex digits."""
    return "r" + secrets.token_hex(8)


def tenant_of_rule(session: Session, rule_id: str) -> str:
    """The tenant owning rule ``rule_id``; :class:`NotFoundError` when there is none."""
    return get_row(session, ReplicationRuleRow, rule_id, "rule").tenant_id


def _number(value: object) -> float:
    try:
        return float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return float("nan")


def check_rule(session: Session, body: RuleCreate, ds: DatasetRow) -> None:
    """Refuse (422 naming the field) a rule that can never be met: a bad expression or weight, fewer
    matching endpoints than copies, or — for important and core data — fewer allowed ones (audited)."""
    stored = load_endpoints(session)
    custom = stored.table.custom_keys()
    try:
        selection = parse(body.expression, custom).select(stored.table)
    except ExpressionError as exc:
        raise exc.invalid("expression") from None
    if body.weight is not None:
        column = stored.table.column(body.weight)
        if body.weight not in ATTRIBUTES | custom or column is None:
            raise invalid("weight", f"no endpoint has the attribute {body.weight!r} (没有该属性)")
        weights = np.array([_number(v) for v in column.tolist()])
        selection = selection & (weights > 0)  # endpoints without a positive weight do not qualify
    matched = int(selection.sum())
    if matched < body.copies:
        raise invalid(
            "expression",
            f"{matched} endpoint(s) match {body.expression!r}"
            f"{'' if body.weight is None else f' with a positive {body.weight}'} but {body.copies} copies are asked "
            f"(匹配的存储端点不足)",
        )
    allowed = engine.allowed_mask(session, ds, stored)
    if allowed is not None and int((selection & allowed).sum()) < body.copies:
        refused = [str(e) for e, ok in zip(stored.table.ids, selection & ~allowed, strict=True) if ok]
        reason = (
            f"{ds.data_class} data of {ds.id} may not be copied to {', '.join(refused[:5])}"
            f"{' …' if len(refused) > 5 else ''}: only {int((selection & allowed).sum())} allowed endpoint(s) "
            f"match, {body.copies} copies asked (数据安全：不允许复制到这些端点)"
        )
        audit.record(session, "system:residency", "rule.refused", ds.id,
                     {"expression": body.expression, "copies": body.copies, "reason": reason})  # fmt: skip
        session.commit()
        raise invalid("expression", reason)


def create_rule(
    session: Session, body: RuleCreate, *, tenant: str, actor: str, origin: RuleOrigin = RuleOrigin.USER,
    now: float,
) -> ReplicationRuleRow:  # fmt: skip
    """Insert a rule (not committed, not evaluated); see :func:`add_rule`."""
    row = ReplicationRuleRow(
        id=new_rule_id(), dataset_id=body.dataset, tenant_id=tenant, copies=body.copies,
        expression=str(parse(body.expression, load_endpoints(session).table.custom_keys())),
        grouping=body.grouping.value, weight=body.weight, lifetime_s=body.lifetime_s,
        expires_s=None if body.lifetime_s is None else now + body.lifetime_s, state="replicating", reason="",
        origin=origin.value, priority=body.priority, locks_ok=0, locks_replicating=0, locks_stuck=0,
        created_by=actor, created_s=now, updated_s=now,
    )  # fmt: skip
    session.add(row)
    session.flush()
    audit.record(session, actor, "rule.add", row.id, {**body.model_dump(mode="json"), "origin": origin.value},
                 now=now)  # fmt: skip
    return row


def add_rule(
    session: Session, body: RuleCreate, *, actor: str, origin: RuleOrigin = RuleOrigin.USER,
    clock: Clock | None = None,
) -> RulePublic:  # fmt: skip
    """Validate, store and evaluate a rule in one transaction (the tenant is the dataset's)."""
    now = (clock or WallClock()).now_s()
    ds = session.get(DatasetRow, body.dataset)
    if ds is None:
        raise NotFoundError("dataset", body.dataset)
    check_rule(session, body, ds)
    row = create_rule(session, body, tenant=ds.tenant_id, actor=actor, origin=origin, now=now)
    engine.evaluate(session, now, rule_ids=[row.id])
    session.commit()
    return _public(row)


def get_rule(session: Session, rule_id: str) -> RulePublic:
    return _public(get_row(session, ReplicationRuleRow, rule_id, "rule"))


def list_rules(
    session: Session, *, tenant: str | None = None, dataset: str | None = None, state: RuleState | None = None,
    limit: int = DEFAULT_PAGE_LIMIT, offset: int = 0,
) -> Page[RulePublic]:  # fmt: skip
    """A page of rules, newest first, optionally of one tenant, dataset or state."""
    q = select(ReplicationRuleRow)
    if tenant is not None:
        q = q.where(ReplicationRuleRow.tenant_id == tenant)
    if dataset is not None:
        q = q.where(ReplicationRuleRow.dataset_id == dataset)
    if state is not None:
        q = q.where(ReplicationRuleRow.state == state.value)
    order = (ReplicationRuleRow.created_s.desc(), ReplicationRuleRow.id)
    return page_of(session, q, order, limit, offset, _public)


def list_locks(
    session: Session, rule_id: str, *, limit: int = DEFAULT_PAGE_LIMIT, offset: int = 0
) -> Page[LockPublic]:
    """A page of a rule's locks: each file's copy on each endpoint, with its center and state."""
    get_row(session, ReplicationRuleRow, rule_id, "rule")
    q = (
        select(ReplicaLockRow, DataFileRow.name, StorageEndpointRow.center_id)
        .join(DataFileRow, DataFileRow.id == ReplicaLockRow.file_id)
        .join(StorageEndpointRow, StorageEndpointRow.id == ReplicaLockRow.endpoint_id)
        .where(ReplicaLockRow.rule_id == rule_id)
    )

    def to(r: tuple[ReplicaLockRow, str, str]) -> LockPublic:
        lock, name, center = r
        return LockPublic(
            rule=lock.rule_id, file=name, endpoint=lock.endpoint_id, center=center, state=lock.state
        )

    return page_of(session, q, (DataFileRow.name, ReplicaLockRow.endpoint_id), limit, offset, to)


def delete_rule(session: Session, rule_id: str, *, actor: str, clock: Clock | None = None) -> None:
    """Remove a rule: its locks are released (replicas nothing else protects get a tombstone for the
    reaper) and its queued transfers cancelled."""
    now = (clock or WallClock()).now_s()
    row = get_row(session, ReplicationRuleRow, rule_id, "rule")
    released = engine.release_locks(session, rule_id, now)
    audit.record(
        session, actor, "rule.delete", rule_id, {"dataset": row.dataset_id, "locks": released}, now=now
    )
    session.delete(row)
    session.commit()


def set_suspended(
    session: Session, rule_id: str, suspended: bool, *, actor: str, clock: Clock | None = None
) -> RulePublic:
    """Suspend a rule (no evaluation, no repair; its locks stay) or resume it (evaluated at once)."""
    now = (clock or WallClock()).now_s()
    row = get_row(session, ReplicationRuleRow, rule_id, "rule")
    if suspended and row.state != "suspended":
        row.state, row.reason, row.updated_s = "suspended", f"suspended by {actor} (已暂停)", now
        audit.record(session, actor, "rule.suspend", rule_id, {}, now=now)
    elif not suspended and row.state == "suspended":
        row.state, row.reason, row.updated_s = "replicating", "", now
        audit.record(session, actor, "rule.resume", rule_id, {}, now=now)
        session.flush()
        engine.evaluate(session, now, rule_ids=[rule_id])
    session.commit()
    return _public(row)


def expire_rules(session: Session, now: float | None = None) -> int:
    """Delete every rule whose lifetime is over (its copies are released); returns how many."""
    now = time.time() if now is None else now
    ids = list(session.scalars(select(ReplicationRuleRow.id).where(ReplicationRuleRow.expires_s <= now)))
    for rid in ids:
        row = session.get(ReplicationRuleRow, rid)
        if row is None:
            continue
        released = engine.release_locks(session, rid, now)
        audit.record(session, "system:expiry", "rule.expire", rid, {"dataset": row.dataset_id, "locks": released},
                     now=now)  # fmt: skip
        session.delete(row)
    session.commit()
    return len(ids)
