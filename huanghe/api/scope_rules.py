"""Scope rules: what narrows a role to its own things, used by the policy table (:mod:`huanghe.api.policy`).

* tenant roles see only their tenant: list routes get their own tenant as the ``?tenant=`` filter, whatever
  was asked (:func:`tenant_query`, read by :data:`~huanghe.api.deps.TenantFilter`); item routes of another
  tenant's object answer **404** (never its content); bodies naming another tenant → 403;
* operators act only on their centers (and the pools in them) → 403 otherwise;
* admin and regulator are never narrowed.

Rules ask each domain's service who owns a thing (``tenant_of_dataset``, ``center_of_pool``...); they never
read rows themselves. An object that does not exist is left to the endpoint, which answers 404 (or 422 for a
malformed id) in its own words. Rules run with a database session (``ctx.session``) before the endpoint.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fastapi import HTTPException, Request
from sqlalchemy.orm import Session

from huanghe.api.deps import force_tenant
from huanghe.billing import programmes, vouchers
from huanghe.billing import service as billing
from huanghe.core.errors import NotFoundError
from huanghe.data import endpoints as storage_endpoints
from huanghe.data import rules as data_rules
from huanghe.data import service as datasets
from huanghe.data import transfer_queue as data_transfers
from huanghe.domain.tenancy import Role
from huanghe.jobs import ownership as jobs
from huanghe.network import offerings
from huanghe.network import service as network
from huanghe.telemetry import alerts
from huanghe.tenancy import service as tenancy
from huanghe.tenancy.tokens import Principal


@dataclass
class ScopeContext:
    """What a scope rule sees: the request (path params, query), the parsed JSON body, a session."""

    request: Request
    principal: Principal
    session: Session
    body: Any = None

    def path_param(self, name: str) -> str:
        return str(self.request.path_params.get(name, ""))


ScopeRule = Callable[[ScopeContext], None]


def _not_found(kind: str, ident: str) -> HTTPException:
    # The same words as the services' own NotFoundError, so that "exists but not yours" looks like "absent".
    return HTTPException(404, f"{kind} {ident!r} not found")


def _small_int(ident: str) -> int | None:
    """A path id of an integer key, None when it is not one (the endpoint answers 422 then)."""
    return int(ident) if ident.isascii() and ident.isdigit() and len(ident) < 10 else None  # not '²'...


# --- tenants ----------------------------------------------------------------------------------------------
def tenant_query(ctx: ScopeContext) -> None:
    """Tenant roles: a list route filters on their own tenant, whatever ``?tenant=`` asked."""
    if not ctx.principal.is_tenant:
        return
    if ctx.principal.tenant_id is None:  # never made by token creation; refuse rather than list everything
        raise HTTPException(403, "this tenant token names no tenant")
    force_tenant(ctx.request, ctx.principal.tenant_id)


def owned_by_tenant(kind: str, param: str, tenant_of: Callable[[Session, Any], str | None],
                    parse: Callable[[str], Any] = str) -> ScopeRule:  # fmt: skip
    """Tenant roles: the object named by path parameter ``param`` must be their tenant's (else 404).

    ``tenant_of(session, id)`` is the owning domain's answer; ``parse`` turns the path text into the id (None:
    not an id, left to the endpoint)."""

    def rule(ctx: ScopeContext) -> None:
        if not ctx.principal.is_tenant:
            return
        ident = ctx.path_param(param)
        key = parse(ident)
        if key is None:
            return
        try:
            owner = tenant_of(ctx.session, key)
        except NotFoundError:
            return  # absent: the endpoint answers 404 itself
        if owner != ctx.principal.tenant_id:
            raise _not_found(kind, ident)

    return rule


def body_owned_by_tenant(kind: str, key: str, tenant_of: Callable[[Session, Any], str | None]) -> ScopeRule:
    """Tenant roles: the object the body's ``key`` names must be their tenant's (else 404, the words of an
    unknown one); an absent or malformed value is left to the endpoint's validation."""

    def rule(ctx: ScopeContext) -> None:
        if not ctx.principal.is_tenant or not isinstance(ctx.body, dict):
            return
        ident = ctx.body.get(key)
        if not isinstance(ident, str):
            return
        try:
            owner = tenant_of(ctx.session, ident)
        except NotFoundError:
            return
        if owner != ctx.principal.tenant_id:
            raise _not_found(kind, ident)

    return rule


#: Tenant roles: a rule may only name their own dataset.
body_own_dataset = body_owned_by_tenant("dataset", "dataset", datasets.tenant_of_dataset)


def tenant_path(param: str) -> ScopeRule:
    """Tenant roles: the path parameter must be their own tenant id (else 404)."""

    def rule(ctx: ScopeContext) -> None:
        if ctx.principal.is_tenant and ctx.path_param(param) != ctx.principal.tenant_id:
            raise _not_found("tenant", ctx.path_param(param))

    return rule


