"""THE authorisation policy: one table from (method, route template) to who may call it.

Every route of the app is looked up here by :func:`huanghe.api.security.authorize`, the single dependency
installed at app level. A route missing from :data:`POLICY` is refused to everyone (fail closed), and
``tests/test_security_matrix.py`` fails listing it. A rule is either :data:`PUBLIC` (anonymous calls allowed:
the network catalog shown on the console map, health, docs, the login page) or a set of roles, optionally
with a *scope rule* that narrows a role to its own things:

* tenant roles see only their tenant: list routes get ``?tenant=<own>`` forced (whatever was asked), item
  routes of another tenant's object answer **404** (never its content), bodies naming another tenant → 403;
* operators act only on their centers (and the pools in them) → 403 otherwise;
* admin and regulator are never narrowed.

Scope rules run with a database session (``ctx.session``) before the endpoint. HEAD is checked as GET.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, MutableMapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlencode

from fastapi import FastAPI, HTTPException, Request
from fastapi.routing import APIRoute
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.datastructures import QueryParams

from huanghe.billing.models import InvoiceRow, VoucherRow
from huanghe.data.models import DatasetRow
from huanghe.domain.tenancy import Role
from huanghe.network.models import PoolRow
from huanghe.tenancy.models import UserRow
from huanghe.tenancy.tokens import Principal

API = "/api/v1"


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


@dataclass(frozen=True)
class Rule:
    """Who may call a route: ``public`` (anyone, even anonymous) or ``roles``; ``scope`` narrows roles.

    ``admission`` runs on every call, authentication on or off (quotas at job submission)."""

    roles: frozenset[Role] = frozenset()
    public: bool = False
    scope: ScopeRule | None = None
    needs_body: bool = False
    admission: ScopeRule | None = None


PUBLIC = Rule(public=True)


def _not_found(kind: str, ident: str) -> HTTPException:
    # The same words as the services' own NotFoundError, so that "exists but not yours" looks like "absent".
    return HTTPException(404, f"{kind} {ident!r} not found")


# --- scope rules ------------------------------------------------------------------------------------------
def tenant_query(ctx: ScopeContext) -> None:
    """Tenant roles: force ``?tenant=<own>`` on a list route."""
    if not ctx.principal.is_tenant:
        return
    request = ctx.request
    items = [
        (k, v)
        for k, v in parse_qsl(request.scope.get("query_string", b"").decode("latin-1"))
        if k != "tenant"
    ]
    items.append(("tenant", ctx.principal.tenant_id or ""))
    query = urlencode(items).encode("latin-1")
    request.scope["query_string"] = query
    request._query_params = QueryParams(query)  # the endpoint reads the rewritten query


def _own_tenant_row(model: Any, kind: str, param: str, column: str = "tenant_id") -> ScopeRule:
    def rule(ctx: ScopeContext) -> None:
        if not ctx.principal.is_tenant:
            return
        ident = ctx.path_param(param)
        if model is InvoiceRow and not (ident.isdigit() and len(ident) < 10):
            return  # not an invoice id: the endpoint answers 422
        row = ctx.session.get(model, int(ident) if model is InvoiceRow else ident)
        if row is not None and getattr(row, column) != ctx.principal.tenant_id:
            raise _not_found(kind, ident)

    return rule


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


def center_path(param: str = "item_id") -> ScopeRule:
    """Operators: the center in the path must be one of theirs (else 403)."""

    def rule(ctx: ScopeContext) -> None:
        if ctx.principal.role is Role.OPERATOR and ctx.path_param(param) not in ctx.principal.center_ids:
            raise HTTPException(403, f"center {ctx.path_param(param)!r} is not one of your centers")

    return rule


def pool_path(param: str = "item_id") -> ScopeRule:
    """Operators: the pool in the path must be in one of their centers (else 403)."""

    def rule(ctx: ScopeContext) -> None:
        if ctx.principal.role is not Role.OPERATOR:
            return
        pool = ctx.session.get(PoolRow, ctx.path_param(param))
        if pool is not None and pool.center_id not in ctx.principal.center_ids:
            raise HTTPException(403, f"pool {pool.id!r} is not in one of your centers")

    return rule


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


def body_items(list_key: str, item_rule: ScopeRule) -> ScopeRule:
    """Apply ``item_rule`` to each element of the body's list ``list_key`` (as if it were the body)."""

    def rule(ctx: ScopeContext) -> None:
        items = ctx.body.get(list_key) if isinstance(ctx.body, dict) else None
        for item in items if isinstance(items, list) else []:
            item_rule(ScopeContext(ctx.request, ctx.principal, ctx.session, item))

    return rule


