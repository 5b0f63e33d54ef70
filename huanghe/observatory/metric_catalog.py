"""The catalogue of telemetry metrics: name → unit, valid range and what the sample's subject is.

| metric | unit | range | subject |
|---|---|---|---|
| ``utilisation`` | ``ratio`` | 0–1 | '' (whole center) or a pool id |
| ``it_power_kw`` | ``kW`` | ≥ 0 | '' (whole center) or a pool id |
| ``facility_power_kw`` | ``kW`` | ≥ 0 | '' (the center) |
| ``pue`` | ``ratio`` | 1–5 | '' (the center) |
| ``renewable_share`` | ``ratio`` | 0–1 | '' (the center) |
| ``water_l`` | ``L`` | ≥ 0 | '' (the center): site water used since the previous sample, litres |
| ``storage_used_tb`` | ``TB`` | ≥ 0 | a storage tier of the center, ``medium/temperature`` (``flash/hot``) |
| ``link_latency_ms`` | ``ms`` | ≥ 0 | the peer center id (one-way latency from the center to the peer) |

A sample is ``(center, metric, subject, time, value, unit)``; its unit must be the metric's unit exactly.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

SubjectKind = Literal["center", "center_or_pool", "tier", "peer"]
SOURCES: tuple[str, ...] = ("push", "scrape", "simulated")


@dataclass(frozen=True)
class Metric:
    """One metric: its unit, closed valid range [minimum, maximum] and the kind of subject it names."""

    name: str
    unit: str
    subject: SubjectKind
    minimum: float = 0.0
    maximum: float = math.inf
    description: str = ""


METRICS: dict[str, Metric] = {
    m.name: m
    for m in (
        Metric("utilisation", "ratio", "center_or_pool", 0.0, 1.0, "share of capacity in use (利用率)"),
        Metric("it_power_kw", "kW", "center_or_pool", description="IT power draw (IT 功率)"),
        Metric("facility_power_kw", "kW", "center", description="whole-facility power draw (总功率)"),
        Metric("pue", "ratio", "center", 1.0, 5.0, "power usage effectiveness, facility / IT"),
        Metric("renewable_share", "ratio", "center", 0.0, 1.0, "share of renewable energy (REF)"),
        Metric("water_l", "L", "center", description="site water used since the previous sample, litres"),
        Metric("storage_used_tb", "TB", "tier", description="storage used in a tier medium/temperature"),
        Metric("link_latency_ms", "ms", "peer", description="one-way latency to the peer center"),
    )
}


def tier_key(medium: str, temperature: str) -> str:
    """The subject of a storage tier: ``medium/temperature``."""
    return f"{medium}/{temperature}"


def check_value(metric: Metric, value: float) -> str | None:
    """Why ``value`` is not acceptable for ``metric`` (None when it is)."""
    if not math.isfinite(value):
        return "must be a finite number"
    if value < metric.minimum:
        return f"must be >= {metric.minimum:g} {metric.unit}"
    if value > metric.maximum:
        return f"must be <= {metric.maximum:g} {metric.unit}"
    return None
