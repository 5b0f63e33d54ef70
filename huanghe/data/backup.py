"""Off-site backup of important and core data as rules (异地备份), and the share of such data that has a
verified off-site copy (the plan's target: 100 % disaster-backup coverage of core/important data, FACTS.md).

The province policy (:func:`ensure_backup_rules`) gives every important or core dataset that holds files one
``backup`` rule: one copy outside its home city (``scope="city"``, the default) or outside its home economic
circle (``scope="circle"``). The rule engine then applies residency as for every rule: only endpoints the
protection catalog allows qualify, so a dataset whose catalog entry names no off-site center gets a STUCK
rule whose reason says so — the regulator sees it instead of a silent gap.

A copy counts as *verified off-site* (:func:`offsite_status`) when, in one center outside the home city
(circle), every file of the dataset has an ``available`` replica whose checksum was verified (``verified_s``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pydantic import BaseModel
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from huanghe.data import rule_engine as engine
from huanghe.data.models import (
    DataFileRow,
    DatasetRow,
    FileReplicaRow,
    ReplicationRuleRow,
    StorageEndpointRow,
)
from huanghe.data.rule_schemas import RuleCreate, RuleOrigin
from huanghe.data.rules import create_rule
from huanghe.network.models import CenterRow, CityRow

PROTECTED_CLASSES = ("important", "core")
SCOPES = ("city", "circle")


class OffsiteStatus(BaseModel):
    """Important and core datasets holding files: how many have a verified off-site copy, and which not."""

    scope: str
    datasets: int
    with_offsite_copy: int
    share: float | None
    missing: list[str]
    bytes_protected: int


@dataclass
class BackupReport:
    created: list[str] = field(default_factory=list)  # rule ids


def _home(session: Session, center_id: str) -> tuple[str, str]:
    row = session.execute(
        select(CenterRow.city_id, CityRow.region_id).join(CityRow, CityRow.id == CenterRow.city_id)
        .where(CenterRow.id == center_id)
    ).one()  # fmt: skip
    return str(row[0]), str(row[1])


def backup_expression(session: Session, ds: DatasetRow, scope: str = "city") -> str:
    """The endpoint expression of the dataset's backup rule: outside its home city (or circle)."""
    city, circle = _home(session, ds.center_id)
    return f"city!={city}" if scope == "city" else f"circle!={circle}"


def _protected_with_files(session: Session) -> list[DatasetRow]:
    has_files = select(DataFileRow.dataset_id).where(DataFileRow.state == "available").distinct()
    return list(
        session.scalars(
            select(DatasetRow)
            .where(DatasetRow.data_class.in_(PROTECTED_CLASSES), DatasetRow.id.in_(has_files))
            .order_by(DatasetRow.id)
        )
    )


def ensure_backup_rules(session: Session, now: float, *, scope: str = "city") -> BackupReport:
    """Give every important/core dataset with files a ``backup`` rule if it has none, and evaluate the new
    rules (committed). Idempotent."""
    if scope not in SCOPES:
        raise ValueError(f"scope must be one of {SCOPES}")
    report = BackupReport()
    have = set(
        session.scalars(select(ReplicationRuleRow.dataset_id).where(ReplicationRuleRow.origin == "backup"))
    )
    for ds in _protected_with_files(session):
        if ds.id in have:
            continue
        body = RuleCreate(
            dataset=ds.id, copies=1, expression=backup_expression(session, ds, scope), priority=4
        )
        row = create_rule(session, body, tenant=ds.tenant_id, actor="system:backup-policy",
                          origin=RuleOrigin.BACKUP, now=now)  # fmt: skip
        report.created.append(row.id)
    if report.created:
        engine.evaluate(session, now, rule_ids=report.created)
    session.commit()
    return report


def offsite_status(session: Session, *, scope: str = "city") -> OffsiteStatus:
    """The share of important/core datasets (holding files) with a verified copy off-site."""
    datasets = _protected_with_files(session)
    missing: list[str] = []
    protected_bytes = 0
    for ds in datasets:
        city, circle = _home(session, ds.center_id)
        n_files = int(session.scalar(select(func.count()).select_from(DataFileRow).where(
            DataFileRow.dataset_id == ds.id, DataFileRow.state == "available")) or 0)  # fmt: skip
        where = CityRow.id != city if scope == "city" else CityRow.region_id != circle
        best = session.execute(
            select(StorageEndpointRow.center_id, func.count(func.distinct(FileReplicaRow.file_id)))
            .join(FileReplicaRow, FileReplicaRow.endpoint_id == StorageEndpointRow.id)
            .join(DataFileRow, DataFileRow.id == FileReplicaRow.file_id)
            .join(CenterRow, CenterRow.id == StorageEndpointRow.center_id)
            .join(CityRow, CityRow.id == CenterRow.city_id)
            .where(DataFileRow.dataset_id == ds.id, DataFileRow.state == "available", FileReplicaRow.state == "available",
                   FileReplicaRow.verified_s.is_not(None), where)
            .group_by(StorageEndpointRow.center_id)
        ).all()  # fmt: skip
        if any(int(n) >= n_files for _, n in best):
            protected_bytes += int(session.scalar(select(func.sum(DataFileRow.size_bytes)).where(
                DataFileRow.dataset_id == ds.id, DataFileRow.state == "available")) or 0)  # fmt: skip
        else:
            missing.append(ds.id)
    n = len(datasets)
    return OffsiteStatus(
        scope=scope, datasets=n, with_offsite_copy=n - len(missing), share=None if n == 0 else (n - len(missing)) / n,
        missing=missing, bytes_protected=protected_bytes,
    )  # fmt: skip
