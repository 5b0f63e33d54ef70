"""``/api/v1/transfers`` and ``huanghe data transfers``: tenants see and retry only their own transfers (another
tenant's answers exactly like an unknown one), platform roles see all; filters, pages, exit codes."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from huanghe.audit.chain import catch_up
from huanghe.audit.models import AuditRow
from huanghe.cli.main import app as cli
from huanghe.data.models import DataFileRow, StorageEndpointRow, TransferRow
from tests.infra.ports import ThreadedUvicorn
from tests.security_support import World, world

API = "/api/v1"


def _seed(w: World) -> dict[str, int]:
    """Endpoints and, per tenant, one done and one failed transfer (rows only: no object store needed)."""
    ids: dict[str, int] = {}
    with w.session() as s:
        for eid, center in (("jn-sc-hot", "jn-sc"), ("qd-ai-hot", "qd-ai")):
            s.add(StorageEndpointRow(id=eid, center_id=center, temperature="hot", medium="flash",
                                     url="http://127.0.0.1:1", bucket="b-x", capacity_bytes=10**12, used_bytes=0,
                                     available=True, reason="", attributes={}, created_s=0.0))  # fmt: skip
        for tenant in ("ta", "tb"):
            f = DataFileRow(dataset_id=f"ds-{tenant}", name=f"{tenant}.bin", size_bytes=10, sha256="0" * 64,
                            state="available", created_s=0.0, accessed_s=0.0)  # fmt: skip
            s.add(f)
            s.flush()
            for state in ("done", "failed"):
                t = TransferRow(file_id=f.id, tenant_id=tenant, dest_endpoint_id="qd-ai-hot", state=state,
                                source_endpoint_id="jn-sc-hot", priority=3, attempts=3, max_attempts=3,
                                tried_sources=["jn-sc-hot"], bytes=10 if state == "done" else 0, created_s=1.0,
                                cost_fen=0, energy_wh=0.0, carbon_g=0.0,
                                error="" if state == "done" else "source does not answer")  # fmt: skip
                s.add(t)
                s.flush()
                ids[f"{tenant}-{state}"] = t.id
        s.commit()
    return ids


@pytest.fixture
def w(tmp_path: Path) -> Iterator[tuple[World, dict[str, int]]]:
    with world(f"sqlite:///{tmp_path / 'tr.db'}") as wd:
        yield wd, _seed(wd)


def test_tenants_list_only_their_own_platform_roles_all(w: tuple[World, dict[str, int]]) -> None:
    wd, ids = w
    for who, tenant in (("tenant_user", "ta"), ("tenant_admin", "ta"), ("tenant_user_b", "tb")):
        for query in ("", "?tenant=ta", "?tenant=tb"):  # asking for another tenant changes nothing
            r = wd.client.get(f"{API}/transfers{query}", headers=wd.h(who))
            assert r.status_code == 200, r.text
            assert {t["tenant"] for t in r.json()["items"]} == {tenant} and r.json()["total"] == 2
    for who in ("admin", "regulator", "operator"):
        r = wd.client.get(f"{API}/transfers", headers=wd.h(who))
        assert r.status_code == 200 and r.json()["total"] == 4
        assert all("lease" not in k for k in r.json()["items"][0])  # worker host names stay inside
    r = wd.client.get(
        f"{API}/transfers?state=failed&dataset=ds-tb&endpoint=jn-sc-hot&limit=1", headers=wd.h("admin")
    )
    assert [t["id"] for t in r.json()["items"]] == [ids["tb-failed"]] and r.json()["limit"] == 1
    assert wd.client.get(f"{API}/transfers?state=lost", headers=wd.h("admin")).status_code == 422
    assert wd.client.get(f"{API}/transfers", headers=wd.h("anon")).status_code == 401


def test_another_tenants_transfer_answers_like_an_unknown_one(w: tuple[World, dict[str, int]]) -> None:
    wd, ids = w
    own = wd.client.get(f"{API}/transfers/{ids['ta-done']}", headers=wd.h("tenant_user"))
    assert own.status_code == 200 and own.json()["file"] == "ta.bin" and own.json()["bytes"] == 10
    theirs = wd.client.get(f"{API}/transfers/{ids['tb-done']}", headers=wd.h("tenant_user"))
    unknown = wd.client.get(f"{API}/transfers/999999", headers=wd.h("tenant_user"))
    assert theirs.status_code == unknown.status_code == 404
    assert theirs.text.replace(str(ids["tb-done"]), "N") == unknown.text.replace("999999", "N")
    assert "tb.bin" not in theirs.text
    retry = wd.client.post(f"{API}/transfers/{ids['tb-failed']}/retry", headers=wd.h("tenant_user"))
    assert retry.status_code == 404
    for bad in ("abc", "0", "-1", "99999999999"):
        assert wd.client.get(f"{API}/transfers/{bad}", headers=wd.h("tenant_user")).status_code == 422
    with wd.session() as s:
        assert s.get(TransferRow, ids["tb-failed"]).state == "failed"  # type: ignore[union-attr]


def test_retry_own_failed_transfer_audited_and_only_when_failed(w: tuple[World, dict[str, int]]) -> None:
    wd, ids = w
    for who in ("regulator", "operator"):
        assert (
            wd.client.post(f"{API}/transfers/{ids['ta-failed']}/retry", headers=wd.h(who)).status_code == 403
        )
    r = wd.client.post(f"{API}/transfers/{ids['ta-failed']}/retry", headers=wd.h("tenant_user"))
    assert r.status_code == 200, r.text
    assert (r.json()["state"], r.json()["attempts"], r.json()["tried_sources"]) == ("queued", 0, [])
    again = wd.client.post(f"{API}/transfers/{ids['ta-failed']}/retry", headers=wd.h("tenant_user"))
    done = wd.client.post(f"{API}/transfers/{ids['ta-done']}/retry", headers=wd.h("admin"))
    assert again.status_code == done.status_code == 409 and "only a failed transfer" in done.text
    with wd.session() as s:
        catch_up(s)  # entries written to the inbox (PostgreSQL) are chained first, as every reader does
        rec = s.query(AuditRow).filter(AuditRow.action == "transfer.retry").all()
    assert [a.subject for a in rec] == [f"transfer/{ids['ta-failed']}"] and rec[0].actor.startswith(
        "tenant_user:"
    )


@pytest.fixture
def served(w: tuple[World, dict[str, int]], monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, int]]:
    wd, ids = w
    with ThreadedUvicorn(wd.app, lifespan="off") as server:  # its socket bound before it starts
        monkeypatch.setenv("HUANGHE_URL", server.url)
        monkeypatch.setenv("HUANGHE_TOKEN", wd.tokens["tenant_user"])
        yield ids


def test_cli_lists_shows_and_retries_through_the_typed_client(served: dict[str, int]) -> None:
    ids = served
    r = CliRunner().invoke(cli, ["data", "transfers", "--json"])
    assert r.exit_code == 0, r.output
    page = json.loads(r.output)
    assert {t["tenant"] for t in page["items"]} == {"ta"} and page["total"] == 2
    r = CliRunner().invoke(cli, ["data", "transfers", "--state", "failed", "--json"])
    assert [t["id"] for t in json.loads(r.output)["items"]] == [ids["ta-failed"]]
    r = CliRunner().invoke(cli, ["data", "transfers"])
    assert r.exit_code == 0 and "transfers 数据传输 (2 total)" in r.output
    assert CliRunner().invoke(cli, ["data", "transfers", "--state", "lost"]).exit_code == 2
    r = CliRunner().invoke(cli, ["data", "transfer", str(ids["tb-done"])])
    assert r.exit_code == 1 and "not found" in r.output
    r = CliRunner().invoke(cli, ["data", "transfer-retry", str(ids["ta-failed"])])
    assert r.exit_code == 0 and "queued again" in r.output
    r = CliRunner().invoke(cli, ["data", "transfer-retry", str(ids["ta-done"])])
    assert r.exit_code == 1 and "only a failed transfer" in r.output
