"""``/api/v1/offerings``: the compute product catalog (算力产品目录). Who may call what is in the policy table
(:mod:`huanghe.api.policy`): everyone signed in browses, operators write offerings of pools in their own
centers (scope rules), admins any. What a caller sees follows its role (:class:`~huanghe.network.offerings.Viewer`):
tenants only published offerings (another answers 404).

| method | path | what |
|---|---|---|
| GET | ``/offerings`` | page, cheapest first; filters ``state kind city accelerator max_price_cny min_security_level operator pool`` |
| GET | ``/offerings/{offering_id}`` | one offering |
| POST | ``/offerings`` | a new draft (:class:`~huanghe.network.offerings.OfferingCreate`) |
| PATCH | ``/offerings/{offering_id}`` | change a draft |
| POST | ``/offerings/{offering_id}:publish`` / ``:withdraw`` | move it |
"""

from __future__ import annotations

import time
from decimal import Decimal
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query, Request

from huanghe.api.authentication import principal_of_request
from huanghe.api.deps import DEFAULT_PAGE_LIMIT, Limit, Offset, SessionDep, TextFilter
from huanghe.core.paging import Page
from huanghe.domain.network import ID_PATTERN
from huanghe.network import offerings as svc

router = APIRouter(tags=["offerings"])
OfferingId = Annotated[str, Path(pattern=ID_PATTERN, max_length=64, description="offering id")]
IdFilter = Annotated[str | None, Query(pattern=ID_PATTERN, max_length=64)]


def _viewer(request: Request) -> svc.Viewer:
    p = principal_of_request(request)
    return svc.Viewer(role=p.role.value, center_ids=frozenset(p.center_ids))


@router.get("/offerings", response_model=Page[svc.OfferingPublic])
def list_offerings(
    request: Request, s: SessionDep, state: Literal["draft", "published", "withdrawn"] | None = None,
    kind: Literal["general", "intelligent", "supercomputing"] | None = None, city: IdFilter = None,
    accelerator: TextFilter = None,
    max_price_cny: Annotated[Decimal | None, Query(ge=0, le=svc.MAX_PRICE_CNY, description="CNY per node-hour")] = None,
    min_security_level: Annotated[int | None, Query(ge=1, le=5)] = None, operator: TextFilter = None,
    pool: IdFilter = None, limit: Limit = DEFAULT_PAGE_LIMIT, offset: Offset = 0,
) -> Page[svc.OfferingPublic]:  # fmt: skip
    """Offerings you may see (tenants: published only), cheapest first."""
    return svc.list_offerings(
        s, _viewer(request), state=state, kind=kind, city=city, accelerator=accelerator,
        max_price_cny=max_price_cny, min_security_level=min_security_level, operator=operator, pool=pool,
        limit=limit, offset=offset,
    )  # fmt: skip


@router.get("/offerings/{offering_id}", response_model=svc.OfferingPublic)
def get_offering(request: Request, s: SessionDep, offering_id: OfferingId) -> svc.OfferingPublic:
    return svc.get_offering(s, offering_id, _viewer(request))


@router.post("/offerings", response_model=svc.OfferingPublic, status_code=201)
def create_offering(request: Request, s: SessionDep, body: svc.OfferingCreate) -> svc.OfferingPublic:
    return svc.create_offering(s, body, actor=principal_of_request(request).actor)


@router.patch("/offerings/{offering_id}", response_model=svc.OfferingPublic)
def update_offering(s: SessionDep, offering_id: OfferingId, body: svc.OfferingUpdate) -> svc.OfferingPublic:
    return svc.update_offering(s, offering_id, body)


@router.post("/offerings/{offering_id}:publish", response_model=svc.OfferingPublic)
def publish(s: SessionDep, offering_id: OfferingId) -> svc.OfferingPublic:
    return svc.move(s, offering_id, "published", now=time.time())


@router.post("/offerings/{offering_id}:withdraw", response_model=svc.OfferingPublic)
def withdraw(s: SessionDep, offering_id: OfferingId) -> svc.OfferingPublic:
    return svc.move(s, offering_id, "withdrawn", now=time.time())
