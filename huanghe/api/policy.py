"""THE authorisation policy: one table from (method, route template) to who may call it.

Every route of the app is looked up here by :func:`huanghe.api.authorization.authorize`, the single
dependency installed at app level. A route missing from :data:`POLICY` is refused to everyone (fail closed),
and ``tests/test_security_matrix.py`` fails listing it. A rule is either :data:`PUBLIC` (anonymous calls
allowed: the network catalog shown on the console map, health, docs, the login page) or a set of roles,
optionally with a *scope rule* (:mod:`huanghe.api.scope_rules`) that narrows a role to its own things.
HEAD is checked as GET.
"""

from __future__ import annotations

from dataclasses import dataclass

from huanghe.api import API_PREFIX as API
from huanghe.api.scope_rules import (
    ScopeRule,
    alert_of_own_center,
    all_of,
    body_center,
    body_items,
    body_own_dataset,
    body_pool,
    body_tenant,
    center_path,
    endpoint_connection_admin_only,
    endpoint_path,
    job_quota,
    keep_tenant,
    new_pool_connection_admin_only,
    offering_path,
    own_application,
    own_dataset,
    own_idempotency_key,
    own_invoice,
    own_job,
    own_rule,
    own_transfer,
    own_user,
    own_voucher,
    pool_connection_admin_only,
    pool_path,
    resident_replicas,
    telemetry_of_own_centers,
    tenant_path,
    tenant_query,
    tenant_roles_only,
)
from huanghe.domain.tenancy import Role


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


def allow(
    *roles: Role, scope: ScopeRule | None = None, body: bool = False, admission: ScopeRule | None = None
) -> Rule:
    return Rule(
        roles=frozenset(roles), scope=scope, needs_body=body or admission is not None, admission=admission
    )


