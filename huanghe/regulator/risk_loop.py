"""The risk monitor's loop: :func:`huanghe.regulator.risk.detect` every ``interval_s`` on one replica (leader
election, role ``risk``), the audit chain verified every ``chain_every_s``. Settings ``HUANGHE_RISK_*``."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from huanghe.regulator import risk
from huanghe.store.leader import LeaderElector
from huanghe.store.leader_loop import LeaderLoop

log = logging.getLogger("huanghe.risk")
#: How often the lead is taken or renewed, seconds.
ELECTION_INTERVAL_S = 1.0


class RiskSettings(BaseSettings):
    """``HUANGHE_RISK_``: ``enabled``, ``interval_s``, ``chain_every_s``, ``lease_ttl_s``."""

    model_config = SettingsConfigDict(env_prefix="HUANGHE_RISK_", extra="ignore")

    enabled: bool = True
    interval_s: float = Field(default=15.0, gt=0, le=3600)
    chain_every_s: float = Field(default=600.0, gt=0)
    lease_ttl_s: float = Field(default=5.0, gt=0)


class RiskLoop:
    """Detection every ``interval_s`` on the replica leading ``risk``; the lead is taken or renewed every
    :data:`ELECTION_INTERVAL_S` (a fast takeover) (:class:`~huanghe.store.leader_loop.LeaderLoop`)."""

    def __init__(self, engine: Engine, factory: sessionmaker[Session], settings: RiskSettings) -> None:
        self.settings = settings
        self.elector = LeaderElector(engine, name="risk", ttl_s=settings.lease_ttl_s)
        self.factory = self.elector.fenced(factory)  # a deposed leader's commits are refused
        self.since_seq = 0
        self.last_chain = float("-inf")
        self._runner = LeaderLoop(
            self.elector,
            lambda: self.tick(time.time()),
            interval_s=settings.interval_s,
            thread_name="huanghe-risk",
            log=log,
            elect_every_s=ELECTION_INTERVAL_S,
        )

    def tick(self, now: float) -> int:
        chain = now - self.last_chain >= self.settings.chain_every_s
        with self.factory() as session:
            opened, self.since_seq = risk.detect(session, now, since_seq=self.since_seq, chain=chain)
        if chain:
            self.last_chain = now
        return opened

    def start(self) -> None:
        self._runner.start()

    def stop(self, timeout_s: float = 10.0) -> None:
        self._runner.stop(timeout_s)


@contextmanager
def risk_loop_running(engine: Engine, factory: sessionmaker[Session],
                      settings: RiskSettings | None = None) -> Iterator[RiskLoop | None]:  # fmt: skip
    settings = settings or RiskSettings()
    if not settings.enabled:
        yield None
        return
    loop = RiskLoop(engine, factory, settings)
    loop.start()
    try:
        yield loop
    finally:
        loop.stop()
