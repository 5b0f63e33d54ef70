"""Storage endpoints and data quotas on real SeaweedFS servers: sync from the network's storage tiers, keys
as secrets, health checks, the attribute table of rule expressions, quotas, and the REST API with
authentication on (attackers first: a tenant reads no connection, changes nothing, sees no other quota)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import select
from sqlalchemy.orm import Session

from huanghe.audit.models import AuditRow
from huanghe.core.clock import FakeClock
from huanghe.core.errors import ConflictError, InvalidError
from huanghe.data import endpoint_sync, endpoints, quotas
from huanghe.data.endpoint_schemas import EndpointCreate, EndpointUpdate, QuotaPut
from huanghe.data.endpoint_table import load_endpoints
from huanghe.data.expression import parse
from huanghe.data.models import DataFileRow, FileReplicaRow
from huanghe.data.objects import EndpointAccess, ObjectStore
from huanghe.network import secrets
from huanghe.network.models import StorageTierRow
from huanghe.network.schemas import SecretPut
from tests.infra.ports import refused_url
from tests.infra.seaweed import SeaweedServer, unique_bucket
from tests.security_support import World, world

API = "/api/v1"
TB = 10**12


@pytest.fixture(scope="module")
def w(tmp_path_factory: pytest.TempPathFactory, seaweed_servers: list[SeaweedServer]) -> Iterator[World]:
    """Mini network + a hot flash and a hot HDD tier in qd-ai (jiaodong circle); endpoints synced: the
    capital circle on server 0, jiaodong on server 1, keys stored as secrets."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(secrets.KEY_ENV, Fernet.generate_key().decode())
        mp.setenv("HUANGHE_DATA_DIR", str(tmp_path_factory.mktemp("data")))
        with world(f"sqlite:///{tmp_path_factory.mktemp('ep') / 'e.db'}") as wd:
            with wd.session() as s:
                s.add_all([
                    StorageTierRow(center_id="qd-ai", medium="flash", temperature="hot", capacity_tb=1, used_tb=0,
                                   position=0),
                    StorageTierRow(center_id="qd-ai", medium="hdd", temperature="hot", capacity_tb=3, used_tb=0,
                                   position=1),
                ])  # fmt: skip
                s.commit()
                servers = {}
                for circle, server in zip(("capital", "jiaodong"), seaweed_servers, strict=True):
                    for part, value in (("access", server.access_key), ("secret", server.secret_key)):
                        secrets.put_secret(s, f"s3-{circle}-{part}", SecretPut(value=value))
                    servers[circle] = endpoints.S3Server(
                        server.s3_url, unique_bucket("ep"), f"s3-{circle}-access", f"s3-{circle}-secret"
                    )
                    ObjectStore(endpoints.access_of_server(s, servers[circle])).ensure_bucket()
                summary = endpoint_sync.sync_endpoints(s, servers, clock=FakeClock(1000.0))
                assert summary.created == ["jn-sc-hot", "jn-sc-cold", "qd-ai-hot-flash", "qd-ai-hot-hdd"]
                changes = endpoints.check_endpoints(s, FakeClock(1001.0))
                assert {c.id for c in changes if c.healthy} == set(summary.created)
            yield wd


def _replica(s: Session, dataset: str, name: str, endpoint_id: str, size: int) -> int:
    f = DataFileRow(dataset_id=dataset, name=name, size_bytes=size, sha256="0" * 64, state="available",
                    created_s=0.0, accessed_s=0.0)  # fmt: skip
    s.add(f)
    s.flush()
    s.add(FileReplicaRow(file_id=f.id, endpoint_id=endpoint_id, state="available", size_bytes=size,
                         object_key=endpoints.object_key(endpoint_id, dataset, name), created_s=0.0,
                         accessed_s=0.0))  # fmt: skip
    s.commit()
    return f.id


