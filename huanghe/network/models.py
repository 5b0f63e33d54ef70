"""ORM rows of the network: regions → cities → centers → storage tiers / pools, and links. Column units
follow :mod:`huanghe.domain.network` (names carry the unit).

Every row that belongs to the topology file has a ``position``: the order of the item in the file, so that
exporting the database gives back the same document. Enum values are stored as their lower-case strings.
Lists and mappings (allowed data classes, exporters, speed, back-end settings) are JSON."""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, Double, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from huanghe.domain.network import DEFAULT_TIME_LIMIT_S, MAX_TIME_LIMIT_S
from huanghe.store.base import ENUM, ID, Base


class NetworkRow(Base):
    """The single row (``id = 1``) holding the name and provenance of the imported topology."""

    __tablename__ = "network"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(ID)
    version: Mapped[int] = mapped_column(Integer, default=1)
    description: Mapped[str] = mapped_column(Text, default="")
    note: Mapped[str] = mapped_column(Text, default="")


class RegionRow(Base):
    __tablename__ = "regions"

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    name_zh: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    position: Mapped[int] = mapped_column(Integer, default=0)


class CityRow(Base):
    __tablename__ = "cities"

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    name_zh: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    region_id: Mapped[str] = mapped_column(ID, ForeignKey("regions.id", ondelete="RESTRICT"), index=True)
    lon: Mapped[float] = mapped_column(Double)
    lat: Mapped[float] = mapped_column(Double)
    position: Mapped[int] = mapped_column(Integer, default=0)


class CenterRow(Base):
    """A center with its energy profile flattened into columns (PUE, REF, grid factor kg/kWh, WUE l/kWh)."""

    __tablename__ = "centers"

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    name_zh: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    city_id: Mapped[str] = mapped_column(ID, ForeignKey("cities.id", ondelete="RESTRICT"), index=True)
    tier: Mapped[str] = mapped_column(ENUM, index=True)
    kind: Mapped[str] = mapped_column(ENUM, index=True)
    operator: Mapped[str] = mapped_column(String(200))
    lon: Mapped[float] = mapped_column(Double)
    lat: Mapped[float] = mapped_column(Double)
    it_design_kw: Mapped[float] = mapped_column(Double)
    racks_in_use: Mapped[int | None] = mapped_column(Integer, nullable=True)
    opened_year: Mapped[int | None] = mapped_column(Integer, nullable=True)
    pue: Mapped[float] = mapped_column(Double)
    pue_category: Mapped[str] = mapped_column(ENUM)
    renewable_share: Mapped[float] = mapped_column(Double)
    grid_emission_kg_per_kwh: Mapped[float] = mapped_column(Double)
    wue_l_per_kwh: Mapped[float | None] = mapped_column(Double, nullable=True)
    egress_gbps: Mapped[float] = mapped_column(Double)
    pon10g_port_share: Mapped[float] = mapped_column(Double)
    security_level: Mapped[int] = mapped_column(Integer)
    allowed_data_classes: Mapped[list[str]] = mapped_column(JSON)
    exporters: Mapped[list[str]] = mapped_column(JSON)
    illustrative: Mapped[bool] = mapped_column(Boolean)
    position: Mapped[int] = mapped_column(Integer, default=0)

    storage: Mapped[list[StorageTierRow]] = relationship(
        back_populates="center",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="StorageTierRow.position",
    )
    pools: Mapped[list[PoolRow]] = relationship(
        back_populates="center",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="(PoolRow.position, PoolRow.id)",
    )


class StorageTierRow(Base):
    __tablename__ = "storage_tiers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    center_id: Mapped[str] = mapped_column(ID, ForeignKey("centers.id", ondelete="CASCADE"), index=True)
    medium: Mapped[str] = mapped_column(ENUM)
    temperature: Mapped[str] = mapped_column(ENUM)
    capacity_tb: Mapped[float] = mapped_column(Double)
    used_tb: Mapped[float] = mapped_column(Double)
    position: Mapped[int] = mapped_column(Integer, default=0)

    center: Mapped[CenterRow] = relationship(back_populates="storage")


