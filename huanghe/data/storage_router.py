"""``/api/v1/observatory/data-storage`` (storage as actually stored, tier costs, off-site backup share) and
``/api/v1/lifecycle-policies`` (tiering rules: the province's and tenants')."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request, Response

from huanghe.api.authentication import principal_of_request
from huanghe.api.deps import DEFAULT_PAGE_LIMIT, Limit, Offset, SessionDep, TenantFilter
from huanghe.core.paging import Page
from huanghe.data import stored_figures as svc
from huanghe.domain.network import ID_PATTERN

router = APIRouter()
PolicyId = Annotated[str, Path(pattern=ID_PATTERN, max_length=64)]


@router.get("/observatory/data-storage", response_model=svc.StoredStorage, tags=["observatory"])
def data_storage(s: SessionDep) -> svc.StoredStorage:
    """Stored bytes per tier and medium, advanced-storage share of stored bytes, monthly cost per tier, and
    the share of important/core datasets with a verified off-site copy (存储与异地备份)."""
    return svc.stored_storage(s)


@router.get("/lifecycle-policies", response_model=Page[svc.PolicyPublic], tags=["data lifecycle"])
def list_policies(
    s: SessionDep, tenant: TenantFilter, limit: Limit = DEFAULT_PAGE_LIMIT, offset: Offset = 0
) -> Page[svc.PolicyPublic]:
    """The province's policies and, for a tenant, its own (a tenant never sees another's)."""
    return svc.list_policies(s, tenant=tenant, limit=limit, offset=offset)


@router.put("/lifecycle-policies/{policy_id}", response_model=svc.PolicyPublic, tags=["data lifecycle"])
def put_policy(s: SessionDep, policy_id: PolicyId, body: svc.PolicyPut, request: Request) -> svc.PolicyPublic:
    return svc.put_policy(s, policy_id, body, actor=principal_of_request(request).actor)


@router.delete(
    "/lifecycle-policies/{policy_id}", status_code=204, response_class=Response, tags=["data lifecycle"]
)
def delete_policy(s: SessionDep, policy_id: PolicyId, request: Request) -> Response:
    svc.delete_policy(s, policy_id, actor=principal_of_request(request).actor)
    return Response(status_code=204)
