"""``/api/v1/secrets``: back-end credentials, platform admins only (policy table). Values go in (``PUT``) and
never come out: answers carry the name, description, times and the pools naming the secret."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request, Response

from huanghe.api.deps import DEFAULT_PAGE_LIMIT, Limit, Offset, SessionDep
from huanghe.core import paging
from huanghe.domain.network import ID_PATTERN
from huanghe.network import secrets
from huanghe.network.schemas import SecretPublic, SecretPut

router = APIRouter(tags=["secrets"])
Name = Annotated[str, Path(pattern=ID_PATTERN, max_length=64, description="secret name")]


@router.get("/secrets", response_model=paging.Page[SecretPublic])
def list_secrets(
    s: SessionDep, limit: Limit = DEFAULT_PAGE_LIMIT, offset: Offset = 0
) -> paging.Page[SecretPublic]:
    """Stored secrets without their values."""
    return secrets.list_secrets(s, limit=limit, offset=offset)


@router.get("/secrets/{name}", response_model=SecretPublic)
def get_secret(s: SessionDep, name: Name) -> SecretPublic:
    return secrets.get_secret(s, name)


@router.put("/secrets/{name}", response_model=SecretPublic)
def put_secret(request: Request, s: SessionDep, name: Name, body: SecretPut) -> SecretPublic:
    """Create or rotate a secret; the value is encrypted at rest and never answered."""
    return secrets.put_secret(s, name, body, dev_mode=request.app.state.settings.dev_mode)


@router.delete("/secrets/{name}", status_code=204, response_class=Response)
def delete_secret(s: SessionDep, name: Name) -> Response:
    """Delete a secret (refused while a pool names it)."""
    secrets.delete_secret(s, name)
    return Response(status_code=204)
