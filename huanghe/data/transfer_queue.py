"""The transfer queue: queue a copy of a file to an endpoint (one live transfer per (file, destination)),
lease queued transfers to a worker, renew and re-queue leases, retry a failed transfer, read transfers.

States: ``queued`` → ``active`` (leased: ``lease_owner`` until ``lease_until_s``) → ``done`` | ``failed``.
For a *queued* transfer ``lease_until_s`` is the earliest time of its next attempt (retry back-off; None =
now). Leasing is one conditional ``UPDATE ... WHERE state='queued' OR (state='active' AND lease expired)``
per transfer, so two workers (threads or processes, SQLite or PostgreSQL) never hold the same transfer: the
database lets exactly one ``UPDATE`` match. Priorities: 5 (highest) first, then the oldest.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlalchemy import ColumnElement, Select, and_, func, or_, select, update
from sqlalchemy.orm import Session

from huanghe.audit import service as audit
from huanghe.core.errors import NotFoundError, conflict
from huanghe.core.paging import DEFAULT_PAGE_LIMIT, Page
from huanghe.data.models import DataFileRow, DatasetRow, StorageEndpointRow, TransferRow
from huanghe.data.transfer_schemas import TransferPublic
from huanghe.store.crud import get_row, page_of

LIVE = ("queued", "active")
STATES = ("queued", "active", "done", "failed")


def _leasable(now_s: float) -> ColumnElement[bool]:
    return or_(
        and_(TransferRow.state == "queued",
             or_(TransferRow.lease_until_s.is_(None), TransferRow.lease_until_s <= now_s)),
        and_(TransferRow.state == "active", TransferRow.lease_until_s < now_s),
    )  # fmt: skip


def live_transfer(session: Session, file_id: int, dest_endpoint_id: str) -> TransferRow | None:
    """The queued or active transfer of ``file_id`` to ``dest_endpoint_id``, if any."""
    return session.scalars(
        select(TransferRow).where(
            TransferRow.file_id == file_id, TransferRow.dest_endpoint_id == dest_endpoint_id,
            TransferRow.state.in_(LIVE),
        ).order_by(TransferRow.id).limit(1)
    ).first()  # fmt: skip


def queue_transfer(
    session: Session, file_id: int, dest_endpoint_id: str, *, now_s: float, rule_id: str | None = None,
    priority: int = 3, max_attempts: int = 3,
) -> TransferRow:  # fmt: skip
    """Queue a copy of file ``file_id`` to endpoint ``dest_endpoint_id`` (flushed, NOT committed: the caller's
    transaction, e.g. the rule's, decides). Idempotent: the live transfer of that (file, destination) is
    returned instead of a new one (its priority raised to ``priority`` if lower). Queuers of one file are
    serialised by a no-op write on the file's row taken first (a row lock on PostgreSQL, the write lock on
    SQLite). :class:`NotFoundError` for an unknown file or endpoint."""
    locked = session.execute(
        update(DataFileRow).where(DataFileRow.id == file_id).values(state=DataFileRow.state)
    ).rowcount  # type: ignore[attr-defined]
    if not locked:
        raise NotFoundError("file", file_id)
    get_row(session, StorageEndpointRow, dest_endpoint_id, "endpoint")
    existing = live_transfer(session, file_id, dest_endpoint_id)
    if existing is not None:
        if existing.priority < priority:
            existing.priority = priority
            session.flush()
        return existing
    tenant = session.scalar(
        select(DatasetRow.tenant_id).join(DataFileRow, DataFileRow.dataset_id == DatasetRow.id)
        .where(DataFileRow.id == file_id)
    )  # fmt: skip
    row = TransferRow(
        file_id=file_id, tenant_id=tenant, rule_id=rule_id, dest_endpoint_id=dest_endpoint_id, state="queued",
        priority=priority, attempts=0, max_attempts=max_attempts, tried_sources=[], bytes=0, created_s=now_s,
        cost_fen=0, energy_wh=0.0, carbon_g=0.0, error="",
    )  # fmt: skip
    session.add(row)
    session.flush()
    return row


def queue_many(
    session: Session, pairs: Iterable[tuple[int, str]], *, now_s: float, rule_id: str | None = None,
    priority: int = 3, max_attempts: int = 3,
) -> list[TransferRow]:  # fmt: skip
    """:func:`queue_transfer` for each (file id, endpoint id) pair, in one transaction (not committed)."""
    return [
        queue_transfer(
            session, f, e, now_s=now_s, rule_id=rule_id, priority=priority, max_attempts=max_attempts
        )
        for f, e in pairs
    ]


def requeue_expired(session: Session, now_s: float) -> int:
    """Active transfers whose lease expired (their worker died) go back to ``queued``; committed. How many."""
    n = session.execute(
        update(TransferRow)
        .where(TransferRow.state == "active", TransferRow.lease_until_s < now_s)
        .values(state="queued", lease_owner=None, lease_until_s=None)
    ).rowcount  # type: ignore[attr-defined]
    session.commit()
    return int(n or 0)


def lease(
    session: Session, owner: str, *, now_s: float, lease_s: float, limit: int, per_endpoint: int,
    skip: Sequence[int] = (),
) -> list[int]:  # fmt: skip
    """Lease up to ``limit`` transfers to ``owner`` (highest priority, then oldest), at most ``per_endpoint``
    active per destination endpoint (counting every worker's live leases), never one of ``skip`` (the copies
    this worker still runs); each lease is committed on its own. Returns the ids leased."""
    if limit <= 0:
        return []
    busy = dict(
        session.execute(
            select(TransferRow.dest_endpoint_id, func.count()).where(
                TransferRow.state == "active", TransferRow.lease_until_s >= now_s
            ).group_by(TransferRow.dest_endpoint_id)
        ).all()
    )  # fmt: skip
    candidates = session.execute(
        select(TransferRow.id, TransferRow.dest_endpoint_id).where(_leasable(now_s))
        .order_by(TransferRow.priority.desc(), TransferRow.created_s, TransferRow.id).limit(limit * 8 + 16)
    ).all()  # fmt: skip
    session.rollback()  # end the read transaction before writing (SQLite: no lock upgrade)
    got: list[int] = []
    for tid, dest in candidates:
        if len(got) >= limit:
            break
        if busy.get(dest, 0) >= per_endpoint or tid in skip:
            continue
        took = session.execute(
            update(TransferRow).where(TransferRow.id == tid, _leasable(now_s))
            .values(state="active", lease_owner=owner, lease_until_s=now_s + lease_s,
                    attempts=TransferRow.attempts + 1, started_s=now_s)
        ).rowcount  # type: ignore[attr-defined]  # fmt: skip
        session.commit()
        if took:
            got.append(tid)
            busy[dest] = busy.get(dest, 0) + 1
    return got


def renew(session: Session, transfer_id: int, owner: str, until_s: float) -> bool:
    """Extend our lease (committed); False when it is no longer ours (expired and taken, or ended)."""
    n = session.execute(
        update(TransferRow)
        .where(TransferRow.id == transfer_id, TransferRow.state == "active", TransferRow.lease_owner == owner)
        .values(lease_until_s=until_s)
    ).rowcount  # type: ignore[attr-defined]
    session.commit()
    return bool(n)


def retry_transfer(session: Session, transfer_id: int, *, actor: str, now_s: float) -> TransferPublic:
    """Queue a failed transfer again with fresh attempts and sources (audited, committed). 409 when it has not
    failed, or when another live transfer of that file to that endpoint exists."""
    row = session.get(TransferRow, transfer_id)
    if row is None:
        raise NotFoundError("transfer", str(transfer_id))
    if row.state != "failed":
        raise conflict("state", f"transfer {transfer_id} is {row.state}: only a failed transfer can be retried "
                                "(只能重试失败的传输)")  # fmt: skip
    if live_transfer(session, row.file_id, row.dest_endpoint_id) is not None:
        raise conflict("", f"another transfer of file {row.file_id} to {row.dest_endpoint_id} is under way")
    row.state, row.attempts, row.tried_sources, row.error = "queued", 0, [], ""
    row.lease_owner = row.lease_until_s = row.finished_s = None
    audit.record(session, actor, "transfer.retry", f"transfer/{transfer_id}",
                 {"file_id": row.file_id, "dest": row.dest_endpoint_id}, now=now_s)  # fmt: skip
    session.commit()
    return get_transfer(session, transfer_id)


# --- reads -------------------------------------------------------------------------------------------------
def _public(r: tuple[TransferRow, DataFileRow]) -> TransferPublic:
    t, f = r
    return TransferPublic(
        id=t.id, tenant=t.tenant_id, dataset=f.dataset_id, file_id=t.file_id, file=f.name, rule=t.rule_id,
        dest_endpoint=t.dest_endpoint_id, source_endpoint=t.source_endpoint_id, state=t.state,
        priority=t.priority, attempts=t.attempts, max_attempts=t.max_attempts,
        tried_sources=list(t.tried_sources or []), bytes=t.bytes, created_s=t.created_s, started_s=t.started_s,
        finished_s=t.finished_s, duration_s=t.duration_s, cost_fen=t.cost_fen, energy_wh=t.energy_wh,
        carbon_g=t.carbon_g, error=t.error,
    )  # fmt: skip


def _joined() -> Select[TransferRow, DataFileRow]:
    return select(TransferRow, DataFileRow).join(DataFileRow, DataFileRow.id == TransferRow.file_id)


def list_transfers(
    session: Session, *, tenant: str | None = None, state: str | None = None, dataset: str | None = None,
    endpoint: str | None = None, limit: int = DEFAULT_PAGE_LIMIT, offset: int = 0,
) -> Page[TransferPublic]:  # fmt: skip
    """A page of transfers, newest first. ``endpoint`` matches the destination or the source."""
    q = _joined()
    if tenant is not None:
        q = q.where(TransferRow.tenant_id == tenant)
    if state is not None:
        q = q.where(TransferRow.state == state)
    if dataset is not None:
        q = q.where(DataFileRow.dataset_id == dataset)
    if endpoint is not None:
        q = q.where(or_(TransferRow.dest_endpoint_id == endpoint, TransferRow.source_endpoint_id == endpoint))
    return page_of(session, q, (TransferRow.id.desc(),), limit, offset, _public)


def get_transfer(session: Session, transfer_id: int) -> TransferPublic:
    """One transfer; :class:`NotFoundError` when there is none."""
    r = session.execute(_joined().where(TransferRow.id == transfer_id)).first()
    if r is None:
        raise NotFoundError("transfer", str(transfer_id))
    return _public((r[0], r[1]))


def tenant_of_transfer(session: Session, transfer_id: int) -> str:
    """The tenant owning transfer ``transfer_id``; :class:`NotFoundError` when there is none."""
    row = session.get(TransferRow, transfer_id)
    if row is None:
        raise NotFoundError("transfer", str(transfer_id))
    return row.tenant_id
