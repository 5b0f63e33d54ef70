"""The scheduler service: place pending jobs, dispatch them to their pool's back-end, follow them.

One :meth:`Scheduler.tick` does, in order:

1. **health** (every ``health_interval_s``): ``health()`` of every back-end, per center; a center whose
   back-ends fail ``unhealthy_after`` pings in a row is marked unhealthy (``center_health`` table), gets no
   new jobs (snapshot health mask), and its placed/dispatched/running jobs are failed over: cancelled on the
   back-end if it answers, then re-queued with that center excluded (bounded by the job's ``max_attempts``,
   each step recorded as an event);
2. **cancel**: dispatched/running jobs with ``cancel_requested`` are cancelled on their back-end;
3. **place**: PENDING jobs (priority, then age) go through the placement engine on a live snapshot (stored
   topology − resources held by active jobs, health mask); decisions and explanations are stored;
4. **dispatch**: each PLACED job gets a dispatch token (``hh-<job id>-<attempt>``), committed as state
   DISPATCHED *before* the back-end is called; the token is the back-end job name, so a restart finds a job
   that was already submitted instead of running it twice;
5. **reconcile**: back-end states of dispatched/running jobs are copied into the database. A job that FAILED
   without an exit code (killed, node lost), was PREEMPTED, or that its back-end forgot, is retried elsewhere
   (bounded); a job whose own program failed (exit code ≠ 0) is not retried.

:meth:`Scheduler.recover` runs when a process becomes leader: dispatches interrupted by a crash are resolved
(found on the back-end by token → adopted; provably never submitted → dispatched again; unknowable → FAILED
with that reason, never run twice).

:class:`SchedulerLoop` runs ticks on a background thread while this process is the leader
(:class:`~huanghe.jobs.leader.LeaderElector`). Settings: :class:`SchedulerSettings` (``HUANGHE_SCHEDULER_*``).
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import logging
import math
import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy import Engine, func, select, update
from sqlalchemy.orm import Session, sessionmaker

from huanghe.backends.lookup import TOKEN_MARKER, find_by_token
from huanghe.backends.protocol import (
    Backend,
    BackendError,
    BackendJobSpec,
    BackendUnavailableError,
    UnknownJobError,
)
from huanghe.backends.registry import create_backend
from huanghe.broker.batch import JobBatch, JobInputError
from huanghe.broker.engine import Decision, PlacementEngine
from huanghe.broker.snapshot import NetworkSnapshot
from huanghe.core.clock import Clock, WallClock
from huanghe.data.models import DatasetRow
from huanghe.domain.enums import DataClass, JobState
from huanghe.domain.network import Topology
from huanghe.jobs.leader import LeaderElector
from huanghe.jobs.models import CenterHealthRow, JobRow, PlacementRow
from huanghe.jobs.service import ACTIVE_STATES, JobSubmit, record_event, rowcount
from huanghe.network import topology_store as topology_store

log = logging.getLogger("huanghe.broker")


class SchedulerSettings(BaseSettings):
    """Scheduler loop settings (env prefix ``HUANGHE_SCHEDULER_``): ``enabled``, ``interval_s`` (time between
    ticks, default 0.2 s), ``policy`` (placement policy name, default ``earliest-completion``), ``health_interval_s`` (seconds between back-end
    pings), ``unhealthy_after`` (failed pings in a row), ``lease_ttl_s`` (SQLite leader lease),
    ``max_batch`` (jobs placed per tick), ``default_duration_s`` (run-time estimate of a job that gives none),
    ``topology_refresh_s`` (how often the stored network is re-read), ``status_interval_s`` (least time
    between two status calls for one job; a newly dispatched job is asked at once)."""

    model_config = SettingsConfigDict(env_prefix="HUANGHE_SCHEDULER_", extra="ignore")

    enabled: bool = True
    interval_s: float = Field(default=0.2, gt=0, le=60)
    policy: str = "earliest-completion"
    health_interval_s: float = Field(default=2.0, gt=0)
    unhealthy_after: int = Field(default=2, ge=1)
    lease_ttl_s: float = Field(default=3.0, gt=0)
    max_batch: int = Field(default=2000, ge=1)
    default_duration_s: float = Field(default=60.0, ge=0)
    topology_refresh_s: float = Field(default=10.0, gt=0)
    status_interval_s: float = Field(default=0.5, ge=0)


class BackendCache:
    """One back-end instance per (name, settings); pools with equal settings share it. Thread-safe."""

    def __init__(self, factory: Callable[[str, Mapping[str, str]], Backend] = create_backend) -> None:
        self._factory = factory
        self._lock = threading.Lock()
        self._items: dict[str, Backend] = {}

    @staticmethod
    def key(name: str, settings: Mapping[str, Any]) -> str:
        return name + json.dumps({k: str(v) for k, v in settings.items()}, sort_keys=True)

    def get(self, name: str, settings: Mapping[str, Any]) -> Backend:
        """The instance for a pool's ``backend`` / ``backend_settings`` (created on first use)."""
        k = self.key(name, settings)
        with self._lock:
            be = self._items.get(k)
            if be is None:
                be = self._factory(name, {kk: str(v) for kk, v in settings.items()})
                self._items[k] = be
            return be

    def close(self) -> None:
        with self._lock:
            for be in self._items.values():
                with contextlib.suppress(Exception):
                    be.close()
            self._items.clear()


