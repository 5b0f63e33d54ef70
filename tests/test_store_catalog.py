"""Catalog store and service on SQLite and PostgreSQL: import / export round trip, CRUD, errors."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from huanghe.catalog.topology import load_topology
from huanghe.core.errors import ConflictError, InvalidError, NotFoundError
from huanghe.data import service as datasets_svc
from huanghe.data.schemas import DatasetCreate, DatasetUpdate
from huanghe.domain.enums import CenterKind, CenterTier
from huanghe.domain.network import Topology
from huanghe.network import service as network_svc
from huanghe.network import topology_store as topology_store
from huanghe.network.models import StorageTierRow
from huanghe.network.schemas import (
    CenterUpdate,
    CityCreate,
    CityUpdate,
    LinkCreate,
    LinkUpdate,
    PoolCreate,
    PoolUpdate,
    RegionCreate,
)
from huanghe.tenancy import service as tenancy_svc
from huanghe.tenancy.schemas import TenantCreate, UserCreate


@pytest.fixture
def topo(mini_network_path: Path) -> Topology:
    return load_topology(mini_network_path)


@pytest.fixture
def session(session_factory: sessionmaker[Session], topo: Topology) -> Iterator[Session]:
    with session_factory() as s:
        topology_store.import_topology(s, topo)
        yield s


def test_round_trip_is_equal(session_factory: sessionmaker[Session], topo: Topology) -> None:
    with session_factory() as s:
        summary = topology_store.import_topology(s, topo)
        assert (summary.centers, summary.pools, summary.links) == (3, 3, 2)
    with session_factory() as s:
        back = topology_store.export_topology(s)
    assert back == topo
    assert back.model_dump(mode="json") == topo.model_dump(mode="json")


def test_export_empty_database_is_not_found(session_factory: sessionmaker[Session]) -> None:
    with session_factory() as s, pytest.raises(NotFoundError):
        topology_store.export_topology(s)


def test_reimport_replace_removes_and_keeps_order(session: Session, topo: Topology) -> None:
    smaller = topo.model_copy(update={"centers": topo.centers[1:], "links": topo.links[1:], "name": "small"})
    topology_store.import_topology(session, smaller, replace=True)
    back = topology_store.export_topology(session)
    assert back == smaller
    # storage tiers of the removed center went with it (ON DELETE CASCADE)
    assert session.scalars(select(StorageTierRow)).all() == []
    topology_store.import_topology(session, topo, replace=True)
    assert topology_store.export_topology(session) == topo


def test_merge_keeps_others_and_updates(session: Session, topo: Topology) -> None:
    c0 = topo.centers[0]
    changed = c0.model_copy(update={"operator": "new operator", "pools": c0.pools[:1]})
    part = topo.model_copy(update={"centers": [changed], "links": []})
    topology_store.import_topology(session, part, replace=False)
    back = topology_store.export_topology(session)
    assert [c.id for c in back.centers] == [c.id for c in topo.centers]
    assert back.center(c0.id).operator == "new operator"
    # merge never deletes: the second pool and the links are still there
    assert len(back.center(c0.id).pools) == 2
    assert len(back.links) == 2


def test_replace_refuses_to_drop_center_with_datasets(session: Session, topo: Topology) -> None:
    tenancy_svc.create_tenant(session, TenantCreate(id="acme", name="ACME"))
    datasets_svc.create_dataset(
        session, DatasetCreate(id="d1", tenant="acme", name="d", center="jn-sc", size_gb=5)
    )
    smaller = topo.model_copy(update={"centers": topo.centers[1:], "links": topo.links[1:]})
    with pytest.raises(ConflictError) as err:
        topology_store.import_topology(session, smaller, replace=True)
    assert "d1" in str(err.value)
    assert topology_store.export_topology(session) == topo  # rolled back


def test_list_filters_and_pagination(session: Session) -> None:
    page = network_svc.list_centers(session)
    assert page.total == 3 and [c.id for c in page.items] == ["jn-sc", "qd-ai", "yt-edge"]
    assert [c.id for c in network_svc.list_centers(session, region="jiaodong").items] == ["qd-ai", "yt-edge"]
    assert [c.id for c in network_svc.list_centers(session, city="jinan").items] == ["jn-sc"]
    assert [c.id for c in network_svc.list_centers(session, tier=CenterTier.EDGE).items] == ["yt-edge"]
    assert [c.id for c in network_svc.list_centers(session, kind=CenterKind.INTELLIGENT).items] == ["qd-ai"]
    second = network_svc.list_centers(session, limit=1, offset=1)
    assert (second.total, second.limit, second.offset, [c.id for c in second.items]) == (3, 1, 1, ["qd-ai"])
    assert network_svc.list_centers(session, offset=10).items == []
    assert [p.id for p in network_svc.list_pools(session, region="capital").items] == [
        "jn-sc-cpu",
        "jn-sc-dcu",
    ]
    assert [p.id for p in network_svc.list_pools(session, accelerator_class="npu").items] == ["qd-ai-910b"]
    assert network_svc.list_links(session, center="yt-edge").total == 1
    assert network_svc.list_cities(session, region="jiaodong").total == 2
    with pytest.raises(InvalidError):
        network_svc.list_centers(session, limit=0)
    with pytest.raises(InvalidError):
        network_svc.list_centers(session, limit=1001)


def test_region_city_crud(session: Session) -> None:
    network_svc.create_region(session, RegionCreate(id="lunan", name_zh="鲁南经济圈", name_en="Southern"))
    with pytest.raises(ConflictError) as dup:
        network_svc.create_region(session, RegionCreate(id="lunan", name_zh="x", name_en="x"))
    assert dup.value.errors[0].path == "id"
    with pytest.raises(InvalidError) as bad:
        network_svc.create_city(
            session,
            CityCreate(id="linyi", name_zh="临沂", name_en="Linyi", region="nowhere", lon=118, lat=35),
        )
    assert bad.value.errors[0].path == "region"
    city = network_svc.create_city(
        session, CityCreate(id="linyi", name_zh="临沂", name_en="Linyi", region="lunan", lon=118.35, lat=35.1)
    )
    assert city.region == "lunan"
    with pytest.raises(ConflictError):
        network_svc.delete_region(session, "lunan")  # still has a city
    moved = network_svc.update_city(session, "linyi", CityUpdate(lat=35.05))
    assert moved.lat == 35.05 and moved.lon == 118.35
    with pytest.raises(InvalidError) as lat:
        network_svc.update_city(session, "linyi", CityUpdate(lat=95))
    assert lat.value.errors[0].path == "lat"
    network_svc.delete_city(session, "linyi")
    network_svc.delete_region(session, "lunan")
    with pytest.raises(NotFoundError):
        network_svc.get_region(session, "lunan")
    # new items come after the imported ones in the exported file
    assert topology_store.export_topology(session).regions[-1].id == "jiaodong"


def test_center_and_pool_crud(session: Session, topo: Topology) -> None:
    new = topo.centers[2].model_copy(update={"id": "yt-2", "pools": [topo.centers[0].pools[0]]})
    from huanghe.network.schemas import CenterCreate

    with pytest.raises(ConflictError) as dup_pool:
        network_svc.create_center(session, CenterCreate.model_validate(new.model_dump()))
    assert dup_pool.value.errors[0].path == "pools[0].id"
    fresh_pool = new.pools[0].model_copy(update={"id": "yt-2-cpu"})
    created = network_svc.create_center(
        session, CenterCreate.model_validate(new.model_copy(update={"pools": [fresh_pool]}).model_dump())
    )
    assert [p.id for p in created.pools] == ["yt-2-cpu"]
    upd = network_svc.update_center(session, "yt-2", CenterUpdate(operator="op2", racks_in_use=None))
    assert upd.operator == "op2" and upd.energy == new.energy
    with pytest.raises(InvalidError) as level:
        network_svc.update_center(session, "yt-2", CenterUpdate(security_level=9))
    assert level.value.errors[0].path == "security_level"
    pool = network_svc.create_pool(
        session,
        PoolCreate.model_validate(
            {**fresh_pool.model_dump(), "id": "yt-2-big", "center": "yt-2", "nodes": 10}
        ),
    )
    assert pool.center == "yt-2"
    moved = network_svc.update_pool(session, "yt-2-big", PoolUpdate(center="qd-ai", nodes=12))
    assert (moved.center, moved.nodes) == ("qd-ai", 12)
    with pytest.raises(InvalidError) as neg:
        network_svc.update_pool(session, "yt-2-big", PoolUpdate(nodes=-1))
    assert neg.value.errors[0].path == "nodes"
    with pytest.raises(InvalidError):
        network_svc.update_pool(session, "yt-2-big", PoolUpdate(center="nowhere"))
    link = network_svc.create_link(session, LinkCreate(a="yt-2", b="jn-sc", bandwidth_gbps=10))
    with pytest.raises(ConflictError):
        network_svc.create_link(session, LinkCreate(a="jn-sc", b="yt-2", bandwidth_gbps=10))
    with pytest.raises(InvalidError) as same:
        network_svc.create_link(session, LinkCreate(a="yt-2", b="yt-2", bandwidth_gbps=10))
    assert same.value.errors[0].path == "b"
    assert network_svc.update_link(session, link.id, LinkUpdate(latency_ms=1.5)).latency_ms == 1.5
    network_svc.delete_center(session, "yt-2")  # cascades its pools and links
    with pytest.raises(NotFoundError):
        network_svc.get_pool(session, "yt-2-cpu")
    with pytest.raises(NotFoundError):
        network_svc.get_link(session, link.id)
    assert network_svc.get_pool(session, "yt-2-big").center == "qd-ai"


def test_tenants_users_datasets(session: Session) -> None:
    tenancy_svc.create_tenant(session, TenantCreate(id="acme", name="ACME", sector="manufacturing"))
    tenancy_svc.create_tenant(session, TenantCreate(id="uni", name="Uni", sector="research", is_sme=False))
    assert [t.id for t in tenancy_svc.list_tenants(session, sector="research").items] == ["uni"]
    with pytest.raises(InvalidError) as bad_user:
        tenancy_svc.create_user(session, UserCreate(id="bob", name="Bob", tenant="ghost"))
    assert bad_user.value.errors[0].path == "tenant"
    tenancy_svc.create_user(session, UserCreate(id="bob", name="Bob", tenant="acme"))
    tenancy_svc.create_user(session, UserCreate(id="reg", name="Regulator", role="regulator"))
    assert tenancy_svc.list_users(session, tenant="acme").total == 1
    assert tenancy_svc.list_users(session, role="regulator").items[0].tenant is None
    with pytest.raises(InvalidError) as bad_ds:
        datasets_svc.create_dataset(
            session,
            DatasetCreate(
                id="d1", tenant="acme", name="d", center="jn-sc", size_gb=1, replicas=["qd-ai", "zz"]
            ),
        )
    assert [e.path for e in bad_ds.value.errors] == ["replicas[1]"]
    ds = datasets_svc.create_dataset(
        session,
        DatasetCreate(id="d1", tenant="acme", name="d", center="jn-sc", size_gb=1, data_class="important"),
    )
    assert ds.data_class == "important"
    assert datasets_svc.update_dataset(session, "d1", DatasetUpdate(size_gb=2.5)).size_gb == 2.5
    with pytest.raises(ConflictError):
        network_svc.delete_center(session, "jn-sc")
    with pytest.raises(ConflictError):
        tenancy_svc.delete_tenant(session, "acme")
    datasets_svc.delete_dataset(session, "d1")
    tenancy_svc.delete_user(session, "bob")
    tenancy_svc.delete_tenant(session, "acme")
    assert topology_store.network_summary(session)["tenants"] == 1


def test_bundled_network_round_trip(session_factory: sessionmaker[Session]) -> None:
    """The shipped Shandong network survives the database unchanged (floats, enums, JSON, order)."""
    topo = load_topology("shandong-mini")
    with session_factory() as s:
        topology_store.import_topology(s, topo)
    with session_factory() as s:
        assert topology_store.export_topology(s) == topo
        assert topology_store.network_summary(s)["centers"] == len(topo.centers)


@pytest.mark.parametrize("replace", [True, False])
def test_import_moves_pool_between_centers(session: Session, topo: Topology, replace: bool) -> None:
    assert [p.id for p in network_svc.get_center(session, "yt-edge").pools] == []  # loads the collections
    moved = topo.centers[1].pools[0]
    centers = [
        topo.centers[0],
        topo.centers[1].model_copy(update={"pools": []}),
        topo.centers[2].model_copy(update={"pools": [moved]}),
    ]
    new = topo.model_copy(update={"centers": centers})
    topology_store.import_topology(session, new, replace=replace)
    assert [p.id for p in network_svc.get_center(session, "yt-edge").pools] == [moved.id]
    assert network_svc.get_center(session, "qd-ai").pools == []
    assert topology_store.export_topology(session) == new


def test_concurrent_writers(session_factory: sessionmaker[Session]) -> None:
    """Writers in 4 threads with their own sessions: no 'database is locked', every row stored."""
    from concurrent.futures import ThreadPoolExecutor

    def write(worker: int) -> int:
        with session_factory() as s:
            for i in range(15):
                tenancy_svc.create_tenant(s, TenantCreate(id=f"w{worker}-{i}", name=f"tenant {worker}/{i}"))
                tenancy_svc.list_tenants(s, limit=5)
        return worker

    with ThreadPoolExecutor(max_workers=4) as pool:
        assert sorted(pool.map(write, range(4))) == [0, 1, 2, 3]
    with session_factory() as s:
        assert tenancy_svc.list_tenants(s, limit=1).total == 60
