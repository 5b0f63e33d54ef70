"""`huanghe up` (serve the API and console) and `huanghe topology import FILE` (load a network into the DB).

``huanghe up`` binds its port first (a port in use fails at once, and nothing started later can take it),
migrates the database, imports ``--network`` when the database has no center yet, in dev mode
starts the local storage endpoints (one SeaweedFS server per economic circle with storage, under the data
directory, :mod:`huanghe.data.dev_storage`), then serves with uvicorn until stopped (Ctrl-C / SIGTERM); the
storage servers are stopped when it exits (normally, Ctrl-C, SIGTERM, failed start-up; after a SIGKILL the next
start kills them). Options override ``HUANGHE_*`` environment variables (see :mod:`huanghe.settings`).
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import signal
import socket
from typing import TYPE_CHECKING, Annotated

import typer

from huanghe.cli.db_access import DbOption, migrate_or_exit, safe_url, settings_or_exit
from huanghe.core.errors import ServiceError
from huanghe.network import service as network_svc
from huanghe.network import topology_store as topology_store
from huanghe.network.schemas import ImportSummary
from huanghe.network.topology_cli import load_or_exit, topology_app
from huanghe.paths import data_dir
from huanghe.settings import Settings
from huanghe.store.db import make_session_factory

if TYPE_CHECKING:
    from huanghe.data.dev_storage import DevStorage


def _import(url: str, network: str, *, replace: bool) -> ImportSummary:
    topo = load_or_exit(network)
    factory = make_session_factory(url)
    try:
        with factory() as session:
            return topology_store.import_topology(session, topo, replace=replace)
    except ServiceError as exc:
        typer.echo(f"import refused (导入被拒绝): {len(exc.errors)} problem(s)", err=True)
        for err in exc.errors:
            typer.echo(f"  {err}", err=True)
        raise typer.Exit(1) from None
    finally:
        factory.kw["bind"].dispose()


def _center_count(url: str) -> int:
    factory = make_session_factory(url)
    try:
        with factory() as session:
            return network_svc.count_centers(session)
    finally:
        factory.kw["bind"].dispose()


def _sandbox_refusals(url: str) -> list[str]:
    """Why the ``local`` pools of the database cannot run tenants' jobs safely ([] when they can)."""
    from sqlalchemy import select

    from huanghe.backends.sandbox import startup_refusals
    from huanghe.network.models import PoolRow

    factory = make_session_factory(url)
    try:
        with factory() as session:
            rows = session.execute(select(PoolRow.id, PoolRow.backend, PoolRow.backend_settings)).all()
    finally:
        factory.kw["bind"].dispose()
    return startup_refusals([(r[0], r[1], dict(r[2] or {})) for r in rows])


def _on_sigterm(signum: int, _frame: object) -> None:
    raise SystemExit(128 + signum)  # unwinds `up` so the storage servers are stopped (finally)


def _dev_storage(settings: Settings, count: int | None) -> DevStorage | None:
    """Start the local storage endpoints (dev mode by default; ``--storage-servers N``), or exit 1 saying why."""
    if count == 0 or (count is None and not settings.dev_mode):
        return None
    from huanghe.data.dev_storage import start_dev_storage
    from huanghe.data.seaweed import SeaweedUnavailableError
    from huanghe.network.secrets import SecretKeyError

    factory = make_session_factory(settings.database_url)
    try:
        return start_dev_storage(
            factory,
            data_dir(),
            count=count,
            progress=lambda m: typer.echo(m, err=True),
            dev_mode=settings.dev_mode,
        )
    except (SeaweedUnavailableError, SecretKeyError, OSError) as exc:
        typer.echo(f"storage endpoints did not start (存储端点启动失败): {exc}", err=True)
        raise typer.Exit(1) from None
    finally:
        factory.kw["bind"].dispose()


def _listen_or_exit(settings: Settings, workers: int) -> list[socket.socket]:
    """The listening sockets of the API (one per worker, :func:`huanghe.cli.workers.bind_group`), bound before
    anything slow starts: a port in use is reported at once, and no process started meanwhile (a storage server
    picking free ports) can take the port; clients that connect early wait in the backlog. Exit 1 on failure."""
    from huanghe.cli.workers import bind_group

    try:
        return bind_group(settings.host, settings.port, workers)
    except OSError as exc:  # the port is taken or the host is not an address of this machine
        typer.echo(f"cannot listen on {settings.host}:{settings.port} (无法监听): {exc}", err=True)
        raise typer.Exit(1) from None


def _run_workers(settings: Settings, workers: int, log_level: str, sockets: list[socket.socket]) -> None:
    """Serve with ``workers`` processes (:mod:`huanghe.cli.workers`: one ``SO_REUSEPORT`` socket each, a dead
    worker restarted): each builds the app from ``HUANGHE_*`` (set here from the resolved settings); their
    metrics are merged through a fresh prometheus-client multiprocess directory."""
    import shutil

    from huanghe.cli.workers import serve_workers
    from huanghe.paths import data_dir

    metrics_dir = data_dir() / "metrics" / str(os.getpid())
    shutil.rmtree(metrics_dir, ignore_errors=True)
    metrics_dir.mkdir(parents=True)
    os.environ.update({
        "HUANGHE_HOST": settings.host, "HUANGHE_PORT": str(settings.port),
        "HUANGHE_DATABASE_URL": settings.database_url, "HUANGHE_NETWORK": settings.network,
        "HUANGHE_MIGRATE_ON_STARTUP": "0", "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir),
    })  # fmt: skip
    if settings.session_secret is None:  # dev mode: one console-session key for every worker of this run
        os.environ["HUANGHE_SESSION_SECRET"] = secrets.token_urlsafe(32)
    typer.echo(f"{workers} worker processes (工作进程); background loops leader-elected per loop", err=True)
    try:  # one SO_REUSEPORT socket per worker: the kernel spreads the connections (issue #16)
        serve_workers("huanghe.api.app:create_app", host=settings.host, port=settings.port, workers=workers,
                      log_level=log_level, sockets=sockets)  # fmt: skip
    finally:
        shutil.rmtree(metrics_dir, ignore_errors=True)


