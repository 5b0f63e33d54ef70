"""Baseline for bench_sim.py: a minimal, single-purpose FCFS + EASY backfill loop in pure Python.

Reads an SWF file (gzip), keeps jobs with run time > 0 and 1 ≤ processors ≤ cores (processors =
max(allocated, requested); estimate = requested time, else run time), replays them on one pool of
``cores`` 1-core nodes with textbook EASY (shadow time + extra nodes), prints the mean bounded slowdown.
Usage: python bench/baseline_easy.py FILE CORES
"""

from __future__ import annotations

import gzip
import heapq
import sys
from bisect import insort


def main(path: str, cores: int) -> None:
    submit, run, est, procs = [], [], [], []
    with gzip.open(path, "rt") as fh:
        for line in fh:
            f = line.split()
            if not f or f[0].startswith(";"):
                continue
            r = float(f[3])
            n = max(int(f[4]), int(f[7]))
            if r <= 0 or n <= 0 or n > cores:
                continue
            q = float(f[8])
            submit.append(float(f[1]))
            run.append(r)
            est.append(q if q > 0 else r)
            procs.append(n)
    total = len(submit)
    start = [0.0] * total
    queue: list[int] = []  # FCFS: job indices in arrival order
    running: list[tuple[float, int]] = []  # (estimated end, job), sorted
    ends: list[tuple[float, int]] = []  # heap of (actual end, job)
    free = cores
    i = 0
    while i < total or ends:
        t = ends[0][0] if ends and (i >= total or ends[0][0] <= submit[i]) else submit[i]
        while ends and ends[0][0] <= t:
            _, j = heapq.heappop(ends)
            free += procs[j]
            running.remove((start[j] + est[j], j))
        while i < total and submit[i] <= t:
            queue.append(i)
            i += 1
        k = 0
        while k < len(queue) and procs[queue[k]] <= free:
            j = queue[k]
            free -= procs[j]
            start[j] = t
            insort(running, (t + est[j], j))
            heapq.heappush(ends, (t + run[j], j))
            k += 1
        del queue[:k]
        if queue and free > 0:
            need, avail, shadow = procs[queue[0]], free, t
            for e, j in running:
                avail += procs[j]
                shadow = e
                if avail >= need:
                    break
            extra = avail - need
            kept = [queue[0]]
            for j in queue[1:]:
                n = procs[j]
                if n <= free and (t + est[j] <= shadow or n <= extra):
                    if t + est[j] > shadow:
                        extra -= n
                    free -= n
                    start[j] = t
                    insort(running, (t + est[j], j))
                    heapq.heappush(ends, (t + run[j], j))
                else:
                    kept.append(j)
            queue = kept
    bsld = sum(max((start[j] - submit[j] + run[j]) / max(run[j], 10.0), 1.0) for j in range(total)) / total
    print(f"jobs {total} mean_bsld {bsld:.4f}")


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
