"""Abuse limits: a token-bucket rate limit per caller (429 with ``Retry-After``) and a request body size
limit (413). Applied by :class:`~huanghe.api.middleware.SecurityMiddleware` before anything else runs."""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict

from starlette.types import Receive, Scope

#: Every path under this root is rate limited (any API version, unknown paths too)...
RATE_LIMITED_ROOT = "/api/"
#: ...and these paths of the site (the console login).
RATE_LIMITED_SITE_PATHS = ("/login", "/logout")


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


def rate_limited(path: str) -> bool:
    """Whether requests to ``path`` count against the caller's bucket (the API and the console login)."""
    return path.startswith(RATE_LIMITED_ROOT) or path in RATE_LIMITED_SITE_PATHS


def header(scope: Scope, name: bytes) -> str:
    """The first value of header ``name`` (lower case) of an ASGI request, '' when absent."""
    for key, value in scope.get("headers", []):
        if key.lower() == name:
            return str(value.decode("latin-1"))
    return ""


def caller_key(scope: Scope) -> str:
    """Rate-limit key: a digest of the bearer token or session cookie, else the client address."""
    auth = header(scope, b"authorization") or header(scope, b"cookie")
    if auth:
        return "t:" + hashlib.sha256(auth.encode()).hexdigest()[:32]
    client = scope.get("client") or ("?", 0)
    return f"ip:{client[0]}"


def declared_too_large(scope: Scope, limit_bytes: int) -> bool:
    """Whether the request's ``Content-Length`` already exceeds ``limit_bytes``."""
    declared = header(scope, b"content-length")
    return declared.isascii() and declared.isdigit() and int(declared) > limit_bytes  # '²' is no length


async def read_body(receive: Receive, limit_bytes: int) -> bytes | None:
    """The whole request body, or None as soon as it grows past ``limit_bytes``."""
    chunks, size, more = [], 0, True
    while more:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit_bytes:
            return None
        chunks.append(chunk)
        more = bool(message.get("more_body", False))
    return b"".join(chunks)
