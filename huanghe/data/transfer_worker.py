"""One leased transfer, start to end (:func:`run_transfer`), on a worker thread of the transfer service.

1. **check** (one transaction): still ours; residency of the destination's center for the dataset
   (:func:`huanghe.data.protection.refusal`: refused → ``failed`` with the reason, audited); a destination
   replica already ``available`` → ``done`` with nothing moved; space on the destination; the **source**: an
   available replica on another endpoint, not tried yet when one is left, nearest first (latency + size /
   bandwidth of the link between the two centers), healthy endpoints first; the destination replica row is
   written ``copying`` with the object key ``<endpoint>/<dataset>/<file>``.
2. **copy** (no transaction open): a destination object that already has the file's size and SHA-256 (an
   earlier attempt finished the copy, then its worker died) is re-read and accepted without copying again;
   otherwise :meth:`ObjectStore.copy_from` streams it, hashing on the way (a mismatch deletes it). The link's
   token bucket paces the reads; a heartbeat thread renews the lease every ``lease_s / 3``, and a lost lease
   stops the copy.
3. **end** (one transaction, only while the lease is still ours): ``done`` with bytes, duration, cost,
   energy, carbon; the replica ``available`` (endpoint ``used_bytes`` grows once); the dataset's centers;
   the locks (:func:`~huanghe.data.transfer_hooks.on_transfer_done`). Or, after a failure, back to
   ``queued`` (from another source when one is left, else after ``retry_delay_s``), until ``max_attempts``:
   then ``failed`` with the error (audited, locks ``stuck``). A source whose bytes do not match the checksum
   when re-read is marked ``bad``; a failure is blamed on the source unless the destination does not answer.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, sessionmaker

from huanghe.audit import service as audit
from huanghe.core.clock import Clock
from huanghe.data import transfer_hooks as hooks
from huanghe.data.models import DataFileRow, DatasetRow, FileReplicaRow, StorageEndpointRow, TransferRow
from huanghe.data.objects import ObjectStore, ObjectStoreError
from huanghe.data.protection import refusal
from huanghe.data.transfer_costs import NetworkView
from huanghe.data.transfer_queue import renew
from huanghe.data.transfer_settings import TransferSettings
from huanghe.data.transfer_throttle import LinkThrottle

log = logging.getLogger("huanghe.data.transfers")
ACTOR = "system:data-transfers"
StoreOf = Callable[[Session, str], ObjectStore]


class LeaseLostError(RuntimeError):
    """Our lease on the transfer ended (it expired and another worker took it, or it was cancelled)."""


@dataclass
class WorkerContext:
    """What every copy of one service shares: sessions, settings, clock, who we are, stores, links."""

    sf: sessionmaker[Session]
    settings: TransferSettings
    clock: Clock
    owner: str
    store_of: StoreOf
    network: Callable[[], NetworkView]
    throttle: LinkThrottle
    source_busy: Counter[str] = field(default_factory=Counter)
    lock: threading.Lock = field(default_factory=threading.Lock)


@dataclass(frozen=True)
class Plan:
    """A checked transfer ready to copy."""

    transfer_id: int
    file: DataFileRow
    dataset_id: str
    source_id: str
    source_center: str
    source_key: str
    dest_id: str
    dest_center: str
    dest_key: str
    source: ObjectStore
    dest: ObjectStore


class _EndedError(Exception):
    """The check step ended the transfer (outcome in ``args[0]``)."""


def run_transfer(ctx: WorkerContext, transfer_id: int) -> str:
    """Run one leased transfer; the outcome: ``done``, ``failed``, ``queued`` (to be retried) or ``lost``."""
    try:
        plan = _check(ctx, transfer_id)
    except _EndedError as end:
        return str(end.args[0])
    with ctx.lock:
        ctx.source_busy[plan.source_id] += 1
    try:
        moved, took_s = _copy(ctx, plan)
    except LeaseLostError:
        return "lost"
    except Exception as exc:  # any failure of one copy is that transfer's, never the loop's
        return _failed_attempt(ctx, plan, exc)
    finally:
        with ctx.lock:
            ctx.source_busy[plan.source_id] -= 1
    return _finish(ctx, plan, moved, took_s)


# --- 1. check ----------------------------------------------------------------------------------------------
def _ours(s: Session, ctx: WorkerContext, transfer_id: int) -> TransferRow:
    t = s.get(TransferRow, transfer_id)
    if t is None or t.state != "active" or t.lease_owner != ctx.owner:
        raise _EndedError("lost")
    return t


def _check(ctx: WorkerContext, transfer_id: int) -> Plan:
    now = ctx.clock.now_s()
    with ctx.sf() as s:
        t = _ours(s, ctx, transfer_id)
        f = s.get(DataFileRow, t.file_id)
        dest = s.get(StorageEndpointRow, t.dest_endpoint_id)
        ds = s.get(DatasetRow, f.dataset_id) if f is not None else None
        if f is None or dest is None or ds is None:
            raise _EndedError(_end_failed(s, t, "the file or the endpoint no longer exists", now))
        why = refusal(s, ds, dest.center_id)
        if why is not None:
            audit.record(s, ACTOR, "transfer.refused", f"transfer/{t.id}",
                         {"dataset": ds.id, "file": f.name, "dest": dest.id, "reason": why}, now=now)  # fmt: skip
            raise _EndedError(_end_failed(s, t, f"residency (数据驻留): {why}", now, audited=True))
        rep = s.get(FileReplicaRow, (f.id, dest.id))
        if rep is not None and rep.state == "available":
            _done_already(s, t, now)
            raise _EndedError("done")
        held = int(s.scalar(select(func.coalesce(func.sum(FileReplicaRow.size_bytes), 0)).where(
            FileReplicaRow.endpoint_id == dest.id, FileReplicaRow.file_id != f.id)) or 0)  # fmt: skip
        if held + f.size_bytes > dest.capacity_bytes:
            raise _EndedError(_end_failed(s, t, f"no space on {dest.id} (空间不足): {held} of {dest.capacity_bytes} "
                                           f"bytes used, {f.size_bytes} needed", now))  # fmt: skip
        source = _choose_source(s, ctx, t, f, dest)
        if source is None:
            s.rollback()
            raise _EndedError(_attempt_failed(ctx, transfer_id, None, "no available replica to copy from "
                                                                 "(没有可用的源副本)"))  # fmt: skip
        src_rep, src_center = source
        key = rep.object_key if rep is not None else f"{dest.id}/{ds.id}/{f.name}"
        if rep is None:
            s.add(FileReplicaRow(file_id=f.id, endpoint_id=dest.id, state="copying", object_key=key,
                                 size_bytes=f.size_bytes, lock_count=0, created_s=now, accessed_s=now))  # fmt: skip
        elif rep.state != "copying":
            rep.state, rep.object_key = "copying", key
        t.source_endpoint_id = src_rep.endpoint_id
        plan = Plan(
            transfer_id, f, ds.id, src_rep.endpoint_id, src_center, src_rep.object_key, dest.id, dest.center_id,
            key, ctx.store_of(s, src_rep.endpoint_id), ctx.store_of(s, dest.id),
        )  # fmt: skip
        s.commit()
        s.expunge(f)
        return plan


def _done_already(s: Session, t: TransferRow, now: float) -> None:
    """The destination already holds a verified replica: the transfer is done, nothing moved."""
    t.state, t.finished_s, t.duration_s, t.error = "done", now, 0.0, ""
    t.lease_owner = t.lease_until_s = None
    hooks.on_transfer_done(s, t, now_s=now)
    s.commit()


def _choose_source(
    s: Session, ctx: WorkerContext, t: TransferRow, f: DataFileRow, dest: StorageEndpointRow
) -> tuple[FileReplicaRow, str] | None:
    """The nearest usable source replica (see the module docstring), with its center."""
    rows = s.execute(
        select(FileReplicaRow, StorageEndpointRow.center_id, StorageEndpointRow.available)
        .join(StorageEndpointRow, StorageEndpointRow.id == FileReplicaRow.endpoint_id)
        .where(FileReplicaRow.file_id == f.id, FileReplicaRow.state == "available",
               FileReplicaRow.endpoint_id != dest.id)
    ).all()  # fmt: skip
    if not rows:
        return None
    tried = set(t.tried_sources or [])
    fresh = [r for r in rows if r[0].endpoint_id not in tried] or list(rows)
    net = ctx.network()
    with ctx.lock:
        busy = dict(ctx.source_busy)

    def rank(r: tuple[FileReplicaRow, str, bool]) -> tuple[bool, bool, float, str]:
        rep, center, healthy = r
        full = busy.get(rep.endpoint_id, 0) >= ctx.settings.per_endpoint
        return (not healthy, full, net.path(center, dest.center_id).estimate_s(f.size_bytes), rep.endpoint_id)

    best = min(fresh, key=rank)
    return best[0], best[1]


# --- 2. copy -----------------------------------------------------------------------------------------------
class _Heartbeat:
    """Renews a copy's lease every ``lease_s / 3`` on its own thread, whatever the copy is doing (reading,
    waiting for a part upload, sleeping in the link's bucket); :meth:`check` raises :class:`LeaseLostError`
    in the copy once a renewal found the lease gone."""

    def __init__(self, ctx: WorkerContext, transfer_id: int) -> None:
        self.ctx, self.transfer_id = ctx, transfer_id
        self.lost = False
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"hh-lease-{transfer_id}", daemon=True)

    def __enter__(self) -> _Heartbeat:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(5.0)

    def _run(self) -> None:
        every = self.ctx.settings.lease_s / 3.0
        while not self._stop.wait(every):
            try:
                with self.ctx.sf() as s:
                    until = self.ctx.clock.now_s() + self.ctx.settings.lease_s
                    if not renew(s, self.transfer_id, self.ctx.owner, until):
                        self.lost = True
                        return
            except Exception:  # a database hiccup: try again at the next beat (the lease is 3 beats long)
                log.exception("renewing the lease of transfer %s failed", self.transfer_id)

    def check(self) -> None:
        if self.lost:
            raise LeaseLostError(f"transfer {self.transfer_id}: lease lost")


def _copy(ctx: WorkerContext, plan: Plan) -> tuple[int, float]:
    """Copy (or accept the verified object already there); (bytes of the file, wall seconds)."""
    rate = ctx.network().rate_bytes_s(plan.source_center, plan.dest_center)
    bucket = ctx.throttle.bucket(plan.source_center, plan.dest_center, rate)
    with _Heartbeat(ctx, plan.transfer_id) as beat:

        def progress(n: int) -> None:
            beat.check()
            bucket.take(n, slice_s=0.5, between=beat.check)

        t0 = time.monotonic()
        size, sha = plan.file.size_bytes, plan.file.sha256
        there = plan.dest.head(plan.dest_key)
        if there is not None and there.size_bytes == size and there.sha256 == sha:
            h, n = hashlib.sha256(), 0  # metadata is written first: re-read the bytes
            for chunk in plan.dest.iter_bytes(plan.dest_key):
                h.update(chunk)
                n += len(chunk)
                beat.check()
            if n == size and h.hexdigest() == sha:
                return size, time.monotonic() - t0
        info = plan.dest.copy_from(
            plan.source, plan.source_key, sha256=sha, dest_key=plan.dest_key, progress=progress
        )
        if info.size_bytes != size:
            plan.dest.delete(plan.dest_key)
            raise ObjectStoreError(
                "checksum", f"copy of {plan.source_key}: {info.size_bytes} bytes, expected {size}"
            )
        beat.check()
        return size, time.monotonic() - t0


# --- 3. end ------------------------------------------------------------------------------------------------
def _finish(ctx: WorkerContext, plan: Plan, moved: int, took_s: float) -> str:
    now = ctx.clock.now_s()
    charges = ctx.network().charges(plan.source_center, plan.dest_center, moved)
    with ctx.sf() as s:
        n = s.execute(
            update(TransferRow).where(
                TransferRow.id == plan.transfer_id, TransferRow.state == "active", TransferRow.lease_owner == ctx.owner
            ).values(
                state="done", bytes=moved, duration_s=took_s, finished_s=now, source_endpoint_id=plan.source_id,
                cost_fen=charges.cost_fen, energy_wh=charges.energy_wh, carbon_g=charges.carbon_g, error="",
                lease_owner=None, lease_until_s=None,
            )
        ).rowcount  # type: ignore[attr-defined]  # fmt: skip
        if not n:
            s.rollback()
            return "lost"
        f = s.get(DataFileRow, plan.file.id)
        if f is None:  # deleted meanwhile (the transfer row went with it)
            s.rollback()
            return "lost"
        hooks.replica_available(s, f, plan.dest_id, plan.dest_key, now_s=now)
        hooks.mark_dataset_complete(s, plan.dataset_id, plan.dest_center)
        t = s.get(TransferRow, plan.transfer_id)
        if t is not None:
            hooks.on_transfer_done(s, t, now_s=now)
        s.commit()
    log.info("transfer %s done: %s bytes %s → %s in %.2f s", plan.transfer_id, moved, plan.source_id,
             plan.dest_id, took_s)  # fmt: skip
    return "done"


def _blame_source(ctx: WorkerContext, plan: Plan, exc: Exception) -> bool:
    """Whether the failure is the source's: a bad checksum confirmed by re-reading the source (the replica is
    marked ``bad``), or any other failure while the destination still answers."""
    if isinstance(exc, ObjectStoreError) and exc.reason == "checksum":
        try:
            again = plan.source.checksum(plan.source_key)
        except ObjectStoreError:
            return True
        if again is None or again.sha256 != plan.file.sha256:
            now = ctx.clock.now_s()
            with ctx.sf() as s:
                s.execute(update(FileReplicaRow).where(
                    FileReplicaRow.file_id == plan.file.id, FileReplicaRow.endpoint_id == plan.source_id,
                    FileReplicaRow.state == "available").values(state="bad"))  # fmt: skip
                audit.record(s, ACTOR, "replica.bad", f"replica/{plan.file.id}/{plan.source_id}",
                             {"reason": "checksum mismatch on re-read (校验和不符)", "transfer": plan.transfer_id},
                             now=now)  # fmt: skip
                s.commit()
            return True
        return False  # the source is fine: corrupted on the way
    return plan.dest.ping() is None


def _failed_attempt(ctx: WorkerContext, plan: Plan, exc: Exception) -> str:
    msg = str(exc) or type(exc).__name__
    log.warning("transfer %s from %s failed: %s", plan.transfer_id, plan.source_id, msg)
    blamed = _blame_source(ctx, plan, exc)
    return _attempt_failed(ctx, plan.transfer_id, plan.source_id if blamed else None, msg)


def _attempt_failed(ctx: WorkerContext, transfer_id: int, source: str | None, error: str) -> str:
    """After a failed attempt: queued again (another source first) or, out of attempts, failed."""
    now = ctx.clock.now_s()
    with ctx.sf() as s:
        t = s.get(TransferRow, transfer_id)
        if t is None or t.state != "active" or t.lease_owner != ctx.owner:
            return "lost"
        tried = list(t.tried_sources or [])
        if source is not None and source not in tried:
            tried.append(source)
        t.tried_sources, t.error = tried, error[:2000]
        if t.attempts >= t.max_attempts:
            return _end_failed(s, t, error, now)
        f = s.get(DataFileRow, t.file_id)
        left = f is not None and s.scalar(
            select(FileReplicaRow.endpoint_id).where(
                FileReplicaRow.file_id == t.file_id, FileReplicaRow.state == "available",
                FileReplicaRow.endpoint_id != t.dest_endpoint_id, FileReplicaRow.endpoint_id.not_in(tried),
            ).limit(1)
        ) is not None  # fmt: skip
        t.state, t.lease_owner = "queued", None
        t.lease_until_s = None if left else now + ctx.settings.retry_delay_s
        s.commit()
        return "queued"


def _end_failed(s: Session, t: TransferRow, error: str, now: float, *, audited: bool = False) -> str:
    """The transfer fails for good: error kept, ``copying`` replica row dropped, locks stuck; committed."""
    t.state, t.error, t.finished_s = "failed", error[:2000], now
    t.lease_owner = t.lease_until_s = None
    rep = s.get(FileReplicaRow, (t.file_id, t.dest_endpoint_id))
    if rep is not None and rep.state == "copying":
        s.delete(rep)
    if not audited:
        audit.record(s, ACTOR, "transfer.fail", f"transfer/{t.id}",
                     {"file_id": t.file_id, "dest": t.dest_endpoint_id, "error": t.error}, now=now)  # fmt: skip
    hooks.on_transfer_done(s, t, now_s=now)
    s.commit()
    return "failed"
