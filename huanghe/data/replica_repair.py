"""Locks whose copy went bad: a replica found corrupt or missing (a download or a transfer re-read it and the
checksum did not match; :func:`huanghe.data.files.mark_replica_bad`, the transfer worker) no longer counts for
the rules that hold a lock on it. :func:`flag_bad_locks` turns those ``ok`` locks ``stuck`` and their rules
STUCK with the reason, so the repairer (:func:`huanghe.data.rule_engine.repair`, which calls it first) copies
the file again from a good source. Times are epoch seconds; nothing is committed here.
"""

from __future__ import annotations

from sqlalchemy import and_, select, update
from sqlalchemy.orm import Session

from huanghe.audit import service as audit
from huanghe.data.models import DataFileRow, FileReplicaRow, ReplicaLockRow, ReplicationRuleRow


def flag_bad_locks(session: Session, now: float) -> list[str]:
    """Mark ``stuck`` every ``ok`` lock on a ``bad`` replica; the rules concerned (not suspended) become STUCK
    with the file and endpoint named (audited). Returns those rules' ids."""
    rows = session.execute(
        select(ReplicaLockRow.rule_id, ReplicaLockRow.file_id, ReplicaLockRow.endpoint_id, DataFileRow.name)
        .join(FileReplicaRow, and_(FileReplicaRow.file_id == ReplicaLockRow.file_id,
                                   FileReplicaRow.endpoint_id == ReplicaLockRow.endpoint_id))
        .join(DataFileRow, DataFileRow.id == ReplicaLockRow.file_id)
        .where(ReplicaLockRow.state == "ok", FileReplicaRow.state == "bad")
    ).all()  # fmt: skip
    why: dict[str, str] = {}
    for rule_id, file_id, endpoint_id, name in rows:
        session.execute(
            update(ReplicaLockRow)
            .where(ReplicaLockRow.rule_id == rule_id, ReplicaLockRow.file_id == file_id,
                   ReplicaLockRow.endpoint_id == endpoint_id)
            .values(state="stuck")
        )  # fmt: skip
        why.setdefault(
            str(rule_id),
            f"the copy of {name} on {endpoint_id} is corrupt or missing; repairing (副本损坏，修复中)",
        )
    for rule_id, reason in why.items():
        row = session.get(ReplicationRuleRow, rule_id)
        if row is None:
            continue
        row.locks_ok = max(0, row.locks_ok - sum(1 for r in rows if str(r[0]) == rule_id))
        row.locks_stuck += sum(1 for r in rows if str(r[0]) == rule_id)
        if row.state != "suspended":
            before = row.state
            row.state, row.reason, row.updated_s = "stuck", reason, now
            audit.record(session, "system:rules", "rule.state", row.id,
                         {"from": before, "to": "stuck", "reason": reason, "dataset": row.dataset_id}, now=now)  # fmt: skip
    session.flush()
    return list(why)
