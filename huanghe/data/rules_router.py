"""``/api/v1/rules``: replication rules (add, list, show, locks, delete, suspend, resume).

| method | path | what |
|---|---|---|
| POST | ``/rules`` | add a rule (201), evaluated at once; 422 naming ``expression`` when it can never be met |
| GET | ``/rules`` | page of rules; filters ``dataset``, ``state``, ``tenant`` (tenants: their own) |
| GET | ``/rules/{rule_id}`` | one rule with its state, reason and lock counts |
| GET | ``/rules/{rule_id}/locks`` | page of its locks: file, endpoint, center, state |
| DELETE | ``/rules/{rule_id}`` | remove it (204): its copies lose this protection |
| POST | ``/rules/{rule_id}:suspend`` / ``:resume`` | stop / restart its evaluation |
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request, Response

from huanghe.api.authentication import principal_of_request
from huanghe.api.deps import DEFAULT_PAGE_LIMIT, IdFilter, Limit, Offset, SessionDep, TenantFilter
from huanghe.core.paging import Page
from huanghe.data import rules as svc
from huanghe.data.rule_schemas import LockPublic, RuleCreate, RulePublic, RuleState

router = APIRouter(tags=["replication rules"])
RuleId = Annotated[str, Path(pattern=r"^r[0-9a-f]{16}$", description="rule id (r + 16 hex digits)")]


@router.post("/rules", response_model=RulePublic, status_code=201)
def add_rule(s: SessionDep, body: RuleCreate, request: Request) -> RulePublic:
    """Add a replication rule on a dataset (数据副本规则)."""
    return svc.add_rule(s, body, actor=principal_of_request(request).actor)


@router.get("/rules", response_model=Page[RulePublic])
def list_rules(
    s: SessionDep, tenant: TenantFilter, dataset: IdFilter = None, state: RuleState | None = None,
    limit: Limit = DEFAULT_PAGE_LIMIT, offset: Offset = 0,
) -> Page[RulePublic]:  # fmt: skip
    return svc.list_rules(s, tenant=tenant, dataset=dataset, state=state, limit=limit, offset=offset)


@router.get("/rules/{rule_id}", response_model=RulePublic)
def get_rule(s: SessionDep, rule_id: RuleId) -> RulePublic:
    return svc.get_rule(s, rule_id)


@router.get("/rules/{rule_id}/locks", response_model=Page[LockPublic])
def list_locks(
    s: SessionDep, rule_id: RuleId, limit: Limit = DEFAULT_PAGE_LIMIT, offset: Offset = 0
) -> Page[LockPublic]:
    return svc.list_locks(s, rule_id, limit=limit, offset=offset)


@router.delete("/rules/{rule_id}", status_code=204, response_class=Response)
def delete_rule(s: SessionDep, rule_id: RuleId, request: Request) -> Response:
    svc.delete_rule(s, rule_id, actor=principal_of_request(request).actor)
    return Response(status_code=204)


@router.post("/rules/{rule_id}:suspend", response_model=RulePublic)
def suspend_rule(s: SessionDep, rule_id: RuleId, request: Request) -> RulePublic:
    return svc.set_suspended(s, rule_id, True, actor=principal_of_request(request).actor)


@router.post("/rules/{rule_id}:resume", response_model=RulePublic)
def resume_rule(s: SessionDep, rule_id: RuleId, request: Request) -> RulePublic:
    return svc.set_suspended(s, rule_id, False, actor=principal_of_request(request).actor)