def telemetry_of_own_centers(ctx: ScopeContext) -> None:
    """Operators read telemetry of their centers only: ``?center=`` (or ``?pool=``) of theirs (else 403)."""
    if ctx.principal.role is not Role.OPERATOR:
        return
    center = ctx.request.query_params.get("center")
    pool_id = ctx.request.query_params.get("pool")
    if center is None and pool_id is not None:
        pool = ctx.session.get(PoolRow, pool_id)
        center = pool.center_id if pool is not None else None
    if center not in ctx.principal.center_ids:
        raise HTTPException(403, "operators read the telemetry of their own centers: give ?center= of yours")


def alert_of_own_center(ctx: ScopeContext) -> None:
    """Operators acknowledge and resolve alerts of their own centers only (else 403)."""
    if ctx.principal.role is not Role.OPERATOR:
        return
    from huanghe.telemetry.models import AlertRow

    ident = ctx.path_param("alert_id")
    alert = ctx.session.get(AlertRow, int(ident)) if ident.isdigit() and len(ident) < 10 else None
    if alert is not None and alert.center_id not in ctx.principal.center_ids:
        raise HTTPException(403, f"alert {ident} is not about one of your centers")


def own_job(ctx: ScopeContext) -> None:
    """Tenant roles: another tenant's job answers 404 (the jobs area's table)."""
    if not ctx.principal.is_tenant:
        return
    from huanghe.jobs.models import JobRow

    job_id = ctx.path_param("job_id")
    job = ctx.session.get(JobRow, job_id)
    if job is not None and job.tenant_id != ctx.principal.tenant_id:
        raise _not_found("job", job_id)


def own_idempotency_key(ctx: ScopeContext) -> None:
    """Tenant roles: an ``Idempotency-Key`` first used by another tenant is refused (409), so a replay never
    reveals another tenant's job ids."""
    key = ctx.request.headers.get("idempotency-key")
    if not ctx.principal.is_tenant or not key:
        return
    from huanghe.jobs.models import IdempotencyKeyRow, JobRow

    used = ctx.session.get(IdempotencyKeyRow, key[:200])
    if used is None:
        return
    owners = set(ctx.session.scalars(select(JobRow.tenant_id).where(JobRow.id.in_(used.job_ids))))
    if owners - {ctx.principal.tenant_id}:
        raise HTTPException(409, "Idempotency-Key already used by another request; choose a new key")


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


def allow(
    *roles: Role, scope: ScopeRule | None = None, body: bool = False, admission: ScopeRule | None = None
) -> Rule:
    return Rule(
        roles=frozenset(roles), scope=scope, needs_body=body or admission is not None, admission=admission
    )


ADMIN, REG, OP, TADM, TUSR = Role.ADMIN, Role.REGULATOR, Role.OPERATOR, Role.TENANT_ADMIN, Role.TENANT_USER
TENANTS = (TADM, TUSR)
EVERYONE = (ADMIN, REG, OP, TADM, TUSR)
own_dataset = _own_tenant_row(DatasetRow, "dataset", "item_id")
keep_tenant = body_tenant(optional=True)  # a PATCH may not move an object to another tenant
own_user = _own_tenant_row(UserRow, "user", "item_id")
own_invoice = _own_tenant_row(InvoiceRow, "invoice", "invoice_id")
own_voucher = _own_tenant_row(VoucherRow, "voucher", "voucher_id")


