"""An illustrative data scenario on the stored network (示例数据场景, not real holdings): tenants' datasets of
every data class with small files on their home center's hot endpoint, and protection-catalog entries for the
important and core ones naming where copies may go — for the off-site backup benchmark
(bench/bench_data_backup.py), demos and tests.

Rules of the scenario (seeded, deterministic): each dataset's home is a center with a hot endpoint that
accepts its class; important and core datasets list as allowed centers up to three centers in *other* cities
that accept the class and have storage (so an off-site copy is possible, as the plan requires of holders of
such data); general datasets list nothing.
"""

from __future__ import annotations

import os
import random
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from huanghe.data import files as data_files
from huanghe.data import uploads
from huanghe.data.file_schemas import DatasetRegister
from huanghe.data.models import ProtectionEntryRow, StorageEndpointRow
from huanghe.domain.enums import DataClass
from huanghe.network.models import CenterRow
from huanghe.tenancy.models import TenantRow


@dataclass
class Scenario:
    """What :func:`seed_scenario` made: dataset ids per class and bytes uploaded."""

    datasets: dict[str, list[str]] = field(default_factory=dict)
    files: int = 0
    bytes: int = 0


def _hot_centers(session: Session) -> dict[str, tuple[str, list[str]]]:
    """Center → (city, classes it accepts) for centers with an available hot endpoint."""
    hot = set(session.scalars(select(StorageEndpointRow.center_id).where(StorageEndpointRow.temperature == "hot",
                                                                          StorageEndpointRow.available.is_(True))))  # fmt: skip
    return {
        c.id: (c.city_id, list(c.allowed_data_classes))
        for c in session.scalars(select(CenterRow).order_by(CenterRow.id))
        if c.id in hot
    }


def seed_scenario(
    session: Session, *, tenants: int = 3, per_class: dict[str, int] | None = None, files_per_dataset: int = 2,
    file_bytes: int = 64 * 1024, seed: int = 1, prefix: str = "demo",
) -> Scenario:  # fmt: skip
    """Create the tenants (``<prefix>-t<i>``), datasets and catalog entries, and upload the files (committed).
    ``per_class``: datasets per data class (default 4 general, 6 important, 3 core)."""
    rng = random.Random(seed)
    per_class = per_class or {"general": 4, "important": 6, "core": 3}
    centers = _hot_centers(session)
    out = Scenario()
    tenant_ids = [f"{prefix}-t{i}" for i in range(tenants)]
    for i, t in enumerate(tenant_ids):
        if session.get(TenantRow, t) is None:
            session.add(TenantRow(id=t, name=f"示例企业 {i} (illustrative)", sector=rng.choice(
                ["manufacturing", "finance", "energy", "ocean", "transport"]), is_sme=True))  # fmt: skip
    session.commit()
    for data_class, n in per_class.items():
        homes = [c for c, (_, classes) in centers.items() if data_class in classes]
        if not homes:
            raise ValueError(f"no center with a hot endpoint accepts {data_class} data")
        for k in range(n):
            home = rng.choice(homes)
            city = centers[home][0]
            allowed: list[str] = []
            if data_class != DataClass.GENERAL.value:
                away = [c for c in homes if centers[c][0] != city]
                allowed = rng.sample(away, min(3, len(away)))
            ds_id = f"{prefix}-{data_class}-{k}"
            tenant = tenant_ids[k % len(tenant_ids)]
            data_files.register_dataset(
                session, DatasetRegister(id=ds_id, data_class=DataClass(data_class), allowed_centers=allowed,
                                         center=home), tenant=tenant, actor="system:scenario",
            )  # fmt: skip
            if data_class != DataClass.GENERAL.value:
                session.add(ProtectionEntryRow(dataset_id=ds_id, owner=tenant, location=home, allowed_centers=allowed,
                                               purpose="illustrative scenario (示例)", created_s=0.0))  # fmt: skip
                session.commit()
            for f in range(files_per_dataset):
                data = os.urandom(file_bytes)
                uploads.put_small_file(session, ds_id, f"part-{f:03d}.bin", data, sha256=None, endpoint=None,
                                       center=home, actor="system:scenario")  # fmt: skip
                out.files += 1
                out.bytes += len(data)
            out.datasets.setdefault(data_class, []).append(ds_id)
    return out
