"""Uploads of files into datasets: in parts (an S3 multipart upload behind an upload session) or in one
request for small files. Nothing is accepted before the name, the target endpoint (residency), the quotas and
the endpoint's free space are checked; a file becomes ``available`` only after the server re-read the stored
object and found the size and the SHA-256 the client declared. A refused, failed or aborted upload leaves no
bytes behind (its parts are aborted and its object deleted).

Upload session: :func:`open_upload` (declares name and size; the size is reserved against quotas and space)
→ :func:`put_part` (numbers 1..10,000, each part hashed as it passes, resending a part replaces it) →
:func:`complete_upload` (the client's SHA-256) or :func:`abort_upload`; :func:`expire_uploads` aborts
sessions left open past ``expires_s``. Small files: :func:`put_small_file`. Times come from a Clock.
"""

from __future__ import annotations

import hashlib
import math
import secrets

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from huanghe.audit import service as audit
from huanghe.core.clock import Clock, WallClock
from huanghe.core.errors import ConflictError, NotFoundError, conflict, invalid
from huanghe.core.paging import DEFAULT_PAGE_LIMIT, Page
from huanghe.data.file_schemas import (
    MAX_PART_BYTES,
    MAX_PARTS,
    MAX_SINGLE_PUT_BYTES,
    MIN_PART_BYTES,
    FilePublic,
    PartPublic,
    UploadCreate,
    UploadPublic,
)
from huanghe.data.files import (
    StoreOf,
    abort_upload_objects,
    add_replica_row,
    check_name,
    check_room,
    choose_endpoint,
    default_store_of,
    file_public,
    get_dataset_row,
    lock_for_change,
    object_key,
    refresh_dataset,
    rehome_if_empty,
)
from huanghe.data.models import DataFileRow, DatasetRow, DataUploadRow, StorageEndpointRow
from huanghe.data.objects import ObjectStore, ObjectStoreError
from huanghe.store.crud import check_page, commit

#: An upload session not completed within this many seconds is aborted by :func:`expire_uploads`.
UPLOAD_TTL_S = 24 * 3600.0
#: Expired uploads aborted (at most) before each new upload.
EXPIRE_BATCH = 5
#: ``s3_upload_id`` of the reservation of a one-request upload (no S3 multipart upload behind it).
SINGLE = ""


def _now(clock: Clock | None) -> float:
    return (clock or WallClock()).now_s()


def upload_public(session: Session, up: DataUploadRow) -> UploadPublic:
    ep = session.get(StorageEndpointRow, up.endpoint_id)
    parts = [PartPublic(number=int(n), size_bytes=int(p["size"]), sha256=str(p["sha256"]))
             for n, p in sorted(up.parts.items(), key=lambda kv: int(kv[0]))]  # fmt: skip
    return UploadPublic(
        id=up.id, dataset=up.dataset_id, name=up.name, endpoint=up.endpoint_id,
        center=ep.center_id if ep is not None else "", size_bytes=up.size_bytes,
        received_bytes=sum(p.size_bytes for p in parts), parts=parts, state=up.state, reason=up.reason,
        created_s=up.created_s, expires_s=up.expires_s,
    )  # fmt: skip


def _name_free(session: Session, dataset_id: str, name: str, field: str) -> None:
    taken = session.scalar(
        select(func.count()).where(DataFileRow.dataset_id == dataset_id, DataFileRow.name == name)
    )
    if taken:
        raise conflict(field, f"file {dataset_id}/{name} already exists; delete it first (文件已存在)")
    busy = session.scalar(
        select(DataUploadRow.id).where(
            DataUploadRow.dataset_id == dataset_id, DataUploadRow.name == name, DataUploadRow.state == "open"
        )
    )
    if busy is not None:
        raise conflict(field, f"an upload of {dataset_id}/{name} is already open: {busy} (上传进行中)")


