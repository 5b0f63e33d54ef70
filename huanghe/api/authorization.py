"""Authorisation: :func:`authorize` is THE authorisation dependency, installed once at app level.

It identifies the caller (:mod:`huanghe.api.authentication`), finds the matched route's template in
:data:`huanghe.api.policy.POLICY` and refuses what the table does not allow: 401 anonymous, 403 role or
scope, 404 another tenant's object; a route missing from the table → 403 for everyone (fail closed).
State-changing requests made with the console session cookie must pass the CSRF check
(:mod:`huanghe.api.csrf`). Scope rules (:mod:`huanghe.api.scope_rules`) then run with a database session.

With ``settings.auth_active`` false (dev mode) every request runs as the admin principal ``dev``; only the
admission rules (quotas at job submission) apply.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import HTTPException, Request
from starlette.concurrency import run_in_threadpool

from huanghe.api.authentication import PRINCIPAL_KEY, identify
from huanghe.api.csrf import check_csrf
from huanghe.api.policy import Rule, rule_for
from huanghe.api.routes import route_template
from huanghe.api.scope_rules import ScopeContext, ScopeRule
from huanghe.domain.tenancy import Scope as TokenScope
from huanghe.settings import Settings
from huanghe.tenancy.tokens import DEV_PRINCIPAL, Principal

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def parse_json_body(raw: bytes) -> Any:
    """The JSON body for a scope rule, or None when it is not JSON (validation answers later)."""
    try:
        return json.loads(raw) if raw else None
    except (ValueError, RecursionError):
        return None


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
    principal, session_payload = await identify(request)
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
        check_csrf(request, session_payload)
    await _apply(request, principal, [r for r in (rule.scope, rule.admission) if r is not None], rule)
