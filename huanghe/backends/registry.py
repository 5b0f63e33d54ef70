"""The back-end registry, built from ONE explicit list. A duplicate name is an error.

Each entry names a module and its factory ``create(settings: dict[str, str]) -> Backend``; modules are
imported only when their back-end is created, so optional SDKs (kubernetes) are never imported by
``import huanghe``.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping, Sequence

from huanghe.backends.protocol import Backend, BackendConfigError

#: name → "module:factory". The only place back-ends are listed.
BACKENDS: list[tuple[str, str]] = [
    ("local", "huanghe.backends.local:create"),
    ("fake", "huanghe.backends.fake:create"),
    ("slurm", "huanghe.backends.slurm:create"),
    ("ray", "huanghe.backends.ray:create"),
    ("kubernetes", "huanghe.backends.kubernetes:create"),
]


class DuplicateBackendError(ValueError):
    """Two registry entries share a name."""


def build_registry(entries: Sequence[tuple[str, str]]) -> dict[str, str]:
    """Turn the explicit list into a name → target map; raise :class:`DuplicateBackendError` on a repeat."""
    out: dict[str, str] = {}
    for name, target in entries:
        if name in out:
            raise DuplicateBackendError(f"back-end name {name!r} registered twice ({out[name]}, {target})")
        if ":" not in target:
            raise ValueError(f"registry target {target!r} must be 'module:factory'")
        out[name] = target
    return out


REGISTRY: dict[str, str] = build_registry(BACKENDS)


def backend_names() -> list[str]:
    """Registered back-end names, in registry order."""
    return list(REGISTRY)


def _factory(name: str) -> Callable[[Mapping[str, str]], Backend]:
    target = REGISTRY.get(name)
    if target is None:
        raise BackendConfigError(f"unknown back-end {name!r} / 未知后端; known: {backend_names()}")
    module_name, attr = target.split(":", 1)
    module = importlib.import_module(module_name)
    factory: Callable[[Mapping[str, str]], Backend] = getattr(module, attr)
    return factory


def create_backend(name: str, settings: Mapping[str, str] | None = None) -> Backend:
    """Create the back-end ``name`` from a pool's ``backend_settings``.

    Raises :class:`BackendConfigError` for an unknown name or a bad/unknown settings key, and
    :class:`~huanghe.backends.protocol.BackendUnavailableError` if an optional SDK it needs is not installed
    (the message says what to install).
    """
    return _factory(name)(dict(settings or {}))
