"""Measured inputs of the comprehensive compute index: what the platform's own records say about a center in a
year (telemetry, storage endpoints, transfers, backups, jobs, bills), passed in as plain values.

Pure: the regulator's service (:mod:`huanghe.regulator.index_inputs`) reads the database and builds one
:class:`CenterMeasures` per center and year; this module only aggregates them per entity. A field is ``None``
when it was not measured (no record of that kind in that year); the entity's indicator is then NaN, which the
index treats as neutral. A measured zero (records exist on the platform, none for this center) is 0.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from huanghe.observatory.figures import CenterFigures

#: Keys of the indicators computed from measured inputs (the rest come from the declared topology).
MEASURED_KEYS: tuple[str, ...] = (
    "utilisation",
    "billed_cny_per_pflops",
    "storage_used_share",
    "offsite_backup_share",
    "transfer_tb",
    "jobs_finished",
    "job_success_rate",
    "job_wait_share",
    "tenants_served",
    "smes_served",
)
#: Indicators that use a measured value where there is one and the declared value elsewhere.
MIXED_KEYS: tuple[str, ...] = ("pue",)


@dataclass(frozen=True)
class CenterMeasures:
    """One center's measured figures in one year; ``None`` = not measured.

    * ``utilisation``: time-weighted mean of the ``utilisation`` telemetry (0–1);
    * ``pue``: Σ facility power / Σ IT power of the telemetry (ratio ≥ 1);
    * ``storage_used_bytes`` / ``storage_capacity_bytes``: bytes stored on / usable on the center's storage
      endpoints (a stock: known for the current year only);
    * ``protected_datasets`` / ``protected_offsite``: important/core datasets homed at the center, and those
      with a verified copy outside its city (a stock, current year only);
    * ``transfer_bytes``: bytes of finished transfers between this and another center (sent + received);
    * ``jobs_succeeded`` / ``jobs_failed``: jobs that ended in the year at the center;
    * ``jobs_started`` / ``jobs_started_in_target``: jobs started in the year, and those whose wait
      (start − submit) was within the wait target;
    * ``billed_cny``: money billed for usage at the center in the year (CNY);
    * ``tenants`` / ``sme_tenants``: tenants (and those that are SMEs) with usage or jobs at the center.
    """

    utilisation: float | None = None
    pue: float | None = None
    storage_used_bytes: int | None = None
    storage_capacity_bytes: int | None = None
    protected_datasets: int | None = None
    protected_offsite: int | None = None
    transfer_bytes: int | None = None
    jobs_succeeded: int | None = None
    jobs_failed: int | None = None
    jobs_started: int | None = None
    jobs_started_in_target: int | None = None
    billed_cny: float | None = None
    tenants: frozenset[str] | None = None
    sme_tenants: frozenset[str] | None = None


def _sum(values: Sequence[float | int | None]) -> float | None:
    """Σ of the measured values; None when none is measured."""
    got = [float(v) for v in values if v is not None]
    return sum(got) if got else None


def _ratio(num: float | None, den: float | None) -> float:
    return num / den if num is not None and den is not None and den > 0 else math.nan


def _union(sets: Sequence[frozenset[str] | None]) -> float:
    got = [s for s in sets if s is not None]
    return float(len(frozenset().union(*got))) if got else math.nan


def effective_pue(center: CenterFigures, measures: Mapping[str, CenterMeasures]) -> float:
    """The measured PUE of a center where measured, its declared design PUE otherwise."""
    m = measures.get(center.id)
    return m.pue if m is not None and m.pue is not None else center.pue


def measured_values(
    members: Sequence[CenterFigures], measures: Mapping[str, CenterMeasures]
) -> dict[str, float]:
    """The measured indicators of an entity (its member centers); NaN where nothing was measured.

    ``utilisation`` is weighted by IT design power; ``billed_cny_per_pflops`` is Σ billed CNY / Σ peak PFLOPS
    (FP32-eq) of the members; shares are ratios of the sums; ``transfer_tb`` is in TB (10¹² bytes)."""
    ms = [(c, measures[c.id]) for c in members if c.id in measures]
    util = [(m.utilisation, c.it_design_kw) for c, m in ms if m.utilisation is not None]
    util_w = sum(w for _, w in util)
    billed = _sum([m.billed_cny for _, m in ms])
    pflops = sum(c.total_eflops for c in members) * 1000.0
    succeeded = _sum([m.jobs_succeeded for _, m in ms])
    failed = _sum([m.jobs_failed for _, m in ms])
    finished = None if succeeded is None and failed is None else (succeeded or 0.0) + (failed or 0.0)
    transfer = _sum([m.transfer_bytes for _, m in ms])
    return {
        "utilisation": (
            sum(u * w for u, w in util) / util_w
            if util_w > 0
            else (sum(u for u, _ in util) / len(util) if util else math.nan)
        ),
        "billed_cny_per_pflops": _ratio(billed, pflops),
        "storage_used_share": _ratio(
            _sum([m.storage_used_bytes for _, m in ms]), _sum([m.storage_capacity_bytes for _, m in ms])
        ),
        "offsite_backup_share": _ratio(
            _sum([m.protected_offsite for _, m in ms]), _sum([m.protected_datasets for _, m in ms])
        ),
        "transfer_tb": math.nan if transfer is None else transfer / 1e12,
        "jobs_finished": math.nan if finished is None else finished,
        "job_success_rate": _ratio(succeeded, finished),
        "job_wait_share": _ratio(
            _sum([m.jobs_started_in_target for _, m in ms]), _sum([m.jobs_started for _, m in ms])
        ),
        "tenants_served": _union([m.tenants for _, m in ms]),
        "smes_served": _union([m.sme_tenants for _, m in ms]),
    }


def coverage(centers: Sequence[CenterFigures], measures: Mapping[str, CenterMeasures]) -> dict[str, int]:
    """Per measured (or mixed) indicator, how many of ``centers`` have a measured input in the year."""
    probe = {
        "utilisation": lambda m: m.utilisation,
        "billed_cny_per_pflops": lambda m: m.billed_cny,
        "storage_used_share": lambda m: m.storage_capacity_bytes,
        "offsite_backup_share": lambda m: m.protected_datasets,
        "transfer_tb": lambda m: m.transfer_bytes,
        "jobs_finished": lambda m: m.jobs_succeeded,
        "job_success_rate": lambda m: m.jobs_succeeded,
        "job_wait_share": lambda m: m.jobs_started,
        "tenants_served": lambda m: m.tenants,
        "smes_served": lambda m: m.sme_tenants,
        "pue": lambda m: m.pue,
    }
    return {
        key: sum(1 for c in centers if c.id in measures and get(measures[c.id]) is not None)
        for key, get in probe.items()
    }
