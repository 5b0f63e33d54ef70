"""The scheduler rig of the dispatcher tests: a migrated database with the two-pool test network on FAKE back-ends
sharing one fake clock; and a user's cancel forced into the middle of a dispatcher step (PostgreSQL)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import Session, sessionmaker

from huanghe.backends.fake import FakeBackend
from huanghe.backends.protocol import Backend
from huanghe.core.clock import FakeClock
from huanghe.jobs import service as svc
from huanghe.jobs.backend_cache import BackendCache
from huanghe.jobs.dispatcher import Dispatcher
from huanghe.jobs.models import JobEventRow, JobRow
from huanghe.jobs.settings import DispatchSettings
from huanghe.store.db import make_session_factory
from tests import jobs_testnet as net

T0 = 1_800_000_000.0


class Rig:
    """A migrated SQLite DB (or ``url``) with the two-pool test network on FAKE back-ends sharing one fake
    clock."""

    def __init__(self, tmp_path: Path, url: str = "", **settings: Any) -> None:
        self.clock = FakeClock(T0)
        url = url or f"sqlite:///{tmp_path / 's.db'}"
        net.prepare_db(url, net.topology(("fake", {"cpus": "64"}), ("fake", {"cpus": "65"})))
        self.sf: sessionmaker[Session] = make_session_factory(url)
        self.fakes = {s: FakeBackend({"cpus": s, "duration_s": "10"}, clock=self.clock) for s in ("64", "65")}
        self.jn, self.qd = self.fakes["64"], self.fakes["65"]

        def factory(name: str, settings: Mapping[str, str]) -> Backend:
            assert name == "fake"
            return self.fakes[settings["cpus"]]

        opts = {"health_interval_s": 1.0, "unhealthy_after": 2, **settings}
        self.sched = Dispatcher(self.sf, DispatchSettings(**opts), BackendCache(factory), self.clock)

    def submit(self, **spec: Any) -> str:
        with self.sf() as s:
            items, _ = svc.submit_jobs(s, [svc.JobSubmit(**spec)], clock=self.clock)
        return str(items[0]["id"])

    def job(self, job_id: str) -> JobRow:
        with self.sf() as s:
            row = s.get(JobRow, job_id)
            assert row is not None
            return row

    def events(self, job_id: str) -> list[JobEventRow]:
        with self.sf() as s:
            return list(
                s.scalars(select(JobEventRow).where(JobEventRow.job_id == job_id).order_by(JobEventRow.id))
            )

    def run(self, seconds: float, step: float = 0.5) -> None:
        t = 0.0
        while t < seconds - 1e-9:
            self.sched.tick()
            self.clock.advance(step)
            t += step

    def close(self) -> None:
        self.sched.close()
        self.sf.kw["bind"].dispose()


def finds_by_name(monkeypatch: pytest.MonkeyPatch, *fakes: FakeBackend) -> None:
    """The fakes answer ``find_by_name`` with certainty, as local and Ray do: their job of that name, or none."""
    for be in fakes:

        def find(name: str, be: FakeBackend = be) -> tuple[str | None, bool]:
            return next((j for j, job in be._jobs.items() if job.spec.name == name), None), True

        monkeypatch.setattr(be, "find_by_name", find)


_WAITING_FOR_A_LOCK = (
    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
)


def cancelled_meanwhile(
    rig: Rig, job_id: str, step: Callable[..., Any], done: threading.Event
) -> Callable[..., Any]:
    """A stand-in for ``step`` (a dispatcher's call between its read of the job and its write; monkeypatch it in):
    its first call starts the user's cancel of ``job_id`` on another connection and waits until the cancel has
    ended (``done`` set) or waits for a lock (on PostgreSQL), then calls ``step``."""
    started = False

    def cancel() -> None:
        with rig.sf() as s:
            svc.cancel(s, job_id, clock=rig.clock)
        done.set()

    def meanwhile(*args: Any, **kw: Any) -> Any:
        nonlocal started
        if not started:
            started = True
            threading.Thread(target=cancel, daemon=True).start()
            deadline = time.monotonic() + 20
            with rig.sf() as s:  # the cancel ends, or waits for the dispatcher's lock on the job
                while not done.is_set() and not s.scalar(text(_WAITING_FOR_A_LOCK)):
                    assert time.monotonic() < deadline, "the cancel neither ended nor waited"
                    s.rollback()
                    time.sleep(0.02)
        return step(*args, **kw)

    return meanwhile
