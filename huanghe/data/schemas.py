"""Public schemas of datasets: ``DatasetCreate``, ``DatasetPublic``, ``DatasetUpdate`` (``size_gb`` in GB)."""

from __future__ import annotations

from huanghe.core.schemas import UpdateSchema
from huanghe.domain.enums import DataClass, Temperature
from huanghe.domain.jobs import Dataset


class DatasetCreate(Dataset):
    """A new dataset; tenant and centers (primary, replicas, allowed) must exist."""


class DatasetPublic(Dataset):
    """A dataset."""


class DatasetUpdate(UpdateSchema):
    tenant: str | None = None
    name: str | None = None
    center: str | None = None
    size_gb: float | None = None
    data_class: DataClass | None = None
    temperature: Temperature | None = None
    replicas: list[str] | None = None
    allowed_centers: list[str] | None = None
