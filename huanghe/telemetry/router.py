"""``/api/v1/telemetry`` (push and read samples), ``/api/v1/telemetry/metrics`` (the catalogue),
``/api/v1/telemetry/exporters`` (scrape configs) and ``/api/v1/alerts``. Thin: see
:mod:`huanghe.telemetry.service` and :mod:`huanghe.telemetry.alerts` for the rules."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Body, FastAPI, Path, Query, Request

from huanghe.api.authentication import principal_of_request
from huanghe.api.deps import IdFilter, Limit, Offset, SessionDep
from huanghe.core.paging import Page
from huanghe.domain.tenancy import Role
from huanghe.observatory.metric_catalog import METRICS
from huanghe.store.leader import LeaderElector
from huanghe.telemetry import alerts, scrape
from huanghe.telemetry import service as telemetry
from huanghe.telemetry.runtime import TelemetryRuntime
from huanghe.telemetry.schemas import ExporterStatus, MetricInfo
from huanghe.telemetry.settings import TelemetrySettings

router = APIRouter()
log = logging.getLogger("huanghe.telemetry")
AlertId = Annotated[int, Path(ge=1, le=2**31 - 1)]
Subject = Annotated[str | None, Query(max_length=130, pattern=r"^[^\x00-\x1f]*$")]


def now_ms(request: Request) -> int:
    """Now in ms since the epoch: ``app.state.clock`` (seconds; injectable in tests) or the wall clock."""
    clock = getattr(request.app.state, "clock", None) or time.time
    return int(clock() * 1000)


def _settings(request: Request) -> TelemetrySettings:
    return getattr(request.app.state, "telemetry_settings", None) or TelemetrySettings()


_BATCH_DOC = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "required": ["samples"],
                    "additionalProperties": False,
                    "properties": {
                        "samples": {
                            "type": "array",
                            "minItems": 1,
                            "items": telemetry.SampleIn.model_json_schema(),
                        }
                    },
                }
            }
        },
    }
}


@router.post(
    "/telemetry",
    response_model=telemetry.IngestSummary,
    status_code=201,
    tags=["telemetry"],
    openapi_extra=_BATCH_DOC,
)
def push_samples(
    batch: Annotated[Any, Body(include_in_schema=False)], request: Request, s: SessionDep
) -> telemetry.IngestSummary:
    """Store a batch of samples, all or nothing: one bad sample refuses the batch (422), every problem
    listed at ``body.samples[i].field``. Units must be the catalogue's (``GET /api/v1/telemetry/metrics``)."""
    cfg = _settings(request)
    summary = telemetry.ingest(
        s, batch, now_ms(request), future_tolerance_s=cfg.future_tolerance_s, max_batch=cfg.max_batch
    )
    metrics = getattr(request.app.state, "metrics", None)
    if metrics is not None:
        metrics.ingested("push", summary.accepted)
    return summary


@router.get("/telemetry", response_model=telemetry.TelemetrySeries, tags=["telemetry"])
def read_samples(
    s: SessionDep,
    metric: Annotated[str, Query(max_length=64, description="metric name (see /telemetry/metrics)")],
    center: IdFilter = None,
    pool: IdFilter = None,
    tier: Subject = None,
    peer: IdFilter = None,
    start: Annotated[
        datetime | None, Query(alias="from", description="inclusive, ISO 8601 (UTC if no zone)")
    ] = None,
    end: Annotated[
        datetime | None, Query(alias="to", description="exclusive, ISO 8601 (UTC if no zone)")
    ] = None,
    step: Annotated[str, Query(description="raw | 5m | 1h (rollups: mean/min/max/count)")] = "raw",
    limit: Annotated[int, Query(ge=1, le=telemetry.MAX_READ_POINTS)] = 1000,
) -> telemetry.TelemetrySeries:
    """Points oldest first; ``simulated`` is true when the generator made any of them."""
    subject = pool if pool is not None else tier if tier is not None else peer
    return telemetry.read_series(
        s, metric=metric, center=center, subject=subject,
        start_ms=telemetry.to_ms(start) if start else None, end_ms=telemetry.to_ms(end) if end else None,
        step=step, limit=limit,
    )  # fmt: skip


