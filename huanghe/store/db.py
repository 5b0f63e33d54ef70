"""Engines and sessions.

``make_engine(url)`` accepts any SQLAlchemy URL; two databases are supported and tested:

* SQLite (``sqlite:///path/to.db``): the parent directory is created, and every connection gets
  ``journal_mode=WAL`` (file databases), ``foreign_keys=ON`` and ``busy_timeout`` (ms, see
  :data:`SQLITE_BUSY_TIMEOUT_MS`), so readers and one writer share the file without "database is locked".
* PostgreSQL through psycopg 3 (``postgresql+psycopg://``); a plain ``postgresql://`` URL is mapped to it.
  The pool keeps up to ``pool_size`` connections open (default :data:`DEFAULT_POOL_SIZE`: the requests a worker
  serves in threads at once plus its background threads) and opens at most ``max_overflow`` more while all are
  busy (closed again when returned), so a burst of requests reuses connections instead of forking a PostgreSQL backend and
  authenticating per request (issue #16: SQLAlchemy's default 5 + 10 opened 240–403 connections per 3,000
  ``GET /healthz``). A connection is checked (``SELECT 1``) before use only when it sat unused in the pool for
  :data:`PING_IDLE_S` or more: that is when a database restart, an idle timeout or a dropped route goes
  unnoticed; a connection in steady use is not pinged on every checkout (one round trip per request otherwise).
  A connection that breaks while in use fails its request (503 + ``Retry-After`` in the API) and SQLAlchemy
  then invalidates every pooled connection older than the failure, so the next requests reconnect.
  Connections are replaced after :data:`POOL_RECYCLE_S`.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.orm import Session, sessionmaker

#: How long a SQLite connection waits for a lock before failing, in milliseconds.
SQLITE_BUSY_TIMEOUT_MS = 10_000
#: Connections a PostgreSQL engine keeps open (opened on demand): anyio's default thread pool (40 requests served
#: in threads at once per worker process) + 10 for the background threads (a connection held by each loop the
#: process leads, the submission group commit, the audit chainer, the loops' ticks), so that neither a burst of
#: requests nor the background threads wait for, or churn, connections.
DEFAULT_POOL_SIZE = 50
#: Connections opened beyond ``pool_size`` while every pooled one is busy; closed when returned.
DEFAULT_MAX_OVERFLOW = 10
#: A pooled PostgreSQL connection unused for at least this many seconds is checked with ``SELECT 1`` before use.
PING_IDLE_S = 10.0
#: Seconds after which a pooled PostgreSQL connection is closed and reopened at its next checkout.
POOL_RECYCLE_S = 1800
_IDLE_SINCE = "huanghe_idle_since"


def normalize_url(url: str | URL) -> URL:
    """Parse ``url``; map ``postgresql://`` / ``postgres://`` to the psycopg 3 driver."""
    parsed = make_url(url) if isinstance(url, str) else url
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed


def is_sqlite(url: str | URL) -> bool:
    return normalize_url(url).get_backend_name() == "sqlite"


def _sqlite_file(url: URL) -> Path | None:
    db = url.database
    if not db or db == ":memory:" or db.startswith("file:"):
        return None
    return Path(db)


def make_engine(
    url: str | URL,
    *,
    echo: bool = False,
    pool_size: int = DEFAULT_POOL_SIZE,
    max_overflow: int = DEFAULT_MAX_OVERFLOW,
    ping_idle_s: float = PING_IDLE_S,
) -> Engine:
    """Create an engine for ``url`` with the per-database settings described in the module docstring
    (``pool_size``, ``max_overflow`` and ``ping_idle_s``, seconds, apply to PostgreSQL only)."""
    parsed = normalize_url(url)
    if parsed.get_backend_name() != "sqlite":
        engine = create_engine(
            parsed, echo=echo, pool_size=pool_size, max_overflow=max_overflow, pool_recycle=POOL_RECYCLE_S
        )
        _ping_when_idle(engine, ping_idle_s)
        return engine
    path = _sqlite_file(parsed)
    if path is not None:
        path.expanduser().resolve().parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(
        parsed, echo=echo, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000, "check_same_thread": False}
    )
    wal = path is not None

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        cur = dbapi_conn.cursor()
        try:
            if wal:
                cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        finally:
            cur.close()

    return engine


def _ping_when_idle(engine: Engine, idle_s: float) -> None:
    """Check a pooled connection before use only if it was idle ``idle_s`` seconds or more; a broken one is
    replaced by a new connection (``DisconnectionError`` makes the pool reconnect and retry the checkout)."""

    @event.listens_for(engine, "checkin")
    def _on_checkin(_dbapi_conn: Any, record: Any) -> None:
        record.info[_IDLE_SINCE] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _on_checkout(dbapi_conn: Any, record: Any, _proxy: Any) -> None:
        since = record.info.get(_IDLE_SINCE)  # None: a new connection (``info`` is cleared on reconnect)
        if since is None or time.monotonic() - since < idle_s:
            return
        try:
            engine.dialect.do_ping(dbapi_conn)
            dbapi_conn.rollback()  # psycopg began a transaction for the SELECT: hand the connection out idle
        except Exception as exc:  # any failure of SELECT 1: the connection is not usable, replace it
            raise DisconnectionError(
                f"pooled connection idle {time.monotonic() - since:.0f} s is broken"
            ) from exc


def make_session_factory(engine_or_url: Engine | str | URL) -> sessionmaker[Session]:
    """A session factory bound to an engine (or to a new engine for a URL). Objects stay usable after commit.

    Every domain's tables are registered on the shared metadata first (:mod:`huanghe.store.models`), so a
    check that names another domain's table (:func:`huanghe.store.crud.refuse_if_referenced`) always sees it."""
    import huanghe.store.models  # noqa: F401  (registers all tables; imported late: it imports every domain)

    engine = engine_or_url if isinstance(engine_or_url, Engine) else make_engine(engine_or_url)
    return sessionmaker(bind=engine, expire_on_commit=False, autoflush=False)


def connection_budget_problem(url: str | URL, processes: int, per_process: int) -> str | None:
    """Why ``processes`` processes of this platform, each holding up to ``per_process`` connections, may exceed
    what the PostgreSQL server at ``url`` allows (``max_connections`` less ``superuser_reserved_connections``
    less the connections other clients hold now), or None when they fit (and always on SQLite). English and
    Chinese, naming the settings to change."""
    if is_sqlite(url):
        return None
    from sqlalchemy import text
    from sqlalchemy.pool import NullPool

    engine = create_engine(normalize_url(url), poolclass=NullPool)
    try:
        with engine.connect() as conn:
            allowed = int(conn.execute(text("SHOW max_connections")).scalar_one())
            reserved = int(conn.execute(text("SHOW superuser_reserved_connections")).scalar_one())
            in_use = int(conn.execute(text("SELECT count(*) FROM pg_stat_activity WHERE backend_type = "
                                           "'client backend'")).scalar_one()) - 1  # fmt: skip
    finally:
        engine.dispose()
    free = allowed - reserved - max(0, in_use)
    need = processes * per_process
    if need <= free:
        return None
    return (
        f"{processes} worker process(es) may open up to {need} PostgreSQL connections "
        f"(HUANGHE_DB_POOL_SIZE + HUANGHE_DB_MAX_OVERFLOW = {per_process} each) but the server has {free} free "
        f"(max_connections {allowed}, {reserved} reserved, {max(0, in_use)} in use): under load some requests "
        "would be refused with 503; raise max_connections or lower HUANGHE_DB_POOL_SIZE "
        "(数据库连接数可能超出 PostgreSQL 上限)"
    )
