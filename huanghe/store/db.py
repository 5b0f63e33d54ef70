"""Engines and sessions.

``make_engine(url)`` accepts any SQLAlchemy URL; two databases are supported and tested:

* SQLite (``sqlite:///path/to.db``): the parent directory is created, and every connection gets
  ``journal_mode=WAL`` (file databases), ``foreign_keys=ON`` and ``busy_timeout`` (ms, see
  :data:`SQLITE_BUSY_TIMEOUT_MS`), so readers and one writer share the file without "database is locked".
* PostgreSQL through psycopg 3 (``postgresql+psycopg://``); a plain ``postgresql://`` URL is mapped to it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.orm import Session, sessionmaker

#: How long a SQLite connection waits for a lock before failing, in milliseconds.
SQLITE_BUSY_TIMEOUT_MS = 10_000


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


def make_engine(url: str | URL, *, echo: bool = False) -> Engine:
    """Create an engine for ``url`` with the per-database settings described in the module docstring."""
    parsed = normalize_url(url)
    if parsed.get_backend_name() != "sqlite":
        return create_engine(parsed, echo=echo, pool_pre_ping=True)
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


def make_session_factory(engine_or_url: Engine | str | URL) -> sessionmaker[Session]:
    """A session factory bound to an engine (or to a new engine for a URL). Objects stay usable after commit.

    Every domain's tables are registered on the shared metadata first (:mod:`huanghe.store.models`), so a
    check that names another domain's table (:func:`huanghe.store.crud.refuse_if_referenced`) always sees it."""
    import huanghe.store.models  # noqa: F401  (registers all tables; imported late: it imports every domain)

    engine = engine_or_url if isinstance(engine_or_url, Engine) else make_engine(engine_or_url)
    return sessionmaker(bind=engine, expire_on_commit=False, autoflush=False)
