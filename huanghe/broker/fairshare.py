"""Dominant-resource fairness (DRF, Ghodsi et al., NSDI 2011) between owners (users or tenants): the one
fair-share implementation of Huanghe.

An owner's dominant share is the largest, over resource kinds, of (what the owner's running jobs hold)
/ (capacity of that kind). Two callers keep one :class:`DominantShares` up to date as jobs start and end:

* the queue order ``drf`` of a single cluster (:mod:`huanghe.broker.cluster_queue`; one kind, cores) serves
  the owner with the smallest dominant share first, oldest job first within an owner;
* the multi-center simulator (:mod:`huanghe.sim.network_sim`; kinds cores and GPUs of the whole network)
  hands the tenants' shares to the ``huanghe`` placement policy (``CycleContext.tenant_share``), whose queue
  order blends them with the jobs' age.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt


class DominantShares:
    """Running usage per owner over resource kinds with fixed capacities (e.g. cores, GPUs).

    Owners are integers (indices); amounts and capacities are in the same unit per kind.
    """

    def __init__(self, capacities: Sequence[float]) -> None:
        if not capacities or any(c <= 0 for c in capacities):
            raise ValueError("every resource capacity must be > 0")
        self._cap = [float(c) for c in capacities]
        self._usage: dict[int, list[float]] = {}
        self._share: dict[int, float] = {}

    def _dominant(self, usage: list[float]) -> float:
        return max(u / c for u, c in zip(usage, self._cap, strict=True))

    def add(self, owner: int, demand: Sequence[float]) -> None:
        """The owner started a job holding ``demand`` (one amount per resource kind)."""
        usage = self._usage.setdefault(owner, [0.0] * len(self._cap))
        for k, amount in enumerate(demand):
            usage[k] += amount
        self._share[owner] = self._dominant(usage)

    def remove(self, owner: int, demand: Sequence[float]) -> None:
        """A job of the owner holding ``demand`` ended. An owner whose usage is back to exactly zero is
        forgotten (a rounding remainder of fractional amounts is kept, as it was summed)."""
        usage = self._usage[owner]
        for k, amount in enumerate(demand):
            usage[k] -= amount
        if all(u == 0.0 for u in usage):
            del self._usage[owner]
            self._share.pop(owner, None)
        else:
            self._share[owner] = self._dominant(usage)

    def share(self, owner: int) -> float:
        """Dominant share in [0, 1] (0 for an owner with nothing running)."""
        return self._share.get(owner, 0.0)

    @property
    def shares(self) -> dict[int, float]:
        """Owner → dominant share, for owners with something running: the live dict, do not modify."""
        return self._share

    def vector(self, n_owners: int) -> npt.NDArray[np.float64]:
        """Dominant shares of owners ``0 .. n_owners - 1`` as an array (0 for those with nothing running)."""
        out = np.zeros(n_owners, dtype=np.float64)
        for owner, share in self._share.items():
            if 0 <= owner < n_owners:
                out[owner] = share
        return out
