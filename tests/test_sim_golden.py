"""Golden schedules computed by hand on an 8-job trace, the metric formulas, and determinism."""

from __future__ import annotations

import numpy as np
import pytest

from huanghe.paths import traces_dir
from huanghe.sim.job_metrics import bounded_slowdown, summarize
from huanghe.sim.simulation import ClusterSpec, simulate
from huanghe.sim.workload import Workload

# (submit_s, run_s, estimate_s, procs) on a 4-core machine (4 nodes of 1 core)
GOLDEN = [
    (0, 10, 10, 3),  # J0
    (1, 10, 10, 2),  # J1: blocked head at t=1 (shadow 10, 2 extra nodes)
    (2, 10, 10, 2),  # J2
    (3, 15, 15, 1),  # J3: EASY backfills it on an extra node (runs past the shadow), delaying J2
    (4, 5, 5, 1),  # J4: conservative backfills it at t=4 (ends at 9, before J1's reservation)
    (5, 2, 2, 4),  # J5: the whole machine
    (6, 3, 6, 1),  # J6: ends 3 s before its estimate
    (30, 1, 1, 2),  # J7: arrives late
]

# Hand-computed (see the walk-through in each test's docstring).
FCFS_STARTS = [0, 10, 10, 20, 20, 35, 37, 37]
EASY_STARTS = [0, 10, 18, 3, 10, 28, 20, 30]
CONSERVATIVE_STARTS = [0, 10, 10, 20, 4, 35, 20, 30]


def golden() -> Workload:
    s, r, e, p = zip(*GOLDEN, strict=True)
    return Workload.from_columns(submit_s=s, run_s=r, estimate_s=e, procs=p)


def test_fcfs_schedule() -> None:
    """t0 J0 (3 of 4). J1 needs 2 → waits, and everything behind it. t10 J0 ends: J1, J2 start.
    t20 both end: J3, J4 start; J5 (4) waits. t35 J3 ends: J5. t37 J5 ends: J6 and J7 (arrived 30)."""
    r = simulate(golden(), 4, "fcfs")
    assert r.start_s.tolist() == FCFS_STARTS


def test_fcfs_easy_schedule() -> None:
    """t1 head J1: shadow 10 (J0 ends), extra 2. t3 J3 (1 core, ends 18 > 10) fits the extra nodes → starts.
    t10 J0 ends: J1 starts; head J2 needs 2, shadow 18 (J3), extra 0; J4 (ends 15 ≤ 18) backfills.
    t18 J3 ends: J2 starts; head J5 shadow 28. t20 J1 ends: J6 (est. end 26 ≤ 28) backfills.
    t28 J2 ends: J5. t30 J5 ends and J7 arrives: J7."""
    r = simulate(golden(), 4, "fcfs-easy")
    assert r.start_s.tolist() == EASY_STARTS


def test_fcfs_conservative_schedule() -> None:
    """Reservations in order: J1 [10,20) 2 nodes, J2 [10,20) 2, J3 [20,35) 1; J4 (1 core, 5 s) fits now
    before 10 → starts at 4. t10 J1, J2 start. t20: J3 starts; J5 reserved [35,37); J6 (6 s est.) fits
    before 35 → starts. t30 J7 (1 s) fits before J5's reservation → starts. t35 J5."""
    r = simulate(golden(), 4, "fcfs-conservative")
    assert r.start_s.tolist() == CONSERVATIVE_STARTS


def test_three_backfill_modes_differ() -> None:
    assert len({tuple(FCFS_STARTS), tuple(EASY_STARTS), tuple(CONSERVATIVE_STARTS)}) == 3


