"""``/api/v1/datasets``: list (filters + pagination), get, create, patch, delete."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from huanghe.api.crud_routes import add_item_routes
from huanghe.api.deps import DEFAULT_PAGE_LIMIT, IdFilter, Limit, Offset, SessionDep, TenantFilter
from huanghe.core import paging
from huanghe.data import schemas as data_schemas
from huanghe.data import service as datasets_svc
from huanghe.domain.enums import DataClass
from huanghe.domain.network import ID_PATTERN

router = APIRouter()
Id = Annotated[str, Path(pattern=ID_PATTERN, max_length=64)]


@router.get("/datasets", response_model=paging.Page[data_schemas.DatasetPublic], tags=["datasets"])
def list_datasets(
    s: SessionDep,
    tenant: TenantFilter,
    center: IdFilter = None,
    data_class: DataClass | None = None,
    limit: Limit = DEFAULT_PAGE_LIMIT,
    offset: Offset = 0,
) -> paging.Page[data_schemas.DatasetPublic]:
    return datasets_svc.list_datasets(
        s, tenant=tenant, center=center, data_class=data_class, limit=limit, offset=offset
    )


add_item_routes(
    router, "datasets", id_type=Id, public=data_schemas.DatasetPublic, create_model=data_schemas.DatasetCreate,
    update_model=data_schemas.DatasetUpdate, get=datasets_svc.get_dataset, create=datasets_svc.create_dataset,
    update=datasets_svc.update_dataset, delete=datasets_svc.delete_dataset, update_with_actor=True,
)  # fmt: skip
