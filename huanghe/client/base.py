"""The connection of :class:`~huanghe.client.HuangheClient`: where the server is, the token, one request
with its error mapping (:mod:`huanghe.client.errors`). Operations live in :mod:`huanghe.client.client`."""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from types import TracebackType
from typing import Any, Self

import httpx

from huanghe import __version__
from huanghe.api import API_PREFIX  # the one spelling; huanghe.api's __init__ imports nothing
from huanghe.client.errors import (
    InvalidServerUrlError,
    ServerFailedError,
    ServerUnreachableError,
    error_for_status,
)
from huanghe.client.types import Health

#: The server when neither ``url`` nor ``$HUANGHE_URL`` names one (``huanghe up``'s default address).
DEFAULT_URL = "http://127.0.0.1:8000"
#: Default time limit of one request (connect, send, read), seconds.
DEFAULT_TIMEOUT_S = 30.0

Params = Mapping[str, str | int | float | bool | None]


def resolve_url(url: str | None = None) -> str:
    """``url``, else ``$HUANGHE_URL``, else :data:`DEFAULT_URL`; trailing slashes removed.

    Raises InvalidServerUrlError unless it is an ``http://`` or ``https://`` URL with a host."""
    chosen = (url if url is not None else os.environ.get("HUANGHE_URL", "")).strip() or DEFAULT_URL
    chosen = chosen.rstrip("/") or chosen
    try:
        parsed = httpx.URL(chosen)
    except httpx.InvalidURL as exc:
        raise InvalidServerUrlError(f"{chosen!r} is not a valid URL: {exc}", url=chosen) from None
    if parsed.scheme not in ("http", "https") or not parsed.host:
        raise InvalidServerUrlError(
            f"{chosen!r} is not a valid URL: give http://HOST:PORT or https://HOST", url=chosen
        )
    return chosen


def resolve_token(token: str | None = None) -> str | None:
    """``token``, else ``$HUANGHE_TOKEN``; None when neither is set (no ``Authorization`` header)."""
    chosen = (token if token is not None else os.environ.get("HUANGHE_TOKEN", "")).strip()
    return chosen or None


class BaseClient:
    """An open connection to one Huanghe server (HTTP keep-alive); close it, or use it as a context manager.

    ``url`` defaults to ``$HUANGHE_URL`` (else :data:`DEFAULT_URL`); ``token`` to ``$HUANGHE_TOKEN``, sent as
    ``Authorization: Bearer``; ``timeout_s`` bounds each request, seconds. ``transport`` is for tests
    (e.g. ``httpx.MockTransport``)."""

    def __init__(
        self,
        url: str | None = None,
        token: str | None = None,
        timeout_s: float = DEFAULT_TIMEOUT_S,
        *,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.url = resolve_url(url)
        self.timeout_s = timeout_s
        headers = {"Accept": "application/json", "User-Agent": f"huanghe-client/{__version__}"}
        bearer = resolve_token(token)
        if bearer:
            headers["Authorization"] = f"Bearer {bearer}"
        self._http = httpx.Client(base_url=self.url, headers=headers, timeout=timeout_s, transport=transport)

    # ------------------------------------------------------------ life cycle

    @property
    def base_url(self) -> httpx.URL:
        """The server's base URL."""
        return self._http.base_url

    @property
    def headers(self) -> httpx.Headers:
        """Headers sent with every request (``Authorization`` when a token is set)."""
        return self._http.headers

    def close(self) -> None:
        """Close the connection pool."""
        self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"{type(self).__name__}(url={self.url!r})"

    # ------------------------------------------------------------ requests

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Params | None = None,
        json: Any = None,
        headers: Mapping[str, str] | None = None,
        timeout_s: float | None = None,
        api: bool = True,
        content: bytes | None = None,
    ) -> httpx.Response:
        """One request to ``/api/v1{path}`` (``api=False``: to ``path``); the answer when its status is < 400.

        Raises ServerUnreachableError without an answer, RequestRefusedError for 4xx, ServerFailedError
        for 5xx.
        ``params`` whose value is None are left out; ``content``: a raw body (file bytes) instead of JSON."""
        full = f"{API_PREFIX}{path}" if api else path
        query = {k: v for k, v in (params or {}).items() if v is not None}
        try:
            response = self._http.request(
                method, full, params=query, json=json, headers=headers, content=content,
                timeout=timeout_s if timeout_s is not None else httpx.USE_CLIENT_DEFAULT,
            )  # fmt: skip
        except httpx.TransportError as exc:
            reason = str(exc).strip() or type(exc).__name__
            raise ServerUnreachableError(
                f"cannot reach {self.url}: {reason}", reason=reason, url=self.url, method=method, path=full
            ) from exc
        if response.status_code >= 400:
            try:
                body: Any = response.json()
            except ValueError:
                body = None
            raise error_for_status(
                response.status_code, body, response.text, url=self.url, method=method, path=full
            )
        return response

    @contextmanager
    def stream(self, path: str, *, params: Params | None = None) -> Iterator[httpx.Response]:
        """``GET /api/v1{path}`` with the answer's body read as it arrives (``iter_bytes``); errors as in
        :meth:`request` (a 4xx/5xx answer is read whole and raised)."""
        full = f"{API_PREFIX}{path}"
        query = {k: v for k, v in (params or {}).items() if v is not None}
        try:
            with self._http.stream("GET", full, params=query) as response:
                if response.status_code >= 400:
                    response.read()
                    try:
                        body: Any = response.json()
                    except ValueError:
                        body = None
                    raise error_for_status(
                        response.status_code, body, response.text, url=self.url, method="GET", path=full
                    )
                yield response
        except httpx.TransportError as exc:
            reason = str(exc).strip() or type(exc).__name__
            raise ServerUnreachableError(
                f"cannot reach {self.url}: {reason}", reason=reason, url=self.url, method="GET", path=full
            ) from exc

    def call(
        self,
        method: str,
        path: str,
        *,
        params: Params | None = None,
        json: Any = None,
        headers: Mapping[str, str] | None = None,
        api: bool = True,
    ) -> Any:
        """:meth:`request`, then the decoded JSON answer (ServerFailedError when it is not JSON)."""
        response = self.request(method, path, params=params, json=json, headers=headers, api=api)
        try:
            return response.json()
        except ValueError:
            where = response.request.url.path
            raise ServerFailedError(
                f"{response.status_code} {method} {where}: the answer is not JSON",
                url=self.url, status_code=response.status_code, method=method, path=where,
            ) from None  # fmt: skip

    # ------------------------------------------------------------ health

    def health(self) -> Health:
        """``GET /healthz``: ``{"status": "ok", "database": "ok", "version": ...}``.

        A server whose database is down answers 503: that raises ServerFailedError (``detail`` holds its reason)."""
        data: Health = self.call("GET", "/healthz", api=False)
        return data