def test_fcfs_metrics_by_hand() -> None:
    """waits 0 9 8 17 16 30 31 7 (sum 118); runs 10 10 10 15 5 2 3 1;
    bsld 1, 1.9, 1.8, 32/15, 2.1, 3.2, 3.4, max(0.8,1)=1; makespan 40 (J6 ends at 40);
    work Σ run·procs = 30+20+20+15+5+8+3+2 = 103 → utilisation 103 / (4·40)."""
    s = simulate(golden(), 4, "fcfs").summary()
    assert s.jobs == 8
    assert s.mean_wait_s == pytest.approx(118 / 8)
    assert s.mean_bsld == pytest.approx((1 + 1.9 + 1.8 + 32 / 15 + 2.1 + 3.2 + 3.4 + 1) / 8)
    assert s.mean_jct_s == pytest.approx((10 + 19 + 18 + 32 + 21 + 32 + 34 + 8) / 8)
    assert s.makespan_s == pytest.approx(40)
    assert s.utilisation == pytest.approx(103 / 160)
    assert s.p95_wait_s == pytest.approx(30 + 0.65 * (31 - 30))  # numpy linear interpolation


def test_bounded_slowdown_threshold() -> None:
    wait = np.array([0.0, 90.0, 5.0, 100.0])
    run = np.array([1.0, 10.0, 2.0, 1000.0])
    # short jobs are divided by 10 s, never by their own run time; floor 1
    assert bounded_slowdown(wait, run).tolist() == pytest.approx([1.0, 10.0, 1.0, 1.1])


def test_summary_skips_jobs_that_never_ran() -> None:
    sub = np.array([0.0, 0.0])
    start = np.array([5.0, np.nan])
    end = np.array([15.0, np.nan])
    s = summarize(sub, start, end, [1, 1], cores=1)
    assert s.jobs == 1 and s.mean_wait_s == 5.0


def test_records_per_job() -> None:
    r = simulate(golden(), ClusterSpec.single(4, name="c"), "fcfs-easy")
    rec = r.records()
    assert rec["start_s"] == [float(x) for x in EASY_STARTS]
    assert rec["wait_s"][2] == 16.0 and rec["run_s"][6] == 3.0
    assert set(rec["pool"]) == {"c-pool"}
    assert rec["nodes"] == [3, 2, 2, 1, 1, 4, 1, 2]


@pytest.fixture(scope="module")
def lublin_prefix() -> Workload:
    from huanghe.sim.traces.swf import load_swf

    path = traces_dir() / "lublin-256-rlscheduler" / "lublin_256.swf.gz"
    if not path.exists():
        pytest.skip("shared traces not available")
    wl, _, _ = load_swf(path)
    return wl.take(slice(0, 1500))


@pytest.mark.parametrize(
    "policy",
    [
        "fcfs-easy",
        "sjf-easy",
        "f1-easy",
        "fcfs",
        "huanghe",
        "random-easy",
        "fcfs-conservative",
        "sjf-conservative",
    ],
)
def test_deterministic_and_incremental_equals_full(lublin_prefix: Workload, policy: str) -> None:
    a = simulate(lublin_prefix, 256, policy, seed=3)
    b = simulate(lublin_prefix, 256, policy, seed=3)
    full = simulate(lublin_prefix, 256, policy, seed=3, incremental=False)
    assert np.array_equal(a.start_s, b.start_s)
    assert np.array_equal(a.start_s, full.start_s)
    assert not np.isnan(a.start_s).any()


def test_seed_changes_random_policy_only(lublin_prefix: Workload) -> None:
    r1 = simulate(lublin_prefix, 256, "random-easy", seed=1).start_s
    r2 = simulate(lublin_prefix, 256, "random-easy", seed=2).start_s
    f1 = simulate(lublin_prefix, 256, "fcfs-easy", seed=1).start_s
    f2 = simulate(lublin_prefix, 256, "fcfs-easy", seed=2).start_s
    assert not np.array_equal(r1, r2)
    assert np.array_equal(f1, f2)


@pytest.mark.parametrize("policy", ["fcfs-easy", "sjf-easy", "fcfs-conservative"])
def test_incremental_equals_full_on_two_pools(lublin_prefix: Workload, policy: str) -> None:
    from huanghe.broker.queue_types import PoolSpec

    cluster = ClusterSpec("two", (PoolSpec("a", 96), PoolSpec("b", 40, 4)))
    wl = lublin_prefix.take(slice(0, 800))
    inc = simulate(wl, cluster, policy)
    full = simulate(wl, cluster, policy, incremental=False)
    assert np.array_equal(inc.start_s, full.start_s) and np.array_equal(inc.pool, full.pool)
    assert set(inc.pool.tolist()) == {0, 1}
