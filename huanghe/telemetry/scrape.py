"""Scrape Prometheus exporters listed per center (``Center.exporters``) and map their metrics to ours.

The text exposition format is parsed with ``prometheus_client.parser.text_string_to_metric_families``.
Mapping (exporter sample → our metric; label ``pool`` names a pool of the center, otherwise the sample is
about the whole center):

| exporter metric | our metric | conversion |
|---|---|---|
| ``huanghe_utilisation_ratio{pool}`` | ``utilisation`` | as is (0–1) |
| ``huanghe_it_power_kw{pool}`` | ``it_power_kw`` | as is |
| ``huanghe_facility_power_kw`` | ``facility_power_kw`` | as is |
| ``huanghe_pue_ratio`` | ``pue`` | as is |
| ``huanghe_renewable_share_ratio`` | ``renewable_share`` | as is |
| ``huanghe_water_litres`` | ``water_l`` | as is |
| ``huanghe_storage_used_tb{medium,temperature}`` | ``storage_used_tb`` | subject ``medium/temperature`` |
| ``huanghe_link_latency_ms{peer}`` | ``link_latency_ms`` | subject ``peer`` |
| ``DCGM_FI_DEV_GPU_UTIL{pool}`` (NVIDIA DCGM exporter, %) | ``utilisation`` | mean over GPUs ÷ 100 |
| ``DCGM_FI_DEV_POWER_USAGE{pool}`` (W) | ``it_power_kw`` | sum over GPUs ÷ 1000 |

Other exporter metrics are ignored. A sample's own timestamp is used when the exporter gives one, else the
scrape time. Mapped samples go through the same validation as pushed ones; invalid ones are dropped and
counted in the exporter's ``last_error``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import httpx
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import select
from sqlalchemy.orm import Session

from huanghe.network.models import CenterRow
from huanghe.observatory.metric_catalog import METRICS
from huanghe.telemetry import service as telemetry
from huanghe.telemetry.models import ExporterRow

#: exporter metric name → (our metric, label holding the subject, scale, aggregation over duplicates)
MAPPING: dict[str, tuple[str, str, float, str]] = {
    "huanghe_utilisation_ratio": ("utilisation", "pool", 1.0, "mean"),
    "huanghe_it_power_kw": ("it_power_kw", "pool", 1.0, "sum"),
    "huanghe_facility_power_kw": ("facility_power_kw", "", 1.0, "sum"),
    "huanghe_pue_ratio": ("pue", "", 1.0, "mean"),
    "huanghe_renewable_share_ratio": ("renewable_share", "", 1.0, "mean"),
    "huanghe_water_litres": ("water_l", "", 1.0, "sum"),
    "huanghe_storage_used_tb": ("storage_used_tb", "tier", 1.0, "sum"),
    "huanghe_link_latency_ms": ("link_latency_ms", "peer", 1.0, "mean"),
    "DCGM_FI_DEV_GPU_UTIL": ("utilisation", "pool", 0.01, "mean"),
    "DCGM_FI_DEV_POWER_USAGE": ("it_power_kw", "pool", 0.001, "sum"),
}


@dataclass(frozen=True)
class MappedSample:
    metric: str
    subject_label: str
    subject: str
    time_ms: int
    value: float


def map_exposition(text: str, scrape_ms: int) -> list[MappedSample]:
    """Our samples from an exporter's text exposition (unmapped metrics ignored, duplicates aggregated)."""
    groups: dict[tuple[str, str, str, int], list[float]] = defaultdict(list)
    how: dict[str, str] = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            rule = MAPPING.get(s.name)
            if rule is None:
                continue
            metric, label, scale, agg = rule
            if label == "tier":
                medium, temp = s.labels.get("medium", ""), s.labels.get("temperature", "")
                subject = f"{medium}/{temp}" if medium and temp else s.labels.get("tier", "")
            else:
                subject = s.labels.get(label, "") if label else ""
            t = int(float(s.timestamp) * 1000) if s.timestamp is not None else scrape_ms
            groups[(metric, label, subject, t)].append(float(s.value) * scale)
            how[metric + "\0" + label] = agg
    out = []
    for (metric, label, subject, t), values in sorted(groups.items()):
        agg = how[metric + "\0" + label]
        value = sum(values) if agg == "sum" else sum(values) / len(values)
        out.append(MappedSample(metric, label, subject, t, value))
    return out


