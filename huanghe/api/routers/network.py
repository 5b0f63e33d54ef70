"""``/api/v1`` regions, cities, centers, pools and links: list (filters + pagination), get, create, patch,
delete. Thin: validate, call :mod:`huanghe.services.catalog`, return public schemas."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Response

from huanghe.api.deps import DEFAULT_PAGE_LIMIT, IdFilter, Limit, Offset, SessionDep, TextFilter
from huanghe.domain.enums import CenterKind, CenterTier
from huanghe.domain.network import ID_PATTERN
from huanghe.services import catalog
from huanghe.services.schemas import (
    CenterCreate,
    CenterPublic,
    CenterUpdate,
    CityCreate,
    CityPublic,
    CityUpdate,
    LinkCreate,
    LinkPublic,
    LinkUpdate,
    Page,
    PoolCreate,
    PoolPublic,
    PoolUpdate,
    RegionCreate,
    RegionPublic,
    RegionUpdate,
)

router = APIRouter()
Id = Annotated[str, Path(pattern=ID_PATTERN, max_length=64)]
LinkId = Annotated[int, Path(ge=1, le=2**31 - 1)]


# --- regions ---
@router.get("/regions", response_model=Page[RegionPublic], tags=["regions"])
def list_regions(s: SessionDep, limit: Limit = DEFAULT_PAGE_LIMIT, offset: Offset = 0) -> Page[RegionPublic]:
    return catalog.list_regions(s, limit=limit, offset=offset)


@router.get("/regions/{region_id}", tags=["regions"])
def get_region(s: SessionDep, region_id: Id) -> RegionPublic:
    return catalog.get_region(s, region_id)


@router.post("/regions", status_code=201, tags=["regions"])
def create_region(s: SessionDep, body: RegionCreate) -> RegionPublic:
    return catalog.create_region(s, body)


@router.patch("/regions/{region_id}", tags=["regions"])
def update_region(s: SessionDep, region_id: Id, body: RegionUpdate) -> RegionPublic:
    return catalog.update_region(s, region_id, body)


@router.delete("/regions/{region_id}", status_code=204, tags=["regions"])
def delete_region(s: SessionDep, region_id: Id) -> Response:
    catalog.delete_region(s, region_id)
    return Response(status_code=204)


# --- cities ---
@router.get("/cities", response_model=Page[CityPublic], tags=["cities"])
def list_cities(
    s: SessionDep, region: IdFilter = None, limit: Limit = DEFAULT_PAGE_LIMIT, offset: Offset = 0
) -> Page[CityPublic]:
    return catalog.list_cities(s, region=region, limit=limit, offset=offset)


@router.get("/cities/{city_id}", tags=["cities"])
def get_city(s: SessionDep, city_id: Id) -> CityPublic:
    return catalog.get_city(s, city_id)


@router.post("/cities", status_code=201, tags=["cities"])
def create_city(s: SessionDep, body: CityCreate) -> CityPublic:
    return catalog.create_city(s, body)


@router.patch("/cities/{city_id}", tags=["cities"])
def update_city(s: SessionDep, city_id: Id, body: CityUpdate) -> CityPublic:
    return catalog.update_city(s, city_id, body)


@router.delete("/cities/{city_id}", status_code=204, tags=["cities"])
def delete_city(s: SessionDep, city_id: Id) -> Response:
    catalog.delete_city(s, city_id)
    return Response(status_code=204)


# --- centers ---
@router.get("/centers", response_model=Page[CenterPublic], tags=["centers"])
def list_centers(
    s: SessionDep,
    city: IdFilter = None,
    region: IdFilter = None,
    tier: CenterTier | None = None,
    kind: CenterKind | None = None,
    operator: TextFilter = None,
    limit: Limit = DEFAULT_PAGE_LIMIT,
    offset: Offset = 0,
) -> Page[CenterPublic]:
    """Centers with their pools. Filters combine with AND; ``region`` is the economic circle of the city."""
    return catalog.list_centers(
        s, city=city, region=region, tier=tier, kind=kind, operator=operator, limit=limit, offset=offset
    )


@router.get("/centers/{center_id}", tags=["centers"])
def get_center(s: SessionDep, center_id: Id) -> CenterPublic:
    return catalog.get_center(s, center_id)


@router.post("/centers", status_code=201, tags=["centers"])
def create_center(s: SessionDep, body: CenterCreate) -> CenterPublic:
    return catalog.create_center(s, body)


@router.patch("/centers/{center_id}", tags=["centers"])
def update_center(s: SessionDep, center_id: Id, body: CenterUpdate) -> CenterPublic:
    return catalog.update_center(s, center_id, body)


@router.delete("/centers/{center_id}", status_code=204, tags=["centers"])
def delete_center(s: SessionDep, center_id: Id) -> Response:
    """Delete a center with its pools, storage tiers and links (refused while datasets are stored there)."""
    catalog.delete_center(s, center_id)
    return Response(status_code=204)


# --- pools ---
@router.get("/pools", response_model=Page[PoolPublic], tags=["pools"])
def list_pools(
    s: SessionDep,
    center: IdFilter = None,
    city: IdFilter = None,
    region: IdFilter = None,
    accelerator_class: Annotated[str | None, Query(pattern=r"^(cpu|gpu|npu|dcu)$")] = None,
    backend: TextFilter = None,
    limit: Limit = DEFAULT_PAGE_LIMIT,
    offset: Offset = 0,
) -> Page[PoolPublic]:
    return catalog.list_pools(
        s,
        center=center,
        city=city,
        region=region,
        accelerator_class=accelerator_class,
        backend=backend,
        limit=limit,
        offset=offset,
    )


@router.get("/pools/{pool_id}", tags=["pools"])
def get_pool(s: SessionDep, pool_id: Id) -> PoolPublic:
    return catalog.get_pool(s, pool_id)


@router.post("/pools", status_code=201, tags=["pools"])
def create_pool(s: SessionDep, body: PoolCreate) -> PoolPublic:
    return catalog.create_pool(s, body)


@router.patch("/pools/{pool_id}", tags=["pools"])
def update_pool(s: SessionDep, pool_id: Id, body: PoolUpdate) -> PoolPublic:
    return catalog.update_pool(s, pool_id, body)


@router.delete("/pools/{pool_id}", status_code=204, tags=["pools"])
def delete_pool(s: SessionDep, pool_id: Id) -> Response:
    catalog.delete_pool(s, pool_id)
    return Response(status_code=204)


# --- links ---
@router.get("/links", response_model=Page[LinkPublic], tags=["links"])
def list_links(
    s: SessionDep, center: IdFilter = None, limit: Limit = DEFAULT_PAGE_LIMIT, offset: Offset = 0
) -> Page[LinkPublic]:
    """Links; ``center`` keeps the links with that center at either end."""
    return catalog.list_links(s, center=center, limit=limit, offset=offset)


@router.get("/links/{link_id}", tags=["links"])
def get_link(s: SessionDep, link_id: LinkId) -> LinkPublic:
    return catalog.get_link(s, link_id)


@router.post("/links", status_code=201, tags=["links"])
def create_link(s: SessionDep, body: LinkCreate) -> LinkPublic:
    return catalog.create_link(s, body)


@router.patch("/links/{link_id}", tags=["links"])
def update_link(s: SessionDep, link_id: LinkId, body: LinkUpdate) -> LinkPublic:
    return catalog.update_link(s, link_id, body)


@router.delete("/links/{link_id}", status_code=204, tags=["links"])
def delete_link(s: SessionDep, link_id: LinkId) -> Response:
    catalog.delete_link(s, link_id)
    return Response(status_code=204)
