"""Build the calibrated ``shandong`` network: anchors + generated centers sized to the reported totals.

Rules (docs/shandong-calibration.md; everything per center is **illustrative**, only the totals are calibrated):

1. **Centers.** The named centers of ``shandong-mini`` are the anchors (kept: id, names, city, tier, kind,
   operator, place, opening year, PUE, renewable share, node models, data classes, security level, media).
   Generated centers fill each city up to :data:`CITY_CENTERS` (Jinan 33, Qingdao 48, Jining 47 as reported
   by one news report, FACTS.md §4; the others by city weight). Each center has a size class
   (:data:`DESIGN_RACKS`, log-uniform design racks); the classes and opening years are chosen so that exactly
   ``rated_centers`` (166) non-edge centers of ≥ 400 racks are open in 2024.
2. **Years.** A center's figures never change; the yearly growth is centers opened that year (cohorts 2023,
   2024, 2025; the rest opened 2008–2022). City hubs, region hubs and national centers all open before 2023.
3. **Racks in use** = design racks × utilisation; each cohort's utilisations are scaled by one factor so the
   yearly totals equal :data:`huanghe.catalog.reported.CALIBRATION` (base cohort: the 2023 total).
4. **Compute.** Pools get nodes in proportion to the center's design power (the compute fraction of its kind);
   per cohort and category (general / intelligent / supercomputing) one factor scales the nodes so the yearly
   EFLOPS (FP32-equivalent, assumed factors) match; Feicheng's 50 PFLOPS (public) is kept as is.
5. **Storage** = racks in use × national TB per rack, split hot flash / warm HDD / cold tape or optical
   (≤ 3 tiers per center); per cohort scaled to the yearly total.
6. **PUE** falls with the opening year (large centers opened since 2022 below 1.3, the 2021 opinion);
   the older generated centers are shifted by one constant so the 2025 design-kW-weighted PUE is 1.42.
"""

from __future__ import annotations

import math
import random
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, replace

from huanghe.catalog.hardware import NODE_MODELS, make_pool
from huanghe.catalog.places import SHANDONG_CITIES
from huanghe.catalog.reported import STORAGE_TB_PER_RACK, calibration_target
from huanghe.catalog.units import (
    DEFAULT_PRECISION_FACTORS,
    STANDARD_RACK_KW,
    ComputeCategory,
    compute_category,
    headline_precision,
)
from huanghe.domain.enums import CenterKind, CenterTier, DataClass, PueCategory, StorageMedium, Temperature
from huanghe.domain.network import Center, EnergyProfile, Pool, StorageTier

