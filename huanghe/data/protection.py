"""Data security: the protection catalog of important and core data, and residency of every copy.

The catalog (重要数据保护目录) lists, per important or core dataset, its owner, location (home center),
the centers where it may be copied or used, and the purpose. Residency rules applied to every copy
(:func:`add_replica`):

* the target center must accept the data class (``allowed_data_classes`` of the center);
* general data: anywhere else that accepts it;
* important data: only the allowed centers (the catalog entry's list, else the dataset's own list);
* core data: deny by default — with no allowed center listed, nowhere but its home center.

A refused copy is a 422 naming ``body.center`` and the reason.
"""

from __future__ import annotations

import time
from typing import Literal

from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from huanghe.audit import service as audit
from huanghe.core.errors import conflict, invalid
from huanghe.core.paging import DEFAULT_PAGE_LIMIT, Page
from huanghe.data.models import (
    DataFileRow,
    DatasetRow,
    FileReplicaRow,
    ProtectionEntryRow,
    StorageEndpointRow,
)
from huanghe.domain.enums import DataClass
from huanghe.domain.network import ID_PATTERN
from huanghe.network.models import CenterRow
from huanghe.store.crud import get_row, page_of


class ProtectionCreate(BaseModel):
    """A catalog entry for an important or core dataset."""

    dataset: str = Field(pattern=ID_PATTERN)
    owner: str = Field(min_length=1, max_length=200)
    allowed_centers: list[str] = Field(default_factory=list, max_length=1000)
    purpose: str = Field(min_length=1, max_length=5000)


class ProtectionPublic(BaseModel):
    dataset: str
    data_class: DataClass
    owner: str
    location: str
    allowed_centers: list[str]
    purpose: str


class ReplicaCreate(BaseModel):
    center: str = Field(pattern=ID_PATTERN)


def _public(entry: ProtectionEntryRow, ds: DatasetRow) -> ProtectionPublic:
    return ProtectionPublic(
        dataset=ds.id, data_class=DataClass(ds.data_class), owner=entry.owner, location=entry.location,
        allowed_centers=list(entry.allowed_centers), purpose=entry.purpose,
    )  # fmt: skip


def add_entry(
    session: Session, body: ProtectionCreate, *, actor: str, now: float | None = None
) -> ProtectionPublic:
    """Add a dataset to the catalog (important or core data only; once per dataset)."""
    ds = session.get(DatasetRow, body.dataset)
    if ds is None:
        raise invalid("dataset", f"unknown dataset {body.dataset!r}")
    if ds.data_class == DataClass.GENERAL.value:
        raise invalid("dataset", "only important and core data belong in the protection catalog")
    if session.get(ProtectionEntryRow, ds.id) is not None:
        raise conflict("dataset", f"dataset {ds.id!r} is already in the catalog")
    known = set(session.scalars(select(CenterRow.id).where(CenterRow.id.in_(body.allowed_centers))))
    for i, c in enumerate(body.allowed_centers):
        if c not in known:
            raise invalid(f"allowed_centers[{i}]", f"unknown center {c!r}")
    entry = ProtectionEntryRow(
        dataset_id=ds.id, owner=body.owner, location=ds.center_id, allowed_centers=list(body.allowed_centers),
        purpose=body.purpose, created_s=time.time() if now is None else now,
    )  # fmt: skip
    session.add(entry)
    session.flush()
    audit.record(session, actor, "protection.add", ds.id, body.model_dump(), now=now)
    session.commit()
    return _public(entry, ds)


def list_entries(
    session: Session, *, data_class: DataClass | None = None, limit: int = DEFAULT_PAGE_LIMIT, offset: int = 0
) -> Page[ProtectionPublic]:
    """A page of the protection catalog, by dataset id, optionally of one data class."""
    query = select(ProtectionEntryRow, DatasetRow).join(
        DatasetRow, DatasetRow.id == ProtectionEntryRow.dataset_id
    )
    if data_class is not None:
        query = query.where(DatasetRow.data_class == data_class.value)
    return page_of(session, query, (ProtectionEntryRow.dataset_id,), limit, offset, lambda r: _public(*r))