def to_samples_in(center: str, mapped: Iterable[MappedSample]) -> list[telemetry.SampleIn]:
    """Mapped samples as pushed ones (``source`` set later), for the common validation."""
    out = []
    for m in mapped:
        extra: dict[str, Any] = {}
        if m.subject_label in ("pool", "tier", "peer") and m.subject:
            extra[m.subject_label] = m.subject
        out.append(
            telemetry.SampleIn.model_construct(
                center=center,
                metric=m.metric,
                time=telemetry.from_ms(m.time_ms),
                value=m.value,
                unit=METRICS[m.metric].unit,
                pool=extra.get("pool"),
                tier=extra.get("tier"),
                peer=extra.get("peer"),
                source="push",
            )
        )
    return out


def sync_exporters(session: Session, interval_s: int = 60) -> int:
    """Create a scrape config row for every URL in ``Center.exporters`` that has none; drop rows whose URL
    the center no longer lists. Returns the number of configured exporters. Commits."""
    wanted = {
        (c, u) for c, urls in session.execute(select(CenterRow.id, CenterRow.exporters)) for u in urls or []
    }
    rows = {(r.center_id, r.url): r for r in session.scalars(select(ExporterRow))}
    for key, row in rows.items():
        if key not in wanted:
            session.delete(row)
    for center, url in sorted(wanted - rows.keys()):
        session.add(ExporterRow(center_id=center, url=url, interval_s=interval_s, enabled=True, last_samples=0,
                                last_error=""))  # fmt: skip
    session.commit()
    return len(wanted)


@dataclass(frozen=True)
class ScrapeResult:
    url: str
    center: str
    stored: int
    dropped: int
    error: str


def scrape_one(
    session: Session,
    exporter: ExporterRow,
    client: httpx.Client,
    now_ms: int,
    future_tolerance_s: float = 300.0,
) -> ScrapeResult:
    """Scrape one exporter, store the valid mapped samples (``source = scrape``), record the outcome. Commits."""
    error = ""
    stored = dropped = 0
    try:
        response = client.get(exporter.url)
        response.raise_for_status()
        mapped = map_exposition(response.text, now_ms)
        samples = to_samples_in(exporter.center_id, mapped)
        rows, errors = telemetry.validate_samples(
            session, list(enumerate(samples)), now_ms, future_tolerance_s
        )
        for row in rows:
            row["source"] = "scrape"
        stored = telemetry.insert_rows(session, rows)
        dropped = len(samples) - len(rows)
        if errors:
            error = f"{dropped} sample(s) dropped; first: {errors[0]}"
    except (httpx.HTTPError, ValueError) as exc:
        error = f"{type(exc).__name__}: {str(exc).strip().splitlines()[0] if str(exc).strip() else ''}"
    exporter.last_scrape_ms, exporter.last_samples, exporter.last_error = now_ms, stored, error[:2000]
    session.commit()
    return ScrapeResult(exporter.url, exporter.center_id, stored, dropped, error)


def scrape_all(
    session: Session,
    now_ms: int,
    timeout_s: float = 5.0,
    transport: httpx.BaseTransport | None = None,
    *,
    interval_s: int = 60,
    only_due: bool = True,
) -> list[ScrapeResult]:
    """Scrape the enabled exporters once (after :func:`sync_exporters`, new configs get ``interval_s``);
    with ``only_due``, those scraped less than their own ``interval_s`` ago are skipped."""
    sync_exporters(session, interval_s)
    exporters = [
        e
        for e in session.scalars(
            select(ExporterRow).where(ExporterRow.enabled.is_(True)).order_by(ExporterRow.id)
        )
        if not only_due or e.last_scrape_ms is None or now_ms - e.last_scrape_ms >= e.interval_s * 1000 - 500
    ]
    if not exporters:
        return []
    with httpx.Client(timeout=timeout_s, transport=transport, follow_redirects=False) as client:
        return [scrape_one(session, e, client, now_ms) for e in exporters]


def exporter_status(session: Session) -> list[dict[str, Any]]:
    """Every exporter listed by a center, with the outcome of its last scrape (None before the first).
    Read-only: configs are created by the scraper (:func:`sync_exporters`)."""
    rows = {(r.center_id, r.url): r for r in session.scalars(select(ExporterRow))}
    listed = {
        (c, u) for c, urls in session.execute(select(CenterRow.id, CenterRow.exporters)) for u in urls or []
    }
    out = []
    for center, url in sorted(listed):
        r = rows.get((center, url))
        out.append(
            {"center": center, "url": url, "interval_s": r.interval_s if r else None,
             "enabled": r.enabled if r else True,
             "last_scrape": telemetry.from_ms(r.last_scrape_ms) if r and r.last_scrape_ms is not None else None,
             "last_samples": r.last_samples if r else 0, "last_error": r.last_error if r else ""}
        )  # fmt: skip
    return out
