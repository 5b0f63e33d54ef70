"""How the platform database grows: a generated topology and N jobs (each with its events) in SQLite.

A fresh SQLite file gets the full schema (``Base.metadata``, the same tables the migrations build), then
``import_topology`` of :func:`huanghe.catalog.generate.generate_topology` with ``--centers`` centers (the path
``huanghe topology import`` takes), then ``--jobs`` job rows (a typical submitted spec as JSON, queued
state) with ``--events`` events each (submitted, placed, dispatched, running ...), inserted in batches.
Printed: seconds and bytes of each step, bytes per center/pool and per job, and the time to read every queued
job's scheduling columns back (what the live broker loop selects each cycle), as rows per second. Usage::

    .venv/bin/python bench/bench_db_scale.py --centers 10000 --jobs 200000
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from sqlalchemy import insert, select

from huanghe.catalog.generate import generate_topology
from huanghe.jobs.models import JobEventRow, JobRow
from huanghe.network.topology_store import import_topology
from huanghe.store.db import make_engine, make_session_factory
from huanghe.store.models import Base

SPEC = {
    "name": "train-resnet",
    "kind": "gpu",
    "command": "python train.py --epochs 90 --batch-size 256",
    "cpus": 16.0,
    "gpus": 4.0,
    "nodes": 2,
    "mem_gb": 128.0,
    "accelerator": "a100",
    "duration_s": 14400.0,
    "datasets": ["ds-imagenet"],
    "data_gb": 150.0,
    "data_center": "c0001",
    "data_class": "general",
    "priority": 0,
    "max_price_cny_per_hour": None,
}


def size_mib(path: Path) -> float:
    return sum(p.stat().st_size for p in path.parent.glob(path.name + "*")) / 2**20


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--centers", type=int, default=10_000)
    ap.add_argument("--jobs", type=int, default=200_000)
    ap.add_argument("--events", type=int, default=4)
    ap.add_argument("--batch", type=int, default=20_000)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="hhdb") as tmp:
        db = Path(tmp) / "huanghe.db"
        engine = make_engine(f"sqlite:///{db}")
        Base.metadata.create_all(engine)
        empty = size_mib(db)
        topo = generate_topology(args.centers, 1)
        n_pools = len(topo.pools())
        session = make_session_factory(engine)()
        t0 = time.perf_counter()
        import_topology(session, topo)
        topo_s = time.perf_counter() - t0
        session.close()
        with_topo = size_mib(db)
        pools = [p.id for _, p in topo.pools()]
        t0 = time.perf_counter()
        with engine.begin() as conn:
            for start in range(0, args.jobs, args.batch):
                ids = range(start, min(start + args.batch, args.jobs))
                conn.execute(
                    insert(JobRow),
                    [
                        {"id": f"job-{i:09d}", "name": "train-resnet", "tenant_id": f"t{i % 100:03d}",
                         "user_id": f"u{i % 1000:04d}", "spec": SPEC, "priority": 0, "cpus": 16.0, "gpus": 4.0,
                         "mem_gb": 128.0, "nodes": 2, "state": "queued", "pool_id": pools[i % len(pools)],
                         "center_id": None, "submit_s": 1.7e9 + i, "updated_s": 1.7e9 + i,
                         "excluded_centers": [], "message": "", "cancel_requested": False}
                        for i in ids
                    ],
                )  # fmt: skip
                conn.execute(
                    insert(JobEventRow),
                    [
                        {"job_id": f"job-{i:09d}", "t_s": 1.7e9 + i + e, "kind": "state", "state": "queued",
                         "message": "", "data": {"pool": pools[i % len(pools)], "attempt": 0}}
                        for i in ids
                        for e in range(args.events)
                    ],
                )  # fmt: skip
        jobs_s = time.perf_counter() - t0
        full = size_mib(db)
        cols = (JobRow.id, JobRow.tenant_id, JobRow.priority, JobRow.cpus, JobRow.gpus, JobRow.mem_gb,
                JobRow.nodes, JobRow.submit_s, JobRow.spec)  # fmt: skip
        t0 = time.perf_counter()
        with engine.connect() as conn:
            n_read = len(conn.execute(select(*cols).where(JobRow.state == "queued")).all())
        read_s = time.perf_counter() - t0
        engine.dispose()
    out = {
        "centers": args.centers,
        "pools": n_pools,
        "jobs": args.jobs,
        "events_per_job": args.events,
        "empty_mib": empty,
        "topology_import_s": topo_s,
        "topology_mib": with_topo - empty,
        "jobs_insert_s": jobs_s,
        "jobs_mib": full - with_topo,
        "bytes_per_job_with_events": (full - with_topo) * 2**20 / args.jobs,
        "read_queued_s": read_s,
        "read_rows_per_s": n_read / read_s,
    }
    print(
        f"topology: {args.centers:,} centers, {n_pools:,} pools imported in {topo_s:.1f} s, "
        f"{out['topology_mib']:.1f} MiB ({out['topology_mib'] * 2**20 / args.centers:,.0f} B per center)"
    )
    print(
        f"jobs: {args.jobs:,} with {args.events} events each inserted in {jobs_s:.1f} s, {out['jobs_mib']:.1f} MiB "
        f"= {out['bytes_per_job_with_events']:,.0f} B per job (10 M jobs ~ "
        f"{out['bytes_per_job_with_events'] * 1e7 / 2**30:.1f} GiB)"
    )
    print(
        f"read back all {n_read:,} queued jobs' scheduling columns: {read_s:.2f} s = {n_read / read_s:,.0f} rows/s"
    )
    print(json.dumps(out))


if __name__ == "__main__":
    main()