def test_sync_makes_one_endpoint_per_tier_and_is_idempotent(
    w: World, seaweed_servers: list[SeaweedServer]
) -> None:
    with w.session() as s:
        page = endpoints.list_endpoints(s, with_connection=True)
        by_id = {e.id: e for e in page.items}
        assert page.total == 4
        assert by_id["jn-sc-hot"].capacity_bytes == 2000 * TB and by_id["jn-sc-cold"].medium == "tape"
        assert by_id["qd-ai-hot-hdd"].capacity_bytes == 3 * TB and by_id["qd-ai-hot-hdd"].circle == "jiaodong"
        assert by_id["jn-sc-hot"].connection is not None
        assert by_id["jn-sc-hot"].connection.url == seaweed_servers[0].s3_url
        assert by_id["qd-ai-hot-flash"].connection is not None
        assert by_id["qd-ai-hot-flash"].connection.url == seaweed_servers[1].s3_url
        assert all(e.available and e.reason == "" and e.checked_s == 1001.0 for e in page.items)
        servers = {
            c: endpoints.S3Server(by_id[e].connection.url, by_id[e].connection.bucket,  # type: ignore[union-attr]
                                  f"s3-{c}-access", f"s3-{c}-secret")
            for c, e in (("capital", "jn-sc-hot"), ("jiaodong", "qd-ai-hot-hdd"))
        }  # fmt: skip
        again = endpoint_sync.sync_endpoints(s, servers, clock=FakeClock(2000.0))
        assert again.created == [] and again.updated == [] and len(again.unchanged) == 4
        only_capital = endpoint_sync.sync_endpoints(
            s, {"capital": servers["capital"]}, clock=FakeClock(2000.0)
        )
        assert only_capital.skipped == ["qd-ai-hot-flash", "qd-ai-hot-hdd"]


def test_secrets_of_endpoints_cannot_be_deleted(w: World) -> None:
    with w.session() as s:
        with pytest.raises(ConflictError, match="storage_endpoints:jn-sc-hot"):
            secrets.delete_secret(s, "s3-capital-access")
        assert "storage_endpoints:qd-ai-hot-hdd" in secrets.get_secret(s, "s3-jiaodong-secret").used_by


def test_store_of_reaches_the_bucket_with_the_stored_keys_and_keys_are_prefixed(w: World) -> None:
    with w.session() as s:
        hot, cold = endpoints.store_of(s, "jn-sc-hot"), endpoints.store_of(s, "jn-sc-cold")
        assert endpoints.store_of(s, "jn-sc-hot") is hot  # cached per process
        assert hot.access.bucket == cold.access.bucket  # one bucket per server, keys prefixed by endpoint
        key = endpoints.object_key("jn-sc-hot", "ds-ta", "dir/a.txt")
        hot.put_bytes(key, b"hello")
        assert key.startswith("jn-sc-hot/") and list(cold.keys("jn-sc-cold/")) == []
        info = endpoints.store_of(s, "jn-sc-hot").checksum(key)
        assert info is not None and info.size_bytes == 5
        assert "secret_key" not in repr(endpoints.access_of(endpoints.require_endpoint(s, "jn-sc-hot")))


