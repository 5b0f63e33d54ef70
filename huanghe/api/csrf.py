"""CSRF protection of the console session: a double submit.

Requests authenticated by the session cookie must repeat the CSRF token in the ``X-CSRF-Token`` header on
state-changing methods: the ``huanghe_csrf`` cookie (readable by the console's script) holds the same value
as the signed session payload's ``csrf``. Bearer-token requests are not subject to it (no ambient
credential)."""

from __future__ import annotations

import hmac
from typing import Any

from fastapi import HTTPException, Request

CSRF_COOKIE = "huanghe_csrf"
CSRF_HEADER = "x-csrf-token"


def check_csrf(request: Request, session_payload: dict[str, Any]) -> None:
    """403 unless the header and the cookie both carry the session's CSRF token."""
    sent = request.headers.get(CSRF_HEADER, "")
    expected = str(session_payload.get("csrf", ""))
    cookie = request.cookies.get(CSRF_COOKIE, "")
    if not (expected and hmac.compare_digest(sent, expected) and hmac.compare_digest(cookie, expected)):
        raise HTTPException(403, f"CSRF check failed: send the {CSRF_COOKIE} cookie value in {CSRF_HEADER}")
