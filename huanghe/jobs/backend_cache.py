"""One back-end instance per (name, settings): pools with equal settings share it."""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Callable, Mapping
from typing import Any

from huanghe.backends.protocol import Backend
from huanghe.backends.registry import create_backend


class BackendCache:
    """Back-end instances by a pool's ``backend`` and ``backend_settings``, created on first use. Thread-safe."""

    def __init__(self, factory: Callable[[str, Mapping[str, str]], Backend] = create_backend) -> None:
        self._factory = factory
        self._lock = threading.Lock()
        self._items: dict[str, Backend] = {}

    @staticmethod
    def key(name: str, settings: Mapping[str, Any]) -> str:
        return name + json.dumps({k: str(v) for k, v in settings.items()}, sort_keys=True)

    def get(self, name: str, settings: Mapping[str, Any]) -> Backend:
        """The instance for a pool's ``backend`` / ``backend_settings`` (created on first use)."""
        k = self.key(name, settings)
        with self._lock:
            be = self._items.get(k)
            if be is None:
                be = self._factory(name, {kk: str(v) for kk, v in settings.items()})
                self._items[k] = be
            return be

    def close(self) -> None:
        with self._lock:
            for be in self._items.values():
                with contextlib.suppress(Exception):
                    be.close()
            self._items.clear()
