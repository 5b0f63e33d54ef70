"""Typed settings of the platform, read from the environment (prefix ``HUANGHE_``) or given in code.

| setting        | env var                 | meaning |
|----------------|-------------------------|---------|
| ``database_url`` | ``HUANGHE_DATABASE_URL`` | SQLAlchemy URL. Default: SQLite file ``<data_dir()>/huanghe.db``. PostgreSQL: ``postgresql+psycopg://user:pw@host:5432/db`` (``postgresql://`` is accepted and mapped to psycopg 3). |
| ``dev_mode``     | ``HUANGHE_DEV_MODE``     | development conveniences (verbose errors in logs, auto-reload friendly); never on in production. |
| ``host``         | ``HUANGHE_HOST``         | interface the server binds, default loopback ``127.0.0.1``. |
| ``port``         | ``HUANGHE_PORT``         | TCP port of the API and console, 1..65535, default 8000. |
| ``network``      | ``HUANGHE_NETWORK``      | topology imported when the database has no centers: a bundled network name or a YAML path. |
| ``migrate_on_startup`` | ``HUANGHE_MIGRATE_ON_STARTUP`` | run ``alembic upgrade head`` when the app starts (idempotent). |
"""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from huanghe.paths import data_dir


def default_database_url() -> str:
    """SQLite file in the per-user data directory (created on first use)."""
    return f"sqlite:///{data_dir() / 'huanghe.db'}"


class Settings(BaseSettings):
    """Settings of one Huanghe process. Values come from arguments, then ``HUANGHE_*`` env vars, then defaults."""

    model_config = SettingsConfigDict(env_prefix="HUANGHE_", extra="ignore")

    database_url: str = Field(default_factory=default_database_url, min_length=1)
    dev_mode: bool = False
    host: str = Field(default="127.0.0.1", min_length=1)
    port: int = Field(default=8000, ge=1, le=65535)
    network: str = Field(default="shandong", min_length=1)
    migrate_on_startup: bool = True
