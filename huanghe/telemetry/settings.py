"""Settings of the telemetry side (prefix ``HUANGHE_TELEMETRY_``), beside :mod:`huanghe.settings`.

| setting | env var | default | meaning |
|---|---|---|---|
| ``background`` | ``HUANGHE_TELEMETRY_BACKGROUND`` | true | run the background loops below inside the app (like the scheduler loop) |
| ``generator`` | ``HUANGHE_TELEMETRY_GENERATOR`` | true | simulate telemetry for the stored network (``source: simulated``) |
| ``generator_interval_s`` | ``HUANGHE_TELEMETRY_GENERATOR_INTERVAL_S`` | 300 | seconds between simulated ticks |
| ``generator_backfill_h`` | ``HUANGHE_TELEMETRY_GENERATOR_BACKFILL_H`` | 6 | history simulated at start-up when there is no simulated sample yet (hours, 5-min step) |
| ``seed`` | ``HUANGHE_TELEMETRY_SEED`` | 0 | seed of the generator |
| ``scrape`` | ``HUANGHE_TELEMETRY_SCRAPE`` | true | scrape the centers' Prometheus exporters |
| ``scrape_interval_s`` / ``scrape_timeout_s`` | … | 60 / 5 | how often / how long per exporter |
| ``maintenance_interval_s`` | … | 300 | rollups, retention and alert evaluation every N seconds |
| ``raw_retention_days`` | … | 7 | raw samples kept |
| ``rollup_5m_retention_days`` | … | 30 | 5-minute rollups kept |
| ``rollup_1h_retention_days`` | … | 400 | hourly rollups kept |
| ``future_tolerance_s`` | … | 300 | a pushed sample may be at most this far in the future (clock skew) |
| ``max_batch`` | … | 10000 | samples in one push |
| ``alert_*`` | … | see :class:`~huanghe.observatory.alert_rules.AlertThresholds` | rule thresholds |
"""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from huanghe.observatory.alert_rules import AlertThresholds


class TelemetrySettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="HUANGHE_TELEMETRY_", extra="ignore")

    background: bool = True
    generator: bool = True
    generator_interval_s: float = Field(default=300.0, gt=0)
    generator_backfill_h: float = Field(default=6.0, ge=0, le=24 * 31)
    seed: int = 0
    scrape: bool = True
    scrape_interval_s: float = Field(default=60.0, gt=0)
    scrape_timeout_s: float = Field(default=5.0, gt=0)
    maintenance_interval_s: float = Field(default=300.0, gt=0)
    raw_retention_days: float = Field(default=7.0, gt=0)
    rollup_5m_retention_days: float = Field(default=30.0, gt=0)
    rollup_1h_retention_days: float = Field(default=400.0, gt=0)
    future_tolerance_s: float = Field(default=300.0, ge=0)
    max_batch: int = Field(default=10_000, ge=1)
    alert_pue_jump: float = Field(default=0.1, gt=0)
    alert_pue_window_days: float = Field(default=7.0, gt=0)
    alert_utilisation: float = Field(default=0.9, gt=0, le=1)
    alert_storage_used_share: float = Field(default=0.85, gt=0, le=1)
    alert_city_latency_ms: float = Field(default=1.0, gt=0)
    alert_circle_latency_ms: float = Field(default=3.0, gt=0)
    alert_freshness_s: float = Field(default=900.0, gt=0)

    def thresholds(self) -> AlertThresholds:
        return AlertThresholds(
            pue_jump=self.alert_pue_jump,
            pue_window_s=self.alert_pue_window_days * 86400.0,
            utilisation=self.alert_utilisation,
            storage_used_share=self.alert_storage_used_share,
            city_latency_ms=self.alert_city_latency_ms,
            circle_latency_ms=self.alert_circle_latency_ms,
            freshness_s=self.alert_freshness_s,
        )