@router.get("/telemetry/metrics", response_model=list[MetricInfo], tags=["telemetry"])
def metric_catalogue() -> list[dict[str, Any]]:
    """Known metrics with their unit, valid range and subject kind."""
    return [
        {"name": m.name, "unit": m.unit, "subject": m.subject, "minimum": m.minimum,
         "maximum": None if m.maximum == float("inf") else m.maximum, "description": m.description}
        for m in METRICS.values()
    ]  # fmt: skip


@router.get("/telemetry/exporters", response_model=list[ExporterStatus], tags=["telemetry"])
def exporters(s: SessionDep) -> list[dict[str, Any]]:
    """Prometheus exporters scraped per center, with the outcome of their last scrape."""
    return scrape.exporter_status(s)


def _own_centers(request: Request) -> frozenset[str] | None:
    """An operator's centers (it sees their alerts only); None for the other roles (all alerts)."""
    principal = principal_of_request(request)
    return frozenset(principal.center_ids) if principal.role is Role.OPERATOR else None


@router.get("/alerts", response_model=Page[alerts.AlertPublic], tags=["alerts"])
def list_alerts(
    s: SessionDep,
    request: Request,
    state: Annotated[str | None, Query(max_length=16, description="open | acknowledged | resolved")] = None,
    rule: Annotated[str | None, Query(max_length=32, description="pue_jump | utilisation_high | ...")] = None,
    subject: Subject = None,
    center: IdFilter = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> Page[alerts.AlertPublic]:
    """Alerts, newest first, filtered by state, rule, center and the text the subject contains; an operator
    gets those of its own centers only."""
    return alerts.list_alerts(
        s, state, rule=rule, subject=subject, center=center, centers=_own_centers(request), limit=limit,
        offset=offset,
    )  # fmt: skip


@router.get("/alerts/{alert_id}", response_model=alerts.AlertPublic, tags=["alerts"])
def get_alert(alert_id: AlertId, s: SessionDep, request: Request) -> alerts.AlertPublic:
    """One alert (an operator: of its own centers, else 404)."""
    return alerts.get_alert(s, alert_id, centers=_own_centers(request))


@router.post("/alerts/{alert_id}:ack", response_model=alerts.AlertPublic, tags=["alerts"])
def ack_alert(alert_id: AlertId, request: Request, s: SessionDep) -> alerts.AlertPublic:
    """open → acknowledged (no-op if already acknowledged; 409 if resolved)."""
    return alerts.acknowledge(s, alert_id, now_ms(request))


@router.post("/alerts/{alert_id}:resolve", response_model=alerts.AlertPublic, tags=["alerts"])
def resolve_alert(alert_id: AlertId, request: Request, s: SessionDep) -> alerts.AlertPublic:
    """→ resolved by a person (no-op if already resolved)."""
    return alerts.resolve(s, alert_id, now_ms(request))


def init_state(app: FastAPI) -> None:
    """The state the telemetry routes and loops need: ``app.state.telemetry_settings`` (unless set)."""
    if not hasattr(app.state, "telemetry_settings"):
        app.state.telemetry_settings = TelemetrySettings()


@asynccontextmanager
async def telemetry_running(app: FastAPI) -> AsyncIterator[TelemetryRuntime | None]:
    """Run the telemetry loops (generator, scraper, maintenance) while the app runs, unless
    ``HUANGHE_TELEMETRY_BACKGROUND=0``; cancel them after."""
    cfg: TelemetrySettings = app.state.telemetry_settings
    if not cfg.background:
        app.state.telemetry_runtime = None
        yield None
        return
    clock = getattr(app.state, "clock", None) or time.time
    elector = LeaderElector(
        app.state.engine, name="telemetry", ttl_s=max(5.0, 3 * cfg.maintenance_interval_s)
    )
    runtime = TelemetryRuntime(app.state.session_factory, cfg, clock, app.state.metrics.ingested, elector)
    app.state.telemetry_runtime = runtime
    task = asyncio.create_task(runtime.run(), name="huanghe-telemetry")
    try:
        yield runtime
    finally:
        runtime.stop()
        task.cancel()
        try:
            await task
        except asyncio.CancelledError:
            pass
        except Exception:  # the loops log their own failures; never fail the app's shutdown
            log.exception("telemetry loops ended with an error")
        await runtime.drain()  # steps already running in worker threads finish before the engine closes
        elector.release()
