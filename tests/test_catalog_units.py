"""Unit conversions, checked by hand."""

from __future__ import annotations

import pytest

from huanghe.catalog.units import (
    ADVANCED_MEDIA,
    DEFAULT_PRECISION_FACTORS,
    STANDARD_RACK_KW,
    advanced_storage_share,
    compute_breakdown,
    compute_category,
    headline_precision,
    pool_fp32_equivalent_tflops,
    standard_racks,
    storage_capacity_eb,
)
from huanghe.domain.enums import CenterKind, CenterTier, Precision, StorageMedium, Temperature
from huanghe.domain.network import Center, EnergyProfile, PeakTflops, Pool, StorageTier


def _pool(cls: str, nodes: int = 10, **peak: float) -> Pool:
    return Pool(
        id=f"p-{cls}",
        accelerator_class=cls,
        nodes=nodes,
        cpus_per_node=64,
        gpus_per_node=0 if cls == "cpu" else 8,
        mem_gb_per_node=512,
        peak_tflops_per_node=PeakTflops(**peak),
        power_kw_per_node=1.0,
        price_cny_per_hour=10.0,
    )


def _center(cid: str, kind: CenterKind, pools: list[Pool]) -> Center:
    return Center(
        id=cid,
        name_zh="中心",
        name_en="Center",
        city="jinan",
        tier=CenterTier.PROVINCIAL,
        kind=kind,
        operator="x",
        lon=117.0,
        lat=36.6,
        it_design_kw=1000,
        energy=EnergyProfile(pue=1.3),
        pools=pools,
    )


def test_standard_racks() -> None:
    assert STANDARD_RACK_KW == 2.5
    assert standard_racks(250.0) == 100.0
    assert standard_racks(1000.0, kw_per_rack=4.0) == 250.0
    with pytest.raises(ValueError):
        standard_racks(10.0, kw_per_rack=0)


def test_default_factors() -> None:
    assert DEFAULT_PRECISION_FACTORS == {
        Precision.FP64: 2.0,
        Precision.FP32: 1.0,
        Precision.FP16: 0.5,
        Precision.INT8: 0.25,
    }


@pytest.mark.parametrize(
    ("kind", "cls", "precision", "category"),
    [
        (CenterKind.GENERAL, "cpu", Precision.FP32, "general"),
        (CenterKind.INTELLIGENT, "cpu", Precision.FP32, "general"),
        (CenterKind.GENERAL, "gpu", Precision.FP16, "intelligent"),
        (CenterKind.INTELLIGENT, "npu", Precision.FP16, "intelligent"),
        (CenterKind.INTELLIGENT, "dcu", Precision.FP16, "intelligent"),
        (CenterKind.SUPERCOMPUTING, "cpu", Precision.FP64, "supercomputing"),
        (CenterKind.SUPERCOMPUTING, "dcu", Precision.FP64, "supercomputing"),
        (CenterKind.SUPERCOMPUTING, "gpu", Precision.FP16, "intelligent"),
    ],
)
def test_headline_precision_and_category(
    kind: CenterKind, cls: str, precision: Precision, category: str
) -> None:
    pool = _pool(cls)
    assert headline_precision(kind, pool) is precision
    assert compute_category(kind, pool) == category


def test_pool_fp32_equivalent() -> None:
    # 10 nodes x 8 GPUs-worth of 2,000 TFLOPS FP16 per node x 0.5 = 10,000 TFLOPS FP32-eq.
    gpu = _pool("gpu", nodes=10, fp16=2000.0, fp32=400.0)
    assert pool_fp32_equivalent_tflops(CenterKind.INTELLIGENT, gpu) == pytest.approx(10_000.0)
    # 100 CPU nodes x 3 TFLOPS FP64 x 2.0 in a supercomputing center = 600.
    cpu = _pool("cpu", nodes=100, fp64=3.0, fp32=6.0)
    assert pool_fp32_equivalent_tflops(CenterKind.SUPERCOMPUTING, cpu) == pytest.approx(600.0)
    # same CPU nodes in a general center: FP32 x 1.0 = 600 as well, by the numbers chosen
    assert pool_fp32_equivalent_tflops(CenterKind.GENERAL, cpu) == pytest.approx(600.0)
    custom = {**DEFAULT_PRECISION_FACTORS, Precision.FP16: 1.0}
    assert pool_fp32_equivalent_tflops(CenterKind.INTELLIGENT, gpu, custom) == pytest.approx(20_000.0)


def test_compute_breakdown() -> None:
    general = _center("g", CenterKind.GENERAL, [_pool("cpu", nodes=1000, fp32=4.0)])  # 4,000 TF
    ai = _center("a", CenterKind.INTELLIGENT, [_pool("npu", nodes=500, fp16=2560.0)])  # 640,000 TF
    hpc = _center("h", CenterKind.SUPERCOMPUTING, [_pool("cpu", nodes=2000, fp64=89.0)])  # 356,000 TF
    b = compute_breakdown([general, ai, hpc])
    assert b.general_eflops == pytest.approx(0.004)
    assert b.intelligent_eflops == pytest.approx(0.64)
    assert b.supercomputing_eflops == pytest.approx(0.356)
    assert b.total_eflops == pytest.approx(1.0)
    assert b.intelligent_share == pytest.approx(0.64)
    empty = compute_breakdown([])
    assert empty.total_eflops == 0.0 and empty.intelligent_share == 0.0


def test_storage() -> None:
    tiers = [
        StorageTier(medium=StorageMedium.FLASH, temperature=Temperature.HOT, capacity_tb=300_000),
        StorageTier(medium=StorageMedium.HDD, temperature=Temperature.WARM, capacity_tb=600_000),
        StorageTier(medium=StorageMedium.OPTICAL, temperature=Temperature.COLD, capacity_tb=50_000),
        StorageTier(medium=StorageMedium.TAPE, temperature=Temperature.COLD, capacity_tb=50_000),
    ]
    assert storage_capacity_eb(tiers) == pytest.approx(1.0)
    assert advanced_storage_share(tiers) == pytest.approx(0.35)
    assert advanced_storage_share([]) == 0.0
    assert storage_capacity_eb([]) == 0.0
    assert frozenset({StorageMedium.FLASH, StorageMedium.OPTICAL}) == ADVANCED_MEDIA
