"""Conversions between dataset ORM rows and domain / public models (no queries, no commits)."""

from __future__ import annotations

from typing import Any

from huanghe.data.models import DatasetRow
from huanghe.data.schemas import DatasetPublic
from huanghe.domain.jobs import Dataset


def dataset_dict(row: DatasetRow) -> dict[str, Any]:
    return {
        "id": row.id,
        "tenant": row.tenant_id,
        "name": row.name,
        "center": row.center_id,
        "size_gb": row.size_gb,
        "data_class": row.data_class,
        "temperature": row.temperature,
        "replicas": list(row.replicas or []),
        "allowed_centers": list(row.allowed_centers or []),
    }


def dataset_public(row: DatasetRow) -> DatasetPublic:
    return DatasetPublic.model_validate(dataset_dict(row))


def apply_dataset(row: DatasetRow, ds: Dataset) -> None:
    row.id, row.tenant_id, row.name, row.center_id = ds.id, ds.tenant, ds.name, ds.center
    row.size_gb, row.data_class, row.temperature = ds.size_gb, ds.data_class.value, ds.temperature.value
    row.replicas, row.allowed_centers = list(ds.replicas), list(ds.allowed_centers)
