"""Telemetry throughput on SQLite: simulate + store 24 h of the bundled network (5-min step) with the bulk
insert used by the platform versus a baseline that adds one ORM object per sample; then roll the day up and
push batches through the API validation; then time the observatory/alert reads on that day of data.

Run: ``.venv/bin/python bench/telemetry_bench.py [--hours 24]``. Prints times and ratios (same command).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from huanghe.catalog.topology import load_topology
from huanghe.network import topology_store as topology_store
from huanghe.observatory.generator import TelemetryGenerator
from huanghe.regulator import service as observatory
from huanghe.store.db import make_session_factory
from huanghe.store.migrate import migrate
from huanghe.telemetry import alerts
from huanghe.telemetry import rollup as telemetry_rollup
from huanghe.telemetry import service as telemetry
from huanghe.telemetry.cli import push_record
from huanghe.telemetry.models import TelemetrySampleRow
from huanghe.telemetry.runtime import TelemetryRuntime

T_END = 1_772_424_000_000


def _db(tmp: Path, name: str) -> sessionmaker[Session]:
    url = f"sqlite:///{tmp / name}"
    migrate(url)
    factory = make_session_factory(url)
    with factory() as s:
        topology_store.import_topology(s, load_topology("shandong-mini"))
    return factory


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--hours", type=float, default=24.0)
    args = ap.parse_args()
    gen = TelemetryGenerator(load_topology("shandong-mini"), seed=0)
    start = T_END - int(args.hours * 3_600_000)
    t = time.perf_counter()
    ticks = list(gen.history(start, T_END, 300))
    t_gen = time.perf_counter() - t
    n = sum(len(x) for x in ticks)
    print(f"generate: {len(ticks)} ticks, {n} samples in {t_gen:.2f} s ({n / t_gen:,.0f} samples/s)")
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        bulk, base = _db(tmp, "bulk.db"), _db(tmp, "base.db")
        t = time.perf_counter()
        with bulk() as s:
            for tick in ticks:
                telemetry.insert_rows(s, telemetry.sample_rows(tick))
                s.commit()
        t_bulk = time.perf_counter() - t
        t = time.perf_counter()
        with base() as s:
            for tick in ticks:
                for r in telemetry.sample_rows(tick):
                    s.add(TelemetrySampleRow(**r))
                s.commit()
        t_base = time.perf_counter() - t
        print(f"store bulk: {t_bulk:.2f} s ({n / t_bulk:,.0f} samples/s); baseline one ORM object per sample: "
              f"{t_base:.2f} s; ratio baseline/bulk = {t_base / t_bulk:.1f}×")  # fmt: skip
        t = time.perf_counter()
        with bulk() as s:
            written = telemetry_rollup.rollup(s, start, T_END)
            s.commit()
        print(f"rollup {args.hours:g} h: {written} buckets in {time.perf_counter() - t:.2f} s")
        batch = {"samples": [push_record(x) for x in ticks[-1][:1000]]}
        t = time.perf_counter()
        with bulk() as s:
            for _ in range(5):
                telemetry.ingest(s, batch, T_END)
        t_push = (time.perf_counter() - t) / 5
        print(
            f"validated push of 1000 samples: {t_push * 1000:.0f} ms per batch ({1000 / t_push:,.0f} samples/s)"
        )
        calls = {
            "observatory.indicators(level=center)": lambda s: observatory.indicators(
                s, "center", None, T_END
            ),
            "observatory.green_list()": lambda s: observatory.green_list(s, None, T_END),
            "alerts.evaluate()": lambda s: alerts.evaluate(s, T_END),
            "read_series(pue, step=1h)": lambda s: telemetry.read_series(
                s, metric="pue", step="1h", limit=10_000
            ),
        }
        for name, call in calls.items():
            with bulk() as s:
                t = time.perf_counter()
                call(s)
                print(f"{name}: {time.perf_counter() - t:.3f} s")
        t = time.perf_counter()
        TelemetryRuntime(bulk, clock=lambda: T_END / 1000).maintain()
        print(f"TelemetryRuntime.maintain(): {time.perf_counter() - t:.3f} s")


if __name__ == "__main__":
    main()
