"""The FastAPI application: ``create_app(settings)``.

* ``/api/v1/...``: catalog routers (regions, cities, centers, pools, links, tenants, users, datasets) and
  ``/api/v1/topology``; ``/healthz``; OpenAPI docs at ``/docs`` (schema at ``/openapi.json``).
* ``app.state.settings`` and ``app.state.session_factory`` (a SQLAlchemy ``sessionmaker``) are set here;
  routers get a session per request from the factory.
* With ``settings.migrate_on_startup`` the database is upgraded to the newest migration when the app
  starts (lifespan); the engine is disposed when it stops.
* Errors are JSON ``{"detail": [{"path", "message"}]}`` (see ``huanghe.api.errors``).

Run it with ``huanghe up`` or ``uvicorn --factory huanghe.api.app:create_app``.
"""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from starlette.concurrency import run_in_threadpool

from huanghe import __version__
from huanghe.api import health, security
from huanghe.api.errors import install_error_handlers
from huanghe.data import router as datasets
from huanghe.jobs import router as jobs
from huanghe.network import router as network
from huanghe.network import topology_router as topology
from huanghe.regulator import router as observatory
from huanghe.settings import Settings
from huanghe.store.db import make_engine, make_session_factory
from huanghe.store.migrate import migrate
from huanghe.telemetry import router as telemetry_routes
from huanghe.tenancy import router as tenancy
from huanghe.web import console

API_PREFIX = "/api/v1"


def _freeze_startup_heap() -> None:
    """Move everything alive after start-up (modules, app, models: ~150k objects) out of the cyclic GC's
    reach (``gc.freeze``). Otherwise every full collection rescans them: ~90-120 ms with the whole process
    stopped, a few times a second under load, which was the p99 latency of every endpoint."""
    gc.collect()
    gc.freeze()


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the application for ``settings`` (default: from ``HUANGHE_*`` environment variables)."""
    settings = settings or Settings()
    engine = make_engine(settings.database_url)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        if settings.migrate_on_startup:
            await run_in_threadpool(migrate, engine)
        try:
            with jobs.scheduler_running(_app):
                async with telemetry_routes.telemetry_running(_app):
                    _freeze_startup_heap()
                    yield
        finally:
            _app.state.audit_writer.close()
            engine.dispose()

    app = FastAPI(
        title="Huanghe (黄河) API",
        version=__version__,
        description="Province-wide compute network: catalog, topology, placement. Units are in field names.",
        lifespan=lifespan,
        debug=False,
        redoc_url=None,  # ReDoc loads from a CDN; the offline Swagger UI at /docs is served instead
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.session_factory = make_session_factory(engine)
    install_error_handlers(app)
    security.install(app)  # auth dependency + policy table, audit/rate/size middleware, own routers
    app.include_router(health.router)
    app.include_router(network.router, prefix=API_PREFIX)
    app.include_router(tenancy.router, prefix=API_PREFIX)
    app.include_router(datasets.router, prefix=API_PREFIX)
    app.include_router(topology.router, prefix=API_PREFIX)
    jobs.install(app, API_PREFIX)
    telemetry_routes.install(app, API_PREFIX)
    app.include_router(observatory.router, prefix=API_PREFIX)
    console.mount(app)
    return app