ADMIN, REG, OP, TADM, TUSR = Role.ADMIN, Role.REGULATOR, Role.OPERATOR, Role.TENANT_ADMIN, Role.TENANT_USER
TENANTS = (TADM, TUSR)
EVERYONE = (ADMIN, REG, OP, TADM, TUSR)


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
    # operators may not set a pool's back-end or its settings (where the platform connects, what it reads)
    table[("POST", f"{API}/pools")] = allow(
        ADMIN, OP, scope=all_of(body_center(), new_pool_connection_admin_only), body=True
    )
    table[("PATCH", f"{API}/pools/{{item_id}}")] = allow(
        ADMIN,
        OP,
        scope=all_of(pool_path(), body_center(optional=True), pool_connection_admin_only),
        body=True,
    )
    table[("DELETE", f"{API}/pools/{{item_id}}")] = allow(ADMIN, OP, scope=pool_path())
    table[("GET", f"{API}/topology")] = PUBLIC
    table[("GET", f"{API}/backends")] = PUBLIC  # capabilities only: no pool settings
    # draining a pool (no new jobs there): operators their own centers' pools (403 otherwise), admins any
    table[("GET", f"{API}/pool-drains")] = allow(ADMIN, REG, OP)
    table[("POST", f"{API}/pools/{{item_id}}:drain")] = allow(ADMIN, OP, scope=pool_path())
    table[("POST", f"{API}/pools/{{item_id}}:resume")] = allow(ADMIN, OP, scope=pool_path())
    table[("GET", f"{API}/backends/{{name}}")] = PUBLIC
    table[("PUT", f"{API}/topology")] = allow(ADMIN)
    # back-end credentials: platform admins only (values go in, never come out)
    table[("GET", f"{API}/secrets")] = allow(ADMIN)
    table[("GET", f"{API}/secrets/{{name}}")] = allow(ADMIN)
    table[("PUT", f"{API}/secrets/{{name}}")] = allow(ADMIN)
    table[("DELETE", f"{API}/secrets/{{name}}")] = allow(ADMIN)
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
        ("POST", f"{API}/users"): allow(
            ADMIN, TADM, scope=all_of(body_tenant(), tenant_roles_only), body=True
        ),
        ("PATCH", f"{API}/users/{{item_id}}"): allow(
            ADMIN, TADM, scope=all_of(own_user, keep_tenant, tenant_roles_only), body=True
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
        ("GET", f"{API}/datasets/{{item_id}}/residency"): allow(ADMIN, REG, *TENANTS, scope=own_dataset),
        # datasets' files and uploads (huanghe.data.files_router): tenants only their own datasets (404)
        ("POST", f"{API}/datasets:register"): allow(
            ADMIN, *TENANTS, scope=body_tenant(optional=True), body=True
        ),
        ("GET", f"{API}/datasets/{{item_id}}/files"): allow(ADMIN, REG, *TENANTS, scope=own_dataset),
        ("PUT", f"{API}/datasets/{{item_id}}/files/{{name}}"): allow(ADMIN, *TENANTS, scope=own_dataset),
        ("GET", f"{API}/datasets/{{item_id}}/files/{{name}}/content"): allow(
            ADMIN, REG, *TENANTS, scope=own_dataset
        ),
        ("DELETE", f"{API}/datasets/{{item_id}}/files/{{name}}"): allow(ADMIN, *TENANTS, scope=own_dataset),
        ("POST", f"{API}/datasets/{{item_id}}/uploads"): allow(ADMIN, *TENANTS, scope=own_dataset),
        ("GET", f"{API}/datasets/{{item_id}}/uploads"): allow(ADMIN, REG, *TENANTS, scope=own_dataset),
        ("GET", f"{API}/datasets/{{item_id}}/uploads/{{upload_id}}"): allow(
            ADMIN, REG, *TENANTS, scope=own_dataset
        ),
        ("PUT", f"{API}/datasets/{{item_id}}/uploads/{{upload_id}}/parts/{{number}}"): allow(
            ADMIN, *TENANTS, scope=own_dataset
        ),
        ("POST", f"{API}/datasets/{{item_id}}/uploads/{{upload_id}}/complete"): allow(
            ADMIN, *TENANTS, scope=own_dataset
        ),
        ("DELETE", f"{API}/datasets/{{item_id}}/uploads/{{upload_id}}"): allow(
            ADMIN, *TENANTS, scope=own_dataset
        ),
        # tokens and identity
        ("GET", f"{API}/auth/whoami"): allow(*EVERYONE),
        ("GET", f"{API}/auth/capabilities"): allow(*EVERYONE),
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
        ("GET", f"{API}/invoices/{{invoice_id}}/export"): allow(ADMIN, REG, *TENANTS, scope=own_invoice),
        ("GET", f"{API}/settlements"): allow(ADMIN, REG),
        ("GET", f"{API}/centers/{{center_id}}/statement"): allow(
            ADMIN, REG, OP, scope=center_path("center_id")
        ),
        ("GET", f"{API}/ledger/balances"): allow(ADMIN, REG),
        # vouchers
        ("GET", f"{API}/vouchers"): allow(ADMIN, REG, *TENANTS, scope=tenant_query),
        ("GET", f"{API}/vouchers:summary"): allow(ADMIN, REG, *TENANTS, scope=tenant_query),
        ("POST", f"{API}/vouchers"): allow(ADMIN, REG),
        ("GET", f"{API}/vouchers/{{voucher_id}}"): allow(ADMIN, REG, *TENANTS, scope=own_voucher),
        ("POST", f"{API}/vouchers/{{voucher_id}}/revoke"): allow(ADMIN, REG),
        ("GET", f"{API}/industries"): allow(ADMIN, REG, *TENANTS),  # the industries of vouchers' sectors
        # voucher programmes: regulator and admin run them; a tenant admin applies for its own tenant
        ("GET", f"{API}/programme-presets"): allow(*EVERYONE),
        ("GET", f"{API}/programmes"): allow(*EVERYONE),
        ("POST", f"{API}/programmes"): allow(ADMIN, REG),
        ("GET", f"{API}/programmes/{{programme_id}}"): allow(*EVERYONE),
        ("POST", f"{API}/programmes/{{programme_id}}/close"): allow(ADMIN, REG),
        ("POST", f"{API}/programmes/{{programme_id}}/settle"): allow(ADMIN, REG),
        ("GET", f"{API}/programmes/{{programme_id}}/settlements"): allow(ADMIN, REG),
        ("GET", f"{API}/programmes/{{programme_id}}/report"): allow(ADMIN, REG),
        ("GET", f"{API}/programme-stats"): allow(ADMIN, REG),
        ("GET", f"{API}/programme-applications"): allow(ADMIN, REG, *TENANTS, scope=tenant_query),
        ("POST", f"{API}/programme-applications"): allow(ADMIN, TADM, scope=body_tenant(), body=True),
        ("GET", f"{API}/programme-applications/{{application_id}}"): allow(
            ADMIN, REG, *TENANTS, scope=own_application
        ),
        ("POST", f"{API}/programme-applications/{{application_id}}/review"): allow(ADMIN, REG),
        ("POST", f"{API}/programme-applications/{{application_id}}/withdraw"): allow(
            ADMIN, TADM, scope=own_application
        ),
        # quotas
        ("GET", f"{API}/quotas/{{tenant_id}}"): allow(ADMIN, REG, *TENANTS, scope=tenant_path("tenant_id")),
        ("PUT", f"{API}/quotas/{{tenant_id}}"): allow(ADMIN),
        # key projects
        ("GET", f"{API}/projects"): allow(ADMIN, REG, OP),
        ("POST", f"{API}/projects"): allow(ADMIN, OP),
        ("GET", f"{API}/projects/{{project_id}}"): allow(ADMIN, REG, OP),
        ("GET", f"{API}/projects/{{project_id}}/history"): allow(ADMIN, REG, OP),
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
        # operators: the jobs placed on their own centers' pools (another center: 403; env values masked)
        ("GET", f"{API}/centers/{{center_id}}/jobs"): allow(ADMIN, REG, OP, scope=center_path("center_id")),
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


def _storage() -> dict[tuple[str, str], Rule]:
    """Storage endpoints (everyone signed in lists them; the connection is answered to admins only) and data
    quotas (admins set them; tenants read their own tenant's)."""
    return {
        ("GET", f"{API}/storage-endpoints"): allow(*EVERYONE),
        ("GET", f"{API}/storage-endpoints/{{endpoint_id}}"): allow(*EVERYONE),
        ("POST", f"{API}/storage-endpoints"): allow(ADMIN),
        ("PATCH", f"{API}/storage-endpoints/{{endpoint_id}}"): allow(
            ADMIN, OP, scope=all_of(endpoint_path(), endpoint_connection_admin_only), body=True
        ),
        ("DELETE", f"{API}/storage-endpoints/{{endpoint_id}}"): allow(ADMIN),
        ("GET", f"{API}/data-quotas"): allow(ADMIN, REG, *TENANTS, scope=tenant_query),
        ("PUT", f"{API}/data-quotas/{{tenant_id}}/{{endpoint_id}}"): allow(ADMIN),
        ("DELETE", f"{API}/data-quotas/{{tenant_id}}/{{endpoint_id}}"): allow(ADMIN),
    }


def _rules() -> dict[tuple[str, str], Rule]:
    """Replication rules: tenants make and see rules on their own datasets only (another tenant's rule or
    dataset answers 404); the regulator reads every rule."""
    own = own_rule
    return {
        ("POST", f"{API}/rules"): allow(ADMIN, *TENANTS, scope=body_own_dataset, body=True),
        ("GET", f"{API}/rules"): allow(ADMIN, REG, *TENANTS, scope=tenant_query),
        ("GET", f"{API}/rules/{{rule_id}}"): allow(ADMIN, REG, *TENANTS, scope=own),
        ("GET", f"{API}/rules/{{rule_id}}/locks"): allow(ADMIN, REG, *TENANTS, scope=own),
        ("DELETE", f"{API}/rules/{{rule_id}}"): allow(ADMIN, *TENANTS, scope=own),
        ("POST", f"{API}/rules/{{rule_id}}:suspend"): allow(ADMIN, *TENANTS, scope=own),
        ("POST", f"{API}/rules/{{rule_id}}:resume"): allow(ADMIN, *TENANTS, scope=own),
        # storage as stored and the off-site backup share; tiering policies (the province's: admins)
        ("GET", f"{API}/observatory/data-storage"): allow(ADMIN, REG, OP),
        ("GET", f"{API}/lifecycle-policies"): allow(ADMIN, REG, *TENANTS, scope=tenant_query),
        ("PUT", f"{API}/lifecycle-policies/{{policy_id}}"): allow(ADMIN),
        ("DELETE", f"{API}/lifecycle-policies/{{policy_id}}"): allow(ADMIN),
        # security risk alerts and their handling: the regulator's and the admins'
        ("GET", f"{API}/risk/alerts"): allow(ADMIN, REG),
        ("GET", f"{API}/risk/alerts/{{alert_id}}"): allow(ADMIN, REG),
        ("GET", f"{API}/risk/alerts/{{alert_id}}/trace"): allow(ADMIN, REG),
        ("POST", f"{API}/risk/alerts/{{alert_id}}:ack"): allow(ADMIN, REG),
        ("POST", f"{API}/risk/alerts/{{alert_id}}:assign"): allow(ADMIN, REG),
        ("POST", f"{API}/risk/alerts/{{alert_id}}:resolve"): allow(ADMIN, REG),
    }


def _transfers() -> dict[tuple[str, str], Rule]:
    """Transfers between storage endpoints: tenants see (and retry) only their own (another tenant's answers
    404); operators, the regulator and admins see all."""
    return {
        ("GET", f"{API}/transfers"): allow(ADMIN, REG, OP, *TENANTS, scope=tenant_query),
        ("GET", f"{API}/transfers/{{transfer_id}}"): allow(ADMIN, REG, OP, *TENANTS, scope=own_transfer),
        ("POST", f"{API}/transfers/{{transfer_id}}/retry"): allow(ADMIN, *TENANTS, scope=own_transfer),
    }


def _offerings() -> dict[tuple[str, str], Rule]:
    """The compute product catalog (everyone signed in browses; tenants see published offerings only, in the
    service) and the regulator's empowerment evaluation and industry map."""
    own = offering_path()
    return {
        ("GET", f"{API}/offerings"): allow(*EVERYONE),
        ("GET", f"{API}/offerings/{{offering_id}}"): allow(*EVERYONE),
        ("POST", f"{API}/offerings"): allow(ADMIN, OP, scope=body_pool(), body=True),
        ("PATCH", f"{API}/offerings/{{offering_id}}"): allow(ADMIN, OP, scope=own),
        ("POST", f"{API}/offerings/{{offering_id}}:publish"): allow(ADMIN, OP, scope=own),
        ("POST", f"{API}/offerings/{{offering_id}}:withdraw"): allow(ADMIN, OP, scope=own),
        ("GET", f"{API}/observatory/empowerment"): allow(ADMIN, REG),
        ("GET", f"{API}/observatory/industry-map"): allow(ADMIN, REG, OP),
    }


#: (method, route template) → rule. Other areas' routes are added here, not in their routers.
POLICY: dict[tuple[str, str], Rule] = {
    **_site(),
    **_catalog(),
    **_tenancy(),
    **_jobs(),
    **_telemetry(),
    **_storage(),
    **_transfers(),
    **_rules(),
    **_offerings(),
}


def rule_for(method: str, template: str) -> Rule | None:
    """The rule of a route, None when the route is not in the table (then it is refused)."""
    return POLICY.get(("GET" if method == "HEAD" else method, template))
