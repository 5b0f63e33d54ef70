"""The bytes of staging: a job's inputs copied from its center's storage endpoints into its working directory
(checksum-verified), and its declared outputs stored back as a dataset of its tenant.

* :func:`stage_in`: every available file of each input dataset is read from a replica on an endpoint of the
  job's center (available endpoints and hot tiers first) into ``<workdir>/inputs/<dataset>/<file>``, hashed on
  the way; a size or SHA-256 mismatch marks that replica ``bad`` (:func:`huanghe.data.files.mark_replica_bad`,
  audited: the rule repairer copies it again) and the stage-in fails, to be retried.
* :func:`stage_out`: each declared output (a relative path inside the working directory) is opened without
  following any symbolic link (a job cannot make the platform read a file outside its directory), must be a
  regular file with one link, and is uploaded in parts to the hot endpoint of the job's center through the data
  services (quotas, space, residency, checksum re-read after the write); a file already stored under that name
  with the same checksum is kept (a retried stage-out does not fail).

Sizes in bytes, times in seconds.
"""

from __future__ import annotations

import hashlib
import os
import stat
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from huanghe.data import endpoints, files, uploads
from huanghe.data.file_schemas import PART_BYTES, DatasetRegister, UploadCreate, name_problem
from huanghe.data.models import DataFileRow, DatasetRow, FileReplicaRow, StorageEndpointRow

#: Read size of a download, bytes.
CHUNK_BYTES = 8 * 1024 * 1024
_TIERS = {"hot": 0, "warm": 1, "cold": 2}


class StagingError(RuntimeError):
    """Staging could not finish; the message says why (bilingual where a user sees it)."""


@dataclass
class Moved:
    """What one stage-in or stage-out moved: files (name, size, SHA-256, endpoint), bytes, seconds."""

    files: list[dict[str, Any]] = field(default_factory=list)
    bytes: int = 0
    seconds: float = 0.0


@dataclass(frozen=True)
class _Item:
    dataset: str
    file_id: int
    name: str
    size_bytes: int
    sha256: str
    endpoint: str
    key: str


def _plan(s: Session, datasets: list[str], center: str) -> list[_Item]:
    """The replica to read for every available file of ``datasets`` on ``center``'s endpoints."""
    out: list[_Item] = []
    for ds in datasets:
        rows = s.execute(
            select(DataFileRow, FileReplicaRow, StorageEndpointRow)
            .join(FileReplicaRow, FileReplicaRow.file_id == DataFileRow.id)
            .join(StorageEndpointRow, StorageEndpointRow.id == FileReplicaRow.endpoint_id)
            .where(DataFileRow.dataset_id == ds, DataFileRow.state == "available",
                   FileReplicaRow.state == "available", StorageEndpointRow.center_id == center)
        ).all()  # fmt: skip
        best: dict[int, tuple[tuple[bool, int, str], _Item]] = {}
        for f, rep, ep in rows:
            rank = (not ep.available, _TIERS.get(ep.temperature, 3), ep.id)
            item = _Item(ds, f.id, f.name, int(f.size_bytes), f.sha256, ep.id, rep.object_key)
            if f.id not in best or rank < best[f.id][0]:
                best[f.id] = (rank, item)
        wanted = int(s.scalar(
            select(func.count()).select_from(DataFileRow)
            .where(DataFileRow.dataset_id == ds, DataFileRow.state == "available")
        ) or 0)  # fmt: skip
        if len(best) < wanted:
            raise StagingError(f"{ds}: {len(best)} of {wanted} files have a copy on {center} (数据未就绪)")
        out.extend(item for _, item in sorted(best.values(), key=lambda x: x[1].name))
    return out


def _inside(base: Path, rel: str) -> Path:
    """``base / rel`` for an accepted file name that stays inside ``base``."""
    problem = name_problem(rel)
    target = (base / rel).resolve()
    if problem is not None or not target.is_relative_to(base.resolve()):
        raise StagingError(f"file name {rel!r} refused: {problem or 'outside the directory'}")
    return target


