"""The one error family of :class:`~huanghe.client.HuangheClient`: every failure is a :class:`ClientError`.

::

    ClientError                 any failure; ``status_code`` (None when no HTTP answer) and ``detail``
    ├── InvalidServerUrlError   the server URL (argument or $HUANGHE_URL) is not an http(s) URL
    ├── ServerUnreachableError  no HTTP answer: connection refused, DNS, TLS, timeout
    ├── RequestRefusedError     4xx: the server refused the request (404: no such object)
    │   └── JobIdUnresolvedError  a job id prefix matched no job, or several (``candidates``)
    ├── ServerFailedError       5xx, or an answer that is not the JSON expected
    └── WaitTimeoutError        a job was not terminal within the time given (also a ``TimeoutError``)

``detail`` is the server's list of problems, each ``{"path": "query.level", "message": "..."}`` (``path`` names
where: ``body.…``, ``query.…``, ``path.…``, or '' for the request as a whole; see docs/api.md).
"""

from __future__ import annotations

from typing import Any

from huanghe.client.types import Job, Problem

#: Longest server text kept in ``detail`` when an error answer is not JSON, characters.
MAX_TEXT_CHARS = 500


class ClientError(Exception):
    """A request to the Huanghe server failed.

    ``status_code`` is the HTTP status (None when there was no answer), ``detail`` the server's problems
    (path-named), ``url`` the server's base URL, ``method``/``path`` the request (``path`` without the host).
    """

    def __init__(
        self,
        message: str,
        *,
        url: str = "",
        status_code: int | None = None,
        detail: list[Problem] | None = None,
        method: str = "",
        path: str = "",
    ) -> None:
        super().__init__(message)
        self.message = message
        self.url = url
        self.status_code = status_code
        self.detail: list[Problem] = detail if detail is not None else []
        self.method = method
        self.path = path

    def problems(self) -> list[str]:
        """One line per problem: ``path: message`` (just the message when the path is empty)."""
        return [f"{p['path']}: {p['message']}" if p["path"] else p["message"] for p in self.detail]

    def __str__(self) -> str:
        lines = self.problems()
        return f"{self.message}: {'; '.join(lines)}" if lines else self.message


class InvalidServerUrlError(ClientError):
    """The server URL is not an ``http://`` or ``https://`` URL with a host."""


class ServerUnreachableError(ClientError):
    """No HTTP answer from the server (connection refused, unknown host, TLS failure, timeout);
    ``reason`` says why, as the transport said it."""

    def __init__(self, message: str, *, reason: str = "", **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.reason = reason or message


class RequestRefusedError(ClientError):
    """The server answered 4xx: the request was refused (422 invalid value, 404 unknown id, 409 conflict,
    401/403 no right)."""


class JobIdUnresolvedError(RequestRefusedError):
    """A short job id (a prefix) matched no visible job, or more than one: ``candidates`` holds the ids
    that matched (empty when none did); ``status_code`` is None (the server did not refuse anything)."""

    def __init__(self, message: str, *, candidates: list[str], **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.candidates = candidates


class ServerFailedError(ClientError):
    """The server answered 5xx, or with a body that is not the JSON the operation returns."""


class WaitTimeoutError(ClientError, TimeoutError):
    """A job was still not terminal when the wait ended; ``job`` is the job as last seen."""

    def __init__(self, message: str, job: Job, *, url: str = "") -> None:
        super().__init__(message, url=url)
        self.job = job


def parse_detail(body: Any, text: str) -> list[Problem]:
    """The problems of an error answer: the server's ``detail`` list, else one problem with its text."""
    detail = body.get("detail") if isinstance(body, dict) else None
    if isinstance(detail, list) and all(isinstance(d, dict) for d in detail):
        return [Problem(path=str(d.get("path") or ""), message=str(d.get("message", ""))) for d in detail]
    if isinstance(detail, str):
        return [Problem(path="", message=detail)]
    return [Problem(path="", message=text.strip()[:MAX_TEXT_CHARS] or "(empty answer)")]


def error_for_status(
    status_code: int, body: Any, text: str, *, url: str, method: str, path: str
) -> ClientError:
    """The error of an HTTP error answer: RequestRefusedError for 4xx, ServerFailedError otherwise."""
    detail = parse_detail(body, text)
    kwargs: dict[str, Any] = {
        "url": url, "status_code": status_code, "detail": detail, "method": method, "path": path,
    }  # fmt: skip
    if 400 <= status_code < 500:
        return RequestRefusedError(f"{status_code} {method} {path}", **kwargs)
    return ServerFailedError(f"{status_code} {method} {path}", **kwargs)
