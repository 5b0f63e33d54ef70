"""``/api/v1`` tenants and users: list (filters + pagination), get, create, patch, delete."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from huanghe.api.crud_routes import add_item_routes
from huanghe.api.deps import DEFAULT_PAGE_LIMIT, Limit, Offset, SessionDep, TenantFilter, TextFilter
from huanghe.core import paging
from huanghe.domain.network import ID_PATTERN
from huanghe.domain.tenancy import Role
from huanghe.tenancy import schemas as tenancy_schemas
from huanghe.tenancy import service as tenancy_svc

router = APIRouter()
Id = Annotated[str, Path(pattern=ID_PATTERN, max_length=64)]


@router.get("/tenants", response_model=paging.Page[tenancy_schemas.TenantPublic], tags=["tenants"])
def list_tenants(
    s: SessionDep, sector: TextFilter = None, limit: Limit = DEFAULT_PAGE_LIMIT, offset: Offset = 0
) -> paging.Page[tenancy_schemas.TenantPublic]:
    return tenancy_svc.list_tenants(s, sector=sector, limit=limit, offset=offset)


@router.get("/users", response_model=paging.Page[tenancy_schemas.UserPublic], tags=["users"])
def list_users(
    s: SessionDep,
    tenant: TenantFilter,
    role: Role | None = None,
    limit: Limit = DEFAULT_PAGE_LIMIT,
    offset: Offset = 0,
) -> paging.Page[tenancy_schemas.UserPublic]:
    return tenancy_svc.list_users(
        s, tenant=tenant, role=role.value if role else None, limit=limit, offset=offset
    )


add_item_routes(
    router, "tenants", id_type=Id, public=tenancy_schemas.TenantPublic,
    create_model=tenancy_schemas.TenantCreate, update_model=tenancy_schemas.TenantUpdate,
    get=tenancy_svc.get_tenant, create=tenancy_svc.create_tenant, update=tenancy_svc.update_tenant,
    delete=tenancy_svc.delete_tenant,
    delete_doc="Delete a tenant (refused while users, datasets or jobs name it).",
)  # fmt: skip
add_item_routes(
    router, "users", id_type=Id, public=tenancy_schemas.UserPublic, create_model=tenancy_schemas.UserCreate,
    update_model=tenancy_schemas.UserUpdate, get=tenancy_svc.get_user, create=tenancy_svc.create_user,
    update=tenancy_svc.update_user, delete=tenancy_svc.delete_user,
)  # fmt: skip