def up(
    host: Annotated[str | None, typer.Option(help="interface to bind (default 127.0.0.1)")] = None,
    port: Annotated[int | None, typer.Option(help="TCP port (default 8000)", min=1, max=65535)] = None,
    db: DbOption = None,
    network: Annotated[
        str | None, typer.Option(help="network imported into an empty database: bundled name or YAML file")
    ] = None,
    log_level: Annotated[str, typer.Option(help="uvicorn log level")] = "info",
    storage_servers: Annotated[
        int | None,
        typer.Option(
            "--storage-servers",
            envvar="HUANGHE_STORAGE_SERVERS",
            min=0,
            help="local SeaweedFS servers for the storage endpoints (dev mode default: one per economic circle "
            "with storage; 0 = none), under the data directory; env HUANGHE_STORAGE_SERVERS",
        ),
    ] = None,
    workers: Annotated[
        int,
        typer.Option(
            "--workers",
            envvar="HUANGHE_WORKERS",
            min=1,
            max=64,
            help="API worker processes (needs PostgreSQL when > 1; every background loop still runs once: "
            "leader election per loop); env HUANGHE_WORKERS",
        ),
    ] = 1,
) -> None:
    """Start the platform: API under /api/v1, docs at /docs, console at / (启动平台)."""
    import uvicorn

    from huanghe.api.app import create_app

    settings = settings_or_exit(
        host=host, port=port, database_url=db, network=network, migrate_on_startup=False
    )
    if workers > 1 and not settings.database_url.startswith("postgresql"):
        typer.echo(
            f"refusing to start (拒绝启动): --workers {workers} needs PostgreSQL (--db postgresql+psycopg://…); "
            "SQLite has one writer at a time, so several workers would fight over its lock (多进程需要 PostgreSQL)",
            err=True,
        )
        raise typer.Exit(2)
    try:
        settings.check_secrets()
    except ValueError as exc:  # InsecureSettingsError: no session secret outside dev mode
        typer.echo(f"refusing to start (拒绝启动): {exc}", err=True)
        raise typer.Exit(2) from None
    sockets = _listen_or_exit(settings, workers)
    migrate_or_exit(settings.database_url)
    from huanghe.store.db import connection_budget_problem

    budget = connection_budget_problem(
        settings.database_url, workers, settings.db_pool_size + settings.db_max_overflow
    )
    if budget is not None:  # a warning, not a refusal: the pools open connections on demand
        typer.echo(f"warning (警告): {budget}", err=True)
    if _center_count(settings.database_url) == 0:
        summary = _import(settings.database_url, settings.network, replace=False)
        typer.echo(
            f"imported network {summary.name} (已导入网络): {summary.centers} centers, {summary.pools} pools, "
            f"{summary.links} links"
        )
    refusals = [] if settings.dev_mode else _sandbox_refusals(settings.database_url)
    if refusals:  # production: tenants' jobs must never run as the platform (issue 11)
        typer.echo("refusing to start (拒绝启动): local jobs would run unsandboxed", err=True)
        for line in refusals:
            typer.echo(f"  {line}", err=True)
        raise typer.Exit(2)
    signal.signal(signal.SIGTERM, _on_sigterm)
    storage = _dev_storage(settings, storage_servers)
    try:
        url = f"http://{settings.host}:{settings.port}"
        typer.echo(
            f"Huanghe serving on {url} (服务地址)  API {url}/api/v1  docs {url}/docs  "
            f"database {safe_url(settings.database_url)}"
        )
        logging.getLogger("huanghe").setLevel(log_level.upper())
        if workers > 1:
            _run_workers(settings, workers, log_level, sockets)
        else:
            config = uvicorn.Config(
                create_app(settings), host=settings.host, port=settings.port, log_level=log_level
            )
            uvicorn.Server(config).run(sockets=sockets)
    finally:
        if storage is not None:
            typer.echo("stopping storage endpoints (停止存储端点)", err=True)
            storage.stop()
        for sock in sockets:
            sock.close()


def import_cmd(
    file: Annotated[str, typer.Argument(help="topology YAML file or bundled network name")],
    db: DbOption = None,
    replace: Annotated[
        bool, typer.Option("--replace", help="make the stored network exactly FILE (default: merge into it)")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="print the summary as JSON")] = False,
) -> None:
    """Import a topology into the database: merge by default, or --replace (导入拓扑到数据库)."""
    settings = settings_or_exit(database_url=db)
    migrate_or_exit(settings.database_url)
    summary = _import(settings.database_url, file, replace=replace)
    if as_json:
        typer.echo(json.dumps(summary.model_dump(), ensure_ascii=False))
        return
    typer.echo(
        f"imported {summary.name} into {safe_url(settings.database_url)} ({summary.mode}) (已导入): "
        f"{summary.regions} regions, {summary.cities} cities, {summary.centers} centers, "
        f"{summary.pools} pools, {summary.links} links"
    )


def register(app: typer.Typer) -> None:
    app.command("up")(up)
    topology_app.command("import")(import_cmd)
