"""Public schemas of the telemetry API that describe the service itself: the metric catalogue
(``GET /api/v1/telemetry/metrics``) and the Prometheus exporters scraped (``GET /api/v1/telemetry/exporters``).
Samples, series and ingest summaries are in :mod:`huanghe.telemetry.service`."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel


class MetricInfo(BaseModel):
    """A known metric: its unit, closed valid range (``maximum`` null = unbounded) and subject kind."""

    name: str
    unit: str
    subject: str
    minimum: float
    maximum: float | None
    description: str


class ExporterStatus(BaseModel):
    """An exporter listed by a center, with the outcome of its last scrape (null before the first)."""

    center: str
    url: str
    interval_s: int | None
    enabled: bool
    last_scrape: datetime | None
    last_samples: int
    last_error: str
