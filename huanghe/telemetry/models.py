"""ORM rows of the telemetry: raw samples, downsampled rollups, exporters to scrape, alerts.

Time is stored as **milliseconds since the Unix epoch (UTC)** in ``*_ms`` integer columns: range queries and
bucketing (``time_ms / step_ms``) are then the same plain integer arithmetic on SQLite and PostgreSQL.

A sample belongs to a center and names a ``subject`` inside it, whose meaning depends on the metric
(see ``huanghe.observatory.metric_catalog``): '' for the center itself, a pool id for pool metrics, a storage
tier ``medium/temperature`` for ``storage_used_tb``, the peer center id for ``link_latency_ms``.
``source`` is ``push`` (API), ``scrape`` (Prometheus exporter) or ``simulated`` (generator).
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, Double, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from huanghe.store.base import Base

ID = String(64)
#: Auto-increment 64-bit key (plain INTEGER on SQLite, where only INTEGER PRIMARY KEY auto-increments).
BIGID = BigInteger().with_variant(Integer(), "sqlite")


class TelemetrySampleRow(Base):
    """One raw measurement: ``value`` in ``unit`` at ``time_ms``."""

    __tablename__ = "telemetry_samples"
    __table_args__ = (
        Index("ix_telemetry_samples_series", "center_id", "metric", "subject", "time_ms"),
        Index("ix_telemetry_samples_metric_time", "metric", "time_ms"),
    )

    id: Mapped[int] = mapped_column(BIGID, primary_key=True, autoincrement=True)
    center_id: Mapped[str] = mapped_column(ID, ForeignKey("centers.id", ondelete="CASCADE"))
    metric: Mapped[str] = mapped_column(String(64))
    subject: Mapped[str] = mapped_column(String(130), default="")
    time_ms: Mapped[int] = mapped_column(BigInteger, index=True)
    value: Mapped[float] = mapped_column(Double)
    unit: Mapped[str] = mapped_column(String(16))
    source: Mapped[str] = mapped_column(String(16), default="push")


class TelemetryRollupRow(Base):
    """Aggregate of the raw samples of one series over ``[bucket_ms, bucket_ms + step_s·1000)``."""

    __tablename__ = "telemetry_rollups"
    __table_args__ = (
        UniqueConstraint(
            "step_s", "center_id", "metric", "subject", "bucket_ms", name="uq_telemetry_rollups_key"
        ),
        Index("ix_telemetry_rollups_metric", "metric", "step_s", "bucket_ms"),
    )

    id: Mapped[int] = mapped_column(BIGID, primary_key=True, autoincrement=True)
    center_id: Mapped[str] = mapped_column(ID, ForeignKey("centers.id", ondelete="CASCADE"))
    metric: Mapped[str] = mapped_column(String(64))
    subject: Mapped[str] = mapped_column(String(130), default="")
    step_s: Mapped[int] = mapped_column(Integer)
    bucket_ms: Mapped[int] = mapped_column(BigInteger, index=True)
    mean: Mapped[float] = mapped_column(Double)
    min: Mapped[float] = mapped_column(Double)
    max: Mapped[float] = mapped_column(Double)
    count: Mapped[int] = mapped_column(Integer)
    unit: Mapped[str] = mapped_column(String(16))
    source: Mapped[str] = mapped_column(String(16), default="push")


class ExporterRow(Base):
    """A Prometheus exporter scraped for a center (synchronised from ``Center.exporters``)."""

    __tablename__ = "telemetry_exporters"
    __table_args__ = (UniqueConstraint("center_id", "url", name="uq_telemetry_exporters_center_url"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    center_id: Mapped[str] = mapped_column(ID, ForeignKey("centers.id", ondelete="CASCADE"), index=True)
    url: Mapped[str] = mapped_column(String(500))
    interval_s: Mapped[int] = mapped_column(Integer, default=60)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    last_scrape_ms: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    last_samples: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str] = mapped_column(Text, default="")


class AlertRow(Base):
    """An alert raised by a rule on a subject. ``state``: open → acknowledged → resolved.

    At most one alert per ``(rule, subject)`` is not resolved (the service deduplicates); ``value`` and
    ``threshold`` are in the unit of the rule's metric.
    """

    __tablename__ = "alerts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    rule: Mapped[str] = mapped_column(String(64), index=True)
    subject: Mapped[str] = mapped_column(String(200), index=True)
    center_id: Mapped[str | None] = mapped_column(ID, nullable=True, index=True)
    state: Mapped[str] = mapped_column(String(16), index=True)
    severity: Mapped[str] = mapped_column(String(16))
    message: Mapped[str] = mapped_column(Text)
    value: Mapped[float] = mapped_column(Double)
    threshold: Mapped[float] = mapped_column(Double)
    opened_ms: Mapped[int] = mapped_column(BigInteger)
    updated_ms: Mapped[int] = mapped_column(BigInteger)
    acknowledged_ms: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    resolved_ms: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    resolved_by: Mapped[str] = mapped_column(String(16), default="")
