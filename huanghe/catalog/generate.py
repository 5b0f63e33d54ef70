"""Synthetic networks of any size on Shandong's map, for scale tests and what-if runs.

``generate_topology(centers, seed)`` is deterministic per ``(centers, seed, pools_per_center)``; the result
passes :func:`huanghe.catalog.topology.parse_topology`. Centers are spread over the 16 cities (within about
15 km of the seat, so same-city pairs stay inside the 1 ms circle), tiers and kinds follow fixed shares,
pools use the node models of :mod:`huanghe.catalog.hardware`, links the backbone of
:mod:`huanghe.catalog.backbone`. Every figure is illustrative.
"""

from __future__ import annotations

import random

from huanghe.catalog.backbone import backbone_links
from huanghe.catalog.hardware import NODE_MODELS, make_pool
from huanghe.catalog.places import SHANDONG_CITIES, SHANDONG_REGIONS
from huanghe.catalog.units import STANDARD_RACK_KW
from huanghe.domain.enums import CenterKind, CenterTier, DataClass, PueCategory, StorageMedium, Temperature
from huanghe.domain.network import Center, EnergyProfile, Pool, StorageTier, Topology

#: Relative weight of each city when placing centers (larger cities get more centers; illustrative).
CITY_WEIGHTS: dict[str, float] = {
    "jinan": 3.0, "qingdao": 3.5, "jining": 2.5, "yantai": 2.0, "weifang": 2.0, "linyi": 1.8, "zibo": 1.5,
    "taian": 1.0, "liaocheng": 1.0, "dezhou": 1.2, "binzhou": 0.8, "dongying": 0.9, "weihai": 0.9,
    "rizhao": 0.8, "zaozhuang": 1.0, "heze": 1.0,
}  # fmt: skip
TIER_WEIGHTS = {CenterTier.PROVINCIAL: 0.17, CenterTier.INDUSTRY: 0.3, CenterTier.EDGE: 0.53}
KIND_WEIGHTS = {CenterKind.GENERAL: 0.8, CenterKind.INTELLIGENT: 0.16, CenterKind.SUPERCOMPUTING: 0.04}
#: Node models drawn for a pool, by center kind.
MODELS_BY_KIND: dict[CenterKind, tuple[str, ...]] = {
    CenterKind.GENERAL: ("kunpeng920", "hygon7285", "xeon8358", "xeon6248r", "epyc7763", "t4", "l20"),
    CenterKind.INTELLIGENT: ("ascend910b", "a800", "h800", "h20", "l20", "kunpeng920"),
    CenterKind.SUPERCOMPUTING: ("xeon8358", "hygon7285", "z100", "epyc7763"),
}
#: Typical nodes per pool by tier (uniform range, inclusive), before the power budget of edge centers.
NODES_BY_TIER = {
    CenterTier.NATIONAL: (200, 1500),
    CenterTier.PROVINCIAL: (50, 800),
    CenterTier.INDUSTRY: (10, 200),
    CenterTier.EDGE: (2, 40),
}
EDGE_MAX_KW = 100 * STANDARD_RACK_KW
OPERATORS = (
    "China Mobile 中国移动",
    "China Telecom 中国电信",
    "China Unicom 中国联通",
    "Inspur 浪潮",
    "Enterprise 企业",
)


