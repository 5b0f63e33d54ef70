"""Conversions between network ORM rows and domain / public models (no queries, no commits)."""

from __future__ import annotations

from typing import Any

from huanghe.domain.network import Center, City, EnergyProfile, Link, PeakTflops, Pool, Region, StorageTier
from huanghe.network.models import CenterRow, CityRow, LinkRow, PoolRow, RegionRow, StorageTierRow
from huanghe.network.schemas import CenterPublic, CityPublic, LinkPublic, PoolPublic, RegionPublic


def region_dict(row: RegionRow) -> dict[str, Any]:
    return {"id": row.id, "name_zh": row.name_zh, "name_en": row.name_en}


def city_dict(row: CityRow) -> dict[str, Any]:
    return {
        "id": row.id, "name_zh": row.name_zh, "name_en": row.name_en, "region": row.region_id,
        "lon": row.lon, "lat": row.lat,
    }  # fmt: skip


def pool_dict(row: PoolRow) -> dict[str, Any]:
    return {
        "id": row.id,
        "name": row.name,
        "accelerator": row.accelerator,
        "accelerator_class": row.accelerator_class,
        "cpu_model": row.cpu_model,
        "nodes": row.nodes,
        "cpus_per_node": row.cpus_per_node,
        "gpus_per_node": row.gpus_per_node,
        "mem_gb_per_node": row.mem_gb_per_node,
        "peak_tflops_per_node": {
            "fp64": row.fp64_tflops_per_node,
            "fp32": row.fp32_tflops_per_node,
            "fp16": row.fp16_tflops_per_node,
            "int8": row.int8_tops_per_node,
        },
        "power_kw_per_node": row.power_kw_per_node,
        "price_cny_per_hour": row.price_cny_per_hour,
        "speed": dict(row.speed or {}),
        "backend": row.backend,
        "backend_settings": dict(row.backend_settings or {}),
        "illustrative": row.illustrative,
        "default_time_limit_s": row.default_time_limit_s,
        "max_time_limit_s": row.max_time_limit_s,
    }


def center_dict(row: CenterRow, *, with_pools: bool = True) -> dict[str, Any]:
    """A center as a dict; ``with_pools`` adds its pools (ordered by position)."""
    out: dict[str, Any] = {
        "id": row.id,
        "name_zh": row.name_zh,
        "name_en": row.name_en,
        "city": row.city_id,
        "tier": row.tier,
        "kind": row.kind,
        "operator": row.operator,
        "lon": row.lon,
        "lat": row.lat,
        "it_design_kw": row.it_design_kw,
        "racks_in_use": row.racks_in_use,
        "opened_year": row.opened_year,
        "energy": {
            "pue": row.pue,
            "pue_category": row.pue_category,
            "renewable_share": row.renewable_share,
            "grid_emission_kg_per_kwh": row.grid_emission_kg_per_kwh,
            "wue_l_per_kwh": row.wue_l_per_kwh,
        },
        "storage": [
            {
                "medium": t.medium,
                "temperature": t.temperature,
                "capacity_tb": t.capacity_tb,
                "used_tb": t.used_tb,
            }
            for t in row.storage
        ],
        "egress_gbps": row.egress_gbps,
        "pon10g_port_share": row.pon10g_port_share,
        "security_level": row.security_level,
        "allowed_data_classes": list(row.allowed_data_classes or []),
        "exporters": list(row.exporters or []),
        "illustrative": row.illustrative,
    }
    if with_pools:
        out["pools"] = [pool_dict(p) for p in row.pools]
    return out


def link_dict(row: LinkRow) -> dict[str, Any]:
    return {
        "a": row.a_id, "b": row.b_id, "bandwidth_gbps": row.bandwidth_gbps, "latency_ms": row.latency_ms,
        "hops": row.hops,
    }  # fmt: skip


def region_public(row: RegionRow) -> RegionPublic:
    return RegionPublic.model_validate(region_dict(row))