def _reserve(
    session: Session, ds: DatasetRow, name: str, size_bytes: int, *, endpoint: str | None, center: str | None,
    actor: str, size_field: str, name_field: str, stores: StoreOf, multipart: bool, now_s: float,
) -> tuple[DataUploadRow, ObjectStore]:  # fmt: skip
    """Check and reserve: the name is free, the endpoint may hold the dataset, quotas and space allow
    ``size_bytes``; an open upload row (committed) holds the reservation."""
    _name_free(session, ds.id, name, name_field)
    ep = choose_endpoint(session, ds, endpoint=endpoint, center=center, actor=actor)
    check_room(session, ds.tenant_id, ep, size_bytes, size_field)
    key = object_key(ep.id, ds.id, name)
    store = stores(session, ep.id)
    up = DataUploadRow(
        id="u" + secrets.token_hex(12), dataset_id=ds.id, tenant_id=ds.tenant_id, name=name, endpoint_id=ep.id,
        object_key=key, s3_upload_id=store.create_multipart(key) if multipart else SINGLE,
        size_bytes=size_bytes, parts={}, state="open", reason="", created_by=actor[:200], created_s=now_s,
        updated_s=now_s, expires_s=now_s + UPLOAD_TTL_S,
    )  # fmt: skip
    session.add(up)
    commit(session)
    return up, store


def open_upload(
    session: Session, dataset_id: str, body: UploadCreate, *, actor: str, stores: StoreOf = default_store_of,
    clock: Clock | None = None,
) -> UploadPublic:  # fmt: skip
    """Open an upload in parts of ``body.name`` (``body.size_bytes`` reserved); 409 when the name is taken,
    403 over a quota or the free space, 422 for an endpoint that may not hold the dataset."""
    ds = get_dataset_row(session, dataset_id)
    expire_uploads(session, stores=stores, clock=clock, limit=EXPIRE_BATCH)
    up, _store = _reserve(
        session, ds, body.name, body.size_bytes, endpoint=body.endpoint, center=body.center, actor=actor,
        size_field="size_bytes", name_field="name", stores=stores, multipart=True, now_s=_now(clock),
    )  # fmt: skip
    return upload_public(session, up)


def list_uploads(
    session: Session, dataset_id: str, *, name: str | None = None, state: str | None = None,
    limit: int = DEFAULT_PAGE_LIMIT, offset: int = 0,
) -> Page[UploadPublic]:  # fmt: skip
    """A dataset's uploads, newest first, optionally of one file name and one state (to resume one)."""
    get_dataset_row(session, dataset_id)
    check_page(limit, offset)
    stmt = select(DataUploadRow).where(DataUploadRow.dataset_id == dataset_id)
    if name is not None:
        stmt = stmt.where(DataUploadRow.name == name)
    if state is not None:
        stmt = stmt.where(DataUploadRow.state == state)
    total = int(session.scalar(select(func.count()).select_from(stmt.subquery())) or 0)
    rows = session.scalars(
        stmt.order_by(DataUploadRow.created_s.desc(), DataUploadRow.id).limit(limit).offset(offset)
    )
    return Page[UploadPublic](items=[upload_public(session, r) for r in rows], total=total, limit=limit,
                              offset=offset)  # fmt: skip


def get_upload(session: Session, dataset_id: str, upload_id: str) -> DataUploadRow:
    """The upload ``upload_id`` of dataset ``dataset_id`` (404 otherwise: another dataset's upload is
    unknown here, in the same words)."""
    up = session.get(DataUploadRow, upload_id)
    if up is None or up.dataset_id != dataset_id:
        raise NotFoundError("upload", upload_id)
    return up


def _open(up: DataUploadRow) -> None:
    if up.state != "open":
        raise conflict("", f"upload {up.id} is {up.state}{': ' + up.reason if up.reason else ''}")


def max_part_number(size_bytes: int) -> int:
    """The highest part number an upload of ``size_bytes`` can use (every part but the last ≥ 5 MiB)."""
    return max(1, min(MAX_PARTS, math.ceil(size_bytes / MIN_PART_BYTES)))


