"""What the end of a transfer changes elsewhere, in the transaction that ends it:

* :func:`on_transfer_done`: the replica locks waiting on (file, destination) become ``ok`` (done) or ``stuck``
  (failed), the rules' lock counters follow, and a rule whose locks are all ``ok`` becomes OK (a failed
  transfer makes its rules STUCK with the reason). The rule service builds on this hook.
* :func:`replica_available`: the destination replica becomes ``available`` (verified) exactly once: the
  endpoint's ``used_bytes`` grows only on that transition, and the replica's lock count is set from the locks.
* :func:`mark_dataset_complete`: the dataset's ``replicas`` list gains the destination's center once every
  file of the dataset has an available replica in that center.

None of them commits: the caller does, once, with the transfer's own state change.
"""

from __future__ import annotations

from collections import Counter

from sqlalchemy import distinct, func, select, update
from sqlalchemy.orm import Session

from huanghe.data.models import (
    DataFileRow,
    DatasetRow,
    FileReplicaRow,
    ReplicaLockRow,
    ReplicationRuleRow,
    StorageEndpointRow,
    TransferRow,
)

_COUNTER = {"ok": ReplicationRuleRow.locks_ok, "replicating": ReplicationRuleRow.locks_replicating,
            "stuck": ReplicationRuleRow.locks_stuck}  # fmt: skip


def on_transfer_done(session: Session, transfer: TransferRow, *, now_s: float) -> int:
    """Move the locks on (``transfer.file_id``, ``transfer.dest_endpoint_id``) to ``ok`` when the transfer is
    ``done`` (from ``replicating`` or ``stuck``) or to ``stuck`` when it ``failed`` (from ``replicating``);
    adjust each rule's counters with SQL increments (safe beside other writers) and its state: OK when no
    lock is replicating or stuck any more, STUCK with the transfer's error after a failure (a SUSPENDED rule
    keeps its state). Returns the locks changed."""
    new = "ok" if transfer.state == "done" else "stuck"
    old = ("replicating", "stuck") if new == "ok" else ("replicating",)
    locks = session.execute(
        select(ReplicaLockRow.rule_id, ReplicaLockRow.state).where(
            ReplicaLockRow.file_id == transfer.file_id, ReplicaLockRow.endpoint_id == transfer.dest_endpoint_id,
            ReplicaLockRow.state.in_(old),
        )
    ).all()  # fmt: skip
    if not locks:
        return 0
    session.execute(
        update(ReplicaLockRow).where(
            ReplicaLockRow.file_id == transfer.file_id, ReplicaLockRow.endpoint_id == transfer.dest_endpoint_id,
            ReplicaLockRow.state.in_(old),
        ).values(state=new)
    )  # fmt: skip
    moves = Counter(locks)
    for (rule_id, was), n in moves.items():
        session.execute(
            update(ReplicationRuleRow).where(ReplicationRuleRow.id == rule_id)
            .values({_COUNTER[was]: _COUNTER[was] - n, _COUNTER[new]: _COUNTER[new] + n, "updated_s": now_s})
        )  # fmt: skip
    rules = sorted({r for r, _ in locks})
    active = ReplicationRuleRow.id.in_(rules), ReplicationRuleRow.state != "suspended"
    if new == "ok":
        session.execute(
            update(ReplicationRuleRow)
            .where(*active, ReplicationRuleRow.locks_replicating <= 0, ReplicationRuleRow.locks_stuck <= 0)
            .values(state="ok", reason="")
        )
    else:
        why = f"transfer {transfer.id} of file {transfer.file_id} to {transfer.dest_endpoint_id} failed: " \
              f"{transfer.error}"[:2000]  # fmt: skip
        session.execute(update(ReplicationRuleRow).where(*active).values(state="stuck", reason=why))
    return len(locks)


def replica_available(
    session: Session, file: DataFileRow, endpoint_id: str, object_key: str, *, now_s: float
) -> bool:
    """Make (file, endpoint) an ``available`` replica verified now. True when it was not available before
    (then, and only then, ``used_bytes`` of the endpoint grows by the file's size)."""
    n = session.execute(
        update(FileReplicaRow).where(
            FileReplicaRow.file_id == file.id, FileReplicaRow.endpoint_id == endpoint_id,
            FileReplicaRow.state != "available",
        ).values(state="available", verified_s=now_s, size_bytes=file.size_bytes, object_key=object_key)
    ).rowcount  # type: ignore[attr-defined]  # fmt: skip
    if not n:
        if session.get(FileReplicaRow, (file.id, endpoint_id)) is not None:
            return False  # already available: counted before
        session.add(FileReplicaRow(
            file_id=file.id, endpoint_id=endpoint_id, state="available", object_key=object_key,
            size_bytes=file.size_bytes, lock_count=0, created_s=now_s, accessed_s=now_s, verified_s=now_s,
        ))  # fmt: skip
        session.flush()  # sessions do not autoflush: the updates below must see the row
    locks = int(session.scalar(select(func.count()).select_from(ReplicaLockRow).where(
        ReplicaLockRow.file_id == file.id, ReplicaLockRow.endpoint_id == endpoint_id)) or 0)  # fmt: skip
    session.execute(
        update(FileReplicaRow).where(FileReplicaRow.file_id == file.id, FileReplicaRow.endpoint_id == endpoint_id)
        .values(lock_count=locks, tombstone_s=None if locks else now_s)
    )  # fmt: skip
    session.execute(
        update(StorageEndpointRow).where(StorageEndpointRow.id == endpoint_id)
        .values(used_bytes=StorageEndpointRow.used_bytes + file.size_bytes)
    )  # fmt: skip
    return True


def mark_dataset_complete(session: Session, dataset_id: str, center_id: str) -> bool:
    """Add ``center_id`` to the dataset's ``replicas`` when every file has an available replica there. True
    when it was added."""
    ds = session.get(DatasetRow, dataset_id)
    if ds is None or center_id in (ds.replicas or []):
        return False
    files = int(session.scalar(
        select(func.count()).select_from(DataFileRow).where(DataFileRow.dataset_id == dataset_id)) or 0
    )  # fmt: skip
    held = int(session.scalar(
        select(func.count(distinct(FileReplicaRow.file_id)))
        .join(DataFileRow, DataFileRow.id == FileReplicaRow.file_id)
        .join(StorageEndpointRow, StorageEndpointRow.id == FileReplicaRow.endpoint_id)
        .where(DataFileRow.dataset_id == dataset_id, StorageEndpointRow.center_id == center_id,
               FileReplicaRow.state == "available")
    ) or 0)  # fmt: skip
    if files == 0 or held < files:
        return False
    ds.replicas = [*(ds.replicas or []), center_id]
    return True
