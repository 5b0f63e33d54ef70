"""Shared fixtures.

* ``postgres_server`` (session): a private PostgreSQL (tests/infra/postgres.py). Fails with a clear message
  when the binaries are missing, unless ``HUANGHE_SKIP_POSTGRES=1`` (then PostgreSQL tests are skipped).
* ``postgres_url`` (session): SQLAlchemy URL of one database on that server, shared by the session.
* ``fresh_postgres_url``: SQLAlchemy URL of a new, empty database for one test.
* ``db_url``: parametrized over ``sqlite`` (a file under tmp_path) and ``postgresql`` (a fresh database);
  tests using it run on both.
* ``migrated_url``: ``db_url`` upgraded to the newest migration.
* ``seaweed_servers`` (session): two real SeaweedFS S3 servers (tests/infra/seaweed.py).
"""

from __future__ import annotations

import functools
import itertools
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from tests.infra.postgres import PostgresServer, PostgresUnavailableError
from tests.infra.seaweed import SeaweedServer, SeaweedUnavailableError

_db_counter = itertools.count(1)


def _skip_postgres() -> bool:
    return os.environ.get("HUANGHE_SKIP_POSTGRES", "") not in ("", "0", "false", "no")


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    if _skip_postgres():
        pytest.skip("HUANGHE_SKIP_POSTGRES is set")
    try:
        server = PostgresServer.start()
    except PostgresUnavailableError as exc:
        pytest.fail(f"private PostgreSQL unavailable: {exc}", pytrace=False)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def postgres_url(postgres_server: PostgresServer) -> str:
    return postgres_server.create_database("huanghe_session")


@pytest.fixture
def fresh_postgres_url(postgres_server: PostgresServer) -> str:
    return postgres_server.create_database(f"t{os.getpid()}_{next(_db_counter)}")


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'huanghe.db'}"
    return str(request.getfixturevalue("fresh_postgres_url"))


@pytest.fixture
def migrated_url(db_url: str) -> str:
    from huanghe.store.migrate import migrate

    migrate(db_url)
    return db_url


@pytest.fixture
def session_factory(migrated_url: str) -> Iterator[sessionmaker[Session]]:
    """Session factory on the migrated database of ``db_url`` (both SQLite and PostgreSQL)."""
    from huanghe.store.db import make_session_factory

    factory = make_session_factory(migrated_url)
    try:
        yield factory
    finally:
        engine = factory.kw["bind"]
        engine.dispose()


@pytest.fixture
def mini_network_path() -> Path:
    """A small valid topology file (3 centers, 3 pools, 2 links) for store / API / server tests."""
    return Path(__file__).parent / "data" / "mini_network.yaml"


@pytest.fixture
def api_client(tmp_path: Path) -> Iterator[TestClient]:
    """A TestClient on a fresh app with a migrated, empty SQLite database under tmp_path."""
    from huanghe.api.app import create_app
    from huanghe.settings import Settings

    app = create_app(Settings(database_url=f"sqlite:///{tmp_path / 'api.db'}", migrate_on_startup=True))
    with TestClient(app) as client:
        yield client


# Back-end daemons (session fixtures registered once: slurm_cluster, ray_cluster, k8s_fake_api); the transfer
# tests' seeded world (tw).
pytest_plugins = ["tests.infra.slurm", "tests.infra.ray", "tests.infra.k8s", "tests.transfer_world"]


#: Session fixtures whose modules share one xdist worker: one Ray head for the suite rather than one per
#: worker (with a head on each core, Ray's job API took over 10 s to answer).
_SHARED_WORKER_FIXTURES = ("ray_cluster",)


@functools.cache
def _worker_scope(path: Path) -> str:
    """The xdist scope of a test module: the fixture's name if the module uses a shared-worker fixture."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError:
        return str(path)
    return next((name for name in _SHARED_WORKER_FIXTURES if name in text), str(path))


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """``--dist loadfile`` (``make test``), except that the modules using a fixture of
    ``_SHARED_WORKER_FIXTURES`` run on one worker. (xdist's own ``loadgroup`` marks do not work with
    pytest 9, whose node ids are read-only.)"""
    if config.getvalue("dist") != "loadfile":
        return None
    from xdist.scheduler import LoadFileScheduling  # type: ignore[import-untyped]

    root = config.rootpath

    class SharedFixtureScheduling(LoadFileScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return _worker_scope(root / nodeid.split("::", 1)[0])

    return SharedFixtureScheduling(config, log)


@pytest.fixture(scope="session")
def seaweed_servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[SeaweedServer]]:
    """Two real SeaweedFS servers (S3 gateways) for the session (tests/infra/seaweed.py)."""
    servers: list[SeaweedServer] = []
    try:
        for i in range(2):
            try:
                servers.append(SeaweedServer.start(tmp_path_factory.mktemp(f"weed{i}")))
            except SeaweedUnavailableError as exc:
                pytest.fail(f"SeaweedFS unavailable: {exc}", pytrace=False)
        yield servers
    finally:
        for server in servers:
            server.stop()


@pytest.fixture(scope="session")
def role_platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """One platform with authentication on and a token per role, shared by the console's role tests
    (tests/console_support.py)."""
    from tests.console_support import start_role_platform

    yield from start_role_platform(tmp_path_factory.mktemp("roles"))


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    """Headless Chromium (Debian's, never a downloaded one) for one test module. Not for the session: while
    Playwright's sync API runs, the main thread has a running event loop, and a later module's
    ``asyncio.run`` would fail (the order of modules differs from worker to worker under pytest-xdist)."""
    from tests.test_console_web import CHROMIUM, CHROMIUM_ARGS

    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} missing: run `make test-deps` (Debian package chromium)", pytrace=False)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()
