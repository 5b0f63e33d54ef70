"""Linking audit entries into the hash chain, off the writers' critical path (issue #16).

Writers (:func:`huanghe.audit.service.record_many`) on PostgreSQL insert their entries **unchained** into
``audit_inbox`` in their own transaction and never touch ``audit_head``: two API workers committing submission
groups at once no longer take turns on the head row. The request is answered after that transaction commits,
so an acknowledged mutation is recorded across a crash (its inbox row is durable).

The **chainer** (:func:`chain_pending`) links inbox entries in batches, in ONE transaction: it locks the head
row, THEN selects inbox rows in ``id`` order (a statement after the lock: under READ COMMITTED it sees every row
committed before, including the previous chainer's work), appends them to ``audit_log`` with ``seq``,
``prev_hash`` and ``hash`` exactly as a direct write would, moves the head, deletes exactly those inbox rows (by
id: a row committed meanwhile with a smaller id is left for the next batch, never deleted unchained) and
commits. Killed mid-batch, it leaves nothing half-chained: the transaction rolls back and the rows stay in the
inbox. Two chainers never interleave: both need the head lock.

Who runs it: every API process runs a :class:`Chainer` thread (PostgreSQL only) that polls the inbox
(``SELECT … LIMIT 1``, no lock, every ``idle_s``) and, when it is not empty, tries the head with ``FOR UPDATE
SKIP LOCKED``: if another process is chaining it skips instead of waiting. No leader election is needed because
correctness rests on the head lock alone (no fencing token can do better than a row lock held for the whole
transaction), and entries do not wait for a takeover after a crash: as long as one process is alive, an entry
is chained within about ``idle_s`` + one batch. Readers (:func:`catch_up`, called by ``list_records``,
``verify``, ``export`` and the regulator's views) chain what is pending first, BLOCKING for the lock, so they
see every acknowledged entry even when no API process runs (``huanghe audit verify`` on the database).

The window: between its commit and its chaining an entry is only in the inbox. UPDATE there is refused by a
trigger; DELETE and TRUNCATE are refused on PostgreSQL unless the transaction sets ``huanghe.audit_chainer``,
which only the chainer does. A database role able to run arbitrary SQL can set it too (as it could drop the
triggers of ``audit_log``), and an entry it deletes from the inbox before chaining leaves no trace in the chain.
That window is bounded by the chainer's latency (measured in docs/benchmarks.md; ``idle_s`` = 0.1 s by default
plus one batch) while an API process runs, and lasts until the next reader or API start otherwise.

On SQLite the whole database has one write lock, which every writer's transaction takes anyway, so the inbox
would add a transaction and no concurrency: writers there chain directly (the former behaviour), and the
chainer only drains entries written with ``inbox=True``.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, exists, insert, select, text, update
from sqlalchemy.orm import Session, sessionmaker

from huanghe.audit.models import AuditHeadRow, AuditInboxRow, AuditRow

log = logging.getLogger("huanghe.audit")

GENESIS_HASH = "0" * 64
#: Inbox rows linked per chainer transaction.
BATCH = 5000


def canonical(value: Any) -> str:
    """Canonical JSON of ``value``: sorted keys, compact separators, non-ASCII kept."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def record_hash(
    seq: int, at: str, actor: str, action: str, subject: str, payload: str, prev_hash: str
) -> str:
    """SHA-256 (hex) of the canonical JSON of a record's fields (``payload`` is already canonical JSON)."""
    doc = {
        "seq": seq, "at": at, "actor": actor, "action": action, "subject": subject, "payload": payload,
        "prev_hash": prev_hash,
    }  # fmt: skip
    return hashlib.sha256(canonical(doc).encode("utf-8")).hexdigest()


