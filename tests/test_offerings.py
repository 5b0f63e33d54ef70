"""The compute product catalog (算力产品目录): operators publish offerings on their own pools only, tenants see
published ones only and cannot create one, filters, the state machine, the security level bound, and the
service on SQLite and PostgreSQL (``db_url``). Attacker tests first."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from huanghe.cli.main import app as cli
from huanghe.core.errors import ConflictError, InvalidError, NotFoundError
from huanghe.network import offerings as svc
from tests.security_support import World, world

API = "/api/v1"
#: the operator token of the seeded world runs center qd-ai (pool qd-ai-910b), not jn-sc (jn-sc-cpu, jn-sc-dcu)
OWN_POOL, OTHER_POOL = "qd-ai-910b", "jn-sc-cpu"


def body(oid: str, pool: str = OWN_POOL, **extra: Any) -> dict[str, Any]:
    return {"id": oid, "pool": pool, "name_zh": "昇腾训练", "name_en": "Ascend training",
            "price_cny_per_node_hour": "88.50", "availability_pct": "99.90", "response_minutes": 30,
            "security_level": 3, **extra}  # fmt: skip


@pytest.fixture
def w(db_url: str) -> Iterator[World]:
    with world(db_url) as wd:
        yield wd


def _create(w: World, who: str, **b: Any) -> dict[str, Any]:
    r = w.client.post(f"{API}/offerings", json=body(**b), headers=w.h(who))
    assert r.status_code == 201, r.text
    return dict(r.json())


def test_an_operator_cannot_publish_for_another_operators_pool(w: World) -> None:
    r = w.client.post(f"{API}/offerings", json=body("x", OTHER_POOL), headers=w.h("operator"))
    assert r.status_code == 403 and "pool" in r.text
    _create(w, "admin", oid="sc-cpu", pool=OTHER_POOL, security_level=4)  # an offering of jn-sc (not theirs)
    for action in (":publish", ":withdraw"):
        r = w.client.post(f"{API}/offerings/sc-cpu{action}", headers=w.h("operator"))
        assert r.status_code == 403, action
    r = w.client.patch(f"{API}/offerings/sc-cpu", json={"name_en": "mine now"}, headers=w.h("operator"))
    assert r.status_code == 403
    hidden = w.client.get(f"{API}/offerings/sc-cpu", headers=w.h("operator"))  # another's draft: as if absent
    assert hidden.status_code == 404 and "sc-cpu" not in [
        o["id"] for o in w.client.get(f"{API}/offerings", headers=w.h("operator")).json()["items"]
    ]
    _create(w, "operator", oid="mine")  # its own draft cannot be moved onto another operator's pool
    r = w.client.patch(f"{API}/offerings/mine", json={"pool": OTHER_POOL}, headers=w.h("operator"))
    assert r.status_code == 422 and "pool" in r.json()["detail"][0]["path"]
    with w.session() as s:
        assert svc.get_offering(s, "mine").pool == OWN_POOL
        assert svc.get_offering(s, "sc-cpu").state == "draft"
        assert svc.get_offering(s, "sc-cpu").name_en == "Ascend training"


def test_a_tenant_sees_only_published_offerings_and_cannot_create_one(w: World) -> None:
    _create(w, "operator", oid="ai-draft")
    _create(w, "operator", oid="ai-pub")
    _create(w, "operator", oid="ai-gone")
    for oid in ("ai-pub", "ai-gone"):
        assert w.client.post(f"{API}/offerings/{oid}:publish", headers=w.h("operator")).status_code == 200
    assert w.client.post(f"{API}/offerings/ai-gone:withdraw", headers=w.h("operator")).status_code == 200
    for who in ("tenant_user", "tenant_admin"):
        page = w.client.get(f"{API}/offerings", headers=w.h(who)).json()
        assert [o["id"] for o in page["items"]] == ["ai-pub"] and page["total"] == 1
        asked = w.client.get(f"{API}/offerings", params={"state": "draft"}, headers=w.h(who)).json()
        assert asked["items"] == []
        for oid in ("ai-draft", "ai-gone"):
            r = w.client.get(f"{API}/offerings/{oid}", headers=w.h(who))
            assert r.status_code == 404 and r.json() == w.client.get(f"{API}/offerings/nope", headers=w.h(who)).json() | {
                "detail": [{"path": "", "message": f"offering {oid!r} not found"}]}  # fmt: skip
        r = w.client.post(f"{API}/offerings", json=body("t-own"), headers=w.h(who))
        assert r.status_code == 403
        assert w.client.post(f"{API}/offerings/ai-draft:publish", headers=w.h(who)).status_code == 403
    assert w.client.get(f"{API}/offerings", headers=w.h("anon")).status_code == 401
    ops = {o["id"] for o in w.client.get(f"{API}/offerings", headers=w.h("operator")).json()["items"]}
    assert ops == {"ai-draft", "ai-pub", "ai-gone"}  # its own center's, every state
    reg = w.client.get(f"{API}/offerings", params={"state": "withdrawn"}, headers=w.h("regulator")).json()
    assert [o["id"] for o in reg["items"]] == ["ai-gone"]


def test_the_offering_shows_the_pools_hardware_and_the_centers_place(w: World) -> None:
    o = _create(w, "operator", oid="ai")
    assert (o["accelerator"], o["accelerator_class"], o["center"], o["city"], o["city_name_zh"]) == (
        "Ascend 910B", "npu", "qd-ai", "qingdao", "青岛")  # fmt: skip
    assert (o["price_cny_per_node_hour"], o["availability_pct"], o["state"]) == ("88.50", "99.90", "draft")
    assert o["created_by"].startswith("operator:")


def test_browse_filters(w: World) -> None:
    _create(w, "admin", oid="cpu-cheap", pool="jn-sc-cpu", price_cny_per_node_hour="6.40", security_level=4)
    _create(w, "admin", oid="dcu", pool="jn-sc-dcu", price_cny_per_node_hour="30")
    _create(w, "admin", oid="npu", pool="qd-ai-910b")
    for oid in ("cpu-cheap", "dcu", "npu"):
        assert w.client.post(f"{API}/offerings/{oid}:publish", headers=w.h("admin")).status_code == 200

    def ids(**q: Any) -> list[str]:
        r = w.client.get(f"{API}/offerings", params=q, headers=w.h("tenant_user"))
        assert r.status_code == 200, r.text
        return [o["id"] for o in r.json()["items"]]

    assert ids() == ["cpu-cheap", "dcu", "npu"]  # cheapest first
    assert ids(kind="intelligent") == ["npu"] and ids(kind="supercomputing") == ["cpu-cheap", "dcu"]
    assert ids(city="qingdao") == ["npu"] and ids(city="jinan") == ["cpu-cheap", "dcu"]
    assert ids(accelerator="NPU") == ["npu"] and ids(accelerator="dcu z100") == ["dcu"]
    assert ids(max_price_cny="30") == ["cpu-cheap", "dcu"] and ids(max_price_cny="6.39") == []
    assert ids(min_security_level=4) == ["cpu-cheap"]
    bad = w.client.get(f"{API}/offerings", params={"kind": "quantum"}, headers=w.h("tenant_user"))
    assert bad.status_code == 422 and bad.json()["detail"][0]["path"] == "query.kind"


def test_states_edits_and_bounds_name_the_field(w: World) -> None:
    _create(w, "operator", oid="ai")
    r = w.client.patch(f"{API}/offerings/ai", json={"price_cny_per_node_hour": "70"}, headers=w.h("operator"))
    assert r.status_code == 200 and r.json()["price_cny_per_node_hour"] == "70.00"
    assert w.client.post(f"{API}/offerings/ai:publish", headers=w.h("operator")).status_code == 200
    r = w.client.patch(f"{API}/offerings/ai", json={"price_cny_per_node_hour": "1"}, headers=w.h("operator"))
    assert r.status_code == 409 and r.json()["detail"][0]["path"] == "body.state"
    assert w.client.post(f"{API}/offerings/ai:withdraw", headers=w.h("operator")).status_code == 200
    r = w.client.post(f"{API}/offerings/ai:publish", headers=w.h("operator"))
    assert r.status_code == 409 and r.json()["detail"][0]["path"] == "body.state"
    # qd-ai has no security_level in the mini file: its default; a higher claim is refused, naming the field
    r = w.client.post(f"{API}/offerings", json=body("hi", security_level=5), headers=w.h("operator"))
    assert r.status_code == 422 and r.json()["detail"][0]["path"] == "body.security_level"
    r = w.client.post(
        f"{API}/offerings", json=body("neg", price_cny_per_node_hour="-1"), headers=w.h("operator")
    )
    assert r.status_code == 422 and "price_cny_per_node_hour" in r.json()["detail"][0]["path"]
    r = w.client.post(f"{API}/offerings", json=body("nop", pool="no-such"), headers=w.h("operator"))
    assert r.status_code == 422 and r.json()["detail"][0]["path"] == "body.pool"
    r = w.client.post(f"{API}/offerings", json=body("ai"), headers=w.h("operator"))
    assert r.status_code == 409 and r.json()["detail"][0]["path"] == "body.id"
    r = w.client.post(f"{API}/offerings", json=body("x", backdoor=1), headers=w.h("operator"))
    assert r.status_code == 422 and "backdoor" in r.json()["detail"][0]["path"]


def test_targeting_needs_a_published_offering(w: World) -> None:
    with w.session() as s:
        svc.create_offering(s, svc.OfferingCreate.model_validate(body("t1")), actor="test", now=1.0)
        with pytest.raises(InvalidError) as draft:
            svc.pool_to_target(s, "t1", "jobs[0].offering")
        assert draft.value.errors[0].path == "jobs[0].offering" and "unknown offering" in str(draft.value)
        svc.move(s, "t1", "published", now=2.0)
        assert svc.pool_to_target(s, "t1") == OWN_POOL
        svc.move(s, "t1", "withdrawn", now=3.0)
        with pytest.raises(InvalidError) as gone:
            svc.pool_to_target(s, "t1")
        assert gone.value.errors[0].path == "offering" and "withdrawn" in str(gone.value)
        assert svc.pools_of_offerings(s, ["t1", "none"]) == {"t1": OWN_POOL}
        svc.create_offering(s, svc.OfferingCreate.model_validate(body("t2")), actor="test", now=4.0)
        svc.move(s, "t2", "published", now=5.0)
        svc.check_targets(s, [("offering", "t2")])
        with pytest.raises(InvalidError) as many:
            svc.check_targets(
                s, [("jobs[0].offering", "t2"), ("jobs[1].offering", "t1"), ("jobs[2].offering", "x")]
            )
        assert [e.path for e in many.value.errors] == ["jobs[1].offering", "jobs[2].offering"]
        with pytest.raises(ConflictError):
            svc.move(s, "t1", "published")
        with pytest.raises(NotFoundError):
            svc.get_offering(s, "none")
        assert svc.published_by_center(s) == {"qd-ai": 1}


def test_cli_creates_publishes_lists_and_withdraws(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    with world(url):
        pass  # migrated and seeded (mini network)
    runner = CliRunner()
    base = ["--db", url]
    create = ["offerings", "create", "--id", "cli-npu", "--pool", OWN_POOL, "--name-zh", "昇腾", "--name-en", "Ascend",
              "--price-cny-per-node-hour", "88", "--availability-pct", "99.9", "--response-minutes", "30",
              "--security-level", "3", *base]  # fmt: skip
    out = runner.invoke(cli, create)
    assert out.exit_code == 0, out.output
    assert runner.invoke(cli, ["offerings", "publish", "cli-npu", *base]).exit_code == 0
    listed = runner.invoke(cli, ["offerings", "list", "--state", "published", "--json", *base])
    assert listed.exit_code == 0 and [o["id"] for o in json.loads(listed.output)] == ["cli-npu"]
    assert json.loads(listed.output)[0]["price_cny_per_node_hour"] == "88.00"
    assert runner.invoke(cli, ["offerings", "withdraw", "cli-npu", *base]).exit_code == 0
    again = runner.invoke(cli, ["offerings", "publish", "cli-npu", *base])
    assert again.exit_code == 1 and "state" in again.output
    bad = runner.invoke(cli, [x if x != "3" else "9" for x in create])
    assert bad.exit_code == 2 and "--security-level" in bad.output
    money = runner.invoke(cli, [x if x != "88" else "eighty" for x in create])
    assert money.exit_code == 2 and "--price-cny-per-node-hour" in money.output
