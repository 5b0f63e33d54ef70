"""Placing: PENDING jobs (priority, then age) go through the placement engine on a live snapshot.

The live snapshot is the stored topology minus the resources held by active jobs, with unhealthy centers
masked and each pool's backlog from its running jobs' estimated remaining work. The engine is called exactly
as the simulator calls it: ``engine.place(snapshot, batch, now_s, ctx)`` with the cycle context built by the
one builder both use (:func:`huanghe.broker.cycle_inputs.cycle_context`): priorities and tenants of the queued
jobs, tenants' dominant shares of what active jobs hold, the pools' release profiles (estimated ends). Each decision is stored (``placements`` row with its explanation) and, in the SAME transaction,
appended to the audit chain (actor ``scheduler``, action ``placement``, the job id as subject; the payload
holds the estimates and the SHA-256 of the explanation). A job no pool can ever run is FAILED with the
filter counts; one that only waits (unhealthy or excluded centers, a policy that holds it) stays PENDING with
the reason in its message.
"""

from __future__ import annotations

import dataclasses
import hashlib
import math
from collections.abc import Collection, Sequence
from typing import Any

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from huanghe.audit import service as audit
from huanghe.broker.batch import JobBatch, JobInputError
from huanghe.broker.cycle_context import CycleContext
from huanghe.broker.cycle_inputs import RunningJobs, cycle_context, node_units, running_backlog_s
from huanghe.broker.engine import Decision, PlacementEngine
from huanghe.broker.snapshot import NetworkSnapshot
from huanghe.data import protection
from huanghe.data.models import DataFileRow, DatasetRow
from huanghe.domain.enums import DataClass, JobState
from huanghe.jobs.dispatch_context import DispatchContext, TickReport
from huanghe.jobs.models import CenterHealthRow, JobRow, PlacementRow
from huanghe.jobs.transitions import ACTIVE_STATES, record_event, set_state
from huanghe.network import drains, offerings

#: Who the audit chain says placed a job.
AUDIT_ACTOR = "scheduler"


def store_placements(s: Session, rows: Sequence[PlacementRow], at_s: float) -> None:
    """Add placement decisions and write their audit records (in order; :func:`~huanghe.audit.service.record_many`) in the caller's
    transaction; the caller commits. ``at_s`` is the records' time (epoch seconds)."""
    s.add_all(rows)
    audit.record_many(s, [placement_audit_entry(p, at_s) for p in rows])


def placement_audit_entry(p: PlacementRow, at_s: float) -> audit.Entry:
    """The audit record of one placement decision."""
    explanation = audit.canonical(p.explanation)
    payload = {
        "job": p.job_id, "attempt": p.attempt, "policy": p.policy, "pool": p.pool_id, "center": p.center_id,
        "t_s": p.t_s, "est_start_s": p.est_start_s, "est_run_s": p.est_run_s, "est_cost_cny": p.est_cost_cny,
        "est_carbon_kg": p.est_carbon_kg,
        "explanation_sha256": hashlib.sha256(explanation.encode("utf-8")).hexdigest(),
    }  # fmt: skip
    return audit.Entry(AUDIT_ACTOR, "placement", str(p.job_id), payload, at_s)