YEARS = (2023, 2024, 2025)
SEED = 14
#: Data centers per city in the 2025 network (Jinan, Qingdao, Jining: a reported count; others illustrative).
CITY_CENTERS: dict[str, int] = {
    "jinan": 33, "qingdao": 48, "jining": 47, "yantai": 26, "weifang": 26, "linyi": 22, "zibo": 18,
    "taian": 12, "liaocheng": 11, "dezhou": 14, "binzhou": 10, "dongying": 11, "weihai": 11, "rizhao": 10,
    "zaozhuang": 12, "heze": 13,
}  # fmt: skip
#: Design standard racks by size class, log-uniform (min, max).
DESIGN_RACKS: dict[str, tuple[float, float]] = {
    "large": (3000.0, 25000.0), "medium": (420.0, 3000.0), "small": (110.0, 380.0), "edge": (24.0, 100.0),
}  # fmt: skip
#: Generated centers opened in each new year by class (large, medium, small, edge); illustrative.
NEW_CENTERS: dict[int, tuple[int, int, int, int]] = {
    2023: (2, 8, 3, 8),
    2024: (3, 8, 3, 6),
    2025: (3, 11, 3, 5),
}
#: Share of generated centers by class in the base (≤ 2022) cohort besides the medium ones that make the count.
BASE_LARGE, BASE_SMALL_SHARE = 30, 0.45
#: Fraction of design power in compute nodes (general kind: CPU pools / accelerator pools; AI kind likewise).
COMPUTE_FRACTION: dict[CenterKind, tuple[float, float]] = {
    CenterKind.GENERAL: (0.30, 0.003), CenterKind.INTELLIGENT: (0.10, 0.05), CenterKind.SUPERCOMPUTING: (0.3, 0.02),
}  # fmt: skip
#: New centers (2023 on) put this many times more of their power into CPU nodes (denser builds; illustrative).
NEW_CPU_DENSITY = 1.6
#: Node models of generated centers by era of opening: (CPU models, accelerator models).
MODELS: tuple[tuple[int, tuple[str, ...], tuple[str, ...]], ...] = (
    (2016, ("xeon6248r", "hygon7285"), ("v100", "t4")),
    (2020, ("xeon6248r", "hygon7285", "kunpeng920", "xeon8358"), ("v100", "a100", "t4")),
    (2022, ("kunpeng920", "hygon7285", "xeon8358", "epyc7763"), ("a800", "ascend910b", "t4")),
    (2100, ("kunpeng920", "hygon7285", "epyc7763", "xeon8358"), ("ascend910b", "h20", "h800", "l20")),
)
OPERATORS = (
    ("cm", "China Mobile 中国移动", "中国移动"), ("ct", "China Telecom 中国电信", "中国电信"),
    ("cu", "China Unicom 中国联通", "中国联通"), ("inspur", "Inspur Cloud 浪潮云", "浪潮云"),
    ("ent", "Enterprise (illustrative) 企业（示意）", "企业"), ("gov", "Municipal big-data operator 市大数据运营单位", "市属"),
)  # fmt: skip
PRICE_FACTOR = {CenterTier.NATIONAL: 0.9, CenterTier.PROVINCIAL: 1.0, CenterTier.INDUSTRY: 1.05,
                CenterTier.EDGE: 1.2}  # fmt: skip
#: Utilisation range of a new center (opened in a cohort year) and of an older one, before scaling.
UTIL_NEW, UTIL_OLD = (0.3, 0.6), (0.55, 0.85)
FIXED_POOLS = {"feicheng-ai-ascend910b"}  # public size (50 PFLOPS), never scaled


def frac(key: str, lo: float, hi: float) -> float:
    """A deterministic value in [lo, hi) from ``key`` (CRC-32; no Python hash randomisation)."""
    return lo + (hi - lo) * (zlib.crc32(key.encode()) % 100_000) / 100_000


@dataclass(frozen=True)
class Spec:
    """A center before sizing: the anchor's or the generator's choices; ``size`` is the class."""

    base: Center
    size: str
    models: tuple[str, ...]
    design_racks: float = 0.0


def _anchor_size(c: Center) -> str:
    if c.tier == CenterTier.EDGE:
        return "edge"
    if c.tier == CenterTier.NATIONAL or (c.tier == CenterTier.PROVINCIAL and c.it_design_kw >= 1500):
        return "large"
    return "medium" if c.tier == CenterTier.PROVINCIAL or c.it_design_kw >= 100 else "small"


def _models(rng: random.Random, year: int, kind: CenterKind, size: str) -> tuple[str, ...]:
    cpus, accs = next((c, a) for until, c, a in MODELS if year <= until)
    if size == "edge":
        return ("t4",) if kind == CenterKind.INTELLIGENT else ("xeon4314",)
    n_cpu, n_acc = {"large": (2, 1), "medium": (1, 1), "small": (1, 0)}[size]
    if kind == CenterKind.INTELLIGENT:
        n_cpu, n_acc = 1, 2 if size == "large" else 1
    elif size == "medium" and rng.random() < 0.4:
        n_cpu, n_acc = 2, 0
    return tuple(rng.sample(cpus, n_cpu)) + tuple(rng.sample(accs, n_acc))