def body_tenant(key: str = "tenant", *, optional: bool = False) -> ScopeRule:
    """Tenant roles: the body's ``key`` must name their own tenant (else 403); ``optional``: only if given."""

    def rule(ctx: ScopeContext) -> None:
        if not (ctx.principal.is_tenant and isinstance(ctx.body, dict)) or (optional and key not in ctx.body):
            return
        if ctx.body.get(key) != ctx.principal.tenant_id:
            raise HTTPException(
                403, f"{key}: you may only act for your own tenant {ctx.principal.tenant_id!r}"
            )

    return rule


own_dataset = owned_by_tenant("dataset", "item_id", datasets.tenant_of_dataset)
#: Tenant roles: another tenant's replication rule answers 404.
own_rule = owned_by_tenant("rule", "rule_id", data_rules.tenant_of_rule)
own_user = owned_by_tenant("user", "item_id", tenancy.tenant_of_user)
own_invoice = owned_by_tenant("invoice", "invoice_id", billing.tenant_of_invoice, _small_int)
own_voucher = owned_by_tenant("voucher", "voucher_id", vouchers.tenant_of_voucher)
#: Tenant roles: another tenant's transfer answers 404 (the transfers area's routes).
own_transfer = owned_by_tenant("transfer", "transfer_id", data_transfers.tenant_of_transfer, _small_int)
own_application = owned_by_tenant("application", "application_id", programmes.tenant_of_application)
#: Tenant roles: another tenant's job answers 404 (the jobs area's routes).
own_job = owned_by_tenant("job", "job_id", jobs.tenant_of_job)
#: A PATCH may not move an object to another tenant.
keep_tenant = body_tenant(optional=True)


def tenant_roles_only(ctx: ScopeContext) -> None:
    """Tenant roles give their tenant's users tenant roles only: a body's ``role`` of admin, regulator or
    operator → 403 (a tenant admin cannot label anyone a platform role)."""
    if not ctx.principal.is_tenant or not isinstance(ctx.body, dict) or ctx.body.get("role") is None:
        return
    if ctx.body.get("role") not in (Role.TENANT_ADMIN.value, Role.TENANT_USER.value):
        raise HTTPException(403, "role: a tenant admin gives the roles tenant_admin or tenant_user only")


def own_idempotency_key(ctx: ScopeContext) -> None:
    """Tenant roles: an ``Idempotency-Key`` first used by another tenant is refused (409), so a replay never
    reveals another tenant's job ids."""
    key = ctx.request.headers.get("idempotency-key")
    if not ctx.principal.is_tenant or not key:
        return
    if jobs.tenants_of_idempotency_key(ctx.session, key) - {ctx.principal.tenant_id}:
        raise HTTPException(409, "Idempotency-Key already used by another request; choose a new key")


# --- operators --------------------------------------------------------------------------------------------
def center_path(param: str = "item_id") -> ScopeRule:
    """Operators: the center in the path must be one of theirs (else 403)."""

    def rule(ctx: ScopeContext) -> None:
        if ctx.principal.role is Role.OPERATOR and ctx.path_param(param) not in ctx.principal.center_ids:
            raise HTTPException(403, f"center {ctx.path_param(param)!r} is not one of your centers")

    return rule


def _center_of_pool(session: Session, pool_id: str) -> str | None:
    try:
        return network.center_of_pool(session, pool_id)
    except NotFoundError:
        return None


def _in_own_center(param: str, center_of: Callable[[Session, str], str], refusal: str) -> ScopeRule:
    """Operators: the thing named by the path parameter ``param`` must be in one of their centers
    (``center_of``), else 403 with ``refusal`` (``{!r}``: the thing's id); an unknown one passes (the route
    answers 404)."""

    def rule(ctx: ScopeContext) -> None:
        if ctx.principal.role is not Role.OPERATOR:
            return
        ident = ctx.path_param(param)
        try:
            center = center_of(ctx.session, ident)
        except NotFoundError:
            return
        if center not in ctx.principal.center_ids:
            raise HTTPException(403, refusal.format(ident))

    return rule


def pool_path(param: str = "item_id") -> ScopeRule:
    """Operators: the pool in the path must be in one of their centers (else 403)."""
    return _in_own_center(param, network.center_of_pool, "pool {!r} is not in one of your centers")


def body_pool(key: str = "pool") -> ScopeRule:
    """Operators: the pool the body's ``key`` names must be in one of their centers (else 403); an unknown
    pool is left to the endpoint (422 naming the field)."""

    def rule(ctx: ScopeContext) -> None:
        if ctx.principal.role is not Role.OPERATOR or not isinstance(ctx.body, dict):
            return
        ident = ctx.body.get(key)
        center = _center_of_pool(ctx.session, ident) if isinstance(ident, str) else None
        if center is not None and center not in ctx.principal.center_ids:
            raise HTTPException(403, f"{key}: pool {ident!r} is not in one of your centers")

    return rule