@dataclass
class TickReport:
    """What one tick did (counts), for logs, tests and the bench."""

    placed: int = 0
    unplaceable: int = 0
    dispatched: int = 0
    transitions: int = 0
    retried: int = 0
    failed_over: int = 0
    cancelled: int = 0
    health_checked: bool = False
    errors: list[str] = field(default_factory=list)


def dispatch_token(job_id: str, attempt: int) -> str:
    """The back-end job name of a dispatch (≤ 63 characters)."""
    return f"hh-{job_id}-{attempt}"


def backend_spec(row: JobRow, token: str) -> BackendJobSpec:
    """The back-end neutral job of a stored submission, marked with its token.

    The mark is a no-op shell command (``: huanghe-dispatch-token=<token>``) in front of the command, or on the
    line after the script's ``#!``, so the job's files on a back-end can be recognised after a crash.
    """
    sub = JobSubmit.model_validate(row.spec)
    mark = TOKEN_MARKER + token
    common: dict[str, Any] = {
        "name": token,
        "cpus": sub.cpus,
        "mem_gb": sub.mem_gb,
        "gpus": sub.gpus,
        "nodes": sub.nodes,
        "env": {**sub.env, "HUANGHE_PLATFORM_JOB_ID": row.id},
        "time_limit_s": sub.time_limit_s,
    }
    if not sub.script.strip():
        return BackendJobSpec(command=f"{mark}; {sub.command}", **common)
    body = sub.script
    shebang = "#!/bin/sh\n"
    if body.startswith("#!"):
        first, _, body = body.partition("\n")
        shebang = first + "\n"
    return BackendJobSpec(script=f"{shebang}{mark}\n{body.rstrip(chr(10))}\n", **common)


