"""Set-up of the transfer tests: the mini network, tenants ``ta`` / ``tb``, four storage endpoints on two real
SeaweedFS servers (keys stored as encrypted secrets), files with verified replicas.

Endpoints (id → center, server index): ``jn-sc-hot`` and ``qd-ai-hot`` on server 0, ``yt-edge-hot`` and
``jn-sc-cold`` on server 1; the endpoints of one server share one bucket (keys start with the endpoint id).
Every center accepts every data class, so only the protection rules decide residency.

Registered as a pytest plugin (tests/conftest.py): the fixture ``tw`` is that world, seeded with a fresh
``HUANGHE_SECRET_KEY``, on the ``session_factory`` database.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from pydantic import SecretStr
from sqlalchemy.orm import Session, sessionmaker

from huanghe.catalog.topology import load_topology
from huanghe.data.models import DataFileRow, DatasetRow, FileReplicaRow, StorageEndpointRow
from huanghe.data.objects import EndpointAccess, ObjectStore
from huanghe.network import topology_store
from huanghe.network.models import CenterRow
from huanghe.network.schemas import SecretPut
from huanghe.network.secrets import put_secret
from huanghe.tenancy import service as tenancy_svc
from huanghe.tenancy.schemas import TenantCreate
from tests.infra.seaweed import SeaweedServer, unique_bucket

MINI = Path(__file__).parent / "data" / "mini_network.yaml"
#: endpoint id → (center, temperature, medium, server index)
ENDPOINTS = {
    "jn-sc-hot": ("jn-sc", "hot", "flash", 0),
    "qd-ai-hot": ("qd-ai", "hot", "flash", 0),
    "yt-edge-hot": ("yt-edge", "hot", "hdd", 1),
    "jn-sc-cold": ("jn-sc", "cold", "tape", 1),
}


@dataclass
class TransferWorld:
    """Sessions, the servers, one :class:`ObjectStore` per endpoint (the same bucket per server)."""

    sf: sessionmaker[Session]
    servers: list[SeaweedServer]
    stores: dict[str, ObjectStore] = field(default_factory=dict)

    def put(self, dataset: str, name: str, data: bytes, at: list[str], *, tenant: str = "ta",
            data_class: str = "general", center: str = "jn-sc", bad_at: tuple[str, ...] = ()) -> int:  # fmt: skip
        """A file of ``dataset`` (created when new) with verified replicas on the endpoints ``at``; the
        replicas on ``bad_at`` hold other bytes than the checksum says (stored as available). Its id."""
        sha = hashlib.sha256(data).hexdigest()
        with self.sf() as s:
            if s.get(DatasetRow, dataset) is None:
                s.add(DatasetRow(id=dataset, tenant_id=tenant, name=dataset, center_id=center, size_gb=0.0,
                                 data_class=data_class, temperature="hot", replicas=[], allowed_centers=[]))  # fmt: skip
                s.flush()
            f = DataFileRow(dataset_id=dataset, name=name, size_bytes=len(data), sha256=sha, state="available",
                            created_s=0.0, accessed_s=0.0)  # fmt: skip
            s.add(f)
            s.flush()
            for ep in at:
                key = f"{ep}/{dataset}/{name}"
                body = data if ep not in bad_at else bytes(b ^ 0x5A for b in data)
                self.stores[ep].client.put_object(Bucket=self.stores[ep].access.bucket, Key=key, Body=body,
                                                  Metadata={"sha256": sha})  # fmt: skip
                s.add(FileReplicaRow(file_id=f.id, endpoint_id=ep, state="available", object_key=key,
                                     size_bytes=len(data), lock_count=0, created_s=0.0, accessed_s=0.0,
                                     verified_s=0.0))  # fmt: skip
                row = s.get(StorageEndpointRow, ep)
                assert row is not None
                row.used_bytes += len(data)
            s.commit()
            return f.id


def seed(
    sf: sessionmaker[Session], servers: list[SeaweedServer], *, capacity_bytes: int = 10**12
) -> TransferWorld:
    """Network, tenants, secrets and endpoints; needs ``HUANGHE_SECRET_KEY`` set (monkeypatch)."""
    world = TransferWorld(sf, servers)
    buckets = [unique_bucket("tr"), unique_bucket("tr")]
    with sf() as s:
        topology_store.import_topology(s, load_topology(str(MINI)), replace=False)
        for c in s.query(CenterRow):
            c.allowed_data_classes = ["general", "important", "core"]
        for tid in ("ta", "tb"):
            tenancy_svc.create_tenant(s, TenantCreate(id=tid, name=f"Tenant {tid}", sector="manufacturing"))
        for i, srv in enumerate(servers):
            put_secret(s, f"weed{i}-access", SecretPut(value=SecretStr(srv.access_key)))
            put_secret(s, f"weed{i}-secret", SecretPut(value=SecretStr(srv.secret_key)))
            store = ObjectStore(EndpointAccess(srv.s3_url, buckets[i], srv.access_key, srv.secret_key))
            store.ensure_bucket()
        for eid, (center, temp, medium, i) in ENDPOINTS.items():
            s.add(StorageEndpointRow(
                id=eid, center_id=center, temperature=temp, medium=medium, url=servers[i].s3_url, bucket=buckets[i],
                access_key_secret=f"weed{i}-access", secret_key_secret=f"weed{i}-secret",
                capacity_bytes=capacity_bytes, used_bytes=0, available=True, reason="", attributes={}, created_s=0.0,
            ))  # fmt: skip
            world.stores[eid] = ObjectStore(
                EndpointAccess(servers[i].s3_url, buckets[i], servers[i].access_key, servers[i].secret_key)
            )
        s.commit()
    return world


@pytest.fixture
def tw(
    session_factory: sessionmaker[Session],
    seaweed_servers: list[SeaweedServer],
    monkeypatch: pytest.MonkeyPatch,
) -> TransferWorld:
    """The transfer world (:func:`seed`) with a fresh ``HUANGHE_SECRET_KEY`` set for the test."""
    monkeypatch.setenv("HUANGHE_SECRET_KEY", Fernet.generate_key().decode())
    return seed(session_factory, seaweed_servers)