def put_part(
    session: Session, dataset_id: str, upload_id: str, number: int, data: bytes, *,
    stores: StoreOf = default_store_of, clock: Clock | None = None,
) -> PartPublic:  # fmt: skip
    """Store part ``number`` (hashed as it passes); sending a number again replaces that part."""
    up = get_upload(session, dataset_id, upload_id)
    _open(up)
    top = max_part_number(up.size_bytes)
    if not 1 <= number <= top:
        raise invalid("path.number", f"part number must be 1..{top} for {up.size_bytes} bytes")
    if not data:
        raise invalid("", "empty part: send the part's bytes as the request body")
    if len(data) > MAX_PART_BYTES:
        raise invalid("", f"a part is at most {MAX_PART_BYTES} bytes")
    others = sum(int(p["size"]) for n, p in up.parts.items() if int(n) != number)
    if others + len(data) > up.size_bytes:
        raise invalid("", f"the parts would exceed the declared size of {up.size_bytes} bytes")
    digest = hashlib.sha256(data).hexdigest()
    key, s3_id, endpoint_id = up.object_key, up.s3_upload_id, up.endpoint_id
    store = stores(session, endpoint_id)
    session.rollback()  # no transaction held during the transfer
    etag = store.upload_part(key, s3_id, number, data)
    locked = session.scalars(
        select(DataUploadRow).where(DataUploadRow.id == upload_id).with_for_update()
    ).one()
    _open(locked)
    locked.parts = {**locked.parts, str(number): {"etag": etag, "size": len(data), "sha256": digest}}
    locked.updated_s = _now(clock)
    commit(session)
    return PartPublic(number=number, size_bytes=len(data), sha256=digest)


def _fail(
    session: Session, up: DataUploadRow, store: ObjectStore, reason: str, actor: str, now_s: float
) -> None:
    """An upload that failed verification: its bytes deleted, its row ``failed`` (audited)."""
    abort_upload_objects(session, up, lambda _s, _e: store)
    up.state, up.reason, up.updated_s = "failed", reason, now_s
    audit.record(
        session, actor, "data.upload.fail", f"{up.dataset_id}/{up.name}", {"reason": reason}, now=now_s
    )
    commit(session)


def _finish(
    session: Session, up: DataUploadRow, store: ObjectStore, sha256: str, *, actor: str, now_s: float,
    field: str,
) -> FilePublic:  # fmt: skip
    """Verify the stored object (re-read), then make the file and its replica ``available``."""
    info = store.checksum(up.object_key)
    if info is None or info.size_bytes != up.size_bytes or info.sha256 != sha256:
        got = "nothing" if info is None else f"{info.size_bytes} bytes with SHA-256 {info.sha256}"
        reason = f"checksum mismatch: the server stored {got}; expected {up.size_bytes} bytes with {sha256}"
        _fail(session, up, store, reason, actor, now_s)
        raise invalid(field, f"{reason} (校验和不一致); upload the file again")
    ds = session.get(DatasetRow, up.dataset_id)
    ep = session.get(StorageEndpointRow, up.endpoint_id)
    if ds is None or ep is None:
        raise NotFoundError("dataset", up.dataset_id)
    lock_for_change(session, ds.id, [ep.id])
    rehome_if_empty(session, ds, ep.center_id)
    f = DataFileRow(dataset_id=ds.id, name=up.name, size_bytes=up.size_bytes, sha256=sha256, state="available",
                    created_s=now_s, accessed_s=now_s)  # fmt: skip
    session.add(f)
    session.flush()
    add_replica_row(session, f, ep, up.object_key, now_s)
    up.state, up.file_id, up.updated_s = "done", f.id, now_s
    session.flush()
    refresh_dataset(session, ds.id)
    audit.record(
        session,
        actor,
        "data.file.upload",
        f"{ds.id}/{up.name}",
        {"size_bytes": up.size_bytes, "sha256": sha256, "endpoint": ep.id, "upload": up.id},
        now=now_s,
    )
    try:
        commit(session)
    except ConflictError:
        store.delete(up.object_key)
        raise
    return file_public(session, f)


