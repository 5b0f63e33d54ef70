"""The key-project registry (新基建重点项目库): operators file on their centers, the regulator reviews and
approves, the operator builds and runs; invalid transitions 409, wrong role 403; CLI."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from huanghe.cli.main import app as cli
from tests.security_support import World, world

API = "/api/v1"
PROJECT = {"id": "qd-ai-2", "name": "青岛智算二期", "operator": "telecom", "centers": ["qd-ai"],
           "investment_cny": "1200000000.00"}  # fmt: skip


@pytest.fixture
def w(tmp_path: Path) -> Iterator[World]:
    with world(f"sqlite:///{tmp_path / 'p.db'}") as wd:
        yield wd


def _move(w: World, to: str, who: str, pid: str = "qd-ai-2") -> tuple[int, str]:
    r = w.client.post(f"{API}/projects/{pid}/transition", json={"to": to}, headers=w.h(who))
    return r.status_code, r.text


def test_workflow_roles_and_invalid_transitions(w: World) -> None:
    r = w.client.post(f"{API}/projects", json=PROJECT, headers=w.h("operator"))
    assert r.status_code == 201 and r.json()["status"] == "filed", r.text
    assert w.client.post(f"{API}/projects", json=PROJECT, headers=w.h("operator")).status_code == 409
    assert _move(w, "approved", "regulator")[0] == 409  # skipping a step
    status, text = _move(w, "reviewed", "operator")
    assert status == 403 and "regulator" in text  # operators do not review their own filing
    assert _move(w, "reviewed", "regulator")[0] == 200
    assert _move(w, "approved", "regulator")[0] == 200
    assert _move(w, "building", "regulator")[0] == 403
    assert _move(w, "building", "operator")[0] == 200
    status, text = _move(w, "filed", "admin")
    assert status == 409 and "next is operating" in text
    assert _move(w, "operating", "operator")[0] == 200
    status, text = _move(w, "operating", "admin")
    assert status == 409 and "final" in text
    page = w.client.get(f"{API}/projects?status=operating", headers=w.h("regulator")).json()
    assert page["total"] == 1 and page["items"][0]["investment_cny"] == "1200000000.00"
    assert w.client.get(f"{API}/projects", headers=w.h("tenant_user")).status_code == 403
    trail = w.client.get(f"{API}/audit?action=project.transition", headers=w.h("regulator")).json()
    assert [x["payload"]["to"] for x in trail["items"]] == ["reviewed", "approved", "building", "operating"]


def test_operators_only_on_their_centers(w: World) -> None:
    other = {**PROJECT, "id": "jn-x", "centers": ["jn-sc"]}
    r = w.client.post(f"{API}/projects", json=other, headers=w.h("operator"))
    assert r.status_code == 403 and r.json()["detail"][0]["path"] == "body.centers[0]"
    assert w.client.post(f"{API}/projects", json=other, headers=w.h("admin")).status_code == 201
    assert w.client.get(f"{API}/projects/jn-x", headers=w.h("operator")).status_code == 404
    assert _move(w, "reviewed", "operator", "jn-x")[0] == 404
    assert w.client.get(f"{API}/projects", headers=w.h("operator")).json()["total"] == 0
    bad = {**PROJECT, "id": "y", "centers": ["nowhere"]}
    r = w.client.post(f"{API}/projects", json=bad, headers=w.h("admin"))
    assert r.status_code == 422 and r.json()["detail"][0]["path"] == "body.centers[0]"


def test_cli_file_advance_list(w: World) -> None:
    runner = CliRunner()
    r = runner.invoke(cli, ["projects", "file", "--id", "p1", "--name", "P1", "--operator", "telecom",
                            "--center", "qd-ai", "--investment-cny", "10", "--db", w.url])  # fmt: skip
    assert r.exit_code == 0, r.output
    assert runner.invoke(cli, ["projects", "advance", "p1", "--to", "reviewed", "--db", w.url]).exit_code == 0
    bad = runner.invoke(cli, ["projects", "advance", "p1", "--to", "operating", "--db", w.url])
    assert bad.exit_code == 1 and "cannot go from reviewed to operating" in bad.output
    listed = runner.invoke(cli, ["projects", "list", "--db", w.url, "--json"])
    assert '"reviewed"' in listed.stdout
