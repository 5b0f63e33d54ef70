"""``/api/v1`` tenants, users and datasets: list (filters + pagination), get, create, patch, delete."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Response

from huanghe.api.deps import DEFAULT_PAGE_LIMIT, IdFilter, Limit, Offset, SessionDep, TextFilter
from huanghe.domain.enums import DataClass
from huanghe.domain.network import ID_PATTERN
from huanghe.services import catalog
from huanghe.services.schemas import (
    DatasetCreate,
    DatasetPublic,
    DatasetUpdate,
    Page,
    TenantCreate,
    TenantPublic,
    TenantUpdate,
    UserCreate,
    UserPublic,
    UserUpdate,
)

router = APIRouter()
Id = Annotated[str, Path(pattern=ID_PATTERN, max_length=64)]


# --- tenants ---
@router.get("/tenants", response_model=Page[TenantPublic], tags=["tenants"])
def list_tenants(
    s: SessionDep, sector: TextFilter = None, limit: Limit = DEFAULT_PAGE_LIMIT, offset: Offset = 0
) -> Page[TenantPublic]:
    return catalog.list_tenants(s, sector=sector, limit=limit, offset=offset)


@router.get("/tenants/{tenant_id}", tags=["tenants"])
def get_tenant(s: SessionDep, tenant_id: Id) -> TenantPublic:
    return catalog.get_tenant(s, tenant_id)


@router.post("/tenants", status_code=201, tags=["tenants"])
def create_tenant(s: SessionDep, body: TenantCreate) -> TenantPublic:
    return catalog.create_tenant(s, body)


@router.patch("/tenants/{tenant_id}", tags=["tenants"])
def update_tenant(s: SessionDep, tenant_id: Id, body: TenantUpdate) -> TenantPublic:
    return catalog.update_tenant(s, tenant_id, body)


@router.delete("/tenants/{tenant_id}", status_code=204, tags=["tenants"])
def delete_tenant(s: SessionDep, tenant_id: Id) -> Response:
    """Delete a tenant (refused while it has users or datasets)."""
    catalog.delete_tenant(s, tenant_id)
    return Response(status_code=204)


# --- users ---
@router.get("/users", response_model=Page[UserPublic], tags=["users"])
def list_users(
    s: SessionDep,
    tenant: IdFilter = None,
    role: TextFilter = None,
    limit: Limit = DEFAULT_PAGE_LIMIT,
    offset: Offset = 0,
) -> Page[UserPublic]:
    return catalog.list_users(s, tenant=tenant, role=role, limit=limit, offset=offset)


@router.get("/users/{user_id}", tags=["users"])
def get_user(s: SessionDep, user_id: Id) -> UserPublic:
    return catalog.get_user(s, user_id)


@router.post("/users", status_code=201, tags=["users"])
def create_user(s: SessionDep, body: UserCreate) -> UserPublic:
    return catalog.create_user(s, body)


@router.patch("/users/{user_id}", tags=["users"])
def update_user(s: SessionDep, user_id: Id, body: UserUpdate) -> UserPublic:
    return catalog.update_user(s, user_id, body)


@router.delete("/users/{user_id}", status_code=204, tags=["users"])
def delete_user(s: SessionDep, user_id: Id) -> Response:
    catalog.delete_user(s, user_id)
    return Response(status_code=204)


# --- datasets ---
@router.get("/datasets", response_model=Page[DatasetPublic], tags=["datasets"])
def list_datasets(
    s: SessionDep,
    tenant: IdFilter = None,
    center: IdFilter = None,
    data_class: DataClass | None = None,
    limit: Limit = DEFAULT_PAGE_LIMIT,
    offset: Offset = 0,
) -> Page[DatasetPublic]:
    return catalog.list_datasets(
        s, tenant=tenant, center=center, data_class=data_class, limit=limit, offset=offset
    )


@router.get("/datasets/{dataset_id}", tags=["datasets"])
def get_dataset(s: SessionDep, dataset_id: Id) -> DatasetPublic:
    return catalog.get_dataset(s, dataset_id)


@router.post("/datasets", status_code=201, tags=["datasets"])
def create_dataset(s: SessionDep, body: DatasetCreate) -> DatasetPublic:
    return catalog.create_dataset(s, body)


@router.patch("/datasets/{dataset_id}", tags=["datasets"])
def update_dataset(s: SessionDep, dataset_id: Id, body: DatasetUpdate) -> DatasetPublic:
    return catalog.update_dataset(s, dataset_id, body)


@router.delete("/datasets/{dataset_id}", status_code=204, tags=["datasets"])
def delete_dataset(s: SessionDep, dataset_id: Id) -> Response:
    catalog.delete_dataset(s, dataset_id)
    return Response(status_code=204)
