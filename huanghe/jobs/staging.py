"""Staging: a job's input datasets are brought to the center it was placed on before it starts, and its declared
outputs are stored back as a dataset after it succeeds (issue #13, deliverable 7).

A PLACED job naming ``datasets`` (or declaring ``outputs``) waits in PLACED until it is ready, with its progress
in its message (``staging inputs 3/10 files``); the dispatcher dispatches only ready jobs
(:meth:`Stager.prepare`). Each tick (:meth:`Stager.step`):

1. **rules**: for every input dataset without a complete copy on the job's center, a replication rule is made
   through the rule service (origin ``staging``, 1 copy, ``center=<center>&tier=<best tier there>``, lifetime =
   the job's time limit + ``margin_s``, created by ``job:<id>``; residency is checked by the rule service, and
   the placement filter already kept the job off centers where its important/core inputs may not go). No
   storage there, or a refusal: the job is re-placed elsewhere (its center excluded).
2. **stage-in**: once every input has a complete copy on the center, the files are copied into the job's
   working directory ``<root>/<job>/a<attempt>/work/inputs/<dataset>/<file>``, checksum-verified
   (:func:`~huanghe.jobs.staging_files.stage_in`), in the background; ``inputs.json`` marks it done (it
   survives a restart; an interrupted copy is simply done again). The job is then dispatched with that
   working directory (the local back-end hands it to the tenant's sandbox account; Slurm ``--chdir``).
3. **stage-out**: a job with ``outputs`` that SUCCEEDED has them uploaded to the hot endpoint of its center as
   files of ``output_dataset`` (created for its tenant), in the background; the ``outputs`` event (dataset,
   center, endpoint, files with SHA-256) and the message say where they went (``outputs_failed`` says why
   not). The staged inputs are deleted when the job ends.

While a rule makes progress the job's ``updated_s`` is refreshed (every ``refresh_s``), so the stuck-job check
(:func:`huanghe.jobs.recovery.reconcile_stuck`) re-places only a job whose staging stopped moving.
Settings: :class:`StagingSettings` (``HUANGHE_STAGING_*``). Times are epoch seconds from the dispatcher's clock.
"""

from __future__ import annotations

import json
import logging
import shutil
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy import distinct, func, select
from sqlalchemy.orm import Session, object_session

from huanghe.core.errors import ServiceError
from huanghe.data import rules
from huanghe.data.models import (
    DataFileRow,
    DatasetRow,
    FileReplicaRow,
    ReplicationRuleRow,
    StorageEndpointRow,
)
from huanghe.data.rule_schemas import RuleCreate, RuleOrigin
from huanghe.domain.enums import JobState
from huanghe.jobs.dispatch_context import DispatchContext, TickReport
from huanghe.jobs.models import JobRow
from huanghe.jobs.staging_files import StagingError, stage_in, stage_out
from huanghe.jobs.transitions import record_event, requeue
from huanghe.network.models import PoolRow
from huanghe.paths import data_dir

log = logging.getLogger("huanghe.jobs.staging")

_TIERS = ("hot", "warm", "cold")


class StagingSettings(BaseSettings):
    """``HUANGHE_STAGING_``: ``root`` (job working directories, default ``<data dir>/job-data``), ``margin_s``
    (added to a job's time limit for its staging rule's lifetime), ``default_limit_s`` (time limit assumed
    for a job and pool naming none), ``refresh_s`` (how often a staging job's ``updated_s`` is refreshed while
    its rule makes progress), ``workers`` (threads copying inputs and outputs)."""

    model_config = SettingsConfigDict(env_prefix="HUANGHE_STAGING_", extra="ignore")

    root: str = ""
    margin_s: float = Field(default=3600.0, ge=0)
    default_limit_s: float = Field(default=86400.0, gt=0)
    refresh_s: float = Field(default=30.0, gt=0)
    workers: int = Field(default=2, ge=1, le=32)

    def root_dir(self) -> Path:
        return Path(self.root) if self.root else data_dir() / "job-data"


def uses_data(spec: dict[str, Any]) -> bool:
    """Whether a job needs staging (it names input datasets or declares outputs)."""
    return bool(spec.get("datasets") or spec.get("outputs"))


