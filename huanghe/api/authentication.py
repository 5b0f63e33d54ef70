"""Authentication: who is calling.

A caller is identified by ``Authorization: Bearer <token>`` (an API token) or by the console session cookie
``huanghe_session`` (an HMAC-signed payload naming the token it was opened with, see
:mod:`huanghe.api.login`). The :class:`~huanghe.tenancy.tokens.Principal` found is kept in the ASGI scope
under :data:`PRINCIPAL_KEY` for the rest of the request (authorisation, audit, redaction, routes).

Bearer tokens' principals are cached for :data:`TOKEN_CACHE_TTL_S` (:class:`TokenCache`), so a client's
requests do not each pay a database look-up. Secrets and tokens are never logged nor echoed in error bodies.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import threading
import time
from collections import OrderedDict
from typing import Any

from fastapi import HTTPException, Request
from starlette.concurrency import run_in_threadpool

from huanghe.settings import Settings
from huanghe.tenancy.tokens import (
    DEV_PRINCIPAL,
    Principal,
    authenticate,
    hash_token,
    principal_by_id,
    token_expires_s,
)

#: Where the request's principal is kept in the ASGI scope.
PRINCIPAL_KEY = "huanghe.principal"
SESSION_COOKIE = "huanghe_session"
#: Lifetime of a console session, seconds.
SESSION_TTL_S = 8 * 3600
#: Longest reuse of a bearer token's principal without reading the database, seconds: a token revoked
#: through this process's API stops at once; revoked elsewhere (CLI, another replica), within this time.
TOKEN_CACHE_TTL_S = 2.0


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


def bearer_token(request: Request) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header, None without one."""
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else None


def _identify(request: Request) -> tuple[Principal | None, dict[str, Any] | None]:
    """(principal, session payload when it came from the cookie), read from the database. A bad bearer
    token → 401."""
    factory = request.app.state.session_factory
    token = bearer_token(request)
    if token is not None:
        now_s = time.time()
        with factory() as session:
            principal = authenticate(session, token, now=now_s)
            if principal is not None and principal.token_id is not None:
                expires_s = token_expires_s(session, principal.token_id)
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


async def identify(request: Request) -> tuple[Principal | None, dict[str, Any] | None]:
    """(principal or None for an anonymous caller, the session payload when the console cookie was used).

    A bearer token seen within :data:`TOKEN_CACHE_TTL_S` is answered from the :class:`TokenCache` without a
    database look-up nor a thread hop; otherwise the look-up runs in the thread pool."""
    token = bearer_token(request)
    cached = request.app.state.token_cache.get(token, time.time()) if token is not None else None
    if cached is not None:
        return cached, None
    return await run_in_threadpool(_identify, request)


def principal_of_request(request: Request) -> Principal:
    """The principal authorisation found (``dev`` admin when authentication is off); 401 when there is
    none with authentication on (never a silent fallback to admin on a public route)."""
    principal = request.scope.get(PRINCIPAL_KEY)
    if isinstance(principal, Principal):
        return principal
    if request.app.state.settings.auth_active:
        raise HTTPException(401, "authentication required (需要登录)", headers={"WWW-Authenticate": "Bearer"})
    return DEV_PRINCIPAL
