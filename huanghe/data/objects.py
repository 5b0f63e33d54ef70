"""One S3-compatible bucket as an object store (boto3, path-style addressing): put, get, copy between
endpoints, head, verify, delete — every byte that goes in or out is hashed (SHA-256) on the way.

Large objects go in multipart (parts of :data:`PART_BYTES`) through boto3's transfer manager. The SHA-256
of a file is also stored in the object's metadata (``x-amz-meta-sha256``) so that an object can be
checked without the database; the database's checksum stays the reference (:meth:`ObjectStore.verify`
re-reads the bytes). Every failure is an :class:`ObjectStoreError` whose message says what and where,
never a botocore traceback.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import boto3
from boto3.s3.transfer import TransferConfig
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

#: Multipart threshold and part size, bytes.
PART_BYTES = 16 * 1024 * 1024
#: Read size when hashing or streaming, bytes.
CHUNK_BYTES = 1024 * 1024
Progress = Callable[[int], None]  # called with the bytes moved since the last call


class ObjectStoreError(RuntimeError):
    """An object store refused or failed; ``reason`` is a short machine word (``unreachable``,
    ``not_found``, ``denied``, ``checksum``, ``error``)."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True)
class EndpointAccess:
    """Where and how to reach one bucket. ``secret_key`` is the decrypted secret: never log it."""

    url: str
    bucket: str
    access_key: str
    secret_key: str

    def __repr__(self) -> str:  # the secret key never reaches logs or tracebacks
        return f"EndpointAccess(url={self.url!r}, bucket={self.bucket!r}, access_key={self.access_key!r})"


@dataclass(frozen=True)
class ObjectInfo:
    """An object's size in bytes and its SHA-256 (hex) as computed on the way or stored in metadata."""

    size_bytes: int
    sha256: str | None


def sha256_of_file(path: Path) -> str:
    """SHA-256 (hex) of a local file, read in chunks."""
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(CHUNK_BYTES), b""):
            h.update(chunk)
    return h.hexdigest()


class _HashingReader:
    """A read-only file object over ``raw`` that hashes and counts what is read (and reports progress)."""

    def __init__(self, raw: Any, progress: Progress | None = None) -> None:
        self.raw = raw
        self.hash = hashlib.sha256()
        self.size = 0
        self.progress = progress

    def read(self, n: int = -1) -> bytes:
        data: bytes = self.raw.read(n) if n is not None and n >= 0 else self.raw.read()
        self.hash.update(data)
        self.size += len(data)
        if self.progress is not None and data:
            self.progress(len(data))
        return data


def _error(exc: Exception, what: str, where: str) -> ObjectStoreError:
    if isinstance(exc, ClientError):
        code = str(exc.response.get("Error", {}).get("Code", ""))
        status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) or 0)
        if code in ("NoSuchKey", "404", "NotFound", "NoSuchBucket") or status == 404:
            return ObjectStoreError("not_found", f"{what}: no such object at {where}")
        if code in ("AccessDenied", "SignatureDoesNotMatch", "InvalidAccessKeyId") or status == 403:
            return ObjectStoreError("denied", f"{what}: {where} refused the credentials ({code})")
        return ObjectStoreError("error", f"{what} at {where} failed: {code or status}")
    return ObjectStoreError("unreachable", f"{what}: {where} does not answer ({type(exc).__name__})")


