"""Data security: ``/api/v1/protection`` (the protection catalog of important and core data) and
``POST /api/v1/datasets/{item_id}/replicas`` (a copy, refused with 422 outside the allowed centers),
``GET /api/v1/datasets/{item_id}/residency`` (where its copies may live: centers and endpoints)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request
from pydantic import BaseModel

from huanghe.api.authentication import principal_of_request
from huanghe.api.deps import DEFAULT_PAGE_LIMIT, Limit, Offset, SessionDep
from huanghe.core.paging import Page
from huanghe.data import protection as datasec
from huanghe.domain.enums import DataClass
from huanghe.domain.network import ID_PATTERN

router = APIRouter()
DatasetId = Annotated[str, Path(pattern=ID_PATTERN, max_length=64)]


class Replicas(BaseModel):
    dataset: str
    replicas: list[str]


@router.get("/protection", response_model=Page[datasec.ProtectionPublic], tags=["data security"])
def list_protection(
    s: SessionDep, data_class: DataClass | None = None, limit: Limit = DEFAULT_PAGE_LIMIT, offset: Offset = 0
) -> Page[datasec.ProtectionPublic]:
    """The protection catalog (重要数据保护目录): owner, location, allowed centers, purpose."""
    return datasec.list_entries(s, data_class=data_class, limit=limit, offset=offset)


@router.post("/protection", response_model=datasec.ProtectionPublic, status_code=201, tags=["data security"])
def add_protection(
    s: SessionDep, body: datasec.ProtectionCreate, request: Request
) -> datasec.ProtectionPublic:
    return datasec.add_entry(s, body, actor=principal_of_request(request).actor)


@router.post("/datasets/{item_id}/replicas", response_model=Replicas, status_code=201, tags=["datasets"])
def add_replica(s: SessionDep, item_id: DatasetId, body: datasec.ReplicaCreate, request: Request) -> Replicas:
    """Copy a dataset to another center; refused (422) where its class or the catalog does not allow it."""
    replicas = datasec.add_replica(s, item_id, body, actor=principal_of_request(request).actor)
    return Replicas(dataset=item_id, replicas=replicas)


@router.get("/datasets/{item_id}/residency", response_model=datasec.ResidencyPublic, tags=["data security"])
def get_residency(s: SessionDep, item_id: DatasetId) -> datasec.ResidencyPublic:
    """Where the dataset's copies may live (数据驻留): its class, the rule, the centers and endpoints allowed."""
    return datasec.residency(s, item_id)
