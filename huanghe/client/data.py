"""Datasets' files over HTTP (``/api/v1/datasets/...``): register, upload (one request or in parts), list,
download with checksum verification, delete. Used by ``huanghe data put|get|ls|rm`` and as the Python SDK::

    from huanghe.client import HuangheClient
    from huanghe.client.data import DataFiles

    with HuangheClient() as hh:
        files = DataFiles(hh)
        files.upload("my-data", Path("a.bin"), progress=print)
        files.download("my-data", "a.bin", Path("copy.bin"))

Every failure is a :class:`~huanghe.client.errors.ClientError`; a download whose bytes do not match the
server's SHA-256 (or end short) raises :class:`ChecksumMismatchError` and leaves no file behind. Sizes are
bytes.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any
from urllib.parse import quote

import httpx

from huanghe.client.base import BaseClient
from huanghe.client.errors import ClientError, RequestRefusedError, ServerUnreachableError

#: Files up to this size go in one request; larger ones in parts (the server accepts up to 32 MiB per
#: request), bytes.
SINGLE_PUT_MAX_BYTES = 8 * 1024 * 1024
#: Part size of uploads in parts, bytes (the server's advised size; 5 MiB..32 MiB allowed).
PART_BYTES = 16 * 1024 * 1024
#: Read size when hashing local files, bytes.
CHUNK_BYTES = 1024 * 1024
Progress = Callable[[int], None]  # called with the bytes moved since the last call


class ChecksumMismatchError(ClientError):
    """Downloaded bytes differ from the server's checksum or size, or the answer ended short."""


def sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(CHUNK_BYTES), b""):
            h.update(chunk)
    return h.hexdigest()


def _q(name: str) -> str:
    """A file name as a URL path (each segment percent-encoded, ``/`` kept)."""
    return quote(name, safe="/")


