"""Set-up shared by the data-services tests: the mini network, two tenants, storage endpoint rows and files
with replicas written straight into the database (no object store needed for rule decisions)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.orm import Session

from huanghe.catalog.topology import load_topology
from huanghe.data.models import DataFileRow, DatasetRow, FileReplicaRow, StorageEndpointRow
from huanghe.network import topology_store
from huanghe.tenancy import service as tenancy_svc
from huanghe.tenancy.schemas import TenantCreate

MINI = Path(__file__).parent / "data" / "mini_network.yaml"
GB = 10**9
#: endpoint id → (center, temperature, medium)
ENDPOINTS = {
    "jn-sc-hot": ("jn-sc", "hot", "flash"),
    "jn-sc-cold": ("jn-sc", "cold", "tape"),
    "qd-ai-hot": ("qd-ai", "hot", "flash"),
    "yt-edge-hot": ("yt-edge", "hot", "hdd"),
}


def seed_network(session: Session, *, capacity_bytes: int = 100 * GB, every_class: bool = True) -> None:
    """Mini network, tenants ``ta`` and ``tb``, the four endpoints of :data:`ENDPOINTS` (no S3 behind them)."""
    topology_store.import_topology(session, load_topology(str(MINI)), replace=False)
    if every_class:  # let every center hold every class: only the protection rules decide
        from huanghe.network.models import CenterRow

        for c in session.query(CenterRow):
            c.allowed_data_classes = ["general", "important", "core"]
    for tid in ("ta", "tb"):
        tenancy_svc.create_tenant(session, TenantCreate(id=tid, name=f"Tenant {tid}", sector="manufacturing"))
    for eid, (center, temp, medium) in ENDPOINTS.items():
        session.add(StorageEndpointRow(
            id=eid, center_id=center, temperature=temp, medium=medium, url="http://127.0.0.1:1",
            bucket="b-x", capacity_bytes=capacity_bytes, used_bytes=0, available=True, reason="",
            attributes={}, created_s=0.0,
        ))  # fmt: skip
    session.commit()


def add_dataset(
    session: Session, ds_id: str, *, tenant: str = "ta", center: str = "jn-sc", data_class: str = "general",
    files: int = 2, size_bytes: int = GB, at: str | None = "jn-sc-hot", allowed: list[str] | None = None,
) -> list[int]:  # fmt: skip
    """A dataset with ``files`` available files of ``size_bytes``, each with an available replica ``at``."""
    session.add(DatasetRow(
        id=ds_id, tenant_id=tenant, name=ds_id, center_id=center, size_gb=files * size_bytes / GB,
        data_class=data_class, temperature="hot", replicas=[], allowed_centers=allowed or [],
    ))  # fmt: skip
    session.flush()
    ids = []
    for i in range(files):
        f = DataFileRow(dataset_id=ds_id, name=f"f{i}.bin", size_bytes=size_bytes, sha256="0" * 64,
                        state="available", created_s=0.0, accessed_s=0.0)  # fmt: skip
        session.add(f)
        session.flush()
        ids.append(f.id)
        if at is not None:
            session.add(FileReplicaRow(
                file_id=f.id, endpoint_id=at, state="available", object_key=f"{at}/{ds_id}/f{i}.bin",
                size_bytes=size_bytes, lock_count=0, created_s=0.0, accessed_s=0.0, verified_s=0.0,
            ))  # fmt: skip
            ep = session.get(StorageEndpointRow, at)
            assert ep is not None
            ep.used_bytes += size_bytes
    session.commit()
    return ids


def real_endpoints(session: Session, servers: list[object], *, extra_hot: tuple[str, ...] = ("qd-ai", "yt-edge"),
                   capacity_tb: float = 1.0) -> list[str]:  # fmt: skip
    """Endpoints of the stored network on real SeaweedFS servers (capital circle on ``servers[0]``, jiaodong on
    ``servers[1]``), keys as secrets (``HUANGHE_SECRET_KEY`` must be set), a hot tier added to each center of
    ``extra_hot``, health checked. Returns the endpoint ids. Buckets are unique to the call."""
    from huanghe.core.clock import FakeClock
    from huanghe.data import endpoint_sync, endpoints
    from huanghe.data.objects import ObjectStore
    from huanghe.network import secrets
    from huanghe.network.models import StorageTierRow
    from huanghe.network.schemas import SecretPut
    from tests.infra.seaweed import SeaweedServer, unique_bucket

    for i, center in enumerate(extra_hot):
        session.add(StorageTierRow(center_id=center, medium="flash", temperature="hot", capacity_tb=capacity_tb,
                                   used_tb=0, position=10 + i))  # fmt: skip
    session.commit()
    by_circle: dict[str, endpoints.S3Server] = {}
    for circle, server in zip(("capital", "jiaodong"), servers, strict=True):
        assert isinstance(server, SeaweedServer)
        bucket = unique_bucket("dw")
        for part, value in (("access", server.access_key), ("secret", server.secret_key)):
            secrets.put_secret(session, f"{bucket}-{part}", SecretPut(value=value))
        by_circle[circle] = endpoints.S3Server(server.s3_url, bucket, f"{bucket}-access", f"{bucket}-secret")
        ObjectStore(endpoints.access_of_server(session, by_circle[circle])).ensure_bucket()
    summary = endpoint_sync.sync_endpoints(session, by_circle, clock=FakeClock(1000.0))
    session.commit()
    endpoints.check_endpoints(session, FakeClock(1001.0))
    session.commit()
    return summary.created
