"""The audit trail (溯源): an append-only hash chain of records.

Each record holds ``seq`` (1, 2, 3 … without gaps), ``at`` (ISO 8601 UTC), ``actor``, ``action``,
``subject``, ``payload`` (canonical JSON) and ``prev_hash``, the hash of the record before it (64 zeros for the
first); its ``hash`` is the SHA-256 of the canonical JSON of all those fields. Editing, deleting or reordering
any record breaks the chain at that record, which :func:`verify` reports. The ``audit_head`` row keeps the
last sequence number and hash, so that removing records at the end is detected too.

Writing (:func:`record`, :func:`record_many`): on PostgreSQL an entry is inserted UNCHAINED into
``audit_inbox`` in the caller's transaction, without touching the head, so concurrent writers (two API workers'
submission groups, the dispatcher, the audit writer) never wait for each other; the chainer of
:mod:`huanghe.audit.chain` links inbox entries into ``audit_log`` in batches (one transaction holding the head
lock each). On SQLite, whose writers serialise on the database's write lock anyway, entries are chained
directly in the caller's transaction (``_bump`` locks the head). Reading (:func:`list_records`, :func:`verify`,
:func:`export`) first chains what is pending (:func:`~huanghe.audit.chain.catch_up`, committing the session),
so a reader always sees every acknowledged entry.

Canonical JSON: keys sorted, no whitespace, UTF-8 (``ensure_ascii=False``), as produced by :func:`canonical`.
The database refuses UPDATE and DELETE on ``audit_log`` (triggers of migration ``0004_tenancy``) and UPDATE on
``audit_inbox`` (DELETE there only by the chainer on PostgreSQL; migration ``0013_audit_inbox``).

Callers: the API records every successful mutation (method, path, principal, status, body digest) through
:class:`AuditWriter`, a group commit: records that arrive while one transaction commits share the next one
(written in arrival order by :func:`record_many`), and the API answers only after its record is committed;
job submissions write their records in the submission group's transaction (:mod:`huanghe.jobs.submitting`);
the dispatcher records each placement decision (actor ``scheduler``, action ``placement``, the job id as
subject) with :func:`record_many` inside its own transaction (:mod:`huanghe.jobs.placing`).
"""

from __future__ import annotations

import csv
import io
import json
import logging
import queue
import threading
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel
from sqlalchemy import func, insert, select, update
from sqlalchemy.orm import Session, sessionmaker

from huanghe.audit.chain import GENESIS_HASH as GENESIS_HASH
from huanghe.audit.chain import canonical as canonical
from huanghe.audit.chain import catch_up as catch_up
from huanghe.audit.chain import iso as _iso
from huanghe.audit.chain import link, uses_inbox
from huanghe.audit.chain import record_hash as record_hash
from huanghe.audit.models import AuditHeadRow, AuditInboxRow, AuditRow
from huanghe.core.paging import DEFAULT_PAGE_LIMIT, Page
from huanghe.store.crud import filtered, page_of

log = logging.getLogger("huanghe.audit")

EXPORT_FIELDS = ("seq", "at", "actor", "action", "subject", "payload", "prev_hash", "hash")


def _iso_of(when: datetime) -> str:
    """``when`` as the trail writes ``at`` (a datetime without a zone is taken as UTC)."""
    utc = when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)
    return utc.isoformat(timespec="microseconds").replace("+00:00", "Z")


def _bump(session: Session, n: int) -> tuple[int, str]:
    """Reserve ``n`` sequence numbers: (the last one, the hash of the record before the first one). Locks
    the head row until the caller's transaction ends (row lock / database write lock)."""
    bump = (
        update(AuditHeadRow).where(AuditHeadRow.id == 1).values(last_seq=AuditHeadRow.last_seq + n)
        .returning(AuditHeadRow.last_seq, AuditHeadRow.last_hash)
    )  # fmt: skip
    head = session.execute(bump).one_or_none()
    if head is None:  # a database created without the migration's genesis row
        session.execute(insert(AuditHeadRow).values(id=1, last_seq=0, last_hash=GENESIS_HASH))
        head = session.execute(bump).one()
    return int(head[0]), str(head[1])


