"""The dispatcher: place pending jobs, dispatch them to their pool's back-end, follow them.

One :meth:`Dispatcher.tick` does, in order (each step in its own module):

1. **health** (every ``health_interval_s``, :mod:`~huanghe.jobs.center_health`): ping every back-end; a
   center that keeps failing gets no new jobs and its active jobs are failed over elsewhere (bounded);
2. **stuck** (:mod:`~huanghe.jobs.recovery`): jobs PLACED, or DISPATCHED without a back-end id, for longer
   than ``stuck_after_s`` are reconciled; **cancel** (:mod:`~huanghe.jobs.following`): dispatched/running
   jobs with ``cancel_requested`` are cancelled on their back-end (at once when none runs them);
3. **place** (:mod:`~huanghe.jobs.placing`): PENDING jobs go through the placement engine on a live
   snapshot; decisions and explanations are stored and audited in the same transaction;
4. **staging** (:mod:`~huanghe.jobs.staging`): a PLACED job's input datasets are brought to its center (a
   staging rule) and copied into its working directory; its outputs are stored after it succeeds;
   **dispatch** (:mod:`~huanghe.jobs.dispatching`): each ready PLACED job is committed DISPATCHED with its
   token *before* the back-end is called, so a restart never runs it twice;
5. **reconcile** (:mod:`~huanghe.jobs.following`): back-end states are copied into the database; lost or
   preempted jobs are retried elsewhere (bounded); a job that ends is metered in the same transaction.

Effects are explicit: the steps call billing (:func:`~huanghe.billing.service.meter_job`, through
:func:`~huanghe.jobs.transitions.set_state`) and audit (:func:`~huanghe.audit.service.record_many`) inside
the transaction that writes the terminal state or the placement, whether or not an API app exists.

:meth:`Dispatcher.recover` runs when a process becomes leader (:mod:`~huanghe.jobs.recovery`).
:class:`DispatchLoop` runs ticks on a background thread while this process is the leader
(:class:`~huanghe.store.leader.LeaderElector`). Settings: :class:`~huanghe.jobs.settings.DispatchSettings`
(``HUANGHE_SCHEDULER_*``). All decision time comes from the injected :class:`~huanghe.core.clock.Clock`.
"""

from __future__ import annotations

import logging
import math
from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from huanghe.backends.protocol import Backend
from huanghe.core.clock import Clock, WallClock
from huanghe.jobs import center_health, dispatching, recovery
from huanghe.jobs.backend_cache import BackendCache
from huanghe.jobs.dispatch_context import DispatchContext, TickReport
from huanghe.jobs.following import Follower
from huanghe.jobs.placing import Placer
from huanghe.jobs.settings import DispatchSettings
from huanghe.jobs.staging import Stager
from huanghe.store.leader import LeaderElector
from huanghe.store.leader_loop import LeaderLoop

log = logging.getLogger("huanghe.broker")


class Dispatcher:
    """The dispatch loop's body (see module docstring). Not thread-safe: one caller of :meth:`tick`."""

    def __init__(
        self,
        session_factory: sessionmaker[Session],
        settings: DispatchSettings | None = None,
        backends: BackendCache | None = None,
        clock: Clock | None = None,
    ) -> None:
        self.sf = session_factory
        self.settings = settings or DispatchSettings()
        self.backends = backends or BackendCache()
        self.clock = clock or WallClock()
        self.ctx = DispatchContext(self.sf, self.settings, self.backends, self.clock)
        self._executor = ThreadPoolExecutor(max_workers=4, thread_name_prefix="hh-cancel")
        self._placer = Placer(self.ctx)
        self.stager = Stager(self.ctx)
        self._follower = Follower(self.ctx, self._executor)
        self.engine = self._placer.engine
        self._health_due_s = -math.inf
        self._recovering = False  # claims too young to resolve were left at takeover: recover on later ticks

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)
        self.stager.close()

    def backend_for_pool(self, pool_id: str) -> Backend | None:
        return self.ctx.backend_for_pool(pool_id)

    def tick(self) -> TickReport:
        """One pass of health, cancel, reconcile, place, dispatch, reconcile.

        Ends are copied from the back-ends into the store BEFORE placing, so placement sees the capacity freed
        since the last tick, as the simulator's event-time ends do (docs/bench-twin.md: placing first saw it one
        tick late and moved 10-15 % of jobs to other pools); the second reconcile picks up what was just
        dispatched, so submit → RUNNING stays one tick."""
        rep = TickReport()
        now_s = self.clock.now_s()
        with self.sf() as s:
            if self.ctx.topology(s, now_s) is None:
                return rep
        if now_s >= self._health_due_s:
            self._health_due_s = now_s + self.settings.health_interval_s
            rep.health_checked = True
            center_health.check_health(self.ctx, rep)
        if self._recovering:
            self.recover()
        recovery.reconcile_stuck(self.ctx, rep)
        self._follower.cancel(rep)
        self._follower.reconcile(rep)
        self._placer.place(rep)
        dispatching.dispatch(self.ctx, rep, self.stager.prepare)
        if rep.outcome_unknown:  # resolved by name once settled (claim_settled_s), not after stuck_after_s
            self._recovering = True
        self.stager.step(rep)  # after dispatch: only the jobs still staging are left PLACED
        self._follower.reconcile(rep)
        return rep

    def recover(self) -> int:
        """Resolve dispatches a crash interrupted (state DISPATCHED without a back-end id). Returns how many.

        A claim still too young (a deposed leader may be inside its submit, :mod:`~huanghe.jobs.recovery`) is
        left, and recovery runs again on each tick until none is left."""
        n = recovery.recover(self.ctx)
        self._recovering = recovery.unrecorded_claims(self.ctx) > 0
        return n


class DispatchLoop:
    """Runs :meth:`Dispatcher.tick` every ``interval_s`` while this process leads the ``scheduler`` role
    (:class:`~huanghe.store.leader_loop.LeaderLoop`), with :meth:`Dispatcher.recover` each time it becomes the
    leader. ``leading`` and ``ticks`` are what ``GET /api/v1/scheduler`` reports."""

    def __init__(
        self,
        engine: Engine,
        session_factory: sessionmaker[Session],
        settings: DispatchSettings | None = None,
        backends: BackendCache | None = None,
    ) -> None:
        self.settings = settings or DispatchSettings()
        self.elector = LeaderElector(engine, ttl_s=self.settings.lease_ttl_s)
        # every commit of the loop is fenced: a deposed leader's late decisions are refused
        self.dispatcher = Dispatcher(self.elector.fenced(session_factory), self.settings, backends)
        self._loop = LeaderLoop(
            self.elector,
            self.dispatcher.tick,
            interval_s=self.settings.interval_s,
            thread_name="huanghe-scheduler",
            log=log,
            on_lead=self.dispatcher.recover,
        )

    @property
    def leading(self) -> bool:
        return self._loop.leading

    @property
    def ticks(self) -> int:
        return self._loop.steps

    def start(self) -> None:
        self._loop.start()

    def stop(self, timeout_s: float = 10.0) -> None:
        self._loop.stop(timeout_s)
        self.dispatcher.close()