def _catalog() -> dict[tuple[str, str], Rule]:
    """The network catalog: public reads; admin writes; operators edit their own centers and pools."""
    table: dict[tuple[str, str], Rule] = {}
    for plural in ("regions", "cities", "centers", "pools", "links"):
        table[("GET", f"{API}/{plural}")] = PUBLIC
        table[("GET", f"{API}/{plural}/{{item_id}}")] = PUBLIC
        table[("POST", f"{API}/{plural}")] = allow(ADMIN)
        table[("PATCH", f"{API}/{plural}/{{item_id}}")] = allow(ADMIN)
        table[("DELETE", f"{API}/{plural}/{{item_id}}")] = allow(ADMIN)
    table[("PATCH", f"{API}/centers/{{item_id}}")] = allow(ADMIN, OP, scope=center_path())
    table[("POST", f"{API}/pools")] = allow(ADMIN, OP, scope=body_center(), body=True)
    table[("PATCH", f"{API}/pools/{{item_id}}")] = allow(
        ADMIN, OP, scope=all_of(pool_path(), body_center(optional=True)), body=True
    )
    table[("DELETE", f"{API}/pools/{{item_id}}")] = allow(ADMIN, OP, scope=pool_path())
    table[("GET", f"{API}/topology")] = PUBLIC
    table[("PUT", f"{API}/topology")] = allow(ADMIN)
    return table