@dataclass(frozen=True)
class Entry:
    """One record to append: who did what to which subject; ``at_s`` epoch seconds (None: when written)."""

    actor: str
    action: str
    subject: str
    payload: Any
    at_s: float | None = None


def record(
    session: Session, actor: str, action: str, subject: str, payload: Any, *, now: float | None = None,
    flush: bool = True,
) -> None:  # fmt: skip
    """Append a record in the caller's transaction (flushed unless ``flush=False``, not committed).

    ``payload`` is any JSON-able value. On SQLite the head row stays locked until the caller commits, so keep
    the transaction short."""
    record_many(session, [Entry(actor, action, subject, payload)], now=now)
    if flush:
        session.flush()


def record_many(
    session: Session, entries: Sequence[Entry], *, now: float | None = None, inbox: bool | None = None
) -> list[int]:
    """Write ``entries`` in order in the caller's transaction (not committed): into the inbox (``inbox``;
    default: on PostgreSQL), or chained at once with ONE bump of the head (``last_seq += len(entries)``, which
    locks it until the caller commits). Returns their inbox ids, or their sequence numbers when chained."""
    if not entries:
        return []
    default_at = time.time() if now is None else now
    rows = [
        {"at": _iso(default_at if e.at_s is None else e.at_s), "actor": e.actor[:200], "action": e.action[:100],
         "subject": e.subject[:500], "payload": canonical(e.payload)}
        for e in entries
    ]  # fmt: skip
    if uses_inbox(session) if inbox is None else inbox:
        ids = session.execute(
            insert(AuditInboxRow).returning(AuditInboxRow.id, sort_by_parameter_order=True), rows
        )
        return [int(i) for i in ids.scalars()]
    last, prev_hash = _bump(session, len(entries))
    linked = link(rows, last - len(entries), prev_hash)
    session.execute(insert(AuditRow), linked)
    session.execute(update(AuditHeadRow).where(AuditHeadRow.id == 1).values(last_hash=linked[-1]["hash"]))
    return [int(r["seq"]) for r in linked]


@dataclass
class _Pending:
    entry: Entry
    future: Future[int] = field(default_factory=Future)


