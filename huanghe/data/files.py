"""Datasets' files on the storage endpoints: registration, listing with replicas, download, deletion, and the
checks every write goes through (target endpoint, residency, quotas, space).

* Every object key is ``<endpoint id>/<dataset id>/<file name>`` (docs/data.md); a replica row stores it.
* A dataset's ``size_gb`` (sum of its available files, GB = 10^9 bytes) and ``replicas`` (every center
  holding a complete copy: one available replica of each available file on its endpoints) are recomputed
  by :func:`refresh_dataset` after every change of its files or replicas.
* ``used_bytes`` of an endpoint is the sum of the sizes of the replica rows it holds (added when a replica
  row is made, removed when it is deleted). An open upload reserves its declared size (quotas and space).
* Quotas (``data_quotas``): per tenant and endpoint, and per tenant on all endpoints (``endpoint_id`` =
  ``"*"``); no row = no limit. Checked, with the endpoint's free space, before any byte is accepted.
* Uploads in parts: :mod:`huanghe.data.uploads`. Times come from a :class:`~huanghe.core.clock.Clock`.

Errors are :mod:`huanghe.core.errors` services errors naming the field; a failing object store is an
:class:`~huanghe.data.objects.ObjectStoreError` (the router answers 503).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from sqlalchemy import distinct, func, select
from sqlalchemy.orm import Session, sessionmaker

from huanghe.audit import service as audit
from huanghe.core.clock import Clock, WallClock
from huanghe.core.errors import FieldError, ForbiddenError, NotFoundError, conflict, invalid
from huanghe.core.paging import DEFAULT_PAGE_LIMIT, Page
from huanghe.data import endpoints, protection, quotas
from huanghe.data.file_schemas import DatasetRegister, FilePublic, ReplicaPublic, name_problem
from huanghe.data.models import (
    DataFileRow,
    DatasetRow,
    DataUploadRow,
    FileReplicaRow,
    StorageEndpointRow,
)
from huanghe.data.objects import ObjectStore, ObjectStoreError
from huanghe.network.models import CenterRow
from huanghe.store.crud import check_page, commit, get_row, refuse_if_exists
from huanghe.tenancy.models import TenantRow

#: Resolves an endpoint id to its object store (default :func:`default_store_of`).
StoreOf = Callable[[Session, str], ObjectStore]
GB = 1e9


# --- stores --------------------------------------------------------------------------------------------------
def default_store_of(session: Session, endpoint_id: str) -> ObjectStore:
    """The object store of an endpoint (:func:`huanghe.data.endpoints.store_of`, cached per process)."""
    return endpoints.store_of(session, endpoint_id)


def object_key(endpoint_id: str, dataset_id: str, name: str) -> str:
    """Where a file lives on an endpoint (every key starts with the endpoint id: endpoints share buckets)."""
    return endpoints.object_key(endpoint_id, dataset_id, name)


def check_name(name: str, field: str = "path.name") -> str:
    """``name`` when it is an acceptable file name, else 422 naming ``field``."""
    problem = name_problem(name)
    if problem is not None:
        raise invalid(field, problem)
    return name


# --- datasets ------------------------------------------------------------------------------------------------
def get_dataset_row(session: Session, dataset_id: str) -> DatasetRow:
    row = get_row(session, DatasetRow, dataset_id, "dataset")
    return row


def _audit_refusal(session: Session, actor: str, ds: DatasetRow, endpoint_id: str, reason: str) -> None:
    """A residency refusal is audited in its own transaction (the refused change itself is not stored)."""
    session.rollback()
    audit.record(session, actor, "data.residency.refuse", ds.id, {"endpoint": endpoint_id, "reason": reason})
    session.commit()


def choose_endpoint(
    session: Session, ds: DatasetRow, *, endpoint: str | None, center: str | None, actor: str,
    field: str = "endpoint",
) -> StorageEndpointRow:  # fmt: skip
    """The endpoint to write a file of ``ds`` to: ``endpoint``, else the hot endpoint of ``center`` (else of
    the home center). 422 naming the field when unknown, unavailable, or refused by residency (audited)."""
    if endpoint is not None:
        row = session.get(StorageEndpointRow, endpoint)
        if row is None:
            raise invalid(field, f"unknown storage endpoint {endpoint!r}")
    else:
        where = center or ds.center_id
        field = "center" if center else field
        candidates = session.scalars(
            select(StorageEndpointRow).where(StorageEndpointRow.center_id == where)
            .order_by(StorageEndpointRow.temperature != "hot", StorageEndpointRow.id)
        ).all()  # fmt: skip
        hot = [r for r in candidates if r.temperature == "hot"]
        if not hot:
            raise invalid(
                field, f"center {where!r} has no hot storage endpoint; name an endpoint (无可用存储)"
            )
        row = next((r for r in hot if r.available and not r.drained), hot[0])
    if not row.available or row.drained:
        why = "drained for maintenance" if row.drained else row.reason or "unreachable"
        raise invalid(field, f"storage endpoint {row.id} is not available: {why} (存储不可用)")
    reason = protection.refusal(session, ds, row.center_id)
    if reason is not None:
        _audit_refusal(session, actor, ds, row.id, reason)
        raise invalid(field, reason)
    return row


def _default_home(session: Session, ds: DatasetRow) -> StorageEndpointRow:
    """The available hot endpoint with the most free space among the centers that may hold ``ds``."""
    rows = session.scalars(
        select(StorageEndpointRow).where(StorageEndpointRow.temperature == "hot",
                                         StorageEndpointRow.available.is_(True),
                                         StorageEndpointRow.drained.is_(False))
        .order_by((StorageEndpointRow.capacity_bytes - StorageEndpointRow.used_bytes).desc(),
                  StorageEndpointRow.id)
    ).all()  # fmt: skip
    for row in rows:
        ds.center_id = row.center_id
        if protection.refusal(session, ds, row.center_id) is None:
            return row
    raise invalid(
        "endpoint", "no available hot storage endpoint may hold this dataset; name one (无可用存储)"
    )


def register_dataset(
    session: Session, data: DatasetRegister, *, tenant: str, actor: str, clock: Clock | None = None
) -> DatasetRow:
    """Register an empty dataset for uploads (201); 409 when the id exists, 422 naming the field."""
    refuse_if_exists(session, DatasetRow, data.id, "dataset")
    if session.get(TenantRow, tenant) is None:
        raise invalid("tenant", f"unknown tenant {tenant!r}")
    known = set(session.scalars(select(CenterRow.id).where(CenterRow.id.in_(data.allowed_centers))))
    for i, c in enumerate(data.allowed_centers):
        if c not in known:
            raise invalid(f"allowed_centers[{i}]", f"unknown center {c!r}")
    ds = DatasetRow(
        id=data.id, tenant_id=tenant, name=data.name or data.id, center_id="", size_gb=0.0,
        data_class=data.data_class.value, temperature=data.temperature.value, replicas=[],
        allowed_centers=list(data.allowed_centers),
    )  # fmt: skip
    if data.center is not None:
        if session.get(CenterRow, data.center) is None:
            raise invalid("center", f"unknown center {data.center!r}")
        ds.center_id = data.center
        reason = protection.refusal(session, ds, data.center)
        if reason is not None:
            raise invalid("center", reason)
    elif data.endpoint is not None:
        row = session.get(StorageEndpointRow, data.endpoint)
        if row is None:
            raise invalid("endpoint", f"unknown storage endpoint {data.endpoint!r}")
        ds.center_id = row.center_id
        reason = protection.refusal(session, ds, row.center_id)
        if reason is not None:
            raise invalid("endpoint", reason)
    else:
        _default_home(session, ds)
    session.add(ds)
    session.flush()
    now = (clock or WallClock()).now_s()
    audit.record(session, actor, "data.dataset.register", ds.id,
                 {"tenant": tenant, "center": ds.center_id, "data_class": ds.data_class}, now=now)  # fmt: skip
    commit(session)
    return ds


def refresh_dataset(session: Session, dataset_id: str) -> None:
    """Recompute ``size_gb`` and ``replicas`` of a dataset from its files (in the caller's transaction)."""
    ds = session.get(DatasetRow, dataset_id)
    if ds is None:
        return
    available = DataFileRow.dataset_id == dataset_id, DataFileRow.state == "available"
    count, total = session.execute(
        select(func.count(DataFileRow.id), func.coalesce(func.sum(DataFileRow.size_bytes), 0)).where(*available)
    ).one()  # fmt: skip
    ds.size_gb = int(total) / GB
    complete: list[str] = []
    if count:
        per_center = session.execute(
            select(StorageEndpointRow.center_id, func.count(distinct(DataFileRow.id)))
            .join(FileReplicaRow, FileReplicaRow.endpoint_id == StorageEndpointRow.id)
            .join(DataFileRow, DataFileRow.id == FileReplicaRow.file_id)
            .where(*available, FileReplicaRow.state == "available")
            .group_by(StorageEndpointRow.center_id)
        ).all()  # fmt: skip
        complete = sorted(str(c) for c, n in per_center if int(n) == int(count))
    ds.replicas = complete


def rehome_if_empty(session: Session, ds: DatasetRow, center_id: str) -> None:
    """A dataset with no file yet takes the center of its first upload as its home center."""
    if ds.center_id == center_id:
        return
    has_files = session.scalar(select(func.count(DataFileRow.id)).where(DataFileRow.dataset_id == ds.id))
    if not has_files:
        ds.center_id = center_id


# --- quotas and space --------------------------------------------------------------------------------------
def endpoint_free_bytes(session: Session, endpoint: StorageEndpointRow) -> int:
    """Capacity − (replicas held + open uploads' reservations), bytes, never negative."""
    used = endpoints.used_bytes(session, [endpoint.id]).get(endpoint.id, 0)
    return max(0, int(endpoint.capacity_bytes) - used)


def check_room(
    session: Session, tenant: str, endpoint: StorageEndpointRow, size_bytes: int, field: str
) -> None:
    """403 naming ``field`` when ``size_bytes`` more would pass a quota of ``tenant`` (on this endpoint or
    on all: :func:`huanghe.data.quotas.bytes_left`) or the endpoint's free space. Locks
    the tenant's and the endpoint's rows until the caller's transaction ends: concurrent reservations
    of one tenant (its quotas) and on one endpoint (its space) queue here, always in that order."""
    session.execute(select(TenantRow.id).where(TenantRow.id == tenant).with_for_update(key_share=True))
    session.execute(
        select(StorageEndpointRow.id)
        .where(StorageEndpointRow.id == endpoint.id)
        .with_for_update(key_share=True)
    )
    left = quotas.bytes_left(session, tenant, endpoint.id)
    if left is not None and size_bytes > left:
        why = f"data quota of tenant {tenant} exceeded on {endpoint.id}: {left} bytes left, {size_bytes} refused"
        raise ForbiddenError([FieldError(field, why + " (超出存储配额)")])
    free = endpoint_free_bytes(session, endpoint)
    if size_bytes > free:
        why = f"storage endpoint {endpoint.id} has {free} bytes free, {size_bytes} needed (存储空间不足)"
        raise ForbiddenError([FieldError(field, why)])


def lock_for_change(session: Session, dataset_id: str, endpoint_ids: Iterable[str] = ()) -> None:
    """Lock the endpoints' rows (by id), then the dataset's row, until the caller's transaction ends: every
    change of replicas (``used_bytes``) and of a dataset's files (``size_gb``, ``replicas``) takes them in
    this order, so concurrent uploads, deletions and transfers wait instead of deadlocking."""
    for eid in sorted(set(endpoint_ids)):
        session.execute(
            select(StorageEndpointRow.id).where(StorageEndpointRow.id == eid).with_for_update(key_share=True)
        )
    session.execute(select(DatasetRow.id).where(DatasetRow.id == dataset_id).with_for_update(key_share=True))


def add_replica_row(
    session: Session, file: DataFileRow, endpoint: StorageEndpointRow, key: str, now_s: float
) -> FileReplicaRow:
    """A verified replica of ``file`` on ``endpoint`` (its size added to the endpoint's ``used_bytes``)."""
    replica = FileReplicaRow(
        file_id=file.id, endpoint_id=endpoint.id, state="available", object_key=key, size_bytes=file.size_bytes,
        lock_count=0, created_s=now_s, accessed_s=now_s, verified_s=now_s,
    )  # fmt: skip
    session.add(replica)
    endpoint.used_bytes = int(endpoint.used_bytes) + int(file.size_bytes)
    return replica


# --- listing -------------------------------------------------------------------------------------------------
def _public(session: Session, files: list[DataFileRow], dataset_id: str) -> list[FilePublic]:
    ids = [f.id for f in files]
    reps: dict[int, list[ReplicaPublic]] = {i: [] for i in ids}
    if ids:
        rows = session.execute(
            select(FileReplicaRow, StorageEndpointRow.center_id)
            .join(StorageEndpointRow, StorageEndpointRow.id == FileReplicaRow.endpoint_id)
            .where(FileReplicaRow.file_id.in_(ids)).order_by(FileReplicaRow.endpoint_id)
        ).all()  # fmt: skip
        for r, center in rows:
            reps[r.file_id].append(ReplicaPublic(endpoint=r.endpoint_id, center=center, state=r.state,
                                                 size_bytes=r.size_bytes, verified_s=r.verified_s,
                                                 accessed_s=r.accessed_s))  # fmt: skip
    return [
        FilePublic(
            dataset=dataset_id,
            name=f.name,
            size_bytes=f.size_bytes,
            sha256=f.sha256,
            state=f.state,
            created_s=f.created_s,
            accessed_s=f.accessed_s,
            replicas=reps[f.id],
        )
        for f in files
    ]


def list_files(
    session: Session, dataset_id: str, *, prefix: str | None = None, limit: int = DEFAULT_PAGE_LIMIT,
    offset: int = 0,
) -> Page[FilePublic]:  # fmt: skip
    """A page of a dataset's files by name, each with its replicas (endpoint, center, state)."""
    get_dataset_row(session, dataset_id)
    stmt = select(DataFileRow).where(DataFileRow.dataset_id == dataset_id)
    if prefix:
        stmt = stmt.where(DataFileRow.name.startswith(prefix, autoescape=True))
    check_page(limit, offset)
    total = int(session.scalar(select(func.count()).select_from(stmt.subquery())) or 0)
    rows = list(session.scalars(stmt.order_by(DataFileRow.name).limit(limit).offset(offset)))
    return Page[FilePublic](items=_public(session, rows, dataset_id), total=total, limit=limit, offset=offset)


def get_file_row(session: Session, dataset_id: str, name: str) -> DataFileRow:
    get_dataset_row(session, dataset_id)
    check_name(name)
    row = session.scalar(
        select(DataFileRow).where(DataFileRow.dataset_id == dataset_id, DataFileRow.name == name)
    )
    if row is None:
        raise NotFoundError("file", f"{dataset_id}/{name}")
    return row


def file_public(session: Session, row: DataFileRow) -> FilePublic:
    return _public(session, [row], row.dataset_id)[0]


# --- download ------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Download:
    """An open download: the file's size and checksum, the replica chosen and its store."""

    dataset_id: str
    name: str
    file_id: int
    size_bytes: int
    sha256: str
    endpoint_id: str
    key: str
    store: ObjectStore


def open_download(
    session: Session,
    dataset_id: str,
    name: str,
    *,
    stores: StoreOf = default_store_of,
    clock: Clock | None = None,
) -> Download:
    """Choose an available replica (verified most recently first, on an available endpoint) and note the
    access (``accessed_s`` of the file and the replica). 409 when no good replica is left."""
    f = get_file_row(session, dataset_id, name)
    replicas = session.execute(
        select(FileReplicaRow, StorageEndpointRow.available)
        .join(StorageEndpointRow, StorageEndpointRow.id == FileReplicaRow.endpoint_id)
        .where(FileReplicaRow.file_id == f.id, FileReplicaRow.state == "available")
    ).all()  # fmt: skip
    if f.state != "available" or not replicas:
        raise conflict("name", f"file {dataset_id}/{name} has no good replica ({f.state}) (无可用副本)")
    best = min(replicas, key=lambda rv: (not rv[1], -(rv[0].verified_s or 0.0), rv[0].endpoint_id))
    chosen: FileReplicaRow = best[0]
    now = (clock or WallClock()).now_s()
    f.accessed_s = chosen.accessed_s = now
    commit(session)
    return Download(dataset_id, name, f.id, f.size_bytes, f.sha256, chosen.endpoint_id, chosen.object_key,
                    stores(session, chosen.endpoint_id))  # fmt: skip


def mark_replica_bad(
    session: Session, file_id: int, endpoint_id: str, reason: str, *, actor: str = "platform",
    clock: Clock | None = None,
) -> None:  # fmt: skip
    """A replica found corrupt or missing: ``bad``; the file is ``lost`` when no available replica is left.
    Audited; committed."""
    f = session.get(DataFileRow, file_id)
    if f is None:
        return
    lock_for_change(session, f.dataset_id)
    rep = session.get(FileReplicaRow, (file_id, endpoint_id))
    if rep is None:
        return
    rep.state = "bad"
    session.flush()
    left = session.scalar(select(func.count()).where(FileReplicaRow.file_id == file_id,
                                                     FileReplicaRow.state == "available"))  # fmt: skip
    if not left:
        f.state = "lost"
    refresh_dataset(session, f.dataset_id)
    now = (clock or WallClock()).now_s()
    audit.record(session, actor, "data.replica.bad", f"{f.dataset_id}/{f.name}",
                 {"endpoint": endpoint_id, "reason": reason, "file_state": f.state}, now=now)  # fmt: skip
    commit(session)


def verified_stream(
    dl: Download, factory: sessionmaker[Session], *, clock: Clock | None = None
) -> Iterator[bytes]:
    """The replica's bytes, hashed on the way. The last chunk is held back until the whole object has been
    checked: a size or checksum mismatch marks the replica ``bad`` and ends the stream short (the client
    sees a truncated body, never the complete wrong file)."""
    h = hashlib.sha256()
    size = 0
    held: bytes | None = None
    for chunk in dl.store.iter_bytes(dl.key):
        if held is not None:
            yield held
        h.update(chunk)
        size += len(chunk)
        held = chunk
    if size != dl.size_bytes or h.hexdigest() != dl.sha256:
        with factory() as session:
            mark_replica_bad(session, dl.file_id, dl.endpoint_id,
                             f"read {size} bytes with SHA-256 {h.hexdigest()}, expected {dl.size_bytes} "
                             f"bytes with {dl.sha256}", clock=clock)  # fmt: skip
        raise ObjectStoreError(
            "checksum", f"replica of {dl.dataset_id}/{dl.name} on {dl.endpoint_id} is corrupt"
        )
    if held is not None:
        yield held


# --- deletion ------------------------------------------------------------------------------------------------
def abort_upload_objects(session: Session, up: DataUploadRow, stores: StoreOf) -> None:
    """Drop an open upload's parts on its endpoint (and any object already joined under its key)."""
    store = stores(session, up.endpoint_id)
    if up.s3_upload_id:
        store.abort_multipart(up.object_key, up.s3_upload_id)
    taken = session.scalar(
        select(func.count()).where(DataFileRow.dataset_id == up.dataset_id, DataFileRow.name == up.name)
    )
    if not taken:  # never the object of a stored file
        store.delete(up.object_key)


def _delete_objects(session: Session, file: DataFileRow, stores: StoreOf) -> None:
    """Delete every replica's object and row of ``file`` (endpoints' ``used_bytes`` lowered)."""
    for rep in session.scalars(select(FileReplicaRow).where(FileReplicaRow.file_id == file.id)).all():
        stores(session, rep.endpoint_id).delete(rep.object_key)
        ep = session.get(StorageEndpointRow, rep.endpoint_id)
        if ep is not None:
            ep.used_bytes = max(0, int(ep.used_bytes) - int(rep.size_bytes))
        session.delete(rep)
    session.flush()  # replica rows go before their file row (no ORM relationship orders them)


def delete_file(
    session: Session, dataset_id: str, name: str, *, actor: str, stores: StoreOf = default_store_of,
    clock: Clock | None = None,
) -> None:  # fmt: skip
    """Delete a file: every replica's object, then its rows; audited; committed."""
    f = get_file_row(session, dataset_id, name)
    held = session.scalars(select(FileReplicaRow.endpoint_id).where(FileReplicaRow.file_id == f.id)).all()
    lock_for_change(session, dataset_id, held)
    _delete_objects(session, f, stores)
    session.delete(f)
    session.flush()
    refresh_dataset(session, dataset_id)
    now = (clock or WallClock()).now_s()
    audit.record(session, actor, "data.file.delete", f"{dataset_id}/{name}",
                 {"size_bytes": f.size_bytes, "sha256": f.sha256}, now=now)  # fmt: skip
    commit(session)


def purge_dataset(
    session: Session, dataset_id: str, *, actor: str, stores: StoreOf = default_store_of, clock: Clock | None = None
) -> int:  # fmt: skip
    """Delete every file's objects and rows and abort every open upload of a dataset (not the dataset row;
    not committed); the number of files deleted."""
    held = session.scalars(
        select(FileReplicaRow.endpoint_id).join(DataFileRow, DataFileRow.id == FileReplicaRow.file_id)
        .where(DataFileRow.dataset_id == dataset_id).distinct()
    ).all()  # fmt: skip
    lock_for_change(session, dataset_id, held)
    for up in session.scalars(select(DataUploadRow).where(DataUploadRow.dataset_id == dataset_id,
                                                          DataUploadRow.state == "open")).all():  # fmt: skip
        abort_upload_objects(session, up, stores)
        up.state, up.reason = "aborted", "dataset deleted"
    files = session.scalars(select(DataFileRow).where(DataFileRow.dataset_id == dataset_id)).all()
    for f in files:
        _delete_objects(session, f, stores)
        session.delete(f)
    if files:
        now = (clock or WallClock()).now_s()
        audit.record(session, actor, "data.dataset.purge", dataset_id, {"files": len(files)}, now=now)
    session.flush()
    return len(files)


def delete_dataset(
    session: Session, dataset_id: str, *, actor: str, stores: StoreOf = default_store_of, clock: Clock | None = None
) -> None:  # fmt: skip
    """Delete a dataset with all its files' objects (every replica); audited; committed."""
    ds = get_dataset_row(session, dataset_id)
    n = purge_dataset(session, dataset_id, actor=actor, stores=stores, clock=clock)
    session.delete(ds)
    now = (clock or WallClock()).now_s()
    audit.record(
        session, actor, "data.dataset.delete", dataset_id, {"files": n, "tenant": ds.tenant_id}, now=now
    )
    commit(session)
