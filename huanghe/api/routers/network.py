"""``/api/v1`` regions, cities, centers, pools and links: list (filters + pagination), get, create, patch,
delete. Thin: validate, call :mod:`huanghe.services.catalog`, return public schemas."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from huanghe.api.deps import DEFAULT_PAGE_LIMIT, IdFilter, Limit, Offset, SessionDep, TextFilter
from huanghe.api.routers.items import add_item_routes
from huanghe.domain.enums import CenterKind, CenterTier
from huanghe.domain.network import ID_PATTERN
from huanghe.services import catalog
from huanghe.services import schemas as sc

router = APIRouter()
Id = Annotated[str, Path(pattern=ID_PATTERN, max_length=64)]
LinkId = Annotated[int, Path(ge=1, le=2**31 - 1)]


@router.get("/regions", response_model=sc.Page[sc.RegionPublic], tags=["regions"])
def list_regions(
    s: SessionDep, limit: Limit = DEFAULT_PAGE_LIMIT, offset: Offset = 0
) -> sc.Page[sc.RegionPublic]:
    return catalog.list_regions(s, limit=limit, offset=offset)


@router.get("/cities", response_model=sc.Page[sc.CityPublic], tags=["cities"])
def list_cities(
    s: SessionDep, region: IdFilter = None, limit: Limit = DEFAULT_PAGE_LIMIT, offset: Offset = 0
) -> sc.Page[sc.CityPublic]:
    return catalog.list_cities(s, region=region, limit=limit, offset=offset)


@router.get("/centers", response_model=sc.Page[sc.CenterPublic], tags=["centers"])
def list_centers(
    s: SessionDep,
    city: IdFilter = None,
    region: IdFilter = None,
    tier: CenterTier | None = None,
    kind: CenterKind | None = None,
    operator: TextFilter = None,
    limit: Limit = DEFAULT_PAGE_LIMIT,
    offset: Offset = 0,
) -> sc.Page[sc.CenterPublic]:
    """Centers with their pools. Filters combine with AND; ``region`` is the economic circle of the city."""
    return catalog.list_centers(
        s, city=city, region=region, tier=tier, kind=kind, operator=operator, limit=limit, offset=offset
    )


@router.get("/pools", response_model=sc.Page[sc.PoolPublic], tags=["pools"])
def list_pools(
    s: SessionDep,
    center: IdFilter = None,
    city: IdFilter = None,
    region: IdFilter = None,
    accelerator_class: Annotated[str | None, Query(pattern=r"^(cpu|gpu|npu|dcu)$")] = None,
    backend: TextFilter = None,
    limit: Limit = DEFAULT_PAGE_LIMIT,
    offset: Offset = 0,
) -> sc.Page[sc.PoolPublic]:
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


@router.get("/links", response_model=sc.Page[sc.LinkPublic], tags=["links"])
def list_links(
    s: SessionDep, center: IdFilter = None, limit: Limit = DEFAULT_PAGE_LIMIT, offset: Offset = 0
) -> sc.Page[sc.LinkPublic]:
    """Links; ``center`` keeps the links with that center at either end."""
    return catalog.list_links(s, center=center, limit=limit, offset=offset)


add_item_routes(
    router, "regions", id_type=Id, public=sc.RegionPublic, create_model=sc.RegionCreate,
    update_model=sc.RegionUpdate, get=catalog.get_region, create=catalog.create_region,
    update=catalog.update_region, delete=catalog.delete_region,
    delete_doc="Delete a region (refused while cities belong to it).",
)  # fmt: skip
add_item_routes(
    router, "cities", id_type=Id, public=sc.CityPublic, create_model=sc.CityCreate, update_model=sc.CityUpdate,
    get=catalog.get_city, create=catalog.create_city, update=catalog.update_city, delete=catalog.delete_city,
    delete_doc="Delete a city (refused while centers are in it).",
)  # fmt: skip
add_item_routes(
    router, "centers", id_type=Id, public=sc.CenterPublic, create_model=sc.CenterCreate,
    update_model=sc.CenterUpdate, get=catalog.get_center, create=catalog.create_center,
    update=catalog.update_center, delete=catalog.delete_center,
    delete_doc="Delete a center with its pools, storage tiers and links (refused while datasets are there).",
)  # fmt: skip
add_item_routes(
    router, "pools", id_type=Id, public=sc.PoolPublic, create_model=sc.PoolCreate, update_model=sc.PoolUpdate,
    get=catalog.get_pool, create=catalog.create_pool, update=catalog.update_pool, delete=catalog.delete_pool,
)  # fmt: skip
add_item_routes(
    router, "links", id_type=LinkId, public=sc.LinkPublic, create_model=sc.LinkCreate, update_model=sc.LinkUpdate,
    get=catalog.get_link, create=catalog.create_link, update=catalog.update_link, delete=catalog.delete_link,
)  # fmt: skip