class Scheduler:
    """The decision loop's body (see module docstring). All time comes from ``clock`` (epoch seconds)."""

    def __init__(
        self,
        session_factory: sessionmaker[Session],
        settings: SchedulerSettings | None = None,
        backends: BackendCache | None = None,
        clock: Clock | None = None,
    ) -> None:
        self.sf = session_factory
        self.settings = settings or SchedulerSettings()
        self.backends = backends or BackendCache()
        self.clock = clock or WallClock()
        self.engine = PlacementEngine(self.settings.policy)
        self._topo: Topology | None = None
        self._base: NetworkSnapshot | None = None
        self._topo_loaded_s = -math.inf
        self._pools: dict[str, tuple[str, str, dict[str, Any]]] = {}  # pool → (center, backend, settings)
        self._health_due_s = -math.inf
        self._cancelling: set[str] = set()
        self._polled: dict[str, float] = {}  # job id → clock time of its last back-end status
        self._executor = ThreadPoolExecutor(max_workers=4, thread_name_prefix="hh-cancel")

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)

    # ---------------------------------------------------------------- topology
    def _topology(self, session: Session, now_s: float) -> NetworkSnapshot | None:
        if self._base is None or now_s - self._topo_loaded_s > self.settings.topology_refresh_s:
            topo = topology_store.export_topology(session)
            self._topo_loaded_s = now_s
            if not topo.centers:
                self._base = None
                return None
            self._topo = topo
            self._pools = {p.id: (c.id, p.backend, dict(p.backend_settings)) for c, p in topo.pools()}
            self._base = NetworkSnapshot.from_topology(topo, self.clock)
        return self._base

    def backend_for_pool(self, pool_id: str) -> Backend | None:
        info = self._pools.get(pool_id)
        return None if info is None else self.backends.get(info[1], info[2])

    # ---------------------------------------------------------------- tick
    def tick(self) -> TickReport:
        """One pass of health, cancel, place, dispatch, reconcile."""
        rep = TickReport()
        now_s = self.clock.now_s()
        with self.sf() as s:
            if self._topology(s, now_s) is None:
                return rep
        if now_s >= self._health_due_s:
            self._health_due_s = now_s + self.settings.health_interval_s
            rep.health_checked = True
            self._check_health(rep)
        self._cancel(rep)
        self._place(rep)
        self._dispatch(rep)
        self._reconcile(rep)
        return rep

    # ---------------------------------------------------------------- health
    def _check_health(self, rep: TickReport) -> None:
        now_s = self.clock.now_s()
        by_center: dict[str, list[tuple[bool, float, str]]] = {}
        seen: dict[str, tuple[bool, float, str]] = {}
        for center, name, settings in self._pools.values():
            k = BackendCache.key(name, settings)
            if k not in seen:
                try:
                    h = self.backends.get(name, settings).health()
                    seen[k] = (h.ok, h.latency_ms, h.message)
                except BackendError as exc:
                    seen[k] = (False, math.nan, str(exc))
            by_center.setdefault(center, []).append(seen[k])
        newly_down: list[str] = []
        with self.sf() as s:
            rows = {r.center_id: r for r in s.scalars(select(CenterHealthRow))}
            for center, results in by_center.items():
                ok = all(r[0] for r in results)
                msg = "; ".join(sorted({r[2] for r in results if not r[0]})) or "ok"
                latency = max((r[1] for r in results if not math.isnan(r[1])), default=None)
                row = rows.get(center)
                if row is None:
                    row = CenterHealthRow(
                        center_id=center, healthy=True, failures=0, checked_s=now_s, message=""
                    )
                    s.add(row)
                was_healthy = row.healthy
                row.checked_s = now_s
                row.latency_ms = latency
                row.message = msg[:2000]
                if ok:
                    row.failures = 0
                    row.last_ok_s = now_s
                    row.healthy = True
                else:
                    row.failures = (row.failures or 0) + 1
                    row.healthy = row.failures < self.settings.unhealthy_after
                if was_healthy and not row.healthy:
                    newly_down.append(center)
                    log.warning("center %s unhealthy (中心不可用): %s", center, msg)
            s.commit()
        for center in newly_down:
            self._fail_over_center(center, rep)

    def _fail_over_center(self, center: str, rep: TickReport) -> None:
        with self.sf() as s:
            ids = list(
                s.scalars(
                    select(JobRow.id).where(
                        JobRow.center_id == center, JobRow.state.in_([st.value for st in ACTIVE_STATES])
                    )
                )
            )
        for job_id in ids:
            with self.sf() as s:
                row = s.get(JobRow, job_id)
                if row is None or row.state not in {st.value for st in ACTIVE_STATES}:
                    continue
                be = self.backend_for_pool(row.pool_id or "")
                if be is not None and row.backend_job_id:
                    with contextlib.suppress(Exception):
                        be.cancel(row.backend_job_id)  # best effort: the center may not answer at all
                self._requeue(s, row, f"center {center} unhealthy / 中心不可用", kind="failover")
                rep.failed_over += 1

    def _requeue(self, s: Session, row: JobRow, reason: str, kind: str = "retry") -> bool:
        """Send a job back to PENDING with its center excluded, or FAIL it when attempts are used up.
        Commits. Returns whether it was re-queued."""
        now_s = self.clock.now_s()
        if row.cancel_requested:
            self._set_state(s, row, JobState.CANCELLED, f"cancelled ({reason})", now_s)
            s.commit()
            return False
        if row.attempt >= row.max_attempts:
            self._set_state(
                s, row, JobState.FAILED, f"{reason}; {row.attempt} attempt(s) used / 重试次数已用完", now_s
            )
            s.commit()
            return False
        excluded = list(row.excluded_centers or [])
        if row.center_id and row.center_id not in excluded:
            excluded.append(row.center_id)
        record_event(
            s, row.id, now_s, kind, None, reason,
            {"from_pool": row.pool_id, "from_center": row.center_id, "attempt": row.attempt},
        )  # fmt: skip
        row.excluded_centers = excluded
        row.backend_job_id = None
        row.dispatch_token = None
        row.started_s = None
        row.exit_code = None
        self._set_state(s, row, JobState.PENDING, f"re-queued: {reason} / 重新排队", now_s)
        s.commit()
        return True

    def _set_state(self, s: Session, row: JobRow, state: JobState, message: str, now_s: float) -> None:
        row.state = state.value
        row.message = message[:4000]
        row.updated_s = now_s
        if state.terminal and row.ended_s is None:
            row.ended_s = now_s
        record_event(s, row.id, now_s, "state", state, message[:4000])

    # ---------------------------------------------------------------- cancel
    def _cancel(self, rep: TickReport) -> None:
        with self.sf() as s:
            rows = list(
                s.execute(
                    select(JobRow.id, JobRow.pool_id, JobRow.backend_job_id).where(
                        JobRow.cancel_requested.is_(True),
                        JobRow.state.in_([JobState.DISPATCHED.value, JobState.RUNNING.value]),
                        JobRow.backend_job_id.is_not(None),
                    )
                )
            )
        for job_id, pool_id, bid in rows:
            if job_id in self._cancelling:
                continue
            be = self.backend_for_pool(pool_id or "")
            if be is None:
                continue
            self._cancelling.add(job_id)
            rep.cancelled += 1

            def run(be: Backend = be, bid: str = str(bid), job_id: str = job_id) -> None:
                try:
                    be.cancel(bid)
                except UnknownJobError:
                    pass
                except BackendError as exc:
                    log.warning("cancel of %s failed: %s", job_id, exc)
                finally:
                    self._cancelling.discard(job_id)

            self._executor.submit(run)

    # ---------------------------------------------------------------- place
    def _live_snapshot(self, s: Session, now_s: float) -> NetworkSnapshot:
        base = self._base
        assert base is not None
        used = s.execute(
            select(
                JobRow.pool_id,
                func.sum(JobRow.cpus * JobRow.nodes),
                func.sum(JobRow.gpus * JobRow.nodes),
                func.sum(JobRow.mem_gb * JobRow.nodes),
                func.count(),
            )
            .where(JobRow.state.in_([st.value for st in ACTIVE_STATES]), JobRow.pool_id.is_not(None))
            .group_by(JobRow.pool_id)
        ).all()
        cpus = base.cpus_free.copy()
        gpus = base.gpus_free.copy()
        mem = base.mem_gb_free.copy()
        index = {p: i for i, p in enumerate(base.pool_ids)}
        for pool, c, g, m, _n in used:
            i = index.get(str(pool))
            if i is None:
                continue
            cpus[i] -= c or 0.0
            gpus[i] -= g or 0.0
            mem[i] -= m or 0.0
        cpus, gpus, mem = np.maximum(cpus, 0), np.maximum(gpus, 0), np.maximum(mem, 0)
        nodes = base.nodes_total.copy()
        for per, free in (
            (base.cpus_per_node, cpus),
            (base.gpus_per_node, gpus),
            (base.mem_gb_per_node, mem),
        ):
            with np.errstate(divide="ignore", invalid="ignore"):
                bound = np.where(per > 0, np.floor(free / np.where(per > 0, per, 1) + 1e-9), nodes)
            nodes = np.minimum(nodes, bound.astype(np.int64))
        snap = base.at(now_s).with_free(nodes, cpus, gpus, mem)
        healthy = np.ones(base.n_centers, dtype=np.bool_)
        c_index = {c: i for i, c in enumerate(base.center_ids)}
        for center, ok in s.execute(select(CenterHealthRow.center_id, CenterHealthRow.healthy)):
            if center in c_index and not ok:
                healthy[c_index[center]] = False
        return snap.with_health(healthy)

    def _records(self, s: Session, rows: list[JobRow]) -> list[dict[str, Any]]:
        ds_ids = {d for r in rows for d in (r.spec.get("datasets") or [])}
        datasets = {}
        if ds_ids:
            datasets = {d.id: d for d in s.scalars(select(DatasetRow).where(DatasetRow.id.in_(ds_ids)))}
        records = []
        order = list(DataClass)
        for r in rows:
            rec = dict(r.spec)
            rec["job_id"] = r.id
            rec["submit_s"] = r.submit_s
            if rec.get("duration_s") is None:
                rec["duration_s"] = self.settings.default_duration_s
            used = [datasets[d] for d in rec.pop("datasets", []) or [] if d in datasets]
            if used:
                biggest = max(used, key=lambda d: d.size_gb)
                rec["data_gb"] = float(rec.get("data_gb") or 0.0) + sum(d.size_gb for d in used)
                rec.setdefault("data_center", biggest.center_id)
                strictest = max((DataClass(d.data_class) for d in used), key=order.index)
                if order.index(strictest) > order.index(DataClass(rec.get("data_class", "general"))):
                    rec["data_class"] = strictest.value
            records.append(rec)
        return records

    def _place(self, rep: TickReport) -> None:
        now_s = self.clock.now_s()
        with self.sf() as s:
            rows = list(
                s.scalars(
                    select(JobRow)
                    .where(JobRow.state == JobState.PENDING.value, JobRow.cancel_requested.is_(False))
                    .order_by(JobRow.priority.desc(), JobRow.submit_s, JobRow.id)
                    .limit(self.settings.max_batch)
                )
            )
            if not rows:
                return
            snap = self._live_snapshot(s, now_s)
            good: list[JobRow] = []
            records: list[dict[str, Any]] = []
            for r, rec in zip(rows, self._records(s, rows), strict=True):
                try:
                    JobBatch.from_records(snap, [rec])
                except (JobInputError, ValueError) as exc:
                    self._set_state(s, r, JobState.FAILED, f"invalid job: {exc}", now_s)
                    rep.unplaceable += 1
                    continue
                good.append(r)
                records.append(rec)
            if not good:
                s.commit()
                return
            batch = JobBatch.from_records(snap, records)
            excluded = np.zeros_like(batch.allowed_centers)
            c_index = {c: i for i, c in enumerate(snap.center_ids)}
            for j, r in enumerate(good):
                for c in r.excluded_centers or []:
                    if c in c_index:
                        excluded[j, c_index[c]] = True
            if excluded.any():
                batch = dataclasses.replace(batch, allowed_centers=batch.allowed_centers & ~excluded)
            decisions = self.engine.place(snap, batch, now_s)
            for r, d in zip(good, decisions, strict=True):
                self._apply_decision(s, r, d, now_s, rep)
            s.commit()

    def _apply_decision(self, s: Session, r: JobRow, d: Decision, now_s: float, rep: TickReport) -> None:
        why = d.explanation.to_dict()
        if not d.placed:
            reasons = {x["reason"] for x in why.get("removed", [])}
            transient = "unhealthy" in reasons or bool(r.excluded_centers) or d.waits
            summary = ", ".join(f"{x['reason']}: {x['count']}" for x in why.get("removed", []))
            if transient:
                msg = f"waiting: no feasible pool now ({summary}) / 暂无可用资源池"
                if r.message != msg:
                    r.message = msg
                    r.updated_s = now_s
                    record_event(s, r.id, now_s, "unplaced", None, msg, why)
            else:
                self._set_state(
                    s, r, JobState.FAILED, f"no pool can run this job ({summary}) / 无可用资源池", now_s
                )
                record_event(s, r.id, now_s, "unplaced", None, "explanation", why)
            rep.unplaceable += 1
            return
        s.add(
            PlacementRow(
                job_id=r.id,
                attempt=r.attempt + 1,
                t_s=now_s,
                policy=self.engine.policy_name,
                pool_id=d.pool_id,
                center_id=d.center_id,
                est_start_s=_finite(d.est_start_s),
                est_run_s=_finite(d.est_run_s),
                est_cost_cny=_finite(d.est_cost_cny),
                est_carbon_kg=_finite(d.est_carbon_kg),
                explanation=why,
            )
        )
        r.pool_id = d.pool_id
        r.center_id = d.center_id
        r.price_cny_per_hour = _finite(d.price_cny_per_hour)
        r.est_cost_cny = _finite(d.est_cost_cny)
        r.est_carbon_kg = _finite(d.est_carbon_kg)
        info = self._pools.get(d.pool_id or "")
        r.backend = info[1] if info else None
        self._set_state(s, r, JobState.PLACED, f"placed on {d.pool_id} ({d.center_id}) / 已分配", now_s)
        rep.placed += 1

    # ---------------------------------------------------------------- dispatch
    def _dispatch(self, rep: TickReport) -> None:
        with self.sf() as s:
            ids = list(
                s.scalars(
                    select(JobRow.id)
                    .where(JobRow.state == JobState.PLACED.value, JobRow.cancel_requested.is_(False))
                    .order_by(JobRow.priority.desc(), JobRow.submit_s)
                    .limit(self.settings.max_batch)
                )
            )
        for job_id in ids:
            self._dispatch_one(job_id, rep)

    def _dispatch_one(self, job_id: str, rep: TickReport) -> None:
        with self.sf() as s:
            row = s.get(JobRow, job_id)
            if row is None:
                return
            be = self.backend_for_pool(row.pool_id or "")
            now_s = self.clock.now_s()
            token = dispatch_token(row.id, row.attempt + 1)
            # 1. record the intent (commit) before the back-end sees anything
            claimed = rowcount(s.execute(
                update(JobRow)
                .where(JobRow.id == job_id, JobRow.state == JobState.PLACED.value, JobRow.cancel_requested.is_(False))
                .values(state=JobState.DISPATCHED.value, dispatch_token=token, attempt=JobRow.attempt + 1,
                        updated_s=now_s, message=f"dispatching to {row.pool_id} / 正在下发")
            ))  # fmt: skip
            if not claimed:
                s.rollback()
                return
            record_event(
                s, job_id, now_s, "state", JobState.DISPATCHED, f"dispatching as {token}", {"token": token}
            )
            s.commit()
            s.refresh(row)
            if be is None:
                self._set_state(s, row, JobState.FAILED, f"pool {row.pool_id} has no back-end", now_s)
                s.commit()
                return
            # 2. submit
            try:
                spec = backend_spec(row, token)
                bid = be.submit(spec)
            except BackendUnavailableError as exc:
                row.attempt -= 1  # nothing was submitted: this dispatch does not count
                self._requeue(s, row, f"back-end {be.name} unavailable: {exc}")
                rep.retried += 1
                return
            except (BackendError, ValueError) as exc:
                self._set_state(s, row, JobState.FAILED, f"back-end {be.name} refused the job: {exc}", now_s)
                s.commit()
                return
            # 3. remember the back-end's id
            row.backend_job_id = bid
            row.updated_s = self.clock.now_s()
            record_event(
                s, job_id, row.updated_s, "dispatched", None, f"{be.name} job {bid}", {"backend_job_id": bid}
            )
            s.commit()
            rep.dispatched += 1

    # ---------------------------------------------------------------- reconcile
    def _reconcile(self, rep: TickReport) -> None:
        with self.sf() as s:
            rows = list(
                s.execute(
                    select(JobRow.id, JobRow.pool_id, JobRow.backend_job_id, JobRow.state).where(
                        JobRow.state.in_([JobState.DISPATCHED.value, JobState.RUNNING.value]),
                        JobRow.backend_job_id.is_not(None),
                    )
                )
            )
        now_s = self.clock.now_s()
        active = {r[0] for r in rows}
        for gone in [j for j in self._polled if j not in active]:
            del self._polled[gone]
        for job_id, pool_id, bid, state in rows:
            be = self.backend_for_pool(pool_id or "")
            if be is None:
                continue
            if now_s - self._polled.get(job_id, -math.inf) < self.settings.status_interval_s:
                continue  # asked recently: spare the back-end (one status call per job per interval)
            self._polled[job_id] = now_s
            try:
                st = be.status(str(bid))
            except UnknownJobError:
                with self.sf() as s:
                    row = s.get(JobRow, job_id)
                    if row is not None and row.state == state:
                        self._requeue(s, row, f"lost: {be.name} no longer knows job {bid} / 作业丢失")
                        rep.retried += 1
                continue
            except BackendError as exc:
                rep.errors.append(f"{job_id}: {exc}")
                continue
            if st.state.value == state and not st.terminal:
                continue
            with self.sf() as s:
                row = s.get(JobRow, job_id)
                if row is None or row.state != state or row.backend_job_id != bid:
                    continue
                self._apply_status(s, row, st, rep)

    def _apply_status(self, s: Session, row: JobRow, st: Any, rep: TickReport) -> None:
        now_s = self.clock.now_s()
        if st.started_at is not None and row.started_s is None:
            row.started_s = float(st.started_at)
        if st.state == JobState.RUNNING and row.started_s is None:
            row.started_s = now_s
        retry = st.state == JobState.PREEMPTED or (st.state == JobState.FAILED and st.exit_code is None)
        if retry and not row.cancel_requested:
            row.exit_code = st.exit_code
            self._requeue(
                s, row, f"{st.state.value.lower()} on {row.pool_id}: {st.message or 'no exit code'}"
            )
            rep.retried += 1
            return
        state = JobState.CANCELLED if st.state == JobState.PREEMPTED else st.state
        if row.state == JobState.DISPATCHED.value and st.terminal and st.started_at is not None:
            # it started and ended between two looks: the history still shows that it ran
            record_event(s, row.id, float(st.started_at), "state", JobState.RUNNING, "running / 运行中")
        if st.terminal:
            row.exit_code = st.exit_code
            if st.ended_at is not None:
                row.ended_s = float(st.ended_at)
            if row.started_s is None:
                row.started_s = row.ended_s
        msg = st.message or {
            JobState.RUNNING: "running / 运行中",
            JobState.SUCCEEDED: "succeeded / 成功",
            JobState.CANCELLED: "cancelled / 已取消",
            JobState.FAILED: f"failed, exit code {st.exit_code} / 失败",
            JobState.DISPATCHED: "queued in the back-end / 后端排队中",
        }.get(state, state.value)
        self._set_state(s, row, state, msg, now_s)
        s.commit()
        rep.transitions += 1

    # ---------------------------------------------------------------- recovery
    def recover(self) -> int:
        """Resolve dispatches a crash interrupted (state DISPATCHED without a back-end id). Returns how many."""
        now_s = self.clock.now_s()
        n = 0
        with self.sf() as s:
            self._topology(s, now_s)
            rows = list(
                s.scalars(
                    select(JobRow).where(
                        JobRow.state == JobState.DISPATCHED.value, JobRow.backend_job_id.is_(None)
                    )
                )
            )
            for row in rows:
                n += 1
                be = self.backend_for_pool(row.pool_id or "")
                token = row.dispatch_token or ""
                found, certain = (None, False) if be is None else find_by_token(be, token)
                if found:
                    row.backend_job_id = found
                    record_event(s, row.id, now_s, "recovered", None, f"found {token} on {be.name if be else '?'}",
                                 {"backend_job_id": found})  # fmt: skip
                elif certain:
                    row.attempt -= 1
                    row.dispatch_token = None
                    self._set_state(
                        s, row, JobState.PLACED, "dispatch interrupted before submission; again", now_s
                    )
                else:
                    self._set_state(
                        s, row, JobState.FAILED,
                        "dispatch interrupted by a restart and the back-end cannot tell whether it started; "
                        "not resubmitted (at most once) / 下发中断，未重复提交", now_s,
                    )  # fmt: skip
                s.commit()
        return n