class AuditWriter:
    """Group commit of audit records: one writer thread takes every queued record (up to ``max_group``),
    writes them in arrival order with :func:`record_many` and commits ONCE; then each record's future
    gives what :func:`record_many` returned for it (inbox id on PostgreSQL, sequence number on SQLite) or the
    error. A caller that waits for its future knows its record is durable, so answering after it keeps "every
    acknowledged mutation is recorded" across a crash, while concurrent requests share one transaction and
    one disk flush."""

    def __init__(self, session_factory: sessionmaker[Session], max_group: int = 2000) -> None:
        self.sf = session_factory
        self.max_group = max_group
        self._q: queue.SimpleQueue[_Pending | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self.groups = 0
        self.records = 0

    def submit(self, entry: Entry) -> Future[int]:
        """Queue ``entry``; its future resolves once the record is committed."""
        item = _Pending(entry)
        if self._thread is None:
            with self._lock:
                if self._thread is None:
                    self._thread = threading.Thread(target=self._run, name="huanghe-audit", daemon=True)
                    self._thread.start()
        self._q.put(item)
        return item.future

    def close(self) -> None:
        """Write what is queued, then stop the thread."""
        with self._lock:
            thread, self._thread = self._thread, None
        if thread is not None:
            self._q.put(None)
            thread.join(10)

    def _run(self) -> None:
        while True:
            first = self._q.get()
            if first is None:
                return
            group, stop = [first], False
            while len(group) < self.max_group:
                try:
                    nxt = self._q.get_nowait()
                except queue.Empty:
                    break
                if nxt is None:
                    stop = True
                    break
                group.append(nxt)
            self._write(group)
            if stop:
                return

    def _write(self, group: list[_Pending]) -> None:
        try:
            with self.sf() as session:
                seqs = record_many(session, [p.entry for p in group])
                session.commit()
        except BaseException as exc:  # never leave a caller waiting
            log.exception("audit: a group of %d records could not be written", len(group))
            for p in group:
                p.future.set_exception(exc)
            return
        self.groups += 1
        self.records += len(group)
        for p, seq in zip(group, seqs, strict=True):
            p.future.set_result(seq)


@dataclass(frozen=True)
class VerifyResult:
    """Outcome of :func:`verify`: ``first_bad`` is the sequence number of the first broken record."""

    ok: bool
    checked: int
    first_bad: int | None = None
    reason: str = ""


def _rows(session: Session, batch: int = 1000) -> Iterator[AuditRow]:
    last = 0
    while True:
        rows = list(
            session.scalars(select(AuditRow).where(AuditRow.seq > last).order_by(AuditRow.seq).limit(batch))
        )
        if not rows:
            return
        yield from rows
        last = rows[-1].seq


def verify(session: Session) -> VerifyResult:
    """Walk the chain from the first record (after chaining what is pending, which commits the session);
    report the first edited, missing or reordered record."""
    catch_up(session)
    expected_seq, prev_hash, checked = 1, GENESIS_HASH, 0
    for row in _rows(session):
        if row.seq != expected_seq:
            return VerifyResult(False, checked, expected_seq, f"record {expected_seq} is missing (deleted)")
        if row.prev_hash != prev_hash:
            return VerifyResult(
                False,
                checked,
                row.seq,
                f"record {row.seq} does not follow record {row.seq - 1} (reordered or replaced)",
            )
        if (
            record_hash(row.seq, row.at, row.actor, row.action, row.subject, row.payload, row.prev_hash)
            != row.hash
        ):
            return VerifyResult(
                False, checked, row.seq, f"record {row.seq} was edited (its hash does not match)"
            )
        prev_hash, expected_seq, checked = row.hash, expected_seq + 1, checked + 1
    head = session.get(AuditHeadRow, 1)
    if head is None:
        return VerifyResult(False, checked, None, "the audit head row is missing")
    if head.last_seq != checked or head.last_hash != prev_hash:
        return VerifyResult(
            False,
            checked,
            checked + 1,
            f"records after {checked} are missing (the head says {head.last_seq})",
        )
    return VerifyResult(True, checked)


class AuditRecordPublic(BaseModel):
    """One audit record; ``payload`` decoded from its canonical JSON."""

    seq: int
    at: str
    actor: str
    action: str
    subject: str
    payload: Any
    prev_hash: str
    hash: str


def _public(row: AuditRow) -> AuditRecordPublic:
    return AuditRecordPublic(
        seq=row.seq, at=row.at, actor=row.actor, action=row.action, subject=row.subject,
        payload=json.loads(row.payload), prev_hash=row.prev_hash, hash=row.hash,
    )  # fmt: skip


def list_records(
    session: Session,
    *,
    action: str | None = None,
    actor: str | None = None,
    subject: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    newest_first: bool = False,
    limit: int = DEFAULT_PAGE_LIMIT,
    offset: int = 0,
) -> Page[AuditRecordPublic]:
    """A page of records in chain order (``newest_first``: reversed), with the total count matching the
    filters: ``action`` equal, ``actor`` and ``subject`` containing the text (case-insensitive), ``at`` in
    ``[since, until)`` (a datetime without a zone is UTC)."""
    catch_up(session)
    query = filtered(select(AuditRow), {AuditRow.action: action})
    for column, text in ((AuditRow.actor, actor), (AuditRow.subject, subject)):
        if text:
            query = query.where(func.lower(column).contains(text.lower(), autoescape=True))
    if since is not None:  # ``at`` is ISO 8601 UTC of one fixed width: text order is time order
        query = query.where(AuditRow.at >= _iso_of(since))
    if until is not None:
        query = query.where(AuditRow.at < _iso_of(until))
    order = AuditRow.seq.desc() if newest_first else AuditRow.seq
    return page_of(session, query, (order,), limit, offset, _public)


def export(session: Session, fmt: str) -> str:
    """The whole chain as ``csv`` (payload as its canonical JSON) or ``json`` (a list of records)."""
    if fmt not in ("csv", "json"):
        raise ValueError(f"unknown export format {fmt!r} (csv or json)")
    catch_up(session)
    if fmt == "json":
        return json.dumps([_public(r).model_dump() for r in _rows(session)], ensure_ascii=False, indent=1)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(EXPORT_FIELDS)
    for r in _rows(session):
        writer.writerow([r.seq, r.at, r.actor, r.action, r.subject, r.payload, r.prev_hash, r.hash])
    return out.getvalue()
