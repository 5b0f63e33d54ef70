"""Dominant-resource fairness (DRF, Ghodsi et al., NSDI 2011) between owners (users or tenants).

An owner's dominant share is the largest, over resource kinds, of (what the owner's running jobs hold)
/ (cluster capacity of that kind). The queue order ``drf`` serves the owner with the smallest dominant
share first, oldest job first within an owner.
"""

from __future__ import annotations

from collections.abc import Sequence


class DominantShares:
    """Running usage per owner over resource kinds with fixed capacities (e.g. cores, GPUs)."""

    def __init__(self, capacities: Sequence[float]) -> None:
        if not capacities or any(c <= 0 for c in capacities):
            raise ValueError("every resource capacity must be > 0")
        self._inv = [1.0 / c for c in capacities]
        self._usage: dict[int, list[float]] = {}
        self._share: dict[int, float] = {}

    def add(self, owner: int, demand: Sequence[float]) -> None:
        """The owner started a job holding ``demand`` (one amount per resource kind)."""
        usage = self._usage.setdefault(owner, [0.0] * len(self._inv))
        for k, amount in enumerate(demand):
            usage[k] += amount
        self._share[owner] = max(u * inv for u, inv in zip(usage, self._inv, strict=True))

    def remove(self, owner: int, demand: Sequence[float]) -> None:
        """A job of the owner holding ``demand`` ended."""
        usage = self._usage[owner]
        for k, amount in enumerate(demand):
            usage[k] -= amount
        share = max(u * inv for u, inv in zip(usage, self._inv, strict=True))
        if share <= 1e-12:
            del self._usage[owner]
            self._share.pop(owner, None)
        else:
            self._share[owner] = share

    def share(self, owner: int) -> float:
        """Dominant share in [0, 1] (0 for an owner with nothing running)."""
        return self._share.get(owner, 0.0)

    @property
    def shares(self) -> dict[int, float]:
        """Owner → dominant share, for owners with something running: the live dict, do not modify."""
        return self._share
