"""``/api/v1/datasets/...``: register a dataset for uploads, its files (list, upload in one request or in
parts, download, delete). Tenants reach only their own datasets (policy: ``own_dataset``); an upload is
addressed under its dataset, so another tenant's upload id is unknown here (404, same words).

Upload in parts: ``POST /datasets/{id}/uploads`` (name, size) → ``PUT .../uploads/{upload}/parts/{n}``
(raw bytes) → ``POST .../uploads/{upload}/complete`` (SHA-256) or ``DELETE .../uploads/{upload}``.
Download: ``GET /datasets/{id}/files/{name}/content`` with ``X-Checksum-Sha256``; the bytes are re-hashed
while streamed and a corrupt replica is marked ``bad`` (the answer then ends short, never complete and
wrong). A failing storage endpoint answers 503.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from itertools import chain
from typing import Annotated, Literal
from urllib.parse import quote

from fastapi import APIRouter, Depends, Header, HTTPException, Path, Query, Request, Response
from fastapi.responses import StreamingResponse
from sqlalchemy.orm import Session, sessionmaker

from huanghe.api.authentication import principal_of_request
from huanghe.api.deps import DEFAULT_PAGE_LIMIT, IdFilter, Limit, Offset, SessionDep
from huanghe.core.clock import Clock
from huanghe.core.paging import Page
from huanghe.data import files, uploads
from huanghe.data import rows as data_rows
from huanghe.data.file_schemas import (
    MAX_PARTS,
    SHA256_PATTERN,
    DatasetRegister,
    FilePublic,
    PartPublic,
    UploadComplete,
    UploadCreate,
    UploadPublic,
)
from huanghe.data.objects import ObjectStoreError
from huanghe.data.schemas import DatasetPublic
from huanghe.domain.network import ID_PATTERN

router = APIRouter(tags=["data files"])
DatasetId = Annotated[str, Path(pattern=ID_PATTERN, max_length=64)]
UploadId = Annotated[str, Path(pattern=ID_PATTERN, max_length=64)]
FileName = Annotated[str, Path(max_length=4096, description="file name: a relative path")]
#: Replicas tried at most for one download before answering 409.
MAX_DOWNLOAD_TRIES = 4


def _clock(request: Request) -> Clock | None:
    clock = getattr(request.app.state, "data_clock", None)
    return clock if isinstance(clock, Clock) else None


@contextmanager
def _storage() -> Iterator[None]:
    """A failing object store answers 503 with its reason word (never its URL or a traceback)."""
    try:
        yield
    except ObjectStoreError as exc:
        raise HTTPException(
            503, f"storage endpoint failed ({exc.reason}); retry later (存储服务暂不可用)"
        ) from None


async def raw_body(request: Request) -> bytes:
    """The request body as bytes (already bounded by the API's body limit, 413 above)."""
    return await request.body()


RawBody = Annotated[bytes, Depends(raw_body)]


@router.post("/datasets:register", response_model=DatasetPublic, status_code=201)
def register_dataset(s: SessionDep, body: DatasetRegister, request: Request) -> DatasetPublic:
    """Register an empty dataset for uploads (tenant: the caller's own; platform roles name one)."""
    principal = principal_of_request(request)
    tenant = principal.tenant_id if principal.is_tenant else body.tenant
    if tenant is None:
        from huanghe.core.errors import invalid

        raise invalid("tenant", "a platform role must name the dataset's tenant")
    row = files.register_dataset(s, body, tenant=tenant, actor=principal.actor, clock=_clock(request))
    return data_rows.dataset_public(row)


@router.get("/datasets/{item_id}/files", response_model=Page[FilePublic])
def list_files(
    s: SessionDep, item_id: DatasetId,
    prefix: Annotated[str | None, Query(max_length=512, pattern=r"^[^\x00-\x1f]*$")] = None,
    limit: Limit = DEFAULT_PAGE_LIMIT, offset: Offset = 0,
) -> Page[FilePublic]:  # fmt: skip
    """The dataset's files by name, each with its replicas (endpoint, center, state)."""
    return files.list_files(s, item_id, prefix=prefix, limit=limit, offset=offset)


@router.put("/datasets/{item_id}/files/{name:path}", response_model=FilePublic, status_code=201)
def put_file(
    s: SessionDep, item_id: DatasetId, name: FileName, body: RawBody, request: Request,
    endpoint: IdFilter = None, center: IdFilter = None,
    x_checksum_sha256: Annotated[str | None, Header(pattern=SHA256_PATTERN)] = None,
) -> FilePublic:  # fmt: skip
    """A small file in one request (at most 32 MiB); verified by re-reading before it is ``available``."""
    actor = principal_of_request(request).actor
    with _storage():
        return uploads.put_small_file(s, item_id, name, body, sha256=x_checksum_sha256, endpoint=endpoint,
                                      center=center, actor=actor, clock=_clock(request))  # fmt: skip


def _open_stream(
    s: Session, factory: sessionmaker[Session], item_id: str, name: str, clock: Clock | None
) -> tuple[files.Download, Iterator[bytes]]:
    """An available replica whose first bytes (or, for a small file, all of them, checked) could be read;
    a missing or corrupt replica is marked ``bad`` and the next one is tried."""
    for _ in range(MAX_DOWNLOAD_TRIES):
        dl = files.open_download(s, item_id, name, clock=clock)
        stream = files.verified_stream(dl, factory, clock=clock)
        try:
            first = next(stream, b"")
        except ObjectStoreError as exc:
            if exc.reason == "not_found":
                files.mark_replica_bad(s, dl.file_id, dl.endpoint_id, "object missing", clock=clock)
            elif exc.reason != "checksum":  # a corrupt replica is already marked bad
                raise
            s.expire_all()
            continue
        return dl, chain([first], stream)
    files.open_download(s, item_id, name, clock=clock)  # answers 409 when nothing good is left
    raise HTTPException(503, "no replica could be read; retry later (存储服务暂不可用)")


@router.get("/datasets/{item_id}/files/{name:path}/content", response_class=StreamingResponse)
def download_file(s: SessionDep, item_id: DatasetId, name: FileName, request: Request) -> StreamingResponse:
    """The file's bytes (``X-Checksum-Sha256``: its SHA-256), from a good replica."""
    with _storage():
        dl, stream = _open_stream(s, request.app.state.session_factory, item_id, name, _clock(request))
    leaf = name.rsplit("/", 1)[-1]
    headers = {
        "Content-Length": str(dl.size_bytes), "X-Checksum-Sha256": dl.sha256,
        "Content-Disposition": f"attachment; filename*=UTF-8''{quote(leaf)}",
    }  # fmt: skip
    return StreamingResponse(stream, media_type="application/octet-stream", headers=headers)


@router.delete("/datasets/{item_id}/files/{name:path}", status_code=204, response_class=Response)
def delete_file(s: SessionDep, item_id: DatasetId, name: FileName, request: Request) -> Response:
    """Delete a file and every replica's object (audited)."""
    with _storage():
        files.delete_file(s, item_id, name, actor=principal_of_request(request).actor, clock=_clock(request))
    return Response(status_code=204)


@router.post("/datasets/{item_id}/uploads", response_model=UploadPublic, status_code=201)
def open_upload(s: SessionDep, item_id: DatasetId, body: UploadCreate, request: Request) -> UploadPublic:
    """Open an upload in parts: the size is checked against quotas and space before any byte is sent."""
    with _storage():
        return uploads.open_upload(s, item_id, body, actor=principal_of_request(request).actor,
                                   clock=_clock(request))  # fmt: skip


@router.get("/datasets/{item_id}/uploads", response_model=Page[UploadPublic])
def list_uploads(
    s: SessionDep, item_id: DatasetId,
    name: Annotated[str | None, Query(max_length=4096, pattern=r"^[^\x00-\x1f]*$")] = None,
    state: Annotated[Literal["open", "done", "aborted", "failed"] | None, Query()] = None,
    limit: Limit = DEFAULT_PAGE_LIMIT, offset: Offset = 0,
) -> Page[UploadPublic]:  # fmt: skip
    """The dataset's uploads, newest first (``?state=open&name=``: the one to resume)."""
    return uploads.list_uploads(s, item_id, name=name, state=state, limit=limit, offset=offset)


@router.get("/datasets/{item_id}/uploads/{upload_id}", response_model=UploadPublic)
def get_upload(s: SessionDep, item_id: DatasetId, upload_id: UploadId) -> UploadPublic:
    """An upload and the parts received (to resume: send the missing ones)."""
    return uploads.upload_public(s, uploads.get_upload(s, item_id, upload_id))


@router.put("/datasets/{item_id}/uploads/{upload_id}/parts/{number}", response_model=PartPublic)
def put_part(
    s: SessionDep, item_id: DatasetId, upload_id: UploadId, number: Annotated[int, Path(ge=1, le=MAX_PARTS)],
    body: RawBody, request: Request,
) -> PartPublic:  # fmt: skip
    """One part's raw bytes (at most 32 MiB; every part but the last at least 5 MiB)."""
    with _storage():
        return uploads.put_part(s, item_id, upload_id, number, body, clock=_clock(request))


@router.post("/datasets/{item_id}/uploads/{upload_id}/complete", response_model=FilePublic, status_code=201)
def complete_upload(
    s: SessionDep, item_id: DatasetId, upload_id: UploadId, body: UploadComplete, request: Request
) -> FilePublic:
    """Join the parts and verify size and SHA-256 by re-reading; the file is then ``available``."""
    with _storage():
        return uploads.complete_upload(s, item_id, upload_id, body.sha256,
                                       actor=principal_of_request(request).actor, clock=_clock(request))  # fmt: skip


@router.delete("/datasets/{item_id}/uploads/{upload_id}", status_code=204, response_class=Response)
def abort_upload(s: SessionDep, item_id: DatasetId, upload_id: UploadId, request: Request) -> Response:
    """Abort an upload: its parts are deleted."""
    with _storage():
        uploads.abort_upload(s, item_id, upload_id, actor=principal_of_request(request).actor,
                             clock=_clock(request))  # fmt: skip
    return Response(status_code=204)
