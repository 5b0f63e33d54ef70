"""Per-link throttling: one token bucket per (source center, destination center) pair, shared by every copy
of this process on that pair, so that together they never exceed the link's share.

A copy calls :meth:`TokenBucket.take` with the bytes it just read (the object store's progress callback);
the bucket may go into debt and the caller then sleeps until it is paid back, so a copy of ``n`` bytes on an
idle bucket of rate ``r`` takes at least ``(n - burst) / r`` seconds, whatever the read size. Pacing uses the
monotonic clock: it measures real seconds, not domain time. Thread-safe.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


class TokenBucket:
    """``rate`` bytes per second, at most ``burst`` bytes saved up (starts full)."""

    def __init__(self, rate: float, burst: float, *, sleep: Callable[[float], None] = time.sleep) -> None:
        if rate <= 0:
            raise ValueError("rate must be > 0 bytes/s")
        self.rate = float(rate)
        self.burst = max(0.0, float(burst))
        self.tokens = self.burst
        self.stamp = time.monotonic()
        self.lock = threading.Lock()
        self.sleep = sleep

    def set_rate(self, rate: float, burst: float) -> None:
        """Follow a changed link (the topology was edited)."""
        with self.lock:
            self._refill()
            self.rate, self.burst = float(rate), max(0.0, float(burst))
            self.tokens = min(self.tokens, self.burst)

    def _refill(self) -> None:
        now = time.monotonic()
        self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now

    def take(self, n: int, *, slice_s: float = 1.0, between: Callable[[], None] | None = None) -> float:
        """Debit ``n`` bytes; sleep while the bucket is in debt, in slices of at most ``slice_s`` seconds,
        calling ``between()`` after each (a lease renewal). Returns the seconds slept."""
        with self.lock:
            self._refill()
            self.tokens -= n
            wait = -self.tokens / self.rate if self.tokens < 0 else 0.0
        left = wait
        while left > 0:
            step = min(left, slice_s)
            self.sleep(step)
            left -= step
            if between is not None:
                between()
        return wait


class LinkThrottle:
    """The buckets of every (source center, destination center) pair seen so far."""

    def __init__(self, burst_s: float) -> None:
        self.burst_s = burst_s
        self._buckets: dict[tuple[str, str], TokenBucket] = {}
        self._lock = threading.Lock()

    def bucket(self, source_center: str, dest_center: str, rate: float) -> TokenBucket:
        """The pair's bucket at ``rate`` bytes/s (created, or its rate updated when the link changed)."""
        key = (source_center, dest_center)
        with self._lock:
            b = self._buckets.get(key)
            if b is None:
                b = self._buckets[key] = TokenBucket(rate, rate * self.burst_s)
            elif b.rate != rate:
                b.set_rate(rate, rate * self.burst_s)
            return b
