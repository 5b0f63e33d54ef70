"""The local storage endpoints of ``huanghe up`` in dev mode: SeaweedFS servers under the data directory.

By default one server per economic circle (region) whose centers have storage tiers; ``count`` servers share
the circles round-robin (0: none). Each server has ONE bucket (:data:`BUCKET`); every endpoint of its circles'
centers lives in it under keys prefixed by the endpoint id. The servers' keys are stored as secrets
(``dev-storage-<n>-access`` / ``-secret``, encrypted with the dev key), the endpoints synced from the network
and health-checked. A state file (``<data dir>/storage/state.json``, mode 0600) keeps each server's data
directory, S3 port and keys, so a restart serves the same objects at the same address. Servers are stopped
together (SIGTERM, then SIGKILL) by :meth:`DevStorage.stop`; servers left by a killed ``up`` (their pids in
the state file, still running ``weed`` on that directory) are killed before new ones start.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from huanghe.core.clock import WallClock
from huanghe.data import endpoint_sync, endpoints
from huanghe.data.endpoint_schemas import SyncSummary
from huanghe.data.objects import EndpointAccess, ObjectStore
from huanghe.data.seaweed import KILL_AFTER_S, SeaweedServer, SeaweedUnavailableError
from huanghe.network import secrets
from huanghe.network.models import CenterRow, CityRow, RegionRow, StorageTierRow
from huanghe.network.schemas import SecretPut

#: The one bucket of each dev server.
BUCKET = "huanghe"
STATE_FILE = "state.json"
ACTOR = "system:dev-storage"


def storage_root(data_dir: Path) -> Path:
    """Where the dev servers keep their data: ``<data dir>/storage``."""
    return data_dir / "storage"


def circles_with_storage(session: Session) -> list[str]:
    """Ids of the regions (economic circles) having at least one center with a storage tier, in file order."""
    rows = session.execute(
        select(RegionRow.id)
        .where(
            RegionRow.id.in_(
                select(CityRow.region_id)
                .join(CenterRow, CenterRow.city_id == CityRow.id)
                .join(StorageTierRow, StorageTierRow.center_id == CenterRow.id)
            )
        )
        .order_by(RegionRow.position, RegionRow.id)
    )
    return [str(r[0]) for r in rows]


def plan(circles: list[str], count: int | None) -> list[list[str]]:
    """The circles of each server: one server per circle by default, else ``count`` servers round-robin."""
    n = len(circles) if count is None else min(count, len(circles))
    return [circles[i::n] for i in range(n)] if n > 0 else []


def _port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(
            socket.SOL_SOCKET, socket.SO_REUSEADDR, 1
        )  # as weed's listener: TIME_WAIT is no obstacle
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _stale_weed(pid: int, root: Path) -> bool:
    """Whether ``pid`` is a running ``weed`` serving ``root`` (left by an ``up`` that was killed)."""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
    except OSError:
        return False
    return "weed" in cmdline and str(root) in cmdline


def _kill_stale(pid: int, root: Path) -> bool:
    """Kill a stale server (True when there was one)."""
    if not _stale_weed(pid, root):
        return False
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and _stale_weed(pid, root):
        time.sleep(0.1)
    return True


def _kill_starting(root: Path, count: int) -> None:
    """Kill the servers of ``root`` whose start is under way (by their pid files): their readiness wait then
    ends at once (:meth:`SeaweedServer.wait_ready` sees the process gone and raises)."""
    for i in range(count):
        with contextlib.suppress(OSError, ValueError):
            _kill_stale(int((root / f"server-{i}" / "weed.pid").read_text()), root / f"server-{i}")


@dataclass
class DevStorage:
    """The running dev servers (possibly none)."""

    root: Path
    servers: list[SeaweedServer] = field(default_factory=list)
    circles: list[list[str]] = field(default_factory=list)

    def stop(self) -> None:
        """SIGTERM every server at once, SIGKILL those still alive after ``KILL_AFTER_S``; wait for them."""
        for server in self.servers:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(server.pid, signal.SIGTERM)
        deadline = time.monotonic() + KILL_AFTER_S
        while time.monotonic() < deadline and any(s.alive() for s in self.servers):
            time.sleep(0.1)
        for server in self.servers:
            if server.alive():
                server.kill()
            with contextlib.suppress(FileNotFoundError):
                (server.root / "weed.pid").unlink()
        self.servers = []


def _load_state(root: Path) -> list[dict[str, Any]]:
    try:
        doc = json.loads((root / STATE_FILE).read_text())
    except (OSError, ValueError):
        return []
    servers = doc.get("servers") if isinstance(doc, dict) else None
    return [s for s in servers if isinstance(s, dict)] if isinstance(servers, list) else []


def _save_state(root: Path, servers: list[SeaweedServer], circles: list[list[str]]) -> None:
    doc = {"servers": [
        {"dir": s.root.name, "s3_port": s.s3_port, "access_key": s.access_key, "secret_key": s.secret_key,
         "pid": s.pid, "circles": c}
        for s, c in zip(servers, circles, strict=True)
    ]}  # fmt: skip
    tmp = root / (STATE_FILE + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        json.dump(doc, f, indent=1)
    tmp.replace(root / STATE_FILE)


def _start_one(root: Path, i: int, saved: dict[str, Any]) -> SeaweedServer:
    server_root = root / f"server-{i}"
    pid = saved.get("pid")
    killed = isinstance(pid, int) and _kill_stale(pid, server_root)
    port = saved.get("s3_port")
    if killed and isinstance(
        port, int
    ):  # its cmdline is gone before its sockets are closed: wait for the port
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not _port_free(port):
            time.sleep(0.1)
    return SeaweedServer.start(
        server_root,
        access_key=saved.get("access_key") or None,
        secret_key=saved.get("secret_key") or None,
        s3_port=port if isinstance(port, int) and _port_free(port) else None,
    )


def _register(
    factory: sessionmaker[Session], servers: list[SeaweedServer], circles: list[list[str]], dev_mode: bool
) -> SyncSummary:
    """Keys as secrets, buckets made, endpoints synced onto their circle's server and health-checked."""
    mapping: dict[str, endpoints.S3Server] = {}
    with factory() as session:
        for i, (server, group) in enumerate(zip(servers, circles, strict=True)):
            names = (f"dev-storage-{i}-access", f"dev-storage-{i}-secret")
            for name, value in zip(names, (server.access_key, server.secret_key), strict=True):
                put = SecretPut(value=value, description=f"S3 key of the dev storage server {i} (开发存储)")
                secrets.put_secret(session, name, put, dev_mode=dev_mode)
            ObjectStore(
                EndpointAccess(server.s3_url, BUCKET, server.access_key, server.secret_key)
            ).ensure_bucket()
            for circle in group:
                mapping[circle] = endpoints.S3Server(server.s3_url, BUCKET, *names)
        summary = endpoint_sync.sync_endpoints(session, mapping, clock=WallClock(), actor=ACTOR)
        endpoints.check_endpoints(session, WallClock(), actor=ACTOR)
    return summary