class Stager:
    """Staging for one dispatcher (see the module docstring). :meth:`step` and :meth:`prepare` are called by
    the dispatcher's tick (one thread); the copies run on ``settings.workers`` threads."""

    def __init__(self, ctx: DispatchContext, settings: StagingSettings | None = None) -> None:
        self.ctx = ctx
        self.settings = settings or StagingSettings()
        self.root = self.settings.root_dir()
        self._pool = ThreadPoolExecutor(max_workers=self.settings.workers, thread_name_prefix="hh-staging")
        self._busy: dict[str, Future[None]] = {}  # job dir → copy running
        self._lock = threading.RLock()  # _make_dir is called with it held
        self._open: set[Path] | None = None  # job dirs not closed yet (found on disk at the first step)

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)

    def job_dir(self, job_id: str, attempt: int) -> Path:
        """``<root>/<job id>/a<attempt>``: the working directory is its ``work``."""
        return self.root / job_id / f"a{attempt}"

    # ---------------------------------------------------------------- dispatch gate
    def prepare(self, row: JobRow) -> tuple[bool, str]:
        """(ready to dispatch, working directory or "") of a PLACED job, for its coming attempt."""
        if not uses_data(row.spec):
            return True, ""
        stored = _stored(object_session(row), row.spec.get("datasets") or [])
        if not stored and not row.spec.get("outputs"):
            return True, ""  # catalog-only datasets: no bytes to bring
        d = self.job_dir(row.id, row.attempt + 1)
        if stored and not _inputs_ready(d, str(row.center_id)):
            return False, ""
        self._make_dir(d, row)
        return True, str(d / "work")

    def _make_dir(self, d: Path, row: JobRow) -> None:
        (d / "work").mkdir(parents=True, exist_ok=True)
        marker = d / "job.json"
        if not marker.exists():
            info = {"job": row.id, "attempt": row.attempt + 1, "outputs": bool(row.spec.get("outputs"))}
            marker.write_text(json.dumps(info))
        with self._lock:
            if self._open is not None:
                self._open.add(d)

    # ---------------------------------------------------------------- tick
    def step(self, rep: TickReport) -> None:
        """Rules and stage-in for PLACED jobs, stage-out and clean-up for ended ones (module docstring)."""
        now_s = self.ctx.clock.now_s()
        with self.ctx.sf() as s:
            rows = list(s.scalars(
                select(JobRow).where(JobRow.state == JobState.PLACED.value, JobRow.cancel_requested.is_(False))
                .order_by(JobRow.priority.desc(), JobRow.submit_s).limit(self.ctx.settings.max_batch)
            ))  # fmt: skip
            for row in rows:
                if row.spec.get("datasets") and row.center_id:
                    try:
                        self._stage(s, row, now_s)
                    except Exception as exc:  # one job's staging must not stop the others
                        s.rollback()
                        log.exception("staging of %s failed", row.id)
                        rep.errors.append(f"{row.id}: staging: {exc}")
        self._finish_ended(rep)

    def _stage(self, s: Session, row: JobRow, now_s: float) -> None:
        d = self.job_dir(row.id, row.attempt + 1)
        if _inputs_ready(d, str(row.center_id)):
            return
        if not _stored(s, row.spec.get("datasets") or []):
            return  # catalog-only datasets: nothing to stage
        center = str(row.center_id)
        done = total = 0
        states: list[str] = []
        for ds_id in row.spec.get("datasets") or []:
            ds = s.get(DatasetRow, ds_id)
            if ds is None:
                requeue(s, row, f"input dataset {ds_id} no longer exists (数据集不存在)", now_s)
                return
            n_files, here = _progress(s, ds_id, center)
            total += n_files
            done += here
            if n_files == 0 or center in (ds.replicas or []):
                continue
            rule = self._rule(s, row, ds, center, now_s)
            if rule is None:
                return  # the job was re-placed
            states.append(
                f"{ds_id}: rule {rule.id} {rule.state}" + (f" ({rule.reason})" if rule.reason else "")
            )
        if not states:
            self._start_copy(row, d)
            msg = f"staging inputs {done}/{total} files: copying into the job directory / 正在准备输入数据"
        else:
            msg = f"staging inputs {done}/{total} files; " + "; ".join(states) + " / 正在准备输入数据"
        moving = all(" stuck" not in x for x in states)
        if msg != row.message or (moving and now_s - row.updated_s >= self.settings.refresh_s):
            row.message, row.updated_s = msg[:4000], now_s
            s.commit()

    def _rule(
        self, s: Session, row: JobRow, ds: DatasetRow, center: str, now_s: float
    ) -> ReplicationRuleRow | None:
        """The job's staging rule for ``ds`` on ``center`` (made when missing); None when the job had to be
        re-placed (no storage on the center, or the rule service refused)."""
        tiers = set(
            s.scalars(select(StorageEndpointRow.temperature).where(StorageEndpointRow.center_id == center))
        )
        tier = next((t for t in _TIERS if t in tiers), None)
        if tier is None:
            requeue(s, row, f"center {center} has no storage endpoint to stage {ds.id} on (无存储)", now_s)
            return None
        expression = f"center={center}&tier={tier}"
        by = f"job:{row.id}"
        have = s.scalar(
            select(ReplicationRuleRow).where(
                ReplicationRuleRow.dataset_id == ds.id, ReplicationRuleRow.origin == RuleOrigin.STAGING.value,
                ReplicationRuleRow.created_by == by, ReplicationRuleRow.expression == expression,
            )
        )  # fmt: skip
        if have is not None:
            return have
        limit = row.spec.get("time_limit_s") or _pool_limit(s, row.pool_id) or self.settings.default_limit_s
        body = RuleCreate(dataset=ds.id, copies=1, expression=expression,
                          lifetime_s=float(limit) + self.settings.margin_s, priority=4)  # fmt: skip
        try:
            pub = rules.add_rule(s, body, actor=by, origin=RuleOrigin.STAGING, clock=self.ctx.clock)
        except ServiceError as exc:
            s.rollback()
            why = "; ".join(e.message for e in getattr(exc, "errors", [])) or str(exc)
            requeue(s, row, f"inputs cannot be staged on {center}: {why}", now_s)
            return None
        record_event(s, row.id, now_s, "staging", None, f"staging {ds.id} on {center} by rule {pub.id}",
                     {"dataset": ds.id, "rule": pub.id, "expression": expression, "center": center})  # fmt: skip
        s.commit()
        return s.get(ReplicationRuleRow, pub.id)

    def _start_copy(self, row: JobRow, d: Path) -> None:
        key = str(d)
        with self._lock:
            fut = self._busy.get(key)
            if fut is not None and not fut.done():
                return
            self._make_dir(d, row)
            datasets, center, job_id = list(row.spec["datasets"]), str(row.center_id), row.id
            self._busy[key] = self._pool.submit(self._copy_in, job_id, datasets, center, d)

    def _copy_in(self, job_id: str, datasets: list[str], center: str, d: Path) -> None:
        try:
            moved = stage_in(self.ctx.sf, datasets, center, d / "work")
        except (StagingError, ServiceError, OSError) as exc:
            self._event(job_id, "staging_failed", f"stage-in failed, will retry: {exc}", {"center": center})
            return
        except Exception as exc:  # the object store or the database: retried next tick
            log.warning("stage-in of %s failed: %s", job_id, exc)
            self._event(job_id, "staging_failed", f"stage-in failed, will retry: {exc}", {"center": center})
            return
        (d / "inputs.json").write_text(json.dumps({"center": center, "files": moved.files}))
        self._event(
            job_id, "inputs_staged",
            f"{len(moved.files)} input files ({moved.bytes} bytes) copied and checksum-verified in "
            f"{moved.seconds:.1f} s / 输入数据已就绪",
            {"center": center, "bytes": moved.bytes, "seconds": moved.seconds, "files": moved.files[:100],
             "verified": True},
        )  # fmt: skip

    def _event(self, job_id: str, kind: str, message: str, data: dict[str, Any]) -> None:
        with self.ctx.sf() as s:
            record_event(s, job_id, self.ctx.clock.now_s(), kind, None, message[:4000], data)
            s.commit()

    # ---------------------------------------------------------------- after the run
    def _finish_ended(self, rep: TickReport) -> None:
        """Stage-out of succeeded jobs with outputs; the staged inputs of ended jobs deleted."""
        with self._lock:
            if self._open is None:  # once per process: the directories a previous run left open
                found = self.root.glob("*/a*/job.json") if self.root.is_dir() else iter(())
                self._open = {p.parent for p in found if not (p.parent / "done").exists()}
            dirs = sorted(self._open)
        if not dirs:
            return
        with self.ctx.sf() as s:
            ids = {json.loads((d / "job.json").read_text())["job"] for d in dirs}
            jobs = {r.id: r for r in s.scalars(select(JobRow).where(JobRow.id.in_(ids)))}
            for d in dirs:
                info = json.loads((d / "job.json").read_text())
                row = jobs.get(info["job"])
                if row is None:
                    shutil.rmtree(d, ignore_errors=True)
                    with self._lock:
                        self._open.discard(d)
                    continue
                state = JobState(row.state)
                stale = state == JobState.PENDING or (
                    state == JobState.PLACED and row.attempt + 1 != info["attempt"]
                )
                if not state.terminal and not stale:
                    continue
                if state == JobState.SUCCEEDED and info.get("outputs") and row.attempt == info["attempt"]:
                    self._start_out(row, d)
                    continue
                self._close_dir(d)

    def _close_dir(self, d: Path) -> None:
        shutil.rmtree(d / "work" / "inputs", ignore_errors=True)
        (d / "done").write_text("")
        with self._lock:
            if self._open is not None:
                self._open.discard(d)

    def _start_out(self, row: JobRow, d: Path) -> None:
        key = str(d) + ":out"
        with self._lock:
            fut = self._busy.get(key)
            if fut is not None and not fut.done():
                return
            spec = row.spec
            args = (row.id, d, list(spec.get("outputs") or []), str(spec.get("output_dataset")),
                    str(row.tenant_id or ""), str(row.center_id))  # fmt: skip
            self._busy[key] = self._pool.submit(self._copy_out, *args)

    def _copy_out(
        self, job_id: str, d: Path, outputs: list[str], dataset: str, tenant: str, center: str
    ) -> None:
        try:
            if not tenant:
                raise StagingError("outputs are stored for the job's tenant; this job has none (作业无租户)")
            moved = stage_out(self.ctx.sf, d / "work", outputs, dataset, tenant=tenant, center=center,
                              actor=f"job:{job_id}")  # fmt: skip
        except (StagingError, ServiceError, OSError) as exc:
            why = "; ".join(e.message for e in getattr(exc, "errors", [])) or str(exc)
            self._end_out(job_id, d, "outputs_failed", f"succeeded; outputs NOT stored: {why} / 输出未存储",
                          {"dataset": dataset, "center": center, "reason": why})  # fmt: skip
            return
        except Exception as exc:  # the object store or the database: retried next tick
            log.warning("stage-out of %s failed, will retry: %s", job_id, exc)
            return
        endpoints = sorted({str(f["endpoint"]) for f in moved.files if f.get("endpoint")})
        msg = (f"succeeded; outputs stored as dataset {dataset} on {', '.join(endpoints)} ({center}) / "
               f"输出已存储")  # fmt: skip
        data = {"dataset": dataset, "center": center, "endpoints": endpoints, "bytes": moved.bytes,
                "seconds": moved.seconds, "files": moved.files}  # fmt: skip
        self._end_out(job_id, d, "outputs", msg, data)

    def _end_out(self, job_id: str, d: Path, kind: str, msg: str, data: dict[str, Any]) -> None:
        shutil.rmtree(d / "work" / "inputs", ignore_errors=True)  # before the job says it is over
        with self.ctx.sf() as s:
            row = s.get(JobRow, job_id)
            now_s = self.ctx.clock.now_s()
            record_event(s, job_id, now_s, kind, None, msg, data)
            if row is not None:
                row.message = msg[:4000]
            s.commit()
        self._close_dir(d)