def iso(now_s: float) -> str:
    """Epoch seconds as the trail writes ``at`` (ISO 8601 UTC, microseconds, ``Z``)."""
    return datetime.fromtimestamp(now_s, UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def uses_inbox(session: Session) -> bool:
    """Whether writers on this session's database write to the inbox (PostgreSQL) or chain directly."""
    return session.get_bind().dialect.name == "postgresql"


def link(rows: list[dict[str, Any]], last_seq: int, prev_hash: str) -> list[dict[str, Any]]:
    """Give ``rows`` (at, actor, action, subject, payload) the sequence numbers after ``last_seq`` and their
    hashes, starting from ``prev_hash``; returns the ``audit_log`` rows in order."""
    out = []
    seq = last_seq
    for r in rows:
        seq += 1
        digest = record_hash(seq, r["at"], r["actor"], r["action"], r["subject"], r["payload"], prev_hash)
        out.append({**r, "seq": seq, "prev_hash": prev_hash, "hash": digest})
        prev_hash = digest
    return out


_PG_LOCK = (
    "SELECT last_seq, last_hash, set_config('huanghe.audit_chainer', 'on', true) FROM audit_head "
    "WHERE id = 1 FOR UPDATE"
)


def _lock_head(session: Session, wait: bool) -> tuple[int, str] | None:
    """Lock the head row until the transaction ends; (last seq, last hash), or None if another transaction
    holds it and not ``wait``. On PostgreSQL this also allows the transaction to delete inbox rows."""
    if session.get_bind().dialect.name == "postgresql":
        query = text(_PG_LOCK + ("" if wait else " SKIP LOCKED"))
        row = session.execute(query).one_or_none()
        if row is None and wait:  # a database created without the migration's genesis row
            session.execute(insert(AuditHeadRow).values(id=1, last_seq=0, last_hash=GENESIS_HASH))
            row = session.execute(query).one()
        return None if row is None else (int(row[0]), str(row[1]))
    # SQLite: any write takes the database's write lock (waiting up to the busy timeout)
    session.execute(update(AuditHeadRow).where(AuditHeadRow.id == 1).values(last_seq=AuditHeadRow.last_seq))
    head = session.execute(select(AuditHeadRow.last_seq, AuditHeadRow.last_hash).where(AuditHeadRow.id == 1))
    found = head.one_or_none()
    if found is None:  # a database created without the migration's genesis row
        session.execute(insert(AuditHeadRow).values(id=1, last_seq=0, last_hash=GENESIS_HASH))
        return 0, GENESIS_HASH
    return int(found[0]), str(found[1])


_FIELDS = ("at", "actor", "action", "subject", "payload")


def chain_pending(session: Session, *, wait: bool = True, limit: int = BATCH) -> int | None:
    """Link up to ``limit`` inbox entries into the chain and COMMIT the session (call it on a session with
    nothing else pending). Returns how many were linked, or None when ``wait`` is false and another chainer
    holds the head (nothing done). With nothing pending it only reads: the session's transaction goes on."""
    if not session.scalar(select(exists().where(AuditInboxRow.id.is_not(None)))):
        return 0
    head = _lock_head(session, wait)
    if head is None:
        return None
    cols = [getattr(AuditInboxRow, f) for f in _FIELDS]
    found = session.execute(select(AuditInboxRow.id, *cols).order_by(AuditInboxRow.id).limit(limit)).all()
    if not found:  # another chainer took them meanwhile
        session.commit()  # ends the transaction: releases the head
        return 0
    rows = link([dict(zip(_FIELDS, r[1:], strict=True)) for r in found], *head)
    session.execute(insert(AuditRow), rows)
    session.execute(
        update(AuditHeadRow).where(AuditHeadRow.id == 1)
        .values(last_seq=rows[-1]["seq"], last_hash=rows[-1]["hash"])
    )  # fmt: skip
    session.execute(delete(AuditInboxRow).where(AuditInboxRow.id.in_([r[0] for r in found])))
    session.commit()
    return len(rows)


def catch_up(session: Session) -> int:
    """Chain every entry committed to the inbox so far, waiting for the head lock; commits the session.
    Readers call it first so that they see every acknowledged entry. Returns how many were linked."""
    total = 0
    while True:
        n = chain_pending(session, wait=True) or 0
        total += n
        if n < BATCH:
            return total


class Chainer:
    """A thread that links inbox entries into the chain (PostgreSQL): polls the inbox every ``idle_s`` seconds
    while it is empty, every ``busy_s`` while it is not (so that a batch gathers the entries of many
    commits), and skips a pass when another process holds the head. :meth:`stop` chains what is left."""

    def __init__(
        self, session_factory: sessionmaker[Session], idle_s: float = 0.1, busy_s: float = 0.1
    ) -> None:
        self.sf = session_factory
        self.idle_s = idle_s
        self.busy_s = busy_s
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.passes = 0
        self.linked = 0
        self.skipped = 0

    def start(self) -> None:
        if self._thread is None:
            self._stop.clear()
            self._thread = threading.Thread(target=self._run, name="huanghe-audit-chainer", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        """Stop the thread, then chain what is pending (waiting for the lock)."""
        thread, self._thread = self._thread, None
        if thread is None:
            return
        self._stop.set()
        thread.join(10)
        try:
            with self.sf() as s:
                self.linked += catch_up(s)
        except Exception:
            log.exception("audit chainer: the last pass failed (entries stay in the inbox)")

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                with self.sf() as s:
                    n = chain_pending(s, wait=False)
            except Exception:
                log.exception("audit chainer: a pass failed (its entries stay in the inbox)")
                n = 0
            self.passes += 1
            if n is None:
                self.skipped += 1
            else:
                self.linked += n
            self._stop.wait(self.idle_s if n == 0 else self.busy_s)
