"""Injected time. Decision code never reads the wall clock: it asks a :class:`Clock`."""

from __future__ import annotations

import time
from typing import Protocol, runtime_checkable


@runtime_checkable
class Clock(Protocol):
    """Anything that tells the current time in seconds (simulated seconds or Unix epoch seconds)."""

    def now_s(self) -> float: ...


class FakeClock:
    """A clock that only moves when told to (tests, the simulator)."""

    def __init__(self, t_s: float = 0.0) -> None:
        self._t_s = float(t_s)

    def now_s(self) -> float:
        return self._t_s

    def set(self, t_s: float) -> None:
        self._t_s = float(t_s)

    def advance(self, dt_s: float) -> None:
        self._t_s += float(dt_s)


class WallClock:
    """The real clock, Unix epoch seconds, for the live service only."""

    def now_s(self) -> float:
        return time.time()