def test_health_check_pings_once_per_server_and_audits_changes(
    w: World, monkeypatch: pytest.MonkeyPatch, seaweed_servers: list[SeaweedServer]
) -> None:
    calls: list[str] = []
    real = endpoints._ping

    def counting(access: EndpointAccess, key: str) -> str:
        calls.append(access.url)
        return real(access, key)

    monkeypatch.setattr(endpoints, "_ping", counting)
    with w.session() as s, refused_url() as dead_url:  # bound, not listening: no other process can take it
        dead = EndpointCreate(id="yt-dead", center="yt-edge", temperature="warm", medium="hdd",
                              url=dead_url, bucket="nothing-here", capacity_bytes=10)  # fmt: skip
        out = endpoints.register_endpoint(s, dead, clock=FakeClock(3000.0))
        assert not out.available and "does not answer" in out.reason and "127.0.0.1" not in out.reason
        wrong = EndpointCreate(id="yt-wrong", center="yt-edge", temperature="cold", medium="tape",
                               url=seaweed_servers[0].s3_url, bucket="huanghe-probe",
                               access_key_secret="s3-jiaodong-access", secret_key_secret="s3-jiaodong-secret",
                               capacity_bytes=10)  # fmt: skip
        assert (
            "refused the credentials" in endpoints.register_endpoint(s, wrong, clock=FakeClock(3000.0)).reason
        )
        calls.clear()
        changes = endpoints.check_endpoints(s, FakeClock(3100.0))
        assert changes == []  # nothing changed since registration: nothing audited again
        assert len(calls) == 4  # 6 endpoints on 4 distinct (server, bucket, keys)
        endpoints.update_endpoint(s, "yt-dead", EndpointUpdate(url=seaweed_servers[1].s3_url, bucket="huanghe-probe",
                                                               access_key_secret="s3-jiaodong-access",
                                                               secret_key_secret="s3-jiaodong-secret"))  # fmt: skip
        changes = endpoints.check_endpoints(s, FakeClock(3200.0))
        assert [(c.id, c.healthy) for c in changes] == [("yt-dead", True)]
        actions = s.scalars(
            select(AuditRow.subject).where(AuditRow.action == "storage_endpoint.health")
        ).all()
        assert "yt-dead" in actions
        endpoints.delete_endpoint(s, "yt-dead")
        endpoints.delete_endpoint(s, "yt-wrong")


def test_drain_keeps_health_and_reason(w: World) -> None:
    with w.session() as s:
        out = endpoints.update_endpoint(s, "jn-sc-cold", EndpointUpdate(drained=True, reason="disk swap"))
        assert not out.available and out.healthy and out.reason == "disk swap"
        endpoints.check_endpoints(s, FakeClock(4000.0))
        assert endpoints.get_endpoint(s, "jn-sc-cold").reason == "disk swap"
        assert "jn-sc-cold" not in {e.id for e in endpoints.list_endpoints(s, available=True).items}
        stored = load_endpoints(s)  # what the rule solver places on
        assert not stored.endpoints.available[stored.position()["jn-sc-cold"]]
        out = endpoints.update_endpoint(s, "jn-sc-cold", EndpointUpdate(drained=False))
        assert out.available and out.reason == ""


def test_attribute_table_for_rule_expressions(w: World) -> None:
    with w.session() as s:
        endpoints.update_endpoint(s, "qd-ai-hot-hdd", EndpointUpdate(attributes={"cost": 3, "site": "north"}))
        file_id = _replica(s, "ds-ta", "t.bin", "qd-ai-hot-flash", 400)
        table = endpoints.endpoint_table(s)
        rec = {r["id"]: r for r in endpoints.endpoint_records(s)}
        assert rec["qd-ai-hot-flash"]["free_bytes"] == TB - 400
        assert rec["jn-sc-hot"] | {"free_bytes": 0} == {
            "id": "jn-sc-hot", "center": "jn-sc", "city": "jinan", "circle": "capital", "tier": "hot",
            "medium": "flash", "operator": "institute", "security_level": 4, "free_bytes": 0, "available": "true",
        }  # fmt: skip
        expr = parse("tier=hot&circle=jiaodong\\site=north", table.custom_keys())
        assert list(table.ids[expr.select(table)]) == ["qd-ai-hot-flash"]
        assert list(table.ids[parse("cost>=3", table.custom_keys()).select(table)]) == ["qd-ai-hot-hdd"]
        assert endpoints.available_mask(table).all()
        with pytest.raises(ConflictError, match="1 replicas"):
            endpoints.delete_endpoint(s, "qd-ai-hot-flash")
        s.delete(s.get(DataFileRow, file_id))
        s.commit()


