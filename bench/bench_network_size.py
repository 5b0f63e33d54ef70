"""What the calibrated ``shandong`` costs against ``shandong-mini`` (baseline), measured in one command.

Measures per network: loading the YAML, building the broker snapshot (the live dispatcher's refresh), the
broker's filters + estimates on a batch of jobs, and ``huanghe up`` from launch until ``/healthz`` answers on a
fresh SQLite file and data directory (dev mode, 127.0.0.1, stopped by its PID; in dev mode this includes
starting the storage endpoints of every center's storage tiers). Prints each figure and the ratio to the mini.

    .venv/bin/python bench/bench_network_size.py --jobs 2000 --repeat 2
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from broker_core import make_records, run

from huanghe.broker.batch import JobBatch
from huanghe.broker.snapshot import NetworkSnapshot
from huanghe.catalog.topology import load_topology
from huanghe.core.clock import FakeClock

ROOT = Path(__file__).resolve().parent.parent
NETWORKS = ("shandong-mini", "shandong")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def up_seconds(network: str, workdir: Path) -> float:
    """Seconds from launching ``huanghe up`` to the first 200 of ``/healthz``."""
    port = _free_port()
    db = workdir / f"{network}-{time.time_ns()}.db"
    args = [str(ROOT / ".venv/bin/huanghe"), "up", "--host", "127.0.0.1", "--port", str(port)]
    args += ["--db", f"sqlite:///{db}", "--network", network, "--log-level", "warning"]
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        args, cwd=workdir, env={**os.environ, "HUANGHE_DEV_MODE": "1", "HUANGHE_DATA_DIR": str(db) + ".data"},
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"huanghe up exited with {proc.returncode}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1):
                    return time.perf_counter() - t0
            except OSError:
                time.sleep(0.1)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(30)


def measure(network: str, jobs: int, repeat: int, workdir: Path) -> dict[str, float]:
    t0 = time.perf_counter()
    topo = load_topology(network)
    load_s = time.perf_counter() - t0
    snaps = []
    for _ in range(repeat):
        t = time.perf_counter()
        snap = NetworkSnapshot.from_topology(topo, FakeClock(0.0))
        snaps.append(time.perf_counter() - t)
    batch = JobBatch.from_records(snap, make_records(snap, jobs, 1))
    broker_s = min(run(snap, batch) for _ in range(repeat))
    ups = [up_seconds(network, workdir) for _ in range(repeat)]
    return {
        "centers": len(topo.centers),
        "pools": len(topo.pools()),
        "load_s": load_s,
        "snapshot_s": min(snaps),
        "broker_jobs_per_s": jobs / broker_s,
        "up_to_healthz_s": min(ups),
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--jobs", type=int, default=2000)
    ap.add_argument("--repeat", type=int, default=2)
    a = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="hh-netsize-") as tmp:
        res = {n: measure(n, a.jobs, a.repeat, Path(tmp)) for n in NETWORKS}
    base = res[NETWORKS[0]]
    print(f"{'measure':22s}" + "".join(f"{n:>16s}" for n in NETWORKS) + f"{'ratio':>10s}")
    for key in base:
        vals = [res[n][key] for n in NETWORKS]
        ratio = vals[1] / vals[0] if vals[0] else float("nan")
        print(f"{key:22s}" + "".join(f"{v:16,.3f}" for v in vals) + f"{ratio:10.2f}")


if __name__ == "__main__":
    main()
