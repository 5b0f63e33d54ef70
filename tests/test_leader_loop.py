"""The one background-loop runner of the scheduler, data and risk loops (huanghe/store/leader_loop.py), on SQLite
and a real PostgreSQL (``migrated_url``): one replica steps, a takeover after the leader stops runs ``on_lead``
once, a failing step does not stop the loop, and a loop that steps rarely still renews its lead often."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

import pytest

from huanghe.store.db import make_session_factory
from huanghe.store.leader import LeaderElector
from huanghe.store.leader_loop import LeaderLoop

log = logging.getLogger("test.leader_loop")


class _Counting(LeaderElector):
    """An elector that counts its elections."""

    elections = 0

    def try_acquire(self) -> bool:
        self.elections += 1
        return super().try_acquire()


def _until(probe: Callable[[], bool], timeout_s: float = 15.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not probe():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def test_one_replica_steps_and_the_other_takes_over_with_on_lead(migrated_url: str) -> None:
    engine = make_session_factory(migrated_url).kw["bind"]
    calls: dict[str, list[str]] = {"a": [], "b": []}

    def loop(name: str) -> LeaderLoop:
        return LeaderLoop(
            LeaderElector(engine, name="loop-test", ttl_s=1.0),
            lambda: calls[name].append("step"),
            interval_s=0.05,
            thread_name=f"loop-{name}",
            log=log,
            on_lead=lambda: calls[name].append("lead"),
        )

    a = loop("a")
    a.start()
    _until(lambda: a.steps >= 3)
    b = loop("b")
    b.start()
    try:
        time.sleep(0.5)
        assert calls["b"] == [] and not b.leading  # a leads: b neither steps nor recovers
        assert calls["a"][0] == "lead" and calls["a"].count("lead") == 1
        a.stop()  # gives the lead up
        _until(lambda: b.steps >= 3)
        assert calls["b"][0] == "lead" and calls["b"].count("lead") == 1
        n = len(calls["a"])
        time.sleep(0.2)
        assert len(calls["a"]) == n  # stopped: no more steps
    finally:
        a.stop()
        b.stop()


def test_a_failing_step_does_not_stop_the_loop(migrated_url: str, caplog: pytest.LogCaptureFixture) -> None:
    engine = make_session_factory(migrated_url).kw["bind"]
    tries = []

    def step() -> None:
        tries.append(1)
        raise RuntimeError("boom")

    runner = LeaderLoop(
        LeaderElector(engine, name="loop-fail", ttl_s=1.0),
        step,
        interval_s=0.02,
        thread_name="loop-f",
        log=log,
    )
    with caplog.at_level(logging.ERROR, logger="test.leader_loop"):
        runner.start()
        try:
            _until(lambda: len(tries) >= 5)
        finally:
            runner.stop()
    assert runner.steps == 0 and any("loop-f step failed" in r.getMessage() for r in caplog.records)


def test_a_rare_step_with_frequent_elections(migrated_url: str) -> None:
    engine = make_session_factory(migrated_url).kw["bind"]
    elector = _Counting(engine, name="loop-rare", ttl_s=1.0)
    stepped = threading.Event()
    runner = LeaderLoop(
        elector, stepped.set, interval_s=30.0, thread_name="loop-r", log=log, elect_every_s=0.05
    )
    runner.start()
    try:
        assert stepped.wait(10.0)  # the first step comes at once
        time.sleep(0.6)
        assert runner.steps == 1  # the next one is 30 s away
        assert elector.elections >= 5  # while the lead is renewed every 0.05 s
    finally:
        runner.stop()


@pytest.mark.parametrize(("interval", "elect"), [(0.0, None), (1.0, 0.0), (-1.0, 1.0)])
def test_bad_intervals_are_refused(migrated_url: str, interval: float, elect: float | None) -> None:
    engine = make_session_factory(migrated_url).kw["bind"]
    with pytest.raises(ValueError, match="interval_s"):
        LeaderLoop(
            LeaderElector(engine, name="x"),
            lambda: None,
            interval_s=interval,
            thread_name="x",
            log=log,
            elect_every_s=elect,
        )
