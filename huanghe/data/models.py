"""ORM rows of data: datasets and the protection catalog of important and core data (重要数据保护目录).

Sizes in GB (10^9 bytes); times are epoch seconds (``*_s``); lists of center ids are JSON."""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Double,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from huanghe.store.base import ENUM, ID, Base


class DatasetRow(Base):
    """A dataset; ``size_gb`` in GB (10^9 bytes). Replicas and allowed centers are lists of center ids."""

    __tablename__ = "datasets"

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    tenant_id: Mapped[str] = mapped_column(ID, ForeignKey("tenants.id", ondelete="RESTRICT"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    center_id: Mapped[str] = mapped_column(ID, ForeignKey("centers.id", ondelete="RESTRICT"), index=True)
    size_gb: Mapped[float] = mapped_column(Double)
    data_class: Mapped[str] = mapped_column(ENUM)
    temperature: Mapped[str] = mapped_column(ENUM)
    replicas: Mapped[list[str]] = mapped_column(JSON)
    allowed_centers: Mapped[list[str]] = mapped_column(JSON)


class ProtectionEntryRow(Base):
    """An entry of the protection catalog of important and core data (重要数据保护目录)."""

    __tablename__ = "protection_entries"

    dataset_id: Mapped[str] = mapped_column(
        ID, ForeignKey("datasets.id", ondelete="CASCADE"), primary_key=True
    )
    owner: Mapped[str] = mapped_column(String(200))
    location: Mapped[str] = mapped_column(ID)
    allowed_centers: Mapped[list[str]] = mapped_column(JSON)
    purpose: Mapped[str] = mapped_column(Text)
    created_s: Mapped[float] = mapped_column(Double)


# --- data services (issue #13): endpoints, files, replicas, rules, locks, transfers, lifecycle ----------
# Sizes of stored bytes are integers in bytes (``*_bytes``); times epoch seconds (``*_s``); money integer fen.


class StorageEndpointRow(Base):
    """An S3-compatible object store holding one storage tier of one center (a Rucio "RSE").

    ``url`` + ``bucket`` locate it; the credentials are secrets (``backend_secrets`` names, encrypted at rest),
    never stored here. ``capacity_bytes`` is what the platform may use; ``used_bytes`` is the sum of the
    replicas it holds (kept by the data services). ``attributes`` adds free key → value pairs to the ones
    derived from the topology (center, city, circle, tier, medium, operator, security level) that replication
    rule expressions select on. ``available`` is False while the endpoint does not answer (``reason`` says why).
    """

    __tablename__ = "storage_endpoints"

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    center_id: Mapped[str] = mapped_column(ID, ForeignKey("centers.id", ondelete="RESTRICT"), index=True)
    temperature: Mapped[str] = mapped_column(ENUM)
    medium: Mapped[str] = mapped_column(ENUM)
    url: Mapped[str] = mapped_column(String(500))
    bucket: Mapped[str] = mapped_column(String(63))
    access_key_secret: Mapped[str | None] = mapped_column(ID, nullable=True)
    secret_key_secret: Mapped[str | None] = mapped_column(ID, nullable=True)
    capacity_bytes: Mapped[int] = mapped_column(BigInteger)
    used_bytes: Mapped[int] = mapped_column(BigInteger, default=0)
    available: Mapped[bool] = mapped_column(Boolean, default=True)
    # taken out of new placements by an admin or its operator (maintenance); ``available`` is the health check's
    drained: Mapped[bool] = mapped_column(Boolean, default=False)
    reason: Mapped[str] = mapped_column(Text, default="")
    checked_s: Mapped[float | None] = mapped_column(Double, nullable=True)
    attributes: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_s: Mapped[float] = mapped_column(Double)


class DataQuotaRow(Base):
    """How many bytes a tenant may keep on one endpoint, or on all together (``endpoint_id`` = ``"*"``)."""

    __tablename__ = "data_quotas"

    tenant_id: Mapped[str] = mapped_column(ID, ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True)
    endpoint_id: Mapped[str] = mapped_column(ID, primary_key=True)
    limit_bytes: Mapped[int] = mapped_column(BigInteger)


class DataFileRow(Base):
    """A file of a dataset: its size and SHA-256 (hex), checked after every write and transfer.

    ``state``: ``uploading`` (no verified replica yet), ``available``, ``lost`` (no good replica left)."""

    __tablename__ = "data_files"
    __table_args__ = (UniqueConstraint("dataset_id", "name", name="uq_data_files_dataset_id_name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    dataset_id: Mapped[str] = mapped_column(ID, ForeignKey("datasets.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(512))
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(ENUM, default="uploading")
    created_s: Mapped[float] = mapped_column(Double)
    accessed_s: Mapped[float] = mapped_column(Double)


class FileReplicaRow(Base):
    """A copy of a file on an endpoint (object ``object_key`` in the endpoint's bucket).

    ``state``: ``copying`` (a transfer is writing it), ``available`` (verified), ``bad`` (checksum mismatch or
    missing object), ``deleting``. ``tombstone_s`` is set when no rule protects it any more: from then on the
    reaper may delete it, least recently accessed first, when the endpoint needs space."""

    __tablename__ = "file_replicas"

    file_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("data_files.id", ondelete="CASCADE"), primary_key=True
    )
    endpoint_id: Mapped[str] = mapped_column(
        ID, ForeignKey("storage_endpoints.id", ondelete="RESTRICT"), primary_key=True, index=True
    )
    state: Mapped[str] = mapped_column(ENUM, default="copying")
    object_key: Mapped[str] = mapped_column(String(700))
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    lock_count: Mapped[int] = mapped_column(Integer, default=0)
    tombstone_s: Mapped[float | None] = mapped_column(Double, nullable=True)
    created_s: Mapped[float] = mapped_column(Double)
    accessed_s: Mapped[float] = mapped_column(Double)
    verified_s: Mapped[float | None] = mapped_column(Double, nullable=True)


class ReplicationRuleRow(Base):
    """A replication rule: ``copies`` copies of every file of a dataset on endpoints selected by
    ``expression`` (over endpoint attributes), until ``expires_s`` (None: forever).

    ``grouping``: ``all`` (every file of the dataset on the same endpoints) or ``none`` (each file placed on
    its own). ``weight``: an endpoint attribute whose value weights the choice among qualifying endpoints.
    ``state``: ``replicating`` / ``ok`` / ``stuck`` / ``suspended`` with ``reason``. ``origin``: who made it
    (``user``, ``backup`` policy, ``staging`` for a job, ``upload``). Counts of its locks by state are kept
    for listing."""

    __tablename__ = "replication_rules"

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    dataset_id: Mapped[str] = mapped_column(ID, ForeignKey("datasets.id", ondelete="CASCADE"), index=True)
    tenant_id: Mapped[str] = mapped_column(ID, ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    copies: Mapped[int] = mapped_column(Integer)
    expression: Mapped[str] = mapped_column(Text)
    grouping: Mapped[str] = mapped_column(ENUM, default="all")
    weight: Mapped[str | None] = mapped_column(String(64), nullable=True)
    lifetime_s: Mapped[float | None] = mapped_column(Double, nullable=True)
    expires_s: Mapped[float | None] = mapped_column(Double, nullable=True, index=True)
    state: Mapped[str] = mapped_column(ENUM, default="replicating", index=True)
    reason: Mapped[str] = mapped_column(Text, default="")
    origin: Mapped[str] = mapped_column(ENUM, default="user")
    priority: Mapped[int] = mapped_column(Integer, default=3)
    locks_ok: Mapped[int] = mapped_column(Integer, default=0)
    locks_replicating: Mapped[int] = mapped_column(Integer, default=0)
    locks_stuck: Mapped[int] = mapped_column(Integer, default=0)
    created_by: Mapped[str] = mapped_column(String(200), default="")
    created_s: Mapped[float] = mapped_column(Double)
    updated_s: Mapped[float] = mapped_column(Double)


class ReplicaLockRow(Base):
    """A rule's claim on one file's copy on one endpoint: ``ok`` (the replica is available),
    ``replicating`` (a transfer is on its way), ``stuck`` (transfers failed; the repairer retries)."""

    __tablename__ = "replica_locks"

    rule_id: Mapped[str] = mapped_column(
        ID, ForeignKey("replication_rules.id", ondelete="CASCADE"), primary_key=True
    )
    file_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("data_files.id", ondelete="CASCADE"), primary_key=True
    )
    endpoint_id: Mapped[str] = mapped_column(
        ID, ForeignKey("storage_endpoints.id", ondelete="RESTRICT"), primary_key=True, index=True
    )
    state: Mapped[str] = mapped_column(ENUM, default="replicating")


class TransferRow(Base):
    """A copy of one file to ``dest_endpoint_id``, queued by a rule (or a staging/repair), done by the
    transfer service: ``queued`` → ``active`` (leased by ``lease_owner`` until ``lease_until_s``) → ``done``
    or ``failed`` (after ``max_attempts``, each attempt from another source when there is one,
    ``tried_sources``). A crashed service's active transfers are re-queued when their lease expires; the copy
    is idempotent (same object key, verified by checksum), so none is lost or counted twice.
    ``bytes`` moved, ``duration_s``, ``cost_fen`` (egress), ``energy_wh`` and ``carbon_g`` are recorded."""

    __tablename__ = "transfers"
    __table_args__ = (Index("ix_transfers_state_priority", "state", "priority"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    file_id: Mapped[int] = mapped_column(Integer, ForeignKey("data_files.id", ondelete="CASCADE"), index=True)
    tenant_id: Mapped[str] = mapped_column(ID, ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    rule_id: Mapped[str | None] = mapped_column(
        ID, ForeignKey("replication_rules.id", ondelete="SET NULL"), nullable=True, index=True
    )
    dest_endpoint_id: Mapped[str] = mapped_column(
        ID, ForeignKey("storage_endpoints.id", ondelete="RESTRICT"), index=True
    )
    source_endpoint_id: Mapped[str | None] = mapped_column(ID, nullable=True)
    state: Mapped[str] = mapped_column(ENUM, default="queued")
    priority: Mapped[int] = mapped_column(Integer, default=3)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    max_attempts: Mapped[int] = mapped_column(Integer, default=3)
    tried_sources: Mapped[list[str]] = mapped_column(JSON, default=list)
    bytes: Mapped[int] = mapped_column(BigInteger, default=0)
    created_s: Mapped[float] = mapped_column(Double)
    started_s: Mapped[float | None] = mapped_column(Double, nullable=True)
    finished_s: Mapped[float | None] = mapped_column(Double, nullable=True)
    duration_s: Mapped[float | None] = mapped_column(Double, nullable=True)
    cost_fen: Mapped[int] = mapped_column(Integer, default=0)
    energy_wh: Mapped[float] = mapped_column(Double, default=0.0)
    carbon_g: Mapped[float] = mapped_column(Double, default=0.0)
    error: Mapped[str] = mapped_column(Text, default="")
    lease_owner: Mapped[str | None] = mapped_column(String(100), nullable=True)
    lease_until_s: Mapped[float | None] = mapped_column(Double, nullable=True)


class LifecyclePolicyRow(Base):
    """Tiering: move a dataset's copies from ``from_temperature`` to ``to_temperature`` storage once it has
    not been read for ``idle_s`` seconds and is at least ``min_age_s`` old. ``tenant_id`` None = every
    tenant (a province policy); a tenant's own policy wins over the province's."""

    __tablename__ = "lifecycle_policies"

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    tenant_id: Mapped[str | None] = mapped_column(
        ID, ForeignKey("tenants.id", ondelete="CASCADE"), nullable=True, index=True
    )
    from_temperature: Mapped[str] = mapped_column(ENUM)
    to_temperature: Mapped[str] = mapped_column(ENUM)
    idle_s: Mapped[float] = mapped_column(Double)
    min_age_s: Mapped[float] = mapped_column(Double, default=0.0)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    created_s: Mapped[float] = mapped_column(Double)


class DataUploadRow(Base):
    """An upload of one file in parts (S3 multipart upload ``s3_upload_id`` of ``object_key`` on
    ``endpoint_id``). ``size_bytes`` is declared when the upload opens, so quotas and space are checked
    before any byte is accepted (an open upload counts as used). ``parts`` maps the part number (text) to
    ``{"etag", "size", "sha256"}`` of what was received. ``state``: ``open`` → ``done`` (``file_id`` set)
    or ``aborted`` / ``failed`` (``reason``; the object and its parts are deleted). ``expires_s``: an open
    upload not completed by then is aborted."""

    __tablename__ = "data_uploads"

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    dataset_id: Mapped[str] = mapped_column(ID, ForeignKey("datasets.id", ondelete="CASCADE"), index=True)
    tenant_id: Mapped[str] = mapped_column(ID, ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(512))
    endpoint_id: Mapped[str] = mapped_column(
        ID, ForeignKey("storage_endpoints.id", ondelete="RESTRICT"), index=True
    )
    object_key: Mapped[str] = mapped_column(String(700))
    s3_upload_id: Mapped[str] = mapped_column(Text)
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    parts: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    state: Mapped[str] = mapped_column(ENUM, default="open", index=True)
    reason: Mapped[str] = mapped_column(Text, default="")
    file_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created_by: Mapped[str] = mapped_column(String(200), default="")
    created_s: Mapped[float] = mapped_column(Double)
    updated_s: Mapped[float] = mapped_column(Double)
    expires_s: Mapped[float] = mapped_column(Double)
