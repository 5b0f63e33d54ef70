"""Distances, the latency model and the latency circles (时延圈) of a network.

Latency model (FACTS.md §5): light in fiber covers about 1 km in 4.9 µs one way, so the estimated one-way
latency of a route is ``route_factor × great_circle_km × 0.0049 ms + hops × 0.05 ms``, with a route factor
of 1.2–1.5 (the policy ceiling is 1.5 × theoretical, our default). Measured values (``Link.latency_ms``)
always win over the estimate.

Latency circles (FACTS.md §1): two centers in the same city must be < 1 ms apart one way; two centers of the
same economic circle (region) < 3 ms; other pairs have no circle target.
"""

from __future__ import annotations

import math
from typing import Literal

import numpy as np
import numpy.typing as npt

from huanghe.domain.network import Center, Topology

EARTH_RADIUS_KM = 6371.0
#: One-way propagation delay in fiber, ms per km (4.9 µs/km).
FIBER_MS_PER_KM = 0.0049
#: Delay added per router hop, ms.
HOP_MS = 0.05
#: Default route factor: fiber route length / great-circle distance (policy ceiling).
DEFAULT_ROUTE_FACTOR = 1.5
#: Hops assumed for a pair of centers without a direct link (the ``Link.hops`` default).
DEFAULT_UNLINKED_HOPS = 2
#: Latency-circle targets, one-way ms.
CITY_LATENCY_TARGET_MS = 1.0
REGION_LATENCY_TARGET_MS = 3.0

LatencyCircle = Literal["city", "region"]
FloatMatrix = npt.NDArray[np.float64]


def haversine_km(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """Great-circle distance between two WGS-84 points (degrees), km, on a sphere of radius 6371 km."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp = p2 - p1
    dl = math.radians(lon2 - lon1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h)))


def distance_matrix_km(lons: npt.ArrayLike, lats: npt.ArrayLike) -> FloatMatrix:
    """Pairwise great-circle distances (km) of points given as arrays of degrees; shape ``(n, n)``.

    Computed in place: peak memory is about two ``n × n`` float64 arrays (1.6 GB at n = 10,000).
    """
    lon = np.radians(np.asarray(lons, dtype=np.float64))
    lat = np.radians(np.asarray(lats, dtype=np.float64))
    cos_lat = np.cos(lat)
    h = np.subtract.outer(lat, lat)
    h *= 0.5
    np.sin(h, out=h)
    np.square(h, out=h)
    dl = np.subtract.outer(lon, lon)
    dl *= 0.5
    np.sin(dl, out=dl)
    np.square(dl, out=dl)
    dl *= cos_lat[:, None]
    dl *= cos_lat[None, :]
    h += dl
    del dl
    np.sqrt(h, out=h)
    np.minimum(h, 1.0, out=h)
    np.arcsin(h, out=h)
    h *= 2 * EARTH_RADIUS_KM
    return h


def center_distance_km(a: Center, b: Center) -> float:
    """Great-circle distance between two centers, km."""
    return haversine_km(a.lon, a.lat, b.lon, b.lat)


def estimate_latency_ms(
    distance_km: float, route_factor: float = DEFAULT_ROUTE_FACTOR, hops: int = 0
) -> float:
    """Estimated one-way latency, ms: ``route_factor × distance_km × 0.0049 + hops × 0.05`` (FACTS.md §5)."""
    return route_factor * distance_km * FIBER_MS_PER_KM + hops * HOP_MS


def latency_matrix_ms(
    topology: Topology,
    route_factor: float = DEFAULT_ROUTE_FACTOR,
    unlinked_hops: int = DEFAULT_UNLINKED_HOPS,
) -> tuple[list[str], FloatMatrix]:
    """One-way latency between every pair of centers, ms, and the center ids indexing it.

    A pair joined by a :class:`~huanghe.domain.network.Link` with ``latency_ms`` gets that measured value;
    a linked pair without it gets the distance estimate with the link's ``hops``; an unlinked pair gets the
    estimate with ``unlinked_hops``. The diagonal is 0 and the matrix is symmetric.
    """
    ids = [c.id for c in topology.centers]
    index = {cid: i for i, cid in enumerate(ids)}
    dist = distance_matrix_km([c.lon for c in topology.centers], [c.lat for c in topology.centers])
    lat = dist  # reuse the distance array: the latency matrix is computed in place
    lat *= route_factor * FIBER_MS_PER_KM
    lat += unlinked_hops * HOP_MS
    for link in topology.links:
        i, j = index[link.a], index[link.b]
        if link.latency_ms is not None:
            value = link.latency_ms
        else:
            a, b = topology.centers[i], topology.centers[j]
            value = estimate_latency_ms(center_distance_km(a, b), route_factor, link.hops)
        lat[i, j] = lat[j, i] = value
    np.fill_diagonal(lat, 0.0)
    return ids, lat


def bandwidth_matrix_gbps(topology: Topology, default_gbps: float = 10.0) -> tuple[list[str], FloatMatrix]:
    """Bandwidth between every pair of centers, Gbps, and the center ids indexing it.

    A linked pair gets the link's ``bandwidth_gbps``; an unlinked pair gets ``default_gbps`` (the share of
    the shared backbone one transfer can expect); the diagonal (a center to itself) is ``inf``.
    """
    ids = [c.id for c in topology.centers]
    index = {cid: i for i, cid in enumerate(ids)}
    bw = np.full((len(ids), len(ids)), float(default_gbps), dtype=np.float64)
    for link in topology.links:
        i, j = index[link.a], index[link.b]
        bw[i, j] = bw[j, i] = link.bandwidth_gbps
    np.fill_diagonal(bw, np.inf)
    return ids, bw


def center_region(topology: Topology, center: Center) -> str:
    """Region (economic circle) id of a center, through its city."""
    return topology.city(center.city).region


def latency_circle(topology: Topology, a: Center | str, b: Center | str) -> LatencyCircle | None:
    """Which latency circle a pair of centers falls in: ``city``, ``region`` or None (no target)."""
    ca = topology.center(a) if isinstance(a, str) else a
    cb = topology.center(b) if isinstance(b, str) else b
    if ca.city == cb.city:
        return "city"
    if center_region(topology, ca) == center_region(topology, cb):
        return "region"
    return None


def latency_target_ms(topology: Topology, a: Center | str, b: Center | str) -> float | None:
    """The one-way latency target of a pair: 1 ms in a city, 3 ms in an economic circle, else None."""
    circle = latency_circle(topology, a, b)
    if circle == "city":
        return CITY_LATENCY_TARGET_MS
    if circle == "region":
        return REGION_LATENCY_TARGET_MS
    return None
