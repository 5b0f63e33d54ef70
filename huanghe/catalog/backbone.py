"""A hub-and-spoke backbone of links for a set of centers (used by the bundled and the synthetic networks).

Rules: each city's hub is its largest center (IT design power, then id); each region's hub is given or else
its largest center. The backbone core (region hubs and national-tier centers) is a full mesh at 1,600 Gbps;
every city hub joins its region hub (800 Gbps); every other center joins its city hub and its region hub
(bandwidth by tier). Links carry no ``latency_ms`` (estimated from distance) unless given in ``measured``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from huanghe.domain.enums import CenterTier
from huanghe.domain.network import Center, City, Link

CORE_GBPS = 1600.0
CITY_HUB_TO_REGION_HUB_GBPS = 800.0
#: Bandwidth of a center's link to its city hub / region hub, Gbps, by the center's tier.
ACCESS_GBPS: dict[CenterTier, tuple[float, float]] = {
    CenterTier.NATIONAL: (800.0, 400.0),
    CenterTier.PROVINCIAL: (400.0, 200.0),
    CenterTier.INDUSTRY: (200.0, 100.0),
    CenterTier.EDGE: (100.0, 40.0),
}


def _largest(centers: Iterable[Center]) -> str:
    return min(centers, key=lambda c: (-c.it_design_kw, c.id)).id


def city_hubs(centers: Sequence[Center]) -> dict[str, str]:
    """City id → id of its hub center (largest IT design power, ties broken by id)."""
    by_city: dict[str, list[Center]] = {}
    for c in centers:
        by_city.setdefault(c.city, []).append(c)
    return {city: _largest(cs) for city, cs in by_city.items()}


def backbone_links(
    centers: Sequence[Center],
    cities: Sequence[City],
    region_hubs: Mapping[str, str] | None = None,
    measured: Mapping[tuple[str, str], float] | None = None,
) -> list[Link]:
    """Links of the backbone (see module doc); ``measured`` maps ``(a, b)`` to a measured one-way ms."""
    region_of_city = {c.id: c.region for c in cities}
    by_region: dict[str, list[Center]] = {}
    for c in centers:
        by_region.setdefault(region_of_city[c.city], []).append(c)
    rhubs = {r: _largest(cs) for r, cs in by_region.items()}
    rhubs.update(region_hubs or {})
    chubs = city_hubs(centers)
    measured_ms = {frozenset(k): v for k, v in (measured or {}).items()}
    links: dict[frozenset[str], Link] = {}

    def add(a: str, b: str, gbps: float, hops: int) -> None:
        key = frozenset((a, b))
        if a != b and key not in links:
            links[key] = Link(a=a, b=b, bandwidth_gbps=gbps, hops=hops, latency_ms=measured_ms.get(key))

    core = sorted(set(rhubs.values()) | {c.id for c in centers if c.tier == CenterTier.NATIONAL})
    for i, a in enumerate(core):
        for b in core[i + 1 :]:
            add(a, b, CORE_GBPS, 1)
    for city, hub in sorted(chubs.items()):
        add(hub, rhubs[region_of_city[city]], CITY_HUB_TO_REGION_HUB_GBPS, 1)
    for c in centers:
        to_city, to_region = ACCESS_GBPS[c.tier]
        add(c.id, chubs[c.city], to_city, 1)
        add(c.id, rhubs[region_of_city[c.city]], to_region, 2)
    return list(links.values())
