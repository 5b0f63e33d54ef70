"""``/api/v1`` regions, cities, centers, pools and links: list (filters + pagination), get, create, patch,
delete. Thin: validate, call :mod:`huanghe.services.catalog`, return public schemas."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from huanghe.api.crud_routes import add_item_routes
from huanghe.api.deps import DEFAULT_PAGE_LIMIT, IdFilter, Limit, Offset, SessionDep, TextFilter
from huanghe.core import paging
from huanghe.domain.enums import CenterKind, CenterTier
from huanghe.domain.network import ID_PATTERN
from huanghe.network import schemas as network_schemas
from huanghe.network import service as network_svc

router = APIRouter()
Id = Annotated[str, Path(pattern=ID_PATTERN, max_length=64)]
LinkId = Annotated[int, Path(ge=1, le=2**31 - 1)]


@router.get("/regions", response_model=paging.Page[network_schemas.RegionPublic], tags=["regions"])
def list_regions(
    s: SessionDep, limit: Limit = DEFAULT_PAGE_LIMIT, offset: Offset = 0
) -> paging.Page[network_schemas.RegionPublic]:
    return network_svc.list_regions(s, limit=limit, offset=offset)


@router.get("/cities", response_model=paging.Page[network_schemas.CityPublic], tags=["cities"])
def list_cities(
    s: SessionDep, region: IdFilter = None, limit: Limit = DEFAULT_PAGE_LIMIT, offset: Offset = 0
) -> paging.Page[network_schemas.CityPublic]:
    return network_svc.list_cities(s, region=region, limit=limit, offset=offset)


@router.get("/centers", response_model=paging.Page[network_schemas.CenterPublic], tags=["centers"])
def list_centers(
    s: SessionDep,
    city: IdFilter = None,
    region: IdFilter = None,
    tier: CenterTier | None = None,
    kind: CenterKind | None = None,
    operator: TextFilter = None,
    limit: Limit = DEFAULT_PAGE_LIMIT,
    offset: Offset = 0,
) -> paging.Page[network_schemas.CenterPublic]:
    """Centers with their pools. Filters combine with AND; ``region`` is the economic circle of the city."""
    return network_svc.list_centers(
        s, city=city, region=region, tier=tier, kind=kind, operator=operator, limit=limit, offset=offset
    )


@router.get("/pools", response_model=paging.Page[network_schemas.PoolPublic], tags=["pools"])
def list_pools(
    s: SessionDep,
    center: IdFilter = None,
    city: IdFilter = None,
    region: IdFilter = None,
    accelerator_class: Annotated[str | None, Query(pattern=r"^(cpu|gpu|npu|dcu)$")] = None,
    backend: TextFilter = None,
    limit: Limit = DEFAULT_PAGE_LIMIT,
    offset: Offset = 0,
) -> paging.Page[network_schemas.PoolPublic]:
    return network_svc.list_pools(
        s,
        center=center,
        city=city,
        region=region,
        accelerator_class=accelerator_class,
        backend=backend,
        limit=limit,
        offset=offset,
    )


@router.get("/links", response_model=paging.Page[network_schemas.LinkPublic], tags=["links"])
def list_links(
    s: SessionDep, center: IdFilter = None, limit: Limit = DEFAULT_PAGE_LIMIT, offset: Offset = 0
) -> paging.Page[network_schemas.LinkPublic]:
    """Links; ``center`` keeps the links with that center at either end."""
    return network_svc.list_links(s, center=center, limit=limit, offset=offset)


add_item_routes(
    router, "regions", id_type=Id, public=network_schemas.RegionPublic, create_model=network_schemas.RegionCreate,
    update_model=network_schemas.RegionUpdate, get=network_svc.get_region, create=network_svc.create_region,
    update=network_svc.update_region, delete=network_svc.delete_region,
    delete_doc="Delete a region (refused while cities belong to it).",
)  # fmt: skip
add_item_routes(
    router, "cities", id_type=Id, public=network_schemas.CityPublic, create_model=network_schemas.CityCreate, update_model=network_schemas.CityUpdate,
    get=network_svc.get_city, create=network_svc.create_city, update=network_svc.update_city, delete=network_svc.delete_city,
    delete_doc="Delete a city (refused while centers are in it).",
)  # fmt: skip
add_item_routes(
    router, "centers", id_type=Id, public=network_schemas.CenterPublic, create_model=network_schemas.CenterCreate,
    update_model=network_schemas.CenterUpdate, get=network_svc.get_center, create=network_svc.create_center,
    update=network_svc.update_center, delete=network_svc.delete_center,
    delete_doc="Delete a center with its pools, storage tiers and links (refused while datasets are there).",
)  # fmt: skip
add_item_routes(
    router, "pools", id_type=Id, public=network_schemas.PoolPublic, create_model=network_schemas.PoolCreate, update_model=network_schemas.PoolUpdate,
    get=network_svc.get_pool, create=network_svc.create_pool, update=network_svc.update_pool, delete=network_svc.delete_pool,
)  # fmt: skip
add_item_routes(
    router, "links", id_type=LinkId, public=network_schemas.LinkPublic, create_model=network_schemas.LinkCreate, update_model=network_schemas.LinkUpdate,
    get=network_svc.get_link, create=network_svc.create_link, update=network_svc.update_link, delete=network_svc.delete_link,
)  # fmt: skip
