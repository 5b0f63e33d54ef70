"""The reaper: deletes replicas that no rule protects (a tombstone, lock count 0) from endpoints that need
space — least recently accessed first — or, in ``greedy`` mode, every such replica.

Invariants: a replica a rule locks is never deleted; neither is the last available replica of a file (the
data is only ever deleted by deleting the file or dataset); a replica is marked ``deleting`` and committed
before its object is deleted, so a crash leaves a row the next run finishes, never an object without a row
that counts as stored. ``used_bytes`` of the endpoint shrinks only when the row goes.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from huanghe.audit import service as audit
from huanghe.data.models import DataFileRow, DatasetRow, FileReplicaRow, StorageEndpointRow
from huanghe.data.objects import ObjectStore, ObjectStoreError

log = logging.getLogger("huanghe.data.reaper")

#: An endpoint "needs space" below this share of free capacity.
DEFAULT_FREE_SHARE = 0.10


@dataclass
class ReapReport:
    """What a run deleted (replicas, bytes) per endpoint, and what it could not (endpoint → error)."""

    deleted: int = 0
    bytes: int = 0
    per_endpoint: dict[str, int] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)


def _other_available(session: Session, file_id: int, endpoint_id: str) -> int:
    return int(
        session.scalar(
            select(func.count())
            .select_from(FileReplicaRow)
            .where(
                FileReplicaRow.file_id == file_id,
                FileReplicaRow.endpoint_id != endpoint_id,
                FileReplicaRow.state == "available",
            )
        )
        or 0
    )


def unmark_center(session: Session, dataset_id: str, center_id: str) -> None:
    """Drop ``center_id`` from the dataset's ``replicas`` (centers holding a complete copy) when one of its
    files no longer has an available replica there."""
    ds = session.get(DatasetRow, dataset_id)
    if ds is None or center_id not in (ds.replicas or []):
        return
    files = int(
        session.scalar(
            select(func.count()).select_from(DataFileRow).where(DataFileRow.dataset_id == dataset_id)
        )
        or 0
    )
    held = int(
        session.scalar(
            select(func.count(func.distinct(FileReplicaRow.file_id)))
            .join(DataFileRow, DataFileRow.id == FileReplicaRow.file_id)
            .join(StorageEndpointRow, StorageEndpointRow.id == FileReplicaRow.endpoint_id)
            .where(
                DataFileRow.dataset_id == dataset_id,
                StorageEndpointRow.center_id == center_id,
                FileReplicaRow.state == "available",
            )
        )
        or 0
    )
    if held < files:
        ds.replicas = [c for c in ds.replicas if c != center_id]


def delete_replica(
    session: Session, rep: FileReplicaRow, store: ObjectStore, *, actor: str, now: float
) -> int:
    """Delete one replica's object and row (committed in two steps, see the module doc); its size in bytes."""
    rep.state = "deleting"
    session.commit()
    store.delete(rep.object_key)
    size = int(rep.size_bytes)
    ep = session.get(StorageEndpointRow, rep.endpoint_id)
    f = session.get(DataFileRow, rep.file_id)
    if ep is not None:
        ep.used_bytes = max(0, int(ep.used_bytes) - size)
    session.delete(rep)
    session.flush()
    if f is not None and ep is not None:
        unmark_center(session, f.dataset_id, ep.center_id)
        audit.record(session, actor, "replica.delete", f.dataset_id,
                     {"file": f.name, "endpoint": ep.id, "bytes": size}, now=now)  # fmt: skip
    session.commit()
    return size


def reap(
    session: Session,
    now: float,
    store_for: Callable[[Session, str], ObjectStore],
    *,
    free_share: float = DEFAULT_FREE_SHARE,
    greedy: bool = False,
    max_deletions: int = 10_000,
    endpoint_ids: list[str] | None = None,
) -> ReapReport:
    """Delete unprotected replicas where space is needed (free < ``free_share`` × capacity) until the
    endpoint is back above it, least recently accessed first; ``greedy``: every unprotected replica.
    Replicas stuck in ``deleting`` (a crash between the two steps) are finished first."""
    report = ReapReport()
    q = select(StorageEndpointRow).where(StorageEndpointRow.available.is_(True))
    if endpoint_ids is not None:
        q = q.where(StorageEndpointRow.id.in_(endpoint_ids))
    for ep in list(session.scalars(q.order_by(StorageEndpointRow.id))):
        target = int(free_share * int(ep.capacity_bytes))
        free = int(ep.capacity_bytes) - int(ep.used_bytes)
        stuck_deleting = list(session.scalars(select(FileReplicaRow).where(
            FileReplicaRow.endpoint_id == ep.id, FileReplicaRow.state == "deleting")))  # fmt: skip
        if not greedy and free >= target and not stuck_deleting:
            continue
        candidates = stuck_deleting + list(
            session.scalars(
                select(FileReplicaRow)
                .where(
                    FileReplicaRow.endpoint_id == ep.id,
                    FileReplicaRow.lock_count <= 0,
                    FileReplicaRow.tombstone_s.is_not(None),
                    FileReplicaRow.tombstone_s <= now,
                    FileReplicaRow.state.in_(("available", "bad")),
                )
                .order_by(FileReplicaRow.accessed_s, FileReplicaRow.file_id)
                .limit(max_deletions)
            )
        )
        try:
            store = store_for(session, ep.id)
        except Exception as exc:  # credentials missing, …: reported, the others go on
            report.errors[ep.id] = str(exc)
            continue
        for rep in candidates:
            if report.deleted >= max_deletions:
                return report
            if not greedy and rep.state != "deleting" and free >= target:
                break
            if rep.state == "available" and _other_available(session, rep.file_id, ep.id) == 0:
                continue  # never the last good copy of a file
            try:
                size = delete_replica(session, rep, store, actor="system:reaper", now=now)
            except ObjectStoreError as exc:
                session.rollback()
                report.errors[ep.id] = str(exc)
                break
            report.deleted += 1
            report.bytes += size
            report.per_endpoint[ep.id] = report.per_endpoint.get(ep.id, 0) + 1
            free += size
    return report
