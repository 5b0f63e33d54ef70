"""Voucher programmes through a real ``huanghe up`` process with authentication on, with the SDK
(:class:`huanghe.client.HuangheClient`): a regulator creates the Shandong preset, a tenant admin applies for
its own tenant, another tenant sees nothing of it, the regulator grants and reads the report."""

from __future__ import annotations

from pathlib import Path

import pytest

from huanghe.client import HuangheClient
from huanghe.client.errors import ClientError
from huanghe.domain.tenancy import Role
from huanghe.store.db import make_session_factory
from huanghe.store.migrate import migrate
from huanghe.tenancy import tokens as auth
from tests import jobs_server as srv
from tests.security_support import SECRET, seed


def test_the_sdk_runs_a_programme_and_keeps_tenants_apart(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'srv.db'}"
    migrate(url)
    factory = make_session_factory(url)
    with factory() as s:
        tokens = seed(s)
        spec = auth.TokenCreate(name="tb-admin", role=Role.TENANT_ADMIN, tenant="tb")
        tokens["tenant_admin_b"] = auth.create_token(s, spec).token
    factory.kw["bind"].dispose()
    server = srv.start(tmp_path, url, HUANGHE_DEV_MODE="false", HUANGHE_SESSION_SECRET=SECRET)
    try:

        def as_(who: str) -> HuangheClient:
            return HuangheClient(server.url, token=tokens[who], timeout_s=30)

        with as_("regulator") as reg, as_("tenant_admin") as ta, as_("tenant_admin_b") as tb:
            assert {p.key for p in ta.programme_presets()} == {
                "shandong-2025",
                "shanghai-2025",
                "beijing-2023",
            }
            sd = reg.create_programme(
                {"id": "sd", "preset": "shandong-2025", "opens": "2026-01-01T00:00:00Z"}
            )
            assert sd.label == "reported" and str(sd.fund_cny) == "30000000.00"
            with pytest.raises(ClientError) as refused:
                ta.create_programme({"id": "mine", "preset": "shanghai-2025"})
            assert refused.value.status_code == 403
            app = ta.apply_programme(
                {"programme": "sd", "tenant": "ta", "basis_cny": "400000", "provider": "telecom"}
            )
            with pytest.raises(ClientError) as other:
                tb.apply_programme(
                    {"programme": "sd", "tenant": "ta", "basis_cny": "1", "provider": "telecom"}
                )
            assert other.value.status_code == 403
            assert tb.programme_applications() == [] and [a.id for a in ta.programme_applications()] == [
                app.id
            ]
            with pytest.raises(ClientError) as hidden:
                tb.withdraw_application(app.id)
            assert hidden.value.status_code == 404
            granted = reg.review_application(app.id, "approve", note="ok")
            assert granted.status == "granted" and str(granted.granted_cny) == "20000.00"  # 5 % of 400,000
            report = reg.programme_report("sd")
            assert report.enterprises_served == 1 and str(report.granted_cny) == "20000.00"
            assert [p.id for p in ta.programmes()] == ["sd"]
    finally:
        server.stop()
