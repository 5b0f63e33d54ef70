"""Redaction: pools' ``backend_settings`` say where the platform connects and with what (URLs, users, file
paths, secret names), so catalog answers (pools, centers, topology in JSON and YAML) carry them only for
platform admins: anyone else gets ``backend_settings: {}`` (the back-end's name, ``backend``, stays). Admins
see the settings with any literal credential (``token``, ``password``, ``api_key``...) masked ``***``;
``*_secret`` values are names of encrypted secrets and ``*_file`` values are paths, shown to admins."""

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

#: GET routes whose answers carry pools' ``backend_settings``: hidden below admin, credentials masked for admins.
REDACTED_PREFIXES = (f"{API_PREFIX}/pools", f"{API_PREFIX}/centers", f"{API_PREFIX}/topology")
SECRET_KEY = re.compile(
    r"^(?!.*_(file|secret)$).*(token|password|passwd|secret|api_?key|access_?key|credential)", re.I
)
MASK = "***"


def _mask(value: Any, admin: bool = False) -> tuple[Any, bool]:
    """``value`` with every ``backend_settings`` mapping emptied (``admin``: its literal credentials masked);
    (new, changed)."""
    if isinstance(value, list):
        pairs = [_mask(v, admin) for v in value]
        return [v for v, _ in pairs], any(c for _, c in pairs)
    if not isinstance(value, dict):
        return value, False
    out, changed = {}, False
    for key, item in value.items():
        if key == "backend_settings" and isinstance(item, dict):
            masked = (
                {k: MASK if SECRET_KEY.match(str(k)) and v else v for k, v in item.items()} if admin else {}
            )
            changed = changed or masked != item
            out[key] = masked
        else:
            out[key], sub = _mask(item, admin)
            changed = changed or sub
    return out, changed


def redact(body: bytes, content_type: str, *, admin: bool = False) -> bytes:
    """The answer with back-end settings hidden (``admin``: credentials masked), JSON or YAML; unchanged bytes
    when there is nothing to hide."""
    try:
        if "json" in content_type:
            masked, changed = _mask(json.loads(body), admin)
            return json.dumps(masked, ensure_ascii=False, separators=(",", ":")).encode() if changed else body
        if "yaml" in content_type:
            masked, changed = _mask(yaml.safe_load(body), admin)
            return yaml.safe_dump(masked, allow_unicode=True, sort_keys=False).encode() if changed else body
    except (ValueError, yaml.YAMLError):
        pass
    return body


def is_redacted(method: str, path: str) -> bool:
    """Whether the answer to ``method path`` goes through :func:`redacting`."""
    return path.startswith(REDACTED_PREFIXES)  # every method: an operator's PATCH answers its pool too


def redacting_send(scope: Scope, send: Send) -> Send:
    """``send`` for an answer whose back-end settings are hidden (an admin's: credentials masked); the
    principal is read from ``scope`` when the body is complete."""
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
        admin = isinstance(principal, Principal) and principal.role is Role.ADMIN
        ctype = next(
            (v.decode("latin-1") for k, v in start.get("headers", []) if k.lower() == b"content-type"), ""
        )
        body = redact(body, ctype, admin=admin)
        headers = [(k, v) for k, v in start.get("headers", []) if k.lower() != b"content-length"]
        await send({**start, "headers": [*headers, (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body, "more_body": False})

    return capture


async def redacting(app: ASGIApp, scope: Scope, receive: Receive, send: Send) -> None:
    """Run the request; hide back-end settings in the answer (an admin's: credentials masked)."""
    await app(scope, receive, redacting_send(scope, send))
