"""Authentication, authorisation, audit and abuse limits, installed on the app by :func:`install`.

* :func:`authorize` is THE authorisation dependency, installed once at app level: it identifies the caller
  (``Authorization: Bearer <token>`` or the console session cookie), finds the matched route's template in
  :data:`huanghe.api.policy.POLICY` and refuses what the table does not allow (401 anonymous, 403 role or
  scope, 404 another tenant's object; a route missing from the table → 403 for everyone). Requests made with
  the session cookie must repeat the CSRF token in the ``X-CSRF-Token`` header on state-changing methods
  (double submit: the ``huanghe_csrf`` cookie holds the same value as the signed session). Bearer tokens'
  principals are cached for :data:`TOKEN_CACHE_TTL_S` (:class:`TokenCache`).
* :class:`SecurityMiddleware` (pure ASGI, outermost): token-bucket rate limit per token or client (429 with
  ``Retry-After``; only with authentication on), request body limit (413), masking of back-end secrets
  (``backend_settings`` keys like ``token``, ``password``) in catalog answers to anyone but an admin, and
  the audit record of every successful mutation (method,
  path, principal, status, SHA-256 of the body) in the hash chain of :mod:`huanghe.audit.service`, committed
  BEFORE the answer is sent (group commit; job submissions chain it in their own transaction);
  the dispatcher chains its placement decisions itself, in its own transactions (:mod:`huanghe.jobs.placing`).

With ``settings.auth_active`` false (dev mode) every request runs as the admin principal ``dev`` and is
still audited. Secrets and tokens are never logged nor echoed in error bodies.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import logging
import math
import re
import secrets
import threading
import time
from collections import OrderedDict
from typing import Any

import yaml
from fastapi import Depends, FastAPI, HTTPException, Request
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from huanghe.api.errors import error_response
from huanghe.api.policy import Rule, ScopeContext, ScopeRule, parse_json_body, route_template, rule_for
from huanghe.audit import service as audit
from huanghe.core.errors import FieldError
from huanghe.domain.tenancy import Role
from huanghe.domain.tenancy import Scope as TokenScope
from huanghe.settings import Settings
from huanghe.tenancy.models import ApiTokenRow
from huanghe.tenancy.tokens import DEV_PRINCIPAL, Principal, authenticate, hash_token, principal_by_id

log = logging.getLogger("huanghe.api.security")

PRINCIPAL_KEY = "huanghe.principal"
AUDIT_KEY = "huanghe.audit"
#: Successful changes under this prefix (tokens) empty the :class:`TokenCache`.
AUTH_PREFIX = "/api/v1/auth/"
SESSION_COOKIE = "huanghe_session"
CSRF_COOKIE = "huanghe_csrf"
CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
MUTATING_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
#: Lifetime of a console session, seconds.
SESSION_TTL_S = 8 * 3600
#: GET routes whose answers carry pools' ``backend_settings``: secret-like values are masked for non-admins.
REDACTED_PREFIXES = ("/api/v1/pools", "/api/v1/centers", "/api/v1/topology")
SECRET_KEY = re.compile(
    r"^(?!.*_file$).*(token|password|passwd|secret|api_?key|access_?key|credential)", re.I
)
MASK = "***"


def _mask(value: Any) -> tuple[Any, bool]:
    """``value`` with every secret-like entry of a ``backend_settings`` mapping masked; (new, changed)."""
    if isinstance(value, list):
        pairs = [_mask(v) for v in value]
        return [v for v, _ in pairs], any(c for _, c in pairs)
    if not isinstance(value, dict):
        return value, False
    out, changed = {}, False
    for key, item in value.items():
        if key == "backend_settings" and isinstance(item, dict):
            masked = {k: MASK if SECRET_KEY.match(str(k)) and v else v for k, v in item.items()}
            changed = changed or masked != item
            out[key] = masked
        else:
            out[key], sub = _mask(item)
            changed = changed or sub
    return out, changed


def redact(body: bytes, content_type: str) -> bytes:
    """The answer with back-end secrets masked (JSON or YAML); unchanged bytes when there is nothing to mask."""
    try:
        if "json" in content_type:
            masked, changed = _mask(json.loads(body))
            return json.dumps(masked, ensure_ascii=False, separators=(",", ":")).encode() if changed else body
        if "yaml" in content_type:
            masked, changed = _mask(yaml.safe_load(body))
            return yaml.safe_dump(masked, allow_unicode=True, sort_keys=False).encode() if changed else body
    except (ValueError, yaml.YAMLError):
        pass
    return body


class SessionSigner:
    """HMAC-SHA256 signed, base64url JSON cookie values (``payload.signature``)."""

    def __init__(self, key: bytes) -> None:
        self._key = key

    def sign(self, payload: dict[str, Any]) -> str:
        body = (
            base64.urlsafe_b64encode(json.dumps(payload, separators=(",", ":")).encode()).decode().rstrip("=")
        )
        mac = hmac.new(self._key, body.encode(), hashlib.sha256).hexdigest()
        return f"{body}.{mac}"

    def load(self, value: str, *, now: float | None = None) -> dict[str, Any] | None:
        """The payload if the signature is right and ``exp`` is in the future, else None."""
        body, _, mac = value.partition(".")
        expected = hmac.new(self._key, body.encode(), hashlib.sha256).hexdigest()
        if not mac or not hmac.compare_digest(mac, expected):
            return None
        try:
            payload = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
        except ValueError:
            return None
        if not isinstance(payload, dict) or float(payload.get("exp", 0)) <= (
            time.time() if now is None else now
        ):
            return None
        return payload


def signer_for(settings: Settings) -> SessionSigner:
    """The settings' session secret; in dev mode without one, a random key for this process only."""
    secret = settings.session_secret.get_secret_value() if settings.session_secret is not None else ""
    return SessionSigner(secret.encode() if secret else secrets.token_bytes(32))


