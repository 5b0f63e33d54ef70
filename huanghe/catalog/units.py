"""Unit conversions of the plan's indicators: standard racks, FP32-equivalent compute, storage.

Conventions (see /work/shared/reference/FACTS.md §2 and docs/topology.md):

* **Standard rack** (标准机架) = 2.5 kW of IT design power. This is a widely used convention, an
  **assumption**: it was not verified in an official text. ``standard_racks = it_kw / 2.5``.
* **Compute** (计算力) is quoted per category in its own precision: general compute (通用算力, CPU) in FP32,
  intelligent compute (智能算力, GPU/NPU/DCU accelerators) in FP16, supercomputing (超算) in FP64. Totals are
  summed in **FP32-equivalent** using a factor table. No official conversion exists, so the default factors
  (FP64 ×2.0, FP32 ×1.0, FP16 ×0.5, INT8 ×0.25) are **assumed** and must be labelled
  "FP32-equivalent (assumed factors)" wherever shown; pass your own ``factors`` to change them.
* **Advanced storage** (先进存储) = flash and optical media; its share is advanced capacity / total capacity.

Units: TFLOPS = 10^12 FLOP/s, EFLOPS = 10^18 FLOP/s (1 EFLOPS = 10^6 TFLOPS); TB = 10^12 bytes,
EB = 10^18 bytes (1 EB = 10^6 TB).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Literal

from huanghe.domain.enums import CenterKind, Precision, StorageMedium
from huanghe.domain.network import Center, Pool, StorageTier

#: IT design power of one standard rack, kW (convention; **assumption**, FACTS.md §2).
STANDARD_RACK_KW = 2.5

#: Label to show next to any FP32-equivalent figure.
FP32_EQUIVALENT_LABEL = "FP32-equivalent (assumed factors) / FP32 等效（假定折算系数）"

#: FP32-equivalent (assumed factors): multiply a peak in the given precision by this to get FP32-equivalent.
DEFAULT_PRECISION_FACTORS: dict[Precision, float] = {
    Precision.FP64: 2.0,
    Precision.FP32: 1.0,
    Precision.FP16: 0.5,
    Precision.INT8: 0.25,
}

#: Storage media that count as advanced storage (先进存储).
ADVANCED_MEDIA: frozenset[StorageMedium] = frozenset({StorageMedium.FLASH, StorageMedium.OPTICAL})

ComputeCategory = Literal["general", "intelligent", "supercomputing"]

TFLOPS_PER_EFLOPS = 1_000_000.0
TB_PER_EB = 1_000_000.0

_ACCELERATOR_CLASSES = frozenset({"gpu", "npu", "dcu"})


def standard_racks(it_kw: float, kw_per_rack: float = STANDARD_RACK_KW) -> float:
    """Number of standard racks for ``it_kw`` kW of IT design power (2.5 kW each by default, an assumption)."""
    if kw_per_rack <= 0:
        raise ValueError("kw_per_rack must be > 0")
    return it_kw / kw_per_rack


def headline_precision(center_kind: CenterKind, pool: Pool) -> Precision:
    """The precision a pool's compute is counted in.

    Rule: in a supercomputing center, CPU and DCU pools are supercomputing compute, counted in FP64;
    otherwise any accelerator pool (``accelerator_class`` gpu / npu / dcu) is intelligent compute, counted in
    FP16; every other (CPU) pool is general compute, counted in FP32.
    """
    cls = pool.accelerator_class
    if center_kind == CenterKind.SUPERCOMPUTING and cls in ("cpu", "dcu"):
        return Precision.FP64
    if cls in _ACCELERATOR_CLASSES:
        return Precision.FP16
    return Precision.FP32


_CATEGORY: dict[Precision, ComputeCategory] = {
    Precision.FP64: "supercomputing",
    Precision.FP16: "intelligent",
    Precision.FP32: "general",
}


def compute_category(center_kind: CenterKind, pool: Pool) -> ComputeCategory:
    """``general`` / ``intelligent`` / ``supercomputing``, following :func:`headline_precision`."""
    return _CATEGORY[headline_precision(center_kind, pool)]


def pool_fp32_equivalent_tflops(
    center_kind: CenterKind, pool: Pool, factors: Mapping[Precision, float] | None = None
) -> float:
    """FP32-equivalent peak of a whole pool, TFLOPS: nodes × headline peak per node × factor (assumed)."""
    table = DEFAULT_PRECISION_FACTORS if factors is None else factors
    precision = headline_precision(center_kind, pool)
    return pool.nodes * pool.peak_tflops_per_node.of(precision) * table[precision]


@dataclass(frozen=True)
class ComputeBreakdown:
    """Compute of a set of centers in FP32-equivalent EFLOPS (assumed factors), per category.

    ``intelligent_share`` = intelligent / total, 0 when total is 0.
    """

    general_eflops: float
    intelligent_eflops: float
    supercomputing_eflops: float
    total_eflops: float
    intelligent_share: float


def compute_breakdown(
    centers: Iterable[Center], factors: Mapping[Precision, float] | None = None
) -> ComputeBreakdown:
    """Sum the FP32-equivalent compute of every pool of ``centers`` by category, in EFLOPS."""
    sums: dict[ComputeCategory, float] = {"general": 0.0, "intelligent": 0.0, "supercomputing": 0.0}
    for center in centers:
        for pool in center.pools:
            sums[compute_category(center.kind, pool)] += pool_fp32_equivalent_tflops(
                center.kind, pool, factors
            )
    general, intelligent, supercomputing = (
        sums["general"] / TFLOPS_PER_EFLOPS,
        sums["intelligent"] / TFLOPS_PER_EFLOPS,
        sums["supercomputing"] / TFLOPS_PER_EFLOPS,
    )
    total = general + intelligent + supercomputing
    return ComputeBreakdown(
        general_eflops=general,
        intelligent_eflops=intelligent,
        supercomputing_eflops=supercomputing,
        total_eflops=total,
        intelligent_share=intelligent / total if total > 0 else 0.0,
    )


def storage_capacity_eb(tiers: Iterable[StorageTier]) -> float:
    """Total capacity of storage tiers, EB (10^18 bytes)."""
    return sum(t.capacity_tb for t in tiers) / TB_PER_EB


def advanced_storage_share(tiers: Iterable[StorageTier]) -> float:
    """Share of capacity on advanced media (flash, optical), in [0, 1]; 0 when there is no capacity."""
    total = 0.0
    advanced = 0.0
    for t in tiers:
        total += t.capacity_tb
        if t.medium in ADVANCED_MEDIA:
            advanced += t.capacity_tb
    return advanced / total if total > 0 else 0.0
