"""Shared set-up of the tenancy / security tests: an app with authentication ON, the mini network, two
tenants (``ta``, ``tb``) and one token per role."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from huanghe.api.app import create_app
from huanghe.catalog.topology import load_topology
from huanghe.data import service as datasets_svc
from huanghe.data.schemas import DatasetCreate
from huanghe.domain.tenancy import Role, Scope
from huanghe.network import topology_store as topology_store
from huanghe.settings import Settings
from huanghe.store.migrate import migrate
from huanghe.tenancy import service as tenancy_svc
from huanghe.tenancy import tokens as auth
from huanghe.tenancy.schemas import TenantCreate

MINI = Path(__file__).parent / "data" / "mini_network.yaml"
SECRET = "test-session-secret-" + "s" * 32


def secure_settings(url: str, **overrides: object) -> Settings:
    """Production-like settings: authentication on, a session secret, not dev mode."""
    values: dict[str, object] = {
        "database_url": url, "dev_mode": False, "auth_enabled": True, "session_secret": SECRET,
        "migrate_on_startup": False,
    }  # fmt: skip
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


@dataclass
class World:
    """A running app with data; ``tokens[role]`` is a bearer token (``anon`` has none)."""

    app: FastAPI
    client: TestClient
    url: str
    tokens: dict[str, str] = field(default_factory=dict)

    def h(self, who: str) -> dict[str, str]:
        """Headers for ``who`` (a role name, ``tenant_user_b`` etc., or ``anon``)."""
        token = self.tokens.get(who)
        return {"Authorization": f"Bearer {token}"} if token else {}

    def session(self) -> Session:
        factory: sessionmaker[Session] = self.app.state.session_factory
        return factory()


def seed(session: Session) -> dict[str, str]:
    """Network, tenants ``ta`` (sector manufacturing) and ``tb`` (finance), datasets, one token per role."""
    topology_store.import_topology(session, load_topology(str(MINI)), replace=False)
    for tid, sector in (("ta", "manufacturing"), ("tb", "finance")):
        tenancy_svc.create_tenant(session, TenantCreate(id=tid, name=f"Tenant {tid}", sector=sector))
        datasets_svc.create_dataset(
            session, DatasetCreate(id=f"ds-{tid}", tenant=tid, name="d", center="jn-sc", size_gb=10)
        )
    specs = {
        "admin": auth.TokenCreate(name="root", role=Role.ADMIN),
        "regulator": auth.TokenCreate(name="reg", role=Role.REGULATOR),
        "operator": auth.TokenCreate(name="op", role=Role.OPERATOR, centers=["qd-ai"]),
        "tenant_admin": auth.TokenCreate(name="ta-admin", role=Role.TENANT_ADMIN, tenant="ta"),
        "tenant_user": auth.TokenCreate(name="ta-user", role=Role.TENANT_USER, tenant="ta"),
        "tenant_user_b": auth.TokenCreate(name="tb-user", role=Role.TENANT_USER, tenant="tb"),
        "readonly_admin": auth.TokenCreate(name="ro", role=Role.ADMIN, scopes=[Scope.READ]),
    }
    return {who: auth.create_token(session, spec).token for who, spec in specs.items()}


@contextmanager
def world(url: str, **overrides: object) -> Iterator[World]:
    """Migrate ``url``, seed it, serve an app with authentication on."""
    migrate(url)
    app = create_app(secure_settings(url, **overrides))
    with app.state.session_factory() as session:
        tokens = seed(session)
    # No lifespan: the scheduler and telemetry loops of other areas stay off; requests work without them.
    client = TestClient(app, raise_server_exceptions=False)
    try:
        yield World(app=app, client=client, url=url, tokens=tokens)
    finally:
        client.close()
        app.state.engine.dispose()