def _tenancy() -> dict[tuple[str, str], Rule]:
    """Tenants, users, datasets (catalog router) and this area's own routes."""
    return {
        ("GET", f"{API}/tenants"): allow(ADMIN, REG),
        ("GET", f"{API}/tenants/{{item_id}}"): allow(ADMIN, REG, *TENANTS, scope=tenant_path("item_id")),
        ("POST", f"{API}/tenants"): allow(ADMIN),
        ("PATCH", f"{API}/tenants/{{item_id}}"): allow(ADMIN),
        ("DELETE", f"{API}/tenants/{{item_id}}"): allow(ADMIN),
        ("GET", f"{API}/users"): allow(ADMIN, REG, TADM, scope=tenant_query),
        ("GET", f"{API}/users/{{item_id}}"): allow(ADMIN, REG, TADM, scope=own_user),
        ("POST", f"{API}/users"): allow(ADMIN, TADM, scope=body_tenant(), body=True),
        ("PATCH", f"{API}/users/{{item_id}}"): allow(
            ADMIN, TADM, scope=all_of(own_user, keep_tenant), body=True
        ),
        ("DELETE", f"{API}/users/{{item_id}}"): allow(ADMIN, TADM, scope=own_user),
        ("GET", f"{API}/datasets"): allow(ADMIN, REG, *TENANTS, scope=tenant_query),
        ("GET", f"{API}/datasets/{{item_id}}"): allow(ADMIN, REG, *TENANTS, scope=own_dataset),
        ("POST", f"{API}/datasets"): allow(
            ADMIN, *TENANTS, scope=all_of(body_tenant(), resident_replicas), body=True
        ),
        ("PATCH", f"{API}/datasets/{{item_id}}"): allow(
            ADMIN, *TENANTS, scope=all_of(own_dataset, keep_tenant, resident_replicas), body=True
        ),
        ("DELETE", f"{API}/datasets/{{item_id}}"): allow(ADMIN, *TENANTS, scope=own_dataset),
        ("POST", f"{API}/datasets/{{item_id}}/replicas"): allow(ADMIN, *TENANTS, scope=own_dataset),
        # tokens and identity
        ("GET", f"{API}/auth/whoami"): allow(*EVERYONE),
        ("GET", f"{API}/auth/tokens"): allow(ADMIN, REG, TADM, scope=tenant_query),
        ("POST", f"{API}/auth/tokens"): allow(ADMIN, TADM, scope=body_tenant(), body=True),
        ("DELETE", f"{API}/auth/tokens/{{token_id}}"): allow(ADMIN, TADM),
        # audit
        ("GET", f"{API}/audit"): allow(ADMIN, REG),
        ("GET", f"{API}/audit/verify"): allow(ADMIN, REG),
        ("GET", f"{API}/audit/export"): allow(ADMIN, REG),
        # protection catalog of important and core data
        ("GET", f"{API}/protection"): allow(ADMIN, REG),
        ("POST", f"{API}/protection"): allow(ADMIN, REG),
        # metering, invoices, settlement, ledger
        ("GET", f"{API}/usage"): allow(ADMIN, REG, *TENANTS, scope=tenant_query),
        ("POST", f"{API}/billing/meter"): allow(ADMIN),
        ("GET", f"{API}/invoices"): allow(ADMIN, REG, *TENANTS, scope=tenant_query),
        ("POST", f"{API}/invoices"): allow(ADMIN),
        ("GET", f"{API}/invoices/{{invoice_id}}"): allow(ADMIN, REG, *TENANTS, scope=own_invoice),
        ("GET", f"{API}/settlements"): allow(ADMIN, REG),
        ("GET", f"{API}/ledger/balances"): allow(ADMIN, REG),
        # vouchers
        ("GET", f"{API}/vouchers"): allow(ADMIN, REG, *TENANTS, scope=tenant_query),
        ("POST", f"{API}/vouchers"): allow(ADMIN, REG),
        ("GET", f"{API}/vouchers/{{voucher_id}}"): allow(ADMIN, REG, *TENANTS, scope=own_voucher),
        ("POST", f"{API}/vouchers/{{voucher_id}}/revoke"): allow(ADMIN, REG),
        # quotas
        ("GET", f"{API}/quotas/{{tenant_id}}"): allow(ADMIN, REG, *TENANTS, scope=tenant_path("tenant_id")),
        ("PUT", f"{API}/quotas/{{tenant_id}}"): allow(ADMIN),
        # key projects
        ("GET", f"{API}/projects"): allow(ADMIN, REG, OP),
        ("POST", f"{API}/projects"): allow(ADMIN, OP),
        ("GET", f"{API}/projects/{{project_id}}"): allow(ADMIN, REG, OP),
        ("POST", f"{API}/projects/{{project_id}}/transition"): allow(ADMIN, REG, OP),
    }


def _jobs() -> dict[tuple[str, str], Rule]:
    """The jobs area (scheduler service): tenants submit and see their own jobs."""
    return {
        ("POST", f"{API}/jobs"): allow(
            ADMIN, *TENANTS, scope=all_of(body_tenant(), own_idempotency_key), admission=job_quota
        ),
        ("POST", f"{API}/jobs:batch"): allow(
            ADMIN,
            *TENANTS,
            scope=all_of(body_items("jobs", body_tenant()), own_idempotency_key),
            admission=job_quota,
        ),
        ("GET", f"{API}/jobs"): allow(ADMIN, REG, *TENANTS, scope=tenant_query),
        ("GET", f"{API}/jobs/{{job_id}}"): allow(ADMIN, REG, *TENANTS, scope=own_job),
        ("GET", f"{API}/jobs/{{job_id}}/events"): allow(ADMIN, REG, *TENANTS, scope=own_job),
        ("GET", f"{API}/jobs/{{job_id}}/logs"): allow(ADMIN, REG, *TENANTS, scope=own_job),
        ("POST", f"{API}/jobs/{{job_id}}:cancel"): allow(ADMIN, *TENANTS, scope=own_job),
        ("GET", f"{API}/health/centers"): allow(*EVERYONE),
        ("GET", f"{API}/scheduler"): allow(ADMIN, REG),
    }


