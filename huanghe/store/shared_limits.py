"""Rate-limit token buckets shared by every replica of the platform (table ``rate_buckets``, PostgreSQL).

A replica does not go to the database for every request: it borrows ``chunk`` tokens at a time from the
caller's shared bucket and spends them locally, for at most ``hold_s`` seconds (unspent tokens are then
dropped, never returned, so the global rate can only be lower than configured, never higher). One database
round trip per chunk per caller; the bucket row is locked only for that round trip. The refill is computed
in SQL from the wall clock of the replicas (epoch seconds).
"""

from __future__ import annotations

import math
import threading
import time

from sqlalchemy import Engine, text

_BORROW = text(
    "INSERT INTO rate_buckets (key, tokens, updated_s) VALUES (:k, :burst, :now) "
    "ON CONFLICT (key) DO UPDATE SET tokens = LEAST(:burst, rate_buckets.tokens "
    "+ GREATEST(0, :now - rate_buckets.updated_s) * :rate), updated_s = :now RETURNING tokens"
)
_SPEND = text("UPDATE rate_buckets SET tokens = tokens - :n WHERE key = :k")


class SharedTokenBuckets:
    """``take(key)`` → 0 when allowed, else the seconds until a token; see the module doc."""

    def __init__(self, engine: Engine, rate_per_s: float, burst: int, *, chunk: int | None = None,
                 hold_s: float = 1.0) -> None:  # fmt: skip
        self.engine, self.rate_per_s, self.burst, self.hold_s = engine, rate_per_s, burst, hold_s
        self.chunk = chunk or max(1, min(burst // 8, math.ceil(rate_per_s / 5)))
        self._local: dict[str, tuple[int, float]] = {}
        self._lock = threading.Lock()
        # one borrower per caller at a time in this process: the others wait and spend what it brought
        self._borrowing: dict[str, threading.Lock] = {}
        self.borrows = 0

    def take_local(self, key: str) -> bool:
        """Spend a borrowed token of ``key`` if this replica holds one (no I/O)."""
        now = time.monotonic()
        with self._lock:
            left, until = self._local.get(key, (0, 0.0))
            if left > 0 and now < until:
                self._local[key] = (left - 1, until)
                return True
            self._local.pop(key, None)
            if len(self._local) > 10_000:  # bounded: forget expired pockets
                for k in [k for k, (_, u) in self._local.items() if u <= now]:
                    del self._local[k]
            return False

    def borrow(self, key: str) -> float:
        """Borrow up to ``chunk`` tokens from the shared bucket and spend one; the wait when there is none.
        Concurrent requests of one caller in this process borrow one at a time (the later ones usually find
        tokens the first brought)."""
        with self._lock:
            gate = self._borrowing.setdefault(key, threading.Lock())
            if len(self._borrowing) > 10_000:
                self._borrowing = {key: gate}
        with gate:
            if self.take_local(key):
                return 0.0
            with self.engine.begin() as conn:
                tokens = float(conn.execute(_BORROW, {"k": key, "burst": float(self.burst), "now": time.time(),
                                                      "rate": self.rate_per_s}).scalar_one())  # fmt: skip
                grant = min(self.chunk, math.floor(tokens))
                if grant < 1:
                    return (1.0 - tokens) / self.rate_per_s
                conn.execute(_SPEND, {"k": key, "n": grant})
            self.borrows += 1
            if grant > 1:
                with self._lock:
                    left, _ = self._local.get(key, (0, 0.0))
                    self._local[key] = (left + grant - 1, time.monotonic() + self.hold_s)
            return 0.0
