"""A background loop that does its work on one replica only: the one leading its role (:class:`LeaderElector`).

The scheduler's dispatch loop, the data loop and the risk monitor are each one :class:`LeaderLoop`: every
``elect_every_s`` seconds the lead is taken or renewed; while this replica leads, ``step()`` runs every
``interval_s`` seconds, and ``on_lead()`` once each time it becomes the leader (e.g. recovery of what a dead
leader left half done). The loop outlives any exception of a step (logged). Pacing uses the monotonic clock: it
measures how long a step took, not domain time. The sessions a step commits with should be the elector's
fenced ones (:meth:`LeaderElector.fenced`), so a deposed leader's late writes are refused.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from huanghe.store.leader import LeaderElector


class LeaderLoop:
    """``step()`` every ``interval_s`` s on a daemon thread named ``thread_name`` while ``elector`` leads.

    ``elect_every_s`` (default ``interval_s``) is how often the lead is taken or renewed: shorter than
    ``interval_s`` for a loop that steps rarely but must take over fast. Public counters: ``leading`` (after the
    last election) and ``steps`` (steps run)."""

    def __init__(
        self,
        elector: LeaderElector,
        step: Callable[[], object],
        *,
        interval_s: float,
        thread_name: str,
        log: logging.Logger,
        on_lead: Callable[[], object] | None = None,
        elect_every_s: float | None = None,
    ) -> None:
        if interval_s <= 0 or (elect_every_s is not None and elect_every_s <= 0):
            raise ValueError("interval_s and elect_every_s must be > 0 seconds")
        self.elector = elector
        self.step = step
        self.on_lead = on_lead
        self.interval_s = interval_s
        self.elect_every_s = interval_s if elect_every_s is None else min(elect_every_s, interval_s)
        self.thread_name = thread_name
        self.log = log
        self.leading = False
        self.steps = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name=self.thread_name, daemon=True)
        self._thread.start()

    def stop(self, timeout_s: float = 10.0) -> None:
        """Stop stepping (waits up to ``timeout_s`` for a running step) and give the lead up."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout_s)
        self.elector.release()

    def _run(self) -> None:
        last_step = float("-inf")
        while not self._stop.is_set():
            t0 = time.monotonic()
            try:
                leading = self.elector.try_acquire()
                if leading and not self.leading:
                    self.log.info("%s leads (主节点): %s", self.elector.name, self.elector.holder)
                    if self.on_lead is not None:
                        self.on_lead()
                self.leading = leading
                if leading and t0 - last_step >= self.interval_s:
                    last_step = t0
                    self.step()
                    self.steps += 1
            except Exception:  # the loop must outlive anything one step does
                self.log.exception("%s step failed (执行失败)", self.thread_name)
            next_step = last_step + self.interval_s if self.leading else t0 + self.elect_every_s
            self._stop.wait(max(0.0, min(t0 + self.elect_every_s, next_step) - time.monotonic()))


__all__ = ["LeaderLoop"]
