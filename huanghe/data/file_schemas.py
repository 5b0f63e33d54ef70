"""Public schemas of datasets' files, their replicas and uploads (``/api/v1/datasets/{id}/files``,
``/uploads``), and the one check of file names (:func:`name_problem`).

Sizes are integer bytes; times epoch seconds; checksums SHA-256 in lower-case hex. A file name is a relative
POSIX path: no ``..`` or ``.`` segment, no empty segment, no leading ``/``, no backslash, no control
character, at most :data:`MAX_NAME_BYTES` bytes of UTF-8.
"""

from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict, Field, field_validator

from huanghe.domain.bounds import SafeName
from huanghe.domain.enums import DataClass, Temperature
from huanghe.domain.jobs import IdRef
from huanghe.domain.network import ID_PATTERN

#: Longest file name, bytes of UTF-8.
MAX_NAME_BYTES = 512
#: Largest file, bytes (the S3 limit of one object: 5 TiB).
MAX_FILE_BYTES = 5 * 1024**4
#: Parts of a multipart upload: numbers 1..MAX_PARTS; every part but the last at least MIN_PART_BYTES
#: (the S3 rule), every part at most MAX_PART_BYTES (the API's request body limit); PART_BYTES advised.
MAX_PARTS = 10_000
MIN_PART_BYTES = 5 * 1024 * 1024
MAX_PART_BYTES = 32 * 1024 * 1024
PART_BYTES = 16 * 1024 * 1024
#: Largest file sent in one ``PUT /datasets/{id}/files/{name}``, bytes (larger: an upload in parts).
MAX_SINGLE_PUT_BYTES = MAX_PART_BYTES
SHA256_PATTERN = r"^[0-9a-f]{64}$"
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def name_problem(name: str) -> str | None:
    """Why ``name`` is not an acceptable file name (None when it is)."""
    if not name:
        return "must not be empty"
    if len(name.encode("utf-8", "surrogatepass")) > MAX_NAME_BYTES:
        return f"must be at most {MAX_NAME_BYTES} bytes of UTF-8"
    if _CONTROL.search(name):
        return "must not contain control characters (NUL, newline, ...)"
    if name.startswith("/"):
        return "must be a relative path (no leading '/')"
    if "\\" in name:
        return "must not contain a backslash (use '/' between directories)"
    for segment in name.split("/"):
        if segment in ("", ".", ".."):
            return "must not contain '..', '.' or empty path segments"
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return "must be valid UTF-8 text"
    return None


def _valid_name(value: str) -> str:
    problem = name_problem(value)
    if problem is not None:
        raise ValueError(problem)
    return value


class DatasetRegister(BaseModel):
    """A dataset registered for uploads. Its home center is ``center``, else the center of ``endpoint``,
    else the center of the hot endpoint with the most free space that may hold its class; the first upload
    moves it to the center of the endpoint actually written."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=ID_PATTERN, max_length=64)
    tenant: str | None = Field(default=None, pattern=ID_PATTERN, description="default: the caller's tenant")
    name: SafeName | None = Field(default=None, description="default: the id")
    data_class: DataClass = DataClass.GENERAL
    temperature: Temperature = Temperature.HOT
    allowed_centers: list[IdRef] = Field(default_factory=list, max_length=1000)
    center: str | None = Field(default=None, pattern=ID_PATTERN)
    endpoint: str | None = Field(default=None, pattern=ID_PATTERN)


class UploadCreate(BaseModel):
    """An upload in parts of one file of ``size_bytes`` (declared first: quotas and space are checked
    before any byte is accepted). Target: ``endpoint``, else the hot endpoint of ``center``, else the hot
    endpoint of the dataset's home center."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(max_length=MAX_NAME_BYTES * 4)
    size_bytes: int = Field(ge=1, le=MAX_FILE_BYTES)
    endpoint: str | None = Field(default=None, pattern=ID_PATTERN)
    center: str | None = Field(default=None, pattern=ID_PATTERN)

    _name = field_validator("name")(_valid_name)


class UploadComplete(BaseModel):
    """The client's SHA-256 of the whole file: the server re-reads what it stored and compares."""

    model_config = ConfigDict(extra="forbid")

    sha256: str = Field(pattern=SHA256_PATTERN, description="SHA-256 of the whole file, lower-case hex")


class PartPublic(BaseModel):
    number: int
    size_bytes: int
    sha256: str


class UploadPublic(BaseModel):
    """An upload and the parts received so far (a client resumes by sending the missing ones)."""

    id: str
    dataset: str
    name: str
    endpoint: str
    center: str
    size_bytes: int
    received_bytes: int
    parts: list[PartPublic]
    part_bytes: int = PART_BYTES
    min_part_bytes: int = MIN_PART_BYTES
    max_part_bytes: int = MAX_PART_BYTES
    max_parts: int = MAX_PARTS
    state: str
    reason: str
    created_s: float
    expires_s: float


class ReplicaPublic(BaseModel):
    """A copy of a file on one storage endpoint (of one center)."""

    endpoint: str
    center: str
    state: str
    size_bytes: int
    verified_s: float | None
    accessed_s: float


class FilePublic(BaseModel):
    """A file of a dataset with its replicas."""

    dataset: str
    name: str
    size_bytes: int
    sha256: str
    state: str
    created_s: float
    accessed_s: float
    replicas: list[ReplicaPublic]
