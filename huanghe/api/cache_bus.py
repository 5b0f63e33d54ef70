"""Token revocation across replicas: when one replica changes tokens (``/api/v1/auth/...``), every replica's
token cache is emptied at once — PostgreSQL ``NOTIFY huanghe_tokens``, heard by one listener thread per process
(its own connection, ``LISTEN``). Without it a token revoked on replica A would still work on replica B until
B's cache entry expired. SQLite serves one process: the local clear is enough and nothing is started.

A listener whose connection breaks empties the cache (it may have missed a notification) and reconnects.
"""

from __future__ import annotations

import logging
import threading

from sqlalchemy import Engine, text

from huanghe.api.authentication import TokenCache

log = logging.getLogger("huanghe.api.security")
CHANNEL = "huanghe_tokens"
#: How long the listener waits for a notification before checking whether it should stop, seconds.
POLL_S = 0.5


class CacheBus:
    def __init__(self, engine: Engine, cache: TokenCache) -> None:
        self.engine = engine
        self.cache = cache
        self.enabled = engine.dialect.name == "postgresql"
        self.listening = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self.enabled and self._thread is None:
            self._thread = threading.Thread(target=self._listen, name="huanghe-token-bus", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def publish(self) -> None:
        """Tell every replica (this one included) to empty its token cache."""
        self.cache.clear()
        if not self.enabled:
            return
        try:
            with self.engine.connect() as conn:
                conn.execute(text(f"NOTIFY {CHANNEL}"))
                conn.commit()
        except Exception as exc:  # the change is committed; other replicas fall back on their cache TTL
            log.warning("token cache notification failed (令牌缓存通知失败): %s", exc)

    def _conninfo(self) -> str:
        return self.engine.url.set(drivername="postgresql").render_as_string(hide_password=False)

    def _listen(self) -> None:
        import psycopg

        while not self._stop.is_set():
            try:
                with psycopg.connect(self._conninfo(), autocommit=True) as conn:
                    conn.execute(f"LISTEN {CHANNEL}")
                    self.cache.clear()  # anything missed while not listening
                    self.listening.set()
                    while not self._stop.is_set():
                        for _ in conn.notifies(timeout=POLL_S):
                            self.cache.clear()
            except Exception as exc:
                self.listening.clear()
                self.cache.clear()
                log.warning("token cache listener reconnecting (令牌缓存监听重连): %s", exc)
                self._stop.wait(1.0)
