"""Transfer service throughput between two local SeaweedFS endpoints, as a ratio to a plain boto3 copy of the
same files in the same run, and transfers lost across a SIGKILL of a worker process mid-transfer.

Set-up: two ``weed server`` processes on 127.0.0.1 (one endpoint on each, two centers of the bundled
``shandong`` network), a SQLite database, ``--files`` random files of ``--size-mb`` MB on the source.

* **baseline** (plain boto3): the same ``--workers`` threads each stream ``get_object`` of the source into
  ``upload_fileobj`` on the destination (same client settings and part size as the platform's object store;
  no checksum, no database).
* **service**: the same files queued as transfers and copied by :class:`TransferLoop` (``--workers`` threads:
  lease, source choice, residency, SHA-256 verified on the way, replica rows, costs, locks), timed from the
  loop's start until every transfer is ``done``. Links unthrottled (share 1, 400 Gbps).
* the platform's S3 clients are made before timing (once per process, as the baseline's); rounds alternate
  baseline / service ``--rounds`` times (each round to new keys); throughput = bytes / time;
  the ratio is service / baseline of the summed times.
* **crash**: ``--files`` more transfers run by a worker process (``python -m huanghe.data.transfer_run``)
  killed with SIGKILL while a copy is under way (a replica ``copying``), then a second worker; counted:
  transfers not ``done`` (lost), files whose bytes or used bytes were counted twice.

Usage::

    .venv/bin/python bench/bench_transfers.py --files 16 --size-mb 32 --workers 4 --rounds 3
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING

from cryptography.fernet import Fernet
from pydantic import SecretStr
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

if TYPE_CHECKING:
    from huanghe.data.objects import ObjectStore
    from huanghe.data.seaweed import SeaweedServer

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--files", type=int, default=16)
    ap.add_argument("--size-mb", type=float, default=32.0)
    ap.add_argument("--workers", type=int, default=4)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    os.environ.setdefault("HUANGHE_SECRET_KEY", Fernet.generate_key().decode())
    from huanghe.data.seaweed import SeaweedServer

    with tempfile.TemporaryDirectory(prefix="hh-bench-tr-") as tmp:
        servers = [SeaweedServer.start(Path(tmp) / f"weed{i}") for i in range(2)]
        try:
            print(json.dumps(run(args, Path(tmp), servers), indent=2))
        finally:
            for s in servers:
                s.stop()


def run(args: argparse.Namespace, tmp: Path, servers: list[SeaweedServer]) -> dict[str, object]:
    from huanghe.catalog.topology import load_topology
    from huanghe.data.models import DataFileRow, DatasetRow, FileReplicaRow, StorageEndpointRow
    from huanghe.data.objects import EndpointAccess, ObjectStore
    from huanghe.network import topology_store
    from huanghe.network.schemas import SecretPut
    from huanghe.network.secrets import put_secret
    from huanghe.store.db import make_session_factory
    from huanghe.store.migrate import migrate
    from huanghe.tenancy import service as tenancy_svc
    from huanghe.tenancy.schemas import TenantCreate

    url = f"sqlite:///{tmp / 'bench.db'}"
    migrate(url)
    sf = make_session_factory(url)
    topo = load_topology("shandong")
    general = [c for c in topo.centers if "general" in c.allowed_data_classes]
    src_c, dst_c = general[0].id, general[1].id
    stores = [ObjectStore(EndpointAccess(s.s3_url, "bench", s.access_key, s.secret_key)) for s in servers]
    for st in stores:
        st.ensure_bucket()
    with sf() as s:
        topology_store.import_topology(s, topo)
        tenancy_svc.create_tenant(s, TenantCreate(id="bench", name="bench", sector="manufacturing"))
        s.add(DatasetRow(id="bench", tenant_id="bench", name="bench", center_id=src_c, size_gb=0.0,
                         data_class="general", temperature="hot", replicas=[], allowed_centers=[]))  # fmt: skip
        for i, srv in enumerate(servers):
            put_secret(s, f"w{i}-a", SecretPut(value=SecretStr(srv.access_key)))
            put_secret(s, f"w{i}-s", SecretPut(value=SecretStr(srv.secret_key)))
        for eid, center, i in (("src", src_c, 0), ("dst", dst_c, 1), ("dst2", dst_c, 1)):
            s.add(StorageEndpointRow(id=eid, center_id=center, temperature="hot", medium="flash",
                                     url=servers[i].s3_url, bucket="bench", access_key_secret=f"w{i}-a",
                                     secret_key_secret=f"w{i}-s", capacity_bytes=10**15, used_bytes=0,
                                     available=True, reason="", attributes={}, created_s=0.0))  # fmt: skip
        s.commit()
    size = int(args.size_mb * 1024 * 1024)
    file_ids: dict[int, list[int]] = {}
    n_sets = args.rounds + 1  # one set per service round, one for the crash
    with sf() as s:
        for r in range(n_sets):
            file_ids[r] = []
            for i in range(args.files):
                data = os.urandom(size)
                key = f"src/bench/r{r}/f{i}.bin"
                stores[0].put_bytes(key, data)
                f = DataFileRow(dataset_id="bench", name=f"r{r}/f{i}.bin", size_bytes=size,
                                sha256=hashlib.sha256(data).hexdigest(), state="available", created_s=0.0,
                                accessed_s=0.0)  # fmt: skip
                s.add(f)
                s.flush()
                s.add(FileReplicaRow(file_id=f.id, endpoint_id="src", state="available", object_key=key,
                                     size_bytes=size, lock_count=0, created_s=0.0, accessed_s=0.0, verified_s=0.0))  # fmt: skip
                file_ids[r].append(f.id)
        s.commit()
    os.environ.update(HUANGHE_TRANSFERS_LINK_SHARE="1", HUANGHE_TRANSFERS_UNLINKED_GBPS="400",
                      HUANGHE_TRANSFERS_WORKERS=str(args.workers), HUANGHE_TRANSFERS_PER_ENDPOINT=str(args.workers))  # fmt: skip
    from huanghe.data.endpoints import store_of

    with sf() as s:  # warm-up, as the baseline's clients exist before its timing: one client per endpoint
        for eid in ("src", "dst", "dst2"):
            store_of(s, eid)
    base_s: list[float] = []
    svc_s: list[float] = []
    for r in range(args.rounds):
        base_s.append(baseline(stores, args, r))
        svc_s.append(service(sf, file_ids[r], "dst"))
    total = args.files * size * args.rounds
    out: dict[str, object] = {
        "files_per_round": args.files, "size_mb": args.size_mb, "workers": args.workers, "rounds": args.rounds,
        "baseline_s": [round(x, 3) for x in base_s], "service_s": [round(x, 3) for x in svc_s],
        "baseline_mb_s": round(total / sum(base_s) / 2**20, 1), "service_mb_s": round(total / sum(svc_s) / 2**20, 1),
        "throughput_ratio": round(sum(base_s) / sum(svc_s), 3),
    }  # fmt: skip
    out.update(crash(sf, url, file_ids[args.rounds], size, tmp))
    return out


def baseline(stores: list[ObjectStore], args: argparse.Namespace, r: int) -> float:
    """Plain boto3: stream each source object into the destination, ``--workers`` at once."""
    src, dst = stores

    def copy(i: int) -> None:
        body = src.client.get_object(Bucket="bench", Key=f"src/bench/r{r}/f{i}.bin")["Body"]
        try:
            dst.client.upload_fileobj(body, "bench", f"plain/r{r}/f{i}.bin", Config=dst.transfer)
        finally:
            body.close()

    t0 = time.perf_counter()
    with ThreadPoolExecutor(args.workers) as pool:
        list(pool.map(copy, range(args.files)))
    return time.perf_counter() - t0


def service(sf: sessionmaker[Session], file_ids: list[int], dest: str) -> float:
    """Queue the transfers, run the server's loop until all are done; seconds from the loop's start."""
    from huanghe.data.models import TransferRow
    from huanghe.data.transfers import TransferLoop, queue_many

    with sf() as s:
        queue_many(s, [(f, dest) for f in file_ids], now_s=time.time())
        s.commit()
    loop = TransferLoop(sf)
    t0 = time.perf_counter()
    loop.start()
    try:
        while True:
            with sf() as s:
                left = s.scalar(select(func.count()).select_from(TransferRow).where(
                    TransferRow.file_id.in_(file_ids), TransferRow.state != "done"))  # fmt: skip
            if not left:
                return time.perf_counter() - t0
            time.sleep(0.02)
    finally:
        loop.stop()


def crash(
    sf: sessionmaker[Session], url: str, file_ids: list[int], size: int, tmp: Path
) -> dict[str, object]:
    """SIGKILL a worker process mid-copy, finish with a second one; count lost and doubled transfers."""
    from huanghe.data.models import FileReplicaRow, StorageEndpointRow, TransferRow
    from huanghe.data.transfers import queue_many

    with sf() as s:
        ids = [t.id for t in queue_many(s, [(f, "dst2") for f in file_ids], now_s=time.time())]
        s.commit()
    env = {**os.environ, "HUANGHE_TRANSFERS_LEASE_S": "3", "HUANGHE_TRANSFERS_RETRY_DELAY_S": "0"}
    cmd = [sys.executable, "-m", "huanghe.data.transfer_run", "--db", url, "--until-idle", "--max-s", "600"]
    first = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=(tmp / "w1.out").open("wb"),
                             stderr=subprocess.STDOUT, start_new_session=True)  # fmt: skip
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        with sf() as s:
            copying = s.scalar(select(func.count()).select_from(FileReplicaRow).where(
                FileReplicaRow.endpoint_id == "dst2", FileReplicaRow.state == "copying"))  # fmt: skip
        if copying:
            break
        time.sleep(0.02)
    time.sleep(0.3)
    os.killpg(first.pid, signal.SIGKILL)
    first.wait(10)
    with sf() as s:
        interrupted = s.scalar(select(func.count()).select_from(TransferRow).where(
            TransferRow.id.in_(ids), TransferRow.state == "active"))  # fmt: skip
        done_before = s.scalar(select(func.count()).select_from(TransferRow).where(
            TransferRow.id.in_(ids), TransferRow.state == "done"))  # fmt: skip
    t0 = time.perf_counter()
    second = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=(tmp / "w2.out").open("wb"),
                              stderr=subprocess.STDOUT, start_new_session=True)  # fmt: skip
    code = second.wait(900)
    lines = (tmp / "w1.out").read_text().split() + (tmp / "w2.out").read_text().split()
    done_lines = [int(t) for t, o in zip(lines[::2], lines[1::2], strict=True) if o == "done"]
    with sf() as s:
        rows = list(s.scalars(select(TransferRow).where(TransferRow.id.in_(ids))))
        used = s.get(StorageEndpointRow, "dst2").used_bytes  # type: ignore[union-attr]
    return {
        "crash_transfers": len(ids), "crash_active_at_kill": interrupted, "crash_done_before_kill": done_before,
        "crash_second_worker_exit": code, "crash_recovery_s": round(time.perf_counter() - t0, 2),
        "crash_lost": sum(1 for t in rows if t.state != "done"),
        "crash_done_twice": len(done_lines) - len(set(done_lines)) + sum(1 for t in rows if t.bytes != size),
        "crash_used_bytes_ok": used == size * len(ids),
    }  # fmt: skip


if __name__ == "__main__":
    main()
