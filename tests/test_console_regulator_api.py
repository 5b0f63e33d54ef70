"""The API the regulator's console pages need (issue #17): audit search (actor, subject, time range, newest
first), key projects rejected with a comment and their history from the audit trail, alerts filtered and
scoped to an operator's own centers, programme vouchers issued and redeemed per sector and per city. Hostile
callers first: tenants are refused, an operator never sees another center's alert or project."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from huanghe.billing import service as billing
from huanghe.telemetry.models import AlertRow
from tests.security_support import World, world

API = "/api/v1"
T0 = datetime(2026, 3, 1, tzinfo=UTC).timestamp()


@pytest.fixture
def w(db_url: str) -> Iterator[World]:
    """The world on SQLite and on the private PostgreSQL (text search and time ranges differ between them)."""
    with world(db_url) as wd:
        yield wd


# ---- audit ---------------------------------------------------------------------------------------------------


def test_audit_search_by_actor_subject_and_time(w: World) -> None:
    for pid in ("aud-1", "aud-2"):
        body = {"id": pid, "name": pid, "operator": "telecom", "centers": ["qd-ai"], "investment_cny": "1"}
        assert w.client.post(f"{API}/projects", json=body, headers=w.h("operator")).status_code == 201
    for who in ("tenant_admin", "tenant_user", "operator", "anon"):
        assert w.client.get(f"{API}/audit?subject=aud", headers=w.h(who)).status_code in (401, 403), who
    get = lambda q: w.client.get(f"{API}/audit{q}", headers=w.h("regulator"))  # noqa: E731
    page = get("?action=project.file").json()
    assert [r["subject"] for r in page["items"]] == ["aud-1", "aud-2"] and page["total"] == 2
    newest = get("?action=project.file&order=desc").json()["items"]
    assert [r["subject"] for r in newest] == ["aud-2", "aud-1"]
    assert get("?subject=AUD-2&action=project.file").json()["total"] == 1  # contains, case-insensitive
    assert get("?subject=%25").json()["total"] == 0  # a LIKE wildcard is text, not "anything"
    by_op = get("?actor=operator:op&action=project.file").json()
    assert by_op["total"] == 2 and all(r["actor"].startswith("operator:op#") for r in by_op["items"])
    assert get("?actor=regulator&action=project.file").json()["total"] == 0
    first_at = page["items"][0]["at"]
    later = (datetime.fromisoformat(first_at) + timedelta(days=1)).isoformat().replace("+00:00", "Z")
    assert get(f"?action=project.file&since={later}").json()["total"] == 0
    assert get(f"?action=project.file&until={later}").json()["total"] == 2
    assert get(f"?action=project.file&since={first_at}&until={later}").json()["total"] == 2
    assert get("?action=project.file&since=2000-01-01T00:00:00").json()["total"] == 2  # no zone = UTC
    bad = get("?since=yesterday")
    assert bad.status_code == 422 and bad.json()["detail"][0]["path"] == "query.since"
    assert get("?order=sideways").status_code == 422
    assert get("?limit=1&offset=1&action=project.file").json()["items"][0]["subject"] == "aud-2"


# ---- projects ------------------------------------------------------------------------------------------------


def _file(w: World, pid: str, center: str = "qd-ai", who: str = "operator") -> None:
    body = {"id": pid, "name": pid, "operator": "telecom", "centers": [center], "investment_cny": "100"}
    r = w.client.post(f"{API}/projects", json=body, headers=w.h(who))
    assert r.status_code == 201, r.text


def _move(w: World, pid: str, to: str, who: str, comment: str = "") -> tuple[int, str]:
    r = w.client.post(
        f"{API}/projects/{pid}/transition", json={"to": to, "comment": comment}, headers=w.h(who)
    )
    return r.status_code, r.text


def test_projects_reject_with_a_comment_and_history_from_the_trail(w: World) -> None:
    _file(w, "p-rej")
    _file(w, "p-other", center="jn-sc", who="admin")
    assert _move(w, "p-rej", "rejected", "operator")[0] == 403  # the authority rejects, not the operator
    assert _move(w, "p-other", "rejected", "operator")[0] == 404  # another center's project: not found
    assert w.client.get(f"{API}/projects/p-other/history", headers=w.h("operator")).status_code == 404
    for who in ("tenant_admin", "tenant_user", "anon"):
        assert w.client.get(f"{API}/projects/p-rej/history", headers=w.h(who)).status_code in (401, 403)
    assert _move(w, "p-rej", "reviewed", "regulator", "材料齐全 complete")[0] == 200
    status, text = _move(w, "p-rej", "rejected", "regulator", "投资超规划 over plan")
    assert status == 200 and '"status":"rejected"' in text
    status, text = _move(w, "p-rej", "building", "admin")
    assert status == 409 and "final" in text
    too_long = _move(w, "p-rej", "rejected", "regulator", "x" * 2001)
    assert too_long[0] == 422 and "body.comment" in too_long[1]
    hist = w.client.get(f"{API}/projects/p-rej/history", headers=w.h("operator")).json()
    assert [(e["from_status"], e["to_status"], e["comment"]) for e in hist] == [
        (None, "filed", ""),
        ("filed", "reviewed", "材料齐全 complete"),
        ("reviewed", "rejected", "投资超规划 over plan"),
    ]
    assert hist[0]["actor"].startswith("operator:") and hist[2]["actor"].startswith("regulator:")
    _file(w, "p-ok")
    for to in ("reviewed", "approved"):
        assert _move(w, "p-ok", to, "regulator")[0] == 200
    status, text = _move(w, "p-ok", "rejected", "regulator")
    assert status == 409 and "next is building" in text  # approved: too late to reject
    status, text = _move(w, "p-other", "approved", "regulator")
    assert status == 409 and "next is reviewed or rejected" in text
    page = w.client.get(f"{API}/projects?status=rejected", headers=w.h("regulator")).json()
    assert [p["id"] for p in page["items"]] == ["p-rej"]


# ---- alerts --------------------------------------------------------------------------------------------------


def _alerts(w: World) -> list[int]:
    with w.session() as s:
        ids: list[int] = []
        for rule, subject, center in (("pue_jump", "center:qd-ai", "qd-ai"),
                                      ("utilisation_high", "pool:qd-ai-910b", "qd-ai"),
                                      ("utilisation_high", "center:jn-sc", "jn-sc")):  # fmt: skip
            row = AlertRow(rule=rule, subject=subject, center_id=center, state="open", severity="warning",
                           message="m", value=2.0, threshold=1.5, opened_ms=len(ids), updated_ms=0)  # fmt: skip
            s.add(row)
            s.flush()
            ids.append(row.id)
        s.commit()
    return ids


def test_alerts_filters_and_operators_see_their_own_centers_only(w: World) -> None:
    own_pue, own_pool, other = _alerts(w)
    for who in ("tenant_admin", "tenant_user"):
        assert w.client.get(f"{API}/alerts", headers=w.h(who)).status_code == 403
    seen = w.client.get(f"{API}/alerts", headers=w.h("operator")).json()
    assert sorted(a["id"] for a in seen["items"]) == [own_pue, own_pool] and seen["total"] == 2
    assert w.client.get(f"{API}/alerts?center=jn-sc", headers=w.h("operator")).json()["total"] == 0
    assert w.client.get(f"{API}/alerts/{other}", headers=w.h("operator")).status_code == 404
    assert w.client.get(f"{API}/alerts/{own_pool}", headers=w.h("operator")).status_code == 200
    assert w.client.post(f"{API}/alerts/{other}:resolve", headers=w.h("operator")).status_code == 403
    get = lambda q: w.client.get(f"{API}/alerts{q}", headers=w.h("regulator")).json()  # noqa: E731
    assert get("")["total"] == 3
    assert [a["id"] for a in get("?rule=utilisation_high")["items"]] == [other, own_pool]  # newest first
    assert [a["id"] for a in get("?subject=POOL:")["items"]] == [own_pool]  # case-insensitive
    assert [a["id"] for a in get("?center=jn-sc&state=open")["items"]] == [other]
    assert w.client.post(f"{API}/alerts/{other}:ack", headers=w.h("regulator")).status_code == 200
    assert [a["id"] for a in get("?state=acknowledged")["items"]] == [other]
    bad = w.client.get(f"{API}/alerts?rule=nope", headers=w.h("regulator"))
    assert bad.status_code == 422 and bad.json()["detail"][0]["path"] == "query.rule"


# ---- programme statistics ------------------------------------------------------------------------------------


def test_programme_stats_per_sector_and_city(w: World) -> None:
    body = {"id": "st", "name_zh": "测试", "name_en": "test", "authority": "t", "basis": "bill", "share": "0.5",
            "fund_cny": "10000"}  # fmt: skip
    assert w.client.post(f"{API}/programmes", json=body, headers=w.h("regulator")).status_code == 201
    grants = []
    for tenant, city, basis in (("ta", "jinan", "1000"), ("tb", "qingdao", "600")):
        app = {"programme": "st", "tenant": tenant, "basis_cny": basis, "city": city}
        r = w.client.post(f"{API}/programme-applications", json=app, headers=w.h("admin"))
        assert r.status_code == 201, r.text
        rv = w.client.post(f"{API}/programme-applications/{r.json()['id']}/review", json={"decision": "approve"},
                           headers=w.h("regulator"))  # fmt: skip
        assert rv.status_code == 200 and rv.json()["status"] == "granted", rv.text
        grants.append(rv.json())
    assert [g["granted_cny"] for g in grants] == ["500.00", "300.00"]
    with w.session() as s:  # 2 h on the Qingdao AI pool, billed and paid half by the voucher
        billing.meter_job(s, job_id="st-j1", tenant_id="ta", pool_id="qd-ai-910b", started_s=T0,
                          ended_s=T0 + 2 * 3600)  # fmt: skip
        s.commit()
        inv = billing.create_invoice(s, billing.InvoiceCreate(tenant="ta", month="2026-03"), actor="t")
    assert inv.voucher_cny > 0
    for who in ("tenant_admin", "tenant_user", "tenant_user_b", "operator", "anon"):
        assert w.client.get(f"{API}/programme-stats", headers=w.h(who)).status_code in (401, 403), who
    st = w.client.get(f"{API}/programme-stats?programme=st", headers=w.h("regulator")).json()
    assert (st["vouchers_issued"], st["vouchers_redeemed"], st["enterprises"]) == (2, 1, 2)
    assert (st["issued_cny"], st["redeemed_cny"]) == ("800.00", f"{inv.voucher_cny:.2f}")
    sectors = {x["key"]: (x["vouchers_issued"], x["issued_cny"], x["redeemed_cny"]) for x in st["by_sector"]}
    assert sectors == {"manufacturing": (1, "500.00", st["redeemed_cny"]), "finance": (1, "300.00", "0.00")}
    cities = {x["key"]: (x["name_en"], x["issued_cny"], x["redeemed_cny"]) for x in st["by_city"]}
    assert cities["jinan"][1:] == ("500.00", st["redeemed_cny"]) and cities["qingdao"][1:] == (
        "300.00",
        "0.00",
    )
    assert [(x["key"], x["vouchers_issued"], x["redeemed_cny"]) for x in st["by_provider_city"]] == [
        ("qingdao", 0, st["redeemed_cny"])
    ]
    assert st["by_sector"][0]["key"] == "manufacturing"  # most issued first
    year = datetime.now(UTC).year
    assert (
        w.client.get(f"{API}/programme-stats?year={year - 1}", headers=w.h("admin")).json()["issued_cny"]
        == "0.00"
    )
    missing = w.client.get(f"{API}/programme-stats?programme=nope", headers=w.h("regulator"))
    assert missing.status_code == 404
    assert w.client.get(f"{API}/programme-stats?year=1999", headers=w.h("regulator")).status_code == 422
