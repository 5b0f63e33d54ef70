"""The telemetry side's recurring work, and the background loop that runs it inside the app.

* :meth:`TelemetryRuntime.generate` — one simulated tick for the stored network (pool load from the
  platform's running jobs when the ``jobs`` table exists), :meth:`backfill` — simulated history;
* :meth:`scrape` — every exporter once;
* :meth:`maintain` — rollups of the last two hours, retention, alert evaluation.

:meth:`run` repeats them at the intervals of :class:`TelemetrySettings` until cancelled; each step runs in a
worker thread and its failure is logged, never fatal. Time comes from the injected ``clock`` (seconds).
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from huanghe.core.errors import NotFoundError
from huanghe.network.topology_store import export_topology
from huanghe.observatory.generator import TelemetryGenerator
from huanghe.store.leader import LeaderElector
from huanghe.telemetry import alerts, scrape
from huanghe.telemetry import rollup as telemetry_rollup
from huanghe.telemetry import service as telemetry
from huanghe.telemetry.models import TelemetrySampleRow
from huanghe.telemetry.settings import TelemetrySettings

log = logging.getLogger("huanghe.telemetry")
#: Called with (source, number of samples stored) after every store, e.g. to count them for /metrics.
IngestHook = Callable[[str, int], None]
BACKFILL_STEP_S = 300.0
#: How often the telemetry loops take or renew their lead (the lease lasts :data:`ELECTION_TTL_S`), seconds.
ELECTION_INTERVAL_S = 1.0
ELECTION_TTL_S = 4.0
ROLLUP_LOOKBACK_MS = telemetry.LATE_AFTER_MS
T = TypeVar("T")


class TelemetryRuntime:
    def __init__(
        self,
        session_factory: sessionmaker[Session],
        settings: TelemetrySettings | None = None,
        clock: Callable[[], float] = time.time,
        on_ingested: IngestHook | None = None,
        elector: LeaderElector | None = None,
    ) -> None:
        # with an elector, the background steps run only while this replica leads "telemetry", and their
        # commits are fenced (a deposed leader's late write is refused)
        self.elector = elector
        self.session_factory = session_factory if elector is None else elector.fenced(session_factory)
        self.settings = settings or TelemetrySettings()
        self.clock = clock
        self.on_ingested = on_ingested or (lambda _source, _n: None)
        self._last_generated_ms: int | None = None
        self._stop = threading.Event()
        self._inflight: set[asyncio.Future[Any]] = set()

    def now_ms(self) -> int:
        return int(self.clock() * 1000)

    def _generator(self, session: Session) -> TelemetryGenerator | None:
        """A generator for the stored network (None while no network is stored)."""
        try:
            topology = export_topology(session)
        except NotFoundError:
            return None
        return TelemetryGenerator(topology, self.settings.seed) if topology.centers else None

    def generate(self, now_ms: int | None = None) -> int:
        """Store one simulated tick at ``now_ms``; returns the number of samples (0 without centers)."""
        t = self.now_ms() if now_ms is None else now_ms
        step_s = (
            (t - self._last_generated_ms) / 1000
            if self._last_generated_ms
            else self.settings.generator_interval_s
        )
        with self.session_factory() as session:
            gen = self._generator(session)
            if gen is None:
                return 0
            samples = gen.tick(t, max(step_s, 1.0), telemetry.busy_share(session))
            n = telemetry.insert_rows(session, telemetry.sample_rows(samples))
            session.commit()
        self._last_generated_ms = t
        self.on_ingested("simulated", n)
        return n

    def backfill(self, hours: float, end_ms: int | None = None, step_s: float = BACKFILL_STEP_S) -> int:
        """Store simulated history over ``hours`` before ``end_ms`` at ``step_s``, then roll it up."""
        end = self.now_ms() if end_ms is None else end_ms
        start = end - int(hours * 3_600_000)
        total = 0
        with self.session_factory() as session:
            gen = self._generator(session)
            if gen is None:
                return 0
            for samples in gen.history(start, end, step_s):
                if self._stop.is_set():
                    break
                total += telemetry.insert_rows(session, telemetry.sample_rows(samples))
                session.commit()  # one short transaction per tick: other writers are not kept waiting
            telemetry_rollup.rollup(session, start, end)
            session.commit()
        self.on_ingested("simulated", total)
        return total

    def has_simulated(self) -> bool:
        with self.session_factory() as session:
            found = session.scalar(
                select(TelemetrySampleRow.id).where(TelemetrySampleRow.source == "simulated").limit(1)
            )
            return found is not None

    def scrape(self, now_ms: int | None = None) -> list[scrape.ScrapeResult]:
        t = self.now_ms() if now_ms is None else now_ms
        with self.session_factory() as session:
            results = scrape.scrape_all(
                session, t, self.settings.scrape_timeout_s, interval_s=round(self.settings.scrape_interval_s)
            )
        stored = sum(r.stored for r in results)
        if stored:
            self.on_ingested("scrape", stored)
        return results

    def maintain(self, now_ms: int | None = None) -> dict[str, Any]:
        """Roll up the last two hours, apply retention, evaluate the alert rules."""
        t = self.now_ms() if now_ms is None else now_ms
        s = self.settings
        with self.session_factory() as session:
            written = telemetry_rollup.rollup(session, t - ROLLUP_LOOKBACK_MS, t)
            deleted = telemetry_rollup.apply_retention(
                session, t, s.raw_retention_days, s.rollup_5m_retention_days, s.rollup_1h_retention_days
            )
            session.commit()
            summary = alerts.evaluate(session, t, s.thresholds())
        return {"rollups": written, "deleted": deleted, "alerts": summary.model_dump()}

    def stop(self) -> None:
        """Ask running steps to stop early (the backfill stops between ticks)."""
        self._stop.set()

    async def _in_thread(self, step: Callable[[], T]) -> T:
        """Run ``step`` in a worker thread; cancelling the caller does not abandon it (see :meth:`drain`)."""
        fut = asyncio.ensure_future(asyncio.to_thread(step))
        self._inflight.add(fut)
        fut.add_done_callback(self._inflight.discard)
        return await asyncio.shield(fut)

    async def drain(self, timeout_s: float = 10.0) -> None:
        """Wait for the steps still running in worker threads (after the loops were cancelled)."""
        if self._inflight:
            await asyncio.wait(set(self._inflight), timeout=timeout_s)

    def _if_leading(self, step: Callable[[], object]) -> Callable[[], object]:
        """``step`` run only while this replica leads the telemetry loops (always without an elector)."""
        if self.elector is None:
            return step
        elector = self.elector

        def led() -> object:
            return step() if elector.is_leader else None

        return led

    async def _every(
        self, interval_s: float, step: Callable[[], object], name: str, *, led: bool = True
    ) -> None:
        step = self._if_leading(step) if led else step
        while True:
            try:
                await self._in_thread(step)
            except Exception:  # a background step must never kill the loop; it is logged with its traceback
                log.exception("telemetry %s failed", name)
            await asyncio.sleep(interval_s)

    async def _backfill_once(self, hours: float) -> None:
        try:
            if self.elector is not None and not self.elector.is_leader:
                return  # the leader backfills
            if not await self._in_thread(self.has_simulated):
                n = await self._in_thread(lambda: self.backfill(hours))
                log.info("telemetry: simulated %d samples of history (%g h)", n, hours)
        except Exception:  # e.g. database down at start-up: the loops still start (and retry their steps)
            log.exception("telemetry backfill failed")

    async def run(self) -> None:
        """Run the enabled loops until cancelled (backfill first when there is no simulated history)."""
        s = self.settings
        # (interval, step, name, only while leading); the coroutines are made only when they are awaited
        loops: list[tuple[float, Callable[[], object], str, bool]] = []
        if (
            self.elector is not None
        ):  # take or renew the lead every ELECTION_INTERVAL_S, whatever the steps do
            await self._in_thread(self.elector.try_acquire)
            loops.append((ELECTION_INTERVAL_S, self.elector.try_acquire, "election", False))
        if s.generator:
            if s.generator_backfill_h > 0:
                await self._backfill_once(s.generator_backfill_h)
            loops.append((s.generator_interval_s, self.generate, "generator", True))
        if s.scrape:
            loops.append((s.scrape_interval_s, self.scrape, "scrape", True))
        loops.append((s.maintenance_interval_s, self.maintain, "maintenance", True))
        await asyncio.gather(*(self._every(i, step, name, led=led) for i, step, name, led in loops))
