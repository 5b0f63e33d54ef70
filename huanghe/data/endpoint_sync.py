"""Endpoints from the stored network: one per storage tier of every center, on the S3 server of its circle.

Id ``<center>-<temperature>``, with ``-<medium>`` added when a center has two tiers of one temperature;
capacity = the tier's ``capacity_tb`` × 10^12 bytes. Used by ``huanghe up`` in dev mode (one local SeaweedFS
server per economic circle, :mod:`huanghe.data.dev_storage`) and by admins placing tiers on real servers.
"""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import select
from sqlalchemy.orm import Session

from huanghe.audit import service as audit
from huanghe.core.clock import Clock, WallClock
from huanghe.data.endpoint_schemas import SyncSummary
from huanghe.data.endpoints import NOT_CHECKED, SYSTEM, TB, S3Server, forget_store
from huanghe.data.models import StorageEndpointRow
from huanghe.network.models import CenterRow, CityRow, StorageTierRow
from huanghe.store.crud import commit


def tier_endpoint_ids(tiers: list[tuple[str, str, str]]) -> list[str]:
    """Endpoint ids of tiers ``(center, temperature, medium)`` (in order): ``<center>-<temperature>``, with
    ``-<medium>`` when the center has two tiers of that temperature, and ``-<n>`` when those share a medium."""
    seen: dict[str, int] = {}
    temps: dict[tuple[str, str], int] = {}
    for center, temp, _ in tiers:
        temps[(center, temp)] = temps.get((center, temp), 0) + 1
    out = []
    for center, temp, medium in tiers:
        base = f"{center}-{temp}" if temps[(center, temp)] == 1 else f"{center}-{temp}-{medium}"
        n = seen.get(base, 0)
        seen[base] = n + 1
        ident = base if n == 0 else f"{base}-{n + 1}"
        out.append(ident if len(ident) <= 64 else ident[-64:].lstrip("-._") or ident[:64])
    return out


def sync_endpoints(
    session: Session, servers: Mapping[str, S3Server], *, clock: Clock | None = None, actor: str = SYSTEM
) -> SyncSummary:
    """One endpoint per storage tier of the stored network, placed on ``servers[circle]`` (the center's
    economic circle; key ``"*"``: every circle without its own). Existing endpoints move to that server and
    take the tier's capacity and medium; their drain state, health and custom attributes stay. Audited."""
    now_s = (clock or WallClock()).now_s()
    rows = session.execute(
        select(StorageTierRow.center_id, StorageTierRow.temperature, StorageTierRow.medium,
               StorageTierRow.capacity_tb, CityRow.region_id)
        .join(CenterRow, CenterRow.id == StorageTierRow.center_id).join(CityRow, CityRow.id == CenterRow.city_id)
        .order_by(CenterRow.position, CenterRow.id, StorageTierRow.position, StorageTierRow.id)
    ).all()  # fmt: skip
    ids = tier_endpoint_ids([(r[0], r[1], r[2]) for r in rows])
    existing = {r.id: r for r in session.scalars(select(StorageEndpointRow))}
    summary = SyncSummary()
    for ident, (center, temp, medium, capacity_tb, circle) in zip(ids, rows, strict=True):
        server = servers.get(circle) or servers.get("*")
        if server is None:
            summary.skipped.append(ident)
            continue
        want = {"center_id": center, "temperature": temp, "medium": medium, "url": server.url,
                "bucket": server.bucket, "access_key_secret": server.access_key_secret,
                "secret_key_secret": server.secret_key_secret, "capacity_bytes": round(capacity_tb * TB)}  # fmt: skip
        row = existing.pop(ident, None)
        if row is None:
            session.add(StorageEndpointRow(id=ident, used_bytes=0, available=False, drained=False,
                                           reason=NOT_CHECKED, attributes={}, created_s=now_s,
                                           **want))  # fmt: skip
            summary.created.append(ident)
        elif any(getattr(row, k) != v for k, v in want.items()):
            for k, v in want.items():
                setattr(row, k, v)
            forget_store(ident)
            summary.updated.append(ident)
        else:
            summary.unchanged.append(ident)
    summary.without_tier = sorted(existing)
    if summary.created or summary.updated:
        audit.record(session, actor, "storage_endpoint.sync", "storage-endpoints",
                     {"created": summary.created, "updated": summary.updated}, now=now_s)  # fmt: skip
    commit(session)
    return summary
