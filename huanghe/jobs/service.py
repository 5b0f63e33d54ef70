"""Jobs: submit (one or a batch, idempotent), list, show, cancel, logs, events.

The request path is kept lean: a submission validates its input (pydantic + cached id sets), inserts the
job row(s), their first event and the idempotency key in ONE transaction and commits before returning, so
every acknowledged job is durable; placement and dispatch happen later in the scheduler loop
(:mod:`huanghe.jobs.dispatcher`). Times are epoch seconds; money CNY; carbon kg.

Cancellation works at every state: a PENDING or PLACED job is cancelled at once; a dispatched or running job
gets ``cancel_requested`` and the scheduler stops it on its back-end; a terminal job is left as it is
(cancelling is idempotent).
"""

from __future__ import annotations

import os
import queue
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any, cast

import orjson
from pydantic import BaseModel, Field, model_validator
from sqlalchemy import JSON, Engine, Table, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from huanghe.audit import service as audit
from huanghe.core.errors import FieldError, InvalidError, NotFoundError
from huanghe.data.models import DatasetRow
from huanghe.domain.enums import JobState
from huanghe.domain.jobs import JobSpec
from huanghe.domain.network import ID_PATTERN
from huanghe.jobs.models import IdempotencyKeyRow, JobEventRow, JobRow, PlacementRow
from huanghe.network.models import CenterRow, CityRow
from huanghe.tenancy.models import TenantRow

#: Most jobs accepted in one batch request.
MAX_BATCH_JOBS = 10_000
#: Longest accepted Idempotency-Key.
MAX_IDEMPOTENCY_KEY = 200
#: States of a job that holds (or is about to hold) resources in a pool.
ACTIVE_STATES = (JobState.PLACED, JobState.DISPATCHED, JobState.RUNNING)
#: How long the cached id sets (cities, centers, tenants) are trusted before a reload, seconds.
REF_CACHE_TTL_S = 5.0


class JobSubmit(JobSpec):
    """A job submission: the :class:`JobSpec` fields plus what to run and who runs it.

    Exactly one of ``command`` (one shell command line) and ``script`` (a whole script) is given.
    ``duration_s`` is the submitter's run-time estimate (used for placement only); ``time_limit_s`` is
    enforced by back-ends that can; ``max_attempts`` bounds dispatches (first run + retries elsewhere).
    """

    name: str = Field(default="", max_length=63)
    script: str = Field(default="", max_length=1_000_000)
    tenant: str | None = Field(default=None, pattern=ID_PATTERN, max_length=64)
    user: str | None = Field(default=None, pattern=ID_PATTERN, max_length=64)
    time_limit_s: float | None = Field(default=None, gt=0)
    env: dict[str, str] = Field(default_factory=dict, max_length=100)
    max_attempts: int = Field(default=3, ge=1, le=10)

    @model_validator(mode="after")
    def _one_of_command_script(self) -> JobSubmit:
        if bool(self.command.strip()) == bool(self.script.strip()):
            raise ValueError("exactly one of command and script must be given")
        if self.cpus <= 0:
            raise ValueError("cpus must be > 0")
        return self


class JobBatchSubmit(BaseModel):
    """Body of ``POST /jobs:batch``: up to :data:`MAX_BATCH_JOBS` submissions."""

    jobs: list[JobSubmit] = Field(min_length=1, max_length=MAX_BATCH_JOBS)


def new_job_id(now_s: float) -> str:
    """A 20-character id that sorts by submission time: 11 hex digits of epoch ms + 9 random hex digits."""
    return f"j{int(now_s * 1000):011x}{os.urandom(5).hex()[:8]}"


