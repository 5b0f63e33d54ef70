"""``/api/v1`` pool drains (排空维护): take a pool out of placement and back (:mod:`huanghe.network.drains`).

| method | path | what |
|---|---|---|
| GET | ``/pool-drains`` | the drained pools; filter ``center`` |
| POST | ``/pools/{item_id}:drain`` | drain a pool (body ``reason``); operators: pools of their own centers |
| POST | ``/pools/{item_id}:resume`` | resume it |
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request

from huanghe.api.authentication import principal_of_request
from huanghe.api.deps import IdFilter, SessionDep
from huanghe.domain.network import ID_PATTERN
from huanghe.domain.tenancy import Role
from huanghe.network import drains as svc

router = APIRouter(tags=["pools"])
PoolId = Annotated[str, Path(pattern=ID_PATTERN, max_length=64, description="pool id")]


@router.get("/pool-drains", response_model=list[svc.PoolState])
def list_drains(request: Request, s: SessionDep, center: IdFilter = None) -> list[svc.PoolState]:
    """Pools taking no new jobs, with why, who and since when (an operator sees who drained a pool of its own
    centers only)."""
    p = principal_of_request(request)
    items = svc.list_drains(s, center)
    if p.role is Role.OPERATOR:
        items = [d if d.center in p.center_ids else d.model_copy(update={"by": ""}) for d in items]
    return items


@router.post("/pools/{item_id}:drain", response_model=svc.PoolState)
def drain(
    request: Request, s: SessionDep, item_id: PoolId, body: svc.DrainRequest | None = None
) -> svc.PoolState:
    """Drain a pool: no new jobs are placed there; its running jobs go on."""
    return svc.drain(s, item_id, body or svc.DrainRequest(), actor=principal_of_request(request).actor)


@router.post("/pools/{item_id}:resume", response_model=svc.PoolState)
def resume(s: SessionDep, item_id: PoolId) -> svc.PoolState:
    """Resume a drained pool: it takes new jobs again."""
    return svc.resume(s, item_id)
