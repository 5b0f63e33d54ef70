"""What each registered back-end can run, read from its class (no connection, no settings needed).

The answer comes from the back-end's declared :class:`~huanghe.backends.protocol.Capabilities`: every
capability of :class:`~huanghe.backends.protocol.Capability` is either supported or missing with a reason.
"""

from __future__ import annotations

import importlib
from typing import get_type_hints

from huanghe.backends.protocol import Capabilities, Capability
from huanghe.backends.registry import REGISTRY
from huanghe.backends.schemas import BackendPublic, CapabilityPublic


def _backend_class(name: str) -> type:
    module_name, attr = REGISTRY.get(name).split(":", 1)
    factory = getattr(importlib.import_module(module_name), attr)
    cls: type = get_type_hints(factory)["return"]
    return cls


def capabilities_of(name: str) -> Capabilities:
    """The declared capabilities of back-end ``name`` (the class its factory returns); unknown name →
    :class:`~huanghe.backends.registry.UnknownBackendError`. Imports the back-end's module, not its SDK."""
    caps: Capabilities = getattr(_backend_class(name), "capabilities")  # noqa: B009
    return caps


def is_simulated(name: str) -> bool:
    """Whether back-end ``name`` simulates its jobs instead of running them (class attribute ``simulated``)."""
    return bool(getattr(_backend_class(name), "simulated", False))


def describe(name: str) -> BackendPublic:
    """``name`` with each capability, in the order of :class:`Capability`."""
    caps = capabilities_of(name)
    return BackendPublic(
        name=name,
        simulated=is_simulated(name),
        capabilities=[
            CapabilityPublic(name=c.value, supported=caps.has(c), reason=caps.missing.get(c))
            for c in Capability
        ],
    )


def describe_all() -> list[BackendPublic]:
    """Every registered back-end, in registry order."""
    return [describe(n) for n in REGISTRY.names()]


def missing_by_backend() -> dict[str, dict[str, str]]:
    """Every registered back-end → each capability it lacks → its declared reason (the map a broker snapshot
    carries, :attr:`huanghe.broker.snapshot.NetworkSnapshot.backend_missing`)."""
    out: dict[str, dict[str, str]] = {}
    for name in REGISTRY.names():
        out[name] = {c.value: reason for c, reason in capabilities_of(name).missing.items()}
    return out