def test_quotas_per_endpoint_and_total(w: World) -> None:
    with w.session() as s:
        assert quotas.bytes_left(s, "ta", "jn-sc-hot") is None
        ids = [_replica(s, "ds-ta", "q1", "jn-sc-hot", 300), _replica(s, "ds-ta", "q2", "qd-ai-hot-hdd", 200),
               _replica(s, "ds-tb", "q3", "jn-sc-hot", 5000)]  # fmt: skip
        quotas.set_quota(s, "ta", "jn-sc-hot", QuotaPut(limit_bytes=1000))
        assert quotas.bytes_left(s, "ta", "jn-sc-hot") == 700  # tb's 5000 bytes are not ta's
        assert quotas.bytes_left(s, "ta", "qd-ai-hot-hdd") is None
        quotas.set_quota(s, "ta", "*", QuotaPut(limit_bytes=600))
        assert (
            quotas.bytes_left(s, "ta", "jn-sc-hot") == 100
            and quotas.bytes_left(s, "ta", "qd-ai-hot-hdd") == 100
        )
        assert quotas.quota_left(s, "ta") == quotas.QuotaLeft(100, {"jn-sc-hot": 700})
        quotas.set_quota(s, "ta", "*", QuotaPut(limit_bytes=10))  # below use: stored, nothing left
        assert quotas.bytes_left(s, "ta", "jn-sc-hot") == 0
        with pytest.raises(InvalidError, match="endpoint"):
            quotas.set_quota(s, "ta", "nope", QuotaPut(limit_bytes=1))
        with pytest.raises(InvalidError, match="tenant"):
            quotas.set_quota(s, "zz", "*", QuotaPut(limit_bytes=1))
        page = quotas.list_quotas(s, tenant="ta")
        assert [(q.endpoint, q.used_bytes, q.left_bytes) for q in page.items] == [
            ("*", 500, 0),
            ("jn-sc-hot", 300, 700),
        ]
        quotas.delete_quota(s, "ta", "*")
        quotas.delete_quota(s, "ta", "jn-sc-hot")
        for i in ids:
            s.delete(s.get(DataFileRow, i))
        s.commit()


# --- the REST API ------------------------------------------------------------------------------------------
def test_tenant_lists_endpoints_without_connection_or_keys(
    w: World, seaweed_servers: list[SeaweedServer]
) -> None:
    for who in ("tenant_user", "tenant_admin", "operator", "regulator"):
        r = w.client.get(f"{API}/storage-endpoints", headers=w.h(who))
        assert r.status_code == 200, r.text
        assert r.json()["total"] >= 4 and all(e["connection"] is None for e in r.json()["items"])
        for needle in (
            "s3-capital",
            "127.0.0.1",
            seaweed_servers[0].access_key,
            seaweed_servers[0].secret_key,
        ):
            assert needle not in r.text, (who, needle)
        one = w.client.get(f"{API}/storage-endpoints/jn-sc-hot", headers=w.h(who))
        assert one.status_code == 200 and "s3-capital" not in one.text and one.json()["free_bytes"] >= 0
    admin = w.client.get(f"{API}/storage-endpoints/jn-sc-hot", headers=w.h("admin")).json()
    assert admin["connection"]["access_key_secret"] == "s3-capital-access"
    assert seaweed_servers[0].secret_key not in str(admin) and seaweed_servers[0].access_key not in str(admin)
    assert w.client.get(f"{API}/storage-endpoints").status_code == 401


def test_list_filters_and_paging(w: World) -> None:
    h = w.h("tenant_user")
    r = w.client.get(
        f"{API}/storage-endpoints?center=qd-ai&temperature=hot&limit=1&offset=1", headers=h
    ).json()
    assert r["total"] == 2 and [e["id"] for e in r["items"]] == ["qd-ai-hot-hdd"]
    assert w.client.get(f"{API}/storage-endpoints?available=false", headers=h).json()["total"] == 0
    assert w.client.get(f"{API}/storage-endpoints?temperature=lukewarm", headers=h).status_code == 422
    assert w.client.get(f"{API}/storage-endpoints/nope", headers=h).status_code == 404


