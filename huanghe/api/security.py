"""The security layer, installed on the app by :func:`install`; each concern lives in its own module:

* :mod:`~huanghe.api.authentication`: bearer tokens, the console session cookie, the token cache, the
  request's principal;
* :mod:`~huanghe.api.authorization` with :mod:`~huanghe.api.policy` (the table) and
  :mod:`~huanghe.api.scope_rules`: :func:`~huanghe.api.authorization.authorize`, THE app-level dependency;
* :mod:`~huanghe.api.csrf`: the double-submit check of console sessions;
* :mod:`~huanghe.api.limits`: rate (429) and body size (413) limits;
* :mod:`~huanghe.api.redaction`: back-end secrets masked in catalog answers to non-admins;
* :mod:`~huanghe.api.audit_trail`: the audit record of every successful mutation, committed before the answer;
* :mod:`~huanghe.api.middleware`: the ASGI middleware applying limits, redaction and the audit trail.

With ``settings.auth_active`` false (dev mode) every request runs as the admin principal ``dev`` and is
still audited. Secrets and tokens are never logged nor echoed in error bodies.
"""

from __future__ import annotations

from fastapi import Depends, FastAPI

from huanghe.api.authentication import TOKEN_CACHE_TTL_S, TokenCache, signer_for
from huanghe.api.authorization import authorize
from huanghe.api.cache_bus import CacheBus
from huanghe.api.middleware import SecurityMiddleware
from huanghe.audit import service as audit
from huanghe.audit.chain import Chainer
from huanghe.audit.security_events import EventAggregator
from huanghe.settings import Settings
from huanghe.store.shared_limits import SharedTokenBuckets


def install(app: FastAPI) -> None:
    """Install the security layer on ``app``; call it in ``create_app`` before the routers are included.

    Refuses to start (``InsecureSettingsError``) without a session secret outside dev mode."""
    settings: Settings = app.state.settings
    settings.check_secrets()
    app.state.session_signer = signer_for(settings)
    app.state.audit_writer = audit.AuditWriter(app.state.session_factory)
    app.state.audit_chainer = Chainer(app.state.session_factory)  # started by the app's lifespan
    app.state.token_cache = TokenCache(TOKEN_CACHE_TTL_S)
    app.state.cache_bus = CacheBus(app.state.engine, app.state.token_cache)
    shared = settings.shared_rate_limits
    if shared is None:  # default: shared by the replicas on PostgreSQL, per process on SQLite
        shared = app.state.engine.dialect.name == "postgresql"
    app.state.shared_limits = (
        SharedTokenBuckets(app.state.engine, settings.rate_limit_per_s, settings.rate_limit_burst)
        if shared
        else None
    )
    app.state.security_events = EventAggregator()
    app.router.dependencies.append(Depends(authorize))
    app.add_middleware(SecurityMiddleware, settings=settings)
