"""Run the Alembic migrations shipped inside the package (works from an installed wheel, any cwd).

``migrate(url)`` upgrades the database to the newest revisions (``heads``: every branch, e.g. ``0002_jobs``
and ``0003_telemetry`` both grow from ``0001_catalog``); it is idempotent.
``alembic_config(url)`` gives a Config for other Alembic commands (e.g. ``command.downgrade``).
"""

from __future__ import annotations

from collections.abc import Iterable
from importlib import resources

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine
from sqlalchemy.engine import URL

from huanghe.store.db import make_engine

MIGRATIONS_PACKAGE = "huanghe.store"


def alembic_config() -> Config:
    """An in-memory Alembic config pointing at ``huanghe/store/migrations``."""
    cfg = Config()
    location = resources.files(MIGRATIONS_PACKAGE).joinpath("migrations")
    cfg.set_main_option("script_location", str(location))
    return cfg


def _joined(revisions: Iterable[str]) -> str | None:
    ordered = sorted(revisions)
    return ",".join(ordered) if ordered else None


def head_revision() -> str | None:
    """The newest revision id shipped with the package; several heads (branches) are joined by ',' in
    sorted order, e.g. ``"0002_jobs,0003_telemetry"``."""
    return _joined(ScriptDirectory.from_config(alembic_config()).get_heads())


def current_revision(engine: Engine) -> str | None:
    """The revision(s) the database is at, in the form of :func:`head_revision` (None before the first)."""
    with engine.connect() as conn:
        return _joined(MigrationContext.configure(conn).get_current_heads())


def migrate(url: str | URL | Engine, revision: str = "heads") -> None:
    """Upgrade the database at ``url`` (or behind ``engine``) to ``revision`` (default: newest)."""
    engine = url if isinstance(url, Engine) else make_engine(url)
    try:
        cfg = alembic_config()
        with engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, revision)
    finally:
        if not isinstance(url, Engine):
            engine.dispose()
