"""The transfer service (Rucio's conveyor): copies of files between storage endpoints, queued by replication
rules, staging and repair, done by workers that lease them.

* queue: :func:`queue_transfer` / :func:`queue_many` (one live transfer per (file, destination)),
  :func:`retry_transfer`; reads :func:`list_transfers`, :func:`get_transfer` (:mod:`.transfer_queue`);
* one transfer: :func:`~huanghe.data.transfer_worker.run_transfer` (source choice, residency, copy verified
  by checksum, retries from other sources, cost / energy / carbon: :mod:`.transfer_worker`);
* rules: :func:`on_transfer_done` moves the replica locks waiting on (file, destination) (:mod:`.transfer_hooks`);
* :class:`TransferService`: :meth:`~TransferService.step` (callable from tests with a FakeClock) leases
  transfers up to the free worker threads and runs them; :meth:`~TransferService.recover` re-queues what a
  crashed worker left active; :class:`TransferLoop` runs steps on a thread of the server (``huanghe up``).

Several services (threads, processes, replicas of the server) may run at once on one database: leases are
conditional updates (:func:`~huanghe.data.transfer_queue.lease`), renewed while a copy runs, and a transfer
ends only while its lease is still held, so none is lost or done twice; the copy itself is idempotent (same
object key, a verified object already there is accepted). Settings: :class:`TransferSettings`
(``HUANGHE_TRANSFERS_*``). Domain time comes from the injected :class:`~huanghe.core.clock.Clock`; the copy's
``duration_s`` and the link pacing are real seconds.
"""

from __future__ import annotations

import logging
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field

from sqlalchemy.orm import Session, sessionmaker

from huanghe.core.clock import Clock, WallClock
from huanghe.data import transfer_queue as queue
from huanghe.data.transfer_costs import NetworkView
from huanghe.data.transfer_hooks import on_transfer_done
from huanghe.data.transfer_queue import (
    get_transfer,
    list_transfers,
    queue_many,
    queue_transfer,
    retry_transfer,
    tenant_of_transfer,
)
from huanghe.data.transfer_settings import TransferSettings
from huanghe.data.transfer_throttle import LinkThrottle
from huanghe.data.transfer_worker import StoreOf, WorkerContext, run_transfer

__all__ = [
    "StepReport",
    "TransferLoop",
    "TransferService",
    "TransferSettings",
    "get_transfer",
    "list_transfers",
    "on_transfer_done",
    "queue_many",
    "queue_transfer",
    "retry_transfer",
    "tenant_of_transfer",
]

log = logging.getLogger("huanghe.data.transfers")


def _default_store_of() -> StoreOf:
    from huanghe.data.endpoints import store_of

    return store_of


def worker_id() -> str:
    """Who leases: host, process id and a random suffix (never shown to tenants)."""
    import os
    import socket
    import uuid

    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


@dataclass
class StepReport:
    """What one step did: transfers re-queued from expired leases, leased, and ended (by outcome)."""

    requeued: int = 0
    leased: list[int] = field(default_factory=list)
    outcomes: dict[int, str] = field(default_factory=dict)


