"""Security events (风险监测): what the risk monitor (:mod:`huanghe.regulator.risk`) reads.

Two ways in:

* :class:`EventAggregator` — for events that may come in storms (unauthenticated and refused requests): the
  API notes them in memory (no I/O on the request path) and :meth:`~EventAggregator.flush` writes one row per
  (kind, source, actor, subject, minute) with a ``count``. Memory is bounded: past ``max_keys`` distinct keys
  in one window, further keys are folded into one ``overflow`` key (so an attacker varying his source still
  shows up, as one big count).
* :func:`record_event` — a single event written in the caller's transaction (an egress anomaly, a chain break).

Times are epoch seconds.
"""

from __future__ import annotations

import threading
import time
from collections import defaultdict
from collections.abc import Callable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from huanghe.audit.models import SecurityEventRow

KINDS = (
    "auth_failure",
    "refused",
    "residency_refusal",
    "data_class_lowered",
    "egress_anomaly",
    "audit_chain_break",
)
#: Aggregation window of request events, seconds.
WINDOW_S = 60.0
_Key = tuple[str, str, str, str, float]  # kind, source, actor, subject, window start


def record_event(
    session: Session, kind: str, *, subject: str = "", source: str = "", actor: str = "", tenant: str | None = None,
    detail: dict[str, Any] | None = None, now: float | None = None, count: int = 1,
) -> SecurityEventRow:  # fmt: skip
    """Append one event (flushed, not committed)."""
    if kind not in KINDS:
        raise ValueError(f"unknown security event kind {kind!r}")
    row = SecurityEventRow(
        t_s=time.time() if now is None else now, kind=kind, source=source[:100], actor=actor[:200],
        tenant_id=tenant, subject=subject[:500], count=count, detail=detail or {},
    )  # fmt: skip
    session.add(row)
    session.flush()
    return row


class EventAggregator:
    """Counts request events in memory and writes them in batches; thread-safe."""

    def __init__(self, max_keys: int = 5000, clock: Callable[[], float] = time.time) -> None:
        self.max_keys = max_keys
        self.clock = clock
        self._counts: dict[_Key, int] = defaultdict(int)
        self._tenants: dict[_Key, str | None] = {}
        self._lock = threading.Lock()
        self.last_flush = clock()

    def note(
        self, kind: str, *, source: str, actor: str = "", subject: str = "", tenant: str | None = None
    ) -> None:
        """Count one event (no I/O)."""
        now = self.clock()
        key: _Key = (kind, source[:100], actor[:200], subject[:500], now - now % WINDOW_S)
        with self._lock:
            if key not in self._counts and len(self._counts) >= self.max_keys:
                key = (kind, "overflow", "", "", key[4])
            self._counts[key] += 1
            self._tenants.setdefault(key, tenant)

    def pending(self) -> int:
        with self._lock:
            return len(self._counts)

    def due(self, every_s: float) -> bool:
        """Whether there is something to write and ``every_s`` passed since the last flush."""
        return bool(self._counts) and self.clock() - self.last_flush >= every_s

    def flush(self, session: Session) -> int:
        """Write the counted events (one row per key, merged into a row of the same key and window if one
        exists) and commit; returns the rows written. Counts stay in memory if the write fails."""
        with self._lock:
            counts, tenants = dict(self._counts), dict(self._tenants)
            self._counts.clear()
            self._tenants.clear()
            self.last_flush = self.clock()
        if not counts:
            return 0
        try:
            for (kind, source, actor, subject, t), n in counts.items():
                row = session.scalar(select(SecurityEventRow).where(
                    SecurityEventRow.kind == kind, SecurityEventRow.source == source,
                    SecurityEventRow.actor == actor, SecurityEventRow.subject == subject, SecurityEventRow.t_s == t,
                ))  # fmt: skip
                if row is None:
                    session.add(SecurityEventRow(t_s=t, kind=kind, source=source, actor=actor,
                                                 tenant_id=tenants.get((kind, source, actor, subject, t)),
                                                 subject=subject, count=n, detail={}))  # fmt: skip
                else:
                    row.count += n
            session.commit()
        except Exception:
            session.rollback()
            with self._lock:  # keep them for the next try
                for key, n in counts.items():
                    self._counts[key] += n
                    self._tenants.setdefault(key, tenants.get(key))
            raise
        return len(counts)
