"""Data security: dataset isolation between tenants, the protection catalog (API + CLI), residency of every
copy (general anywhere that accepts it, important only to allowed centers, core deny-by-default)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from huanghe.cli.main import app as cli
from tests.security_support import World, world

API = "/api/v1"


@pytest.fixture
def w(tmp_path: Path) -> Iterator[World]:
    with world(f"sqlite:///{tmp_path / 'd.db'}") as wd:
        for center in ("qd-ai", "yt-edge"):  # let the other centers hold every class: only the rules decide
            r = wd.client.patch(f"{API}/centers/{center}", json={"allowed_data_classes": ["general", "important", "core"]},
                                headers=wd.h("admin"))  # fmt: skip
            assert r.status_code == 200, r.text
        yield wd


def _dataset(
    w: World, ds_id: str, data_class: str, allowed: list[str] | None = None, who: str = "tenant_user"
) -> None:
    body = {"id": ds_id, "tenant": "ta", "name": ds_id, "center": "jn-sc", "size_gb": 1, "data_class": data_class,
            "allowed_centers": allowed or []}  # fmt: skip
    r = w.client.post(f"{API}/datasets", json=body, headers=w.h(who))
    assert r.status_code == 201, r.text


def _copy(w: World, ds_id: str, center: str, who: str = "tenant_user") -> tuple[int, str]:
    r = w.client.post(f"{API}/datasets/{ds_id}/replicas", json={"center": center}, headers=w.h(who))
    return r.status_code, r.text


def test_datasets_of_another_tenant_are_404(w: World) -> None:
    assert w.client.get(f"{API}/datasets/ds-ta", headers=w.h("tenant_user")).status_code == 200
    for method in ("GET", "PATCH", "DELETE"):
        r = w.client.request(method, f"{API}/datasets/ds-ta", headers=w.h("tenant_user_b"),
                             json={"size_gb": 2} if method == "PATCH" else None)  # fmt: skip
        assert r.status_code == 404 and "ds-ta" in r.text and "size_gb" not in r.text, method
    assert _copy(w, "ds-ta", "qd-ai", who="tenant_user_b")[0] == 404
    listed = w.client.get(f"{API}/datasets?tenant=ta", headers=w.h("tenant_user_b")).json()
    assert [d["id"] for d in listed["items"]] == ["ds-tb"]
    users = w.client.get(f"{API}/users?tenant=tb", headers=w.h("tenant_admin"))
    assert users.status_code == 200 and users.json()["total"] == 0
    body = {"id": "x", "tenant": "tb", "name": "x", "center": "jn-sc", "size_gb": 1}
    assert w.client.post(f"{API}/datasets", json=body, headers=w.h("tenant_user")).status_code == 403
    assert w.client.get(f"{API}/tenants/tb", headers=w.h("tenant_user")).status_code == 404
    assert w.client.get(f"{API}/tenants/ta", headers=w.h("tenant_user")).status_code == 200


def test_general_data_goes_anywhere_that_accepts_it(w: World) -> None:
    assert _copy(w, "ds-ta", "qd-ai") == (201, _copy_body("ds-ta", ["qd-ai"]))
    status, text = _copy(w, "ds-ta", "qd-ai")
    assert status == 409 and "already has a copy" in text
    w.client.patch(f"{API}/centers/yt-edge", json={"allowed_data_classes": ["general"]}, headers=w.h("admin"))
    _dataset(w, "imp-x", "important", ["qd-ai", "yt-edge"])
    status, text = _copy(w, "imp-x", "yt-edge")
    assert status == 422 and "does not accept important" in text and '"path":"body.center"' in text


def _copy_body(ds: str, replicas: list[str]) -> str:
    import json

    return json.dumps({"dataset": ds, "replicas": replicas}, separators=(",", ":"))


def test_important_data_only_to_allowed_centers_and_catalog_overrides(w: World) -> None:
    _dataset(w, "imp", "important", ["qd-ai"])
    status, text = _copy(w, "imp", "yt-edge")
    assert status == 422 and "not an allowed location" in text
    assert _copy(w, "imp", "qd-ai")[0] == 201
    entry = {
        "dataset": "imp",
        "owner": "Tenant A",
        "allowed_centers": ["yt-edge"],
        "purpose": "model training",
    }
    assert w.client.post(f"{API}/protection", json=entry, headers=w.h("tenant_user")).status_code == 403
    r = w.client.post(f"{API}/protection", json=entry, headers=w.h("regulator"))
    assert r.status_code == 201 and r.json()["location"] == "jn-sc"
    assert _copy(w, "imp", "yt-edge")[0] == 201  # the catalog entry now lists yt-edge
    general = {**entry, "dataset": "ds-ta"}
    assert w.client.post(f"{API}/protection", json=general, headers=w.h("regulator")).status_code == 422
    page = w.client.get(f"{API}/protection?data_class=important", headers=w.h("regulator")).json()
    assert page["total"] == 1 and page["items"][0]["purpose"] == "model training"


def test_core_data_is_denied_by_default(w: World, tmp_path: Path) -> None:
    _dataset(w, "core-1", "core")
    for center in ("qd-ai", "yt-edge"):
        status, text = _copy(w, "core-1", center)
        assert status == 422 and "core data stays in its home center" in text
    _dataset(w, "core-2", "core", ["qd-ai"])
    assert _copy(w, "core-2", "qd-ai")[0] == 201 and _copy(w, "core-2", "yt-edge")[0] == 422
    w.client.post(f"{API}/protection", json={"dataset": "core-1", "owner": "A", "purpose": "grid control"},
                  headers=w.h("regulator"))  # fmt: skip
    r = CliRunner().invoke(cli, ["protection", "list", "--db", w.url, "--json"])
    assert r.exit_code == 0 and '"core-1"' in r.stdout and '"grid control"' in r.stdout


def test_patch_cannot_move_a_dataset_to_another_tenant(w: World) -> None:
    r = w.client.patch(f"{API}/datasets/ds-ta", json={"tenant": "tb"}, headers=w.h("tenant_user"))
    assert r.status_code == 403
    assert (
        w.client.patch(f"{API}/datasets/ds-ta", json={"size_gb": 3}, headers=w.h("tenant_user")).status_code
        == 200
    )


def test_replicas_in_create_and_patch_bodies_obey_residency(w: World) -> None:
    body = {"id": "core-3", "tenant": "ta", "name": "c", "center": "jn-sc", "size_gb": 1, "data_class": "core",
            "replicas": ["qd-ai"]}  # fmt: skip
    r = w.client.post(f"{API}/datasets", json=body, headers=w.h("admin"))
    assert r.status_code == 422 and r.json()["detail"][0]["path"] == "body.replicas[0]"
    ok = {**body, "allowed_centers": ["qd-ai"]}
    assert w.client.post(f"{API}/datasets", json=ok, headers=w.h("admin")).status_code == 201
    r = w.client.patch(
        f"{API}/datasets/core-3", json={"replicas": ["qd-ai", "yt-edge"]}, headers=w.h("tenant_user")
    )
    assert r.status_code == 422 and r.json()["detail"][0]["path"] == "body.replicas[1]"
    assert (
        w.client.patch(
            f"{API}/datasets/ds-ta", json={"replicas": ["yt-edge"]}, headers=w.h("tenant_user")
        ).status_code
        == 200
    )