def offering_path(param: str = "offering_id") -> ScopeRule:
    """Operators: the offering in the path must be on a pool of one of their centers (else 403)."""
    return _in_own_center(
        param, offerings.center_of_offering, "offering {!r} is not on a pool of one of your centers"
    )


def endpoint_path(param: str = "endpoint_id") -> ScopeRule:
    """Operators: the storage endpoint in the path must be in one of their centers (else 403)."""
    return _in_own_center(
        param, storage_endpoints.center_of_endpoint, "storage endpoint {!r} is not in one of your centers"
    )


def body_center(key: str = "center", *, optional: bool = False) -> ScopeRule:
    """Operators: the body's ``key`` must name one of their centers (else 403); ``optional``: only if given."""

    def rule(ctx: ScopeContext) -> None:
        if ctx.principal.role is not Role.OPERATOR or not isinstance(ctx.body, dict):
            return
        if optional and key not in ctx.body:
            return
        if ctx.body.get(key) not in ctx.principal.center_ids:
            raise HTTPException(403, f"{key}: not one of your centers")

    return rule


def admin_only_fields(*keys: str, unless: dict[str, object] | None = None) -> ScopeRule:
    """Anyone but an admin: a body giving one of ``keys`` is refused (403 naming the key). ``unless`` maps a
    key to the value that stays allowed (a new pool on the default back-end with no settings)."""
    allowed = unless or {}

    def rule(ctx: ScopeContext) -> None:
        if ctx.principal.role is Role.ADMIN or not isinstance(ctx.body, dict):
            return
        for key in keys:
            if key in ctx.body and not (key in allowed and ctx.body[key] == allowed[key]):
                raise HTTPException(
                    403, f"{key}: only a platform admin may set where the platform connects and what it reads"
                )

    return rule


#: Pools: operators edit capacity, price and state, never the back-end or its settings (issue #11).
pool_connection_admin_only = admin_only_fields("backend", "backend_settings")
#: Storage endpoints: operators change capacity, drain and attributes, never where the platform connects.
endpoint_connection_admin_only = admin_only_fields(*storage_endpoints.CONNECTION_FIELDS)
#: A new pool of an operator runs on the default back-end without settings.
new_pool_connection_admin_only = admin_only_fields(
    "backend", "backend_settings", unless={"backend": "local", "backend_settings": {}}
)


def telemetry_of_own_centers(ctx: ScopeContext) -> None:
    """Operators read telemetry of their centers only: ``?center=`` (or ``?pool=``) of theirs (else 403)."""
    if ctx.principal.role is not Role.OPERATOR:
        return
    center = ctx.request.query_params.get("center")
    pool_id = ctx.request.query_params.get("pool")
    if center is None and pool_id is not None:
        center = _center_of_pool(ctx.session, pool_id)
    if center not in ctx.principal.center_ids:
        raise HTTPException(403, "operators read the telemetry of their own centers: give ?center= of yours")


def alert_of_own_center(ctx: ScopeContext) -> None:
    """Operators acknowledge and resolve alerts of their own centers only (else 403)."""
    if ctx.principal.role is not Role.OPERATOR:
        return
    ident = ctx.path_param("alert_id")
    alert_id = _small_int(ident)
    if alert_id is None:
        return
    try:
        center = alerts.center_of_alert(ctx.session, alert_id)
    except NotFoundError:
        return
    if center not in ctx.principal.center_ids:
        raise HTTPException(403, f"alert {ident} is not about one of your centers")


# --- bodies -----------------------------------------------------------------------------------------------
def body_items(list_key: str, item_rule: ScopeRule) -> ScopeRule:
    """Apply ``item_rule`` to each element of the body's list ``list_key`` (as if it were the body)."""

    def rule(ctx: ScopeContext) -> None:
        items = ctx.body.get(list_key) if isinstance(ctx.body, dict) else None
        for item in items if isinstance(items, list) else []:
            item_rule(ScopeContext(ctx.request, ctx.principal, ctx.session, item))

    return rule


def resident_replicas(ctx: ScopeContext) -> None:
    """Dataset create / update bodies: listed replicas obey the residency rules (422). Like every scope
    rule it applies with authentication on (dev mode edits the inventory freely)."""
    from huanghe.data.protection import check_replica_list

    if isinstance(ctx.body, dict):
        check_replica_list(ctx.session, ctx.body, ctx.path_param("item_id") or None)


def job_quota(ctx: ScopeContext) -> None:
    """Admission of ``POST /jobs`` and ``/jobs:batch``: the tenant's monthly quotas (403 when exceeded)."""
    from huanghe.billing.quotas import check_job_bodies

    check_job_bodies(ctx.session, ctx.body)


def all_of(*rules: ScopeRule) -> ScopeRule:
    def rule(ctx: ScopeContext) -> None:
        for r in rules:
            r(ctx)

    return rule
