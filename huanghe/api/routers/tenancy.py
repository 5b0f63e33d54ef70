"""``/api/v1`` tenants, users and datasets: list (filters + pagination), get, create, patch, delete."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from huanghe.api.deps import DEFAULT_PAGE_LIMIT, IdFilter, Limit, Offset, SessionDep, TextFilter
from huanghe.api.routers.items import add_item_routes
from huanghe.domain.enums import DataClass
from huanghe.domain.network import ID_PATTERN
from huanghe.services import catalog
from huanghe.services import schemas as sc

router = APIRouter()
Id = Annotated[str, Path(pattern=ID_PATTERN, max_length=64)]


@router.get("/tenants", response_model=sc.Page[sc.TenantPublic], tags=["tenants"])
def list_tenants(
    s: SessionDep, sector: TextFilter = None, limit: Limit = DEFAULT_PAGE_LIMIT, offset: Offset = 0
) -> sc.Page[sc.TenantPublic]:
    return catalog.list_tenants(s, sector=sector, limit=limit, offset=offset)


@router.get("/users", response_model=sc.Page[sc.UserPublic], tags=["users"])
def list_users(
    s: SessionDep,
    tenant: IdFilter = None,
    role: TextFilter = None,
    limit: Limit = DEFAULT_PAGE_LIMIT,
    offset: Offset = 0,
) -> sc.Page[sc.UserPublic]:
    return catalog.list_users(s, tenant=tenant, role=role, limit=limit, offset=offset)


@router.get("/datasets", response_model=sc.Page[sc.DatasetPublic], tags=["datasets"])
def list_datasets(
    s: SessionDep,
    tenant: IdFilter = None,
    center: IdFilter = None,
    data_class: DataClass | None = None,
    limit: Limit = DEFAULT_PAGE_LIMIT,
    offset: Offset = 0,
) -> sc.Page[sc.DatasetPublic]:
    return catalog.list_datasets(
        s, tenant=tenant, center=center, data_class=data_class, limit=limit, offset=offset
    )


add_item_routes(
    router, "tenants", id_type=Id, public=sc.TenantPublic, create_model=sc.TenantCreate,
    update_model=sc.TenantUpdate, get=catalog.get_tenant, create=catalog.create_tenant,
    update=catalog.update_tenant, delete=catalog.delete_tenant,
    delete_doc="Delete a tenant (refused while it has users or datasets).",
)  # fmt: skip
add_item_routes(
    router, "users", id_type=Id, public=sc.UserPublic, create_model=sc.UserCreate, update_model=sc.UserUpdate,
    get=catalog.get_user, create=catalog.create_user, update=catalog.update_user, delete=catalog.delete_user,
)  # fmt: skip
add_item_routes(
    router, "datasets", id_type=Id, public=sc.DatasetPublic, create_model=sc.DatasetCreate,
    update_model=sc.DatasetUpdate, get=catalog.get_dataset, create=catalog.create_dataset,
    update=catalog.update_dataset, delete=catalog.delete_dataset,
)  # fmt: skip
