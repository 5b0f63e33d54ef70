"""Security risk monitoring (风险监测、预警、溯源及处置): refused and unauthenticated request storms, residency
refusals, anomalous egress and a broken audit chain raise alerts; the regulator acknowledges, traces and
resolves them through the API; tenants see none of it; request storms cost bounded memory and few rows."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import func, select, text

from huanghe.audit.chain import catch_up
from huanghe.audit.models import AuditRow, SecurityEventRow
from huanghe.audit.security_events import EventAggregator
from huanghe.data.models import DataFileRow, TransferRow
from huanghe.regulator import risk
from tests.data_world import ENDPOINTS, GB
from tests.security_support import World, world

API = "/api/v1"


@pytest.fixture
def w(db_url: str) -> Iterator[World]:
    """The security world on SQLite and on a real PostgreSQL."""
    with world(db_url) as wd:
        yield wd


def _flush(w: World) -> None:
    with w.session() as s:
        w.app.state.security_events.flush(s)


def _detect(w: World, **kw: Any) -> int:
    with w.session() as s:
        return risk.detect(s, time.time(), **kw)[0]


def _alerts(w: World, **params: str) -> list[dict[str, Any]]:
    r = w.client.get(f"{API}/risk/alerts", params=params, headers=w.h("regulator"))
    assert r.status_code == 200, r.text
    return r.json()["items"]


def test_auth_failure_storm_raises_one_alert_with_its_trace(w: World) -> None:
    for _ in range(25):
        assert w.client.get(f"{API}/jobs", headers={"Authorization": "Bearer nope"}).status_code == 401
    _flush(w)
    with w.session() as s:
        rows = s.scalar(
            select(func.count()).select_from(SecurityEventRow).where(SecurityEventRow.kind == "auth_failure")
        )
        total = s.scalar(
            select(func.sum(SecurityEventRow.count)).where(SecurityEventRow.kind == "auth_failure")
        )
    assert rows is not None and rows <= 2 and total == 25  # aggregated, not one row per request
    assert _detect(w) == 1
    assert _detect(w) == 0  # the same storm does not open a second alert
    [alert] = _alerts(w, kind="auth_failures")
    assert alert["severity"] == "high" and alert["state"] == "open" and alert["events"] == 25
    assert "nope" not in str(alert)  # the bad token itself is never stored
    tr = w.client.get(f"{API}/risk/alerts/{alert['id']}/trace", headers=w.h("regulator")).json()
    assert sum(e["count"] for e in tr["events"]) == 25


def test_refused_requests_by_a_tenant_user(w: World) -> None:
    for _ in range(31):
        assert w.client.get(f"{API}/tenants", headers=w.h("tenant_user")).status_code == 403
    _flush(w)
    assert _detect(w) == 1
    [alert] = _alerts(w, kind="refused_requests")
    assert alert["subject"].startswith("token:") or "ta-user" in alert["subject"], alert
    assert alert["severity"] == "medium"


def test_residency_refusal_and_egress_anomaly(w: World) -> None:
    from huanghe.core.errors import InvalidError
    from huanghe.data.models import StorageEndpointRow
    from huanghe.data.rule_schemas import RuleCreate
    from huanghe.data.rules import add_rule

    now = time.time()
    with w.session() as s:
        for eid, (center, temp, medium) in ENDPOINTS.items():
            s.add(StorageEndpointRow(id=eid, center_id=center, temperature=temp, medium=medium, url="http://127.0.0.1:1",
                                     bucket="b", capacity_bytes=100 * GB, used_bytes=0, available=True, reason="",
                                     attributes={}, created_s=0.0))  # fmt: skip
        s.execute(text("UPDATE datasets SET data_class='core' WHERE id='ds-ta'"))
        s.commit()
        with pytest.raises(InvalidError):
            add_rule(s, RuleCreate(dataset="ds-ta", copies=1, expression="city=qingdao"), actor="ta-user")
        f = DataFileRow(dataset_id="ds-tb", name="x", size_bytes=GB, sha256="0" * 64, state="available",
                        created_s=now, accessed_s=now)  # fmt: skip
        s.add(f)
        s.flush()
        for i in range(3):  # 60 GB out of tenant tb in the last hour, nothing before
            s.add(TransferRow(file_id=f.id, tenant_id="tb", dest_endpoint_id="qd-ai-hot", state="done", priority=3,
                              attempts=1, max_attempts=3, tried_sources=[], bytes=20 * GB, created_s=now - 600,
                              finished_s=now - 60 * i, cost_fen=0, energy_wh=0.0, carbon_g=0.0, error=""))  # fmt: skip
        s.commit()
    assert _detect(w) == 2
    kinds = {a["kind"]: a for a in _alerts(w)}
    assert (
        kinds["residency_refusal"]["subject"] == "ds-ta" and kinds["residency_refusal"]["severity"] == "high"
    )
    assert kinds["egress_anomaly"]["subject"] == "tb" and "60.0 GB" in kinds["egress_anomaly"]["message"]
    tr = w.client.get(
        f"{API}/risk/alerts/{kinds['residency_refusal']['id']}/trace", headers=w.h("regulator")
    ).json()
    assert any(r["action"] == "rule.refused" for r in tr["audit"])
    assert _detect(w, since_seq=10**9) == 0  # nothing new


def test_chain_break_is_critical(w: World) -> None:
    w.client.post(f"{API}/tenants", json={"id": "tz", "name": "Z"}, headers=w.h("admin"))
    with w.session() as s:
        assert risk.check_chain(s, time.time())
    engine = w.app.state.engine
    with engine.begin() as conn:  # what an attacker with DBA rights could do: switch the guards off, edit
        if engine.dialect.name == "postgresql":
            conn.execute(text("ALTER TABLE audit_log DISABLE TRIGGER USER"))
        else:
            conn.execute(text("DROP TRIGGER audit_log_no_update"))
        conn.execute(text("UPDATE audit_log SET actor='someone-else' WHERE seq=1"))
    assert _detect(w, chain=True) == 1
    [alert] = _alerts(w, kind="audit_chain_break")
    assert alert["severity"] == "critical" and "seq 1" in alert["subject"]


def test_workflow_ack_assign_resolve_and_who_may(w: World) -> None:
    with w.session() as s:
        row, new = risk.raise_alert(
            s, "egress_anomaly", "ta", "high", "m", events=1, first_s=1.0, last_s=1.0, now=2.0
        )
        s.commit()
        aid = row.id
    assert new
    base = f"{API}/risk/alerts/{aid}"
    for who in ("tenant_admin", "tenant_user", "operator"):
        assert w.client.get(base, headers=w.h(who)).status_code == 403
        assert w.client.post(f"{base}:ack", headers=w.h(who)).status_code == 403
    acked = w.client.post(f"{base}:ack", headers=w.h("regulator")).json()
    assert acked["state"] == "acknowledged" and acked["owner"].startswith("regulator:reg")
    assigned = w.client.post(
        f"{base}:assign", json={"owner": "data-protection officer"}, headers=w.h("regulator")
    )
    assert assigned.json()["owner"] == "data-protection officer"
    missing = w.client.post(f"{base}:resolve", json={}, headers=w.h("regulator"))
    assert missing.status_code == 422 and "note" in missing.text
    done = w.client.post(f"{base}:resolve", json={"note": "tenant confirmed a planned migration"},
                         headers=w.h("regulator")).json()  # fmt: skip
    assert done["state"] == "resolved" and done["resolved_by"].startswith("regulator:reg")
    again = w.client.post(f"{base}:resolve", json={"note": "x"}, headers=w.h("regulator"))
    assert again.status_code == 409
    assert w.client.post(f"{base}:ack", headers=w.h("regulator")).status_code == 409
    assert w.client.get(f"{API}/risk/alerts/999999", headers=w.h("regulator")).status_code == 404
    with w.session() as s:
        catch_up(s)  # entries written to the inbox (PostgreSQL) are chained first, as every reader does
        actions = set(s.scalars(select(AuditRow.action).where(AuditRow.subject == str(aid))))
    assert {"risk.open", "risk.ack", "risk.assign", "risk.resolve"} <= actions
    # a new event of the same kind and subject opens a new alert once the old one is resolved
    with w.session() as s:
        _, new = risk.raise_alert(
            s, "egress_anomaly", "ta", "high", "m", events=1, first_s=3.0, last_s=3.0, now=4.0
        )
        s.commit()
    assert new


def test_aggregator_memory_is_bounded() -> None:
    agg = EventAggregator(max_keys=10, clock=lambda: 120.0)
    for i in range(1000):
        agg.note("auth_failure", source=f"ip:10.0.{i // 256}.{i % 256}")
    assert agg.pending() == 11  # ten sources and one overflow key


def test_a_lowered_data_class_alerts_the_regulator_with_who_and_when(w: World) -> None:
    """A tenant may declassify its own data (where every copy stays lawful and it is not in the protection
    catalog), but that is how protected data would leave its region: the lowering is audited with its actor
    and classes, and the risk monitoring opens an alert for the regulator (high from core data)."""
    up = w.client.patch(f"{API}/datasets/ds-ta", json={"data_class": "important"}, headers=w.h("tenant_user"))
    assert up.status_code == 200, up.text
    other = w.client.patch(
        f"{API}/datasets/ds-ta", json={"data_class": "general"}, headers=w.h("tenant_user_b")
    )
    assert other.status_code in (403, 404), other.text  # another tenant cannot lower it
    assert _detect(w) == 0  # raising a class, or a refused attempt, is no lowering
    down = w.client.patch(f"{API}/datasets/ds-ta", json={"data_class": "general"}, headers=w.h("tenant_user"))
    assert down.status_code == 200 and down.json()["data_class"] == "general", down.text
    with w.session() as s:
        catch_up(s)
        [rec] = s.scalars(select(AuditRow).where(AuditRow.action == "data.class.lower")).all()
        assert rec.subject == "ds-ta" and "ta-user" in rec.actor, rec.actor
        assert '"from":"important"' in rec.payload and '"to":"general"' in rec.payload, rec.payload
        s.execute(text("UPDATE datasets SET data_class='core' WHERE id='ds-tb'"))
        s.commit()
    down_b = w.client.patch(
        f"{API}/datasets/ds-tb", json={"data_class": "important"}, headers=w.h("tenant_user_b")
    )
    assert down_b.status_code == 200, down_b.text
    assert _detect(w) == 2
    kinds = {a["subject"]: a for a in _alerts(w, kind="data_class_lowered")}
    assert kinds["ds-ta"]["severity"] == "medium" and "important to general" in kinds["ds-ta"]["message"]
    assert kinds["ds-tb"]["severity"] == "high" and "tb-user" in kinds["ds-tb"]["message"]
    tr = w.client.get(f"{API}/risk/alerts/{kinds['ds-ta']['id']}/trace", headers=w.h("regulator")).json()
    assert [e["detail"]["to"] for e in tr["events"]] == ["general"]
    assert any(r["action"] == "data.class.lower" and r["subject"] == "ds-ta" for r in tr["audit"])
    assert (
        w.client.get(f"{API}/risk/alerts", headers=w.h("tenant_user")).status_code == 403
    )  # not the tenant's
    assert _detect(w) == 0  # each lowering alerts once


def test_the_kind_filter_takes_the_known_kinds_only(w: World) -> None:
    from huanghe.observatory.report_sections import ALERT_KINDS

    for kind in ALERT_KINDS:
        assert (
            w.client.get(f"{API}/risk/alerts", params={"kind": kind}, headers=w.h("regulator")).status_code
            == 200
        )
    bad = w.client.get(f"{API}/risk/alerts", params={"kind": "nope"}, headers=w.h("regulator"))
    assert bad.status_code == 422 and "kind" in bad.text, bad.text
