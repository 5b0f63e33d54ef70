"""What a job uses of a pool: its node share and its billed node-hours — the ONE formula behind both the
broker's estimates (:mod:`huanghe.broker.estimates`, vectorised over jobs × pools) and metering
(:func:`huanghe.billing.service.meter_job`, one finished job), so a job's estimate, its ``jobs show`` cost,
its usage row and its invoice line are computed the same way.

* ``share`` = the dominant share of one node the job asks for: the largest of ``cpus / cpus_per_node``,
  ``gpus / gpus_per_node`` and ``mem_gb / mem_gb_per_node`` (requests per node; a zero request counts 0),
  capped at 1; ``inf`` when a request exceeds the node (the job cannot run there);
* ``node_hours`` = ``nodes × share × seconds / 3600`` (billed node-hours); cost = node-hour price ×
  node_hours, IT energy = node power (kW) × node_hours, facility energy = IT energy × PUE, carbon = facility
  energy × intensity.

Both take plain floats or NumPy arrays (broadcast together) and return the same kind; ``billed_node_hours``
also takes Decimals.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, TypeVar

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
Num = TypeVar("Num", float, FloatArray)
Amount = TypeVar("Amount", float, Decimal, npt.NDArray[Any])

#: Tolerance of "a request exactly fills the node" (float noise in per-node sizes).
FIT_EPS = 1e-9


def node_share(
    cpus: Num, gpus: Num, mem_gb: Num, cpus_per_node: Num, gpus_per_node: Num, mem_gb_per_node: Num
) -> Num:
    """Dominant share (0…1) of one node asked for by a request per node of ``cpus`` cores, ``gpus``
    accelerators and ``mem_gb`` GB in a pool whose nodes have ``cpus_per_node`` / ``gpus_per_node`` /
    ``mem_gb_per_node``; ``inf`` where the request exceeds the node (see the module docstring)."""
    share = np.zeros(np.broadcast(cpus, gpus, mem_gb, cpus_per_node, gpus_per_node, mem_gb_per_node).shape)
    for req, per in ((cpus, cpus_per_node), (gpus, gpus_per_node), (mem_gb, mem_gb_per_node)):
        r, p = np.asarray(req, dtype=np.float64), np.asarray(per, dtype=np.float64)
        with np.errstate(divide="ignore", invalid="ignore"):
            frac = np.where(r > 0, r / p, 0.0)
        share = np.maximum(share, frac)
    out = np.where(share > 1.0 + FIT_EPS, np.inf, np.minimum(share, 1.0))
    return float(out) if out.ndim == 0 else out  # type: ignore[return-value]


def billed_node_hours(nodes: Amount, share: Amount, seconds: Amount) -> Amount:
    """Node-hours billed for ``nodes`` nodes each used at ``share`` for ``seconds`` (exact in
    :class:`~decimal.Decimal` when given Decimals, as metering does for money)."""
    return nodes * share * seconds / 3600
