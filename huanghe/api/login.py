"""Console login: ``GET /login`` (a form), ``POST /login`` (an API token → a session cookie), ``POST /logout``.

The session cookie ``huanghe_session`` is HMAC-signed (``settings.session_secret``), HttpOnly, SameSite=Strict,
and names the token it was opened with, so revoking the token ends the session. CSRF protection is a double
submit: the ``huanghe_csrf`` cookie (readable by the console's script) must be repeated in the
``X-CSRF-Token`` header of every state-changing request made with the session; the login form itself carries
the same kind of token in a hidden field.
"""

from __future__ import annotations

import hmac
import html
import secrets
import time
from urllib.parse import parse_qs

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from huanghe.api.authentication import PRINCIPAL_KEY, SESSION_COOKIE, SESSION_TTL_S
from huanghe.api.csrf import CSRF_COOKIE
from huanghe.tenancy.tokens import authenticate

router = APIRouter(include_in_schema=False)
MAX_FORM_BYTES = 4096

_PAGE = """<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><title>登录 · Huanghe login</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">
<style>body{{font-family:sans-serif;max-width:28em;margin:4em auto;padding:0 1em}}input{{width:100%;padding:.4em;margin:.3em 0}}
.err{{color:#b00}}</style></head><body><h1>黄河 Huanghe</h1><p>登录控制台 · Console login</p>
<form method="post" action="/login"><label>API 令牌 / API token
<input type="password" name="token" autocomplete="off" required></label>
<input type="hidden" name="csrf" value="{csrf}"><button type="submit">登录 / Log in</button></form>
<p class="err">{error}</p></body></html>"""


def _form_page(error: str = "", status: int = 200) -> HTMLResponse:
    csrf = secrets.token_urlsafe(24)
    response = HTMLResponse(_PAGE.format(csrf=csrf, error=html.escape(error)), status_code=status)
    response.set_cookie(CSRF_COOKIE, csrf, httponly=False, samesite="strict", max_age=3600)
    response.headers["Cache-Control"] = "no-store"
    return response


def _secure(request: Request) -> bool:
    return request.url.scheme == "https"


@router.get("/login", response_class=HTMLResponse)
def login_page() -> HTMLResponse:
    return _form_page()


@router.post("/login", response_class=HTMLResponse)
async def login(request: Request) -> Response:
    raw = await request.body()
    form = parse_qs(raw[:MAX_FORM_BYTES].decode("utf-8", "replace"), max_num_fields=10)
    token, sent_csrf = form.get("token", [""])[0].strip(), form.get("csrf", [""])[0]
    cookie_csrf = request.cookies.get(CSRF_COOKIE, "")
    if not (sent_csrf and cookie_csrf and hmac.compare_digest(sent_csrf, cookie_csrf)):
        return _form_page("表单已过期，请重试 / the form expired, try again", 403)

    def _check() -> object:
        with request.app.state.session_factory() as session:
            return authenticate(session, token)

    principal = await run_in_threadpool(_check)
    if principal is None or getattr(principal, "token_id", None) is None:
        return _form_page("令牌无效 / invalid, expired or revoked token", 401)
    request.scope[PRINCIPAL_KEY] = principal  # the audit record of this login names who logged in
    csrf = secrets.token_urlsafe(24)
    value = request.app.state.session_signer.sign(
        {"tid": principal.token_id, "csrf": csrf, "exp": time.time() + SESSION_TTL_S}  # type: ignore[attr-defined]
    )
    response = RedirectResponse("/", status_code=303)
    response.set_cookie(SESSION_COOKIE, value, httponly=True, samesite="strict", secure=_secure(request),
                        max_age=SESSION_TTL_S)  # fmt: skip
    response.set_cookie(CSRF_COOKIE, csrf, httponly=False, samesite="strict", secure=_secure(request),
                        max_age=SESSION_TTL_S)  # fmt: skip
    return response


@router.post("/logout", response_class=RedirectResponse)
def logout() -> Response:
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE)
    response.delete_cookie(CSRF_COOKIE)
    return response
