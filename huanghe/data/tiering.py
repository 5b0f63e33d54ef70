"""Tiering (冷热分层): lifecycle policies move data between hot, warm and cold storage by last access and age,
through rules — and what each tier costs.

A policy (``lifecycle_policies``) says: copies on ``from_temperature`` endpoints of a dataset not read for
``idle_s`` seconds and at least ``min_age_s`` old go to ``to_temperature``. A tenant's own policy for a
``from`` tier wins over the province's (``tenant_id`` None). One step (:func:`tier_step`):

1. for each idle dataset with copies on a ``from`` endpoint, a ``tiering`` rule asks for one copy on the
   ``to`` tier of the same center (else of the same economic circle);
2. once that rule is OK, the ``from`` copies that no rule protects are deleted (the move is done; a copy a
   user's rule locks stays where it is).

Prices of each tier (:data:`TIER_PRICE_FEN_PER_GB_MONTH`) are illustrative, in the ratio of public cloud object
storage classes (standard : infrequent access : archive ≈ 8 : 4 : 1); :func:`tier_costs` gives the monthly
cost of what is stored.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from pydantic import BaseModel
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from huanghe.audit import service as audit
from huanghe.data import rule_engine as engine
from huanghe.data.models import (
    DataFileRow,
    DatasetRow,
    FileReplicaRow,
    LifecyclePolicyRow,
    ReplicationRuleRow,
    StorageEndpointRow,
)
from huanghe.data.objects import ObjectStore, ObjectStoreError
from huanghe.data.reaper import delete_replica
from huanghe.data.rule_schemas import RuleCreate, RuleOrigin
from huanghe.data.rules import create_rule
from huanghe.network.models import CenterRow, CityRow

#: Monthly price of one GB (10^9 bytes) stored per tier, fen (illustrative; see the module doc).
TIER_PRICE_FEN_PER_GB_MONTH: dict[str, float] = {"hot": 12.0, "warm": 6.0, "cold": 1.5}
#: The province's default policies (illustrative): hot → warm after 30 idle days, warm → cold after 180.
DEFAULT_POLICIES: tuple[tuple[str, str, float], ...] = (
    ("hot", "warm", 30 * 86400.0),
    ("warm", "cold", 180 * 86400.0),
)
TIERS = ("hot", "warm", "cold")


class TierCost(BaseModel):
    """Bytes stored on one tier and their monthly cost (fen)."""

    temperature: str
    stored_bytes: int
    capacity_bytes: int
    cost_fen_per_month: int


@dataclass
class TieringReport:
    rules_created: list[str] = field(default_factory=list)
    replicas_moved: int = 0
    bytes_moved: int = 0
    errors: dict[str, str] = field(default_factory=dict)


def ensure_default_policies(session: Session, now: float) -> int:
    """Create the province's default policies when no province policy exists (committed); how many."""
    if session.scalar(
        select(func.count()).select_from(LifecyclePolicyRow).where(LifecyclePolicyRow.tenant_id.is_(None))
    ):
        return 0
    for src, dst, idle in DEFAULT_POLICIES:
        session.add(LifecyclePolicyRow(id=f"province-{src}-to-{dst}", tenant_id=None, from_temperature=src,
                                       to_temperature=dst, idle_s=idle, min_age_s=0.0, enabled=True, created_s=now))  # fmt: skip
    session.commit()
    return len(DEFAULT_POLICIES)


def _policies(session: Session) -> dict[tuple[str | None, str], LifecyclePolicyRow]:
    """Enabled policies by (tenant or None, from tier)."""
    return {
        (p.tenant_id, p.from_temperature): p
        for p in session.scalars(select(LifecyclePolicyRow).where(LifecyclePolicyRow.enabled.is_(True)))
    }


def _target_expression(session: Session, center_id: str, to: str) -> str | None:
    """Where a copy moving to tier ``to`` goes: that tier in the same center, else in the same economic
    circle; a tier that exists nowhere near falls through to the next colder one (warm → cold). None when
    there is no such endpoint at all."""
    circle = session.scalar(select(CityRow.region_id).join(CenterRow, CenterRow.city_id == CityRow.id).where(
        CenterRow.id == center_id))  # fmt: skip
    for tier in TIERS[TIERS.index(to) :]:
        in_center = select(func.count()).select_from(StorageEndpointRow).where(
            StorageEndpointRow.center_id == center_id, StorageEndpointRow.temperature == tier)  # fmt: skip
        if session.scalar(in_center):
            return f"center={center_id}&tier={tier}"
        in_circle = (
            select(func.count()).select_from(StorageEndpointRow)
            .join(CenterRow, CenterRow.id == StorageEndpointRow.center_id)
            .join(CityRow, CityRow.id == CenterRow.city_id)
            .where(CityRow.region_id == circle, StorageEndpointRow.temperature == tier)
        )  # fmt: skip
        if session.scalar(in_circle):
            return f"circle={circle}&tier={tier}"
    return None