def _inputs_ready(d: Path, center: str) -> bool:
    """Whether the inputs in ``d`` were staged (verified) from ``center`` (a job re-placed elsewhere with the
    same attempt number stages again from its new center)."""
    try:
        return bool(json.loads((d / "inputs.json").read_text()).get("center") == center)
    except (OSError, ValueError):
        return False


def _stored(s: Session | None, datasets: list[str]) -> bool:
    """Whether any of ``datasets`` has files on the storage endpoints (a catalog-only dataset has none)."""
    if s is None or not datasets:
        return False
    return s.scalar(select(DataFileRow.id).where(DataFileRow.dataset_id.in_(datasets)).limit(1)) is not None


def _progress(s: Session, dataset_id: str, center: str) -> tuple[int, int]:
    """(available files of the dataset, those with an available replica on ``center``)."""
    total = int(s.scalar(
        select(func.count()).select_from(DataFileRow)
        .where(DataFileRow.dataset_id == dataset_id, DataFileRow.state == "available")
    ) or 0)  # fmt: skip
    here = int(s.scalar(
        select(func.count(distinct(FileReplicaRow.file_id)))
        .join(DataFileRow, DataFileRow.id == FileReplicaRow.file_id)
        .join(StorageEndpointRow, StorageEndpointRow.id == FileReplicaRow.endpoint_id)
        .where(DataFileRow.dataset_id == dataset_id, DataFileRow.state == "available",
               FileReplicaRow.state == "available", StorageEndpointRow.center_id == center)
    ) or 0)  # fmt: skip
    return total, here


def _pool_limit(s: Session, pool_id: str | None) -> float | None:
    pool = s.get(PoolRow, pool_id) if pool_id else None
    return float(pool.default_time_limit_s) if pool is not None else None
