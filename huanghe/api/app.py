"""The FastAPI application: ``create_app(settings)``.

* every domain router of :data:`DOMAIN_ROUTERS` under :data:`~huanghe.api.API_PREFIX` (``/api/v1/...``);
  the site's routers (login, ``/healthz``, ``/metrics``); the console at ``/``; OpenAPI docs at ``/docs``
  (schema at ``/openapi.json``).
* ``app.state.settings`` and ``app.state.session_factory`` (a SQLAlchemy ``sessionmaker``) are set here;
  routers get a session per request from the factory.
* With ``settings.migrate_on_startup`` the database is upgraded to the newest migration when the app
  starts (lifespan); the engine is disposed when it stops.
* Errors are JSON ``{"detail": [{"path", "message"}]}``, mapped in one place (``huanghe.api.errors``).

Run it with ``huanghe up`` or ``uvicorn --factory huanghe.api.app:create_app``.
"""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import APIRouter, FastAPI
from starlette.concurrency import run_in_threadpool

from huanghe import __version__
from huanghe.api import API_PREFIX, capabilities, health, instrumentation, login, security
from huanghe.api.errors import install_error_handlers
from huanghe.audit import router as audit
from huanghe.backends import router as backends
from huanghe.billing import programme_router as billing_programmes
from huanghe.billing import router as billing
from huanghe.billing import statements_router as billing_statements
from huanghe.data import endpoints_router as data_endpoints
from huanghe.data import files_router as data_files
from huanghe.data import loop as data_loop
from huanghe.data import protection_router as data_protection
from huanghe.data import router as data
from huanghe.data import rules_router as data_rules
from huanghe.data import storage_router as data_storage
from huanghe.data import transfer_router as data_transfers
from huanghe.jobs import center_router as center_jobs
from huanghe.jobs import router as jobs
from huanghe.network import drains_router, offerings_router, secrets_router
from huanghe.network import router as network
from huanghe.network import secrets as network_secrets
from huanghe.network import topology_router as topology
from huanghe.regulator import empowerment_router, risk_loop, risk_router
from huanghe.regulator import projects_router as projects
from huanghe.regulator import router as observatory
from huanghe.settings import Settings
from huanghe.store.db import make_engine, make_session_factory
from huanghe.store.migrate import migrate
from huanghe.telemetry import router as telemetry
from huanghe.tenancy import router as tenancy
from huanghe.tenancy import tokens_router as tokens
from huanghe.web import console

#: Every domain's router, each mounted once under :data:`~huanghe.api.API_PREFIX`, in this order (the
#: order of the OpenAPI document). A new domain router is added here, and its routes to the policy table.
DOMAIN_ROUTERS: tuple[APIRouter, ...] = (
    tokens.router,
    capabilities.router,
    audit.router,
    data_protection.router,
    billing.router,
    billing_programmes.router,
    projects.router,
    network.router,
    tenancy.router,
    data.router,
    data_transfers.router,
    data_files.router,
    data_endpoints.router,
    data_rules.router,
    data_storage.router,
    risk_router.router,
    topology.router,
    backends.router,
    secrets_router.router,
    jobs.router,
    telemetry.router,
    observatory.router,
    offerings_router.router,
    empowerment_router.router,
    drains_router.router,
    billing_statements.router,
    center_jobs.router,
)
#: The site's own routers, outside the API prefix: console login, ``/healthz``, ``/metrics``.
SITE_ROUTERS: tuple[APIRouter, ...] = (login.router, health.router, instrumentation.router)


def _freeze_startup_heap() -> None:
    """Move everything alive after start-up (modules, app, models: ~150k objects) out of the cyclic GC's
    reach (``gc.freeze``). Otherwise every full collection rescans them: ~90-120 ms with the whole process
    stopped, a few times a second under load, which was the p99 latency of every endpoint."""
    gc.collect()
    gc.freeze()


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the application for ``settings`` (default: from ``HUANGHE_*`` environment variables)."""
    settings = settings or Settings()
    engine = make_engine(
        settings.database_url, pool_size=settings.db_pool_size, max_overflow=settings.db_max_overflow
    )

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        if settings.migrate_on_startup:
            await run_in_threadpool(migrate, engine)
        # back-end secrets need their key: refused outside dev mode when secrets exist and no key is set
        await run_in_threadpool(
            network_secrets.check_key_at_startup, _app.state.session_factory, dev_mode=settings.dev_mode
        )
        _app.state.cache_bus.start()  # token revocations of other replicas empty our cache at once
        if engine.dialect.name == "postgresql":  # links audit inbox entries into the chain (issue #16)
            _app.state.audit_chainer.start()
        try:
            with (
                jobs.scheduler_running(_app),
                data_transfers.transfers_running(_app),
                data_loop.data_loop_running(engine, _app.state.session_factory),
                risk_loop.risk_loop_running(engine, _app.state.session_factory),
            ):
                async with telemetry.telemetry_running(_app):
                    _freeze_startup_heap()
                    yield
        finally:
            _app.state.cache_bus.stop()
            _app.state.audit_writer.close()
            _app.state.audit_chainer.stop()  # chains what is left
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
    security.install(app)  # authentication + authorisation dependency, limits, redaction, audit trail
    instrumentation.install(app)  # request metrics (outermost middleware)
    jobs.init_state(app)
    data_transfers.init_state(app)
    telemetry.init_state(app)
    for router in SITE_ROUTERS:
        app.include_router(router)
    for router in DOMAIN_ROUTERS:
        app.include_router(router, prefix=API_PREFIX)
    console.mount(app)
    return app
