"""The platform's own metrics at ``GET /metrics`` (Prometheus text format, prometheus-client).

One registry per app (several apps in one process do not clash):

* ``huanghe_http_requests_total{method, route, status}`` and ``huanghe_http_request_duration_seconds``
  (histogram) — ``route`` is the route template (``/api/v1/centers/{item_id}``), so ids do not explode the
  label set; unmatched paths count as ``<unmatched>``; ``method`` is one of :data:`METHODS` or ``<other>``
  (a client chooses the method token: ``PROPFIND``, ``X1``, ``X2``... would each add a series to every
  worker's file and to /metrics, without end);
* ``huanghe_telemetry_samples_ingested_total{source}`` — samples stored (push, scrape, simulated);
* ``huanghe_alerts{state}`` — alerts by state, read from the database at scrape time;
* ``huanghe_jobs{state}`` — jobs by state, when the ``jobs`` table exists (read at scrape time).

With several worker processes the counters and histograms are summed over the workers (prometheus-client's
multiprocess mode, ``PROMETHEUS_MULTIPROC_DIR``), whichever worker answers the scrape. In that mode an update
writes 16 bytes into the worker's memory-mapped file: the middleware's counter and histogram cost about 1-5 µs
of CPU per request more than without it (bench/bench_metrics_mp.py, docs/benchmarks.md); a new label set
grows the file, which is why every label here has a bounded set of values.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Iterator
from typing import Any

from fastapi import APIRouter, FastAPI, Request, Response
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import inspect, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from huanghe.api.routes import route_template
from huanghe.telemetry import alerts

log = logging.getLogger("huanghe.api")
#: Set (to a directory) by ``huanghe up --workers N``: the workers' metrics are written there and merged.
MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
#: The ``method`` label's values (RFC 9110 and PATCH); any other method token counts as :data:`OTHER_METHOD`.
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH"})
OTHER_METHOD = "<other>"


class _DatabaseCollector(Collector):
    """Gauges read from the database when /metrics is scraped."""

    def __init__(self, session_factory: sessionmaker[Session]) -> None:
        self.session_factory = session_factory

    @staticmethod
    def _families() -> tuple[GaugeMetricFamily, GaugeMetricFamily]:
        return (
            GaugeMetricFamily("huanghe_alerts", "Alerts by state", labels=["state"]),
            GaugeMetricFamily("huanghe_jobs", "Jobs by state (when the jobs table exists)", labels=["state"]),
        )

    def describe(self) -> Iterator[Metric]:
        """Names only, without touching the database (called when the collector is registered)."""
        yield from self._families()

    def collect(self) -> Iterator[Metric]:
        alert_g, jobs_g = self._families()
        try:
            with self.session_factory() as session:
                for state, n in alerts.count_by_state(session).items():
                    alert_g.add_metric([state], n)
                if inspect(session.get_bind()).has_table("jobs"):
                    rows = session.execute(text("SELECT state, COUNT(*) FROM jobs GROUP BY state"))
                    for state, n in rows:
                        jobs_g.add_metric([str(state).lower()], int(n))
        except SQLAlchemyError as exc:
            log.warning("metrics: database unavailable: %s", exc)
        yield alert_g
        yield jobs_g


class PlatformMetrics:
    """The registry and instruments of one app."""

    def __init__(self, session_factory: sessionmaker[Session]) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter(
            "huanghe_http_requests", "HTTP requests", ["method", "route", "status"], registry=self.registry
        )
        self.latency = Histogram(
            "huanghe_http_request_duration_seconds", "HTTP request latency, seconds", ["method", "route"],
            registry=self.registry,
        )  # fmt: skip
        self.samples = Counter(
            "huanghe_telemetry_samples_ingested",
            "Telemetry samples stored",
            ["source"],
            registry=self.registry,
        )
        self.database = _DatabaseCollector(session_factory)
        self.registry.register(self.database)

    def ingested(self, source: str, n: int) -> None:
        if n > 0:
            self.samples.labels(source).inc(n)

    def render(self) -> bytes:
        """The text format; with several worker processes (``PROMETHEUS_MULTIPROC_DIR`` set, as ``huanghe up
        --workers N`` does) the counters and histograms of every worker, summed, plus the database gauges."""
        if not os.environ.get(MULTIPROC_ENV):
            return generate_latest(self.registry)
        merged = CollectorRegistry()
        multiprocess.MultiProcessCollector(merged)
        merged.register(self.database)
        return generate_latest(merged)


class MetricsMiddleware:
    """Pure-ASGI request counter (no per-request ``Request``/``Response`` objects nor extra task, unlike
    ``@app.middleware("http")``): counts and times every HTTP request by method, route template, status.
    Instruments are cached per (method, template[, status]) so a request costs two dict look-ups; every key
    part has a bounded set of values (methods of :data:`METHODS`, route templates, status codes), so neither
    the caches nor the metric files grow with what clients send."""

    def __init__(self, app: ASGIApp, metrics: PlatformMetrics) -> None:
        self.app = app
        self.metrics = metrics
        self._counters: dict[tuple[str, str, int], Any] = {}
        self._timers: dict[tuple[str, str], Any] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500

        async def watch(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, watch)
        finally:
            method = str(scope.get("method", "GET"))
            if method not in METHODS:
                method = OTHER_METHOD
            template = route_template(scope) or "<unmatched>"
            counter = self._counters.get((method, template, status))
            if counter is None:
                counter = self.metrics.requests.labels(method, template, str(status))
                self._counters[(method, template, status)] = counter
            timer = self._timers.get((method, template))
            if timer is None:
                timer = self._timers[(method, template)] = self.metrics.latency.labels(method, template)
            counter.inc()
            timer.observe(time.perf_counter() - start)


#: ``GET /metrics`` (mounted by ``create_app`` with the site's routers, outside the API prefix).
router = APIRouter(include_in_schema=False)


@router.get("/metrics", response_class=Response)
def platform_metrics(request: Request) -> Response:
    """The app's metrics in the Prometheus text format."""
    metrics: PlatformMetrics = request.app.state.metrics
    return Response(metrics.render(), media_type=CONTENT_TYPE_LATEST)


def install(app: FastAPI) -> None:
    """Create the app's :class:`PlatformMetrics` (``app.state.metrics``) and add the request-counting
    middleware; the ``/metrics`` route is :data:`router`."""
    app.state.metrics = PlatformMetrics(app.state.session_factory)
    app.add_middleware(MetricsMiddleware, metrics=app.state.metrics)
