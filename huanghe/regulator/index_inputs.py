"""The measured inputs of the comprehensive compute index, read from the platform's own records, one
:class:`~huanghe.observatory.index_measures.CenterMeasures` per center and calendar year (UTC):

* telemetry: time-weighted mean ``utilisation`` and measured PUE (Σ facility kW / Σ IT kW, hourly rollups);
* jobs (``jobs``): succeeded / failed jobs that ended in the year, jobs started in the year and those that
  waited at most :data:`WAIT_TARGET_S` seconds (start − submit);
* billing (``billing_usage``): money billed for usage that ended in the year (fen → CNY);
* tenants served: distinct tenants with a job or a bill at the center in the year, and those that are SMEs
  (``tenants.is_sme``);
* transfers (``transfers``, state ``done``): bytes finished in the year between two different centers, counted
  at both ends (sent + received);
* stocks, known only for the current year (the year of ``now``): bytes used / usable on the center's storage
  endpoints, and the important/core datasets homed at the center with a verified copy outside its city
  (:func:`huanghe.data.backup.offsite_status`).

A kind of record the platform has none of in a year is *not measured* (``None`` → NaN → neutral in the
index); when it has some, a center without any gets a measured 0.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from huanghe.billing.models import UsageRow
from huanghe.data import backup
from huanghe.data.models import DataFileRow, DatasetRow, StorageEndpointRow, TransferRow
from huanghe.domain.enums import JobState
from huanghe.jobs.models import JobRow
from huanghe.observatory.index_measures import CenterMeasures
from huanghe.telemetry import service as telemetry
from huanghe.telemetry.models import TelemetrySampleRow
from huanghe.tenancy.models import TenantRow

#: A job "started on time" waited at most this long between submission and start (seconds). ASSUMPTION: one
#: hour, an illustrative service-level target (docs/index-method.md §2).
WAIT_TARGET_S = 3600.0


@dataclass(frozen=True)
class MeasuredInputs:
    """Measures per year and center, and whether any telemetry sample used was simulated."""

    by_year: dict[int, dict[str, CenterMeasures]] = field(default_factory=dict)
    simulated: bool = False


def year_bounds_s(year: int) -> tuple[float, float]:
    """[1 January 00:00 UTC of ``year``, 1 January of ``year`` + 1) in epoch seconds."""
    start = datetime(year, 1, 1, tzinfo=UTC).timestamp()
    return start, datetime(year + 1, 1, 1, tzinfo=UTC).timestamp()


def _telemetry(session: Session, t0: float, t1: float) -> tuple[dict[str, float], dict[str, float]]:
    a, b = int(t0 * 1000), int(t1 * 1000)
    util = telemetry.weighted_means(session, "utilisation", a, b)
    it = telemetry.weighted_means(session, "it_power_kw", a, b)
    fac = telemetry.weighted_means(session, "facility_power_kw", a, b)
    pue = {c: fac[c] / it[c] for c in it if c in fac and it[c] > 0 and fac[c] >= it[c]}
    return {c: min(1.0, max(0.0, v)) for c, v in util.items()}, pue


def _jobs(session: Session, t0: float, t1: float, wait_target_s: float) -> dict[str, dict[str, int]] | None:
    ended = session.execute(
        select(JobRow.center_id, JobRow.state, func.count())
        .where(JobRow.center_id.is_not(None), JobRow.ended_s >= t0, JobRow.ended_s < t1,
               JobRow.state.in_((JobState.SUCCEEDED.value, JobState.FAILED.value)))
        .group_by(JobRow.center_id, JobRow.state)
    ).all()  # fmt: skip
    on_time = case((JobRow.started_s - JobRow.submit_s <= wait_target_s, 1), else_=0)
    started = session.execute(
        select(JobRow.center_id, func.count(), func.sum(on_time))
        .where(JobRow.center_id.is_not(None), JobRow.started_s >= t0, JobRow.started_s < t1)
        .group_by(JobRow.center_id)
    ).all()  # fmt: skip
    if not ended and not started:
        return None
    out: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for center, state, n in ended:
        out[str(center)]["succeeded" if state == JobState.SUCCEEDED.value else "failed"] += int(n)
    for center, n, n_on_time in started:
        out[str(center)]["started"] += int(n)
        out[str(center)]["on_time"] += int(n_on_time or 0)
    return out


def _tenants(session: Session, t0: float, t1: float) -> dict[str, set[str]]:
    """Tenants with a job (started or ended in the year) or a bill at each center."""
    jobs = session.execute(
        select(JobRow.center_id, JobRow.tenant_id).distinct()
        .where(JobRow.center_id.is_not(None), JobRow.tenant_id.is_not(None),
               ((JobRow.started_s >= t0) & (JobRow.started_s < t1)) | ((JobRow.ended_s >= t0) & (JobRow.ended_s < t1)))
    ).all()  # fmt: skip
    bills = session.execute(
        select(UsageRow.center_id, UsageRow.tenant_id).distinct().where(UsageRow.ended_s >= t0, UsageRow.ended_s < t1)
    ).all()  # fmt: skip
    out: dict[str, set[str]] = defaultdict(set)
    for center, tenant in [*jobs, *bills]:
        out[str(center)].add(str(tenant))
    return out


def _billed(session: Session, t0: float, t1: float) -> dict[str, float] | None:
    rows = session.execute(
        select(UsageRow.center_id, func.sum(UsageRow.cost_fen))
        .where(UsageRow.ended_s >= t0, UsageRow.ended_s < t1).group_by(UsageRow.center_id)
    ).all()  # fmt: skip
    return {str(c): int(v or 0) / 100.0 for c, v in rows} if rows else None


def _transfers(session: Session, t0: float, t1: float, home: dict[str, str]) -> dict[str, int] | None:
    rows = session.execute(
        select(TransferRow.source_endpoint_id, TransferRow.dest_endpoint_id, func.sum(TransferRow.bytes))
        .where(TransferRow.state == "done", TransferRow.finished_s >= t0, TransferRow.finished_s < t1)
        .group_by(TransferRow.source_endpoint_id, TransferRow.dest_endpoint_id)
    ).all()  # fmt: skip
    if not rows:
        return None
    out: dict[str, int] = defaultdict(int)
    for src, dst, n in rows:
        a, b = home.get(str(src)), home.get(str(dst))
        if a is not None and b is not None and a != b:
            out[a] += int(n or 0)
            out[b] += int(n or 0)
    return out


def _storage(session: Session) -> dict[str, tuple[int, int]]:
    rows = session.execute(
        select(StorageEndpointRow.center_id, func.sum(StorageEndpointRow.used_bytes),
               func.sum(StorageEndpointRow.capacity_bytes)).group_by(StorageEndpointRow.center_id)
    ).all()  # fmt: skip
    return {str(c): (int(u or 0), int(cap or 0)) for c, u, cap in rows}


def _offsite(session: Session) -> dict[str, tuple[int, int]]:
    """Per home center: (important/core datasets holding files, those with a verified off-site copy)."""
    status = backup.offsite_status(session, scope="city")
    if status.datasets == 0:
        return {}
    has_files = select(DataFileRow.dataset_id).where(DataFileRow.state == "available").distinct()
    rows = session.execute(
        select(DatasetRow.id, DatasetRow.center_id)
        .where(DatasetRow.data_class.in_(backup.PROTECTED_CLASSES), DatasetRow.id.in_(has_files))
    ).all()  # fmt: skip
    missing = set(status.missing)
    out: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for ds, center in rows:
        out[str(center)][0] += 1
        out[str(center)][1] += 0 if ds in missing else 1
    return {c: (v[0], v[1]) for c, v in out.items()}


def _year_of(epoch_s: float) -> int:
    return datetime.fromtimestamp(epoch_s, tz=UTC).year


def measured_inputs(
    session: Session,
    years: Sequence[int],
    centers: Sequence[str],
    now_s: float | None = None,
    wait_target_s: float = WAIT_TARGET_S,
) -> MeasuredInputs:
    """The measures of ``centers`` (ids) in each of ``years`` from the platform's records (see the module)."""
    now = time.time() if now_s is None else now_s
    home = {
        str(e): str(c)
        for e, c in session.execute(select(StorageEndpointRow.id, StorageEndpointRow.center_id))
    }
    sme = {str(t) for t in session.scalars(select(TenantRow.id).where(TenantRow.is_sme.is_(True)))}
    by_year: dict[int, dict[str, CenterMeasures]] = {}
    for year in years:
        t0, t1 = year_bounds_s(year)
        util, pue = _telemetry(session, t0, t1)
        jobs = _jobs(session, t0, t1, wait_target_s)
        billed = _billed(session, t0, t1)
        moved = _transfers(session, t0, t1, home)
        tenants = _tenants(session, t0, t1) if jobs is not None or billed is not None else None
        current = year == _year_of(now)
        storage = _storage(session) if current else {}
        offsite = _offsite(session) if current else {}
        got: dict[str, CenterMeasures] = {}
        for c in centers:
            j = None if jobs is None else jobs.get(c, {})
            t = None if tenants is None else frozenset(tenants.get(c, set()))
            m = CenterMeasures(
                utilisation=util.get(c), pue=pue.get(c),
                storage_used_bytes=storage[c][0] if c in storage else None,
                storage_capacity_bytes=storage[c][1] if c in storage else None,
                protected_datasets=offsite[c][0] if c in offsite else None,
                protected_offsite=offsite[c][1] if c in offsite else None,
                transfer_bytes=None if moved is None else moved.get(c, 0),
                jobs_succeeded=None if j is None else j.get("succeeded", 0),
                jobs_failed=None if j is None else j.get("failed", 0),
                jobs_started=None if j is None else j.get("started", 0),
                jobs_started_in_target=None if j is None else j.get("on_time", 0),
                billed_cny=None if billed is None else billed.get(c, 0.0),
                tenants=t, sme_tenants=None if t is None else frozenset(t & sme),
            )  # fmt: skip
            if m != CenterMeasures():
                got[c] = m
        if got:
            by_year[year] = got
    simulated = bool(by_year) and (
        session.scalar(
            select(TelemetrySampleRow.id)
            .where(TelemetrySampleRow.source == "simulated",
                   TelemetrySampleRow.time_ms >= int(year_bounds_s(min(by_year))[0] * 1000))
            .limit(1)
        ) is not None
    )  # fmt: skip
    return MeasuredInputs(by_year, simulated)
