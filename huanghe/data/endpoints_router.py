"""``/api/v1/storage-endpoints`` and ``/api/v1/data-quotas``.

Every signed-in role lists endpoints (ids, centers, tiers, capacity / used / free, availability); only
platform admins are answered the connection (URL, bucket, secret names) — nobody is ever answered a key.
Admins register, change and delete endpoints; operators change (capacity, drain, attributes) the endpoints of
their own centers (policy table: ``endpoint_path`` + connection fields admin-only). Quotas: admins set them;
tenant roles read their own tenant's (the policy forces ``?tenant=``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response

from huanghe.api.authentication import principal_of_request
from huanghe.api.deps import DEFAULT_PAGE_LIMIT, IdFilter, Limit, Offset, SessionDep, TenantFilter
from huanghe.core import paging
from huanghe.core.clock import WallClock
from huanghe.data import endpoints, quotas
from huanghe.data.endpoint_schemas import (
    QUOTA_ENDPOINT_PATTERN,
    EndpointCreate,
    EndpointPublic,
    EndpointUpdate,
    QuotaPublic,
    QuotaPut,
)
from huanghe.domain.enums import Temperature
from huanghe.domain.network import ID_PATTERN
from huanghe.domain.tenancy import Role

router = APIRouter(tags=["storage"])
EndpointId = Annotated[str, Path(pattern=ID_PATTERN, max_length=64, description="storage endpoint id")]
TenantId = Annotated[str, Path(pattern=ID_PATTERN, max_length=64, description="tenant id")]
QuotaTarget = Annotated[
    str,
    Path(pattern=QUOTA_ENDPOINT_PATTERN, max_length=64, description="endpoint id, or * for all endpoints"),
]


def _is_admin(request: Request) -> bool:
    return principal_of_request(request).role is Role.ADMIN


@router.get("/storage-endpoints", response_model=paging.Page[EndpointPublic])
def list_endpoints(
    request: Request,
    s: SessionDep,
    center: IdFilter = None,
    temperature: Temperature | None = None,
    available: Annotated[bool | None, Query(description="usable (healthy, not drained) or not")] = None,
    limit: Limit = DEFAULT_PAGE_LIMIT,
    offset: Offset = 0,
) -> paging.Page[EndpointPublic]:
    """Storage endpoints by id with capacity, used and free bytes and availability (存储端点)."""
    return endpoints.list_endpoints(
        s, center=center, temperature=temperature.value if temperature else None, available=available,
        with_connection=_is_admin(request), limit=limit, offset=offset,
    )  # fmt: skip


@router.get("/storage-endpoints/{endpoint_id}", response_model=EndpointPublic)
def get_endpoint(request: Request, s: SessionDep, endpoint_id: EndpointId) -> EndpointPublic:
    return endpoints.get_endpoint(s, endpoint_id, with_connection=_is_admin(request))


@router.post("/storage-endpoints", response_model=EndpointPublic, status_code=201)
def register_endpoint(request: Request, s: SessionDep, body: EndpointCreate) -> EndpointPublic:
    """Register an external S3 endpoint (platform admins); it is pinged at once."""
    return endpoints.register_endpoint(s, body, clock=WallClock(), actor=principal_of_request(request).actor)


@router.patch("/storage-endpoints/{endpoint_id}", response_model=EndpointPublic)
def update_endpoint(
    request: Request, s: SessionDep, endpoint_id: EndpointId, body: EndpointUpdate
) -> EndpointPublic:
    """Change capacity, drain (``drained`` + ``reason``), custom attributes; admins also the connection."""
    out = endpoints.update_endpoint(
        s, endpoint_id, body, clock=WallClock(), actor=principal_of_request(request).actor
    )
    return out if _is_admin(request) else out.model_copy(update={"connection": None})


@router.delete("/storage-endpoints/{endpoint_id}", status_code=204, response_class=Response)
def delete_endpoint(request: Request, s: SessionDep, endpoint_id: EndpointId) -> Response:
    """Delete an endpoint (refused while it holds replicas, locks, transfers or uploads)."""
    endpoints.delete_endpoint(s, endpoint_id, clock=WallClock(), actor=principal_of_request(request).actor)
    return Response(status_code=204)


@router.get("/data-quotas", response_model=paging.Page[QuotaPublic])
def list_quotas(
    s: SessionDep,
    tenant: TenantFilter,
    endpoint: Annotated[str | None, Query(pattern=QUOTA_ENDPOINT_PATTERN, max_length=64)] = None,
    limit: Limit = DEFAULT_PAGE_LIMIT,
    offset: Offset = 0,
) -> paging.Page[QuotaPublic]:
    """Data quotas with what each tenant uses under them (tenant roles: their own tenant only)."""
    return quotas.list_quotas(s, tenant=tenant, endpoint=endpoint, limit=limit, offset=offset)


@router.put("/data-quotas/{tenant_id}/{endpoint_id}", response_model=QuotaPublic)
def set_quota(
    request: Request, s: SessionDep, tenant_id: TenantId, endpoint_id: QuotaTarget, body: QuotaPut
) -> QuotaPublic:
    """Set a tenant's limit on one endpoint, or on all endpoints together (``*``), bytes."""
    return quotas.set_quota(s, tenant_id, endpoint_id, body, actor=principal_of_request(request).actor)


@router.delete("/data-quotas/{tenant_id}/{endpoint_id}", status_code=204, response_class=Response)
def delete_quota(request: Request, s: SessionDep, tenant_id: TenantId, endpoint_id: QuotaTarget) -> Response:
    quotas.delete_quota(s, tenant_id, endpoint_id, actor=principal_of_request(request).actor)
    return Response(status_code=204)