class Placer:
    """Places up to ``max_batch`` PENDING jobs per call with the policy ``settings.policy``."""

    def __init__(self, ctx: DispatchContext) -> None:
        self.ctx = ctx
        self.engine = PlacementEngine(ctx.settings.policy)
        self._tenants: dict[str, int] = {}  # tenant id → index in this tick's cycle context

    def place(self, rep: TickReport) -> None:
        """One placement round, in one transaction (decisions, events and their audit records)."""
        ctx = self.ctx
        now_s = ctx.clock.now_s()
        with ctx.sf() as s:
            rows = list(
                s.scalars(
                    select(JobRow)
                    .where(JobRow.state == JobState.PENDING.value, JobRow.cancel_requested.is_(False))
                    .order_by(JobRow.priority.desc(), JobRow.submit_s, JobRow.id)
                    .limit(ctx.settings.max_batch)
                    # locked until the decisions commit: a cancel between this read and the write of PLACED
                    # waits, then cancels the PLACED job (unlocked, PLACED overwrote its CANCELLED)
                    .with_for_update()
                )
            )
            if not rows:
                return
            snap = self._live_snapshot(s, now_s)
            good: list[JobRow] = []
            records: list[dict[str, Any]] = []
            for r, rec in zip(rows, self._records(s, rows, snap.center_ids), strict=True):
                try:
                    if rec.get(RESIDENCY_ERROR):
                        raise JobInputError(str(rec[RESIDENCY_ERROR]))
                    JobBatch.from_records(snap, [rec])
                except (JobInputError, ValueError) as exc:
                    set_state(s, r, JobState.FAILED, f"invalid job: {exc}", now_s)
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
            self._tenants = {}
            running = self._running(s, snap, now_s)
            snap = snap.with_queue(np.zeros(snap.n_pools, np.int64), running_backlog_s(snap, running, now_s))
            cycle_ctx = self._context(snap, running, good)
            decisions = self.engine.place(snap, batch, now_s, cycle_ctx)  # as the simulator calls it
            placed = [self._apply_decision(s, r, d, now_s, rep) for r, d in zip(good, decisions, strict=True)]
            store_placements(s, [p for p in placed if p is not None], now_s)
            s.commit()

    def _running(self, s: Session, snap: NetworkSnapshot, now_s: float) -> RunningJobs:
        """The jobs holding capacity (PLACED, DISPATCHED, RUNNING): their pool, tenant, estimated end (start, or
        now when not started, + the run-time estimate in the pool), node units, cores and GPUs held."""
        index = {p: i for i, p in enumerate(snap.pool_ids)}
        rows = s.execute(
            select(
                JobRow.pool_id, JobRow.tenant_id, JobRow.nodes, JobRow.cpus, JobRow.gpus, JobRow.mem_gb,
                JobRow.started_s, JobRow.spec,
            ).where(JobRow.state.in_([st.value for st in ACTIVE_STATES]), JobRow.pool_id.is_not(None))
        ).all()  # fmt: skip
        cols: dict[str, list[Any]] = {k: [] for k in ("pool", "tenant", "end", "units", "cpus", "gpus")}
        for pool_id, tenant_id, nodes, cpus, gpus, mem_gb, started_s, spec in rows:
            p = index.get(str(pool_id))
            if p is None:
                continue
            run_s = self.ctx.run_estimate_s(str(pool_id), spec or {}) or 0.0
            cols["pool"].append(p)
            cols["tenant"].append(self._tenant_index(tenant_id))
            cols["end"].append((started_s if started_s is not None else now_s) + run_s)
            cols["units"].append(node_units(snap, p, nodes, cpus, gpus, mem_gb))
            cols["cpus"].append(nodes * cpus)
            cols["gpus"].append(nodes * gpus)
        return RunningJobs.of(
            cols["pool"], cols["tenant"], cols["end"], cols["units"], cols["cpus"], cols["gpus"]
        )

    def _tenant_index(self, tenant_id: str | None) -> int:
        if not tenant_id:
            return -1
        return self._tenants.setdefault(tenant_id, len(self._tenants))

    def _context(self, snap: NetworkSnapshot, running: RunningJobs, rows: Sequence[JobRow]) -> CycleContext:
        """The cycle context, built by :func:`~huanghe.broker.cycle_inputs.cycle_context` as the simulator
        builds it: priorities and tenants of the queued jobs, tenants' dominant shares of what the store says is
        held now, release profiles of the pools; ``cycle_s`` the loop's interval."""
        tenant = [self._tenant_index(r.tenant_id) for r in rows]
        return cycle_context(
            snap,
            running,
            [r.priority for r in rows],
            tenant,
            len(self._tenants),
            cycle_s=self.ctx.settings.interval_s,
        )

    def _live_snapshot(self, s: Session, now_s: float) -> NetworkSnapshot:
        base = self.ctx.base
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
        drained = drains.drained_pool_ids(s)  # operators' drains: no new jobs there
        pool_open = np.array([p not in drained for p in base.pool_ids], dtype=np.bool_)
        return snap.with_health(healthy).with_pool_open(pool_open)

    def _records(self, s: Session, rows: list[JobRow], centers: Sequence[str] = ()) -> list[dict[str, Any]]:
        """The jobs as broker records; a job naming datasets reads their total size from the centers holding a
        complete copy of all of them (:func:`data_sources`)."""
        ds_ids = {d for r in rows for d in (r.spec.get("datasets") or [])}
        datasets = {}
        stored: set[str] = set()
        if ds_ids:
            datasets = {d.id: d for d in s.scalars(select(DatasetRow).where(DatasetRow.id.in_(ds_ids)))}
            stored = set(
                s.scalars(select(DataFileRow.dataset_id).where(DataFileRow.dataset_id.in_(ds_ids)).distinct())
            )
        records = []
        order = list(DataClass)
        pool_of = offerings.pools_of_offerings(s, {o for r in rows if (o := r.spec.get("offering"))})
        for r in rows:
            rec = dict(r.spec)
            if rec.get("offering"):  # confined to the offering's pool (a removed offering fails the job)
                rec["target_pool"] = pool_of.get(
                    rec["offering"], f"pool of removed offering {rec['offering']!r}"
                )
            rec["job_id"] = r.id
            rec["submit_s"] = r.submit_s
            if rec.get("duration_s") is None:
                rec["duration_s"] = self.ctx.settings.default_duration_s
            used = [datasets[d] for d in rec.pop("datasets", []) or [] if d in datasets]
            if used:
                biggest = max(used, key=lambda d: d.size_gb)
                rec["data_gb"] = float(rec.get("data_gb") or 0.0) + sum(d.size_gb for d in used)
                rec.setdefault("data_center", biggest.center_id)
                if "data_sources" not in rec:
                    rec["data_sources"] = data_sources(used, stored, biggest, set(centers))
                strictest = max((DataClass(d.data_class) for d in used), key=order.index)
                if order.index(strictest) > order.index(DataClass(rec.get("data_class", "general"))):
                    rec["data_class"] = strictest.value
                rec.update(residency(s, used, set(centers)))
            records.append(rec)
        return records

    def _apply_decision(
        self, s: Session, r: JobRow, d: Decision, now_s: float, rep: TickReport
    ) -> PlacementRow | None:
        """Apply one decision to its job; the placement row to store, or None when the job was not placed."""
        why = d.explanation.to_dict()
        if not d.placed:
            reasons = {x["reason"] for x in why.get("removed", [])}
            transient = "unhealthy" in reasons or bool(r.excluded_centers) or d.waits
            summary = ", ".join(
                f"{x['reason']}: {x['count']}" + (f" ({x['detail']})" if x.get("detail") else "")
                for x in why.get("removed", [])
            )
            if transient:
                msg = f"waiting: no feasible pool now ({summary}) / 暂无可用资源池"
                if r.message != msg:
                    r.message = msg
                    r.updated_s = now_s
                    record_event(s, r.id, now_s, "unplaced", None, msg, why)
            else:
                set_state(
                    s, r, JobState.FAILED, f"no pool can run this job ({summary}) / 无可用资源池", now_s
                )
                record_event(s, r.id, now_s, "unplaced", None, "explanation", why)
            rep.unplaceable += 1
            return None
        p = PlacementRow(
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
        r.pool_id = d.pool_id
        r.center_id = d.center_id
        r.price_cny_per_hour = _finite(d.price_cny_per_hour)
        r.est_cost_cny = _finite(d.est_cost_cny)
        r.est_carbon_kg = _finite(d.est_carbon_kg)
        info = self.ctx.pools.get(d.pool_id or "")
        r.backend = info.backend if info else None
        set_state(s, r, JobState.PLACED, f"placed on {d.pool_id} ({d.center_id}) / 已分配", now_s)
        rep.placed += 1
        return p


#: Record key of a job whose important/core inputs have no center where all of them may be used.
RESIDENCY_ERROR = "residency_error"


def residency(s: Session, used: Sequence[DatasetRow], known: Collection[str] = ()) -> dict[str, Any]:
    """The residency of a job's inputs as record fields: ``allowed_centers`` = the centers where every
    important/core dataset of ``used`` may be (:func:`huanghe.data.protection.allowed_targets`: the catalog
    entry's list, else the dataset's own, plus its home); the placement filter then keeps only their pools, so
    inputs are never staged where they may not be. {} when all are general; :data:`RESIDENCY_ERROR` when
    no center of the network (``known``; all when empty) allows them all."""
    sets = [t for t in (protection.allowed_targets(s, d) for d in used) if t is not None]
    if not sets:
        return {}
    common = {c for c in set.intersection(*sets) if not known or c in known}
    if not common:
        names = ", ".join(d.id for d in used)
        return {
            RESIDENCY_ERROR: f"datasets {names} have no center where all of them may be used (数据驻留冲突)"
        }
    return {"allowed_centers": sorted(common)}


def copies_of(ds: DatasetRow, stored: Collection[str]) -> list[str]:
    """Centers holding a complete copy of ``ds``: its ``replicas`` as the data services keep them when it has
    files (``stored`` holds the ids of datasets with files); for a catalog-only dataset, its home center and
    the replicas typed in."""
    if ds.id in stored:
        return sorted(ds.replicas or [])
    return sorted({ds.center_id, *(ds.replicas or [])})


def data_sources(
    used: Sequence[DatasetRow], stored: Collection[str], biggest: DatasetRow, known: Collection[str]
) -> list[str]:
    """Transfer sources of a job reading ``used``: the centers holding a complete copy of every one; when no
    center holds them all, those of the biggest (the estimate then moves everything from there). Only centers
    of the network (``known``; all when empty)."""
    sets = [set(copies_of(d, stored)) for d in used]
    common = set.intersection(*sets) if sets else set()
    out = common or set(copies_of(biggest, stored))
    return sorted(c for c in out if not known or c in known)


def _finite(x: float) -> float | None:
    return float(x) if x is not None and math.isfinite(x) else None