def principal_of_request(request: Request) -> Principal:
    """The principal :func:`authorize` found (``dev`` admin when authentication is off); 401 when there is
    none with authentication on (never a silent fallback to admin on a public route)."""
    principal = request.scope.get(PRINCIPAL_KEY)
    if isinstance(principal, Principal):
        return principal
    if request.app.state.settings.auth_active:
        raise HTTPException(401, "authentication required (需要登录)", headers={"WWW-Authenticate": "Bearer"})
    return DEV_PRINCIPAL


def _bearer(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else None


class TokenCache:
    """Principals of recently seen bearer tokens (keyed by the token's SHA-256, never the token), so that a
    client's requests do not each pay a database look-up and a thread hop. An entry lives
    :data:`TOKEN_CACHE_TTL_S` at most, and never past the token's own expiry; every successful change under
    ``/api/v1/auth/`` (token creation, revocation) empties the cache of this process before it is answered."""

    def __init__(self, ttl_s: float = 0.0, max_keys: int = 10_000) -> None:
        self.ttl_s, self.max_keys = ttl_s, max_keys
        self._entries: OrderedDict[str, tuple[Principal, float]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, token: str, now_s: float) -> Principal | None:
        key = hash_token(token)
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            if entry[1] <= now_s:
                del self._entries[key]
                return None
            return entry[0]

    def put(self, token: str, principal: Principal, now_s: float, expires_s: float | None) -> None:
        until = now_s + self.ttl_s if expires_s is None else min(now_s + self.ttl_s, expires_s)
        if until <= now_s:
            return
        with self._lock:
            self._entries[hash_token(token)] = (principal, until)
            while len(self._entries) > self.max_keys:
                self._entries.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


#: Longest reuse of a bearer token's principal without reading the database, seconds: a token revoked
#: through this process's API stops at once; revoked elsewhere (CLI, another replica), within this time.
TOKEN_CACHE_TTL_S = 2.0


def _identify(request: Request) -> tuple[Principal | None, dict[str, Any] | None]:
    """(principal, session payload when it came from the cookie). A bad bearer token → 401."""
    factory = request.app.state.session_factory
    token = _bearer(request)
    if token is not None:
        now_s = time.time()
        with factory() as session:
            principal = authenticate(session, token, now=now_s)
            if principal is not None:
                expires_s = session.scalar(
                    select(ApiTokenRow.expires_s).where(ApiTokenRow.id == principal.token_id)
                )
                request.app.state.token_cache.put(token, principal, now_s, expires_s)
        if principal is None:
            raise HTTPException(
                401, "invalid, expired or revoked token", headers={"WWW-Authenticate": "Bearer"}
            )
        return principal, None
    cookie = request.cookies.get(SESSION_COOKIE)
    if not cookie:
        return None, None
    payload = request.app.state.session_signer.load(cookie)
    if payload is None or not isinstance(payload.get("tid"), int):
        return None, None
    with factory() as session:
        principal = principal_by_id(session, payload["tid"])
    return (principal, payload) if principal is not None else (None, None)


def _check_csrf(request: Request, session_payload: dict[str, Any]) -> None:
    sent = request.headers.get(CSRF_HEADER, "")
    expected = str(session_payload.get("csrf", ""))
    cookie = request.cookies.get(CSRF_COOKIE, "")
    if not (expected and hmac.compare_digest(sent, expected) and hmac.compare_digest(cookie, expected)):
        raise HTTPException(403, f"CSRF check failed: send the {CSRF_COOKIE} cookie value in {CSRF_HEADER}")


def _run_rules(request: Request, principal: Principal, rules: list[ScopeRule], body: Any) -> None:
    with request.app.state.session_factory() as session:
        ctx = ScopeContext(request=request, principal=principal, session=session, body=body)
        for rule in rules:
            rule(ctx)


async def _apply(request: Request, principal: Principal, rules: list[ScopeRule], rule: Rule) -> None:
    if rules:
        body = parse_json_body(await request.body()) if rule.needs_body else None
        await run_in_threadpool(_run_rules, request, principal, rules, body)


async def authorize(request: Request) -> None:
    """THE authorisation dependency (see the module docstring)."""
    settings: Settings = request.app.state.settings
    method, template = request.method, route_template(request.scope) or request.url.path
    rule = rule_for(method, template)
    if not settings.auth_active:
        request.scope[PRINCIPAL_KEY] = DEV_PRINCIPAL
        if rule is not None and rule.admission is not None:
            await _apply(request, DEV_PRINCIPAL, [rule.admission], rule)
        return
    token = _bearer(request)
    cached = request.app.state.token_cache.get(token, time.time()) if token is not None else None
    if cached is not None:
        principal, session_payload = cached, None
    else:
        principal, session_payload = await run_in_threadpool(_identify, request)
    if principal is not None:
        request.scope[PRINCIPAL_KEY] = principal
    if rule is None:
        raise HTTPException(403, f"{method} {template} is not in the authorisation policy (refused)")
    if rule.public:
        return
    if principal is None:
        raise HTTPException(
            401, "authentication required: Authorization: Bearer <token>, or log in at /login (需要登录)",
            headers={"WWW-Authenticate": "Bearer"},
        )  # fmt: skip
    if principal.role not in rule.roles:
        raise HTTPException(403, f"role {principal.role.value} may not {method} {template}")
    if method not in SAFE_METHODS and TokenScope.WRITE not in principal.scopes:
        raise HTTPException(403, "this token is read-only (scope 'write' missing)")
    if session_payload is not None and method not in SAFE_METHODS:
        _check_csrf(request, session_payload)
    await _apply(request, principal, [r for r in (rule.scope, rule.admission) if r is not None], rule)


class TokenBuckets:
    """In-memory token buckets keyed by caller: ``rate_per_s`` refill, ``burst`` capacity (LRU-bounded)."""

    def __init__(self, rate_per_s: float, burst: int, max_keys: int = 10_000) -> None:
        self.rate_per_s, self.burst, self.max_keys = rate_per_s, burst, max_keys
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()
        self._lock = threading.Lock()

    def take(self, key: str, now: float) -> float:
        """Take one token; 0 if allowed, else the seconds to wait for the next one."""
        with self._lock:
            tokens, last = self._buckets.pop(key, (float(self.burst), now))
            tokens = min(float(self.burst), tokens + (now - last) * self.rate_per_s)
            wait = 0.0 if tokens >= 1 else (1 - tokens) / self.rate_per_s
            self._buckets[key] = (tokens - 1 if wait == 0 else tokens, now)
            while len(self._buckets) > self.max_keys:
                self._buckets.popitem(last=False)
            return wait


def _header(scope: Scope, name: bytes) -> str:
    for key, value in scope.get("headers", []):
        if key.lower() == name:
            return str(value.decode("latin-1"))
    return ""


def _caller_key(scope: Scope) -> str:
    """Rate-limit key: a digest of the bearer token or session cookie, else the client address."""
    auth = _header(scope, b"authorization") or _header(scope, b"cookie")
    if auth:
        return "t:" + hashlib.sha256(auth.encode()).hexdigest()[:32]
    client = scope.get("client") or ("?", 0)
    return f"ip:{client[0]}"


class SecurityMiddleware:
    """Rate limit (429), body limit (413) and the audit of successful mutations; see the module docstring."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.settings = settings
        self.buckets = TokenBuckets(settings.rate_limit_per_s, settings.rate_limit_burst)

    async def _reply(self, scope: Scope, receive: Receive, send: Send, status: int, message: str,
                     headers: dict[str, str] | None = None) -> None:  # fmt: skip
        await error_response(status, [FieldError("", message)], headers)(scope, receive, send)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path, method = str(scope.get("path", "")), str(scope.get("method", "GET"))
        if self.settings.auth_active and (path.startswith("/api/") or path in ("/login", "/logout")):
            wait = self.buckets.take(_caller_key(scope), time.monotonic())
            if wait > 0:
                retry = str(max(1, math.ceil(wait)))
                await self._reply(scope, receive, send, 429, f"too many requests, retry in {retry} s",
                                  {"Retry-After": retry})  # fmt: skip
                return
        if method == "GET" and path.startswith(REDACTED_PREFIXES):
            await self._redacting(scope, receive, send)
            return
        if method not in MUTATING_METHODS:
            await self.app(scope, receive, send)
            return
        limit = self.settings.max_body_bytes
        declared = _header(scope, b"content-length")
        if declared.isdigit() and int(declared) > limit:
            await self._reply(scope, receive, send, 413, f"request body larger than {limit} bytes")
            return
        chunks, size, more = [], 0, True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                break
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                await self._reply(scope, receive, send, 413, f"request body larger than {limit} bytes")
                return
            chunks.append(chunk)
            more = bool(message.get("more_body", False))
        body = b"".join(chunks)
        await self._forward(scope, body, send)

    async def _redacting(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Run the request; mask back-end secrets in the answer unless the caller is an admin."""
        start: Message = {}
        chunks: list[bytes] = []

        async def capture(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                start = message
                return
            if message["type"] != "http.response.body":
                await send(message)
                return
            chunks.append(message.get("body", b""))
            if message.get("more_body", False):
                return
            body = b"".join(chunks)
            principal = scope.get(PRINCIPAL_KEY)
            if not (isinstance(principal, Principal) and principal.role is Role.ADMIN):
                ctype = next(
                    (
                        v.decode("latin-1")
                        for k, v in start.get("headers", [])
                        if k.lower() == b"content-type"
                    ),
                    "",
                )
                body = redact(body, ctype)
            headers = [(k, v) for k, v in start.get("headers", []) if k.lower() != b"content-length"]
            await send({**start, "headers": [*headers, (b"content-length", str(len(body)).encode())]})
            await send({"type": "http.response.body", "body": body, "more_body": False})

        await self.app(scope, receive, capture)

    async def _forward(self, scope: Scope, body: bytes, send: Send) -> None:
        """Run a mutation; a successful one (2xx/3xx) is answered only after its audit record is committed,
        so an acknowledged mutation is never missing from the chain, even if the process is killed right
        after the answer. A route may commit the record in its own transaction (:class:`PendingAudit`);
        otherwise it goes through the group-committing :class:`~huanghe.audit.service.AuditWriter`."""
        delivered = False
        held: list[Message] = []
        pending = PendingAudit(scope, hashlib.sha256(body).hexdigest())
        scope[AUDIT_KEY] = pending

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
                await self._audit(scope, pending.entry(status))
            if 200 <= status < 400 and str(scope.get("path", "")).startswith(AUTH_PREFIX):
                scope["app"].state.token_cache.clear()
            for message in held:
                await send(message)

    async def _audit(self, scope: Scope, entry: audit.Entry) -> None:
        try:
            writer: audit.AuditWriter = scope["app"].state.audit_writer
            await asyncio.wrap_future(writer.submit(entry))
        except Exception:  # the mutation itself is committed: answer it, but say it loudly
            log.exception("audit record of %s failed", entry.subject)


class PendingAudit:
    """The audit record of the current mutation (``scope[AUDIT_KEY]``). A route that stores its change in
    one transaction may append ``entry(status)`` to the chain in that transaction and then set
    ``recorded``; the middleware then writes nothing more. Payload: method, path, status, body SHA-256."""

    def __init__(self, scope: Scope, body_sha256: str) -> None:
        self.scope = scope
        self.body_sha256 = body_sha256
        self.recorded = False

    def entry(self, status: int) -> audit.Entry:
        principal = self.scope.get(PRINCIPAL_KEY)
        actor = principal.actor if isinstance(principal, Principal) else "anonymous"
        method, path = str(self.scope["method"]), str(self.scope.get("path", ""))
        payload = {"method": method, "path": path, "status": status, "body_sha256": self.body_sha256}
        return audit.Entry(actor, f"http.{method.lower()}", path, payload, time.time())


def pending_audit(scope: Scope) -> PendingAudit | None:
    """The current mutation's :class:`PendingAudit` (None outside :class:`SecurityMiddleware`)."""
    pending = scope.get(AUDIT_KEY)
    return pending if isinstance(pending, PendingAudit) else None


def install(app: FastAPI) -> None:
    """Install everything above on ``app``; call it in ``create_app`` before the routers are included.

    Refuses to start (``InsecureSettingsError``) without a session secret outside dev mode."""
    from huanghe.api import security_routes

    settings: Settings = app.state.settings
    settings.check_secrets()
    app.state.session_signer = signer_for(settings)
    app.state.audit_writer = audit.AuditWriter(app.state.session_factory)
    app.state.token_cache = TokenCache(TOKEN_CACHE_TTL_S)
    app.router.dependencies.append(Depends(authorize))
    app.add_middleware(SecurityMiddleware, settings=settings)
    security_routes.include(app)