def complete_upload(
    session: Session, dataset_id: str, upload_id: str, sha256: str, *, actor: str,
    stores: StoreOf = default_store_of, clock: Clock | None = None,
) -> FilePublic:  # fmt: skip
    """Join the parts, re-read the object and compare with ``sha256``; the file is then ``available``.
    422 naming ``parts`` (missing, too small, size short) or ``sha256`` (mismatch: the upload is failed and
    its bytes deleted)."""
    up = get_upload(session, dataset_id, upload_id)
    _open(up)
    numbers = sorted(int(n) for n in up.parts)
    missing = sorted(set(range(1, (numbers[-1] if numbers else 0) + 1)) - set(numbers))
    if not numbers or missing:
        raise invalid("parts", f"parts missing: {missing[:20] or [1]}")
    received = sum(int(p["size"]) for p in up.parts.values())
    if received != up.size_bytes:
        raise invalid("parts", f"received {received} of the {up.size_bytes} bytes declared")
    for n in numbers[:-1]:
        if int(up.parts[str(n)]["size"]) < MIN_PART_BYTES:
            raise invalid(f"parts[{n}]", f"every part but the last must be at least {MIN_PART_BYTES} bytes")
    store = stores(session, up.endpoint_id)
    store.complete_multipart(up.object_key, up.s3_upload_id,
                             [(n, str(up.parts[str(n)]["etag"])) for n in numbers])  # fmt: skip
    return _finish(session, up, store, sha256, actor=actor, now_s=_now(clock), field="sha256")


def abort_upload(
    session: Session, dataset_id: str, upload_id: str, *, actor: str, stores: StoreOf = default_store_of,
    clock: Clock | None = None,
) -> None:  # fmt: skip
    """Abort an open upload (its parts and object deleted; idempotent on an aborted or failed one)."""
    up = get_upload(session, dataset_id, upload_id)
    if up.state in ("aborted", "failed"):
        return
    _open(up)
    abort_upload_objects(session, up, stores)
    up.state, up.reason, up.updated_s = "aborted", f"aborted by {actor}", _now(clock)
    audit.record(session, actor, "data.upload.abort", f"{dataset_id}/{up.name}", {"upload": up.id},
                 now=_now(clock))  # fmt: skip
    commit(session)


def expire_uploads(
    session: Session, *, stores: StoreOf = default_store_of, clock: Clock | None = None, limit: int = 1000
) -> int:
    """Abort up to ``limit`` open uploads past their ``expires_s`` (parts and objects deleted; one whose
    endpoint does not answer stays open for the next call); how many were aborted. Called before every new
    upload (a few at a time) and callable from a maintenance loop."""
    now = _now(clock)
    stale = session.scalars(
        select(DataUploadRow).where(DataUploadRow.state == "open", DataUploadRow.expires_s < now)
        .order_by(DataUploadRow.expires_s).limit(limit)
    ).all()  # fmt: skip
    done = 0
    for up in stale:
        try:
            abort_upload_objects(session, up, stores)
        except ObjectStoreError:
            continue
        up.state, up.reason, up.updated_s = "aborted", "expired", now
        audit.record(session, "platform", "data.upload.expire", f"{up.dataset_id}/{up.name}", {"upload": up.id},
                     now=now)  # fmt: skip
        done += 1
    commit(session)
    return done


def put_small_file(
    session: Session, dataset_id: str, name: str, data: bytes, *, sha256: str | None, endpoint: str | None,
    center: str | None, actor: str, stores: StoreOf = default_store_of, clock: Clock | None = None,
) -> FilePublic:  # fmt: skip
    """Store a small file sent in one request (at most :data:`MAX_SINGLE_PUT_BYTES`); with ``sha256`` (the
    ``X-Checksum-Sha256`` header) the bytes received must match it before anything is written."""
    ds = get_dataset_row(session, dataset_id)
    check_name(name)
    if not data:
        raise invalid("", "empty body: a file has at least one byte")
    if len(data) > MAX_SINGLE_PUT_BYTES:
        raise invalid("", f"at most {MAX_SINGLE_PUT_BYTES} bytes in one request; upload in parts")
    digest = hashlib.sha256(data).hexdigest()
    if sha256 is not None and sha256 != digest:
        raise invalid("header.x-checksum-sha256", f"the body received has SHA-256 {digest}, not {sha256}")
    now = _now(clock)
    up, store = _reserve(
        session, ds, name, len(data), endpoint=endpoint, center=center, actor=actor, size_field="",
        name_field="path.name", stores=stores, multipart=False, now_s=now,
    )  # fmt: skip
    try:
        store.put_bytes(up.object_key, data)
    except Exception:
        _fail(session, up, store, "write to the storage endpoint failed", actor, now)
        raise
    return _finish(session, up, store, digest, actor=actor, now_s=now, field="")
