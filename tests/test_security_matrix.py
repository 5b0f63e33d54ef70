"""The authorisation matrix: every route of the app × every role (and anonymous).

* every route is in the policy table (the failure lists the missing ones) and no entry is stale;
* every denied (route, role) answers 401 / 403, every allowed one gets past authorisation, and nothing
  answers 5xx;
* the table itself matches an expected matrix written out here independently (who may write what).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from huanghe.api.policy import POLICY
from huanghe.api.routes import iter_routes
from huanghe.domain.tenancy import Role
from tests.security_support import World, world

ROLES = ["anon", "admin", "regulator", "operator", "tenant_admin", "tenant_user"]
API = "/api/v1"
# Routes whose handlers do real work even with dummy input; they are walked, but with a harmless target.
PARAM_VALUES = {"kind": "nope", "job_id": "j-none", "item_id": "zz-none", "token_id": "999999",
                "invoice_id": "999999", "voucher_id": "v-none", "project_id": "p-none", "tenant_id": "zz-none",
                "alert_id": "999999", "transfer_id": "999999"}  # fmt: skip


@pytest.fixture(scope="module")
def w(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    with world(f"sqlite:///{tmp_path_factory.mktemp('matrix') / 'm.db'}") as wd:
        yield wd


def _concrete(template: str) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: PARAM_VALUES.get(m.group(1), "x"), template)


def test_every_route_is_in_the_policy_table(w: World) -> None:
    served = set(iter_routes(w.app))
    missing = sorted(served - POLICY.keys())
    stale = sorted(POLICY.keys() - served)
    assert not missing, f"routes without a policy entry (refused to everyone): {missing}"
    assert not stale, f"policy entries for routes that do not exist: {stale}"
    assert len(served) > 60


def test_route_missing_from_the_table_is_refused_even_to_admin(tmp_path: Path) -> None:
    from fastapi import APIRouter

    extra = APIRouter()

    @extra.get("/api/v1/not-in-policy")
    def _hidden() -> dict[str, str]:
        return {"secret": "content"}

    with world(f"sqlite:///{tmp_path / 'x.db'}") as wd:
        wd.app.include_router(extra)
        r = wd.client.get("/api/v1/not-in-policy", headers=wd.h("admin"))
    assert r.status_code == 403 and "not in the authorisation policy" in r.text and "content" not in r.text


def _expected_allowed(method: str, template: str, role: str) -> bool:
    rule = POLICY[(method, template)]
    return rule.public or (role != "anon" and Role(role) in rule.roles)


def test_walk_every_route_for_every_role(w: World) -> None:
    problems = []
    calls = 0
    for method, template in sorted(set(iter_routes(w.app))):
        if template.startswith(f"{API}/observatory/reports"):
            continue  # PDF/HTML rendering: covered by its own tests; authorisation same as other views
        path = _concrete(template)
        for role in ROLES:
            r = w.client.request(
                method, path, headers=w.h(role), json={} if method in ("POST", "PUT", "PATCH") else None
            )
            calls += 1
            allowed = _expected_allowed(method, template, role)
            if r.status_code >= 500:
                problems.append(f"{role} {method} {path}: {r.status_code} {r.text[:120]}")
            elif not allowed and r.status_code not in (401, 403):
                problems.append(f"{role} {method} {path}: expected 401/403, got {r.status_code}")
            elif allowed and r.status_code == 401:
                problems.append(f"{role} {method} {path}: allowed but 401")
            elif allowed and r.status_code == 403 and "may not" in r.text:
                problems.append(f"{role} {method} {path}: allowed but refused by role: {r.text[:100]}")
            if role == "anon" and not allowed:
                assert r.status_code == 401 and r.headers.get("www-authenticate") == "Bearer", (method, path)
    assert not problems, "\n".join(problems)
    print(f"authorisation matrix: {calls} calls, all as expected")


def _who(method: str, template: str) -> set[str]:
    rule = POLICY[(method, template)]
    return {"public"} if rule.public else {r.value for r in rule.roles}


def test_policy_matches_the_expected_matrix() -> None:
    """Independent statement of who may do what; a change to the policy table must change this too."""
    public = {(m, t) for (m, t), rule in POLICY.items() if rule.public}
    assert public == {
        ("GET", "/healthz"), ("GET", "/"), ("GET", "/docs"), ("GET", "/login"), ("POST", "/login"),
        *{("GET", f"{API}/{p}") for p in ("regions", "cities", "centers", "pools", "links", "topology")},
        *{("GET", f"{API}/{p}/{{item_id}}") for p in ("regions", "cities", "centers", "pools", "links")},
        ("GET", f"{API}/backends"), ("GET", f"{API}/backends/{{name}}"),
    }  # fmt: skip
    reads = {(m, t): _who(m, t) for (m, t) in POLICY if m == "GET"}
    # the regulator reads everything but back-end credentials (issue #11: admins only)
    assert all(
        "public" in who or "regulator" in who for (_, t), who in reads.items() if "/secrets" not in t
    ), "the regulator reads everything"
    writes = {(m, t): _who(m, t) for (m, t) in POLICY if m != "GET" and t not in ("/login", "/logout")}
    for (m, t), who in writes.items():
        assert "public" not in who, (m, t)
        if "tenant_admin" in who or "tenant_user" in who:
            assert re.match(
                rf"^{API}/(users|datasets|jobs|auth/tokens|programme-applications|transfers|rules)", t
            ), f"tenants may not {m} {t}"
        if "regulator" in who:
            assert re.match(rf"^{API}/(vouchers|protection|projects|alerts|programme|risk)", t), (
                f"regulator may not {m} {t}"
            )
        if "operator" in who:
            assert re.match(
                rf"^{API}/(centers|pools|telemetry|projects|alerts|storage-endpoints|offerings)", t
            ), f"operator may not {m} {t}"
    expected = {
        ("GET", f"{API}/audit"): {"admin", "regulator"},
        ("GET", f"{API}/audit/export"): {"admin", "regulator"},
        ("POST", f"{API}/vouchers"): {"admin", "regulator"},
        ("POST", f"{API}/vouchers/{{voucher_id}}/revoke"): {"admin", "regulator"},
        ("GET", f"{API}/vouchers/{{voucher_id}}"): {"admin", "regulator", "tenant_admin", "tenant_user"},
        ("PUT", f"{API}/topology"): {"admin"},
        ("POST", f"{API}/tenants"): {"admin"},
        ("PATCH", f"{API}/centers/{{item_id}}"): {"admin", "operator"},
        ("POST", f"{API}/telemetry"): {"admin", "operator"},
        ("POST", f"{API}/jobs"): {"admin", "tenant_admin", "tenant_user"},
        ("GET", f"{API}/jobs/{{job_id}}"): {"admin", "regulator", "tenant_admin", "tenant_user"},
        ("POST", f"{API}/invoices"): {"admin"},
        ("PUT", f"{API}/quotas/{{tenant_id}}"): {"admin"},
        ("POST", f"{API}/projects/{{project_id}}/transition"): {"admin", "regulator", "operator"},
        ("GET", f"{API}/tenants"): {"admin", "regulator"},
        ("POST", f"{API}/auth/tokens"): {"admin", "tenant_admin"},
        ("GET", f"{API}/secrets"): {"admin"},
        ("GET", f"{API}/secrets/{{name}}"): {"admin"},
        ("PUT", f"{API}/secrets/{{name}}"): {"admin"},
        ("DELETE", f"{API}/secrets/{{name}}"): {"admin"},
        ("GET", f"{API}/transfers"): set(ROLES) - {"anon"},
        ("POST", f"{API}/transfers/{{transfer_id}}/retry"): {"admin", "tenant_admin", "tenant_user"},
        ("POST", f"{API}/datasets:register"): {"admin", "tenant_admin", "tenant_user"},
        ("GET", f"{API}/datasets/{{item_id}}/files/{{name}}/content"): set(ROLES) - {"anon", "operator"},
        ("PUT", f"{API}/datasets/{{item_id}}/uploads/{{upload_id}}/parts/{{number}}"): (
            set(ROLES) - {"anon", "operator", "regulator"}
        ),
        ("DELETE", f"{API}/datasets/{{item_id}}/files/{{name}}"): {"admin", "tenant_admin", "tenant_user"},
        ("GET", f"{API}/storage-endpoints"): set(ROLES) - {"anon"},
        ("POST", f"{API}/storage-endpoints"): {"admin"},
        ("PATCH", f"{API}/storage-endpoints/{{endpoint_id}}"): {"admin", "operator"},
        ("DELETE", f"{API}/storage-endpoints/{{endpoint_id}}"): {"admin"},
        ("GET", f"{API}/data-quotas"): {"admin", "regulator", "tenant_admin", "tenant_user"},
        ("PUT", f"{API}/data-quotas/{{tenant_id}}/{{endpoint_id}}"): {"admin"},
        ("POST", f"{API}/programmes"): {"admin", "regulator"},
        ("POST", f"{API}/offerings"): {"admin", "operator"},
        ("POST", f"{API}/offerings/{{offering_id}}:publish"): {"admin", "operator"},
        ("GET", f"{API}/offerings"): set(ROLES) - {"anon"},
        ("GET", f"{API}/observatory/empowerment"): {"admin", "regulator"},
        ("GET", f"{API}/observatory/industry-map"): {"admin", "regulator", "operator"},
        ("POST", f"{API}/programme-applications"): {"admin", "tenant_admin"},
        ("GET", f"{API}/programme-applications/{{application_id}}"): {
            "admin",
            "regulator",
            "tenant_admin",
            "tenant_user",
        },
        ("POST", f"{API}/programme-applications/{{application_id}}/review"): {"admin", "regulator"},
        ("POST", f"{API}/programme-applications/{{application_id}}/withdraw"): {"admin", "tenant_admin"},
        ("GET", f"{API}/programmes/{{programme_id}}/report"): {"admin", "regulator"},
        ("GET", f"{API}/programme-stats"): {"admin", "regulator"},
        ("GET", f"{API}/industries"): {"admin", "regulator", "tenant_admin", "tenant_user"},
        ("GET", f"{API}/projects/{{project_id}}/history"): {"admin", "regulator", "operator"},
        ("POST", f"{API}/rules"): {"admin", "tenant_admin", "tenant_user"},
        ("GET", f"{API}/rules/{{rule_id}}"): {"admin", "regulator", "tenant_admin", "tenant_user"},
        ("DELETE", f"{API}/rules/{{rule_id}}"): {"admin", "tenant_admin", "tenant_user"},
    }
    for key, who in expected.items():
        assert _who(*key) == who, key


def test_read_only_token_cannot_write(w: World) -> None:
    r = w.client.post(f"{API}/tenants", json={"id": "tz", "name": "Z"}, headers=w.h("readonly_admin"))
    assert r.status_code == 403 and "read-only" in r.text
    assert w.client.get(f"{API}/tenants", headers=w.h("readonly_admin")).status_code == 200


def test_operator_only_on_its_own_centers(w: World) -> None:
    own = w.client.patch(f"{API}/centers/qd-ai", json={"egress_gbps": 300}, headers=w.h("operator"))
    other = w.client.patch(f"{API}/centers/jn-sc", json={"egress_gbps": 300}, headers=w.h("operator"))
    pool_other = w.client.patch(f"{API}/pools/jn-sc-cpu", json={"nodes": 3}, headers=w.h("operator"))
    assert own.status_code == 200, own.text
    assert other.status_code == 403 and pool_other.status_code == 403
    moved = w.client.patch(f"{API}/pools/qd-ai-910b", json={"center": "jn-sc"}, headers=w.h("operator"))
    assert moved.status_code == 403
    assert (
        w.client.patch(f"{API}/pools/qd-ai-910b", json={"nodes": 60}, headers=w.h("operator")).status_code
        == 200
    )
    assert (
        w.client.patch(f"{API}/centers/jn-sc", json={"egress_gbps": 300}, headers=w.h("admin")).status_code
        == 200
    )


def test_dev_mode_keeps_auth_off_and_secrets_optional(tmp_path: Path) -> None:
    from huanghe.settings import InsecureSettingsError, Settings

    assert Settings(dev_mode=True).auth_active is False
    assert Settings(dev_mode=False).auth_active is True
    assert Settings(dev_mode=True, auth_enabled=True).auth_active is True
    with pytest.raises(InsecureSettingsError, match="HUANGHE_SESSION_SECRET"):
        Settings(dev_mode=False, database_url=f"sqlite:///{tmp_path / 'x.db'}").check_secrets()
    with pytest.raises(InsecureSettingsError):
        Settings(dev_mode=False, session_secret="short").check_secrets()
    from huanghe.api.app import create_app

    with pytest.raises(InsecureSettingsError, match="at least 32"):
        create_app(Settings(dev_mode=False, database_url=f"sqlite:///{tmp_path / 'y.db'}"))


def test_operator_telemetry_and_alerts_of_its_own_centers(w: World) -> None:
    import time

    from huanghe.telemetry.models import AlertRow

    now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - 60))
    sample = {"metric": "pue", "time": now, "value": 1.3, "unit": "ratio"}
    own = w.client.post(
        f"{API}/telemetry", json={"samples": [{**sample, "center": "qd-ai"}]}, headers=w.h("operator")
    )
    assert own.status_code == 201, own.text
    mixed = {"samples": [{**sample, "center": "qd-ai"}, {**sample, "center": "jn-sc"}]}
    assert w.client.post(f"{API}/telemetry", json=mixed, headers=w.h("operator")).status_code == 403
    read = w.client.get(f"{API}/telemetry?metric=pue&center=qd-ai", headers=w.h("operator"))
    assert read.status_code == 200
    assert (
        w.client.get(f"{API}/telemetry?metric=pue&center=jn-sc", headers=w.h("operator")).status_code == 403
    )
    assert w.client.get(f"{API}/telemetry?metric=pue", headers=w.h("operator")).status_code == 403
    assert (
        w.client.get(f"{API}/telemetry?metric=pue&pool=qd-ai-910b", headers=w.h("operator")).status_code
        == 200
    )
    assert (
        w.client.get(f"{API}/telemetry?metric=pue&center=jn-sc", headers=w.h("regulator")).status_code == 200
    )
    with w.session() as s:
        ids = []
        for center in ("qd-ai", "jn-sc"):
            row = AlertRow(rule="r", subject=center, center_id=center, state="open", severity="warning", message="m",
                           value=2.0, threshold=1.5, opened_ms=0, updated_ms=0)  # fmt: skip
            s.add(row)
            s.flush()
            ids.append(row.id)
        s.commit()
    assert w.client.post(f"{API}/alerts/{ids[0]}:ack", headers=w.h("operator")).status_code == 200
    assert w.client.post(f"{API}/alerts/{ids[1]}:ack", headers=w.h("operator")).status_code == 403
    assert w.client.post(f"{API}/alerts/{ids[1]}:ack", headers=w.h("regulator")).status_code == 200
