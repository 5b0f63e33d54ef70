"""The back-end registry, built from ONE explicit list (:data:`BACKENDS`) into a
:class:`~huanghe.core.registry.Registry`. A duplicate name is an error; an unknown name raises
:class:`UnknownBackendError` (a :class:`~huanghe.backends.protocol.BackendConfigError` and an
:class:`~huanghe.core.registry.UnknownNameError`).

Each entry names a module and its factory ``create(settings: dict[str, str]) -> Backend``; modules are
imported only when their back-end is created, so optional SDKs (kubernetes) are never imported by
``import huanghe``.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping, Sequence

from huanghe.backends.protocol import Backend, BackendConfigError
from huanghe.core.registry import DuplicateNameError, Registry, UnknownNameError

#: name → "module:factory". The only place back-ends are listed.
BACKENDS: list[tuple[str, str]] = [
    ("local", "huanghe.backends.local:create"),
    ("fake", "huanghe.backends.fake:create"),
    ("simulated", "huanghe.backends.simulated:create"),
    ("slurm", "huanghe.backends.slurm:create"),
    ("ray", "huanghe.backends.ray:create"),
    ("kubernetes", "huanghe.backends.kubernetes:create"),
]


class DuplicateBackendError(DuplicateNameError):
    """Two registry entries share a name."""


class UnknownBackendError(UnknownNameError, BackendConfigError):
    """No back-end of that name is registered."""


def build_registry(entries: Sequence[tuple[str, str]]) -> Registry[str]:
    """Turn the explicit list into a name → ``"module:factory"`` registry; :class:`DuplicateBackendError` on a
    repeated name, :class:`ValueError` on a target that is not ``module:factory``."""
    for _, target in entries:
        if ":" not in target:
            raise ValueError(f"registry target {target!r} must be 'module:factory'")
    return Registry(
        "back-end",
        entries,
        unknown_error=UnknownBackendError,
        duplicate_error=DuplicateBackendError,
        kind_zh="后端",
    )


REGISTRY: Registry[str] = build_registry(BACKENDS)


def backend_names() -> list[str]:
    """Registered back-end names, in registry order."""
    return REGISTRY.names()


def _factory(name: str) -> Callable[[Mapping[str, str]], Backend]:
    module_name, attr = REGISTRY.get(name).split(":", 1)  # UnknownBackendError names the known ones
    module = importlib.import_module(module_name)
    factory: Callable[[Mapping[str, str]], Backend] = getattr(module, attr)
    return factory


def create_backend(name: str, settings: Mapping[str, str] | None = None) -> Backend:
    """Create the back-end ``name`` from a pool's ``backend_settings``.

    Raises :class:`UnknownBackendError` (a :class:`BackendConfigError`) for an unknown name,
    :class:`BackendConfigError` for a bad/unknown settings key, and
    :class:`~huanghe.backends.protocol.BackendUnavailableError` if an optional SDK it needs is not installed
    (the message says what to install).
    """
    return _factory(name)(dict(settings or {}))
