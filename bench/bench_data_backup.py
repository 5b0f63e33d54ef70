"""Off-site backup coverage after one repair cycle, on a bundled network with real SeaweedFS endpoints.

Goal of issue #13: 100 % of the important/core datasets of the bundled scenario with a verified off-site copy
after one repair cycle. The scenario (:mod:`huanghe.data.scenario`, illustrative) is seeded on the network's
endpoints (one SeaweedFS server per economic circle, as ``huanghe up`` starts them); the baseline is the
coverage before the cycle, measured in the same run. One cycle = one data-loop tick (backup policy, rule
evaluation), the transfer service run until idle, one more tick (rules become OK).

    .venv/bin/python bench/bench_data_backup.py --network shandong --important 30 --core 10
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

from cryptography.fernet import Fernet

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--network", default="shandong")
    ap.add_argument("--general", type=int, default=10)
    ap.add_argument("--important", type=int, default=30)
    ap.add_argument("--core", type=int, default=10)
    ap.add_argument("--files", type=int, default=3, help="files per dataset")
    ap.add_argument("--file-kib", type=int, default=256)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    os.environ.setdefault("HUANGHE_SECRET_KEY", Fernet.generate_key().decode())

    from sqlalchemy import func, select

    from huanghe.catalog.topology import load_topology
    from huanghe.data import backup
    from huanghe.data.dev_storage import start_dev_storage
    from huanghe.data.loop import DataLoop, DataLoopSettings
    from huanghe.data.models import StorageEndpointRow, TransferRow
    from huanghe.data.scenario import seed_scenario
    from huanghe.data.transfers import TransferService
    from huanghe.network import topology_store
    from huanghe.store.db import make_session_factory
    from huanghe.store.migrate import migrate

    with tempfile.TemporaryDirectory(prefix="hh-backup-") as tmp:
        url = f"sqlite:///{tmp}/b.db"
        migrate(url)
        factory = make_session_factory(url)
        with factory() as s:
            topology_store.import_topology(s, load_topology(args.network), replace=False)
        t0 = time.perf_counter()
        storage = start_dev_storage(factory, Path(tmp), progress=lambda line: print(line, file=sys.stderr))
        try:
            with factory() as s:
                n_ep = s.scalar(select(func.count()).select_from(StorageEndpointRow))
                sc = seed_scenario(s, tenants=5, seed=args.seed, files_per_dataset=args.files,
                                   file_bytes=args.file_kib * 1024,
                                   per_class={"general": args.general, "important": args.important, "core": args.core})  # fmt: skip
                before = backup.offsite_status(s)
            print(f"network {args.network}: {len(storage.servers)} SeaweedFS servers, {n_ep} endpoints; scenario "
                  f"{sum(len(v) for v in sc.datasets.values())} datasets, {sc.files} files, {sc.bytes / 1e6:.1f} MB "
                  f"(set-up {time.perf_counter() - t0:.1f} s)")  # fmt: skip
            loop = DataLoop(factory, DataLoopSettings())
            t1 = time.perf_counter()
            now = time.time()
            loop.tick(now)
            outcomes = TransferService(factory).run_until_idle()
            loop.tick(now + 1)
            cycle_s = time.perf_counter() - t1
            with factory() as s:
                after = backup.offsite_status(s)
                moved = s.scalar(select(func.sum(TransferRow.bytes)).where(TransferRow.state == "done")) or 0
        finally:
            storage.stop()
    done = sum(1 for v in outcomes.values() if v == "done")
    print(f"important/core datasets: {after.datasets}; verified off-site copy before the cycle "
          f"{before.with_offsite_copy} ({(before.share or 0):.0%}), after one cycle {after.with_offsite_copy} "
          f"({(after.share or 0):.0%}); missing {after.missing}")  # fmt: skip
    print(f"cycle: {cycle_s:.1f} s, {done}/{len(outcomes)} transfers done, {moved / 1e6:.1f} MB moved; "
          f"loop errors {loop.errors or 'none'}")  # fmt: skip
    print(f"goal 100 % after one repair cycle: {'met' if after.share == 1.0 else 'NOT met'}")
    return 0 if after.share == 1.0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