def _generated(rng: random.Random, anchors: Sequence[Center]) -> list[Spec]:
    """Generated centers: per city up to CITY_CENTERS, classes and years as in the module doc."""
    rated_target = int(calibration_target(2024, "rated_centers"))
    anchor_specs = [Spec(a, _anchor_size(a), ()) for a in anchors]
    rated_anchors = sum(
        s.size in ("large", "medium") and (s.base.opened_year or 0) <= 2024 for s in anchor_specs
    )
    new = [(y, cls) for y, counts in NEW_CENTERS.items() for cls, n in zip(
        ("large", "medium", "small", "edge"), counts, strict=True) for _ in range(n)]  # fmt: skip
    new_rated = sum(cls in ("large", "medium") for y, cls in new if y <= 2024)
    base_medium = rated_target - rated_anchors - new_rated - BASE_LARGE
    slots = sum(CITY_CENTERS.values()) - len(anchors) - len(new) - BASE_LARGE - base_medium
    assert base_medium > 0 and slots > 0, (base_medium, slots)
    n_small = round(slots * BASE_SMALL_SHARE)
    base = [(rng.randint(2008, 2022), cls) for cls, n in
            (("large", BASE_LARGE), ("medium", base_medium), ("small", n_small), ("edge", slots - n_small))
            for _ in range(n)]  # fmt: skip
    todo = base + new
    rng.shuffle(todo)
    # cities: fill each up to its count, in a deterministic round-robin weighted by remaining room
    room = dict(CITY_CENTERS)
    for a in anchors:
        room[a.city] -= 1
    city_of = {c.id: c for c in SHANDONG_CITIES}
    specs: list[Spec] = []
    counters: dict[str, int] = {}
    for year, size in todo:
        city_id = max(room, key=lambda k: (room[k] / CITY_CENTERS[k], k))
        room[city_id] -= 1
        city = city_of[city_id]
        n = counters[city_id] = counters.get(city_id, 0) + 1
        kind = (
            CenterKind.INTELLIGENT if rng.random() < (0.35 if year >= 2022 else 0.1) else CenterKind.GENERAL
        )
        tier = {"large": CenterTier.PROVINCIAL, "edge": CenterTier.EDGE}.get(size) or (
            CenterTier.INDUSTRY if rng.random() < 0.45 else CenterTier.PROVINCIAL
        )
        op_key, operator, op_zh = OPERATORS[rng.randrange(len(OPERATORS))]
        kind_zh = {CenterKind.INTELLIGENT: "智算中心", CenterKind.GENERAL: "数据中心"}[kind]
        if tier == CenterTier.EDGE:
            kind_zh = "边缘节点"
        cid = f"sd-{city_id}-{n:03d}"
        allowed = [DataClass.GENERAL]
        if tier != CenterTier.EDGE and rng.random() < 0.15:
            allowed.append(DataClass.IMPORTANT)
        new_center = year >= 2021
        renewable = round(rng.uniform(*((0.15, 0.35) if new_center else (0.03, 0.15))), 2)
        center = Center(
            id=cid,
            name_zh=f"{city.name_zh}{op_zh}{kind_zh} {n:03d}（示意）",
            name_en=f"{city.name_en} {op_key.upper()} {'edge node' if tier == CenterTier.EDGE else kind.value} "
            f"center {n:03d} (illustrative)",
            city=city_id,
            tier=tier,
            kind=kind,
            operator=operator,
            lon=round(city.lon + rng.uniform(-0.12, 0.12), 4),
            lat=round(city.lat + rng.uniform(-0.1, 0.1), 4),
            it_design_kw=0.0,
            opened_year=year,
            energy=EnergyProfile(pue=1.5, renewable_share=renewable),
            security_level=2 if tier == CenterTier.EDGE else 3,
            allowed_data_classes=allowed,
        )
        specs.append(Spec(center, size, _models(rng, year, kind, size)))
    return anchor_specs + specs


def _draw_design(specs: list[Spec], anchors_kw: dict[str, float]) -> list[Spec]:
    out = []
    for s in specs:
        lo, hi = DESIGN_RACKS[s.size]
        if s.base.tier == CenterTier.EDGE and s.base.id in anchors_kw:
            racks = anchors_kw[s.base.id] / STANDARD_RACK_KW
        else:
            racks = math.exp(frac(s.base.id + "/design", math.log(lo), math.log(hi)))
        out.append(replace(s, design_racks=round(racks)))
    # city hubs open before 2023: a newer center stays below 80 % of its city's largest older one
    biggest: dict[str, float] = {}
    for s in out:
        if (s.base.opened_year or 0) <= 2022:
            biggest[s.base.city] = max(biggest.get(s.base.city, 0.0), s.design_racks)
    floor = {"large": 3000.0, "medium": 420.0}
    return [
        replace(s, design_racks=max(floor.get(s.size, 0.0), min(s.design_racks, 0.8 * biggest[s.base.city])))
        if (s.base.opened_year or 0) > 2022
        else s
        for s in out
    ]


