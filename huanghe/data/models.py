"""ORM rows of data: datasets and the protection catalog of important and core data (重要数据保护目录).

Sizes in GB (10^9 bytes); times are epoch seconds (``*_s``); lists of center ids are JSON."""

from __future__ import annotations

from sqlalchemy import JSON, Double, ForeignKey, String, Text
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
