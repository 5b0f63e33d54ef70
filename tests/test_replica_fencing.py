"""Fencing of leader election, on SQLite and a real PostgreSQL: every change of leader bumps the lease's epoch,
and a deposed leader that still believes it leads cannot commit (its late write is refused and rolled back)."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from huanghe.core.clock import FakeClock
from huanghe.store.db import make_session_factory
from huanghe.store.leader import DeposedError, LeaderElector
from huanghe.store.leases import RateBucketRow


def _write(factory: sessionmaker[Session], key: str) -> None:
    with factory() as s:
        s.add(RateBucketRow(key=key, tokens=1.0, updated_s=0.0))
        s.commit()


def _keys(factory: sessionmaker[Session]) -> set[str]:
    with factory() as s:
        return set(s.scalars(select(RateBucketRow.key)))


def test_a_deposed_leader_cannot_commit(migrated_url: str) -> None:
    plain = make_session_factory(migrated_url)
    engine = plain.kw["bind"]
    clock = FakeClock(1000.0)
    a = LeaderElector(engine, name="fence-test", ttl_s=3.0, clock=clock)
    b = LeaderElector(engine, name="fence-test", ttl_s=3.0, clock=clock)
    try:
        assert a.try_acquire() and not b.try_acquire()
        first = a.epoch
        assert first is not None
        fenced_a = a.fenced(plain)
        _write(fenced_a, "while-leading")
        # A is cut off (a long pause, a lost connection): B takes over with a new epoch
        if engine.dialect.name == "postgresql":
            a._drop_conn()  # the advisory lock goes with A's connection
        else:
            clock.advance(10.0)  # A's lease expired without renewal
        # PostgreSQL frees the lock when A's backend process has ended, a moment after the socket closed
        deadline = time.monotonic() + 10
        while not b.try_acquire() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert b.is_leader
        assert b.epoch == first + 1
        # A still believes it leads: its late commit is refused, nothing of it is stored
        assert a.is_leader
        with pytest.raises(DeposedError):
            _write(fenced_a, "late-write")
        assert not a.is_leader
        assert _keys(plain) == {"while-leading"}
        _write(b.fenced(plain), "new-leader")
        assert _keys(plain) == {"while-leading", "new-leader"}
        # A comes back: it does not lead while B does; when B gives up, A leads with a newer epoch
        assert not a.try_acquire()
        b.release()
        clock.advance(10.0)
        assert a.try_acquire() and a.epoch is not None and a.epoch > first + 1
    finally:
        a.release()
        b.release()
        engine.dispose()


def test_a_session_of_a_process_that_never_led_is_refused(migrated_url: str) -> None:
    plain = make_session_factory(migrated_url)
    engine = plain.kw["bind"]
    try:
        follower = LeaderElector(engine, name="fence-test-2")
        with pytest.raises(DeposedError):
            _write(follower.fenced(plain), "x")
        assert _keys(plain) == set()
    finally:
        engine.dispose()
