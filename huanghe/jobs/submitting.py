"""Storing submissions: checks, idempotency keys and one durable transaction per request (or group).

A submission validates its input (pydantic + cached id sets), inserts the job row(s), their first event and
the idempotency key in ONE transaction and commits before returning, so every acknowledged job is durable;
placement and dispatch happen later in the dispatch loop (:mod:`huanghe.jobs.dispatcher`). Concurrent
requests share one commit through :class:`~huanghe.jobs.submit_queue.SubmitQueue`, which uses
:func:`prepare` and :func:`write` below. Times are epoch seconds from an injected :class:`Clock`.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, cast

import orjson
from sqlalchemy import JSON, Engine, Table, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from huanghe.audit import service as audit
from huanghe.core.clock import Clock, WallClock
from huanghe.core.errors import FieldError, InvalidError
from huanghe.data.models import DatasetRow
from huanghe.domain.enums import JobState
from huanghe.jobs.models import IdempotencyKeyRow, JobEventRow, JobRow
from huanghe.jobs.schemas import MAX_IDEMPOTENCY_KEY, JobSubmit
from huanghe.network import offerings
from huanghe.network.models import CenterRow, CityRow
from huanghe.network.wall_time import check_wall_times
from huanghe.tenancy.models import TenantRow

#: How long the cached id sets (cities, centers, tenants) are trusted before a reload, seconds.
REF_CACHE_TTL_S = 5.0
#: From this many rows on, PostgreSQL gets the rows through COPY (one stream) instead of executemany.
COPY_MIN_ROWS = 64

#: What a submission answers: (short job dicts, created). ``created`` is False for a replayed key.
Answer = tuple[list[dict[str, Any]], bool]


def new_job_id(now_s: float) -> str:
    """A 20-character id that sorts by submission time: 11 hex digits of epoch ms + 9 random hex digits."""
    return f"j{int(now_s * 1000):011x}{os.urandom(5).hex()[:8]}"


class _RefCache:
    """Id sets of cities, centers and tenants, reloaded after :data:`REF_CACHE_TTL_S` or on a miss.
    (The TTL runs on the monotonic clock: it paces reloads, it is no domain time.)"""

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
    """Every reference exists. A dataset of another tenant than the job's answers exactly like an unknown
    one (same status, same words), so dataset ids cannot be probed across tenants."""
    errors: list[FieldError] = []
    refs = _refs(session)
    dataset_ids = {d for j in jobs for d in j.datasets} | {j.output_dataset for j in jobs if j.output_dataset}
    owner_of: dict[str, str] = {}
    if dataset_ids:
        found = session.execute(
            select(DatasetRow.id, DatasetRow.tenant_id).where(DatasetRow.id.in_(dataset_ids))
        )
        owner_of = {ds_id: tenant_id for ds_id, tenant_id in found}
    for i, j in enumerate(jobs):
        at = f"{prefix}[{i}]." if prefix else ""
        for fname, kind in (("user_city", "city"), ("data_center", "center"), ("tenant", "tenant")):
            value = getattr(j, fname)
            if value and not refs.has(session, kind, value):
                errors.append(FieldError(f"{at}{fname}", f"unknown {kind} {value!r}"))
        for k, d in enumerate(j.datasets):
            owner = owner_of.get(d)
            if owner is None or (j.tenant is not None and owner != j.tenant):
                errors.append(FieldError(f"{at}datasets[{k}]", f"unknown dataset {d!r}"))
        if j.output_dataset:  # a new dataset, or one of the job's own tenant (another's answers as unknown)
            owner = owner_of.get(j.output_dataset)
            if j.tenant is None:
                errors.append(
                    FieldError(
                        f"{at}output_dataset", "outputs are stored for a tenant: name the job's tenant"
                    )
                )
            elif owner is not None and owner != j.tenant:
                errors.append(FieldError(f"{at}output_dataset", f"unknown dataset {j.output_dataset!r}"))
        if len(errors) >= 50:
            break
    if errors:
        raise InvalidError(errors)


def _spec(j: JobSubmit) -> dict[str, Any]:
    """The stored submission (the job row's ``spec``): the fields given, as JSON."""
    return j.model_dump(mode="json", exclude_defaults=True)


def _row(j: JobSubmit, job_id: str, now_s: float) -> dict[str, Any]:
    return {
        "id": job_id,
        "name": j.name or job_id,
        "tenant_id": j.tenant,
        "user_id": j.user,
        "spec": _spec(j),
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


def accepted(row: Mapping[str, Any]) -> dict[str, Any]:
    """The short answer to a submission."""
    return {"id": row["id"], "name": row["name"], "state": row["state"], "submit_s": row["submit_s"]}


@dataclass
class Prepared:
    """Rows of one accepted request, ready to insert."""

    rows: list[dict[str, Any]]
    events: list[dict[str, Any]]
    key_row: dict[str, Any] | None


def prepare(
    session: Session,
    jobs: Sequence[JobSubmit],
    idempotency_key: str | None,
    batch: bool,
    clock: Clock,
) -> Prepared | Answer:
    """Check a request; the rows to insert, or the earlier answer when its key was seen before."""
    if idempotency_key is not None:
        if not idempotency_key.strip() or len(idempotency_key) > MAX_IDEMPOTENCY_KEY:
            raise InvalidError(
                [FieldError("header.Idempotency-Key", f"must have 1 to {MAX_IDEMPOTENCY_KEY} characters")]
            )
        previous = replay(session, idempotency_key, jobs)
        if previous is not None:
            return previous, False
    _check_refs(session, jobs, "jobs" if batch else "")
    offerings.check_targets(session, [(f"jobs[{i}].offering" if batch else "offering", j.offering)
                                      for i, j in enumerate(jobs) if j.offering])  # fmt: skip
    check_wall_times(session, [(j.time_limit_s, j.duration_s) for j in jobs], "jobs" if batch else "")
    now_s = clock.now_s()
    rows = [_row(j, new_job_id(now_s), now_s) for j in jobs]
    events = [
        {"job_id": r["id"], "t_s": now_s, "kind": "state", "state": "PENDING", "message": "submitted / 已提交",
         "data": None}
        for r in rows
    ]  # fmt: skip
    key_row = None
    if idempotency_key is not None:
        key_row = {"key": idempotency_key, "job_ids": [r["id"] for r in rows], "created_s": now_s}
    return Prepared(rows, events, key_row)


_JOBS = cast(Table, JobRow.__table__)
_EVENTS = cast(Table, JobEventRow.__table__)
_KEYS = cast(Table, IdempotencyKeyRow.__table__)


def write(session: Session, preps: Sequence[Prepared], audits: Sequence[audit.Entry] = ()) -> None:
    """Insert the rows of several requests and commit once: executemany per table, or COPY on PostgreSQL
    for big groups (psycopg's executemany still sends one statement per row). ``audits`` (the requests'
    audit records) are written in the SAME transaction (on PostgreSQL into the audit inbox, chained later by
    :mod:`huanghe.audit.chain`): a job is stored with its record or not at all."""
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
    clock: Clock | None = None,
    audit_entry: audit.Entry | None = None,
) -> Answer:
    """Store ``jobs`` (PENDING) and commit. Returns (short job dicts, created).

    With ``idempotency_key``: if the key was used before, nothing is stored and the jobs of the first request
    are returned with ``created`` False. ``audit_entry`` is appended to the audit chain in the same
    transaction when the jobs are stored (not on a replay). Unknown references raise :class:`InvalidError`
    with the field path (``jobs[3].user_city`` for a batch, ``user_city`` for one job). ``clock`` gives the
    submission time (default: the wall clock).
    """
    prep = prepare(session, jobs, idempotency_key, batch, clock or WallClock())
    if not isinstance(prep, Prepared):
        return prep
    try:
        write(session, [prep], [audit_entry] if audit_entry is not None else [])
    except IntegrityError:
        session.rollback()
        if idempotency_key is not None:
            previous = replay(session, idempotency_key, jobs)
            if previous is not None:
                return previous, False
        raise
    return [accepted(r) for r in prep.rows], True


def replay(
    session: Session, key: str, jobs: Sequence[JobSubmit] | None = None
) -> list[dict[str, Any]] | None:
    """The short answers of the request that first used ``key``, or None if it is new. With ``jobs`` (the
    new request), a key first used for a different body raises :class:`InvalidError` (422) naming the
    conflict: a key replays one request, it never answers another with the old jobs."""
    ids = session.scalar(select(IdempotencyKeyRow.job_ids).where(IdempotencyKeyRow.key == key))
    if ids is None:
        return None
    rows = {r.id: r for r in session.execute(select(JobRow).where(JobRow.id.in_(ids))).scalars()}
    if jobs is not None and _differs(jobs, ids, rows):
        raise InvalidError([FieldError(
            "header.Idempotency-Key",
            f"conflict: this key was already used for a different request body ({len(ids)} job(s)); "
            "reuse a key only to retry the same request, use a new key for a new one",
        )])  # fmt: skip
    return [accepted(vars(rows[i])) for i in ids if i in rows]


def _differs(jobs: Sequence[JobSubmit], ids: Sequence[str], rows: Mapping[str, JobRow]) -> bool:
    """Whether ``jobs`` is another body than the one whose stored jobs are ``ids`` (compared spec by spec)."""
    if len(jobs) != len(ids):
        return True
    return any(i in rows and rows[i].spec != _spec(j) for i, j in zip(ids, jobs, strict=True))
