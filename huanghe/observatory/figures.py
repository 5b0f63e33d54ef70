"""Plain per-center figures: the one input every observatory calculation takes.

:class:`CenterFigures` is a flat, frozen record of what the observatory needs to know about one center
(capacity, compute, storage, network, energy). It is built from a topology by :func:`center_figures`;
telemetry can build the same records from measured data (e.g. a yearly PUE from energy sums) and feed the
same functions. :func:`snapshot_year` gives the network as it stood at the end of a year, from the centers'
``opened_year`` (a center without an opening year is taken to exist in every year).

Units are in the names: ``*_eflops`` FP32-equivalent EFLOPS (assumed factors, see ``huanghe.catalog.units``),
``*_eb`` exabytes (10^18 bytes), ``*_kw`` kW, ``egress_gbps`` Gbps, shares in [0, 1],
``grid_ef_kg_per_kwh`` kg CO₂ per kWh (= t/MWh).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

from huanghe.catalog.geo import latency_matrix_ms
from huanghe.catalog.units import (
    ADVANCED_MEDIA,
    advanced_storage_share,
    compute_breakdown,
    standard_racks,
    storage_capacity_eb,
)
from huanghe.domain.enums import Precision, StorageMedium
from huanghe.domain.network import Center, Topology

#: Media counted as archival (cold, long-term) storage for backup and maturity rules.
ARCHIVAL_MEDIA = frozenset({StorageMedium.TAPE, StorageMedium.OPTICAL})


@dataclass(frozen=True)
class CenterFigures:
    """What the observatory knows about one center. Optional fields are ``None`` when not reported."""

    id: str
    name_zh: str
    name_en: str
    city: str
    region: str
    lon: float
    lat: float
    tier: str
    kind: str
    opened_year: int | None
    it_design_kw: float
    standard_racks: float
    racks_in_use: float | None
    general_eflops: float
    intelligent_eflops: float
    supercomputing_eflops: float
    storage_eb: float
    advanced_storage_eb: float
    storage_used_eb: float
    storage_temperatures: frozenset[str]
    archival_storage_eb: float
    egress_gbps: float
    pon10g_port_share: float
    pue: float
    renewable_share: float
    grid_ef_kg_per_kwh: float
    wue_l_per_kwh: float | None = None
    utilisation: float | None = None
    security_level: int = 3
    illustrative: bool = True

    @property
    def total_eflops(self) -> float:
        return self.general_eflops + self.intelligent_eflops + self.supercomputing_eflops

    @property
    def advanced_storage_share(self) -> float:
        return self.advanced_storage_eb / self.storage_eb if self.storage_eb > 0 else 0.0


def figures_of(
    center: Center, region: str, factors: Mapping[Precision, float] | None = None
) -> CenterFigures:
    """Figures of one topology center (``region`` = id of its city's economic circle)."""
    compute = compute_breakdown([center], factors)
    storage_eb = storage_capacity_eb(center.storage)
    return CenterFigures(
        id=center.id,
        name_zh=center.name_zh,
        name_en=center.name_en,
        city=center.city,
        region=region,
        lon=center.lon,
        lat=center.lat,
        tier=center.tier.value,
        kind=center.kind.value,
        opened_year=center.opened_year,
        it_design_kw=center.it_design_kw,
        standard_racks=standard_racks(center.it_design_kw),
        racks_in_use=float(center.racks_in_use) if center.racks_in_use is not None else None,
        general_eflops=compute.general_eflops,
        intelligent_eflops=compute.intelligent_eflops,
        supercomputing_eflops=compute.supercomputing_eflops,
        storage_eb=storage_eb,
        advanced_storage_eb=storage_eb * advanced_storage_share(center.storage),
        storage_used_eb=sum(t.used_tb for t in center.storage) / 1e6,
        storage_temperatures=frozenset(t.temperature.value for t in center.storage if t.capacity_tb > 0),
        archival_storage_eb=storage_capacity_eb(t for t in center.storage if t.medium in ARCHIVAL_MEDIA),
        egress_gbps=center.egress_gbps,
        pon10g_port_share=center.pon10g_port_share,
        pue=center.energy.pue,
        renewable_share=center.energy.renewable_share,
        grid_ef_kg_per_kwh=center.energy.grid_emission_kg_per_kwh,
        wue_l_per_kwh=center.energy.wue_l_per_kwh,
        security_level=center.security_level,
        illustrative=center.illustrative,
    )


def center_figures(
    topology: Topology, factors: Mapping[Precision, float] | None = None
) -> list[CenterFigures]:
    """Figures of every center of a topology, in file order."""
    region_of_city = {c.id: c.region for c in topology.cities}
    return [figures_of(c, region_of_city[c.city], factors) for c in topology.centers]


def network_latencies(topology: Topology) -> tuple[dict[tuple[str, str], float], set[tuple[str, str]]]:
    """One-way latency of every center pair, ms, keyed ``(min id, max id)`` (``huanghe.catalog.geo``: measured
    link values, else the distance estimate), and the set of pairs whose value was measured."""
    ids, matrix = latency_matrix_ms(topology)
    out: dict[tuple[str, str], float] = {}
    for i, a in enumerate(ids):
        for j in range(i + 1, len(ids)):
            b = ids[j]
            out[(a, b) if a <= b else (b, a)] = float(matrix[i, j])
    measured = {
        (link.a, link.b) if link.a <= link.b else (link.b, link.a)
        for link in topology.links
        if link.latency_ms is not None
    }
    return out, measured


def snapshot_year(centers: Sequence[CenterFigures], year: int) -> list[CenterFigures]:
    """The centers open at the end of ``year`` (``opened_year`` ≤ year, or unknown)."""
    return [c for c in centers if c.opened_year is None or c.opened_year <= year]


def network_years(centers: Sequence[CenterFigures], last_year: int) -> list[int]:
    """Every year from the first known ``opened_year`` to ``last_year`` (just ``[last_year]`` if none)."""
    opened = [c.opened_year for c in centers if c.opened_year is not None and c.opened_year <= last_year]
    first = min(opened) if opened else last_year
    return list(range(first, last_year + 1))


def with_overrides(center: CenterFigures, **changes: object) -> CenterFigures:
    """A copy with some figures replaced (e.g. a measured yearly PUE from telemetry)."""
    return replace(center, **changes)  # type: ignore[arg-type]


__all__ = [
    "ADVANCED_MEDIA",
    "ARCHIVAL_MEDIA",
    "CenterFigures",
    "center_figures",
    "figures_of",
    "network_latencies",
    "network_years",
    "snapshot_year",
    "with_overrides",
]