def _pools(rng: random.Random, cid: str, tier: CenterTier, kind: CenterKind, count: int) -> list[Pool]:
    lo, hi = NODES_BY_TIER[tier]
    models = rng.sample(MODELS_BY_KIND[kind], k=min(count, len(MODELS_BY_KIND[kind])))
    pools = []
    for j, key in enumerate(models):
        nodes = rng.randint(lo, hi)
        if NODE_MODELS[key].gpus_per_node:
            nodes = max(1, nodes // 8)  # accelerator pools: fewer, much bigger nodes
        if tier == CenterTier.EDGE:  # stay within 100 standard racks with the other pools
            budget_kw = 0.8 * EDGE_MAX_KW / len(models)
            nodes = max(1, min(nodes, int(budget_kw / NODE_MODELS[key].power_kw_per_node)))
        pools.append(make_pool(key, f"{cid}-p{j}", nodes, round(rng.uniform(0.85, 1.25), 2)))
    return pools


def _center(rng: random.Random, i: int, tier: CenterTier, pools_per_center: tuple[int, int]) -> Center:
    city = rng.choices(SHANDONG_CITIES, weights=[CITY_WEIGHTS[c.id] for c in SHANDONG_CITIES])[0]
    kind = (
        CenterKind.SUPERCOMPUTING
        if tier == CenterTier.NATIONAL
        else rng.choices(list(KIND_WEIGHTS), weights=list(KIND_WEIGHTS.values()))[0]
    )
    cid = f"c{i:05d}"
    pools = _pools(rng, cid, tier, kind, rng.randint(*pools_per_center))
    pool_kw = sum(p.nodes * p.power_kw_per_node for p in pools)
    it_kw = round(pool_kw * rng.uniform(1.2, 2.5), 1)
    if tier == CenterTier.EDGE:
        it_kw = min(EDGE_MAX_KW, max(pool_kw, it_kw))
    flash_tb = round(it_kw * rng.uniform(1.0, 6.0))
    hdd_tb = round(it_kw * rng.uniform(3.0, 12.0))
    storage = [
        StorageTier(medium=StorageMedium.FLASH, temperature=Temperature.HOT, capacity_tb=flash_tb),
        StorageTier(medium=StorageMedium.HDD, temperature=Temperature.WARM, capacity_tb=hdd_tb),
    ]
    if rng.random() < 0.1:
        medium = rng.choice((StorageMedium.TAPE, StorageMedium.OPTICAL))
        storage.append(StorageTier(medium=medium, temperature=Temperature.COLD, capacity_tb=hdd_tb))
    classes = [DataClass.GENERAL]
    if tier != CenterTier.EDGE and rng.random() < 0.15:
        classes.append(DataClass.IMPORTANT)
    return Center(
        id=cid,
        name_zh=f"合成算力中心 {i}",
        name_en=f"Synthetic center {i}",
        city=city.id,
        tier=tier,
        kind=kind,
        operator=rng.choice(OPERATORS),
        lon=round(city.lon + rng.uniform(-0.12, 0.12), 4),
        lat=round(city.lat + rng.uniform(-0.1, 0.1), 4),
        it_design_kw=it_kw,
        racks_in_use=int(it_kw / STANDARD_RACK_KW * rng.uniform(0.4, 0.9)),
        opened_year=rng.randint(2008, 2025),
        energy=EnergyProfile(
            pue=round(rng.uniform(1.15, 1.7), 2),
            pue_category=rng.choice(list(PueCategory)),
            renewable_share=round(rng.uniform(0.0, 0.5), 2),
        ),
        storage=storage,
        egress_gbps=float(rng.choice((40, 100, 200, 400, 800))),
        pon10g_port_share=round(rng.uniform(0.3, 0.85), 2),
        security_level=rng.randint(2, 4),
        allowed_data_classes=classes,
        pools=pools,
        illustrative=True,
    )


def generate_topology(centers: int, seed: int, pools_per_center: tuple[int, int] = (1, 3)) -> Topology:
    """A synthetic network of ``centers`` centers; ``pools_per_center`` is an inclusive (min, max) range.

    The first ``max(1, centers // 500)`` centers are national supercomputing centers (they and the three
    region hubs form the fully meshed core); the rest draw tier and kind from :data:`TIER_WEIGHTS` and
    :data:`KIND_WEIGHTS`.
    """
    if centers < 0:
        raise ValueError("centers must be >= 0")
    lo, hi = pools_per_center
    if not 1 <= lo <= hi:
        raise ValueError("pools_per_center must be (min, max) with 1 <= min <= max")
    rng = random.Random(seed)
    national = min(centers, max(1, centers // 500))
    tiers = [CenterTier.NATIONAL] * national + rng.choices(
        list(TIER_WEIGHTS), weights=list(TIER_WEIGHTS.values()), k=centers - national
    )
    built = [_center(rng, i, tier, (lo, hi)) for i, tier in enumerate(tiers)]
    return Topology(
        name=f"synthetic-{centers}-s{seed}",
        description=f"Synthetic network: {centers} centers, seed {seed} (合成网络)",
        note="Generated by huanghe.catalog.generate; every figure is illustrative (全部为示意数据).",
        regions=list(SHANDONG_REGIONS),
        cities=list(SHANDONG_CITIES),
        centers=built,
        links=backbone_links(built, SHANDONG_CITIES),
    )
