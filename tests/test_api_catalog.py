"""API: every catalog endpoint's happy path, filters, pagination bounds, 404 / 409 / 422 with field paths."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

API = "/api/v1"


@pytest.fixture
def client(api_client: TestClient, mini_network_path: Path) -> TestClient:
    r = api_client.put(f"{API}/topology", content=mini_network_path.read_bytes())
    assert r.status_code == 200, r.text
    return api_client


def paths(r: Any) -> list[str]:
    return [d["path"] for d in r.json()["detail"]]


def test_healthz_and_docs(api_client: TestClient) -> None:
    assert api_client.get("/healthz").json() == {"status": "ok", "database": "ok", "version": "0.1.0"}
    assert api_client.get("/docs").status_code == 200
    spec = api_client.get("/openapi.json").json()
    for name in (
        "regions",
        "cities",
        "centers",
        "pools",
        "links",
        "tenants",
        "users",
        "datasets",
        "topology",
    ):
        assert f"{API}/{name}" in spec["paths"]
    assert "CenterCreate" in spec["components"]["schemas"]


def test_list_shape_filters_and_pagination(client: TestClient) -> None:
    body = client.get(f"{API}/centers").json()
    assert set(body) == {"items", "total", "limit", "offset"}
    assert (body["total"], body["limit"], body["offset"]) == (3, 100, 0)
    assert body["items"][0]["pools"][0]["id"] == "jn-sc-cpu"
    ids = lambda url: [i["id"] for i in client.get(url).json()["items"]]  # noqa: E731
    assert ids(f"{API}/centers?region=jiaodong") == ["qd-ai", "yt-edge"]
    assert ids(f"{API}/centers?city=jinan") == ["jn-sc"]
    assert ids(f"{API}/centers?tier=edge") == ["yt-edge"]
    assert ids(f"{API}/centers?kind=intelligent&region=jiaodong") == ["qd-ai"]
    assert ids(f"{API}/centers?operator=telecom") == ["qd-ai"]
    assert ids(f"{API}/centers?limit=2&offset=1") == ["qd-ai", "yt-edge"]
    assert ids(f"{API}/pools?center=jn-sc") == ["jn-sc-cpu", "jn-sc-dcu"]
    assert ids(f"{API}/pools?accelerator_class=npu") == ["qd-ai-910b"]
    assert ids(f"{API}/pools?backend=slurm&city=jinan") == ["jn-sc-cpu", "jn-sc-dcu"]
    assert ids(f"{API}/cities?region=jiaodong") == ["qingdao", "yantai"]
    assert ids(f"{API}/regions") == ["capital", "jiaodong"]
    assert client.get(f"{API}/links?center=yt-edge").json()["total"] == 1
    page = client.get(f"{API}/pools?limit=1&offset=2").json()
    assert (page["total"], page["limit"], page["offset"], len(page["items"])) == (3, 1, 2, 1)
    assert client.get(f"{API}/centers?limit=1000&offset=999999").json()["items"] == []


@pytest.mark.parametrize(
    ("query", "path"),
    [
        ("limit=0", "query.limit"),
        ("limit=1001", "query.limit"),
        ("limit=99999999999999999999", "query.limit"),
        ("limit=abc", "query.limit"),
        ("offset=-1", "query.offset"),
        ("offset=10000000000000", "query.offset"),
        ("tier=galactic", "query.tier"),
        ("city=Bad%20Id", "query.city"),
        ("operator=a%00b", "query.operator"),
    ],
)
def test_bad_query_is_422_with_path(client: TestClient, query: str, path: str) -> None:
    r = client.get(f"{API}/centers?{query}")
    assert r.status_code == 422
    assert paths(r) == [path]


def test_regions_and_cities_crud(client: TestClient) -> None:
    r = client.post(f"{API}/regions", json={"id": "lunan", "name_zh": "鲁南经济圈", "name_en": "Southern"})
    assert r.status_code == 201 and r.json()["id"] == "lunan"
    dup = client.post(f"{API}/regions", json={"id": "lunan", "name_zh": "x", "name_en": "x"})
    assert dup.status_code == 409 and paths(dup) == ["body.id"]
    city = {
        "id": "linyi",
        "name_zh": "临沂",
        "name_en": "Linyi",
        "region": "nowhere",
        "lon": 118.3,
        "lat": 35.1,
    }
    bad = client.post(f"{API}/cities", json=city)
    assert bad.status_code == 422 and paths(bad) == ["body.region"]
    assert "nowhere" in bad.json()["detail"][0]["message"]
    assert client.post(f"{API}/cities", json={**city, "region": "lunan"}).status_code == 201
    assert client.get(f"{API}/cities/linyi").json()["region"] == "lunan"
    r = client.patch(f"{API}/cities/linyi", json={"name_en": "Linyi City"})
    assert r.status_code == 200 and r.json()["name_en"] == "Linyi City" and r.json()["lat"] == 35.1
    bad_lat = client.patch(f"{API}/cities/linyi", json={"lat": 91})
    assert bad_lat.status_code == 422 and paths(bad_lat) == ["body.lat"]
    assert bad_lat.json()["detail"][0]["message"] == "must be <= 90"
    unknown = client.patch(f"{API}/cities/linyi", json={"population": 1})
    assert unknown.status_code == 422 and paths(unknown) == ["body.population"]
    used = client.delete(f"{API}/regions/lunan")
    assert used.status_code == 409 and "cities" in used.json()["detail"][0]["message"]
    assert client.delete(f"{API}/cities/linyi").status_code == 204
    assert client.patch(f"{API}/regions/lunan", json={"name_en": "Lunan"}).json()["name_en"] == "Lunan"
    assert client.delete(f"{API}/regions/lunan").status_code == 204
    assert client.get(f"{API}/regions/lunan").status_code == 404


def test_centers_pools_links_crud(client: TestClient) -> None:
    center = client.get(f"{API}/centers/yt-edge").json()
    new = {**center, "id": "yt-2", "name_en": "Yantai 2"}
    r = client.post(f"{API}/centers", json=new)
    assert r.status_code == 201 and r.json()["pools"] == []
    bad_pool = {
        **client.get(f"{API}/pools/jn-sc-cpu").json(),
        "id": "yt-2-cpu",
        "center": "yt-2",
        "nodes": -4,
    }
    r = client.post(f"{API}/pools", json=bad_pool)
    assert (
        r.status_code == 422
        and paths(r) == ["body.nodes"]
        and r.json()["detail"][0]["message"] == "must be >= 0"
    )
    r = client.post(f"{API}/pools", json={**bad_pool, "nodes": 4})
    assert r.status_code == 201 and r.json()["center"] == "yt-2"
    assert client.post(f"{API}/pools", json={**bad_pool, "nodes": 4}).status_code == 409
    r = client.patch(f"{API}/pools/yt-2-cpu", json={"price_cny_per_hour": 7.5, "speed": {"cpu": 1.3}})
    assert r.json()["price_cny_per_hour"] == 7.5 and r.json()["speed"] == {"cpu": 1.3}
    r = client.patch(f"{API}/centers/yt-2", json={"energy": {"pue": 1.2, "renewable_share": 0.4}})
    assert r.status_code == 200 and r.json()["energy"]["pue"] == 1.2
    r = client.patch(f"{API}/centers/yt-2", json={"energy": {"pue": 0.7}})
    assert r.status_code == 422 and paths(r) == ["body.energy.pue"]
    r = client.patch(f"{API}/centers/yt-2", json={"city": "atlantis"})
    assert r.status_code == 422 and paths(r) == ["body.city"]
    link = client.post(f"{API}/links", json={"a": "yt-2", "b": "yt-edge", "bandwidth_gbps": 10})
    assert link.status_code == 201
    link_id = link.json()["id"]
    rev = client.post(f"{API}/links", json={"a": "yt-edge", "b": "yt-2", "bandwidth_gbps": 10})
    assert rev.status_code == 409 and paths(rev) == ["body.b"]
    assert client.patch(f"{API}/links/{link_id}", json={"latency_ms": 0.8}).json()["latency_ms"] == 0.8
    assert client.get(f"{API}/links/{link_id}").json()["a"] == "yt-2"
    assert client.delete(f"{API}/centers/yt-2").status_code == 204
    assert client.get(f"{API}/pools/yt-2-cpu").status_code == 404
    assert client.get(f"{API}/links/{link_id}").status_code == 404
    assert client.delete(f"{API}/pools/jn-sc-dcu").status_code == 204
    assert client.delete(f"{API}/links/1").status_code == 204
    assert client.get(f"{API}/links/99999999999").status_code == 422


def test_tenants_users_datasets_crud(client: TestClient) -> None:
    assert (
        client.post(f"{API}/tenants", json={"id": "acme", "name": "ACME", "sector": "auto"}).status_code
        == 201
    )
    assert client.get(f"{API}/tenants?sector=auto").json()["total"] == 1
    assert client.patch(f"{API}/tenants/acme", json={"is_sme": False}).json()["is_sme"] is False
    r = client.post(f"{API}/users", json={"id": "bob", "name": "Bob", "tenant": "ghost"})
    assert r.status_code == 422 and paths(r) == ["body.tenant"]
    assert client.post(f"{API}/users", json={"id": "bob", "name": "Bob", "tenant": "acme"}).status_code == 201
    assert client.get(f"{API}/users?tenant=acme").json()["items"][0]["id"] == "bob"
    assert client.patch(f"{API}/users/bob", json={"role": "admin"}).json()["role"] == "admin"
    ds = {"id": "d1", "tenant": "acme", "name": "logs", "center": "qd-ai", "size_gb": 10, "replicas": ["x"]}
    r = client.post(f"{API}/datasets", json=ds)
    assert r.status_code == 422 and paths(r) == ["body.replicas[0]"]
    r = client.post(f"{API}/datasets", json={**ds, "replicas": ["jn-sc"], "data_class": "core"})
    assert r.status_code == 201 and r.json()["data_class"] == "core"
    assert client.get(f"{API}/datasets?data_class=core&center=qd-ai").json()["total"] == 1
    assert client.get(f"{API}/datasets?data_class=general").json()["total"] == 0
    assert client.patch(f"{API}/datasets/d1", json={"temperature": "cold"}).json()["temperature"] == "cold"
    assert client.get(f"{API}/datasets/d1").json()["replicas"] == ["jn-sc"]
    assert client.delete(f"{API}/centers/qd-ai").status_code == 409
    assert client.delete(f"{API}/tenants/acme").status_code == 409
    for url in (f"{API}/datasets/d1", f"{API}/users/bob", f"{API}/tenants/acme"):
        assert client.delete(url).status_code == 204
        assert client.get(url).status_code == 404


@pytest.mark.parametrize("kind", ["regions", "cities", "centers", "pools", "tenants", "users", "datasets"])
def test_unknown_ids_are_404(client: TestClient, kind: str) -> None:
    for method in ("GET", "DELETE"):
        r = client.request(method, f"{API}/{kind}/nope")
        assert r.status_code == 404
        assert r.json()["detail"][0]["message"].endswith("'nope' not found")
    assert client.patch(f"{API}/{kind}/nope", json={}).status_code == 404


def test_unknown_route_and_method(client: TestClient) -> None:
    r = client.get(f"{API}/galaxies")
    assert r.status_code == 404 and r.json()["detail"][0]["path"] == ""
    assert client.put(f"{API}/centers/jn-sc", json={}).status_code == 405


def test_malformed_ids_are_422_with_path(client: TestClient) -> None:
    r = client.get(f"{API}/centers/Bad%20Id")
    assert r.status_code == 422 and paths(r) == ["path.item_id"]
    r = client.get(f"{API}/links/abc")
    assert r.status_code == 422 and paths(r) == ["path.item_id"]


def test_database_down_is_503_not_500() -> None:
    from huanghe.api.app import create_app
    from huanghe.settings import Settings
    from tests.infra.ports import refused_url

    with refused_url() as dead:  # bound, not listening: refused, and no other process can take the port
        url = dead.replace("http://", "postgresql+psycopg://postgres@") + "/none?connect_timeout=2"
        app = create_app(Settings(database_url=url, migrate_on_startup=False))
        with TestClient(app) as client:
            r = client.get("/healthz")
            assert r.status_code == 503 and r.json()["status"] == "degraded"
            assert r.json()["database"].startswith("error: ")
            r = client.get(f"{API}/centers")
            assert r.status_code == 503 and r.headers["Retry-After"] == "2"
            assert r.json()["detail"][0]["message"].startswith("database unavailable, retry later")


def test_patch_nested_objects_field_by_field(client: TestClient) -> None:
    before = client.get(f"{API}/centers/jn-sc").json()["energy"]
    r = client.patch(f"{API}/centers/jn-sc", json={"energy": {"pue": 1.18}})
    assert r.json()["energy"] == {**before, "pue": 1.18}
    r = client.patch(f"{API}/pools/jn-sc-dcu", json={"peak_tflops_per_node": {"fp16": 170}})
    assert r.json()["peak_tflops_per_node"] == {"fp64": 40, "fp32": 40, "fp16": 170, "int8": 320}
    r = client.patch(f"{API}/centers/jn-sc", json={"energy": {"renewable_share": 1.5}})
    assert r.status_code == 422 and paths(r) == ["body.energy.renewable_share"]
    r = client.patch(f"{API}/centers/jn-sc", json={"energy": {"pue": None}})
    assert r.status_code == 422 and paths(r) == ["body.energy.pue"]


def test_no_page_loads_from_a_cdn(api_client: TestClient) -> None:
    """ReDoc would fetch its script from a CDN: it is switched off; /docs is served from vendored files."""
    assert api_client.get("/redoc").status_code == 404