def _cohort(year: int | None) -> int:
    return 2022 if year is None or year <= 2022 else year


def _scale_to(values: dict[str, float], cohort_of: dict[str, int], targets: dict[int, float],
              fixed: dict[str, float] | None = None) -> dict[str, float]:  # fmt: skip
    """Scale ``values`` per cohort so each cohort sums to ``targets[cohort]`` (``fixed`` ones kept as is)."""
    fixed = fixed or {}
    out = dict(values)
    for cohort, target in targets.items():
        keys = [k for k in values if cohort_of[k] == cohort and k not in fixed]
        free = sum(values[k] for k in keys)
        rest = target - sum(v for k, v in fixed.items() if cohort_of[k] == cohort)
        if not keys and abs(rest) < 1e-6:
            continue  # nothing of this kind opened that year, and nothing was to
        assert free > 0 and rest > 0, (cohort, free, rest)
        for k in keys:
            out[k] = values[k] * rest / free
    return out


def yearly_targets(metric: str) -> dict[int, float]:
    """Calibration value per year of a total: any :data:`~huanghe.catalog.reported.CALIBRATION` metric, or
    ``general_tflops`` / ``intelligent_tflops`` / ``supercomputing_tflops`` (TFLOPS, FP32-eq) derived from the
    total, the intelligent share and the supercomputing constant."""
    out = {}
    for y in YEARS:
        total = calibration_target(y, "total_eflops") * 1e6
        intelligent = total * calibration_target(y, "intelligent_share")
        sc = calibration_target(y, "supercomputing_eflops") * 1e6
        derived = {"intelligent_tflops": intelligent, "supercomputing_tflops": sc,
                   "general_tflops": total - intelligent - sc}  # fmt: skip
        out[y] = derived[metric] if metric in derived else calibration_target(y, metric)
    return out


def _split_base(values: dict[str, float], cohort_of: dict[str, int], yearly: dict[int, float],
                fixed: dict[str, float] | None = None) -> dict[str, float]:  # fmt: skip
    """Cohorts 2022 and 2023 together make the 2023 total (the 2023 cohort keeps its natural size); the 2024
    and 2025 cohorts make the yearly increments. ``fixed`` values are never scaled."""
    fixed = fixed or {}
    natural_2023 = sum(v for k, v in {**values, **fixed}.items() if cohort_of[k] == 2023)
    targets = {2022: yearly[2023] - natural_2023, 2024: yearly[2024] - yearly[2023],
               2025: yearly[2025] - yearly[2024]}  # fmt: skip
    scaled = _scale_to(
        {k: v for k, v in values.items() if cohort_of[k] != 2023},
        cohort_of, targets, {k: v for k, v in fixed.items() if cohort_of[k] != 2023},
    )  # fmt: skip
    return {**values, **scaled, **fixed}


def _racks_in_use(specs: list[Spec], cohort_of: dict[str, int]) -> dict[str, int]:
    natural = {
        s.base.id: s.design_racks
        * frac(s.base.id + "/util", *(UTIL_NEW if cohort_of[s.base.id] > 2022 else UTIL_OLD))
        for s in specs
    }
    scaled = _split_base(natural, cohort_of, yearly_targets("racks_in_use"))
    out = {k: round(v) for k, v in scaled.items()}
    for s in specs:
        assert 0 < out[s.base.id] <= 0.95 * s.design_racks, (s.base.id, out[s.base.id], s.design_racks)
    return out


def _per_node_tflops(kind: CenterKind, pool: Pool) -> float:
    """FP32-equivalent TFLOPS of one node of ``pool`` in a center of ``kind`` (assumed factors)."""
    precision = headline_precision(kind, pool)
    return pool.peak_tflops_per_node.of(precision) * DEFAULT_PRECISION_FACTORS[precision]


