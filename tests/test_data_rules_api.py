"""Replication rules through the API, as their users and as an attacker: a tenant makes rules on its own
datasets only; another tenant's rule or dataset answers 404 with the words of an unknown one; bad input is a
422 naming the field; the regulator reads, the operator does not write."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from huanghe.data.models import DataFileRow, FileReplicaRow, StorageEndpointRow
from tests.data_world import ENDPOINTS, GB
from tests.security_support import World, world

API = "/api/v1"


@pytest.fixture
def w(tmp_path: Path) -> Iterator[World]:
    with world(f"sqlite:///{tmp_path / 'r.db'}") as wd:
        with wd.session() as s:
            for eid, (center, temp, medium) in ENDPOINTS.items():
                s.add(StorageEndpointRow(
                    id=eid, center_id=center, temperature=temp, medium=medium, url="http://127.0.0.1:1",
                    bucket="b-x", capacity_bytes=100 * GB, used_bytes=0, available=True, reason="",
                    attributes={}, created_s=0.0,
                ))  # fmt: skip
            s.flush()
            for ds in ("ds-ta", "ds-tb"):
                f = DataFileRow(dataset_id=ds, name="a.bin", size_bytes=GB, sha256="0" * 64, state="available",
                                created_s=0.0, accessed_s=0.0)  # fmt: skip
                s.add(f)
                s.flush()
                s.add(FileReplicaRow(file_id=f.id, endpoint_id="jn-sc-hot", state="available",
                                     object_key=f"jn-sc-hot/{ds}/a.bin", size_bytes=GB, lock_count=0,
                                     created_s=0.0, accessed_s=0.0))  # fmt: skip
            s.commit()
        yield wd


def _add(w: World, who: str, ds: str = "ds-ta", **body: object) -> tuple[int, dict[str, Any]]:
    payload = {"dataset": ds, "copies": 2, "expression": "tier=hot", **body}
    r = w.client.post(f"{API}/rules", json=payload, headers=w.h(who))
    return r.status_code, r.json() if r.content else {}


def test_owner_adds_lists_shows_and_deletes(w: World) -> None:
    status, rule = _add(w, "tenant_user")
    assert status == 201, rule
    assert rule["state"] == "replicating" and rule["locks_ok"] == 1 and rule["locks_replicating"] == 1
    rid = rule["id"]
    listed = w.client.get(f"{API}/rules", headers=w.h("tenant_user")).json()
    assert [r["id"] for r in listed["items"]] == [rid]
    locks = w.client.get(f"{API}/rules/{rid}/locks", headers=w.h("tenant_admin")).json()
    assert {(x["endpoint"], x["center"]) for x in locks["items"]} >= {("jn-sc-hot", "jn-sc")}
    assert w.client.get(f"{API}/rules/{rid}", headers=w.h("regulator")).status_code == 200
    suspended = w.client.post(f"{API}/rules/{rid}:suspend", headers=w.h("tenant_user")).json()
    assert suspended["state"] == "suspended"
    assert (
        w.client.post(f"{API}/rules/{rid}:resume", headers=w.h("tenant_user")).json()["state"]
        == "replicating"
    )
    assert w.client.delete(f"{API}/rules/{rid}", headers=w.h("tenant_user")).status_code == 204
    assert w.client.get(f"{API}/rules/{rid}", headers=w.h("tenant_user")).status_code == 404


def test_another_tenant_sees_nothing_and_changes_nothing(w: World) -> None:
    _, rule = _add(w, "tenant_user")
    rid = rule["id"]
    unknown = w.client.get(f"{API}/rules/r0123456789abcdef", headers=w.h("tenant_user_b"))
    for method, path in (("GET", f"/rules/{rid}"), ("GET", f"/rules/{rid}/locks"), ("DELETE", f"/rules/{rid}"),
                         ("POST", f"/rules/{rid}:suspend"), ("POST", f"/rules/{rid}:resume")):  # fmt: skip
        r = w.client.request(method, f"{API}{path}", headers=w.h("tenant_user_b"))
        assert r.status_code == 404 and "tier=hot" not in r.text, (method, path)
        assert r.json()["detail"][0]["message"].replace(rid, "X") == unknown.json()["detail"][0][
            "message"
        ].replace("r0123456789abcdef", "X")
    # a rule on another tenant's dataset answers like an unknown dataset
    status, body = _add(w, "tenant_user_b", ds="ds-ta")
    status_unknown, body_unknown = _add(w, "tenant_user_b", ds="ds-zz")
    assert status == status_unknown == 404
    assert str(body).replace("ds-ta", "X") == str(body_unknown).replace("ds-zz", "X")
    # the ?tenant= filter cannot widen a tenant's list
    listed = w.client.get(f"{API}/rules?tenant=ta", headers=w.h("tenant_user_b")).json()
    assert listed["items"] == []
    assert w.client.get(f"{API}/rules/{rid}", headers=w.h("tenant_user")).json()["state"] != "suspended"


def test_bad_input_names_the_field(w: World) -> None:
    cases: list[tuple[dict[str, Any], str]] = [
        ({"expression": "tier=hot&("}, "expression"),
        ({"expression": "colour=red"}, "expression"),
        ({"copies": 0}, "copies"),
        ({"copies": 3, "expression": "circle=jiaodong"}, "expression"),
        ({"lifetime_s": -5}, "lifetime_s"),
        ({"grouping": "sometimes"}, "grouping"),
        ({"weight": "x; drop"}, "weight"),
        ({"surprise": 1}, "surprise"),
        ({"dataset": "../etc"}, "dataset"),
    ]
    for body, field in cases:
        status, answer = _add(w, "tenant_user", **body)
        assert status == 422, (body, answer)
        assert any(field in d["path"] for d in answer["detail"]), (body, answer)
    assert w.client.get(f"{API}/rules/not-a-rule", headers=w.h("tenant_user")).status_code == 422


def test_roles(w: World) -> None:
    assert _add(w, "operator")[0] == 403
    assert _add(w, "regulator")[0] == 403
    assert _add(w, "anon")[0] == 401
    assert _add(w, "admin", ds="ds-tb")[0] == 201
    assert w.client.get(f"{API}/rules", headers=w.h("regulator")).json()["total"] == 1


def test_storage_as_stored_and_lifecycle_policies(w: World) -> None:
    r = w.client.get(f"{API}/observatory/data-storage", headers=w.h("regulator"))
    assert r.status_code == 200, r.text
    fig = r.json()
    assert fig["endpoints"] == 4 and fig["capacity_bytes"] == 400 * GB
    hot = next(t for t in fig["tiers"] if t["temperature"] == "hot")
    assert hot["capacity_bytes"] == 300 * GB
    assert w.client.get(f"{API}/observatory/data-storage", headers=w.h("tenant_user")).status_code == 403
    # policies: the province's for everyone, a tenant's only for that tenant; only admins write
    body = {"from_temperature": "hot", "to_temperature": "cold", "idle_s": 86400}
    assert w.client.put(f"{API}/lifecycle-policies/p1", json=body, headers=w.h("admin")).status_code == 200
    mine = {**body, "tenant": "ta", "idle_s": 3600}
    assert (
        w.client.put(f"{API}/lifecycle-policies/ta-fast", json=mine, headers=w.h("admin")).status_code == 200
    )
    assert (
        w.client.put(f"{API}/lifecycle-policies/x", json=body, headers=w.h("tenant_admin")).status_code == 403
    )
    seen_a = {
        p["id"] for p in w.client.get(f"{API}/lifecycle-policies", headers=w.h("tenant_user")).json()["items"]
    }
    seen_b = {
        p["id"]
        for p in w.client.get(f"{API}/lifecycle-policies", headers=w.h("tenant_user_b")).json()["items"]
    }
    assert seen_a == {"p1", "ta-fast"} and seen_b == {"p1"}
    bad = w.client.put(f"{API}/lifecycle-policies/p2", json={**body, "to_temperature": "warm", "from_temperature": "warm"},
                       headers=w.h("admin"))  # fmt: skip
    assert bad.status_code == 422 and "to_temperature" in bad.text
    assert w.client.delete(f"{API}/lifecycle-policies/p1", headers=w.h("admin")).status_code == 204
    assert w.client.delete(f"{API}/lifecycle-policies/p1", headers=w.h("admin")).status_code == 404