class _RefCache:
    """Id sets of cities, centers and tenants, reloaded after :data:`REF_CACHE_TTL_S` or on a miss."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._loaded_s = -1e18
        self.sets: dict[str, frozenset[str]] = {}

    def _load(self, session: Session) -> None:
        self.sets = {
            "city": frozenset(session.scalars(select(CityRow.id))),
            "center": frozenset(session.scalars(select(CenterRow.id))),
            "tenant": frozenset(session.scalars(select(TenantRow.id))),
        }
        self._loaded_s = time.monotonic()

    def has(self, session: Session, kind: str, ident: str) -> bool:
        with self._lock:
            if time.monotonic() - self._loaded_s > REF_CACHE_TTL_S:
                self._load(session)
            if ident in self.sets[kind]:
                return True
            self._load(session)  # maybe created a moment ago
            return ident in self.sets[kind]


_REFS: dict[int, _RefCache] = {}


def _refs(session: Session) -> _RefCache:
    bind = session.get_bind()
    key = id(bind.engine if isinstance(bind, Engine) else bind)
    cache = _REFS.get(key)
    if cache is None:
        cache = _REFS.setdefault(key, _RefCache())
    return cache


def _check_refs(session: Session, jobs: Sequence[JobSubmit], prefix: str) -> None:
    errors: list[FieldError] = []
    refs = _refs(session)
    dataset_ids = {d for j in jobs for d in j.datasets}
    known_ds: set[str] = set()
    if dataset_ids:
        known_ds = set(session.scalars(select(DatasetRow.id).where(DatasetRow.id.in_(dataset_ids))))
    for i, j in enumerate(jobs):
        at = f"{prefix}[{i}]." if prefix else ""
        for fname, kind in (("user_city", "city"), ("data_center", "center"), ("tenant", "tenant")):
            value = getattr(j, fname)
            if value and not refs.has(session, kind, value):
                errors.append(FieldError(f"{at}{fname}", f"unknown {kind} {value!r}"))
        for k, d in enumerate(j.datasets):
            if d not in known_ds:
                errors.append(FieldError(f"{at}datasets[{k}]", f"unknown dataset {d!r}"))
        if len(errors) >= 50:
            break
    if errors:
        raise InvalidError(errors)


def _row(j: JobSubmit, job_id: str, now_s: float) -> dict[str, Any]:
    return {
        "id": job_id,
        "name": j.name or job_id,
        "tenant_id": j.tenant,
        "user_id": j.user,
        "spec": j.model_dump(mode="json", exclude_defaults=True),
        "priority": j.priority,
        "cpus": j.cpus,
        "gpus": j.gpus,
        "mem_gb": j.mem_gb,
        "nodes": j.nodes,
        "state": JobState.PENDING.value,
        "submit_s": now_s,
        "updated_s": now_s,
        "attempt": 0,
        "max_attempts": j.max_attempts,
        "excluded_centers": [],
        "cancel_requested": False,
        "message": "",
    }


def _accepted(row: Mapping[str, Any]) -> dict[str, Any]:
    """The short answer to a submission."""
    return {"id": row["id"], "name": row["name"], "state": row["state"], "submit_s": row["submit_s"]}


@dataclass
class _Prepared:
    """Rows of one accepted request, ready to insert."""

    rows: list[dict[str, Any]]
    events: list[dict[str, Any]]
    key_row: dict[str, Any] | None


Answer = tuple[list[dict[str, Any]], bool]


def _prepare(
    session: Session,
    jobs: Sequence[JobSubmit],
    idempotency_key: str | None,
    batch: bool,
    now: Callable[[], float],
) -> _Prepared | Answer:
    """Check a request; the rows to insert, or the earlier answer when its key was seen before."""
    if idempotency_key is not None:
        if not idempotency_key.strip() or len(idempotency_key) > MAX_IDEMPOTENCY_KEY:
            raise InvalidError(
                [FieldError("header.Idempotency-Key", f"must have 1 to {MAX_IDEMPOTENCY_KEY} characters")]
            )
        previous = _replay(session, idempotency_key)
        if previous is not None:
            return previous, False
    _check_refs(session, jobs, "jobs" if batch else "")
    now_s = now()
    rows = [_row(j, new_job_id(now_s), now_s) for j in jobs]
    events = [
        {"job_id": r["id"], "t_s": now_s, "kind": "state", "state": "PENDING", "message": "submitted / 已提交",
         "data": None}
        for r in rows
    ]  # fmt: skip
    key_row = None
    if idempotency_key is not None:
        key_row = {"key": idempotency_key, "job_ids": [r["id"] for r in rows], "created_s": now_s}
    return _Prepared(rows, events, key_row)


_JOBS = cast(Table, JobRow.__table__)
_EVENTS = cast(Table, JobEventRow.__table__)
_KEYS = cast(Table, IdempotencyKeyRow.__table__)


#: From this many rows on, PostgreSQL gets the rows through COPY (one stream) instead of executemany.
COPY_MIN_ROWS = 64


def _write(session: Session, preps: Sequence[_Prepared], audits: Sequence[audit.Entry] = ()) -> None:
    """Insert the rows of several requests and commit once: executemany per table, or COPY on PostgreSQL
    for big groups (psycopg's executemany still sends one statement per row). ``audits`` (the requests'
    audit records) are appended to the chain in the SAME transaction: a job is stored with its record or
    not at all."""
    keys = [p.key_row for p in preps if p.key_row is not None]
    if keys:
        session.execute(_KEYS.insert(), keys)
    rows = [r for p in preps for r in p.rows]
    events = [e for p in preps for e in p.events]
    conn = session.connection()
    if conn.dialect.name == "postgresql" and len(rows) >= COPY_MIN_ROWS:
        raw = conn.connection.driver_connection
        with raw.cursor() as cur:  # type: ignore[union-attr]
            _copy(cur, _JOBS, rows)
            _copy(cur, _EVENTS, events)
    else:
        session.execute(_JOBS.insert(), rows)
        session.execute(_EVENTS.insert(), events)
    if audits:
        audit.record_many(session, audits)
    session.commit()


def _copy(cur: Any, table: Table, rows: list[dict[str, Any]]) -> None:
    """``COPY table (columns) FROM STDIN`` of ``rows`` (JSON columns sent as JSON text)."""
    cols = list(rows[0])
    json_cols = {c.name for c in table.columns if isinstance(c.type, JSON)}
    with cur.copy(f"COPY {table.name} ({', '.join(cols)}) FROM STDIN") as cp:
        for r in rows:
            cp.write_row(
                [orjson.dumps(r[c]).decode() if c in json_cols and r[c] is not None else r[c] for c in cols]
            )


def submit_jobs(
    session: Session,
    jobs: Sequence[JobSubmit],
    *,
    idempotency_key: str | None = None,
    batch: bool = False,
    now: Callable[[], float] = time.time,
    audit_entry: audit.Entry | None = None,
) -> Answer:
    """Store ``jobs`` (PENDING) and commit. Returns (short job dicts, created).

    With ``idempotency_key``: if the key was used before, nothing is stored and the jobs of the first request
    are returned with ``created`` False. ``audit_entry`` is appended to the audit chain in the same
    transaction when the jobs are stored (not on a replay). Unknown references raise :class:`InvalidError` with the field path
    (``jobs[3].user_city`` for a batch, ``user_city`` for one job).
    """
    prep = _prepare(session, jobs, idempotency_key, batch, now)
    if not isinstance(prep, _Prepared):
        return prep
    try:
        _write(session, [prep], [audit_entry] if audit_entry is not None else [])
    except IntegrityError:
        session.rollback()
        if idempotency_key is not None:
            previous = _replay(session, idempotency_key)
            if previous is not None:
                return previous, False
        raise
    return [_accepted(r) for r in prep.rows], True


@dataclass
class _Request:
    jobs: Sequence[JobSubmit]
    key: str | None
    batch: bool
    audit_entry: audit.Entry | None = None
    future: Future[Answer] = field(default_factory=Future)


class SubmitQueue:
    """Group commit for submissions: requests that arrive while one transaction commits share the next one.

    One writer thread takes every queued request (up to ``max_jobs`` jobs), checks each, inserts all their
    rows with one ``executemany`` per table and commits ONCE; then every request's future is answered. So
    an acknowledged job is always committed (durable) and concurrent requests share one disk flush. A request
    that fails its checks gets its own error; if the group insert conflicts (an ``Idempotency-Key`` sent twice
    at once), its requests are redone one by one with :func:`submit_jobs`. A request may carry its audit
    record (:class:`~huanghe.audit.service.Entry`): the records of a group are chained, in order, in the
    group's transaction (:func:`~huanghe.audit.service.record_many`), so auditing costs no extra commit.
    """

    def __init__(self, session_factory: sessionmaker[Session], max_jobs: int = 20_000) -> None:
        self.sf = session_factory
        self.max_jobs = max_jobs
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
        ready: list[tuple[_Request, _Prepared]] = []
        with self.sf() as s:
            for r in group:
                try:
                    prep = _prepare(s, r.jobs, r.key, r.batch, time.time)
                except Exception as exc:
                    r.future.set_exception(exc)
                    continue
                if isinstance(prep, _Prepared):
                    ready.append((r, prep))
                else:
                    r.future.set_result(prep)
            if not ready:
                s.rollback()
                return
            try:
                _write(
                    s, [p for _, p in ready], [r.audit_entry for r, _ in ready if r.audit_entry is not None]
                )
            except IntegrityError:
                s.rollback()
                for r, _ in ready:
                    self._single(r)
                return
        for r, p in ready:
            r.future.set_result(([_accepted(row) for row in p.rows], True))

    def _single(self, r: _Request) -> None:
        try:
            with self.sf() as s:
                r.future.set_result(
                    submit_jobs(s, r.jobs, idempotency_key=r.key, batch=r.batch, audit_entry=r.audit_entry)
                )
        except Exception as exc:
            r.future.set_exception(exc)


def _replay(session: Session, key: str) -> list[dict[str, Any]] | None:
    ids = session.scalar(select(IdempotencyKeyRow.job_ids).where(IdempotencyKeyRow.key == key))
    if ids is None:
        return None
    rows = {r.id: r for r in session.execute(select(JobRow).where(JobRow.id.in_(ids))).scalars()}
    return [_accepted(vars(rows[i])) for i in ids if i in rows]


# ------------------------------------------------------------------ reading
def job_public(r: JobRow, now_s: float | None = None) -> dict[str, Any]:
    """A job as the API shows it. ``cost_cny`` is the actual cost so far (price × run time), None before
    it started; ``est_*`` are the placement's estimates."""
    cost = None
    if r.started_s is not None and r.price_cny_per_hour is not None:
        end = r.ended_s if r.ended_s is not None else (now_s if now_s is not None else time.time())
        cost = r.price_cny_per_hour * max(0.0, end - r.started_s) / 3600.0
    return {
        "id": r.id,
        "name": r.name,
        "state": r.state,
        "tenant": r.tenant_id,
        "user": r.user_id,
        "priority": r.priority,
        "pool": r.pool_id,
        "center": r.center_id,
        "submit_s": r.submit_s,
        "updated_s": r.updated_s,
        "started_s": r.started_s,
        "ended_s": r.ended_s,
        "attempt": r.attempt,
        "max_attempts": r.max_attempts,
        "excluded_centers": list(r.excluded_centers or []),
        "backend": r.backend,
        "backend_job_id": r.backend_job_id,
        "cancel_requested": r.cancel_requested,
        "exit_code": r.exit_code,
        "message": r.message,
        "price_cny_per_hour": r.price_cny_per_hour,
        "est_cost_cny": r.est_cost_cny,
        "est_carbon_kg": r.est_carbon_kg,
        "cost_cny": cost,
        "spec": r.spec,
    }


