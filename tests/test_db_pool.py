"""The PostgreSQL connection pool (issue #16) on a real PostgreSQL: bursts of concurrent requests reuse the
pool's connections (SQLAlchemy's default 5 + 10 overflow forked a new backend for about one ``GET /healthz`` in
ten), and the pool recovers after PostgreSQL restarts, both for connections that sat idle (checked before use)
and for connections in steady use (one failure, then every older connection is replaced)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, event, text
from sqlalchemy.exc import OperationalError

from huanghe.api.app import create_app
from huanghe.settings import Settings
from huanghe.store.db import DEFAULT_POOL_SIZE, connection_budget_problem, make_engine
from tests.infra.postgres import PostgresServer

pytestmark = pytest.mark.postgres
BURST = 64  # concurrent requests: more than the 40 threads a worker serves requests in
BURSTS = 5


def _count_connects(engine: Engine) -> list[int]:
    """``[opened, closed]``: DBAPI connections the engine's pool opened and closed so far (pool events)."""
    counts = [0, 0]
    lock = threading.Lock()

    @event.listens_for(engine, "connect")
    def _on_connect(_dbapi_conn: Any, _record: Any) -> None:
        with lock:
            counts[0] += 1

    @event.listens_for(engine, "close")
    def _on_close(_dbapi_conn: Any, _record: Any) -> None:
        with lock:
            counts[1] += 1

    return counts


def test_bursts_of_requests_reuse_the_pools_connections(fresh_postgres_url: str) -> None:
    app = create_app(Settings(database_url=fresh_postgres_url, dev_mode=True, migrate_on_startup=True))
    counts = _count_connects(app.state.engine)
    opened = []
    with TestClient(app) as client, ThreadPoolExecutor(BURST) as pool:
        for _ in range(BURSTS):
            before = counts[0]
            codes = list(pool.map(lambda _i: client.get("/healthz").status_code, range(BURST * 4)))
            assert codes == [200] * (BURST * 4)
            opened.append(counts[0] - before)
        closed = counts[1]
    print(f"{BURSTS} bursts of {BURST * 4} GET /healthz ({BURST} at once): PostgreSQL connections opened per "
          f"burst {opened}, closed {closed}")  # fmt: skip
    assert closed == 0, f"connections closed after use (churn): {closed} closed, opened {opened}"
    assert sum(opened) <= DEFAULT_POOL_SIZE, opened


@pytest.fixture
def private_pg() -> Iterator[tuple[PostgresServer, str]]:
    pg = PostgresServer.start()  # its own server: this test takes PostgreSQL down
    try:
        yield pg, pg.create_database("pool")
    finally:
        pg.stop()


def _use(engine: Engine, n: int) -> None:
    """Check out ``n`` connections at once and run a query on each (the pool then holds ``n``)."""
    conns = [engine.connect() for _ in range(n)]
    try:
        for c in conns:
            assert c.execute(text("SELECT 1")).scalar_one() == 1
    finally:
        for c in conns:
            c.close()


def test_idle_connections_are_checked_after_a_restart(private_pg: tuple[PostgresServer, str]) -> None:
    pg, url = private_pg
    engine = make_engine(url, ping_idle_s=0.5)
    opened = _count_connects(engine)
    try:
        _use(engine, 4)
        assert opened[0] == 4
        pg.cut()
        pg.restore()
        time.sleep(0.6)  # the pooled connections are now idle for longer than ping_idle_s
        _use(engine, 4)  # no error: each broken connection was found by its check and replaced
        assert opened[0] == 8
        _use(engine, 4)  # in steady use: reused, nothing opened
        assert opened[0] == 8
    finally:
        engine.dispose()


def test_busy_connections_fail_once_after_a_restart_then_all_are_replaced(
    private_pg: tuple[PostgresServer, str],
) -> None:
    pg, url = private_pg
    engine = make_engine(url, ping_idle_s=3600)  # never idle long enough to be checked
    try:
        _use(engine, 4)
        pg.cut()
        pg.restore()
        with pytest.raises(OperationalError):  # the API answers this with 503 + Retry-After
            _use(engine, 1)
        _use(engine, 4)  # the failure invalidated every older pooled connection: all reconnect
    finally:
        engine.dispose()


def test_a_connection_budget_over_max_connections_is_named(fresh_postgres_url: str, tmp_path: Any) -> None:
    """`huanghe up` warns when its workers' pools may exceed the server's free connections (real PostgreSQL)."""
    assert connection_budget_problem(fresh_postgres_url, 1, 5) is None
    engine = make_engine(fresh_postgres_url)
    with engine.connect() as conn:
        allowed = int(conn.execute(text("SHOW max_connections")).scalar_one())
    engine.dispose()
    problem = connection_budget_problem(fresh_postgres_url, 2, allowed)
    assert problem is not None
    assert (
        f"up to {2 * allowed} PostgreSQL connections" in problem and f"max_connections {allowed}" in problem
    )
    assert "HUANGHE_DB_POOL_SIZE" in problem
    assert connection_budget_problem(f"sqlite:///{tmp_path / 'x.db'}", 8, 10_000) is None  # one writer anyway