def test_tenants_cannot_change_endpoints_or_quotas(w: World) -> None:
    for who in ("tenant_user", "tenant_admin", "tenant_user_b", "regulator"):
        h = w.h(who)
        assert (
            w.client.patch(
                f"{API}/storage-endpoints/jn-sc-hot", json={"capacity_bytes": 1}, headers=h
            ).status_code
            == 403
        )
        assert w.client.delete(f"{API}/storage-endpoints/jn-sc-hot", headers=h).status_code == 403
        body = {"id": "x1", "center": "jn-sc", "temperature": "hot", "medium": "flash", "url": "http://e.x",
                "bucket": "bkt", "capacity_bytes": 1}  # fmt: skip
        assert w.client.post(f"{API}/storage-endpoints", json=body, headers=h).status_code == 403
        assert (
            w.client.put(f"{API}/data-quotas/ta/*", json={"limit_bytes": 10**15}, headers=h).status_code
            == 403
        )
    assert (
        w.client.get(f"{API}/storage-endpoints/jn-sc-hot", headers=w.h("admin")).json()["capacity_bytes"]
        == 2000 * TB
    )


def test_operator_changes_only_its_centers_endpoints_and_never_the_connection(w: World) -> None:
    h = w.h("operator")  # operator of qd-ai
    own = w.client.patch(f"{API}/storage-endpoints/qd-ai-hot-hdd", json={"capacity_bytes": 2 * TB}, headers=h)
    assert own.status_code == 200, own.text
    assert own.json()["capacity_bytes"] == 2 * TB and own.json()["connection"] is None
    other = w.client.patch(f"{API}/storage-endpoints/jn-sc-hot", json={"drained": True}, headers=h)
    assert other.status_code == 403 and "not in one of your centers" in other.text
    moved = w.client.patch(
        f"{API}/storage-endpoints/qd-ai-hot-hdd", json={"url": "http://evil.example"}, headers=h
    )
    assert moved.status_code == 403 and "url" in moved.text
    keys = w.client.patch(f"{API}/storage-endpoints/qd-ai-hot-hdd", json={"secret_key_secret": "s3-capital-secret"},
                          headers=h)  # fmt: skip
    assert keys.status_code == 403
    assert w.client.delete(f"{API}/storage-endpoints/qd-ai-hot-hdd", headers=h).status_code == 403


def test_admin_register_validation(w: World, seaweed_servers: list[SeaweedServer]) -> None:
    h = w.h("admin")
    base: dict[str, Any] = {"id": "yt-ext", "center": "yt-edge", "temperature": "warm", "medium": "hdd",
            "url": seaweed_servers[1].s3_url, "bucket": "huanghe-probe", "access_key_secret": "s3-jiaodong-access",
            "secret_key_secret": "s3-jiaodong-secret", "capacity_bytes": 10**12, "attributes": {"cost": 2}}  # fmt: skip
    bad: dict[str, tuple[dict[str, Any], str]] = {
        "url": ({"url": "http://user:pw@host:9000"}, "credentials"),
        "attributes": ({"attributes": {"tier": "hot"}}, "derived by the platform"),
        "center": ({"center": "nowhere"}, "unknown center"),
        "access_key_secret": ({"access_key_secret": "no-such"}, "no secret named"),
        "bucket": ({"bucket": "Bad_Bucket"}, "must match"),
    }
    for field, (change, words) in bad.items():
        r = w.client.post(f"{API}/storage-endpoints", json=base | change, headers=h)
        assert r.status_code == 422, (field, r.text)
        assert any(field in d["path"] and words in d["message"] for d in r.json()["detail"]), r.text
    r = w.client.post(f"{API}/storage-endpoints", json=base, headers=h)
    assert r.status_code == 201, r.text
    assert r.json()["available"] is True and r.json()["attributes"] == {"cost": 2}
    assert w.client.post(f"{API}/storage-endpoints", json=base, headers=h).status_code == 409
    assert w.client.delete(f"{API}/storage-endpoints/yt-ext", headers=h).status_code == 204
    assert w.client.get(f"{API}/storage-endpoints/yt-ext", headers=h).status_code == 404