def _finite(x: float) -> float | None:
    return float(x) if x is not None and math.isfinite(x) else None


class SchedulerLoop:
    """Runs :meth:`Scheduler.tick` every ``interval_s`` on a daemon thread while this process leads."""

    def __init__(
        self,
        engine: Engine,
        session_factory: sessionmaker[Session],
        settings: SchedulerSettings | None = None,
        backends: BackendCache | None = None,
    ) -> None:
        self.settings = settings or SchedulerSettings()
        self.scheduler = Scheduler(session_factory, self.settings, backends)
        self.elector = LeaderElector(engine, ttl_s=self.settings.lease_ttl_s)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.ticks = 0
        self.leading = False

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="huanghe-scheduler", daemon=True)
        self._thread.start()

    def stop(self, timeout_s: float = 10.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout_s)
        self.elector.release()
        self.scheduler.close()

    def _run(self) -> None:
        while not self._stop.is_set():
            t0 = time.monotonic()
            try:
                leading = self.elector.try_acquire()
                if leading and not self.leading:
                    log.info("scheduler leader (调度主节点): %s", self.elector.holder)
                    self.scheduler.recover()
                self.leading = leading
                if leading:
                    self.scheduler.tick()
                    self.ticks += 1
            except Exception:  # the loop must survive anything one tick does
                log.exception("scheduler tick failed")
            self._stop.wait(max(0.0, self.settings.interval_s - (time.monotonic() - t0)))


def health_rows(session: Session) -> list[dict[str, Any]]:
    """Stored center health, for the API."""
    return [
        {
            "center": r.center_id,
            "healthy": r.healthy,
            "checked_s": r.checked_s,
            "last_ok_s": r.last_ok_s,
            "failures": r.failures,
            "latency_ms": r.latency_ms,
            "message": r.message,
        }
        for r in session.scalars(select(CenterHealthRow).order_by(CenterHealthRow.center_id))
    ]