def _pools(specs: list[Spec], cohort_of: dict[str, int], anchors: dict[str, Center]) -> dict[str, list[Pool]]:
    """Pools of every center with nodes scaled per cohort and compute category (module doc, rule 4)."""
    proto: dict[
        str, tuple[str, str, float, float]
    ] = {}  # pool id -> (center id, model, price factor, TFLOPS/node)
    cats: tuple[ComputeCategory, ...] = ("general", "intelligent", "supercomputing")
    natural: dict[ComputeCategory, dict[str, float]] = {k: {} for k in cats}
    fixed: dict[ComputeCategory, dict[str, float]] = {k: {} for k in cats}
    pool_cohort: dict[str, int] = {}
    for s in specs:
        c = s.base
        anchor = anchors.get(c.id)
        models = tuple(p.id.removeprefix(c.id + "-") for p in anchor.pools) if anchor else s.models
        accel = [m for m in models if NODE_MODELS[m].gpus_per_node]
        cpu = [m for m in models if not NODE_MODELS[m].gpus_per_node]
        f_cpu, f_acc = COMPUTE_FRACTION[c.kind]
        dense = NEW_CPU_DENSITY if cohort_of[c.id] > 2022 else 1.0
        kw = s.design_racks * STANDARD_RACK_KW
        for m in models:
            pid = f"{c.id}-{m}"
            one = make_pool(m, pid, 1)
            per_node = _per_node_tflops(c.kind, one)
            proto[pid] = (c.id, m, PRICE_FACTOR[c.tier], per_node)
            pool_cohort[pid] = cohort_of[c.id]
            cat = compute_category(c.kind, one)
            if pid in FIXED_POOLS and anchor is not None:
                fixed[cat][pid] = next(p.nodes for p in anchor.pools if p.id == pid) * per_node
                continue
            share = f_acc / len(accel) if m in accel else f_cpu * dense / max(1, len(cpu))
            natural[cat][pid] = kw * share / NODE_MODELS[m].power_kw_per_node * per_node
    nodes: dict[str, int] = {}
    for cat in cats:
        scaled = _split_base(natural[cat], pool_cohort, yearly_targets(f"{cat}_tflops"), fixed[cat])
        for pid, tflops in scaled.items():
            nodes[pid] = max(1, round(tflops / proto[pid][3]))
    out: dict[str, list[Pool]] = {}
    for pid, (cid, m, price, _) in proto.items():
        out.setdefault(cid, []).append(make_pool(m, pid, nodes[pid], price))
    return out


def _storage(specs: list[Spec], cohort_of: dict[str, int], in_use: dict[str, int],
             anchors: dict[str, Center]) -> dict[str, list[StorageTier]]:  # fmt: skip
    """Hot flash, warm HDD and (large, national and anchors with one) a cold tier, ≤ 3 tiers (rule 5)."""
    natural = {
        s.base.id: in_use[s.base.id] * STORAGE_TB_PER_RACK * frac(s.base.id + "/st", 0.7, 1.3) for s in specs
    }
    total = _split_base(natural, cohort_of, {y: v * 1e6 for y, v in yearly_targets("storage_eb").items()})
    out: dict[str, list[StorageTier]] = {}
    for s in specs:
        cid = s.base.id
        anchor = anchors.get(cid)
        media = {t.medium for t in anchor.storage} if anchor else set()
        if StorageMedium.OPTICAL in media or (
            not anchor and s.size == "large" and (s.base.opened_year or 0) >= 2020
        ):
            cold: StorageMedium | None = StorageMedium.OPTICAL
        elif StorageMedium.TAPE in media or (not anchor and s.size == "large"):
            cold = StorageMedium.TAPE
        else:
            cold = None
        split = ((StorageMedium.FLASH, 0.22), (StorageMedium.HDD, 0.5)) if cold else (
            (StorageMedium.FLASH, 0.3), (StorageMedium.HDD, 0.7))  # fmt: skip
        parts = [*split, (cold, 0.28)] if cold else list(split)
        temp = {StorageMedium.FLASH: Temperature.HOT, StorageMedium.HDD: Temperature.WARM}
        tiers = []
        for medium, share in parts:
            assert medium is not None
            tb = round(total[cid] * share)
            tiers.append(StorageTier(medium=medium, temperature=temp.get(medium, Temperature.COLD), capacity_tb=tb,
                                     used_tb=round(tb * frac(f"{cid}/{medium.value}", 0.4, 0.8))))  # fmt: skip
        out[cid] = tiers
    return out


