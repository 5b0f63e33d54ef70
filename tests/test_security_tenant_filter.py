"""Tenant roles only ever list their own tenant's things: every list route whose policy rule is
``tenant_query`` reads its ``?tenant=`` through the ``TenantFilter`` dependency (else forcing it would silently
do nothing), and asking for another tenant, or for none, answers the caller's own tenant only."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from huanghe.api import API_PREFIX
from huanghe.api.deps import tenant_filter
from huanghe.api.policy import POLICY
from huanghe.api.routes import iter_api_routes
from huanghe.api.scope_rules import tenant_query
from tests.security_support import World, world

#: List route → the roles of tenant ``ta`` allowed on it.
LISTS = {
    "users": ("tenant_admin",),
    "datasets": ("tenant_admin", "tenant_user"),
    "auth/tokens": ("tenant_admin",),
    "usage": ("tenant_admin", "tenant_user"),
    "invoices": ("tenant_admin", "tenant_user"),
    "vouchers": ("tenant_admin", "tenant_user"),
    "jobs": ("tenant_admin", "tenant_user"),
    "programme-applications": ("tenant_admin", "tenant_user"),
    "rules": ("tenant_admin", "tenant_user"),
    "transfers": ("tenant_admin", "tenant_user"),
    "data-quotas": ("tenant_admin", "tenant_user"),
    "lifecycle-policies": ("tenant_admin", "tenant_user"),
}
#: Totals route (one object, not a page) → the roles of tenant ``ta`` allowed on it.
TOTALS = {"vouchers:summary": ("tenant_admin", "tenant_user")}


@pytest.fixture(scope="module")
def w(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    with world(f"sqlite:///{tmp_path_factory.mktemp('tf') / 't.db'}") as wd:
        admin = wd.h("admin")
        programme = {"id": "p", "name_zh": "p", "name_en": "p", "authority": "t", "basis": "bill", "share": "0.5",
                     "fund_cny": "100"}  # fmt: skip
        assert wd.client.post(f"{API_PREFIX}/programmes", json=programme, headers=admin).status_code == 201
        for tenant in ("ta", "tb"):
            application = {"programme": "p", "tenant": tenant, "basis_cny": "10"}
            r = wd.client.post(f"{API_PREFIX}/programme-applications", json=application, headers=admin)
            assert r.status_code == 201, r.text
            voucher = {"tenant": tenant, "amount_cny": "10.00", "valid_until": "2099-01-01T00:00:00Z"}
            assert wd.client.post(f"{API_PREFIX}/vouchers", json=voucher, headers=admin).status_code == 201
            job = {"command": "true", "tenant": tenant}
            assert wd.client.post(f"{API_PREFIX}/jobs", json=job, headers=admin).status_code == 201
        yield wd


def _dependency_calls(dependant: object) -> Iterator[object]:
    for sub in getattr(dependant, "dependencies", ()):
        yield sub.call
        yield from _dependency_calls(sub)


def test_every_tenant_query_route_reads_the_tenant_filter(w: World) -> None:
    forced = {key for key, rule in POLICY.items() if rule.scope is tenant_query}
    assert {f"{API_PREFIX}/{p}" for p in (*LISTS, *TOTALS)} == {path for _, path in forced}
    served = {
        (method, route.path_format): route for route in iter_api_routes(w.app) for method in route.methods
    }
    for key in forced:
        assert tenant_filter in set(_dependency_calls(served[key].dependant)), key


@pytest.mark.parametrize("path", sorted(LISTS))
def test_tenant_roles_list_their_own_tenant_only(w: World, path: str) -> None:
    for role in LISTS[path]:
        for query in ("", "?tenant=tb", "?tenant=ta"):
            r = w.client.get(f"{API_PREFIX}/{path}{query}", headers=w.h(role))
            assert r.status_code == 200, r.text
            # the province's lifecycle policies (tenant None) are every tenant's
            tenants = {item["tenant"] for item in r.json()["items"]} - {None}
            assert tenants <= {"ta"}, (role, path, query, tenants)
            if path in ("datasets", "jobs", "vouchers", "programme-applications"):
                assert tenants == {"ta"}  # the caller's own things are there
    everyone = w.client.get(f"{API_PREFIX}/{path}?tenant=tb", headers=w.h("admin")).json()["items"]
    assert {item["tenant"] for item in everyone} <= {"tb"}  # the filter still works for the others


@pytest.mark.parametrize("path", sorted(TOTALS))
def test_tenant_roles_total_their_own_tenant_only(w: World, path: str) -> None:
    for role in TOTALS[path]:
        for query in ("", "?tenant=tb", "?tenant=ta"):
            r = w.client.get(f"{API_PREFIX}/{path}{query}", headers=w.h(role))
            assert r.status_code == 200, r.text
            assert (r.json()["vouchers"], r.json()["amount_cny"]) == (1, "10.00"), (role, query)  # ta's one
    assert w.client.get(f"{API_PREFIX}/{path}?tenant=tb", headers=w.h("admin")).json()["vouchers"] == 1
    assert w.client.get(f"{API_PREFIX}/{path}", headers=w.h("admin")).json()["vouchers"] == 2
