"""``/api/v1/auth``: API tokens (create: shown once; list; revoke) and ``whoami``."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request
from pydantic import BaseModel

from huanghe.api.authentication import principal_of_request
from huanghe.api.deps import DEFAULT_PAGE_LIMIT, Limit, Offset, SessionDep, TenantFilter
from huanghe.core.paging import Page
from huanghe.domain.tenancy import Role, Scope
from huanghe.tenancy import tokens as auth

router = APIRouter(prefix="/auth", tags=["auth"])


class WhoAmI(BaseModel):
    """The caller as the server sees it."""

    name: str
    role: Role
    tenant: str | None
    centers: list[str]
    scopes: list[Scope]
    token_id: int | None


@router.get("/whoami", response_model=WhoAmI)
def whoami(request: Request) -> WhoAmI:
    p = principal_of_request(request)
    return WhoAmI(
        name=p.name, role=p.role, tenant=p.tenant_id, centers=sorted(p.center_ids), scopes=sorted(p.scopes),
        token_id=p.token_id,
    )  # fmt: skip


@router.get("/tokens", response_model=Page[auth.TokenPublic])
def list_tokens(
    s: SessionDep, tenant: TenantFilter, limit: Limit = DEFAULT_PAGE_LIMIT, offset: Offset = 0
) -> Page[auth.TokenPublic]:
    return auth.list_tokens(s, tenant=tenant, limit=limit, offset=offset)


@router.post("/tokens", response_model=auth.TokenCreated, status_code=201)
def create_token(s: SessionDep, body: auth.TokenCreate, request: Request) -> auth.TokenCreated:
    """Create a token; the answer holds the secret ``token``, shown this once only (令牌仅显示一次)."""
    return auth.create_token(s, body, creator=principal_of_request(request))


@router.delete("/tokens/{token_id}", response_model=auth.TokenPublic)
def revoke_token(
    s: SessionDep, token_id: Annotated[int, Path(ge=1, le=2**31 - 1)], request: Request
) -> auth.TokenPublic:
    """Revoke a token (idempotent); it stops working at once, console sessions made with it too."""
    return auth.revoke_token(s, token_id, by=principal_of_request(request))