def _telemetry() -> dict[tuple[str, str], Rule]:
    """Telemetry, alerts and the observatory: operators push for their centers, the regulator reads all."""
    table = {
        ("POST", f"{API}/telemetry"): allow(ADMIN, OP, scope=body_items("samples", body_center()), body=True),
        ("GET", f"{API}/telemetry"): allow(ADMIN, REG, OP, scope=telemetry_of_own_centers),
        ("GET", f"{API}/telemetry/metrics"): allow(*EVERYONE),
        ("GET", f"{API}/telemetry/exporters"): allow(ADMIN, REG, OP),
        ("GET", f"{API}/alerts"): allow(ADMIN, REG, OP),
        ("GET", f"{API}/alerts/{{alert_id}}"): allow(ADMIN, REG, OP),
        ("POST", f"{API}/alerts/{{alert_id}}:ack"): allow(ADMIN, REG, OP, scope=alert_of_own_center),
        ("POST", f"{API}/alerts/{{alert_id}}:resolve"): allow(ADMIN, REG, OP, scope=alert_of_own_center),
        ("GET", "/metrics"): allow(ADMIN, REG),
    }
    for view in ("green-list", "index", "index/sensitivity", "indicators", "maturity", "network-capacity",
                 "reports/{kind}", "targets"):  # fmt: skip
        table[("GET", f"{API}/observatory/{view}")] = allow(ADMIN, REG, OP)
    return table


def _site() -> dict[tuple[str, str], Rule]:
    """Health, console, docs and the console login."""
    return {
        ("GET", "/healthz"): PUBLIC,
        ("GET", "/"): PUBLIC,
        ("GET", "/docs"): PUBLIC,
        ("GET", "/login"): PUBLIC,
        ("POST", "/login"): PUBLIC,
        ("POST", "/logout"): allow(*EVERYONE),
    }


#: (method, route template) → rule. Other areas' routes are added here, not in their routers.
POLICY: dict[tuple[str, str], Rule] = {**_site(), **_catalog(), **_tenancy(), **_jobs(), **_telemetry()}


def rule_for(method: str, template: str) -> Rule | None:
    """The rule of a route, None when the route is not in the table (then it is refused)."""
    return POLICY.get(("GET" if method == "HEAD" else method, template))


def route_template(scope: MutableMapping[str, Any]) -> str | None:
    """The matched route's path template including router prefixes (e.g. ``/api/v1/centers/{item_id}``)."""
    fastapi_scope = scope.get("fastapi")
    effective = fastapi_scope.get("effective_route_context") if isinstance(fastapi_scope, dict) else None
    path = getattr(effective, "path_format", None) or getattr(effective, "path", None)
    if path:
        return str(path)
    route = scope.get("route")
    return str(getattr(route, "path_format", None) or getattr(route, "path", "")) or None


def iter_routes(app: FastAPI) -> Iterator[tuple[str, str]]:
    """Every (method, template) served by FastAPI routes of ``app`` (HEAD left out), sub-routers included."""
    for route in app.router.routes:
        contexts = getattr(route, "effective_route_contexts", None)
        if contexts is not None:
            for ctx in contexts():
                original = ctx.original_route
                if isinstance(original, APIRoute):
                    for method in sorted(set(original.methods or ()) - {"HEAD"}):
                        yield method, ctx.path_format if hasattr(ctx, "path_format") else ctx.path
        elif isinstance(route, APIRoute):
            for method in sorted(set(route.methods or ()) - {"HEAD"}):
                yield method, route.path_format


def parse_json_body(raw: bytes) -> Any:
    """The JSON body for a scope rule, or None when it is not JSON (validation answers later)."""
    try:
        return json.loads(raw) if raw else None
    except (ValueError, RecursionError):
        return None
