"""Typed settings of the platform, read from the environment (prefix ``HUANGHE_``) or given in code.

| setting        | env var                 | meaning |
|----------------|-------------------------|---------|
| ``database_url`` | ``HUANGHE_DATABASE_URL`` | SQLAlchemy URL. Default: SQLite file ``<data_dir()>/huanghe.db``. PostgreSQL: ``postgresql+psycopg://user:pw@host:5432/db`` (``postgresql://`` is accepted and mapped to psycopg 3). |
| ``dev_mode``     | ``HUANGHE_DEV_MODE``     | development conveniences (verbose errors in logs, auto-reload friendly, authentication off); never on in production; refuses any ``host`` but loopback. |
| ``host``         | ``HUANGHE_HOST``         | interface the server binds, default loopback ``127.0.0.1``. |
| ``port``         | ``HUANGHE_PORT``         | TCP port of the API and console, 1..65535, default 8000. |
| ``network``      | ``HUANGHE_NETWORK``      | topology imported when the database has no centers: a bundled network name or a YAML path. |
| ``migrate_on_startup`` | ``HUANGHE_MIGRATE_ON_STARTUP`` | run ``alembic upgrade head`` when the app starts (idempotent). |
| ``auth_enabled`` | ``HUANGHE_AUTH_ENABLED`` | require a token or a console session on every non-public route; default: on, except in dev mode. |
| ``session_secret`` | ``HUANGHE_SESSION_SECRET`` | key signing console session cookies (>= 32 characters); must be set outside dev mode, no default. |
| ``rate_limit_per_s`` / ``rate_limit_burst`` | ``HUANGHE_RATE_LIMIT_PER_S`` / ``..._BURST`` | token bucket per API token (or client address): refill per second, bucket size. |
| ``shared_rate_limits`` | ``HUANGHE_SHARED_RATE_LIMITS`` | buckets shared by every replica through the database (default: on with PostgreSQL, off with SQLite). |
| ``max_body_bytes`` | ``HUANGHE_MAX_BODY_BYTES`` | largest request body accepted (413 above), bytes. |
| ``db_pool_size`` / ``db_max_overflow`` | ``HUANGHE_DB_POOL_SIZE`` / ``..._MAX_OVERFLOW`` | PostgreSQL connections each process keeps open, opened on demand (default 50: 40 request threads + 10 background threads) / may open beyond them while all are busy (default 10, closed after use); a process holds at most their sum. |
"""

from __future__ import annotations

import ipaddress

from pydantic import Field, SecretStr
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
    auth_enabled: bool | None = None
    session_secret: SecretStr | None = None
    rate_limit_per_s: float = Field(default=50.0, gt=0)
    rate_limit_burst: int = Field(default=200, ge=1)
    shared_rate_limits: bool | None = None
    max_body_bytes: int = Field(default=32 * 1024 * 1024, ge=1024)
    db_pool_size: int = Field(default=50, ge=1, le=1000)
    db_max_overflow: int = Field(default=10, ge=0, le=1000)

    @property
    def auth_active(self) -> bool:
        """Whether requests must authenticate: ``auth_enabled`` if set, else on unless ``dev_mode``."""
        return self.auth_enabled if self.auth_enabled is not None else not self.dev_mode

    def check_secrets(self) -> None:
        """Refuse to serve without a real session secret outside dev mode, and dev mode (authentication off)
        on anything but a loopback address (raises :class:`InsecureSettingsError`)."""
        if self.dev_mode:
            if not is_loopback(self.host):
                raise InsecureSettingsError(
                    f"dev mode (HUANGHE_DEV_MODE) turns authentication off and may only bind a loopback address "
                    f"(127.0.0.1, ::1, localhost), not {self.host!r}: use --host 127.0.0.1, or unset "
                    "HUANGHE_DEV_MODE and set HUANGHE_SESSION_SECRET to serve other hosts (开发模式仅限本机)"
                )
            return
        secret = self.session_secret.get_secret_value() if self.session_secret is not None else ""
        if len(secret) < MIN_SECRET_CHARS:
            raise InsecureSettingsError(
                "HUANGHE_SESSION_SECRET must be set to a random value of at least "
                f'{MIN_SECRET_CHARS} characters outside dev mode (e.g. `python -c "import secrets; '
                'print(secrets.token_urlsafe(32))"`), or set HUANGHE_DEV_MODE=1 for local development '
                "(会话密钥未设置)"
            )


def is_loopback(host: str) -> bool:
    """Whether ``host`` (an address or a name) is a loopback interface: 127.0.0.0/8, ::1 or localhost."""
    name = host.strip().strip("[]").lower()
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


#: Shortest session secret accepted outside dev mode.
MIN_SECRET_CHARS = 32


class InsecureSettingsError(ValueError):
    """The settings would run the server with a missing or default secret."""
