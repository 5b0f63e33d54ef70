"""Roll-ups and retention of telemetry: raw samples → 5-minute and 1-hour buckets (mean, min, max, count
per series), and deletion of what is older than each table's retention.

Times are milliseconds since the Unix epoch (``*_ms``); a bucket of step ``s`` starts at a multiple of ``s``.
Both are idempotent: rolling up the same window twice writes the same rows; retention deletes only rows
strictly older than its cut-off.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any

from sqlalchemy import CursorResult, Integer, delete, func, insert, literal_column, select
from sqlalchemy.orm import Session

from huanghe.telemetry.models import TelemetryRollupRow, TelemetrySampleRow

S = TelemetrySampleRow
R = TelemetryRollupRow


def count_rows(session: Session, stmt: Any) -> int:
    """Execute a DML statement and return the number of rows it touched."""
    result: CursorResult[Any] = session.execute(stmt)  # type: ignore[assignment]
    return max(0, result.rowcount or 0)


def series_filter(table: Any, centers: Collection[str] | None, metrics: Collection[str] | None) -> list[Any]:
    out = []
    if centers is not None:
        out.append(table.center_id.in_(sorted(centers)))
    if metrics is not None:
        out.append(table.metric.in_(sorted(metrics)))
    return out


def _buckets(session: Session, step_s: int, lo: int, hi: int, only: Sequence[Any] = ()) -> int:
    """Rollup rows of ``step_s`` in ``[lo, hi)`` (INSERT … SELECT row counts are not reliable on SQLite)."""
    stmt = (
        select(func.count())
        .select_from(R)
        .where(R.step_s == step_s, R.bucket_ms >= lo, R.bucket_ms < hi, *only)
    )
    return int(session.scalar(stmt) or 0)


def floor_ms(t_ms: int, step_ms: int) -> int:
    return (t_ms // step_ms) * step_ms


def rollup(
    session: Session,
    since_ms: int,
    until_ms: int,
    *,
    centers: Collection[str] | None = None,
    metrics: Collection[str] | None = None,
) -> dict[str, int]:
    """Recompute the 5-minute and hourly rollups of the series (all, or of ``centers`` × ``metrics``) for the
    hours touching ``[since, until)`` from the oldest raw sample still stored in that range on (older hours
    keep their rollups).

    Returns the number of buckets in the recomputed range per step. The caller commits.
    """
    lo = floor_ms(since_ms, 3_600_000)
    hi = floor_ms(until_ms, 3_600_000) + 3_600_000
    only_s = series_filter(S, centers, metrics)
    only_r = series_filter(R, centers, metrics)
    # Hours older than the oldest raw sample left (retention) keep their rollups: never recompute from nothing.
    first_raw = session.scalar(select(func.min(S.time_ms)).where(S.time_ms >= lo, S.time_ms < hi, *only_s))
    if first_raw is None:
        return {"5m": 0, "1h": 0}
    lo = max(lo, floor_ms(int(first_raw), 3_600_000))
    written: dict[str, int] = {}
    step5 = 300_000
    bucket = (S.time_ms // literal_column(str(step5), Integer)) * literal_column(str(step5), Integer)
    session.execute(delete(R).where(R.step_s == 300, R.bucket_ms >= lo, R.bucket_ms < hi, *only_r))
    raw = (
        select(
            S.center_id, S.metric, S.subject, literal_column("300", Integer), bucket,
            func.avg(S.value), func.min(S.value), func.max(S.value), func.count(), func.min(S.unit),
            func.min(S.source),
        )
        .where(S.time_ms >= lo, S.time_ms < hi, *only_s)
        .group_by(S.center_id, S.metric, S.subject, bucket)
    )  # fmt: skip
    cols = [
        "center_id",
        "metric",
        "subject",
        "step_s",
        "bucket_ms",
        "mean",
        "min",
        "max",
        "count",
        "unit",
        "source",
    ]
    session.execute(insert(R).from_select(cols, raw))
    written["5m"] = _buckets(session, 300, lo, hi, only_r)
    five = select(R).where(R.step_s == 300, *only_r).subquery()
    hour = (five.c.bucket_ms // literal_column("3600000", Integer)) * literal_column("3600000", Integer)
    hourly = (
        select(
            five.c.center_id, five.c.metric, five.c.subject, literal_column("3600", Integer), hour,
            func.sum(five.c.mean * five.c.count) / func.sum(five.c.count), func.min(five.c.min),
            func.max(five.c.max), func.sum(five.c.count), func.min(five.c.unit), func.min(five.c.source),
        )
        .where(five.c.bucket_ms >= lo, five.c.bucket_ms < hi)
        .group_by(five.c.center_id, five.c.metric, five.c.subject, hour)
    )  # fmt: skip
    session.execute(delete(R).where(R.step_s == 3600, R.bucket_ms >= lo, R.bucket_ms < hi, *only_r))
    session.execute(insert(R).from_select(cols, hourly))
    written["1h"] = _buckets(session, 3600, lo, hi, only_r)
    return written


def apply_retention(
    session: Session, now_ms: int, raw_days: float, rollup_5m_days: float, rollup_1h_days: float
) -> dict[str, int]:
    """Delete raw samples and rollups older than their retention; counts deleted. The caller commits."""
    day_ms = 86_400_000
    return {
        "raw": count_rows(session, delete(S).where(S.time_ms < now_ms - int(raw_days * day_ms))),
        "5m": count_rows(
            session, delete(R).where(R.step_s == 300, R.bucket_ms < now_ms - int(rollup_5m_days * day_ms))
        ),
        "1h": count_rows(
            session, delete(R).where(R.step_s == 3600, R.bucket_ms < now_ms - int(rollup_1h_days * day_ms))
        ),
    }
