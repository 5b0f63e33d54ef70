"""Pool drains through the API (排空维护): who may drain which pool, bad input, the list, resume, and what a
topology import does to a drain (a pool kept by a "replace" import stays drained; a pool the import removes
takes its drain with it)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from huanghe.catalog.topology import load_topology
from huanghe.network import drains, topology_store
from tests.security_support import MINI, World, world

API = "/api/v1"
OWN, OTHER = "qd-ai-910b", "jn-sc-cpu"  # the operator's token names center qd-ai only


@pytest.fixture
def w(tmp_path: Path) -> Iterator[World]:
    with world(f"sqlite:///{tmp_path / 'd.db'}") as wd:
        yield wd


def test_operators_drain_only_their_own_pools_and_tenants_none(w: World) -> None:
    r = w.client.post(f"{API}/pools/{OWN}:drain", json={"reason": "firmware"}, headers=w.h("operator"))
    assert r.status_code == 200, r.text
    assert r.json()["draining"] is True and r.json()["reason"] == "firmware"
    other = w.client.post(f"{API}/pools/{OTHER}:drain", json={"reason": "x"}, headers=w.h("operator"))
    assert other.status_code == 403
    for role in ("tenant_admin", "tenant_user"):
        assert w.client.post(f"{API}/pools/{OWN}:resume", headers=w.h(role)).status_code == 403
    assert w.client.post(f"{API}/pools/{OWN}:drain", json={}, headers=w.h("anon")).status_code == 401
    listed = w.client.get(f"{API}/pool-drains", headers=w.h("operator")).json()
    assert [d["pool"] for d in listed] == [OWN]
    assert w.client.post(f"{API}/pools/{OWN}:resume", headers=w.h("operator")).status_code == 200
    assert w.client.get(f"{API}/pool-drains", headers=w.h("admin")).json() == []


def test_bad_input_names_the_field_and_unknown_pools_answer_404(w: World) -> None:
    long = w.client.post(f"{API}/pools/{OWN}:drain", json={"reason": "x" * 501}, headers=w.h("admin"))
    assert long.status_code == 422 and long.json()["detail"][0]["path"] == "body.reason"
    ctrl = w.client.post(f"{API}/pools/{OWN}:drain", json={"reason": "a\nb"}, headers=w.h("admin"))
    assert ctrl.status_code == 422 and ctrl.json()["detail"][0]["path"] == "body.reason"
    assert w.client.post(f"{API}/pools/nowhere:drain", json={}, headers=w.h("admin")).status_code == 404
    assert w.client.get(f"{API}/pool-drains", headers=w.h("admin")).json() == []  # nothing half-done


def test_a_replace_import_keeps_the_drain_of_a_kept_pool_and_drops_a_removed_one(w: World) -> None:
    for pool in (OWN, OTHER):
        r = w.client.post(f"{API}/pools/{pool}:drain", json={"reason": "works"}, headers=w.h("admin"))
        assert r.status_code == 200, r.text
    topo = load_topology(str(MINI))
    jinan = next(c for c in topo.centers if any(p.id == OTHER for p in c.pools))
    without = topo.model_copy(
        update={
            "centers": [
                c if c is not jinan else c.model_copy(update={"pools": [p for p in c.pools if p.id != OTHER]})
                for c in topo.centers
            ]
        }
    )
    with w.session() as s:
        topology_store.import_topology(s, without, replace=True)
    with w.session() as s:
        assert drains.drained_pool_ids(s) == {OWN}
        assert [(d.pool, d.reason) for d in drains.list_drains(s)] == [(OWN, "works")]
