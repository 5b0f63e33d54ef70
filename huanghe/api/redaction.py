"""Redaction: pools' ``backend_settings`` may hold secrets (``token``, ``password``, ``api_key``...); catalog
answers mask their values (``***``) for anyone but an admin. Keys naming a file (``*_file``) are paths, not
secrets, and stay readable."""

from __future__ import annotations

import json
import re
from typing import Any

import yaml
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from huanghe.api import API_PREFIX
from huanghe.api.authentication import PRINCIPAL_KEY
from huanghe.domain.tenancy import Role
from huanghe.tenancy.tokens import Principal

#: GET routes whose answers carry pools' ``backend_settings``: secret-like values are masked for non-admins.
REDACTED_PREFIXES = (f"{API_PREFIX}/pools", f"{API_PREFIX}/centers", f"{API_PREFIX}/topology")
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


def is_redacted(method: str, path: str) -> bool:
    """Whether the answer to ``method path`` goes through :func:`redacting`."""
    return method == "GET" and path.startswith(REDACTED_PREFIXES)


async def redacting(app: ASGIApp, scope: Scope, receive: Receive, send: Send) -> None:
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
                (v.decode("latin-1") for k, v in start.get("headers", []) if k.lower() == b"content-type"), ""
            )
            body = redact(body, ctype)
        headers = [(k, v) for k, v in start.get("headers", []) if k.lower() != b"content-length"]
        await send({**start, "headers": [*headers, (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body, "more_body": False})

    await app(scope, receive, capture)