def allowed_targets(session: Session, ds: DatasetRow) -> set[str] | None:
    """Centers where ``ds`` may be copied by its class rule (None = any center accepting the class)."""
    if ds.data_class == DataClass.GENERAL.value:
        return None
    entry = session.get(ProtectionEntryRow, ds.id)
    listed = list(entry.allowed_centers) if entry is not None else list(ds.allowed_centers)
    return set(listed) | {ds.center_id}


def refusal(session: Session, ds: DatasetRow, center_id: str) -> str | None:
    """Why ``ds`` may not have a copy in ``center_id`` (None when it may)."""
    center = session.get(CenterRow, center_id)
    if center is None:
        return f"unknown center {center_id!r}"
    if ds.data_class not in center.allowed_data_classes:
        return f"center {center.id} does not accept {ds.data_class} data (数据级别不允许)"
    allowed = allowed_targets(session, ds)
    if allowed is not None and center_id not in allowed:
        rule = "core data stays in its home center unless centers are listed" if ds.data_class == "core" else (
            "important data may only be copied to its allowed centers")  # fmt: skip
        return f"{center_id} is not an allowed location of {ds.id}: {rule} (数据不得复制到该中心)"
    return None


def check_replica_list(session: Session, body: dict[str, object], dataset_id: str | None = None) -> None:
    """Residency of the ``replicas`` of a dataset create (``dataset_id`` None) or update body: every listed
    center must be allowed, as for :func:`add_replica`; 422 naming ``replicas[i]`` otherwise."""
    replicas = body.get("replicas")
    if not isinstance(replicas, list):
        return
    current = session.get(DatasetRow, dataset_id) if dataset_id is not None else None
    fields = (
        {c: getattr(current, c) for c in ("id", "center_id", "data_class", "allowed_centers")}
        if current
        else {}
    )
    fields.update({k: v for k, v in (("id", body.get("id")), ("center_id", body.get("center")),
                  ("data_class", body.get("data_class")), ("allowed_centers", body.get("allowed_centers")))
                  if v is not None})  # fmt: skip
    fields.setdefault("data_class", "general")
    fields.setdefault("allowed_centers", [])
    if not isinstance(fields.get("center_id"), str) or not isinstance(fields["allowed_centers"], list):
        return  # the endpoint's validation answers
    probe = DatasetRow(**fields)
    for i, center in enumerate(replicas):
        reason = refusal(session, probe, str(center)) if center != probe.center_id else None
        if reason is not None:
            raise invalid(f"replicas[{i}]", reason)


def check_class_change(session: Session, body: dict[str, object], dataset_id: str) -> None:
    """An update of ``dataset_id`` changing its ``data_class``, ``allowed_centers`` or home ``center`` must leave
    every copy lawful: the home center accepts the class, each center holding a copy (the listed ``replicas``
    and the files' replicas on storage endpoints) is allowed by :func:`refusal`, and a dataset in the protection
    catalog stays important or core. 422 naming the first of those fields the body changes."""
    changed = [k for k in ("data_class", "allowed_centers", "center") if body.get(k) is not None]
    current = session.get(DatasetRow, dataset_id)
    if not changed or current is None:
        return  # nothing of residency changes, or the endpoint answers 404
    fields = {c: getattr(current, c) for c in ("id", "center_id", "data_class", "allowed_centers")}
    fields.update({col: body[key] for key, col in (("data_class", "data_class"), ("allowed_centers",
                  "allowed_centers"), ("center", "center_id")) if body.get(key) is not None})  # fmt: skip
    if not all(isinstance(fields[c], str) for c in ("center_id", "data_class")) or not isinstance(
        fields["allowed_centers"], list
    ):
        return  # the endpoint's validation answers
    probe, field = DatasetRow(**fields), changed[0]
    if (
        probe.data_class == DataClass.GENERAL.value
        and session.get(ProtectionEntryRow, dataset_id) is not None
    ):
        raise invalid(field, f"{dataset_id} is in the protection catalog: it stays important or core data "
                             "(列入重要数据保护目录的数据不得降为一般数据)")  # fmt: skip
    home = session.get(CenterRow, probe.center_id)
    if home is not None and probe.data_class not in home.allowed_data_classes:
        raise invalid(
            field, f"home center {home.id} does not accept {probe.data_class} data (数据级别不允许)"
        )
    files = select(DataFileRow.id).where(DataFileRow.dataset_id == dataset_id)
    held = set(current.replicas) | set(session.scalars(
        select(StorageEndpointRow.center_id).join(FileReplicaRow, FileReplicaRow.endpoint_id == StorageEndpointRow.id)
        .where(FileReplicaRow.file_id.in_(files))))  # fmt: skip
    for center in sorted(held - {probe.center_id}):
        reason = refusal(session, probe, center)
        if reason is not None:
            raise invalid(
                field, f"a copy is held in {center}: {reason}; delete it there first (副本须先删除)"
            )


