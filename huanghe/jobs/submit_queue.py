"""Group commit for submissions: requests that arrive while one transaction commits share the next one."""

from __future__ import annotations

import queue
import threading
from collections.abc import Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field

from sqlalchemy.orm import Session, sessionmaker

from huanghe.audit import service as audit
from huanghe.core.clock import Clock, WallClock
from huanghe.jobs.schemas import JobSubmit
from huanghe.jobs.submitting import Answer, Prepared, accepted, prepare, submit_jobs, write


@dataclass
class _Request:
    jobs: Sequence[JobSubmit]
    key: str | None
    batch: bool
    audit_entry: audit.Entry | None = None
    future: Future[Answer] = field(default_factory=Future)


class SubmitQueue:
    """Group commit for submissions.

    One writer thread takes every queued request (up to ``max_jobs`` jobs), checks each, inserts all their
    rows with one ``executemany`` per table and commits ONCE; then every request's future is answered. So
    an acknowledged job is always committed (durable) and concurrent requests share one disk flush. A request
    that fails its checks gets its own error; if the group insert fails (an ``Idempotency-Key`` sent twice at
    once, or a row the store refuses despite the checks), its requests are redone one by one with
    :func:`~huanghe.jobs.submitting.submit_jobs`, so one tenant's bad request never fails another's. A request
    may carry its audit record (:class:`~huanghe.audit.service.Entry`): the records of a group are written, in
    order, in the group's transaction (:func:`~huanghe.audit.service.record_many`; on PostgreSQL unchained, into
    the audit inbox, so the group never waits for the chain's head), so auditing costs no extra commit. ``clock`` gives submission times (default: the wall clock).
    """

    def __init__(
        self, session_factory: sessionmaker[Session], max_jobs: int = 20_000, clock: Clock | None = None
    ) -> None:
        self.sf = session_factory
        self.max_jobs = max_jobs
        self.clock = clock or WallClock()
        self._q: queue.SimpleQueue[_Request | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self.groups = 0
        self.requests = 0

    def submit(
        self,
        jobs: Sequence[JobSubmit],
        key: str | None = None,
        batch: bool = False,
        audit_entry: audit.Entry | None = None,
    ) -> Future[Answer]:
        """Queue a request; the future gives what :func:`submit_jobs` would return (or raises the same).
        ``audit_entry`` is committed with the jobs when they are stored (``created`` True), not on a replay."""
        req = _Request(jobs, key, batch, audit_entry)
        if self._thread is None:
            with self._lock:
                if self._thread is None:
                    self._thread = threading.Thread(target=self._run, name="huanghe-submit", daemon=True)
                    self._thread.start()
        self._q.put(req)
        return req.future

    def close(self) -> None:
        if self._thread is not None:
            self._q.put(None)
            self._thread.join(10)
            self._thread = None

    def _run(self) -> None:
        while True:
            first = self._q.get()
            if first is None:
                return
            group = [first]
            n = len(first.jobs)
            while n < self.max_jobs:
                try:
                    nxt = self._q.get_nowait()
                except queue.Empty:
                    break
                if nxt is None:
                    self._q.put(None)
                    break
                group.append(nxt)
                n += len(nxt.jobs)
            try:
                self._group(group)
            except BaseException as exc:  # never leave a request waiting
                for r in group:
                    if not r.future.done():
                        r.future.set_exception(exc)

    def _group(self, group: list[_Request]) -> None:
        self.groups += 1
        self.requests += len(group)
        ready: list[tuple[_Request, Prepared]] = []
        with self.sf() as s:
            for r in group:
                try:
                    prep = prepare(s, r.jobs, r.key, r.batch, self.clock)
                except Exception as exc:
                    s.rollback()  # a failed read must not abort the transaction the others share
                    r.future.set_exception(exc)
                    continue
                if isinstance(prep, Prepared):
                    ready.append((r, prep))
                else:
                    r.future.set_result(prep)
            if not ready:
                s.rollback()
                return
            try:
                write(
                    s, [p for _, p in ready], [r.audit_entry for r, _ in ready if r.audit_entry is not None]
                )
            except Exception:
                # A key sent twice at once, or a row the store refused despite the checks: redo each request
                # alone, so the failing one gets its error and every other request its jobs.
                s.rollback()
                for r, _ in ready:
                    self._single(r)
                return
        for r, p in ready:
            r.future.set_result(([accepted(row) for row in p.rows], True))

    def _single(self, r: _Request) -> None:
        try:
            with self.sf() as s:
                answer = submit_jobs(
                    s,
                    r.jobs,
                    idempotency_key=r.key,
                    batch=r.batch,
                    clock=self.clock,
                    audit_entry=r.audit_entry,
                )
                r.future.set_result(answer)
        except Exception as exc:
            r.future.set_exception(exc)