def _get(session: Session, job_id: str) -> JobRow:
    row = session.get(JobRow, job_id)
    if row is None:
        raise NotFoundError("job", job_id)
    return row


def list_jobs(
    session: Session,
    *,
    state: str | None = None,
    pool: str | None = None,
    center: str | None = None,
    tenant: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> dict[str, Any]:
    """A page of jobs, newest first: ``{"items", "total", "limit", "offset"}``."""
    where = []
    if state:
        st = state.upper()
        if st not in JobState.__members__:
            raise InvalidError(
                [FieldError("query.state", f"unknown state {state!r}; one of {list(JobState)}")]
            )
        where.append(JobRow.state == st)
    if pool:
        where.append(JobRow.pool_id == pool)
    if center:
        where.append(JobRow.center_id == center)
    if tenant:
        where.append(JobRow.tenant_id == tenant)
    total = session.scalar(select(func.count()).select_from(JobRow).where(*where)) or 0
    rows = session.scalars(
        select(JobRow)
        .where(*where)
        .order_by(JobRow.submit_s.desc(), JobRow.id.desc())
        .limit(limit)
        .offset(offset)
    )
    now_s = time.time()
    return {"items": [job_public(r, now_s) for r in rows], "total": total, "limit": limit, "offset": offset}


def events(session: Session, job_id: str) -> list[dict[str, Any]]:
    """Every event of a job, oldest first."""
    _get(session, job_id)
    rows = session.scalars(select(JobEventRow).where(JobEventRow.job_id == job_id).order_by(JobEventRow.id))
    return [
        {"t_s": e.t_s, "kind": e.kind, "state": e.state, "message": e.message, "data": e.data} for e in rows
    ]


def show(session: Session, job_id: str) -> dict[str, Any]:
    """The job with its state history, its placements (the latest with its explanation) and its cost."""
    row = _get(session, job_id)
    out = job_public(row)
    out["history"] = [
        {"t_s": e["t_s"], "state": e["state"], "message": e["message"]}
        for e in events(session, job_id)
        if e["kind"] == "state"
    ]
    placements = list(
        session.scalars(select(PlacementRow).where(PlacementRow.job_id == job_id).order_by(PlacementRow.id))
    )
    out["placements"] = [
        {
            "attempt": p.attempt,
            "t_s": p.t_s,
            "policy": p.policy,
            "pool": p.pool_id,
            "center": p.center_id,
            "est_start_s": p.est_start_s,
            "est_run_s": p.est_run_s,
            "est_cost_cny": p.est_cost_cny,
            "est_carbon_kg": p.est_carbon_kg,
        }
        for p in placements
    ]
    out["placement"] = (
        {**out["placements"][-1], "explanation": placements[-1].explanation} if placements else None
    )
    return out


def cancel(session: Session, job_id: str, now: Callable[[], float] = time.time) -> dict[str, Any]:
    """Cancel at any state (see module docstring); returns the job as it is now."""
    row = _get(session, job_id)
    now_s = now()
    waiting = (JobState.PENDING.value, JobState.PLACED.value)
    done = rowcount(session.execute(
        update(JobRow)
        .where(JobRow.id == job_id, JobRow.state.in_(waiting))
        .values(state=JobState.CANCELLED.value, ended_s=now_s, updated_s=now_s, cancel_requested=True,
                message="cancelled before dispatch / 调度前已取消")
    ))  # fmt: skip
    if done:
        _event(session, job_id, now_s, "state", JobState.CANCELLED, "cancelled by the user / 用户取消")
    else:
        session.refresh(row)
        if not JobState(row.state).terminal and not row.cancel_requested:
            session.execute(
                update(JobRow).where(JobRow.id == job_id).values(cancel_requested=True, updated_s=now_s)
            )
            _event(session, job_id, now_s, "cancel_requested", None, "cancel requested / 已请求取消")
    session.commit()
    session.refresh(row)
    return job_public(row)


def _event(
    session: Session,
    job_id: str,
    t_s: float,
    kind: str,
    state: JobState | None,
    message: str,
    data: dict[str, Any] | None = None,
) -> None:
    session.execute(
        insert(JobEventRow),
        [{"job_id": job_id, "t_s": t_s, "kind": kind, "state": state.value if state else None,
          "message": message, "data": data}],
    )  # fmt: skip


record_event = _event


def rowcount(result: Any) -> int:
    """Rows an UPDATE/DELETE touched (``Session.execute`` is typed as returning a plain ``Result``)."""
    return int(getattr(result, "rowcount", 0) or 0)


def get_row(session: Session, job_id: str) -> JobRow:
    """The stored row of a job (:class:`NotFoundError` if none)."""
    return _get(session, job_id)
