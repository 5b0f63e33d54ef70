"""Alembic environment. Used programmatically by :func:`huanghe.store.migrate.migrate` (no alembic.ini):
the caller puts an open connection in ``config.attributes["connection"]``, or a URL in
``sqlalchemy.url``. SQLite runs in batch mode so later migrations can alter tables."""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection

from huanghe.store.db import make_engine
from huanghe.store.models import Base

config = context.config
target_metadata = Base.metadata


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    url = config.get_main_option("sqlalchemy.url")
    if not url:
        raise RuntimeError("no database: pass a connection or set sqlalchemy.url")
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            _run(conn)
    finally:
        engine.dispose()


if context.is_offline_mode():
    raise RuntimeError("offline (SQL script) migrations are not supported; run huanghe.store.migrate")
run_migrations_online()
