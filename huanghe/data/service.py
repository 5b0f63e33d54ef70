"""Datasets: list (filters + pagination), get, create, patch, delete.

A dataset belongs to a tenant and has its primary copy in a center; ``replicas`` and ``allowed_centers`` are
checked when written (centers must exist; important and core data also against the protection catalog, see
:mod:`huanghe.data.protection`; a change of class, allowed centers or home center must leave every copy
lawful; a LOWER class is recorded as ``data.class.lower`` in the audit trail, which the regulator's risk
monitoring turns into an alert, :mod:`huanghe.regulator.risk`). Same transaction and error conventions as
:mod:`huanghe.network.service`."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from huanghe.audit import service as audit
from huanghe.core.paging import DEFAULT_PAGE_LIMIT, Page
from huanghe.data import rows as data_rows
from huanghe.data.files import purge_dataset
from huanghe.data.models import DatasetRow
from huanghe.data.protection import check_class_change
from huanghe.data.schemas import DatasetCreate, DatasetPublic, DatasetUpdate
from huanghe.domain.enums import DataClass
from huanghe.domain.jobs import Dataset
from huanghe.network.models import CenterRow
from huanghe.store.crud import commit, get_row, merged, missing, page_of, raise_if, refuse_if_exists
from huanghe.tenancy.models import TenantRow


def list_datasets(
    session: Session,
    *,
    tenant: str | None = None,
    center: str | None = None,
    data_class: DataClass | None = None,
    limit: int = DEFAULT_PAGE_LIMIT,
    offset: int = 0,
) -> Page[DatasetPublic]:
    stmt = select(DatasetRow)
    if tenant is not None:
        stmt = stmt.where(DatasetRow.tenant_id == tenant)
    if center is not None:
        stmt = stmt.where(DatasetRow.center_id == center)
    if data_class is not None:
        stmt = stmt.where(DatasetRow.data_class == DataClass(data_class).value)
    return page_of(session, stmt, (DatasetRow.id,), limit, offset, data_rows.dataset_public)


def get_dataset(session: Session, dataset_id: str) -> DatasetPublic:
    return data_rows.dataset_public(get_row(session, DatasetRow, dataset_id, "dataset"))


def tenant_of_dataset(session: Session, dataset_id: str) -> str:
    """The tenant owning dataset ``dataset_id``; :class:`NotFoundError` when there is no such dataset."""
    return get_row(session, DatasetRow, dataset_id, "dataset").tenant_id


def _dataset_refs(session: Session, ds: Dataset) -> None:
    errors = missing(session, TenantRow, ds.tenant, "tenant", "tenant")
    errors += missing(session, CenterRow, ds.center, "center", "center")
    for field in ("replicas", "allowed_centers"):
        for i, ident in enumerate(getattr(ds, field)):
            errors += missing(session, CenterRow, ident, f"{field}[{i}]", "center")
    raise_if(errors)


def create_dataset(session: Session, data: DatasetCreate) -> DatasetPublic:
    refuse_if_exists(session, DatasetRow, data.id, "dataset")
    _dataset_refs(session, data)
    row = DatasetRow()
    data_rows.apply_dataset(row, data)
    session.add(row)
    commit(session)
    return data_rows.dataset_public(row)


#: Data classes from the least to the most protected (a move down this order is a lowering).
CLASS_ORDER: tuple[str, ...] = (DataClass.GENERAL.value, DataClass.IMPORTANT.value, DataClass.CORE.value)
#: Audit action of a lowered data class (payload: ``from``, ``to``, ``tenant``).
CLASS_LOWERED = "data.class.lower"


def update_dataset(
    session: Session, dataset_id: str, patch: DatasetUpdate, *, actor: str = "api"
) -> DatasetPublic:
    """Change the fields given. A lower ``data_class`` (core → important → general) is allowed where every copy
    stays lawful and the dataset is not in the protection catalog, and audited as :data:`CLASS_LOWERED` in the
    same transaction (the regulator is alerted: declassifying data is how it would leave its region)."""
    row = get_row(session, DatasetRow, dataset_id, "dataset")
    before = row.data_class
    ds = merged(Dataset, data_rows.dataset_dict(row), patch)
    _dataset_refs(session, ds)
    check_class_change(session, patch.model_dump(mode="json", exclude_unset=True), dataset_id)
    data_rows.apply_dataset(row, ds)
    if CLASS_ORDER.index(str(row.data_class)) < CLASS_ORDER.index(str(before)):
        audit.record(session, actor, CLASS_LOWERED, dataset_id,
                     {"from": before, "to": row.data_class, "tenant": row.tenant_id})  # fmt: skip
    commit(session)
    return data_rows.dataset_public(row)


def delete_dataset(session: Session, dataset_id: str, *, actor: str = "api") -> None:
    """Delete a dataset; its files' objects on every endpoint are deleted first (:mod:`huanghe.data.files`)."""
    row = get_row(session, DatasetRow, dataset_id, "dataset")
    purge_dataset(session, dataset_id, actor=actor)
    session.delete(row)
    commit(session)