def test_quota_api_tenants_see_only_their_own(w: World) -> None:
    admin = w.h("admin")
    for tenant, limit in (("ta", 111), ("tb", 222)):
        r = w.client.put(f"{API}/data-quotas/{tenant}/*", json={"limit_bytes": limit}, headers=admin)
        assert r.status_code == 200 and r.json()["left_bytes"] == limit, r.text
    mine = w.client.get(f"{API}/data-quotas?tenant=tb", headers=w.h("tenant_user")).json()
    assert [(q["tenant"], q["limit_bytes"]) for q in mine["items"]] == [("ta", 111)]
    theirs = w.client.get(f"{API}/data-quotas", headers=w.h("tenant_user_b")).json()
    assert [(q["tenant"], q["limit_bytes"]) for q in theirs["items"]] == [("tb", 222)]
    assert w.client.get(f"{API}/data-quotas", headers=w.h("regulator")).json()["total"] == 2
    assert w.client.put(f"{API}/data-quotas/ta/*", json={"limit_bytes": -1}, headers=admin).status_code == 422
    assert (
        w.client.put(f"{API}/data-quotas/ta/nope", json={"limit_bytes": 1}, headers=admin).status_code == 422
    )
    for tenant in ("ta", "tb"):
        assert w.client.delete(f"{API}/data-quotas/{tenant}/*", headers=admin).status_code == 204
    assert w.client.delete(f"{API}/data-quotas/ta/*", headers=admin).status_code == 404


@pytest.mark.postgres
def test_endpoints_and_quotas_on_postgres(
    fresh_postgres_url: str,
    seaweed_servers: list[SeaweedServer],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    """The same service on PostgreSQL: sync, keys, health, attribute table, quotas, refused deletions."""
    monkeypatch.setenv(secrets.KEY_ENV, Fernet.generate_key().decode())
    monkeypatch.setenv("HUANGHE_DATA_DIR", str(tmp_path / "data"))
    server = seaweed_servers[1]
    with world(fresh_postgres_url) as wd, wd.session() as s:
        secrets.put_secret(s, "pg-access", SecretPut(value=server.access_key))
        secrets.put_secret(s, "pg-secret", SecretPut(value=server.secret_key))
        target = endpoints.S3Server(server.s3_url, unique_bucket("pg"), "pg-access", "pg-secret")
        ObjectStore(endpoints.access_of_server(s, target)).ensure_bucket()
        assert endpoint_sync.sync_endpoints(s, {"*": target}, clock=FakeClock(1.0)).created == [
            "jn-sc-hot", "jn-sc-cold"
        ]  # fmt: skip
        assert {c.id for c in endpoints.check_endpoints(s, FakeClock(2.0)) if c.healthy} == {
            "jn-sc-hot",
            "jn-sc-cold",
        }
        _replica(s, "ds-ta", "p.bin", "jn-sc-cold", 10**13)
        quotas.set_quota(s, "ta", "jn-sc-cold", QuotaPut(limit_bytes=2 * 10**13))
        assert (
            quotas.bytes_left(s, "ta", "jn-sc-cold") == 10**13
            and quotas.bytes_left(s, "tb", "jn-sc-cold") is None
        )
        rec = {r["id"]: r for r in endpoints.endpoint_records(s)}
        assert (
            rec["jn-sc-cold"]["free_bytes"] == 10_000 * TB - 10**13
            and rec["jn-sc-cold"]["available"] == "true"
        )
        with pytest.raises(ConflictError, match="replicas"):
            endpoints.delete_endpoint(s, "jn-sc-cold")
        with pytest.raises(ConflictError, match="storage_endpoints"):
            secrets.delete_secret(s, "pg-secret")
        endpoints.delete_endpoint(s, "jn-sc-hot")
        assert [e.id for e in endpoints.list_endpoints(s).items] == ["jn-sc-cold"]