def city_public(row: CityRow) -> CityPublic:
    return CityPublic.model_validate(city_dict(row))


def center_public(row: CenterRow) -> CenterPublic:
    return CenterPublic.model_validate(center_dict(row))


def pool_public(row: PoolRow) -> PoolPublic:
    return PoolPublic.model_validate({**pool_dict(row), "center": row.center_id})


def link_public(row: LinkRow) -> LinkPublic:
    return LinkPublic.model_validate({**link_dict(row), "id": row.id})


def apply_region(row: RegionRow, region: Region) -> None:
    row.id, row.name_zh, row.name_en = region.id, region.name_zh, region.name_en


def apply_city(row: CityRow, city: City) -> None:
    row.id, row.name_zh, row.name_en = city.id, city.name_zh, city.name_en
    row.region_id, row.lon, row.lat = city.region, city.lon, city.lat


def _apply_energy(row: CenterRow, energy: EnergyProfile) -> None:
    row.pue = energy.pue
    row.pue_category = energy.pue_category.value
    row.renewable_share = energy.renewable_share
    row.grid_emission_kg_per_kwh = energy.grid_emission_kg_per_kwh
    row.wue_l_per_kwh = energy.wue_l_per_kwh


def apply_center(row: CenterRow, center: Center) -> None:
    """Set the center's columns and replace its storage tiers (pools are not touched)."""
    row.id, row.name_zh, row.name_en, row.city_id = center.id, center.name_zh, center.name_en, center.city
    row.tier, row.kind, row.operator = center.tier.value, center.kind.value, center.operator
    row.lon, row.lat, row.it_design_kw = center.lon, center.lat, center.it_design_kw
    row.racks_in_use, row.opened_year = center.racks_in_use, center.opened_year
    _apply_energy(row, center.energy)
    row.egress_gbps, row.pon10g_port_share = center.egress_gbps, center.pon10g_port_share
    row.security_level = center.security_level
    row.allowed_data_classes = [c.value for c in center.allowed_data_classes]
    row.exporters = list(center.exporters)
    row.illustrative = center.illustrative
    row.storage = [_storage_row(t, i) for i, t in enumerate(center.storage)]


def _storage_row(tier: StorageTier, position: int) -> StorageTierRow:
    return StorageTierRow(
        medium=tier.medium.value,
        temperature=tier.temperature.value,
        capacity_tb=tier.capacity_tb,
        used_tb=tier.used_tb,
        position=position,
    )


def _apply_peak(row: PoolRow, peak: PeakTflops) -> None:
    row.fp64_tflops_per_node, row.fp32_tflops_per_node = peak.fp64, peak.fp32
    row.fp16_tflops_per_node, row.int8_tops_per_node = peak.fp16, peak.int8


def apply_pool(row: PoolRow, pool: Pool, center_id: str) -> None:
    row.id, row.center_id, row.name = pool.id, center_id, pool.name
    row.accelerator, row.accelerator_class, row.cpu_model = (
        pool.accelerator,
        pool.accelerator_class,
        pool.cpu_model,
    )
    row.nodes, row.cpus_per_node, row.gpus_per_node = pool.nodes, pool.cpus_per_node, pool.gpus_per_node
    row.mem_gb_per_node = pool.mem_gb_per_node
    _apply_peak(row, pool.peak_tflops_per_node)
    row.power_kw_per_node, row.price_cny_per_hour = pool.power_kw_per_node, pool.price_cny_per_hour
    row.speed = {k.value: v for k, v in pool.speed.items()}
    row.backend, row.backend_settings = pool.backend, dict(pool.backend_settings)
    row.illustrative = pool.illustrative
    row.default_time_limit_s, row.max_time_limit_s = pool.default_time_limit_s, pool.max_time_limit_s


def apply_link(row: LinkRow, link: Link) -> None:
    row.a_id, row.b_id, row.bandwidth_gbps = link.a, link.b, link.bandwidth_gbps
    row.latency_ms, row.hops = link.latency_ms, link.hops