class ObjectStore:
    """One bucket. Thread-safe for concurrent calls (boto3 clients are)."""

    def __init__(self, access: EndpointAccess, *, timeout_s: float = 10.0, retries: int = 1) -> None:
        self.access = access
        self.where = f"{access.url}/{access.bucket}"
        self.client = boto3.session.Session().client(
            "s3",
            endpoint_url=access.url,
            aws_access_key_id=access.access_key,
            aws_secret_access_key=access.secret_key,
            region_name="us-east-1",
            config=Config(
                s3={"addressing_style": "path"},
                retries={"max_attempts": retries, "mode": "standard"},
                connect_timeout=timeout_s,
                read_timeout=max(timeout_s, 30.0),
                request_checksum_calculation="when_required",
                response_checksum_validation="when_required",
            ),
        )
        self.transfer = TransferConfig(
            multipart_threshold=PART_BYTES, multipart_chunksize=PART_BYTES, max_concurrency=4
        )

    # --- bucket --------------------------------------------------------------------------------------
    def ensure_bucket(self) -> None:
        """Create the bucket when it does not exist (idempotent)."""
        try:
            self.client.head_bucket(Bucket=self.access.bucket)
            return
        except ClientError as exc:
            if int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) or 0) != 404:
                raise _error(exc, "bucket check", self.where) from None
        except BotoCoreError as exc:
            raise _error(exc, "bucket check", self.where) from None
        try:
            self.client.create_bucket(Bucket=self.access.bucket)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") not in (
                "BucketAlreadyOwnedByYou",
                "BucketAlreadyExists",
            ):
                raise _error(exc, "bucket creation", self.where) from None
        except BotoCoreError as exc:
            raise _error(exc, "bucket creation", self.where) from None

    def ping(self) -> str | None:
        """None when the bucket answers with these credentials, else why not (one line)."""
        try:
            self.client.head_bucket(Bucket=self.access.bucket)
        except (ClientError, BotoCoreError) as exc:
            return str(_error(exc, "health check", self.where))
        return None

    # --- objects -------------------------------------------------------------------------------------
    def put_fileobj(
        self,
        key: str,
        fileobj: IO[bytes] | Any,
        *,
        sha256: str | None = None,
        progress: Progress | None = None,
    ) -> ObjectInfo:
        """Upload from a readable file object (multipart when large); returns the size and the SHA-256 of
        the bytes actually sent. With ``sha256`` given, a mismatch deletes the object and raises
        ``ObjectStoreError("checksum", ...)``."""
        reader = _HashingReader(fileobj, progress)
        extra = {"Metadata": {"sha256": sha256}} if sha256 else {}
        try:
            self.client.upload_fileobj(reader, self.access.bucket, key, ExtraArgs=extra, Config=self.transfer)
        except (ClientError, BotoCoreError) as exc:
            raise _error(exc, f"upload of {key}", self.where) from None
        got = reader.hash.hexdigest()
        if sha256 is not None and got != sha256:
            self.delete(key, missing_ok=True)
            raise ObjectStoreError(
                "checksum",
                f"upload of {key} to {self.where}: checksum mismatch (sent {got}, expected {sha256})",
            )
        return ObjectInfo(reader.size, got)

    def put_file(self, key: str, path: Path, *, progress: Progress | None = None) -> ObjectInfo:
        """Upload a local file; its SHA-256 is computed first and stored in the object's metadata."""
        digest = sha256_of_file(path)
        with path.open("rb") as f:
            return self.put_fileobj(key, f, sha256=digest, progress=progress)

    def put_bytes(self, key: str, data: bytes) -> ObjectInfo:
        """Upload a small object from memory (tests, corrupting a replica on purpose)."""
        digest = hashlib.sha256(data).hexdigest()
        try:
            self.client.put_object(Bucket=self.access.bucket, Key=key, Body=data, Metadata={"sha256": digest})
        except (ClientError, BotoCoreError) as exc:
            raise _error(exc, f"upload of {key}", self.where) from None
        return ObjectInfo(len(data), digest)

    # --- multipart uploads driven part by part (uploads through the API, huanghe.data.uploads) ---------
    def create_multipart(self, key: str) -> str:
        """Open an S3 multipart upload of ``key``; its upload id."""
        try:
            answer = self.client.create_multipart_upload(Bucket=self.access.bucket, Key=key)
        except (ClientError, BotoCoreError) as exc:
            raise _error(exc, f"multipart upload of {key}", self.where) from None
        return str(answer["UploadId"])

    def upload_part(self, key: str, upload_id: str, number: int, data: bytes) -> str:
        """Store part ``number`` (1..10,000) of an open multipart upload; its ETag."""
        try:
            answer = self.client.upload_part(
                Bucket=self.access.bucket, Key=key, UploadId=upload_id, PartNumber=number, Body=data
            )
        except (ClientError, BotoCoreError) as exc:
            raise _error(exc, f"part {number} of {key}", self.where) from None
        return str(answer["ETag"])

    def complete_multipart(self, key: str, upload_id: str, parts: list[tuple[int, str]]) -> None:
        """Join the parts ``(number, etag)`` (ascending) into the object ``key``."""
        doc = {"Parts": [{"PartNumber": n, "ETag": etag} for n, etag in parts]}
        try:
            self.client.complete_multipart_upload(
                Bucket=self.access.bucket, Key=key, UploadId=upload_id, MultipartUpload=doc
            )
        except (ClientError, BotoCoreError) as exc:
            raise _error(exc, f"completion of {key}", self.where) from None

    def abort_multipart(self, key: str, upload_id: str) -> None:
        """Abort an open multipart upload and drop its parts (an unknown upload id is not an error)."""
        try:
            self.client.abort_multipart_upload(Bucket=self.access.bucket, Key=key, UploadId=upload_id)
        except (ClientError, BotoCoreError) as exc:
            err = _error(exc, f"abort of {key}", self.where)
            if err.reason != "not_found":
                raise err from None

    def head(self, key: str) -> ObjectInfo | None:
        """Size and stored SHA-256 of an object, None when there is no such object."""
        try:
            meta = self.client.head_object(Bucket=self.access.bucket, Key=key)
        except (ClientError, BotoCoreError) as exc:
            err = _error(exc, f"head of {key}", self.where)
            if err.reason == "not_found":
                return None
            raise err from None
        return ObjectInfo(int(meta["ContentLength"]), meta.get("Metadata", {}).get("sha256"))

    def iter_bytes(self, key: str, *, chunk_bytes: int = CHUNK_BYTES) -> Iterator[bytes]:
        """The object's bytes in chunks (for streaming a download to an HTTP client)."""
        try:
            body = self.client.get_object(Bucket=self.access.bucket, Key=key)["Body"]
        except (ClientError, BotoCoreError) as exc:
            raise _error(exc, f"download of {key}", self.where) from None
        try:
            yield from body.iter_chunks(chunk_bytes)
        except (ClientError, BotoCoreError, OSError) as exc:
            raise _error(exc, f"download of {key}", self.where) from None
        finally:
            body.close()

    def get_to_file(self, key: str, path: Path, *, progress: Progress | None = None) -> ObjectInfo:
        """Download to ``path``; returns the size and SHA-256 of what was received."""
        h = hashlib.sha256()
        size = 0
        with path.open("wb") as out:
            for chunk in self.iter_bytes(key):
                out.write(chunk)
                h.update(chunk)
                size += len(chunk)
                if progress is not None:
                    progress(len(chunk))
        return ObjectInfo(size, h.hexdigest())

    def checksum(self, key: str) -> ObjectInfo | None:
        """Re-read the whole object and hash it (None when it is missing)."""
        h = hashlib.sha256()
        size = 0
        try:
            for chunk in self.iter_bytes(key):
                h.update(chunk)
                size += len(chunk)
        except ObjectStoreError as exc:
            if exc.reason == "not_found":
                return None
            raise
        return ObjectInfo(size, h.hexdigest())

    def copy_from(
        self, source: ObjectStore, key: str, *, sha256: str, dest_key: str | None = None,
        progress: Progress | None = None,
    ) -> ObjectInfo:  # fmt: skip
        """Stream ``key`` from ``source`` into this bucket (``dest_key``, default the same key), hashing on
        the way; a checksum mismatch deletes the new object and raises ``ObjectStoreError("checksum")``."""
        try:
            body = source.client.get_object(Bucket=source.access.bucket, Key=key)["Body"]
        except (ClientError, BotoCoreError) as exc:
            raise _error(exc, f"read of {key} for a copy", source.where) from None
        try:
            return self.put_fileobj(dest_key or key, body, sha256=sha256, progress=progress)
        finally:
            body.close()

    def delete(self, key: str, *, missing_ok: bool = True) -> None:
        """Delete an object (S3 deletes are idempotent; ``missing_ok=False`` checks first)."""
        if not missing_ok and self.head(key) is None:
            raise ObjectStoreError("not_found", f"delete of {key}: no such object at {self.where}")
        try:
            self.client.delete_object(Bucket=self.access.bucket, Key=key)
        except (ClientError, BotoCoreError) as exc:
            raise _error(exc, f"delete of {key}", self.where) from None

    def keys(self, prefix: str = "") -> Iterator[str]:
        """Every key under ``prefix`` (paged)."""
        try:
            pages = self.client.get_paginator("list_objects_v2").paginate(
                Bucket=self.access.bucket, Prefix=prefix
            )
            for page in pages:
                for item in page.get("Contents", []):
                    yield str(item["Key"])
        except (ClientError, BotoCoreError) as exc:
            raise _error(exc, "listing", self.where) from None