class TransferService:
    """Leases transfers and runs them on ``settings.workers`` threads. :meth:`step` is not re-entrant (one
    caller, the loop or a test); the copies it starts run concurrently."""

    def __init__(
        self, session_factory: sessionmaker[Session], settings: TransferSettings | None = None,
        clock: Clock | None = None, store_of: StoreOf | None = None, owner: str | None = None,
    ) -> None:  # fmt: skip
        self.settings = settings or TransferSettings()
        self.sf = session_factory
        self.clock = clock or WallClock()
        self._net: tuple[float, NetworkView] | None = None
        self._net_lock = threading.Lock()
        self.ctx = WorkerContext(
            sf=session_factory, settings=self.settings, clock=self.clock, owner=owner or worker_id(),
            store_of=store_of or _default_store_of(), network=self.network,
            throttle=LinkThrottle(self.settings.burst_s),
        )  # fmt: skip
        self._pool = ThreadPoolExecutor(max_workers=self.settings.workers, thread_name_prefix="hh-transfer")
        self._running: dict[int, Future[str]] = {}
        #: set whenever a copy ends (the loop then leases again at once)
        self.wake = threading.Event()

    @property
    def owner(self) -> str:
        return self.ctx.owner

    def network(self) -> NetworkView:
        """The stored links, re-read every ``network_refresh_s`` (real seconds)."""
        with self._net_lock:
            now = time.monotonic()
            if self._net is None or now - self._net[0] >= self.settings.network_refresh_s:
                with self.sf() as s:
                    self._net = (now, NetworkView.load(s, self.settings))
            return self._net[1]

    def recover(self) -> int:
        """Re-queue the active transfers whose lease expired (their worker died). How many."""
        with self.sf() as s:
            n = queue.requeue_expired(s, self.clock.now_s())
        if n:
            log.info("re-queued %d transfers left by a stopped worker (恢复传输)", n)
        return n

    def _reap(self, rep: StepReport) -> None:
        for tid, fut in list(self._running.items()):
            if fut.done():
                del self._running[tid]
                try:
                    rep.outcomes[tid] = fut.result()
                except Exception:  # run_transfer catches per-copy failures; this is a bug or the database
                    log.exception("transfer %s crashed", tid)
                    rep.outcomes[tid] = "error"

    def step(self, *, wait_all: bool = False) -> StepReport:
        """Collect ended copies, re-queue expired leases, lease up to the free threads, start the copies.
        ``wait_all``: wait for every copy started so far before returning (tests)."""
        rep = StepReport()
        self._reap(rep)
        now = self.clock.now_s()
        with self.sf() as s:
            rep.requeued = queue.requeue_expired(s, now)
            rep.leased = queue.lease(
                s, self.owner, now_s=now, lease_s=self.settings.lease_s,
                limit=self.settings.workers - len(self._running), per_endpoint=self.settings.per_endpoint,
                skip=list(self._running),
            )  # fmt: skip
        for tid in rep.leased:
            fut = self._running[tid] = self._pool.submit(run_transfer, self.ctx, tid)
            fut.add_done_callback(lambda _f: self.wake.set())
        if wait_all and self._running:
            wait(list(self._running.values()))
            self._reap(rep)
        return rep

    def run_until_idle(self, *, max_steps: int = 1000) -> dict[int, str]:
        """Steps (each waiting for its copies) until nothing is leased any more; the last outcome per transfer.
        Transfers waiting for a retry delay are not waited for."""
        outcomes: dict[int, str] = {}
        for _ in range(max_steps):
            rep = self.step(wait_all=True)
            outcomes.update(rep.outcomes)
            if not rep.leased and not self._running:
                break
        return outcomes

    @property
    def busy(self) -> int:
        """Copies running now."""
        return sum(1 for f in self._running.values() if not f.done())

    def close(self, *, wait_s: float = 0.0) -> None:
        """Stop taking work; with ``wait_s`` > 0 wait that long for running copies (their leases expire
        otherwise and another worker takes them over)."""
        if wait_s > 0 and self._running:
            wait(list(self._running.values()), timeout=wait_s)
        self._pool.shutdown(wait=False, cancel_futures=True)


class TransferLoop:
    """Runs :meth:`TransferService.step` on a daemon thread: again as soon as a copy ends, else every
    ``interval_s``. Every process may run one (leases keep them apart); :meth:`TransferService.recover`
    runs first."""

    def __init__(self, session_factory: sessionmaker[Session], settings: TransferSettings | None = None,
                 store_of: StoreOf | None = None) -> None:  # fmt: skip
        self.settings = settings or TransferSettings()
        self.service = TransferService(session_factory, self.settings, store_of=store_of)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.steps = 0

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="huanghe-transfers", daemon=True)
        self._thread.start()

    def stop(self, timeout_s: float = 10.0) -> None:
        self._stop.set()
        self.service.wake.set()
        if self._thread is not None:
            self._thread.join(timeout_s)
        self.service.close(wait_s=timeout_s)

    def _run(self) -> None:
        try:
            self.service.recover()
        except Exception:  # the database may not be ready yet; steps re-queue expired leases too
            log.exception("transfer recovery failed")
        while not self._stop.is_set():
            self.service.wake.clear()
            try:
                self.service.step()
                self.steps += 1
            except Exception:  # the loop must survive anything one step does
                log.exception("transfer step failed")
            self.service.wake.wait(self.settings.interval_s)