class DataFiles:
    """The files operations of one client connection."""

    def __init__(self, client: BaseClient) -> None:
        self.client = client

    # ------------------------------------------------------------ datasets
    def get_dataset(self, dataset: str) -> dict[str, Any] | None:
        """The dataset, or None when it does not exist (or is another tenant's)."""
        try:
            data: dict[str, Any] = self.client.call("GET", f"/datasets/{dataset}")
        except RequestRefusedError as exc:
            if exc.status_code == 404:
                return None
            raise
        return data

    def register(self, dataset: str, **fields: Any) -> dict[str, Any]:
        """Register an empty dataset for uploads (``POST /datasets:register``)."""
        body = {"id": dataset, **{k: v for k, v in fields.items() if v is not None}}
        data: dict[str, Any] = self.client.call("POST", "/datasets:register", json=body)
        return data

    def delete_dataset(self, dataset: str) -> None:
        """Delete a dataset and every replica of its files."""
        self.client.request("DELETE", f"/datasets/{dataset}")

    # ------------------------------------------------------------ files
    def list_files(self, dataset: str, *, prefix: str | None = None) -> list[dict[str, Any]]:
        """Every file of the dataset with its replicas (endpoint, center, state), by name."""
        out: list[dict[str, Any]] = []
        while True:
            page = self.client.call("GET", f"/datasets/{dataset}/files",
                                    params={"prefix": prefix, "limit": 1000, "offset": len(out)})  # fmt: skip
            out.extend(page["items"])
            if not page["items"] or len(out) >= page["total"]:
                return out

    def delete_file(self, dataset: str, name: str) -> None:
        self.client.request("DELETE", f"/datasets/{dataset}/files/{_q(name)}")

    def upload(
        self, dataset: str, path: Path, *, name: str | None = None, endpoint: str | None = None,
        progress: Progress | None = None, part_bytes: int | None = None, resume: bool = True,
        on_resume: Callable[[dict[str, Any]], None] | None = None,
    ) -> dict[str, Any]:  # fmt: skip
        """Upload a local file (one request when small, else in parts); the server verifies its SHA-256.

        In parts, an open upload of the same name and size (left by an interrupted call: a lost connection
        or Ctrl-C keep it open) is resumed when ``resume``: parts the server holds with the same size and
        SHA-256 are not sent again (``on_resume`` is told the upload). Any other failure aborts it."""
        name = name or path.name
        size = path.stat().st_size
        digest = sha256_of(path)
        if size <= SINGLE_PUT_MAX_BYTES:
            data = path.read_bytes()
            answer = self.client.request(
                "PUT", f"/datasets/{dataset}/files/{_q(name)}", params={"endpoint": endpoint},
                content=data, headers={"X-Checksum-Sha256": digest, "Content-Type": "application/octet-stream"},
            )  # fmt: skip
            if progress is not None:
                progress(size)
            result: dict[str, Any] = answer.json()
            return result
        up = self.open_upload(dataset, name, size) if resume else None
        if up is not None and on_resume is not None:
            on_resume(up)
        first = next((p for p in up["parts"] if p["number"] == 1), None) if up is not None else None
        if first is not None and int(first["size_bytes"]) < size:  # keep the part size it was started with
            part_bytes = int(first["size_bytes"])
        if up is None:
            up = self.client.call("POST", f"/datasets/{dataset}/uploads",
                                  json={"name": name, "size_bytes": size, "endpoint": endpoint})  # fmt: skip
        have = {int(p["number"]): (int(p["size_bytes"]), str(p["sha256"])) for p in up["parts"]}
        try:
            with path.open("rb") as f:
                self._send_parts(dataset, up["id"], f, part_bytes or PART_BYTES, progress, have)
            done: dict[str, Any] = self.client.call(
                "POST", f"/datasets/{dataset}/uploads/{up['id']}/complete", json={"sha256": digest}
            )
        except (ServerUnreachableError, KeyboardInterrupt):
            raise  # left open on the server: the same call resumes it
        except BaseException:
            self._abort_quietly(dataset, up["id"])
            raise
        return done

    def open_upload(self, dataset: str, name: str, size: int) -> dict[str, Any] | None:
        """The newest open upload of ``name`` with this size (an interrupted upload to resume), if any."""
        page = self.client.call("GET", f"/datasets/{dataset}/uploads",
                                params={"name": name, "state": "open", "limit": 10})  # fmt: skip
        return next((dict(u) for u in page["items"] if int(u["size_bytes"]) == size), None)

    def _send_parts(
        self, dataset: str, upload: str, f: IO[bytes], part_bytes: int, progress: Progress | None,
        have: dict[int, tuple[int, str]],
    ) -> None:  # fmt: skip
        """Send every part but those the server already holds with the same size and SHA-256."""
        number = 1
        while chunk := f.read(part_bytes):
            if have.get(number) != (len(chunk), hashlib.sha256(chunk).hexdigest()):
                self.client.request(
                    "PUT", f"/datasets/{dataset}/uploads/{upload}/parts/{number}", content=chunk,
                    headers={"Content-Type": "application/octet-stream"},
                )  # fmt: skip
            if progress is not None:
                progress(len(chunk))
            number += 1

    def _abort_quietly(self, dataset: str, upload: str) -> None:
        with contextlib.suppress(ClientError):  # else the server aborts it when it expires
            self.client.request("DELETE", f"/datasets/{dataset}/uploads/{upload}")

    def download(
        self, dataset: str, name: str, out: Path, *, progress: Progress | None = None,
        total: Callable[[int], None] | None = None,
    ) -> str:  # fmt: skip
        """Download to ``out`` (written to a temporary file beside it, renamed once the SHA-256 and size
        match the server's); the SHA-256. ``total`` is told the size first."""
        path = f"/datasets/{dataset}/files/{_q(name)}/content"
        tmp = out.with_name(f".{out.name}.part{os.getpid()}")
        h = hashlib.sha256()
        size = 0
        try:
            with self.client.stream(path) as response:
                expected = response.headers.get("x-checksum-sha256", "")
                length = int(response.headers.get("content-length", "-1"))
                if total is not None:
                    total(length)
                try:
                    with tmp.open("wb") as f:
                        for chunk in response.iter_bytes(CHUNK_BYTES):
                            f.write(chunk)
                            h.update(chunk)
                            size += len(chunk)
                            if progress is not None:
                                progress(len(chunk))
                except httpx.HTTPError as exc:
                    raise ChecksumMismatchError(
                        f"download of {dataset}/{name} ended after {size} of {length} bytes ({type(exc).__name__}): "
                        "the server found the replica corrupt or lost the connection; retry (下载不完整)",
                        url=self.client.url, method="GET", path=path,
                    ) from None  # fmt: skip
            if h.hexdigest() != expected or (length >= 0 and size != length):
                raise ChecksumMismatchError(
                    f"download of {dataset}/{name}: received {size} bytes with SHA-256 {h.hexdigest()}, the "
                    f"server says {length} bytes with {expected} (校验和不一致)",
                    url=self.client.url, method="GET", path=path,
                )  # fmt: skip
            tmp.replace(out)
        finally:
            tmp.unlink(missing_ok=True)
        return h.hexdigest()
