"""The network as the transfer service sees it: between two centers, the link kind, bandwidth and latency (to
rank sources and throttle copies), and what moving bytes costs (egress fen, energy Wh, carbon g).

Read from the stored topology (centers → city → economic circle, links) in three queries, refreshed by the
service every ``network_refresh_s``. A linked pair uses its link; an unlinked pair the ``unlinked_gbps``
backbone share and a latency estimated from the distance (:func:`huanghe.catalog.geo.estimate_latency_ms`
with two hops); two endpoints of one center ``in_center_gbps`` and no latency."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from huanghe.catalog.geo import DEFAULT_UNLINKED_HOPS, estimate_latency_ms, haversine_km
from huanghe.data.transfer_settings import TransferSettings
from huanghe.network.models import CenterRow, CityRow, LinkRow

#: Bytes per GB (decimal, as everywhere in the platform).
GB = 1e9
LINK_KINDS = ("in_center", "in_city", "in_circle", "cross_circle")


@dataclass(frozen=True)
class CenterInfo:
    """What the transfer service needs of a center: place and grid factor (kg CO2 per kWh)."""

    city: str
    circle: str
    lon: float
    lat: float
    grid_kg_per_kwh: float


@dataclass(frozen=True)
class LinkPath:
    """Between two centers: link ``kind``, ``gbps`` (the link, or the assumed default) and ``latency_ms``."""

    kind: str
    gbps: float
    latency_ms: float

    def estimate_s(self, size_bytes: int) -> float:
        """Seconds to move ``size_bytes`` over the whole bandwidth (latency + size / rate)."""
        return self.latency_ms / 1000.0 + size_bytes * 8.0 / (self.gbps * GB)


@dataclass(frozen=True)
class Charges:
    """What one transfer cost: egress ``cost_fen`` (integer fen), ``energy_wh``, ``carbon_g``."""

    cost_fen: int
    energy_wh: float
    carbon_g: float


class NetworkView:
    """Centers and links of the stored topology, for paths and charges (immutable once built)."""

    def __init__(self, centers: dict[str, CenterInfo], links: dict[tuple[str, str], tuple[float, float | None, int]],
                 settings: TransferSettings) -> None:  # fmt: skip
        self.centers = centers
        self.links = links  # (a, b) both orders → (bandwidth_gbps, latency_ms or None, hops)
        self.settings = settings

    @classmethod
    def load(cls, session: Session, settings: TransferSettings) -> NetworkView:
        """Read centers, cities and links (three queries)."""
        circles = dict(session.execute(select(CityRow.id, CityRow.region_id)).all())
        centers = {
            cid: CenterInfo(city, circles.get(city, ""), lon, lat, grid)
            for cid, city, lon, lat, grid in session.execute(
                select(CenterRow.id, CenterRow.city_id, CenterRow.lon, CenterRow.lat,
                       CenterRow.grid_emission_kg_per_kwh)
            )
        }  # fmt: skip
        links: dict[tuple[str, str], tuple[float, float | None, int]] = {}
        for a, b, gbps, lat, hops in session.execute(
            select(LinkRow.a_id, LinkRow.b_id, LinkRow.bandwidth_gbps, LinkRow.latency_ms, LinkRow.hops)
        ):
            links[(a, b)] = links[(b, a)] = (gbps, lat, hops)
        return cls(centers, links, settings)

    def kind(self, a: str, b: str) -> str:
        """Link kind between centers ``a`` and ``b`` (unknown centers count as cross-circle)."""
        if a == b:
            return "in_center"
        ca, cb = self.centers.get(a), self.centers.get(b)
        if ca is None or cb is None:
            return "cross_circle"
        if ca.city == cb.city:
            return "in_city"
        return "in_circle" if ca.circle == cb.circle else "cross_circle"

    def path(self, a: str, b: str) -> LinkPath:
        """The path from center ``a`` to ``b`` (see the module docstring for unlinked pairs)."""
        kind = self.kind(a, b)
        if a == b:
            return LinkPath(kind, self.settings.in_center_gbps, 0.0)
        link = self.links.get((a, b))
        ca, cb = self.centers.get(a), self.centers.get(b)
        dist = haversine_km(ca.lon, ca.lat, cb.lon, cb.lat) if ca is not None and cb is not None else 500.0
        if link is None:
            return LinkPath(
                kind, self.settings.unlinked_gbps, estimate_latency_ms(dist, hops=DEFAULT_UNLINKED_HOPS)
            )
        gbps, lat, hops = link
        return LinkPath(kind, gbps, lat if lat is not None else estimate_latency_ms(dist, hops=hops))

    def rate_bytes_s(self, a: str, b: str) -> float:
        """Bytes per second transfers from ``a`` to ``b`` may use together: bandwidth × 10^9 / 8 × share."""
        return self.path(a, b).gbps * GB / 8.0 * self.settings.link_share

    def charges(self, source_center: str, dest_center: str, size_bytes: int) -> Charges:
        """Egress cost (fen, rounded), energy (Wh) and carbon (g, grid factor of the source center)."""
        gb = size_bytes / GB
        cost = round(gb * self.settings.price_fen_per_gb(self.kind(source_center, dest_center)))
        energy = gb * self.settings.energy_wh_per_gb
        src = self.centers.get(source_center)
        carbon = energy * (src.grid_kg_per_kwh if src is not None else 0.0)
        return Charges(int(cost), energy, carbon)
