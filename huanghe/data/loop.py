"""The data services' background loop (Rucio's judge, repairer, reaper and lifecycle daemons in one thread),
run by the server on exactly one replica (leader election, role ``data``).

Each tick (:meth:`DataLoop.tick`, callable from tests with a fixed ``now``) does what is due:

* endpoints' health (every ``health_interval_s``);
* open uploads past their time, rules past their lifetime;
* rule evaluation (new, replicating, stuck rules) and, every ``repair_interval_s``, the repairer;
* the province's off-site backup policy for important/core data (every ``policy_interval_s``);
* tiering by the lifecycle policies and the reaper (every ``reaper_interval_s``).

Transfers run in their own loop (:class:`huanghe.data.transfers.TransferLoop`). A failing step is logged and
the others still run. Settings: :class:`DataLoopSettings` (``HUANGHE_DATA_LOOP_*``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from huanghe.core.clock import Clock, WallClock
from huanghe.data import backup, reaper, rule_engine, rules, tiering, uploads
from huanghe.data import endpoints as storage_endpoints
from huanghe.data.objects import ObjectStore
from huanghe.store.leader import LeaderElector
from huanghe.store.leader_loop import LeaderLoop

log = logging.getLogger("huanghe.data.loop")


class DataLoopSettings(BaseSettings):
    """``HUANGHE_DATA_LOOP_``: ``enabled``, ``interval_s`` (between ticks), ``health_interval_s``,
    ``repair_interval_s``, ``policy_interval_s`` (backup policy), ``reaper_interval_s`` (tiering + reaper),
    ``backup_scope`` (``city`` or ``circle``: where an off-site copy must be), ``lease_ttl_s`` (SQLite
    leader lease), ``free_share`` (the reaper frees an endpoint below this share of free space)."""

    model_config = SettingsConfigDict(env_prefix="HUANGHE_DATA_LOOP_", extra="ignore")

    enabled: bool = True
    interval_s: float = Field(default=2.0, gt=0, le=600)
    health_interval_s: float = Field(default=15.0, gt=0)
    repair_interval_s: float = Field(default=20.0, gt=0)
    policy_interval_s: float = Field(default=30.0, gt=0)
    reaper_interval_s: float = Field(default=60.0, gt=0)
    backup_scope: str = Field(default="city", pattern="^(city|circle)$")
    lease_ttl_s: float = Field(default=10.0, gt=0)
    free_share: float = Field(default=reaper.DEFAULT_FREE_SHARE, ge=0, le=1)


@dataclass
class DataLoop:
    """The loop; ``tick(now)`` runs the due steps once (tests call it directly)."""

    factory: sessionmaker[Session]
    settings: DataLoopSettings = field(default_factory=DataLoopSettings)
    clock: Clock = field(default_factory=WallClock)
    store_for: Callable[[Session, str], ObjectStore] = storage_endpoints.store_of
    last: dict[str, float] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)

    def _due(self, step: str, every_s: float, now: float) -> bool:
        if now - self.last.get(step, float("-inf")) < every_s:
            return False
        self.last[step] = now
        return True

    def _run(self, step: str, fn: Callable[[Session], object]) -> None:
        with self.factory() as session:
            try:
                fn(session)
                session.commit()
                self.errors.pop(step, None)
            except Exception as exc:  # one failing step must not stop the others
                session.rollback()
                self.errors[step] = f"{type(exc).__name__}: {exc}"
                log.warning("data loop step %s failed (数据服务步骤失败): %s", step, exc)

    def tick(self, now: float | None = None) -> None:
        """Run every step that is due at ``now`` (default: the clock)."""
        now = self.clock.now_s() if now is None else now
        s = self.settings
        if self._due("health", s.health_interval_s, now):
            self._run("health", lambda se: storage_endpoints.check_endpoints(se, _Fixed(now)))
        self._run(
            "expire", lambda se: (uploads.expire_uploads(se, clock=_Fixed(now)), rules.expire_rules(se, now))
        )
        self._run("evaluate", lambda se: rule_engine.evaluate(se, now))
        if self._due("repair", s.repair_interval_s, now):
            self._run("repair", lambda se: rule_engine.repair(se, now))
        if self._due("policy", s.policy_interval_s, now):
            self._run("policy", lambda se: backup.ensure_backup_rules(se, now, scope=s.backup_scope))
        if self._due("reaper", s.reaper_interval_s, now):
            self._run("tiering", lambda se: (tiering.ensure_default_policies(se, now),
                                             tiering.tier_step(se, now, self.store_for)))  # fmt: skip
            self._run("reaper", lambda se: reaper.reap(se, now, self.store_for, free_share=s.free_share))


@dataclass(frozen=True)
class _Fixed:
    """A clock stopped at ``t`` (every step of one tick sees the same time)."""

    t: float

    def now_s(self) -> float:
        return self.t


class DataLoopThread:
    """Runs :meth:`DataLoop.tick` every ``interval_s`` on a daemon thread while this replica leads ``data``
    (:class:`~huanghe.store.leader_loop.LeaderLoop`)."""

    def __init__(self, engine: Engine, factory: sessionmaker[Session], settings: DataLoopSettings) -> None:
        self.elector = LeaderElector(engine, name="data", ttl_s=settings.lease_ttl_s)
        self.loop = DataLoop(self.elector.fenced(factory), settings)  # a deposed leader's commits are refused
        self._runner = LeaderLoop(
            self.elector,
            self.loop.tick,
            interval_s=settings.interval_s,
            thread_name="huanghe-data-loop",
            log=log,
        )

    def start(self) -> None:
        self._runner.start()

    def stop(self, timeout_s: float = 10.0) -> None:
        self._runner.stop(timeout_s)


@contextmanager
def data_loop_running(engine: Engine, factory: sessionmaker[Session],
                      settings: DataLoopSettings | None = None) -> Iterator[DataLoopThread | None]:  # fmt: skip
    """Run the data loop for the app's lifetime (None when disabled)."""
    settings = settings or DataLoopSettings()
    if not settings.enabled:
        yield None
        return
    thread = DataLoopThread(engine, factory, settings)
    thread.start()
    try:
        yield thread
    finally:
        thread.stop()