def tier_step(
    session: Session, now: float, store_for: Callable[[Session, str], ObjectStore]
) -> TieringReport:
    """One pass of every policy (see the module doc); commits as it goes."""
    report = TieringReport()
    policies = _policies(session)
    if not policies:
        return report
    last_access = (
        select(DataFileRow.dataset_id, func.max(DataFileRow.accessed_s), func.min(DataFileRow.created_s))
        .where(DataFileRow.state == "available")
        .group_by(DataFileRow.dataset_id)
    )
    for ds_id, accessed, created in session.execute(last_access).all():
        ds = session.get(DatasetRow, ds_id)
        if ds is None:
            continue
        held = session.execute(
            select(StorageEndpointRow.center_id, StorageEndpointRow.temperature).distinct()
            .join(FileReplicaRow, FileReplicaRow.endpoint_id == StorageEndpointRow.id)
            .join(DataFileRow, DataFileRow.id == FileReplicaRow.file_id)
            .where(DataFileRow.dataset_id == ds_id, FileReplicaRow.state == "available")
        ).all()  # fmt: skip
        for center, temp in held:
            policy = policies.get((ds.tenant_id, temp)) or policies.get((None, temp))
            if (
                policy is None
                or now - float(accessed) < policy.idle_s
                or now - float(created) < policy.min_age_s
            ):
                continue
            expr = _target_expression(session, center, policy.to_temperature)
            if expr is None or expr.endswith(f"tier={temp}"):
                continue
            rule = session.scalar(select(ReplicationRuleRow).where(
                ReplicationRuleRow.dataset_id == ds_id, ReplicationRuleRow.origin == "tiering",
                ReplicationRuleRow.expression == expr))  # fmt: skip
            if rule is None:
                row = create_rule(session, RuleCreate(dataset=ds_id, copies=1, expression=expr, priority=1),
                                  tenant=ds.tenant_id, actor="system:tiering", origin=RuleOrigin.TIERING, now=now)  # fmt: skip
                engine.evaluate(session, now, rule_ids=[row.id])
                session.commit()
                report.rules_created.append(row.id)
                continue
            if rule.state != "ok":
                continue
            _move_out(session, report, ds_id, center, temp, now, store_for)
    return report


def _move_out(
    session: Session, report: TieringReport, ds_id: str, center: str, temp: str, now: float,
    store_for: Callable[[Session, str], ObjectStore],
) -> None:  # fmt: skip
    """Delete the dataset's unprotected copies on the ``temp`` endpoints of ``center`` (the colder copy is OK)."""
    reps = list(session.scalars(
        select(FileReplicaRow).join(DataFileRow, DataFileRow.id == FileReplicaRow.file_id)
        .join(StorageEndpointRow, StorageEndpointRow.id == FileReplicaRow.endpoint_id)
        .where(DataFileRow.dataset_id == ds_id, StorageEndpointRow.center_id == center,
               StorageEndpointRow.temperature == temp, FileReplicaRow.lock_count <= 0,
               FileReplicaRow.state == "available")
    ))  # fmt: skip
    for rep in reps:
        try:
            store = store_for(session, rep.endpoint_id)
            report.bytes_moved += delete_replica(session, rep, store, actor="system:tiering", now=now)
            report.replicas_moved += 1
        except (ObjectStoreError, LookupError) as exc:
            session.rollback()
            report.errors[rep.endpoint_id] = str(exc)
            return
    if reps:
        audit.record(session, "system:tiering", "dataset.tiered", ds_id, {"center": center, "from": temp,
                     "replicas": len(reps)}, now=now)  # fmt: skip
        session.commit()


def tier_costs(session: Session) -> list[TierCost]:
    """Bytes stored and capacity per tier across every endpoint, and the monthly cost of what is stored."""
    rows = session.execute(
        select(StorageEndpointRow.temperature, func.sum(StorageEndpointRow.used_bytes),
               func.sum(StorageEndpointRow.capacity_bytes)).group_by(StorageEndpointRow.temperature)
    ).all()  # fmt: skip
    by = {str(t): (int(u or 0), int(c or 0)) for t, u, c in rows}
    out = []
    for t in TIERS:
        used, cap = by.get(t, (0, 0))
        out.append(TierCost(temperature=t, stored_bytes=used, capacity_bytes=cap,
                            cost_fen_per_month=round(used / 1e9 * TIER_PRICE_FEN_PER_GB_MONTH[t])))  # fmt: skip
    return out