def start_dev_storage(
    factory: sessionmaker[Session], data_dir: Path, *, count: int | None = None,
    progress: Callable[[str], None] = lambda _: None, dev_mode: bool = True,
) -> DevStorage:  # fmt: skip
    """Start (or restart, reusing the state file) the dev servers for the stored network, sync its endpoints
    onto them; ``progress`` gets one line per server started. The keys are stored as secrets (with the dev key
    file when ``dev_mode`` and no ``HUANGHE_SECRET_KEY``). On any failure every server started is stopped
    and :class:`SeaweedUnavailableError` (or the error) is raised."""
    with factory() as session:
        groups = plan(circles_with_storage(session), count)
    root = storage_root(data_dir)
    storage = DevStorage(root=root, circles=groups)
    if not groups:
        return storage
    root.mkdir(parents=True, exist_ok=True)
    os.chmod(root, 0o700)
    saved = _load_state(root)
    started: dict[int, SeaweedServer] = {}
    pool = ThreadPoolExecutor(max_workers=len(groups))
    futures = {
        pool.submit(_start_one, root, i, saved[i] if i < len(saved) else {}): i for i in range(len(groups))
    }
    try:
        try:
            progress(f"starting storage endpoints 0/{len(groups)} … (启动存储端点)")
            errors = []
            for future in as_completed(futures):
                try:
                    server = future.result()
                except (SeaweedUnavailableError, OSError) as exc:
                    errors.append(f"server {futures[future]}: {exc}")
                    continue
                started[futures[future]] = server
                progress(f"starting storage endpoints {len(started)}/{len(groups)} … (启动存储端点)")
        except BaseException:  # SIGTERM / Ctrl-C while servers start: end the ones still getting ready now
            _kill_starting(root, len(groups))
            raise
        finally:  # a server whose start ended after an interruption is collected, so it is stopped below
            pool.shutdown(wait=True)
            for future, i in futures.items():
                if i not in started and not future.cancelled() and future.exception() is None:
                    started[i] = future.result()
        storage.servers = [started[i] for i in sorted(started)]
        if errors:
            raise SeaweedUnavailableError("; ".join(errors))
        _save_state(root, storage.servers, groups)
        summary = _register(factory, storage.servers, groups, dev_mode)
        progress(
            f"storage endpoints ready (存储端点就绪): {len(storage.servers)} SeaweedFS server(s), "
            f"{len(summary.created) + len(summary.updated) + len(summary.unchanged)} endpoint(s) under {root}"
        )
    except BaseException:
        storage.servers = [started[i] for i in sorted(started)]
        storage.stop()
        raise
    return storage