def _pue(specs: list[Spec], anchors: dict[str, Center]) -> dict[str, float]:
    """Anchors keep theirs; generated: falling with the opening year, large new ones < 1.3; the older generated
    ones shifted by one constant so the 2025 design-kW-weighted PUE meets its target (rule 6)."""
    raw: dict[str, float] = {}
    for s in specs:
        cid, year = s.base.id, s.base.opened_year or 2015
        if cid in anchors:
            raw[cid] = anchors[cid].energy.pue
        elif s.size == "large" and year >= 2022:
            raw[cid] = frac(cid + "/pue", 1.18, 1.29)
        else:
            raw[cid] = (
                1.8
                - 0.03 * (year - 2008)
                + frac(cid + "/pue", -0.06, 0.06)
                + (0.05 if s.size == "edge" else 0)
            )
    kw = {s.base.id: s.design_racks for s in specs}
    movable = [
        s.base.id
        for s in specs
        if s.base.id not in anchors and (s.base.opened_year or 0) < (2022 if s.size == "large" else 2023)
    ]
    target = calibration_target(2025, "pue")
    delta = (target * sum(kw.values()) - sum(kw[k] * raw[k] for k in kw)) / sum(kw[k] for k in movable)
    return {k: round(min(1.95, max(1.12, v + delta)) if k in movable else v, 2) for k, v in raw.items()}


def build_centers(anchors: Sequence[Center]) -> list[Center]:
    """Every center of the calibrated network (anchors first, in their order, then generated by city)."""
    rng = random.Random(SEED)
    by_id = {a.id: a for a in anchors}
    specs = _draw_design(_generated(rng, anchors), {a.id: a.it_design_kw for a in anchors})
    cohort_of = {s.base.id: _cohort(s.base.opened_year) for s in specs}
    in_use = _racks_in_use(specs, cohort_of)
    pools = _pools(specs, cohort_of, by_id)
    storage = _storage(specs, cohort_of, in_use, by_id)
    pue = _pue(specs, by_id)
    egress = {"large": (1600, 3200), "medium": (200, 800), "small": (40, 100), "edge": (10, 40)}
    out = []
    for s in specs:
        c, cid = s.base, s.base.id
        kw = float(round(s.design_racks * STANDARD_RACK_KW, -1))
        pool_kw = sum(p.nodes * p.power_kw_per_node for p in pools[cid])
        assert pool_kw <= kw, (cid, pool_kw, kw)
        anchor = by_id.get(cid)
        energy = c.energy.model_copy(update={
            "pue": pue[cid], "grid_emission_kg_per_kwh": 0.6361,
            "pue_category": anchor.energy.pue_category if anchor else PUE_CATEGORY[s.size],
            "wue_l_per_kwh": anchor.energy.wue_l_per_kwh if anchor else WUE.get(s.size),
        })  # fmt: skip
        out.append(c.model_copy(update={
            "it_design_kw": kw,
            "racks_in_use": min(in_use[cid], int(kw / STANDARD_RACK_KW)),
            "energy": energy,
            "storage": storage[cid],
            "egress_gbps": anchor.egress_gbps if anchor else float(round(frac(cid + "/eg", *egress[s.size]), -1)),
            "pon10g_port_share": anchor.pon10g_port_share if anchor else round(frac(cid + "/pon", 0.3, 0.85), 2),
            "pools": pools[cid],
            "illustrative": True,
        }))  # fmt: skip
    return out


PUE_CATEGORY = {"large": PueCategory.ADVANCED, "medium": PueCategory.INTERMEDIATE, "small": PueCategory.BASIC,
                "edge": PueCategory.BASIC}  # fmt: skip
WUE = {"large": 1.5, "medium": 1.4}