class PoolRow(Base):
    """A pool; peak throughput of one node per precision in TFLOPS (INT8 in TOPS)."""

    __tablename__ = "pools"

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    center_id: Mapped[str] = mapped_column(ID, ForeignKey("centers.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    accelerator: Mapped[str] = mapped_column(String(200))
    accelerator_class: Mapped[str] = mapped_column(ENUM, index=True)
    cpu_model: Mapped[str] = mapped_column(String(200))
    nodes: Mapped[int] = mapped_column(Integer)
    cpus_per_node: Mapped[int] = mapped_column(Integer)
    gpus_per_node: Mapped[int] = mapped_column(Integer)
    mem_gb_per_node: Mapped[float] = mapped_column(Double)
    fp64_tflops_per_node: Mapped[float] = mapped_column(Double)
    fp32_tflops_per_node: Mapped[float] = mapped_column(Double)
    fp16_tflops_per_node: Mapped[float] = mapped_column(Double)
    int8_tops_per_node: Mapped[float] = mapped_column(Double)
    power_kw_per_node: Mapped[float] = mapped_column(Double)
    price_cny_per_hour: Mapped[float] = mapped_column(Double)
    speed: Mapped[dict[str, float]] = mapped_column(JSON)
    backend: Mapped[str] = mapped_column(String(64), index=True)
    backend_settings: Mapped[dict[str, Any]] = mapped_column(JSON)
    illustrative: Mapped[bool] = mapped_column(Boolean)
    position: Mapped[int] = mapped_column(Integer, default=0)
    # wall times, seconds: of a job naming none (Slurm DefaultTime), the most a job may ask (Slurm MaxTime)
    default_time_limit_s: Mapped[float] = mapped_column(Double, default=DEFAULT_TIME_LIMIT_S)
    max_time_limit_s: Mapped[float] = mapped_column(Double, default=MAX_TIME_LIMIT_S)

    center: Mapped[CenterRow] = relationship(back_populates="pools")


class LinkRow(Base):
    """A link between two centers; one row per unordered pair (the service refuses the reverse pair)."""

    __tablename__ = "links"
    __table_args__ = (UniqueConstraint("a_id", "b_id", name="uq_links_a_id_b_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    a_id: Mapped[str] = mapped_column(ID, ForeignKey("centers.id", ondelete="CASCADE"), index=True)
    b_id: Mapped[str] = mapped_column(ID, ForeignKey("centers.id", ondelete="CASCADE"), index=True)
    bandwidth_gbps: Mapped[float] = mapped_column(Double)
    latency_ms: Mapped[float | None] = mapped_column(Double, nullable=True)
    hops: Mapped[int] = mapped_column(Integer)
    position: Mapped[int] = mapped_column(Integer, default=0)


class SecretRow(Base):
    """A back-end credential (a token, a password) that pools' ``backend_settings`` name with ``*_secret``
    keys. ``ciphertext`` is the Fernet token of the value (AES-128-CBC + HMAC-SHA256, key from
    ``HUANGHE_SECRET_KEY``); the plaintext is never stored. Times are epoch seconds."""

    __tablename__ = "backend_secrets"

    name: Mapped[str] = mapped_column(ID, primary_key=True)
    ciphertext: Mapped[str] = mapped_column(Text)
    description: Mapped[str] = mapped_column(String(200), default="")
    created_s: Mapped[float] = mapped_column(Double)
    updated_s: Mapped[float] = mapped_column(Double)


class OfferingRow(Base):
    """A compute product (算力产品) an operator publishes on one of its pools: price (integer fen per
    node-hour), SLA (availability in basis points, support response in minutes), the data-security level
    it offers (1..5, at most its center's). ``state``: draft → published → withdrawn (see
    :mod:`huanghe.network.offerings`). Times are epoch seconds."""

    __tablename__ = "offerings"

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    pool_id: Mapped[str] = mapped_column(ID, ForeignKey("pools.id", ondelete="CASCADE"), index=True)
    name_zh: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    price_fen_per_node_hour: Mapped[int] = mapped_column(BigInteger)
    availability_bp: Mapped[int] = mapped_column(Integer)
    response_minutes: Mapped[int] = mapped_column(Integer)
    security_level: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(16), index=True)
    created_by: Mapped[str] = mapped_column(String(200))
    created_s: Mapped[float] = mapped_column(Double)
    updated_s: Mapped[float] = mapped_column(Double)
    published_s: Mapped[float | None] = mapped_column(Double, nullable=True)
    withdrawn_s: Mapped[float | None] = mapped_column(Double, nullable=True)


class PoolDrainRow(Base):
    """A pool drained by its operator (or an admin): it takes no new jobs until resumed (the row is deleted);
    jobs already on it run to their end. ``since_s`` is epoch seconds; ``by`` the actor who drained it."""

    __tablename__ = "pool_drains"

    pool_id: Mapped[str] = mapped_column(ID, ForeignKey("pools.id", ondelete="CASCADE"), primary_key=True)
    reason: Mapped[str] = mapped_column(String(500), default="")
    by: Mapped[str] = mapped_column(String(200))
    since_s: Mapped[float] = mapped_column(Double)