def add_replica(
    session: Session, dataset_id: str, body: ReplicaCreate, *, actor: str, now: float | None = None
) -> list[str]:
    """Copy a dataset to ``body.center`` if residency allows; returns the replica list (committed)."""
    ds = get_row(session, DatasetRow, dataset_id, "dataset")
    center = session.get(CenterRow, body.center)
    if center is None:
        raise invalid("center", f"unknown center {body.center!r}")
    if body.center == ds.center_id or body.center in ds.replicas:
        raise conflict("center", f"dataset {ds.id} already has a copy in {body.center}")
    if ds.data_class not in center.allowed_data_classes:
        raise invalid("center", f"center {center.id} does not accept {ds.data_class} data (数据级别不允许)")
    allowed = allowed_targets(session, ds)
    if allowed is not None and body.center not in allowed:
        rule = "core data stays in its home center unless centers are listed" if ds.data_class == "core" else (
            "important data may only be copied to its allowed centers")  # fmt: skip
        raise invalid(
            "center", f"{body.center} is not an allowed location of {ds.id}: {rule} (数据不得出境到该中心)"
        )
    ds.replicas = [*ds.replicas, body.center]
    audit.record(
        session, actor, "dataset.replicate", ds.id, {"center": body.center, "class": ds.data_class}, now=now
    )
    session.commit()
    return list(ds.replicas)


#: Most storage endpoints listed by :func:`residency` (``endpoints_total`` counts them all).
MAX_RESIDENCY_ENDPOINTS = 500


class ResidencyEndpoint(BaseModel):
    """A storage endpoint where a copy of the dataset may be written (by residency; its health apart)."""

    id: str
    center: str
    temperature: str
    available: bool = Field(description="healthy and not drained")


class ResidencyPublic(BaseModel):
    """Where a dataset's copies may live (数据驻留). ``rule``: ``class`` (general data: every center accepting
    the class), ``catalog`` (the protection catalog's list + home), ``dataset`` (the dataset's own list + home),
    ``home`` (core data with no center listed: its home only). ``centers``: those centers (accepting the class);
    ``endpoints``: their storage endpoints by id (at most :data:`MAX_RESIDENCY_ENDPOINTS`)."""

    dataset: str
    data_class: DataClass
    home: str
    rule: Literal["class", "catalog", "dataset", "home"]
    centers: list[str]
    endpoints: list[ResidencyEndpoint]
    endpoints_total: int


def residency(session: Session, dataset_id: str) -> ResidencyPublic:
    """The centers and storage endpoints where ``dataset_id`` may have copies, by the same rules as
    :func:`refusal` (404 for an unknown dataset)."""
    ds = get_row(session, DatasetRow, dataset_id, "dataset")
    allowed = allowed_targets(session, ds)
    rule: Literal["class", "catalog", "dataset", "home"] = "class"
    if allowed is not None:
        listed = session.get(ProtectionEntryRow, ds.id) is not None
        rule = "catalog" if listed else ("dataset" if ds.allowed_centers else "home")
    centers = sorted(
        c.id for c in session.scalars(select(CenterRow))
        if ds.data_class in c.allowed_data_classes and (allowed is None or c.id in allowed)
    )  # fmt: skip
    rows = session.scalars(
        select(StorageEndpointRow).where(StorageEndpointRow.center_id.in_(centers)).order_by(StorageEndpointRow.id)
    ).all()  # fmt: skip
    endpoints = [
        ResidencyEndpoint(id=r.id, center=r.center_id, temperature=r.temperature,
                          available=bool(r.available and not r.drained))
        for r in rows[:MAX_RESIDENCY_ENDPOINTS]
    ]  # fmt: skip
    return ResidencyPublic(
        dataset=ds.id, data_class=DataClass(ds.data_class), home=ds.center_id, rule=rule, centers=centers,
        endpoints=endpoints, endpoints_total=len(rows),
    )  # fmt: skip
