"""API: GET/PUT /api/v1/topology (JSON and YAML), path-named errors, and "never a 500 for bad input"."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from fastapi.testclient import TestClient

from huanghe.api.app import create_app
from huanghe.catalog.topology import load_topology, loads_topology
from huanghe.settings import Settings

API = "/api/v1"


def detail(r: Any) -> list[tuple[str, str]]:
    return [(d["path"], d["message"]) for d in r.json()["detail"]]


def test_get_before_import_is_404(api_client: TestClient) -> None:
    r = api_client.get(f"{API}/topology")
    assert r.status_code == 404
    assert "import" in r.json()["detail"][0]["message"]


def test_put_yaml_then_get_json_and_yaml(api_client: TestClient, mini_network_path: Path) -> None:
    topo = load_topology(mini_network_path)
    r = api_client.put(
        f"{API}/topology",
        content=mini_network_path.read_bytes(),
        headers={"content-type": "application/yaml"},
    )
    assert r.json() == {
        "name": "mini", "mode": "replace", "regions": 2, "cities": 3, "centers": 3, "pools": 3, "links": 2,
    }  # fmt: skip
    assert api_client.get(f"{API}/topology").json() == topo.model_dump(mode="json")
    y = api_client.get(f"{API}/topology?format=yaml")
    assert y.headers["content-type"].startswith("application/yaml")
    assert loads_topology(y.text) == topo
    assert api_client.get(f"{API}/topology?format=xml").status_code == 422


def test_put_json_replace_and_merge(api_client: TestClient, mini_network_path: Path) -> None:
    topo = load_topology(mini_network_path)
    doc = topo.model_dump(mode="json")
    assert api_client.put(f"{API}/topology", json=doc).status_code == 200
    small = {**doc, "centers": doc["centers"][:1], "links": []}
    r = api_client.put(f"{API}/topology?mode=merge", json=small)
    assert r.json()["mode"] == "merge"
    assert api_client.get(f"{API}/centers").json()["total"] == 3
    assert api_client.put(f"{API}/topology", json=small).json()["mode"] == "replace"
    assert api_client.get(f"{API}/centers").json()["total"] == 1
    assert api_client.get(f"{API}/links").json()["total"] == 0
    assert api_client.put(f"{API}/topology?mode=sideways", json=small).status_code == 422


def test_replace_refused_while_datasets_live_there(api_client: TestClient, mini_network_path: Path) -> None:
    doc = load_topology(mini_network_path).model_dump(mode="json")
    api_client.put(f"{API}/topology", json=doc)
    api_client.post(f"{API}/tenants", json={"id": "t", "name": "T"})
    api_client.post(
        f"{API}/datasets", json={"id": "d", "tenant": "t", "name": "d", "center": "yt-edge", "size_gb": 1}
    )
    r = api_client.put(
        f"{API}/topology", json={**doc, "centers": doc["centers"][:2], "links": doc["links"][:1]}
    )
    assert r.status_code == 409
    assert detail(r)[0][0] == "body.centers" and "'d'" in detail(r)[0][1]
    assert api_client.get(f"{API}/centers").json()["total"] == 3


def _bad_pool_doc(mini_network_path: Path) -> dict[str, Any]:
    doc: dict[str, Any] = yaml.safe_load(mini_network_path.read_text())
    doc["centers"][1]["pools"][0]["nodes"] = -1
    doc["centers"][0]["city"] = "atlantis"
    return doc


def test_invalid_document_names_paths(api_client: TestClient, mini_network_path: Path) -> None:
    doc = _bad_pool_doc(mini_network_path)
    r = api_client.put(f"{API}/topology", content=yaml.safe_dump(doc))
    assert r.status_code == 422
    assert ("body.centers[1].pools[0].nodes", "must be >= 0") in detail(r)
    doc["centers"][1]["pools"][0]["nodes"] = 1
    r = api_client.put(f"{API}/topology", json=doc)
    assert r.status_code == 422 and detail(r) == [("body.centers[0].city", "unknown city 'atlantis'")]
    assert api_client.get(f"{API}/topology").status_code == 404  # nothing was stored


@pytest.mark.parametrize(
    ("body", "ctype", "needle"),
    [
        (b"name: [unclosed", "application/yaml", "invalid YAML"),
        (b'{"name": ', "application/json", "invalid JSON"),
        (b"\xff\xfe\x00garbage", "application/yaml", "UTF-8"),
        (b"", "application/yaml", "empty body"),
        (b"- just\n- a list\n", "application/yaml", "mapping"),
        (b"42", "application/json", "mapping"),
        (b'{"name": "x", "regions": "many", "cities": 3}', "application/json", "must be a valid list"),
        (b"name: x\nregions: []\ncities: []\n", "text/plain", "at least 1"),
    ],
)
def test_unreadable_documents_are_4xx(api_client: TestClient, body: bytes, ctype: str, needle: str) -> None:
    r = api_client.put(f"{API}/topology", content=body, headers={"content-type": ctype})
    assert 400 <= r.status_code < 500, r.text
    assert needle in json.dumps(r.json(), ensure_ascii=False)


BAD_BODIES: list[Any] = [
    "{not json",
    "[]",
    "null",
    '"text"',
    "123",
    '{"id": 5}',
    '{"id": "UPPER case", "name_zh": "x", "name_en": "x"}',
    '{"id": "x", "name_zh": ["x"], "name_en": {"a": 1}}',
    '{"id": "x\\u0000y", "name_zh": "a\\u0000b", "name_en": "x"}',
    '{"lon": "east", "lat": 1e400, "nodes": 1e30, "size_gb": -1, "bandwidth_gbps": 0}',
    '{"a": "x", "b": "x", "bandwidth_gbps": "fast"}',
    '{"tenant": null, "center": 7, "replicas": "r", "energy": 3, "pools": [1]}',
]
ENDPOINTS = ["regions", "cities", "centers", "pools", "links", "tenants", "users", "datasets"]


@pytest.fixture
def any_db_client(db_url: str, mini_network_path: Path) -> Iterator[TestClient]:
    """A client on SQLite and on PostgreSQL (NUL bytes and huge numbers behave differently there)."""
    with TestClient(create_app(Settings(database_url=db_url)), raise_server_exceptions=False) as client:
        client.put(f"{API}/topology", content=mini_network_path.read_bytes())
        yield client


def test_garbage_never_gives_500(any_db_client: TestClient) -> None:
    client = any_db_client
    seen: set[int] = set()
    for name in ENDPOINTS:
        for body in BAD_BODIES:
            for method, url in (("POST", f"{API}/{name}"), ("PATCH", f"{API}/{name}/jn-sc")):
                r = client.request(method, url, content=body, headers={"content-type": "application/json"})
                assert 400 <= r.status_code < 500, (method, url, body, r.status_code, r.text)
                assert r.json()["detail"] and all({"path", "message"} <= set(d) for d in r.json()["detail"])
                seen.add(r.status_code)
        for query in ("limit=0", "offset=-5", "limit=1e3", "center=%00", "region=x%00y"):
            r = client.get(f"{API}/{name}?{query}")
            assert r.status_code in (200, 422), (name, query, r.text)
        for ident in ("%00", "a%00b", "x" * 300, "..", "%F0%9F%98%80"):
            r = client.get(f"{API}/{name}/{ident}")
            assert r.status_code in (404, 422), (name, ident, r.text)
    assert 422 in seen
    # a NUL byte inside an otherwise valid string is refused, not a crash
    r = client.post(f"{API}/tenants", json={"id": "nul", "name": "a\x00b"})
    assert r.status_code == 422, r.text  # names refuse control characters before the store (issue #11)
    assert r.json()["detail"][0]["path"] == "body.name"
    assert client.get("/healthz").json()["database"] == "ok"


def test_yaml_alias_bomb_is_refused_quickly(api_client: TestClient) -> None:
    lines = ["name: bomb", 'a0: &a0 ["x", "x", "x", "x", "x", "x", "x", "x", "x", "x"]']
    lines += [f"a{i}: &a{i} [{', '.join(f'*a{i - 1}' for _ in range(10))}]" for i in range(1, 9)]
    lines += ["regions: *a8", "cities: []"]
    r = api_client.put(f"{API}/topology", content="\n".join(lines))
    assert r.status_code == 422
    assert "aliases are expanded" in r.json()["detail"][0]["message"]


@pytest.mark.parametrize("doc", ["[" * 20000 + "]" * 20000, "a: &a [*a]\nname: x\n"])
@pytest.mark.parametrize("ctype", ["application/yaml", "application/json"])
def test_deep_or_cyclic_documents_are_4xx(api_client: TestClient, doc: str, ctype: str) -> None:
    r = api_client.put(f"{API}/topology", content=doc, headers={"content-type": ctype})
    assert r.status_code == 422, r.text
    r = api_client.post(f"{API}/regions", content=doc, headers={"content-type": ctype})
    assert 400 <= r.status_code < 500, r.text