def stage_in(sf: sessionmaker[Session], datasets: list[str], center: str, workdir: Path) -> Moved:
    """Copy the inputs into ``workdir/inputs/<dataset>/<file>``, each verified (see the module docstring)."""
    t0 = time.monotonic()
    with sf() as s:
        plan = _plan(s, datasets, center)
        stores = {ep: endpoints.store_of(s, ep) for ep in {i.endpoint for i in plan}}
    moved = Moved()
    base = workdir / "inputs"
    for item in plan:
        target = _inside(base / item.dataset, item.name)
        target.parent.mkdir(parents=True, exist_ok=True)
        part = target.with_name(target.name + ".part")
        h, size = hashlib.sha256(), 0
        with part.open("wb") as out:
            for chunk in stores[item.endpoint].iter_bytes(item.key, chunk_bytes=CHUNK_BYTES):
                out.write(chunk)
                h.update(chunk)
                size += len(chunk)
        if size != item.size_bytes or h.hexdigest() != item.sha256:
            part.unlink(missing_ok=True)
            why = (f"read {size} bytes with SHA-256 {h.hexdigest()}, expected {item.size_bytes} bytes with "
                   f"{item.sha256}")  # fmt: skip
            with sf() as s:
                files.mark_replica_bad(s, item.file_id, item.endpoint, why, actor="platform:staging")
            raise StagingError(
                f"{item.dataset}/{item.name} on {item.endpoint}: checksum mismatch, {why} (校验和不一致)"
            )
        os.replace(part, target)
        moved.files.append({"dataset": item.dataset, "name": item.name, "size_bytes": size, "sha256": item.sha256,
                            "endpoint": item.endpoint})  # fmt: skip
        moved.bytes += size
    moved.seconds = time.monotonic() - t0
    return moved


def open_output(workdir: Path, rel: str) -> int:
    """A read-only descriptor of the regular file ``workdir/rel``, no symbolic link followed on the way and
    at most one hard link (:class:`StagingError` otherwise). The caller closes it."""
    problem = name_problem(rel)
    if problem is not None:
        raise StagingError(f"output {rel!r} refused: {problem}")
    parts = rel.split("/")
    fd = os.open(workdir, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
    try:
        for comp in parts[:-1]:
            nxt = os.open(comp, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=fd)
            os.close(fd)
            fd = nxt
        out = os.open(parts[-1], os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK, dir_fd=fd)
    except OSError as exc:
        raise StagingError(
            f"output {rel!r} not readable as a plain file: {exc.strerror} (输出文件不可读)"
        ) from None
    finally:
        os.close(fd)
    st = os.fstat(out)
    if not stat.S_ISREG(st.st_mode) or st.st_nlink != 1 or st.st_size == 0:
        os.close(out)
        why = "empty" if stat.S_ISREG(st.st_mode) and st.st_size == 0 else "not a regular file with one link"
        raise StagingError(f"output {rel!r} refused: {why} (输出文件无效)")
    return out


def _ensure_dataset(s: Session, dataset: str, tenant: str, center: str, actor: str) -> None:
    ds = s.get(DatasetRow, dataset)
    if ds is None:
        files.register_dataset(s, DatasetRegister(id=dataset, center=center), tenant=tenant, actor=actor)
    elif ds.tenant_id != tenant:  # another tenant's dataset answers like an unknown one
        raise StagingError(f"output dataset {dataset!r} cannot be written (未知数据集)")


def stage_out(
    sf: sessionmaker[Session], workdir: Path, outputs: list[str], dataset: str, *, tenant: str, center: str,
    actor: str,
) -> Moved:  # fmt: skip
    """Upload the outputs as files of ``dataset`` (created for ``tenant`` when new) on ``center``'s hot
    endpoint (see the module docstring); the files stored."""
    t0 = time.monotonic()
    moved = Moved()
    with sf() as s:
        _ensure_dataset(s, dataset, tenant, center, actor)
    for rel in outputs:
        fd = open_output(workdir, rel)
        with os.fdopen(fd, "rb") as f:
            size = os.fstat(f.fileno()).st_size
            h = hashlib.sha256()
            for chunk in iter(lambda: f.read(CHUNK_BYTES), b""):
                h.update(chunk)
            digest = h.hexdigest()
            with sf() as s:
                have = s.scalar(
                    select(DataFileRow).where(DataFileRow.dataset_id == dataset, DataFileRow.name == rel)
                )
                if have is not None and have.sha256 == digest:
                    pub = files.file_public(s, have)
                else:
                    f.seek(0)
                    up = uploads.open_upload(s, dataset, UploadCreate(name=rel, size_bytes=size, center=center),
                                             actor=actor)  # fmt: skip
                    for n, chunk in enumerate(iter(lambda: f.read(PART_BYTES), b""), start=1):
                        uploads.put_part(s, dataset, up.id, n, chunk)
                    pub = uploads.complete_upload(s, dataset, up.id, digest, actor=actor)
        where = [r.endpoint for r in pub.replicas if r.state == "available"]
        moved.files.append(
            {"name": rel, "size_bytes": size, "sha256": digest, "endpoint": where[0] if where else None}
        )
        moved.bytes += size
    moved.seconds = time.monotonic() - t0
    return moved
