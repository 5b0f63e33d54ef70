"""Simulator speed, in one command: `.venv/bin/python bench/bench_sim.py [--repeat N]`.

(a) baseline: bench/baseline_easy.py, a minimal pure-Python FCFS+EASY loop, on the whole HPC2N trace
    (202,871 jobs, 240 cores), run as a subprocess (process start and trace parsing included);
(b) `huanghe simulate --trace HPC2N --cluster-size 240 --policy fcfs-easy` as a subprocess: goal ≤ 3 × (a);
(c) `huanghe simulate` on the whole SDSC-SP2 trace (128 cores): goal ≤ 2 s;
plus `huanghe version` (the CLI's own start-up cost, shared by every command).
Each is run ``--repeat`` times (default 3) and the best wall time is kept (the machine is shared).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from huanghe.paths import traces_dir  # noqa: E402

HUANGHE = str(Path(sys.executable).parent / "huanghe")
HPC2N = traces_dir() / "pwa-swf" / "HPC2N-2002-2.2-cln.swf.gz"
SDSC = traces_dir() / "pwa-swf" / "SDSC-SP2-1998-4.2-cln.swf.gz"


def best_wall_s(cmd: list[str], repeat: int) -> tuple[float, str]:
    """Best wall time of ``repeat`` runs, and the last run's stdout."""
    best, out = float("inf"), ""
    for _ in range(repeat):
        t0 = time.perf_counter()
        proc = subprocess.run(cmd, capture_output=True, text=True, check=True)
        best = min(best, time.perf_counter() - t0)
        out = proc.stdout
    return best, out


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    for path in (HPC2N, SDSC):
        if not path.exists():
            sys.exit(f"missing trace {path}")
    sim = [HUANGHE, "simulate", "--policy", "fcfs-easy", "--json", "-"]
    base_s, base_out = best_wall_s(
        [sys.executable, str(ROOT / "bench" / "baseline_easy.py"), str(HPC2N), "240"], args.repeat
    )
    ours_s, ours_out = best_wall_s([*sim, "--trace", str(HPC2N), "--cluster-size", "240"], args.repeat)
    sdsc_s, _ = best_wall_s([*sim, "--trace", str(SDSC), "--cluster-size", "128"], args.repeat)
    start_s, _ = best_wall_s([HUANGHE, "version"], args.repeat)
    ours_bsld = ours_out[ours_out.index('"mean_bsld"') :].split(":")[1].split(",")[0].strip()
    ratio = ours_s / base_s
    print(f"(a) baseline FCFS+EASY, pure Python, HPC2N 202,871 jobs : {base_s:6.2f} s   ({base_out.strip()})")
    print(
        f"(b) huanghe simulate fcfs-easy, HPC2N                    : {ours_s:6.2f} s   (mean_bsld {float(ours_bsld):.4f})"
    )
    print(f"    ratio (b)/(a) = {ratio:.2f}  (goal ≤ 3: {'met' if ratio <= 3 else 'NOT met'})")
    print(
        f"(c) huanghe simulate fcfs-easy, SDSC-SP2 whole trace      : {sdsc_s:6.2f} s   (goal ≤ 2 s: {'met' if sdsc_s <= 2 else 'NOT met'})"
    )
    print(f"    huanghe version (CLI start-up only)                  : {start_s:6.2f} s")


if __name__ == "__main__":
    main()
