"""``GET /api/v1/auth/capabilities``: which routes the caller's role may call, for the console's menu.

Read from the one authorisation table (:data:`huanghe.api.policy.POLICY`): every public route and every route
whose rule names the caller's role. Scope rules still narrow each call at request time (a tenant sees only its
own jobs), so this answers "which pages may this role open", never "which rows". ``HEAD`` is left out (it is
checked as ``GET``).
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from pydantic import BaseModel

from huanghe.api.authentication import principal_of_request
from huanghe.api.policy import POLICY
from huanghe.domain.tenancy import Role

router = APIRouter(prefix="/auth", tags=["auth"])


class Capabilities(BaseModel):
    """The caller's role and the routes it may call, each as ``"METHOD /path/{template}"``, sorted."""

    role: Role
    routes: list[str]


def routes_for(role: Role) -> list[str]:
    """Every ``"METHOD /path"`` of the policy table that ``role`` may call (public ones included)."""
    return sorted(
        f"{method} {path}"
        for (method, path), rule in POLICY.items()
        if method != "HEAD" and (rule.public or role in rule.roles)
    )


@router.get("/capabilities", response_model=Capabilities)
def capabilities(request: Request) -> Capabilities:
    role = principal_of_request(request).role
    return Capabilities(role=role, routes=routes_for(role))
