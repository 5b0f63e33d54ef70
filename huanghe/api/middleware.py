"""The security middleware (pure ASGI, outermost but for the metrics counter), in this order:

1. rate limit per token or client (429 with ``Retry-After``; only with authentication on), :mod:`limits`;
2. GET answers of the catalog: back-end secrets masked for non-admins, :mod:`redaction`;
3. 401 and 403 answers of the API are counted as security events (:mod:`huanghe.audit.security_events`,
   written in batches) for the risk monitor;
4. mutations: request body limit (413), :mod:`limits`; then the audit record of a successful one is
   committed before the answer is sent, :mod:`audit_trail`; a successful change of tokens
   (``/api/v1/auth/``) empties the token cache of this process, :mod:`authentication`.

Authentication and authorisation themselves run as the app-level dependency
:func:`~huanghe.api.authorization.authorize`, once the route is known.
"""

from __future__ import annotations

import hashlib
import logging
import math
import time

from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from huanghe.api import API_PREFIX, audit_trail, limits
from huanghe.api.authentication import PRINCIPAL_KEY
from huanghe.api.errors import error_response
from huanghe.api.redaction import is_redacted, redacting, redacting_send
from huanghe.core.errors import FieldError
from huanghe.settings import Settings
from huanghe.tenancy.tokens import Principal

log = logging.getLogger("huanghe.api.security")
#: Least seconds between two writes of the security events counted in memory.
EVENTS_FLUSH_S = 5.0

#: Successful changes under this prefix (tokens) empty the :class:`~huanghe.api.authentication.TokenCache`.
AUTH_PREFIX = f"{API_PREFIX}/auth/"
MUTATING_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class SecurityMiddleware:
    """Rate limit (429), redaction, body limit (413) and the audit of successful mutations; see the module
    docstring."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.settings = settings
        self.buckets = limits.TokenBuckets(settings.rate_limit_per_s, settings.rate_limit_burst)

    async def _reply(self, scope: Scope, receive: Receive, send: Send, status: int, message: str,
                     headers: dict[str, str] | None = None) -> None:  # fmt: skip
        await error_response(status, [FieldError("", message)], headers)(scope, receive, send)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path, method = str(scope.get("path", "")), str(scope.get("method", "GET"))
        if limits.rate_limited(path):
            send = self._watching(scope, send)
        if self.settings.auth_active and limits.rate_limited(path):
            wait = await self._wait(scope)
            if wait > 0:
                retry = str(max(1, math.ceil(wait)))
                await self._reply(scope, receive, send, 429, f"too many requests, retry in {retry} s",
                                  {"Retry-After": retry})  # fmt: skip
                return
        if is_redacted(method, path) and method not in MUTATING_METHODS:
            await redacting(self.app, scope, receive, send)
            return
        if method not in MUTATING_METHODS:
            await self.app(scope, receive, send)
            return
        limit = self.settings.max_body_bytes
        body = None if limits.declared_too_large(scope, limit) else await limits.read_body(receive, limit)
        if body is None:
            await self._reply(scope, receive, send, 413, f"request body larger than {limit} bytes")
            return
        await self._forward(scope, body, redacting_send(scope, send) if is_redacted(method, path) else send)

    async def _wait(self, scope: Scope) -> float:
        """Seconds the caller must wait (0: go on): this process's buckets, or the buckets shared by every
        replica (``app.state.shared_limits``, on PostgreSQL) borrowed in chunks."""
        key = limits.caller_key(scope)
        shared = getattr(scope["app"].state, "shared_limits", None)
        if shared is None:
            return self.buckets.take(key, time.monotonic())
        if shared.take_local(key):
            return 0.0
        try:
            return float(await run_in_threadpool(shared.borrow, key))
        except Exception as exc:  # the database answers 503 to the request itself; do not mask it as 429
            log.warning("shared rate limit unavailable (共享限流不可用): %s", exc)
            return 0.0

    def _watching(self, scope: Scope, send: Send) -> Send:
        """``send`` that notes 401 and 403 answers as security events (in memory; written in batches by
        :meth:`_flush_events` in a worker thread, every :data:`EVENTS_FLUSH_S` at most)."""

        async def watched(message: Message) -> None:
            await send(message)
            if message["type"] == "http.response.start" and message["status"] in (401, 403):
                self._note(scope, int(message["status"]))
            elif message["type"] == "http.response.body" and not message.get("more_body"):
                events = getattr(scope["app"].state, "security_events", None)
                if events is not None and events.due(EVENTS_FLUSH_S):
                    await run_in_threadpool(self._flush_events, scope)

        return watched

    @staticmethod
    def _note(scope: Scope, status: int) -> None:
        principal = scope.get(PRINCIPAL_KEY)
        actor = principal.actor if isinstance(principal, Principal) else ""
        tenant = principal.tenant_id if isinstance(principal, Principal) else None
        subject = f"{scope.get('method', '')} {scope.get('path', '')}"[:500]
        events = getattr(scope["app"].state, "security_events", None)
        if events is None:  # an app without the security layer's state (tests of the middleware alone)
            return
        events.note(
            "auth_failure" if status == 401 else "refused", source=limits.caller_key(scope), actor=actor,
            subject=subject, tenant=tenant,
        )  # fmt: skip

    @staticmethod
    def _flush_events(scope: Scope) -> None:
        app = scope["app"]
        try:
            with app.state.session_factory() as session:
                app.state.security_events.flush(session)
        except Exception as exc:  # the answer is sent already; the counts stay for the next flush
            log.warning("writing security events failed (安全事件写入失败): %s", exc)

    async def _forward(self, scope: Scope, body: bytes, send: Send) -> None:
        """Run a mutation; a successful one (2xx/3xx) is answered only after its audit record is committed,
        so an acknowledged mutation is never missing from the chain, even if the process is killed right
        after the answer. A route may commit the record in its own transaction
        (:class:`~huanghe.api.audit_trail.PendingAudit`); otherwise it goes through the group-committing
        :class:`~huanghe.audit.service.AuditWriter`."""
        delivered = False
        held: list[Message] = []
        pending = audit_trail.PendingAudit(scope, hashlib.sha256(body).hexdigest())
        scope[audit_trail.AUDIT_KEY] = pending

        async def replay() -> Message:
            nonlocal delivered
            if not delivered:
                delivered = True
                return {"type": "http.request", "body": body, "more_body": False}
            return {"type": "http.disconnect"}

        async def hold(message: Message) -> None:
            held.append(message)

        try:
            await self.app(scope, replay, hold)
        finally:
            status = int(held[0]["status"]) if held and held[0]["type"] == "http.response.start" else 0
            if 200 <= status < 400 and not pending.recorded:
                await audit_trail.write(scope, pending.entry(status))
            if 200 <= status < 400 and str(scope.get("path", "")).startswith(AUTH_PREFIX):
                # every replica's token cache is emptied before the answer (a revoked token dies at once)
                await run_in_threadpool(scope["app"].state.cache_bus.publish)
            for message in held:
                await send(message)
