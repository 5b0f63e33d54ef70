"""Telemetry use cases: validate and store pushed samples, read raw or rolled-up series, downsample,
apply retention, and the figures the alert rules need.

**Batch rule**: a pushed batch is all or nothing. Every sample is checked; if any is wrong the whole batch
is refused (422) with *every* problem listed at ``samples[i].field``; nothing is stored.

Checks per sample (the metric catalogue is :mod:`huanghe.observatory.metric_catalog`): the metric is known; the
unit is exactly the metric's unit; the center exists; the subject fits the metric (``pool`` of that center
for pool metrics, ``tier`` ``medium/temperature`` of that center for storage, ``peer`` another existing
center for latency, none otherwise); the value is finite and in range; the time is not later than now +
``future_tolerance_s``. A time without a zone is UTC.

Rollups: 5-minute buckets are computed from the raw samples, hourly buckets from the 5-minute ones
(mean weighted by count), so hourly rollups survive the raw retention. Recomputing a range replaces it.
Maintenance re-rolls the last two hours; a pushed batch with older (late or backfilled) samples has its
series rolled up over their range at once.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy import func, insert, inspect, select, text
from sqlalchemy.orm import Session

from huanghe.core.errors import FieldError, InvalidError, format_loc, humanize
from huanghe.domain.network import ID_PATTERN
from huanghe.network.models import CenterRow, PoolRow, StorageTierRow
from huanghe.observatory.alert_rules import SeriesKey
from huanghe.observatory.generator import GeneratedSample
from huanghe.observatory.metric_catalog import METRICS, check_value, tier_key
from huanghe.telemetry.models import TelemetryRollupRow, TelemetrySampleRow
from huanghe.telemetry.rollup import floor_ms, rollup

S = TelemetrySampleRow
R = TelemetryRollupRow
STEPS_S: dict[str, int] = {"5m": 300, "1h": 3600}
MAX_READ_POINTS = 10_000
#: Samples older than this when pushed are rolled up at once (maintenance re-rolls only the last 2 hours).
LATE_AFTER_MS = 2 * 3_600_000


def to_ms(when: datetime) -> int:
    """Milliseconds since the epoch; a naive datetime is taken as UTC."""
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return round(when.timestamp() * 1000)


def from_ms(time_ms: int) -> datetime:
    return datetime.fromtimestamp(time_ms / 1000, tz=UTC)


# ---------------------------------------------------------------- schemas


class SampleIn(BaseModel):
    """One pushed sample. ``value`` in ``unit`` (which must be the metric's unit); ``time`` UTC if no zone."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    center: str = Field(pattern=ID_PATTERN, max_length=64)
    metric: str = Field(min_length=1, max_length=64)
    time: datetime
    value: float = Field(
        description="in ``unit``; must be finite and in the metric's range (checked with the rest)"
    )
    unit: str = Field(min_length=1, max_length=16)
    pool: str | None = Field(default=None, pattern=ID_PATTERN, max_length=64)
    tier: str | None = Field(default=None, max_length=64, description="storage tier medium/temperature")
    peer: str | None = Field(default=None, pattern=ID_PATTERN, max_length=64)
    source: Literal["push", "simulated"] = "push"


class IngestSummary(BaseModel):
    accepted: int


class TelemetryPoint(BaseModel):
    """A raw sample (``value``) or a rollup bucket starting at ``time`` (``mean``, ``min``, ``max``, ``count``)."""

    center: str
    subject: str
    time: datetime
    value: float | None = None
    mean: float | None = None
    min: float | None = None
    max: float | None = None
    count: int | None = None
    source: str


class TelemetrySeries(BaseModel):
    metric: str
    unit: str
    step: str
    simulated: bool = Field(description="true when any point comes from the generator (source simulated)")
    truncated: bool
    points: list[TelemetryPoint]


# ---------------------------------------------------------------- validation and ingest


class _Catalog:
    """The ids a batch may refer to, loaded once per batch."""

    def __init__(self, session: Session) -> None:
        self.centers = set(session.scalars(select(CenterRow.id)))
        self.pools: dict[str, str] = dict(session.execute(select(PoolRow.id, PoolRow.center_id)).all())
        self.tiers: set[tuple[str, str]] = {
            (c, tier_key(m, t))
            for c, m, t in session.execute(
                select(StorageTierRow.center_id, StorageTierRow.medium, StorageTierRow.temperature)
            )
        }


def _subject_errors(sample: SampleIn, cat: _Catalog, where: str) -> tuple[str, list[FieldError]]:
    metric = METRICS[sample.metric]
    given = {k: getattr(sample, k) for k in ("pool", "tier", "peer") if getattr(sample, k) is not None}
    allowed = {"center_or_pool": {"pool"}, "tier": {"tier"}, "peer": {"peer"}, "center": set()}[
        metric.subject
    ]
    errors = [
        FieldError(f"{where}.{k}", f"not allowed for metric {sample.metric!r}")
        for k in given
        if k not in allowed
    ]
    subject = ""
    if metric.subject == "center_or_pool" and sample.pool is not None:
        subject = sample.pool
        if cat.pools.get(sample.pool) != sample.center:
            errors.append(
                FieldError(f"{where}.pool", f"unknown pool {sample.pool!r} in center {sample.center!r}")
            )
    elif metric.subject == "tier":
        subject = sample.tier or ""
        if sample.tier is None:
            errors.append(
                FieldError(f"{where}.tier", f"is required for {sample.metric} (medium/temperature)")
            )
        elif (sample.center, sample.tier) not in cat.tiers:
            errors.append(
                FieldError(f"{where}.tier", f"center {sample.center!r} has no storage tier {sample.tier!r}")
            )
    elif metric.subject == "peer":
        subject = sample.peer or ""
        if sample.peer is None:
            errors.append(FieldError(f"{where}.peer", f"is required for {sample.metric} (peer center id)"))
        elif sample.peer not in cat.centers or sample.peer == sample.center:
            errors.append(FieldError(f"{where}.peer", f"unknown peer center {sample.peer!r}"))
    return subject, errors


def validate_samples(
    session: Session,
    samples: Sequence[tuple[int, SampleIn]],
    now_ms: int,
    future_tolerance_s: float,
) -> tuple[list[dict[str, Any]], list[FieldError]]:
    """Rows ready to insert for the valid samples, and the problems of the others (paths ``samples[i].x``,
    ``i`` the position given with each sample)."""
    cat = _Catalog(session)
    rows: list[dict[str, Any]] = []
    errors: list[FieldError] = []
    latest_ms = now_ms + int(future_tolerance_s * 1000)
    for i, sample in samples:
        where = f"samples[{i}]"
        metric = METRICS.get(sample.metric)
        if metric is None:
            errors.append(
                FieldError(
                    f"{where}.metric", f"unknown metric {sample.metric!r} (known: {', '.join(METRICS)})"
                )
            )
            continue
        mine: list[FieldError] = []
        if sample.unit != metric.unit:
            mine.append(
                FieldError(f"{where}.unit", f"must be {metric.unit!r} for {metric.name}, not {sample.unit!r}")
            )
        if sample.center not in cat.centers:
            mine.append(FieldError(f"{where}.center", f"unknown center {sample.center!r}"))
            subject = ""
        else:
            subject, subject_errors = _subject_errors(sample, cat, where)
            mine.extend(subject_errors)
        problem = check_value(metric, sample.value)
        if problem:
            mine.append(FieldError(f"{where}.value", problem))
        time_ms = to_ms(sample.time)
        if time_ms > latest_ms:
            mine.append(
                FieldError(f"{where}.time", f"is in the future (more than {future_tolerance_s:g} s ahead)")
            )
        if mine:
            errors.extend(mine)
            continue
        rows.append(
            {"center_id": sample.center, "metric": metric.name, "subject": subject, "time_ms": time_ms,
             "value": float(sample.value), "unit": metric.unit, "source": sample.source}
        )  # fmt: skip
    return rows, errors


def parse_batch(body: Any, max_batch: int) -> tuple[list[tuple[int, SampleIn]], list[FieldError]]:
    """The well-formed samples of a pushed body ``{"samples": [...]}`` with their positions, and the shape
    errors of the others (a sample that is not well-formed — missing field, wrong type — is reported with
    those errors only; the well-formed ones are then checked as usual)."""
    if not isinstance(body, dict):
        return [], [FieldError("", 'must be an object {"samples": [...]}')]
    errors = [FieldError(str(k), "unknown field") for k in body if k != "samples"]
    raw = body.get("samples")
    if not isinstance(raw, list) or not raw:
        return [], [*errors, FieldError("samples", "must be a non-empty list of samples")]
    if len(raw) > max_batch:
        return [], [*errors, FieldError("samples", f"at most {max_batch} samples per batch, got {len(raw)}")]
    parsed: list[tuple[int, SampleIn]] = []
    for i, item in enumerate(raw):
        try:
            parsed.append((i, SampleIn.model_validate(item)))
        except ValidationError as exc:
            for err in exc.errors():
                loc = [p for p in err.get("loc", ()) if isinstance(p, str | int)]
                errors.append(
                    FieldError(format_loc(["samples", i, *loc]), humanize(str(err.get("msg", "invalid"))))
                )
    return parsed, errors


def _position(e: FieldError) -> int:
    m = re.match(r"^samples\[(\d+)\]", e.path)
    return int(m.group(1)) if m else -1


def ingest(
    session: Session, body: Any, now_ms: int, *, future_tolerance_s: float = 300.0, max_batch: int = 10_000
) -> IngestSummary:
    """Store a pushed batch whole, or refuse it whole (:class:`InvalidError` listing every problem, in the
    order of the samples)."""
    parsed, errors = parse_batch(body, max_batch)
    rows, more = validate_samples(session, parsed, now_ms, future_tolerance_s)
    errors.extend(more)
    if errors:
        raise InvalidError(sorted(errors, key=_position))
    insert_rows(session, rows)
    late = [r["time_ms"] for r in rows if r["time_ms"] < now_ms - LATE_AFTER_MS]
    if late:  # older than the maintenance window: roll the pushed series up over their range now
        rollup(session, min(late), max(late), centers={r["center_id"] for r in rows},
               metrics={r["metric"] for r in rows})  # fmt: skip
    session.commit()
    return IngestSummary(accepted=len(rows))


def insert_rows(session: Session, rows: Sequence[Mapping[str, Any]]) -> int:
    """Insert prepared sample rows (no validation); the caller commits."""
    if rows:
        session.execute(insert(S), list(rows))
    return len(rows)


def sample_rows(samples: Iterable[GeneratedSample]) -> list[dict[str, Any]]:
    """Rows for trusted samples (generator, mapped scrape results)."""
    return [
        {"center_id": s.center, "metric": s.metric, "subject": s.subject, "time_ms": int(s.time_ms),
         "value": float(s.value), "unit": s.unit, "source": s.source}
        for s in samples
    ]  # fmt: skip


# ---------------------------------------------------------------- reading


def read_series(
    session: Session,
    *,
    metric: str,
    center: str | None = None,
    subject: str | None = None,
    start_ms: int | None = None,
    end_ms: int | None = None,
    step: str = "raw",
    limit: int = MAX_READ_POINTS,
) -> TelemetrySeries:
    """Points of ``metric`` (optionally one center / subject) in ``[from, to)``, oldest first, at most ``limit``."""
    errors = []
    if metric not in METRICS:
        errors.append(FieldError("query.metric", f"unknown metric {metric!r} (known: {', '.join(METRICS)})"))
    if step != "raw" and step not in STEPS_S:
        errors.append(FieldError("query.step", f"must be raw, 5m or 1h, not {step!r}"))
    if start_ms is not None and end_ms is not None and start_ms >= end_ms:
        errors.append(FieldError("query.from", "must be before query.to"))
    if errors:
        raise InvalidError(errors)
    table: Any = S if step == "raw" else R
    time_col = S.time_ms if step == "raw" else R.bucket_ms
    stmt = select(table).where(table.metric == metric)
    if step != "raw":
        stmt = stmt.where(R.step_s == STEPS_S[step])
    if center is not None:
        stmt = stmt.where(table.center_id == center)
    if subject is not None:
        stmt = stmt.where(table.subject == subject)
    if start_ms is not None:
        stmt = stmt.where(time_col >= start_ms)
    if end_ms is not None:
        stmt = stmt.where(time_col < end_ms)
    rows = list(session.scalars(stmt.order_by(time_col, table.center_id, table.subject).limit(limit + 1)))
    truncated = len(rows) > limit
    points = []
    for row in rows[:limit]:
        if step == "raw":
            points.append(TelemetryPoint(center=row.center_id, subject=row.subject, time=from_ms(row.time_ms),
                                         value=row.value, source=row.source))  # fmt: skip
        else:
            points.append(TelemetryPoint(center=row.center_id, subject=row.subject, time=from_ms(row.bucket_ms),
                                         mean=row.mean, min=row.min, max=row.max, count=row.count,
                                         source=row.source))  # fmt: skip
    return TelemetrySeries(
        metric=metric,
        unit=METRICS[metric].unit,
        step=step,
        simulated=any(p.source == "simulated" for p in points),
        truncated=truncated,
        points=points,
    )


# ---------------------------------------------------------------- rollups and retention


# ---------------------------------------------------------------- figures for alerts, generator, observatory


def latest_values(session: Session, now_ms: int, freshness_s: float) -> dict[SeriesKey, float]:
    """The latest value of every series with a sample in ``[now − freshness, now]``."""
    rows = session.execute(
        select(S.center_id, S.metric, S.subject, S.time_ms, S.value).where(
            S.time_ms >= now_ms - int(freshness_s * 1000), S.time_ms <= now_ms
        )
    )
    best: dict[SeriesKey, tuple[int, float]] = {}
    for center, metric, subject, t, v in rows:
        key = (center, metric, subject)
        if key not in best or t >= best[key][0]:
            best[key] = (t, v)
    return {k: v for k, (_, v) in best.items()}


def weighted_means(
    session: Session, metric: str, since_ms: int, until_ms: int, subject: str = ""
) -> dict[str, float]:
    """Per center, the mean of ``metric`` (subject ``subject``) over the hours touching ``[since, until)``,
    from the hourly rollups (count-weighted; maintenance keeps the current hour up to date). Only when no
    hourly rollup of the metric exists in the window (nothing rolled up yet) are raw samples averaged."""
    rolled = session.execute(
        select(R.center_id, func.sum(R.mean * R.count) / func.sum(R.count))
        .where(R.metric == metric, R.step_s == 3600, R.subject == subject,
               R.bucket_ms >= floor_ms(since_ms, 3_600_000), R.bucket_ms < until_ms)
        .group_by(R.center_id)
    )  # fmt: skip
    out = {c: float(v) for c, v in rolled if v is not None}
    if out:
        return out
    raw = session.execute(
        select(S.center_id, func.avg(S.value))
        .where(S.metric == metric, S.subject == subject, S.time_ms >= since_ms, S.time_ms < until_ms)
        .group_by(S.center_id)
    )
    return {c: float(v) for c, v in raw if v is not None}


def busy_share(session: Session) -> dict[str, float]:
    """Share of each pool's nodes busy with the platform's running jobs (empty without a ``jobs`` table)."""
    bind = session.get_bind()
    if not inspect(bind).has_table("jobs"):
        return {}
    used = session.execute(
        text(
            "SELECT pool_id, SUM(nodes) FROM jobs WHERE lower(state) = 'running' AND pool_id IS NOT NULL "
            "GROUP BY pool_id"
        )
    )
    nodes = dict(session.execute(select(PoolRow.id, PoolRow.nodes)).all())
    return {
        pool: min(1.0, float(n) / nodes[pool]) for pool, n in used if pool in nodes and nodes[pool] > 0 and n
    }


def count_samples(session: Session, source: str | None = None) -> int:
    stmt = select(func.count()).select_from(S)
    if source is not None:
        stmt = stmt.where(S.source == source)
    return int(session.scalar(stmt) or 0)
