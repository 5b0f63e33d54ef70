"""Run the Alembic migrations shipped inside the package (works from an installed wheel, any cwd).

``migrate(url)`` upgrades the database to the newest revision (``head``); it is idempotent.
``alembic_config(url)`` gives a Config for other Alembic commands (e.g. ``command.downgrade``).
"""

from __future__ import annotations

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


def head_revision() -> str | None:
    """The newest revision id shipped with the package."""
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at (None before the first migration)."""
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def migrate(url: str | URL | Engine, revision: str = "head") -> None:
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
